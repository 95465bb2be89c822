#!/usr/bin/python3
"""Unit test of the embedded controller's quick conversion of flow
statistics (usage: controller_test.py SOURCE_DIR): for flows of every shape
simrun's networks and faults make, and for shapes it does not convert
itself, flow_entry() (from os-ken's parsed flow) and raw_flow_entry() (from
the reply's bytes) give exactly what os-ken's ofctl_v1_3 gives for
/stats/flow; a whole flow or table statistics reply kept raw by the
controller's parser reads the same as os-ken's parser reads it."""
import importlib.util
import os
import sys

import random
import struct

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

def wire(stats):
    """'stats' as a switch sends it: ofp_flow_stats bytes."""
    buf = bytearray(ctl.FLOW_HEAD.size)
    mlen = stats.match.serialize(buf, ctl.FLOW_HEAD.size)
    for inst in stats.instructions:
        inst.serialize(buf, len(buf))
    assert len(buf) == ctl.FLOW_HEAD.size + mlen + sum(i.len for i in stats.instructions)
    ctl.FLOW_HEAD.pack_into(buf, 0, len(buf), stats.table_id, stats.duration_sec,
                            stats.duration_nsec, stats.priority, stats.idle_timeout,
                            stats.hard_timeout, stats.flags, stats.cookie,
                            stats.packet_count, stats.byte_count)
    return bytes(buf)


def reply(mp_type, body, xid=9):
    """A whole multipart reply message around 'body'."""
    head = struct.pack('!BBHIHH4x', ofp.OFP_VERSION, ofp.OFPT_MULTIPART_REPLY,
                       16 + len(body), xid, mp_type, 0)
    return bytearray(head + body)


def parse(msg):
    """The message as os-ken's receive loop parses it (its parsers as the
    controller left them)."""
    return p.msg_parser(None, ofp.OFP_VERSION, msg[1], len(msg), 9, msg)


failed = 0
entries = []
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
    raw = wire(stats)
    entries.append(raw)
    want['length'] = len(raw)
    got, length = ctl.raw_flow_entry(raw, 0)
    if (got, length) != (want, len(raw)):
        failed += 1
        print('FAIL raw case %d:\n  ofctl  %r\n  simrun %r (%d bytes)' % (n, want, got, length))
checks = 2 * len(CASES)

# A whole reply: kept raw by the controller's parser (the same message
# class, so the same event), read the same by its sweep and by ofctl.
body = b''.join(entries)
for mp_type, payload, name in (
        (ofp.OFPMP_FLOW, body, 'flow'),
        (ofp.OFPMP_TABLE, b''.join(struct.pack(ofp.OFP_TABLE_STATS_PACK_STR, t,
                                               3 if t in (0, 2) else 0, 50 if t < 2 else 0,
                                               40 if t < 2 else 0) for t in range(254)), 'table')):
    msg = reply(mp_type, payload)
    kept = parse(msg)
    full = ctl.OSKEN_MULTIPART_PARSER(None, ofp.OFP_VERSION, msg[1], len(msg), 9, msg)
    checks += 1
    if type(kept) is not type(full) or not isinstance(kept.body, ctl.RawEntries) or \
            [e.to_jsondict() if hasattr(e, 'to_jsondict') else tuple(e) for e in kept.body] != \
            [e.to_jsondict() if hasattr(e, 'to_jsondict') else tuple(e) for e in full.body]:
        failed += 1
        print('FAIL %s reply: kept %r, os-ken %r' % (name, kept, full))
        continue
    checks += 1
    if name == 'flow':
        quick, slow = kept.body.flows(), [ctl.flow_entry(s) for s in full.body]
    else:
        quick, slow = ctl.RestApi._used_tables([kept]), ctl.RestApi._used_tables([full])
        if [t['table_id'] for t in quick] != [0, 1, 2]:
            slow = 'tables 0, 1, 2 in use'
    if quick != slow:
        failed += 1
        print('FAIL %s reply read quickly:\n  %r\n  os-ken %r' % (name, quick, slow))
# An entry whose length would not move the reader on is refused.
checks += 1
try:
    ctl.raw_flow_entry(b'\0' * 64, 0)
    failed += 1
    print('FAIL a zero-length flow entry was read')
except ValueError:
    pass
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
checks += 1
if bad:
    failed += 1
    print('FAIL address text differs from netaddr for %r' % (bad[:3],))
print('%d passed, %d failed' % (checks - failed, failed))
sys.exit(1 if failed else 0)
