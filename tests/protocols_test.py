#!/usr/bin/python3
"""The protocol definitions hold and the check can fail (usage:
protocols_test.py SOURCE_DIR): each schema is a valid JSON Schema, known
good messages pass, and messages that break the definition (an unknown
command, a missing field, a wrong type, a name that is not a name) are
refused.  Real messages from both sides are checked by the integration
tests through a protocol trace (tests/protocols_check.py)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocols_check import check, validators  # noqa: E402

SRC = os.path.abspath(sys.argv[1])
vals = validators(os.path.join(SRC, 'docs', 'protocols'))
results = []


def expect(kind, msg, good):
    why = check(vals, kind, msg)
    results.append((kind, msg, good, why))


expect('mininet.request', {'id': 1, 'cmd': 'link', 'a': 'c1', 'b': 'c2', 'state': 'down'}, True)
expect('mininet.request', {'id': 2, 'cmd': 'tcpcheck', 'pairs': [['u1h1', '10.0.1.1']],
                           'timeout': 2}, True)
expect('mininet.request', {'id': 3, 'cmd': 'agents_stop'}, True)
expect('mininet.request', {'id': 4, 'cmd': 'reboot'}, False)
expect('mininet.request', {'id': 5, 'cmd': 'link', 'a': 'c1', 'state': 'down'}, False)
expect('mininet.request', {'id': 6, 'cmd': 'host', 'name': "x'; rm -rf /", 'state': 'up'}, False)
expect('mininet.answer', {'id': 1, 'ok': True}, True)
expect('mininet.answer', {'id': 7, 'ok': True, 'stopped': 24, 'failed': {'u1h1': 3}}, True)
expect('mininet.answer', {'id': 1, 'ok': False}, False)
expect('mininet.event', {'event': 'agent_exit', 'host': 'u1h1', 'status': 3}, True)
expect('mininet.event', {'event': 'started', 'switches': 2}, False)
expect('agent.control', {'load': 4, 'extra_streams': 0, 'by': 'congestion all'}, True)
expect('agent.control', {'load': 0.5, 'extra_streams': 0}, False)
expect('agent.control', {'load': 1, 'extra_streams': 0, 'rate': 9}, False)
expect('agent.control', {'load': 6, 'extra_streams': 0, 'service': 'web', 'by': 'flash crowd'},
       True)
expect('agent.control', {'load': 6, 'extra_streams': 0, 'service': 'video'}, False)
expect('agent.control', {'load': 1, 'extra_streams': 0, 'quiet_s': 90}, True)
expect('agent.control', {'load': 1, 'extra_streams': 0, 'quiet_s': -1}, False)
sweep = open(os.path.join(SRC, 'tests', 'fuzz', 'corpus', 'controller', 'sweep'), 'rb').read()[1:]
good_sweep = json.loads(sweep)
del good_sweep['2']                 # the sample's switch 2 is an error entry
expect('controller.sweep', good_sweep, True)
expect('controller.sweep', {'1': {'port': [{'port_no': 1}]}}, False)
expect('controller.flowentries', [{'cmd': 'add', 'flow': {'dpid': 1, 'match': {},
                                                          'actions': []}}], True)
expect('controller.flowentries', [{'cmd': 'replace', 'flow': {'dpid': 1}}], False)
expect('controller.flowentries_answer', {'done': 3, 'failed': []}, True)
expect('controller.operator', {'change': 'acl_block', 'tcp_dst': 445}, True)
expect('controller.operator', {'change': 'acl_block', 'tcp_dst': 445,
                               'cookie': '0x00ab00000000cd01'}, True)
expect('controller.operator', {'change': 'acl_block', 'tcp_dst': 445, 'cookie': 'x'}, False)
expect('controller.operator', {'change': 'acl_block', 'tcp_dst': 0}, False)
expect('controller.operator', {'change': 'drain_link', 'link': 'c1-c2',
                               'a': {'dpid': 1, 'port': 3}, 'b': {'dpid': 2, 'port': 1}}, True)
expect('controller.operator', {'change': 'drain_link', 'link': "c1-c2'; x",
                               'a': {'dpid': 1, 'port': 3}, 'b': {'dpid': 2, 'port': 1}}, False)
expect('controller.operator', {'change': 'meter_rate', 'rate_kbps': 8000}, True)
expect('controller.operator', {'change': 'reboot'}, False)
expect('controller.operator_answer', {'switches': 4}, True)
expect('controller.operator_answer', {'switches': -1}, False)
APP = {'cookie': '0x1234567890abcdef', 'priority': 700}
APPS = {'forwarding': {'kind': 'learning', 'idle_timeout': 30, 'hard_timeout': 120,
                       'hard_share': 0.2, 'match': 'eth_dst', 'app': APP},
        'policy': {'lldp_edge': APP, 'guest_meter': dict(APP, guest_net=2, rate_kbps=9000)},
        'seed': 5, 'changes': [{'change': 'meter_rate', 'rate_kbps': 5000, 'at_s': 30.5}],
        'switches': {'1': {'name': 'c1', 'role': 'core', 'net': 0}},
        'hosts': {'02:00:0a:01:00:01': {'name': 'u1h1', 'role': 'user', 'net': 1,
                                        'ip': '10.1.0.1'}}}
expect('controller.apps', APPS, True)
expect('controller.apps', dict(APPS, forwarding=dict(APPS['forwarding'], kind='flood')), False)
expect('controller.apps', dict(APPS, policy={'firewall': APP}), False)
expect('controller.apps', dict(APPS, policy={'guest_meter': APP}), False)
expect('traffic.plan', {'host': 'u1h1', 'ip': '10.0.1.1', 'seed': 7,
                        'roles': {'video': {'servers': ['10.0.100.1'], 'bitrate_kbps': 1500}}},
       True)
expect('traffic.plan', {'host': 'u1h1', 'ip': '10.0.1.1', 'seed': 7,
                        'roles': {'video': {'servers': ['10.0.100.1']}}}, False)

failed = 0
for kind, msg, good, why in results:
    if (why is None) != good:
        failed += 1
        print('FAIL %s %s: %s' % (kind, json.dumps(msg)[:120],
                                  'refused: %s' % why if good else 'passed, but must not'))
print('%d passed, %d failed' % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
