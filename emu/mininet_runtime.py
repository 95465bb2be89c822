# ---- simrun Mininet runtime (appended to the generated TOPOLOGY) ----
#
# Runs under Debian's /usr/bin/python3 as a child of simrun.  Builds the
# network described by TOPOLOGY with Open vSwitch's userspace datapath and
# OpenFlow 1.3, turns off transmit checksum offload on every veth (TCP fails
# on the userspace datapath otherwise), then serves simrun's control channel:
# one JSON object per line on stdin, one JSON answer per line on stdout.
#
#   {"id": 1, "cmd": "ready"}                         -> {"id": 1, "ok": true}
#   {"id": 2, "cmd": "link", "a": "c1", "b": "c2", "state": "down"}
#   {"id": 3, "cmd": "switch", "name": "c3", "state": "stop"|"start"}
#   {"id": 4, "cmd": "host", "name": "d1h2", "state": "down"|"up"}
#   {"id": 5, "cmd": "run", "host": "u1h1", "argv": ["ping", "-c1", "10.0.1.1"]}
#   {"id": 6, "cmd": "spawn", "host": "u1h1", "argv": ["ping", "10.0.1.1"]}
#                                     -> {"id": 6, "ok": true, "pid": 1234}
#   {"id": 6, "cmd": "tcpcheck", "pairs": [["u1h1", "10.0.1.1"]], "timeout": 2}
#                                     -> {"id": 6, "ok": true, "failed": [...]}
#   {"id": 7, "cmd": "agents", "program": "/path/simtraffic", "dir": "/run/dir/traffic",
#    "control": "/run/simrun/agents"}
#                 starts one traffic agent per host with DIR/<host>.json and,
#                 with "control", a control socket CONTROL/<host>.ctl
#   {"id": 8, "cmd": "agents_stop"}  stops them (SIGTERM: they flush their KPIs)
#   {"id": 9, "cmd": "controller", "state": "down"|"up"}
#                 cuts every switch off from its controller (an external one,
#                 which simrun cannot stop) and connects them again
#   {"id": 10, "cmd": "connected", "port": 6653}  -> {"connected": N}
#                 TCP connections established toward that port (the
#                 switches' OpenFlow connections to the controller)
#   {"id": 11, "cmd": "dump_flows", "switches": ["c1"]} -> {"flows": ["..."]}
#                 ovs-ofctl dump-flows of each switch, side by side
#   {"id": 12, "cmd": "agent_control", "host": "u1h1", "control": DIR, "msg": {...}}
#                 sends 'msg' to that host's agent on DIR/<host>.ctl
#                 (these three serve a run driven from another machine)
#   {"id": 13, "cmd": "stop"}
#
# End of input (simrun went away) and SIGTERM stop the network too.
# Every answer carries "ok" and, when false, "error".  Events simrun did not
# ask for (the network started, a command failed) are lines with "event".

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

# simtraffic's exit statuses when it cannot write its KPI records
# (common/services.h: SR_AGENT_EXIT_*).
AGENT_EXIT_DISK_FULL = 3
AGENT_EXIT_WRITE = 4

# A tiny TCP listener run on every server, so readiness can check that each
# user reaches a server over TCP before simtraffic exists.
LISTENER = '''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
'''


def run_batch(argv, lines, check=True):
    """Runs a batch tool ('ip -batch -', 'tc -batch -') on 'lines' given on
    its standard input: one process for many objects."""
    if not lines:
        return
    proc = subprocess.run(argv, input=''.join(line + '\n' for line in lines),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise OSError('%s failed: %s' % (' '.join(argv), proc.stdout.strip()[-600:]))


def run_parallel(commands, width=32):
    """Runs 'commands' (argv lists) at most 'width' at a time; raises
    OSError naming the first that failed."""
    running, failed = [], []
    for argv in commands + [None]:
        while running and (argv is None or len(running) >= width):
            argv_done, proc = running.pop(0)
            out = proc.communicate()[0]
            if proc.returncode != 0:
                failed.append('%s: %s' % (' '.join(argv_done), out.strip()))
        if argv is not None:
            running.append((argv, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT,
                                                   universal_newlines=True)))
    if failed:
        raise OSError('; '.join(failed[:3]))


