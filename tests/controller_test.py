#!/usr/bin/python3
"""Unit test of the embedded controller's quick conversion of flow
statistics (usage: controller_test.py SOURCE_DIR): for flows of every shape
simrun's networks and faults make, and for shapes it does not convert
itself, flow_entry() gives exactly what os-ken's ofctl_v1_3 gives for
/stats/flow."""
import importlib.util
import os
import sys

import random

from os_ken.lib import addrconv, ofctl_v1_3
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as p

SRC = os.path.abspath(sys.argv[1])
spec = importlib.util.spec_from_file_location(
    'simrun_controller', os.path.join(SRC, 'controller', 'simrun_controller.py'))
ctl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ctl)


def apply(*actions):
    return [p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, list(actions))]


CASES = [
    (p.OFPMatch(), apply(p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER))),
    (p.OFPMatch(eth_type=0x88cc), apply(p.OFPActionOutput(ofp.OFPP_CONTROLLER, 65535))),
    (p.OFPMatch(eth_dst='02:00:0a:00:01:01'), apply(p.OFPActionOutput(3))),
    (p.OFPMatch(eth_dst='ff:ff:ff:ff:ff:ff', eth_type=0x800),
     apply(p.OFPActionOutput(1), p.OFPActionOutput(2), p.OFPActionOutput(5))),
    (p.OFPMatch(in_port=4, eth_dst='02:00:0a:00:01:01'), apply(p.OFPActionOutput(2))),
    (p.OFPMatch(eth_type=0x800, ip_proto=6, tcp_dst=554), []),
    (p.OFPMatch(eth_type=0x800, ip_proto=17, udp_dst=5004), []),
    (p.OFPMatch(eth_type=0x800), apply(p.OFPActionDecNwTtl(), p.OFPActionOutput(2))),
    (p.OFPMatch(eth_dst='02:00:0a:00:01:02'),
     [p.OFPInstructionMeter(3, ofp.OFPIT_METER)] + apply(p.OFPActionOutput(1))),
    (p.OFPMatch(in_port=ofp.OFPP_LOCAL, ipv4_dst=('10.0.0.0', '255.0.0.0'), eth_type=0x800),
     [p.OFPInstructionGotoTable(1)]),
    # Shapes simrun does not convert itself: ofctl's path, same answer.
    (p.OFPMatch(vlan_vid=0x1005), apply(p.OFPActionPopVlan(), p.OFPActionOutput(1))),
    (p.OFPMatch(eth_type=0x86dd, ipv6_dst='ff02::1'),
     [p.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, [p.OFPActionOutput(1)])]),
    (p.OFPMatch(eth_src='02:00:00:00:00:09'),
     apply(p.OFPActionSetField(eth_dst='02:00:00:00:00:0a'), p.OFPActionOutput(1))),
]

failed = 0
for n, (match, insts) in enumerate(CASES):
    stats = p.OFPFlowStats(table_id=0, duration_sec=12, duration_nsec=345, priority=10 + n,
                           idle_timeout=5, hard_timeout=0, flags=0,
                           cookie=0x5300000000000000, packet_count=7, byte_count=700,
                           match=match, instructions=insts)
    stats.length = 96
    want = {'priority': stats.priority, 'cookie': stats.cookie,
            'idle_timeout': stats.idle_timeout, 'hard_timeout': stats.hard_timeout,
            'byte_count': stats.byte_count, 'duration_sec': stats.duration_sec,
            'duration_nsec': stats.duration_nsec, 'packet_count': stats.packet_count,
            'length': stats.length, 'flags': stats.flags, 'table_id': 0,
            'match': ofctl_v1_3.match_to_str(match),
            'actions': ofctl_v1_3.actions_to_str(insts)}
    got = ctl.flow_entry(stats)
    if got != want:
        failed += 1
        print('FAIL case %d:\n  ofctl  %r\n  simrun %r' % (n, want, got))
# The quick address text agrees with netaddr's on random addresses, and
# the fallback takes what is not a MAC or an IPv4 address.
mac_slow, ipv4_slow = ctl.NETADDR_TEXT
rnd = random.Random(7)
bad = []
for _ in range(50000):
    m = bytes(rnd.getrandbits(8) for _ in range(6))
    a = bytes(rnd.getrandbits(8) for _ in range(4))
    if addrconv.mac.bin_to_text(m) != mac_slow(m) or addrconv.ipv4.bin_to_text(a) != ipv4_slow(a):
        bad.append((m, a))
checks = len(CASES) + 1
if bad:
    failed += 1
    print('FAIL address text differs from netaddr for %r' % (bad[:3],))
print('%d passed, %d failed' % (checks - failed, failed))
sys.exit(1 if failed else 0)
