"""A network on a lab server over SSH (simrun --remote), against Debian's
OpenSSH server started here on 127.0.0.1 with a host key and an authorized
key of the test's own.

- An unknown and a changed host key are refused, before anything reaches
  the server.
- A short video_drop runs with --remote ssh://root@127.0.0.1:PORT: the run
  directory is complete here (samples, faults, traffic KPIs fetched back,
  the logs streamed), labels follow the fault windows, the server's run
  directory is removed and nothing of the network is left.
- SIGINT during the run: the run ends interrupted, nothing is left.
- simrun killed with SIGKILL during the run: the network on the server
  stops itself; 'simrun clean --remote' removes the run directory.
- A run whose Mininet script dies with its network up (simrun frozen, the
  script and its guard on the server SIGKILLed, then simrun killed): the
  bridges, devices and a process started in a host stay; 'simrun clean
  --remote' removes them (the hosts from the PIDs the script wrote down),
  and leaves alone a process of another Mininet (a 'mininet:' process in a
  namespace of its own).
- The SSH server killed during the run (listener and sessions): simrun
  says the connection was lost, the network on the server stops itself,
  and once the server is back 'simrun clean --remote' removes the run
  directory the lost run left there.

The server is this machine (loopback), so "nothing left" is checked here:
no bridges, no Mininet or controller processes, no state file.

The test's sshd sees an empty ~/.bashrc (see common.SshServer).

Usage: remote_test.py SIMRUN SRCDIR"""
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from common import (SshServer, check, events, label_errors, machine_clean, report, rows,
                    video_drop_variant, windows)

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-remote-it-')
RUNS = os.path.expanduser('~root/.simrun/runs')


def scenario():
    return video_drop_variant(SRC, TMP, 'remote', (
        ('duration = "150s"', 'duration = "34s"'), ('warmup = "20s"', 'warmup = "8s"'),
        ('at = "60s"', 'at = "14s"'), ('duration = "45s"', 'duration = "10s"')))


def remote_args(port, known_hosts, key):
    return ['--remote', 'ssh://root@127.0.0.1:%d' % port, '--ssh-key', key,
            '--ssh-known-hosts', known_hosts]


def runs_left():
    return sorted(os.listdir(RUNS)) if os.path.isdir(RUNS) else []


def wait_clean(seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if machine_clean():
            return True
        time.sleep(1)
    return machine_clean()


def start_run(args, out):
    log = open(out + '.log', 'w')
    return subprocess.Popen([SIMRUN, 'run', '--out', out] + args + [scenario()],
                            stdout=log, stderr=subprocess.STDOUT, text=True), out + '.log'


def wait_for(path, text, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if text in open(path).read():
            return True
        time.sleep(0.2)
    return False


def test_host_keys(port, key, hostkey, otherkey):
    unknown = os.path.join(TMP, 'known_hosts.empty')
    open(unknown, 'w').close()
    changed = os.path.join(TMP, 'known_hosts.changed')
    with open(changed, 'w') as fh:
        fh.write('[127.0.0.1]:%d %s\n' % (port, ' '.join(open(otherkey + '.pub').read().split()[:2])))
    before = runs_left()
    for name, kh, want in (('unknown', unknown, 'is not in'), ('changed', changed, 'has CHANGED')):
        res = subprocess.run([SIMRUN, 'run', '--out', os.path.join(TMP, name)] +
                             remote_args(port, kh, key) + [scenario()],
                             capture_output=True, text=True, timeout=120)
        check('%s host key is refused' % ('an unknown' if name == 'unknown' else 'a changed'),
              res.returncode == 1 and want in res.stderr and 'SHA256:' in res.stderr,
              (res.returncode, res.stderr[-600:]))
        check('with the %s host key nothing reaches the server' % name,
              runs_left() == before and not os.path.exists(os.path.join(TMP, name)),
              runs_left())
    fp = subprocess.run(['ssh-keygen', '-l', '-f', hostkey + '.pub'], capture_output=True,
                        text=True).stdout.split()[1]
    check('the refusal names the key the server offered', fp in res.stderr,
          (fp, res.stderr[-300:]))


def test_run(port, kh, key):
    d = os.path.join(TMP, 'run')
    trace = os.path.join(TMP, 'trace.jsonl')
    res = subprocess.run([SIMRUN, 'run', '--out', d, '--quiet'] + remote_args(port, kh, key) +
                         [scenario()], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, SIMRUN_PROTOCOL_TRACE=trace))
    check('the remote run completes', res.returncode == 0 and 'video_drop: complete' in res.stdout,
          (res.returncode, res.stdout[-400:], res.stderr[-1500:]))
    if res.returncode != 0:
        return
    samples = rows(d, 'samples.csv')
    evs = events(d)
    w = windows(evs)
    check('the fault was injected, verified and reverted on the server',
          [e['event'] for e in evs if e['event'] in ('inject', 'verified', 'reverted')] ==
          ['inject', 'verified', 'reverted'], [e['event'] for e in evs])
    check('the samples have every sweep, no gap', len(samples) >= 20 * 30 and
          ' 0 gaps)' in res.stdout, (len(samples), res.stdout))
    bad = label_errors(samples, w)
    check('labels follow the fault window', not bad and any(
        r['label'] == 'drop_service' for r in samples), bad[:5])
    kpis = open(os.path.join(d, 'traffic.jsonl')).read().splitlines()
    check('the traffic agents ran there and their KPIs came back',
          len(kpis) > 100 and any('"video"' in k for k in kpis), len(kpis))
    for name in ('controller.log', 'mininet.log'):
        check('%s streamed into the local run directory' % name,
              os.path.getsize(os.path.join(d, name)) > 0)
    res = subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'protocols_check.py'),
                          os.path.join(SRC, 'docs', 'protocols'), trace, d],
                         capture_output=True, text=True)
    check('every message of the remote run matches docs/protocols', res.returncode == 0 and
          'mininet.request' in res.stdout, res.stdout[-1500:] + res.stderr[-500:])
    m = json.load(open(os.path.join(d, 'manifest.json')))
    check('the manifest names the lab server', m.get('lab_server') == 'root@127.0.0.1:%d' % port,
          m.get('lab_server'))
    check('the server\'s run directory is removed', runs_left() == [], runs_left())
    check('nothing of the network is left after the run', wait_clean(10))


