#!/usr/bin/python3
"""'simrun run' against an external controller (usage: external_test.py
SIMRUN SOURCE_DIR).  A Ryu-compatible controller is started here, apart
from simrun: os-ken running simrun's controller application, which serves
Ryu's ofctl_rest and topology REST paths.  simrun is pointed at it with
--controller ryu --controller-url and --of-port, so it starts no controller
of its own, reads statistics through the standard Ryu paths (not the
embedded sweep extension), and does controller_down by cutting the switches
off from it.  Checks: the run completes with every fault injected, verified
and reverted; the manifest names the ryu controller; labels follow
faults.jsonl; the controller is still running afterwards and nothing else
is left.  Also: lldp_drop on ryu is refused by 'simrun check' with the
reason.  Exit 77 without root."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import check, events, label_errors, machine_clean, report, rows, windows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-external-it-')
SCENARIO = '''
name = "external"
seed = 4
duration = "30s"
warmup = "5s"
[topology]
core = { switches = 4, m = 2 }
access = { networks = 2, switches = 2, m = 1, uplinks = 2, hosts = 2 }
datacenters = 1
[traffic]
p2p = { enabled = false }
[[fault]]
type = "drop_service"
service = "video"
at = "7s"
duration = "6s"
[[fault]]
type = "controller_down"
at = "15s"
duration = "5s"
[[fault]]
type = "link_down"
at = "24s"
duration = "4s"
'''


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    of, rest = free_port(), free_port()
    env = dict(os.environ, SIMRUN_REST_PORT=str(rest), SIMRUN_REST_HOST='127.0.0.1')
    log = open(os.path.join(TMP, 'controller.log'), 'w')
    ctl = subprocess.Popen(['/usr/bin/python3', '/usr/bin/osken-manager', '--ofp-listen-host',
                            '127.0.0.1', '--ofp-tcp-listen-port', str(of), '--observe-links',
                            '--noinstall-lldp-flow',
                            os.path.join(SRC, 'controller', 'simrun_controller.py')],
                           env=env, stdout=log, stderr=log, start_new_session=True)
    url = 'http://127.0.0.1:%d' % rest
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + '/stats/switches', timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        path = os.path.join(TMP, 'external.toml')
        with open(path, 'w') as fh:
            fh.write(SCENARIO)
        d = os.path.join(TMP, 'run')
        res = subprocess.run([SIMRUN, path, '--controller', 'ryu', '--controller-url', url,
                              '--of-port', str(of), '--out', d, '--quiet'],
                             capture_output=True, text=True, timeout=300)
        check('the run against the external controller completes',
              res.returncode == 0 and 'external: complete' in res.stdout,
              (res.returncode, res.stdout, res.stderr[-600:]))
        m = json.load(open(os.path.join(d, 'manifest.json')))
        check('the manifest names the ryu controller and its URL',
              m['controller'] == {'kind': 'ryu', 'url': url}, m.get('controller'))
        run = json.load(open(os.path.join(d, 'run.json')))
        check('simrun started no controller of its own',
              run['controller'] == 'ryu' and not os.path.exists(os.path.join(d, 'controller.py')),
              run)
        evs = events(d)
        kinds = {}
        for e in evs:
            if e['event'] not in ('healed', 'partly_healed'):
                kinds.setdefault(e['type'], []).append(e['event'])
        check('each fault injected, verified, reverted',
              kinds == {t: ['inject', 'verified', 'revert', 'reverted']
                        for t in ('drop_service', 'controller_down', 'link_down')}, kinds)
        down = [e for e in evs if e['type'] == 'controller_down']
        check('controller_down cut every switch off and brought them back',
              any(e['event'] == 'verified' and e['seen'].startswith('0 of 8') for e in down) and
              any(e['event'] == 'reverted' and e['seen'].startswith('8 of 8') for e in down),
              down)
        samples = rows(d, 'samples.csv')
        check('samples recorded through the Ryu paths', len(samples) > 100, len(samples))
        check('gaps while the switches are cut off, none written as zeros',
              m['gaps'] and all(g['t_s'] >= down[0]['t_s'] for g in m['gaps']) and
              not any(r['t_s'] and down[0]['t_s'] + 1 < float(r['t_s']) < down[-2]['t_s']
                      for r in samples), m['gaps'][:2])
        bad = label_errors(samples, windows(evs))
        check('labels follow faults.jsonl', not bad, bad[:5])
        check('the external controller still runs', ctl.poll() is None)
        check('nothing but the external controller is left', machine_clean(controllers=False))
        # A fault Ryu cannot do is refused before anything starts.
        lldp = os.path.join(TMP, 'lldp.toml')
        with open(lldp, 'w') as fh:
            fh.write(SCENARIO.replace('"controller_down"', '"lldp_drop"'))
        res = subprocess.run([SIMRUN, 'run', lldp, '--controller', 'ryu', '--controller-url', url],
                             capture_output=True, text=True, timeout=60)
        check('lldp_drop on ryu is refused with the reason',
              res.returncode == 2 and "fault type 'lldp_drop' cannot be done with the ryu "
              "controller" in res.stderr and 'lldp.toml:' in res.stderr, res.stderr)
    finally:
        os.killpg(ctl.pid, signal.SIGTERM)
        ctl.wait(10)
        log.close()
    check('the machine is clean', machine_clean())
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
