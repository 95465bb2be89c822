#!/usr/bin/python3
"""Plain Mininet on a simrun topology, for the side-by-side in
bench/bringup: builds TOPOLOGY_JSON (from 'simrun topo') with stock
Mininet objects and the stock build (Mininet, OVSSwitch with the userspace
datapath, TCLink when the topology is shaped, one command per setting),
connects it to the controller at 127.0.0.1:PORT, and runs pingAll until no
ping is lost.  Prints one JSON line: seconds to build and start, seconds
to the first clean pingAll, seconds to stop, counted from T0 (seconds
since the epoch; default now), which the bench takes before it starts the
controller, as simrun's ready time counts its controller's start too.
Needs root.

Usage: plain_mininet.py TOPOLOGY_JSON PORT [T0]"""
import json
import sys
import time

from mininet.link import Link, TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController


def main():
    topo = json.load(open(sys.argv[1]))
    port = int(sys.argv[2])
    setLogLevel('error')
    bw = topo.get('bw_mbps')
    t0 = float(sys.argv[3]) if len(sys.argv) > 3 else time.time()
    net = Mininet(topo=None, build=False, controller=None, autoSetMacs=False,
                  link=TCLink if bw else Link, waitConnected=False)
    net.addController('c0', controller=RemoteController, ip='127.0.0.1', port=port)
    for s in topo['switches']:
        net.addSwitch(s['name'], cls=OVSSwitch, dpid=s['dpid'], datapath='user',
                      protocols='OpenFlow13', failMode='secure')
    for h in topo['hosts']:
        net.addHost(h['name'], ip=h['ip'] + '/8', mac=h['mac'])
    for l in topo['links']:
        net.addLink(l['a'], l['b'], port1=l['a_port'], port2=l['b_port'],
                    **({'bw': bw} if bw else {}))
    net.build()
    net.start()
    t1 = time.time()
    clean = None
    while time.time() - t0 < 600:
        if net.pingAll(timeout=1) == 0:
            clean = time.time()
            break
    t2 = time.time()
    net.stop()
    print(json.dumps({'start_s': round(t1 - t0, 2),
                      'clean_pingall_s': round(clean - t0, 2) if clean else None,
                      'stop_s': round(time.time() - t2, 2)}))
    return 0 if clean else 1


if __name__ == '__main__':
    sys.exit(main())