def test_refusals(port, kh, key):
    """What the server or the options lack is said before any network is
    built: a run already active there (its lock held), a password file
    others may read, a password the server does not take."""
    os.makedirs('/run/simrun', mode=0o700, exist_ok=True)
    fd = os.open('/run/simrun/lock', os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        res = subprocess.run([SIMRUN, 'run', '--out', os.path.join(TMP, 'busy')] +
                             remote_args(port, kh, key) + [scenario()],
                             capture_output=True, text=True, timeout=120)
    finally:
        os.close(fd)
    check('a run already active on the server is named by the preflight',
          res.returncode == 1 and 'is not ready' in res.stderr and
          'another simrun run owns the network' in res.stderr, (res.returncode, res.stderr[-600:]))
    check('the refused run leaves nothing on the server', runs_left() == [] and machine_clean(),
          runs_left())
    pw = os.path.join(TMP, 'password')
    with open(pw, 'w') as fh:
        fh.write('not-the-password\n')
    os.chmod(pw, 0o644)
    args = ['--remote', 'ssh://root@127.0.0.1:%d' % port, '--ssh-known-hosts', kh]
    res = subprocess.run([SIMRUN, 'run', '--ssh-password-file', pw] + args + [scenario()],
                         capture_output=True, text=True, timeout=120)
    check('a password file others may read is refused', res.returncode == 1 and
          'may be read by others' in res.stderr, (res.returncode, res.stderr[-400:]))
    os.chmod(pw, 0o600)
    res = subprocess.run([SIMRUN, 'run', '--ssh-password-file', pw] + args + [scenario()],
                         capture_output=True, text=True, timeout=120)
    check('a password the server does not take is refused, and not shown',
          res.returncode == 1 and 'refused the password' in res.stderr and
          'not-the-password' not in res.stderr + res.stdout, (res.returncode, res.stderr[-400:]))


def test_agent_and_defaults(port, kh, key):
    """No --ssh-* option: the key from the running ssh-agent, the host key
    from ~/.ssh/known_hosts (HOME is a folder of the test's, with no key
    file in it)."""
    home = os.path.join(TMP, 'home')
    os.makedirs(os.path.join(home, '.ssh'), mode=0o700)
    with open(os.path.join(home, '.ssh', 'known_hosts'), 'w') as fh:
        fh.write(open(kh).read())
    sock = os.path.join(TMP, 'agent.sock')
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        env = dict(os.environ, HOME=home, SSH_AUTH_SOCK=sock)
        added = subprocess.run(['ssh-add', key], env=env, capture_output=True, text=True)
        res = subprocess.run([SIMRUN, 'clean', '--remote', 'ssh://root@127.0.0.1:%d' % port],
                             env=env, capture_output=True, text=True, timeout=120)
        check('the ssh-agent\'s key and ~/.ssh/known_hosts are used by default',
              added.returncode == 0 and res.returncode == 0 and 'nothing to clean' in res.stdout,
              (added.stderr, res.returncode, res.stdout, res.stderr[-400:]))
        env.pop('SSH_AUTH_SOCK')
        res = subprocess.run([SIMRUN, 'clean', '--remote', 'ssh://root@127.0.0.1:%d' % port],
                             env=env, capture_output=True, text=True, timeout=120)
        check('without an agent or a key, the refusal says what was tried',
              res.returncode == 1 and 'refused every way simrun has' in res.stderr and
              '--ssh-key' in res.stderr, (res.returncode, res.stderr[-400:]))
    finally:
        agent.kill()
        agent.wait()


def test_up(port, kh, key):
    d = os.path.join(TMP, 'up')
    res = subprocess.run([SIMRUN, 'up', '--out', d] + remote_args(port, kh, key) + [scenario()],
                         input='quit\n', capture_output=True, text=True, timeout=300)
    check('simrun up --remote brings the network up and down', res.returncode == 0 and
          'ready in' in res.stdout, (res.returncode, res.stdout[-300:], res.stderr[-800:]))
    run = json.load(open(os.path.join(d, 'run.json'))) if os.path.exists(
        os.path.join(d, 'run.json')) else {}
    check('run.json names the lab server', run.get('lab_server') == 'root@127.0.0.1:%d' % port,
          run)
    check('nothing is left after simrun up --remote', wait_clean(10) and runs_left() == [],
          runs_left())


def test_sigint(port, kh, key):
    p, log = start_run(remote_args(port, kh, key), os.path.join(TMP, 'int'))
    started = wait_for(log, 'agents started', 180)
    check('the interrupted run gets its traffic going first', started, open(log).read()[-800:])
    time.sleep(5)  # the agents have records to flush
    p.send_signal(signal.SIGINT)
    rc = p.wait(180)
    text = open(log).read()
    check('SIGINT ends the remote run as interrupted',
          rc == 1 and 'video_drop: interrupted' in text, (rc, text[-800:]))
    check('the interrupted run\'s directory is valid here, its traffic KPIs fetched back',
          os.path.exists(os.path.join(TMP, 'int', 'manifest.json')) and
          os.path.getsize(os.path.join(TMP, 'int', 'traffic.jsonl')) > 0)
    check('nothing of the network is left after SIGINT', wait_clean(10))
    check('the server\'s run directory is removed after SIGINT', runs_left() == [],
          runs_left())


def test_simrun_killed(port, kh, key):
    p, log = start_run(remote_args(port, kh, key), os.path.join(TMP, 'killed'))
    started = wait_for(log, 'agents started', 180)
    check('the run that is killed gets going first', started, open(log).read()[-800:])
    p.send_signal(signal.SIGKILL)
    p.wait(60)
    check('a simrun killed with SIGKILL: the network on the server stops itself',
          wait_clean(90), subprocess.run(['pgrep', '-af', 'mininet:|osken|net.py'],
                                         capture_output=True, text=True).stdout[-500:])
    res = subprocess.run([SIMRUN, 'clean'] + remote_args(port, kh, key), capture_output=True,
                         text=True, timeout=300)
    check('simrun clean --remote removes the killed run\'s directory there',
          res.returncode == 0 and 'run directory' in res.stdout and runs_left() == [],
          (res.returncode, res.stdout[-600:], res.stderr[-600:], runs_left()))


def test_network_left_behind(port, kh, key):
    p, log = start_run(remote_args(port, kh, key), os.path.join(TMP, 'orphan'))
    started = wait_for(log, 'agents started', 180)
    check('the run whose network is left behind gets going first', started,
          open(log).read()[-800:])
    # A process that hangs on in a host's namespace (the hosts' shells end
    # with their script: their terminal closes): one started there now.
    hosts = {}
    for run in runs_left():
        try:
            with open(os.path.join(RUNS, run, 'hosts.json')) as fh:
                hosts = json.load(fh)
        except (OSError, ValueError):
            pass
    check('the Mininet script wrote its hosts\' PIDs into the run directory on the server',
          len(hosts) >= 2 and all(isinstance(v['pid'], int) and v['interfaces']
                                  for v in hosts.values()), hosts)
    name = sorted(hosts)[0] if hosts else None
    stray = subprocess.Popen(['nsenter', '-t', str(hosts[name]['pid']), '-n', '--', 'sleep',
                              '600'], start_new_session=True) if name else None
    # Frozen, simrun cannot act on the script's end; the guard and the
    # script are killed before they can take the network down.
    p.send_signal(signal.SIGSTOP)
    subprocess.run(['pkill', '-KILL', '-f', '/.simrun/runs/.*/net.py'])
    subprocess.run(['pkill', '-KILL', '-f', 'simrun_remote.py guard --lock'])
    p.send_signal(signal.SIGKILL)
    p.wait(60)
    time.sleep(3)
    bridges = subprocess.run(['ovs-vsctl', 'list-br'], capture_output=True, text=True).stdout
    check('with its script killed, the run\'s bridges and a process in a host stay on the '
          'server', bridges.strip() != '' and stray is not None and stray.poll() is None,
          (bridges, stray and stray.returncode))
    decoy = subprocess.Popen(['unshare', '-n', 'bash', '-c',
                              'exec -a "bash --norc -is mininet:decoy" sleep 600'])
    try:
        time.sleep(0.5)
        res = subprocess.run([SIMRUN, 'clean'] + remote_args(port, kh, key),
                             capture_output=True, text=True, timeout=300)
        hosts = [line for line in res.stdout.splitlines() if 'host ' in line]
        ended = stray is not None and stray.wait(10) is not None
        check('simrun clean --remote stops what lives in the hosts the script wrote down, '
              'and removes the bridges, devices and run directory',
              res.returncode == 0 and ended and ('host %s (' % name) in res.stdout and
              'decoy' not in res.stdout and 'Open vSwitch bridge' in res.stdout and
              runs_left() == [],
              (res.returncode, res.stdout[-800:], res.stderr[-600:], runs_left()))
        check('simrun clean --remote leaves another Mininet\'s process alone',
              decoy.poll() is None, decoy.returncode)
    finally:
        decoy.kill()
        decoy.wait()
        if stray is not None and stray.poll() is None:
            stray.kill()
            stray.wait()
    check('nothing of the network is left after clean --remote', wait_clean(30),
          subprocess.run(['pgrep', '-af', 'mininet:|osken|net.py'], capture_output=True,
                         text=True).stdout[-500:])


def test_server_killed(server, port, kh, key):
    p, log = start_run(remote_args(port, kh, key), os.path.join(TMP, 'lost'))
    started = wait_for(log, 'agents started', 180)
    check('the run whose server dies gets going first', started, open(log).read()[-800:])
    server.kill()
    rc = p.wait(180)
    text = open(log).read()
    check('a killed SSH server ends the run, saying the connection was lost',
          rc == 1 and 'was lost' in text, (rc, text[-1200:]))
    check('the lost run\'s directory is valid here',
          os.path.exists(os.path.join(TMP, 'lost', 'manifest.json')))
    check('the network on the server stops itself when its connection is gone',
          wait_clean(90), subprocess.run(['pgrep', '-af', 'mininet:|osken|net.py'],
                                         capture_output=True, text=True).stdout[-500:])
    check('the lost run left its run directory on the server', len(runs_left()) == 1,
          runs_left())
    check('the SSH server starts again', server.start())
    res = subprocess.run([SIMRUN, 'clean'] + remote_args(port, kh, key), capture_output=True,
                         text=True, timeout=300)
    check('simrun clean --remote removes what the lost run left',
          res.returncode == 0 and 'run directory' in res.stdout and runs_left() == [],
          (res.returncode, res.stdout[-600:], res.stderr[-600:], runs_left()))
    res = subprocess.run([SIMRUN, 'clean'] + remote_args(port, kh, key), capture_output=True,
                         text=True, timeout=300)
    check('a second clean --remote finds nothing', res.returncode == 0 and
          'nothing to clean' in res.stdout, (res.returncode, res.stdout, res.stderr[-300:]))


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    if not os.path.exists('/usr/sbin/sshd'):
        print('skipped: no openssh-server (setup.sh installs it)')
        return 77
    if runs_left():
        print('~root/.simrun/runs holds runs already: %s' % runs_left())
        return 1
    server = SshServer(TMP)
    port, hostkey, key, kh = server.port, server.hostkey, server.userkey, server.known_hosts
    otherkey = server.keygen('otherkey')
    if not server.start():
        print('sshd did not start: %s' % open(os.path.join(TMP, 'sshd.log')).read())
        return 1
    try:
        test_host_keys(port, key, hostkey, otherkey)
        test_refusals(port, kh, key)
        test_agent_and_defaults(port, kh, key)
        test_up(port, kh, key)
        test_run(port, kh, key)
        test_sigint(port, kh, key)
        test_simrun_killed(port, kh, key)
        test_network_left_behind(port, kh, key)
        test_server_killed(server, port, kh, key)
    finally:
        server.stop()
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
