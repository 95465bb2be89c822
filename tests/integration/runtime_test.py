#!/usr/bin/python3
"""Integration tests of the emulation runtime, on real Open vSwitch, Mininet
and the embedded os-ken controller.  Needs root; exits 77 (skipped) without.

Usage: runtime_test.py SIMRUN SOURCE_DIR [TEST...]
Prints one line per test and 'N passed, N failed'."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIO = os.path.join(SRC, 'scenarios', 'video_drop.toml')
STATE = '/run/simrun/state.json'
TMP = tempfile.mkdtemp(prefix='simrun-it-')


class Up(object):
    """'simrun up' as a child: stdin for commands, stdout for answers."""

    def __init__(self, name, *args, scenario=SCENARIO, env=None):
        self.dir = os.path.join(TMP, name)
        self.errlog = open(os.path.join(TMP, name + '.stderr'), 'w+')
        self.proc = subprocess.Popen(
            [SIMRUN, 'up', '--out', self.dir] + list(args) + [scenario],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
            env=env, bufsize=0)
        self.buf = b''

    def line(self, timeout):
        end = time.time() + timeout
        while b'\n' not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return None
                self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def wait_ready(self, timeout=180):
        line = self.line(timeout)
        assert line and line.startswith('ready in '), \
            'no "ready in" line, got %r; stderr:\n%s' % (line, self.stderr())
        return float(line.split()[2])

    def send(self, text, expect='ok', timeout=60):
        self.proc.stdin.write((text + '\n').encode())
        self.proc.stdin.flush()
        line = self.line(timeout)
        assert line == expect, '%r answered %r' % (text, line)

    def stderr(self):
        self.errlog.flush()
        with open(self.errlog.name) as fh:
            return fh.read()

    def stop(self, sig=signal.SIGINT, timeout=120):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('simrun did not exit %d s after signal %d'
                                 % (timeout, sig))

    def topology(self):
        with open(os.path.join(self.dir, 'topology.json')) as fh:
            return json.load(fh)

    def rest(self):
        with open(os.path.join(self.dir, 'run.json')) as fh:
            return json.load(fh)['rest_url']


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as res:
        text = res.read()
        return json.loads(text) if text else None


def wait_for(what, check, timeout=30, interval=0.2):
    end = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > end:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(interval)


def proc_cmdlines():
    out = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as fh:
                    out.append(fh.read().replace(b'\0', b' ').decode('utf-8', 'replace'))
            except OSError:
                pass
    return out


def nothing_left(topo):
    """Asserts that no bridge, interface, process or state of a run is left."""
    names = [s['name'] for s in topo['switches']]
    bridges = subprocess.run(['ovs-vsctl', 'list-br'], capture_output=True,
                             text=True, check=True).stdout.split()
    left = [b for b in bridges if b in names]
    assert not left, 'bridges left: %s' % left
    ifaces = [i for i in os.listdir('/sys/class/net')
              if i.split('-eth')[0] in names or i.split('-eth')[0] in
              [h['name'] for h in topo['hosts']]]
    assert not ifaces, 'interfaces left: %s' % ifaces[:10]
    procs = [c for c in proc_cmdlines() if 'mininet:' in c or 'osken-manager' in c
             or (' net.py' in c and 'python' in c)]
    assert not procs, 'processes left: %s' % procs[:5]
    assert not os.path.exists(STATE), 'state file left'


# ---- comparing the controller's flows with the switch's ----

def rest_flows(rest, dpid):
    flows = http('GET', '%s/stats/flow/%d' % (rest, dpid))[str(dpid)]
    out = []
    for f in flows:
        match = {}
        for k, v in f['match'].items():
            match[k] = str(v).lower()
        actions = tuple(a.replace('OUTPUT:CONTROLLER', 'CONTROLLER')
                        for a in f['actions'])
        out.append((f['priority'], f['cookie'], tuple(sorted(match.items())), actions))
    return sorted(out)


SHORTHAND = {'ip': ('dl_type', '2048'), 'arp': ('dl_type', '2054')}


def ofctl_flows(bridge):
    text = subprocess.run(['ovs-ofctl', '-O', 'OpenFlow13', '--no-names', 'dump-flows',
                           bridge], capture_output=True, text=True, check=True).stdout
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('OFPST') or 'actions=' not in line:
            continue
        head, actions = line.split(' actions=')
        cookie, priority, match = 0, 0, {}
        for part in re.split(r',\s*|\s+', head):
            if not part:
                continue
            if part in SHORTHAND:
                k, v = SHORTHAND[part]
                match[k] = v
            elif '=' in part:
                k, v = part.split('=', 1)
                if k == 'cookie':
                    cookie = int(v, 16)
                elif k == 'priority':
                    priority = int(v)
                elif k in ('duration', 'table', 'n_packets', 'n_bytes', 'idle_age',
                           'hard_age', 'reset_counts'):
                    continue
                else:
                    if k == 'dl_type':
                        v = str(int(v, 16))
                    match[k] = v.lower()
        acts = []
        for a in actions.split(','):
            if a.startswith('output:'):
                acts.append('OUTPUT:' + a.split(':', 1)[1])
            elif a.startswith('CONTROLLER'):
                acts.append('CONTROLLER')
            elif a != 'drop':
                acts.append(a)
        out.append((priority, cookie, tuple(sorted(match.items())), tuple(acts)))
    return sorted(out)


def dpid_int(sw):
    return int(sw['dpid'], 16)


# ---- tests ----

def test_up_flows_links_and_teardown():
    trace = os.path.join(TMP, 'up-trace.jsonl')
    up = Up('up', env=dict(os.environ, SIMRUN_PROTOCOL_TRACE=trace))
    try:
        ready = up.wait_ready()
        print('  ready in %.1f s' % ready)
        topo, rest = up.topology(), up.rest()
        # Every switch is known to the controller and has flows that agree,
        # rule for rule, with what Open vSwitch itself holds.
        assert sorted(http('GET', rest + '/stats/switches')) == \
            sorted(dpid_int(s) for s in topo['switches'])
        for sw in topo['switches']:
            def agree():
                a, b = rest_flows(rest, dpid_int(sw)), ofctl_flows(sw['name'])
                return a if a == b else None
            flows = wait_for('flows of %s to agree' % sw['name'], agree, timeout=10)
            prios = [f[0] for f in flows]
            assert 0 in prios and 60000 in prios and 20 in prios, prios
            assert prios.count(10) >= 1, '%s has no host flows' % sw['name']
        # A drop rule added through the REST API appears in the switch.
        target = topo['switches'][0]
        server = [h for h in topo['hosts'] if h['role'] == 'server'][0]
        http('POST', rest + '/stats/flowentry/add',
             {'dpid': dpid_int(target), 'priority': 65000,
              'match': {'eth_type': 2048, 'ipv4_dst': server['ip']}, 'actions': []})
        wait_for('drop rule in dump-flows', lambda: any(
            f[0] == 65000 and ('nw_dst', server['ip']) in f[2] and f[3] == ()
            for f in ofctl_flows(target['name'])), timeout=10)
        # A link taken down over the control channel shows in portdesc.
        link = [l for l in topo['links'] if l['kind'] == 'core'][0]
        a = [s for s in topo['switches'] if s['name'] == link['a']][0]

        def port_state():
            ports = http('GET', '%s/stats/portdesc/%d' % (rest, dpid_int(a)))[str(dpid_int(a))]
            return [p['state'] for p in ports if p['port_no'] == link['a_port']][0]
        assert port_state() & 1 == 0, 'port down before the test'
        up.send('link %s %s down' % (link['a'], link['b']))
        wait_for('port %s:%d down' % (a['name'], link['a_port']),
                 lambda: port_state() & 1 == 1)
        up.send('link %s %s up' % (link['a'], link['b']))
        wait_for('port %s:%d up' % (a['name'], link['a_port']),
                 lambda: port_state() & 1 == 0)
        # The other commands of the control channel, for the protocol check.
        up.send('host %s down' % server['name'])
        up.send('host %s up' % server['name'])
        up.send('switch %s stop' % topo['switches'][-1]['name'])
        up.send('switch %s start' % topo['switches'][-1]['name'])
        up.send('run %s true' % server['name'], expect='exit status 0')
        assert up.stop() == 0, up.stderr()
        res = subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'protocols_check.py'),
                              os.path.join(SRC, 'docs', 'protocols'), trace],
                             capture_output=True, text=True)
        assert res.returncode == 0, 'messages that break docs/protocols:\n' + res.stdout
        assert 'mininet.request' in res.stdout and 'mininet.event' in res.stdout, res.stdout
        nothing_left(topo)
        with open(os.path.join(up.dir, 'controller.log')) as fh:
            assert 'REST API on http://127.0.0.1:' in fh.read()
    finally:
        up.stop(signal.SIGKILL) if up.proc.poll() is None else None


def test_sigterm_during_bringup():
    up = Up('sigterm')
    topo = None

    def mininet_started():
        try:
            with open(STATE) as fh:
                return json.load(fh).get('mininet_pid')
        except (OSError, ValueError):
            return None
    wait_for('the Mininet script to start', mininet_started, timeout=60, interval=0.05)
    topo = up.topology()
    rc = up.stop(signal.SIGTERM)
    assert rc != 0, 'simrun exited 0 after SIGTERM during bring-up'
    assert 'interrupted' in up.stderr(), up.stderr()
    assert 'ready in' not in up.stderr()
    # Acted on at once: the teardown began while Mininet was still
    # building (the signal came right after the script started; building
    # takes seconds on any machine), not after the network was up.
    assert 'network started' not in up.stderr(), \
        'simrun waited for the network to finish building:\n' + up.stderr()
    assert 'tearing down what was started' in up.stderr(), up.stderr()
    nothing_left(topo)


def test_sigkill_then_clean():
    up = Up('sigkill')
    up.wait_ready()
    topo = up.topology()
    up.proc.kill()
    up.proc.wait()
    assert os.path.exists(STATE), 'no state file after SIGKILL'
    # A new run refuses to start over the leftovers.
    again = subprocess.run([SIMRUN, 'up', '--out', os.path.join(TMP, 'refused'), SCENARIO],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "run 'simrun clean' first" in again.stderr, again.stderr
    res = subprocess.run([SIMRUN, 'clean'], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('removed:'), res.stdout
    print('  ' + res.stdout.strip().replace('\n', '\n  '))
    nothing_left(topo)
    res = subprocess.run([SIMRUN, 'clean'], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == 'nothing to clean', res.stdout


def test_clear_errors():
    # Not root.
    res = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                          SIMRUN, 'up', '--out', os.path.join(TMP, 'nobody'), SCENARIO],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and 'needs root' in res.stderr, res.stderr
    # Open vSwitch not installed (not on PATH).
    res = subprocess.run([SIMRUN, 'up', '--out', os.path.join(TMP, 'noovs'), SCENARIO],
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PATH='/nonexistent'))
    assert res.returncode == 1 and 'Open vSwitch is not installed' in res.stderr, res.stderr
    # A port in use.
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    port = s.getsockname()[1]
    res = subprocess.run([SIMRUN, 'up', '--rest-port', str(port), '--out',
                          os.path.join(TMP, 'busy'), SCENARIO],
                         capture_output=True, text=True, timeout=60)
    s.close()
    assert res.returncode == 1 and 'port %d on 127.0.0.1 is in use' % port in res.stderr, \
        res.stderr
    assert not os.path.exists(STATE)
    # A controller that stops answering during bring-up: stopped once it
    # answers, so readiness is what fails.  The readiness limit is scaled
    # from this machine's own bring-up, measured first: a slow machine gets
    # the same margin as a fast one.
    cal = Up('calibrate')
    ready = cal.wait_ready()
    assert cal.stop() == 0, cal.stderr()
    limit = int(20 + 4 * ready)
    up = Up('hung', '--timeout', str(limit))
    wait_for('the controller to answer', lambda: 'controller answering' in up.stderr(),
             timeout=limit, interval=0.05)
    pid = json.load(open(STATE))['controller_pid']
    os.kill(pid, signal.SIGSTOP)
    try:
        rc = up.proc.wait(limit + 120)
    finally:
        if up.proc.poll() is None:
            up.proc.kill()
    err = up.stderr()
    assert rc == 1, 'exit %s' % rc
    # Where readiness stops depends on how far bring-up got before the
    # stop (REST calls time out, or switches learned nothing and users
    # cannot reach servers); either way the error says what failed.
    assert 'not ready within %d s' % limit in err and \
        ('timed out' in err.lower() or 'could not reach a server' in err), err
    nothing_left(up.topology())


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    for tool in ('ovs-vsctl', 'ovs-ofctl', 'setpriv'):
        if subprocess.run(['which', tool], capture_output=True).returncode:
            print('skipped: %s is not installed' % tool)
            return 77
    wanted = sys.argv[3:]
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith('test_') and (not wanted or n in wanted)]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            passed += 1
            print('PASS %s (%.1f s)' % (name, time.time() - t0))
        except Exception:       # report and go on to the next test
            failed += 1
            print('FAIL %s (%.1f s)' % (name, time.time() - t0))
            traceback.print_exc(file=sys.stdout)
            subprocess.run([SIMRUN, 'clean'], capture_output=True, timeout=180)
        sys.stdout.flush()
    print('%d passed, %d failed' % (passed, failed))
    if not failed:
        shutil.rmtree(TMP, ignore_errors=True)   # kept for a look when a test failed
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main())