def parallel(fn, items, width=16):
    """fn(item) for every item, in threads (the work waits on other
    processes), in the items' order."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(fn, items))


def htb_commands(intf, bw):
    """Mininet TCLink's shaping of 'intf' at 'bw' Mbit/s (an HTB root with
    one class), as 'tc -batch' lines."""
    return ['qdisc replace dev %s root handle 5:0 htb default 1' % intf,
            'class replace dev %s parent 5:0 classid 5:1 htb rate %fMbit burst 15k'
            % (intf, bw)]


def _protocol_stream():
    """Keeps the real stdout for the control channel and sends everything
    else that writes to stdout (Mininet, print) to stderr."""
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


from mininet.link import Intf, Link          # noqa: E402  (after TOPOLOGY)
from mininet.node import Host, OVSSwitch     # noqa: E402


class BatchIntf(Intf):
    """A Mininet interface whose settings the runtime applies in batches
    (make_links, BatchHost.configure, switch_ports) instead of a command each."""

    def config(self, **params):
        return {}


class BatchLink(Link):
    """A Mininet link whose veth pair is created with all the others in one
    'ip -batch' (Runtime.make_links): the pair is only recorded here."""
    pending = None

    def __init__(self, node1, node2, **params):
        params['intf'] = BatchIntf   # Mininet.addLink passes its own default
        Link.__init__(self, node1, node2, **params)

    def makeIntfPair(self, intfname1, intfname2, addr1=None, addr2=None,
                     node1=None, node2=None, deleteIntfs=True):
        BatchLink.pending.append(((intfname1, addr1, node1),
                                  (intfname2, addr2, node2)))


class BatchHost(Host):
    """A Mininet host configured by one command in its namespace (configure)."""

    def config(self, **_params):
        return {}

    def configure(self, bw):
        """Loopback and its interface up with its address, IPv6 off
        (kernel IPv6 chatter would only reach the controller as noise),
        transmit checksum offload off, shaping: one shell command.  The
        MAC was given when the veth was made."""
        steps = ['sysctl -qw net.ipv6.conf.all.disable_ipv6=1 '
                 'net.ipv6.conf.default.disable_ipv6=1', 'ip link set dev lo up']
        intf = self.defaultIntf()
        if intf is not None:
            intf.mac = self.params.get('mac')
            intf.ip, intf.prefixLen = self.params['ip'].split('/')
        for intf in self.intfList():
            name = shlex.quote(intf.name)
            if intf.ip:
                steps.append('ip addr add %s/%s dev %s' % (intf.ip, intf.prefixLen, name))
            steps.append('ip link set dev %s up' % name)
            steps.append('ethtool -K %s gro off tx off' % name)
            if bw:
                steps += ['tc %s' % c for c in htb_commands(name, bw)]
        out = self.cmd(' && '.join(steps) + ' 2>&1; echo rc=$?')
        if 'rc=0' not in out:
            raise OSError('cannot set up host %s: %s' % (self.name, out.strip()[-400:]))


class RootSwitch(OVSSwitch):
    """An Open vSwitch bridge in the root namespace, with no shell of its
    own: its few commands (ovs-vsctl, ip) run as plain processes."""

    def startShell(self, mnopts=None):
        self.shell = None

    def cmd(self, *args, **_kwargs):
        proc = subprocess.run(' '.join(str(a) for a in args), shell=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
        return proc.stdout

    def terminate(self):
        pass


class Runtime(object):
    def __init__(self, args, proto):
        self.args = args
        self.proto = proto
        self.net = None
        self.links = {}
        self.stopped_switches = set()
        self.listeners = []
        self.spawned = []
        self.agents = []            # (host name, Popen)
        self.cut_off = {}
        self.send_lock = threading.Lock()
        self.watcher = None

    def send(self, obj):
        # Answers come from the main loop, events also from the agent
        # watcher: one line at a time.
        with self.send_lock:
            try:
                self.proto.write(json.dumps(obj, sort_keys=True) + '\n')
                self.proto.flush()
            except OSError:
                pass    # simrun is gone; the network is stopped on the way out

    def watch_agents(self):
        """Reports an agent that exits on its own while the run goes on
        (it could not write its KPI records, or it crashed): simrun stops
        the run rather than keep traffic whose records are lost."""
        reported = set()
        while True:
            time.sleep(0.5)
            for name, proc in list(self.agents):
                status = proc.poll()
                if status is not None and id(proc) not in reported:
                    reported.add(id(proc))
                    self.send({'event': 'agent_exit', 'host': name,
                               'status': status})

    def build(self):
        """Builds the network with Mininet's node and link objects, but sets
        it up in batches instead of one shell round trip per interface
        setting (which is where a Mininet start spends its time on a busy
        machine): every veth pair in one 'ip -batch', each host configured
        by one command in its namespace, the switches started by one
        ovs-vsctl transaction, shaping in one 'tc -batch'."""
        from mininet.net import Mininet
        from mininet.node import RemoteController

        bw = TOPOLOGY.get('bw_mbps')
        self.net = Mininet(topo=None, build=False, controller=None,
                           autoSetMacs=False, link=BatchLink,
                           waitConnected=False)
        self.net.addController('c0', controller=RemoteController,
                               ip=self.args.controller_ip,
                               port=self.args.controller_port)
        t0 = time.time()
        # Hosts start a shell each (their namespace); switches live in the
        # root namespace and need none.  Shells start in parallel.
        hosts = parallel(lambda h: BatchHost(h[0], ip=h[1], mac=h[2]),
                         TOPOLOGY['hosts'])
        for host in hosts:
            self.net.hosts.append(host)
            self.net.nameToNode[host.name] = host
        for name, dpid in TOPOLOGY['switches']:
            # batch: one ovs-vsctl for all switches at start (Mininet's
            # batchStartup), instead of one per switch; it clears the flag,
            # so a switch restarted later starts at once.
            self.net.addSwitch(name, cls=RootSwitch, dpid=dpid, datapath='user',
                               protocols='OpenFlow13', failMode='secure',
                               batch=True)
        BatchLink.pending = []
        macs = dict((h[0], h[2]) for h in TOPOLOGY['hosts'])
        for a, aport, b, bport, _kind in TOPOLOGY['links']:
            link = self.net.addLink(a, b, port1=aport, port2=bport,
                                    addr1=macs.get(a), addr2=macs.get(b))
            self.links[(a, b)] = link
        t1 = time.time()
        self.make_links(BatchLink.pending)
        BatchLink.pending = None
        self.net.built = True
        parallel(lambda h: h.configure(bw), self.net.hosts)
        t2 = time.time()
        self.net.start()
        self.switch_ports(bw, self.net.switches)
        t3 = time.time()
        self.tag_bridges()
        for name, _ip, _mac, role in TOPOLOGY['hosts']:
            if role == 'server':
                self.listeners.append(self.net[name].popen(
                    [sys.executable, '-c', LISTENER, str(self.args.probe_port)]))
        if self.args.hosts_file:
            write_hosts_file(self.args.hosts_file, self.net.hosts)
        self.send({'event': 'started',
                   'switches': len(TOPOLOGY['switches']),
                   'hosts': len(TOPOLOGY['hosts']),
                   'host_pids': dict((h.name, h.pid) for h in self.net.hosts),
                   'pid': os.getpid(),
                   'seconds': {'build': round(t1 - t0, 2),
                               'offload': round(t2 - t1, 2),
                               'start': round(t3 - t2, 2)}})

    @staticmethod
    def make_links(pending):
        """Every veth pair in one 'ip -batch', run in the root namespace:
        an end that belongs to a host is created straight in the host's
        namespace, with its MAC."""
        lines = []
        for end1, end2 in pending:
            halves = []
            for name, mac, node in (end1, end2):
                part = 'name %s' % shlex.quote(name)
                if node is not None and node.inNamespace:
                    part += ' netns %d' % node.pid
                if mac:
                    part += ' address %s' % shlex.quote(mac)
                halves.append(part)
            lines.append('link add %s type veth peer %s' % tuple(halves))
        run_batch(['ip', '-batch', '-'], lines)

    def switch_ports(self, bw, switches):
        """The root namespace's side of every link: up, transmit checksum
        offload off (the userspace datapath does not fill in checksums the
        kernel left to the NIC: with offload on, ping works and TCP silently
        fails), and the same HTB shaping as Mininet's TCLink, after Open
        vSwitch took the ports (it resets their queueing)."""
        names = [i.name for sw in switches for i in sw.intfList() if i.name != 'lo']
        # The run's device group marks them (and the bridges' own devices)
        # for a teardown in one call (see stop).
        group = ' group %d' % self.args.devgroup
        run_batch(['ip', '-batch', '-'],
                  ['link set dev %s up%s' % (shlex.quote(n), group) for n in names] +
                  ['link set dev %s%s' % (shlex.quote(sw.name), group) for sw in switches])
        run_parallel([['ethtool', '-K', n, 'gro', 'off', 'tx', 'off'] for n in names])
        if bw:
            run_batch(['tc', '-force', '-batch', '-'],
                      [c for n in names for c in htb_commands(n, bw)])

    def tag_bridges(self):
        # simrun clean finds what a killed run left by this tag.
        args = ['ovs-vsctl']
        for sw in self.net.switches:
            args += ['--', 'set', 'bridge', sw.name,
                     'external-ids:simrun-run=%s' % self.args.run_id]
        subprocess.check_call(args)

    def find_link(self, a, b):
        link = self.links.get((a, b)) or self.links.get((b, a))
        if link is None:
            raise ValueError("no link between '%s' and '%s'" % (a, b))
        return link

    def node(self, name):
        if name not in self.net:
            raise ValueError("no node called '%s'" % name)
        return self.net[name]

    def do_link(self, msg):
        link = self.find_link(msg['a'], msg['b'])
        state = msg['state']
        if state not in ('up', 'down'):
            raise ValueError("link state must be 'up' or 'down'")
        for intf in (link.intf1, link.intf2):
            intf.node.cmd('ip link set dev %s %s' % (intf.name, state))
        return {}

    def do_switch(self, msg):
        sw = self.node(msg['name'])
        if msg['state'] == 'stop':
            sw.stop(deleteIntfs=False)
            self.stopped_switches.add(sw.name)
        elif msg['state'] == 'start':
            sw.start(self.net.controllers)
            # Its ports come back to Open vSwitch: shaping and offload again.
            self.switch_ports(TOPOLOGY.get('bw_mbps'), [sw])
            self.tag_bridges()
            self.stopped_switches.discard(sw.name)
        else:
            raise ValueError("switch state must be 'stop' or 'start'")
        return {}

    def do_host(self, msg):
        host = self.node(msg['name'])
        state = msg['state']
        if state not in ('up', 'down'):
            raise ValueError("host state must be 'up' or 'down'")
        for intf in host.intfList():
            host.cmd('ip link set dev %s %s' % (intf.name, state))
        return {}

    def do_controller(self, msg):
        state = msg['state']
        if state == 'down':
            for sw in self.net.switches:
                if sw.name not in self.cut_off:
                    self.cut_off[sw.name] = sw.vsctl('get-controller', sw.name).split()
                    sw.vsctl('del-controller', sw.name)
        elif state == 'up':
            for name, targets in self.cut_off.items():
                if targets:
                    self.net[name].vsctl('set-controller', name, *targets)
            self.cut_off = {}
        else:
            raise ValueError("controller state must be 'down' or 'up'")
        return {}

    @staticmethod
    def argv_of(msg):
        argv = msg.get('argv')
        if not isinstance(argv, list) or not argv:
            raise ValueError("'argv' must be a non-empty list")
        return argv

    def do_run(self, msg):
        host = self.node(msg['host'])
        proc = host.popen(self.argv_of(msg), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=msg.get('timeout', 30))
        return {'status': proc.returncode,
                'stdout': out.decode('utf-8', 'replace'),
                'stderr': err.decode('utf-8', 'replace')}

    def do_spawn(self, msg):
        host = self.node(msg['host'])
        proc = host.popen(self.argv_of(msg), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
        self.spawned.append(proc)
        return {'pid': proc.pid}

    def do_agents(self, msg):
        program, folder = msg['program'], msg['dir']
        for host in self.net.hosts:
            plan = os.path.join(folder, host.name + '.json')
            if not os.path.exists(plan):
                continue
            argv = [program, '--plan', plan,
                    '--kpi', os.path.join(folder, host.name + '.kpi.jsonl'),
                    '--log', os.path.join(folder, host.name + '.log')]
            if msg.get('control'):
                argv += ['--control', os.path.join(msg['control'], host.name + '.ctl')]
            self.agents.append((host.name, host.popen(argv, stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL)))
        if self.watcher is None:
            self.watcher = threading.Thread(target=self.watch_agents, daemon=True)
            self.watcher.start()
        return {'agents': len(self.agents)}

    def do_agents_stop(self, msg):
        agents, self.agents = self.agents, []
        for _name, proc in agents:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.time() + 5
        for _name, proc in agents:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # SIGTERM is how they are asked to stop: 0 then; anything else is
        # theirs to explain (SR_AGENT_EXIT_* when a KPI write failed).
        failed = dict((name, proc.returncode) for name, proc in agents
                      if proc.returncode not in (0, -signal.SIGTERM))
        return {'stopped': len(agents), 'failed': failed}

    def do_tcpcheck(self, msg):
        timeout = int(msg.get('timeout', 2))
        procs = []
        for name, ip in msg['pairs']:
            host = self.node(name)
            procs.append((name, ip, host.popen(
                ['timeout', str(timeout), 'bash', '-c',
                 'exec 3<>/dev/tcp/%s/%d' % (ip, self.args.probe_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        failed = []
        for name, ip, proc in procs:
            _out, err = proc.communicate()
            if proc.returncode != 0:
                why = err.decode('utf-8', 'replace').strip().splitlines()
                failed.append([name, ip, why[-1] if why else
                               'no connection within %d s' % timeout])
        return {'failed': failed}

    # For a run driven from another machine (simrun --remote), what simrun
    # does on its own machine otherwise: counting the switches' OpenFlow
    # connections, dumping flow tables, and a traffic agent's command.

    def do_connected(self, msg):
        """TCP connections established toward the controller's OpenFlow
        port, from the kernel's tables (as emu/faultenv.c reads them)."""
        port = int(msg['port'])
        n = 0
        for table in ('/proc/net/tcp', '/proc/net/tcp6'):
            try:
                with open(table) as f:
                    next(f, None)
                    for line in f:
                        field = line.split()
                        if len(field) > 3 and field[3] == '01' and \
                                int(field[2].rsplit(':', 1)[1], 16) == port:
                            n += 1
            except OSError:
                if table.endswith('tcp'):
                    raise
        return {'connected': n}

    def do_dump_flows(self, msg):
        names = [str(sw) for sw in msg['switches']]
        for name in names:
            self.node(name)
        procs = [subprocess.Popen(['ovs-ofctl', '-O', 'OpenFlow13', '--no-names',
                                   'dump-flows', name], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL) for name in names]
        outs = []
        for name, proc in zip(names, procs):
            out, _err = proc.communicate(timeout=15)
            if proc.returncode != 0:
                raise ValueError('ovs-ofctl dump-flows %s failed' % name)
            outs.append(out.decode('utf-8', 'replace'))
        return {'flows': outs}

    def do_agent_control(self, msg):
        name = str(msg['host'])
        self.node(name)
        path = os.path.join(msg['control'], name + '.ctl')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(json.dumps(msg['msg']).encode(), path)
        finally:
            s.close()
        return {}

    def serve(self):
        handlers = {'ready': lambda m: {}, 'link': self.do_link,
                    'connected': self.do_connected, 'dump_flows': self.do_dump_flows,
                    'agent_control': self.do_agent_control,
                    'switch': self.do_switch, 'host': self.do_host,
                    'run': self.do_run, 'spawn': self.do_spawn,
                    'tcpcheck': self.do_tcpcheck, 'agents': self.do_agents,
                    'agents_stop': self.do_agents_stop,
                    'controller': self.do_controller}
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError as exc:
                self.send({'ok': False, 'error': 'bad JSON: %s' % exc})
                continue
            mid = msg.get('id')
            cmd = msg.get('cmd')
            if cmd == 'stop':
                self.send({'id': mid, 'ok': True})
                return
            handler = handlers.get(cmd)
            if handler is None:
                self.send({'id': mid, 'ok': False,
                           'error': "unknown command '%s'" % cmd})
                continue
            try:
                answer = handler(msg)
                answer.update({'id': mid, 'ok': True})
            except (KeyError, ValueError, OSError,
                    subprocess.SubprocessError) as exc:
                answer = {'id': mid, 'ok': False, 'error': str(exc)}
            self.send(answer)

    def stop(self):
        """Puts the network away in batches.  Every device of the run in
        the root namespace (the switches' ports, and the bridges' own
        devices) carries the run's device group, so one 'ip link del group'
        removes them all, and with them the hosts' ends of the veths: the
        kernel then waits for one grace period instead of one per device.
        The bridges go in one ovs-vsctl transaction that does not wait for
        ovs-vswitchd to finish freeing them (a next run's first ovs-vsctl
        waits for it); the hosts' shells last."""
        # Once stopping, a SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.do_agents_stop({})
        for proc in self.listeners + self.spawned:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.listeners = []
        self.spawned = []
        if self.net is None:
            return
        net, self.net = self.net, None
        subprocess.run(['ip', 'link', 'del', 'group', str(self.args.devgroup)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if net.switches:
            args = ['ovs-vsctl', '--timeout=30', '--no-wait']
            for sw in net.switches:
                args += ['--', '--if-exists', 'del-br', sw.name]
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for host in net.hosts:
            host.terminate()


def proc_start(pid):
    """A process's start time (clock ticks after boot), which tells it from
    a later process with its PID; None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as fh:
            return int(fh.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def write_hosts_file(path, hosts):
    """{host: {"pid", "start", "netns", "interfaces"}} into 'path' (written
    whole, then renamed): what tells the host's network namespace from any
    other once its shell is gone."""
    tmp = path + '.tmp'
    out = {}
    for h in hosts:
        try:
            netns = os.readlink('/proc/%d/ns/net' % h.pid)
        except OSError:
            netns = None
        out[h.name] = {'pid': h.pid, 'start': proc_start(h.pid), 'netns': netns,
                       'interfaces': [i.name for i in h.intfList() if i.name != 'lo']}
    with open(tmp, 'w') as fh:
        json.dump(out, fh)
    os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description='simrun Mininet runtime')
    parser.add_argument('--controller-ip', default='127.0.0.1')
    parser.add_argument('--controller-port', type=int, default=6653)
    parser.add_argument('--log-level', default='warning')
    parser.add_argument('--run-id', default='manual')
    parser.add_argument('--probe-port', type=int, default=7)
    parser.add_argument('--devgroup', type=int, default=21330)
    parser.add_argument('--hosts-file', help='where to write each host\'s PID and start '
                        'time (on a lab server: what \'simrun clean --remote\' stops)')
    args = parser.parse_args()
    # SIGTERM unwinds through the finally below, which stops the network.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proto = _protocol_stream()
    from mininet.log import setLogLevel
    setLogLevel(args.log_level)
    rt = Runtime(args, proto)
    try:
        rt.build()
        rt.serve()
    except Exception as exc:  # reported to simrun, then re-raised
        rt.send({'event': 'error', 'error': '%s: %s'
                 % (type(exc).__name__, exc)})
        raise
    finally:
        rt.stop()


if __name__ == '__main__':
    main()
