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
#   {"id": 6, "cmd": "stop"}
#
# Every answer carries "ok" and, when false, "error".  Events simrun did not
# ask for (the network started, a command failed) are lines with "event".

import argparse
import json
import os
import subprocess
import sys


def _protocol_stream():
    """Keeps the real stdout for the control channel and sends everything
    else that writes to stdout (Mininet, print) to stderr."""
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


class Runtime(object):
    def __init__(self, args, proto):
        self.args = args
        self.proto = proto
        self.net = None
        self.links = {}
        self.stopped_switches = set()

    def send(self, obj):
        self.proto.write(json.dumps(obj, sort_keys=True) + '\n')
        self.proto.flush()

    def build(self):
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController
        from mininet.link import Link, TCLink

        bw = TOPOLOGY.get('bw_mbps')
        self.net = Mininet(topo=None, build=False, controller=None,
                           autoSetMacs=False, link=TCLink if bw else Link,
                           waitConnected=False)
        self.net.addController('c0', controller=RemoteController,
                               ip=self.args.controller_ip,
                               port=self.args.controller_port)
        for name, dpid in TOPOLOGY['switches']:
            self.net.addSwitch(name, cls=OVSSwitch, dpid=dpid, datapath='user',
                               protocols='OpenFlow13', failMode='secure')
        for name, ip, mac, _role in TOPOLOGY['hosts']:
            self.net.addHost(name, ip=ip, mac=mac)
        for a, aport, b, bport, _kind in TOPOLOGY['links']:
            opts = {'bw': bw} if bw else {}
            link = self.net.addLink(a, b, port1=aport, port2=bport, **opts)
            self.links[(a, b)] = link
        self.net.build()
        self.disable_offload()
        self.net.start()
        self.send({'event': 'started',
                   'switches': len(TOPOLOGY['switches']),
                   'hosts': len(TOPOLOGY['hosts'])})

    def disable_offload(self):
        for link in self.links.values():
            for intf in (link.intf1, link.intf2):
                node = intf.node
                node.cmd('ethtool -K %s tx off rx off >/dev/null 2>&1'
                         % intf.name)

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

    def do_run(self, msg):
        host = self.node(msg['host'])
        argv = msg['argv']
        if not isinstance(argv, list) or not argv:
            raise ValueError("'argv' must be a non-empty list")
        proc = host.popen(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=msg.get('timeout', 30))
        return {'status': proc.returncode,
                'stdout': out.decode('utf-8', 'replace'),
                'stderr': err.decode('utf-8', 'replace')}

    def serve(self):
        handlers = {'ready': lambda m: {}, 'link': self.do_link,
                    'switch': self.do_switch, 'host': self.do_host,
                    'run': self.do_run}
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
        if self.net is not None:
            self.net.stop()
            self.net = None


def main():
    parser = argparse.ArgumentParser(description='simrun Mininet runtime')
    parser.add_argument('--controller-ip', default='127.0.0.1')
    parser.add_argument('--controller-port', type=int, default=6653)
    parser.add_argument('--log-level', default='warning')
    args = parser.parse_args()
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
