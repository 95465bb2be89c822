#!/usr/bin/python3
"""Integration test of a campaign in shards on a SLURM cluster (usage:
slurm_test.py SIMRUN SOURCE_DIR): starts a one-machine cluster from
Debian's packages (munged with a key of its own on a socket of its own,
slurmctld and slurmd on free local ports, configured in a temporary
folder), writes the sbatch job array of tests/data/runs/campaign.toml in
two shards with 'simrun slurm', submits it with 'sbatch --wait', and joins
the runs with 'simrun merge'.  Stops the daemons in any case.  Exit 77
without root."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from common import check, machine_clean, report, rows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIO = os.path.join(SRC, 'tests', 'data', 'runs', 'campaign.toml')
TMP = tempfile.mkdtemp(prefix='simrun-slurm-it-')
RUNS = ('camp-21', 'camp-22')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cluster():
    """Starts munged, slurmctld and slurmd; returns (processes, env)."""
    host = socket.gethostname().split('.')[0]
    for d in ('state', 'spool'):
        os.makedirs(os.path.join(TMP, d))
    key = os.path.join(TMP, 'munge.key')
    with open(key, 'wb') as fh:
        fh.write(os.urandom(1024))
    os.chmod(key, 0o600)
    sock = os.path.join(TMP, 'munge.sock')
    conf = os.path.join(TMP, 'slurm.conf')
    with open(conf, 'w') as fh:
        fh.write('\n'.join([
            'ClusterName=simruntest',
            'SlurmctldHost=%s(127.0.0.1)' % host,
            'SlurmctldPort=%d' % free_port(), 'SlurmdPort=%d' % free_port(),
            'AuthType=auth/munge', 'AuthInfo=socket=%s' % sock, 'CredType=cred/munge',
            'SlurmUser=root', 'SlurmdUser=root',
            'StateSaveLocation=%s/state' % TMP, 'SlurmdSpoolDir=%s/spool' % TMP,
            'SlurmctldPidFile=%s/slurmctld.pid' % TMP, 'SlurmdPidFile=%s/slurmd.pid' % TMP,
            'SlurmctldLogFile=%s/slurmctld.log' % TMP, 'SlurmdLogFile=%s/slurmd.log' % TMP,
            'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none',
            'SelectType=select/linear', 'SchedulerType=sched/builtin', 'ReturnToService=2',
            'MpiDefault=none', 'JobCompType=jobcomp/none',
            'AccountingStorageType=accounting_storage/none',
            'NodeName=%s NodeAddr=127.0.0.1 CPUs=%d State=UNKNOWN' % (host, os.cpu_count()),
            'PartitionName=simrun Nodes=%s Default=YES MaxTime=INFINITE State=UP' % host,
            '']))
    env = dict(os.environ, SLURM_CONF=conf)
    procs = [subprocess.Popen(['munged', '-F', '-f', '-S', sock, '--key-file=' + key,
                               '--log-file=%s/munged.log' % TMP,
                               '--pid-file=%s/munged.pid' % TMP,
                               '--seed-file=%s/munged.seed' % TMP],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    end = time.time() + 30
    while not os.path.exists(sock) and time.time() < end:
        time.sleep(0.1)
    procs.append(subprocess.Popen(['slurmctld', '-D', '-f', conf], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    procs.append(subprocess.Popen(['slurmd', '-D', '-f', conf], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    ready = False
    while time.time() < end and not ready:
        res = subprocess.run(['sinfo', '-h', '-o', '%t'], env=env, capture_output=True,
                             text=True)
        ready = res.returncode == 0 and res.stdout.strip() == 'idle'
        time.sleep(0.5)
    return procs, env, ready


def stop(procs):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    missing = [p for p in ('munged', 'slurmctld', 'slurmd', 'sbatch') if not shutil.which(p)]
    if missing:
        print('skipped: %s not installed (setup.sh installs them)' % ', '.join(missing))
        return 77
    procs, env, ready = cluster()
    try:
        check('a one-machine SLURM cluster is up', ready,
              open(os.path.join(TMP, 'slurmctld.log')).read()[-800:]
              if os.path.exists(os.path.join(TMP, 'slurmctld.log')) else '')
        if not ready:
            return report()
        camp = os.path.join(TMP, 'campaign')
        script = os.path.join(TMP, 'camp.sbatch')
        res = subprocess.run([SIMRUN, 'slurm', SCENARIO, '--shards', '2', '--out', camp,
                              '--script', script], capture_output=True, text=True)
        text = open(script).read() if res.returncode == 0 else ''
        check('simrun slurm writes a two-task job array, one simrun per node',
              res.returncode == 0 and '#SBATCH --array=1-2' in text and
              '#SBATCH --exclusive' in text and '--shard "${SLURM_ARRAY_TASK_ID}/2"' in text,
              res.stdout + res.stderr + text)
        res = subprocess.run(['sbatch', '--wait', script], env=env, capture_output=True,
                             text=True, timeout=1200)
        outs = ''.join(open(os.path.join(camp, f)).read()[-600:]
                       for f in sorted(os.listdir(camp)) if f.startswith('slurm-')) \
            if os.path.isdir(camp) else ''
        check('sbatch --wait: both shards succeed', res.returncode == 0,
              res.stdout + res.stderr + outs)
        shards = sorted(f for f in os.listdir(camp) if f.startswith('shard-'))
        check('each shard ran its share: one run each, both complete',
              shards == ['shard-1-of-2.json', 'shard-2-of-2.json'] and
              all(json.load(open(os.path.join(camp, f)))['runs_complete'] == 1 for f in shards) and
              all(os.path.exists(os.path.join(camp, r, 'manifest.json')) for r in RUNS),
              (shards, os.listdir(camp)))
        merged = os.path.join(TMP, 'merged')
        res = subprocess.run([SIMRUN, 'merge', merged, camp], capture_output=True, text=True)
        total = sum(len(rows(os.path.join(camp, r), 'samples.csv')) for r in RUNS)
        ms = rows(merged, 'samples.csv') if res.returncode == 0 else []
        check('simrun merge joins both shards\' runs, every row',
              res.returncode == 0 and len(ms) == total and {x['run'] for x in ms} == set(RUNS),
              res.stdout + res.stderr)
        check('the jobs leave a clean machine', machine_clean())
    finally:
        stop(procs)
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
