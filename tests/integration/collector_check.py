#!/usr/bin/python3
"""Checks the dataset collector_driver wrote (usage: collector_check.py DIR):
  - one samples row per switch per sweep, and no rows for a failed sweep;
  - the controller's 5 s stop shows as gaps in the manifest, not as rows of
    zeros, and collection resumes (the first row after spans the gap);
  - labels: normal before the injection, drop_service from the first sweep
    after it until the reverted event, normal after; on_target only for the
    target switch;
  - the drop rule's packet counter rises while it is installed;
  - port counters agree with 'ovs-ofctl dump-ports' within one interval,
    and every delta is the difference of the cumulative values;
  - the JSON Lines files hold the same rows as the CSV files.
Prints 'N passed, N failed'."""
import collections
import csv
import json
import os
import re
import sys

D = sys.argv[1]
checks = []


def check(name, ok, detail=''):
    checks.append((name, bool(ok), detail))


def rows(name):
    with open(os.path.join(D, name), newline='') as fh:
        return list(csv.DictReader(fh))


events = json.load(open(os.path.join(D, 'events.json')))
manifest = json.load(open(os.path.join(D, 'manifest.json')))
samples, ports, flows = rows('samples.csv'), rows('ports.csv'), rows('flows.csv')
nsw = events['switches']
target = events['target_switch']
inject, reverted = events['inject_s'], events['reverted_s']
stop, resume = events['controller_stopped_s'], events['controller_resumed_s']

check('manifest says complete', manifest['status'] == 'complete', manifest['status'])
check('manifest counts match the files',
      manifest['rows']['samples'] == len(samples) and manifest['rows']['ports'] == len(ports)
      and manifest['rows']['flows'] == len(flows), manifest['rows'])
check('rows per label add up', sum(manifest['rows_per_label'].values()) == len(samples),
      manifest['rows_per_label'])

# One row per switch per sweep; failed sweeps have none.
per_sweep = {}
for r in samples:
    per_sweep.setdefault(int(r['sweep']), []).append(r)
failed = {g['sweep'] for g in manifest['gaps'] if g['kind'] == 'failed'}
partial = {g['sweep'] for g in manifest['gaps'] if g['kind'] == 'partial'}
bad = [k for k, rs in per_sweep.items() if k not in partial and len(rs) != nsw]
check('one samples row per switch per sweep', not bad, 'sweeps %s' % bad[:5])
check('every switch once per sweep',
      all(len({r['switch'] for r in rs}) == len(rs) for rs in per_sweep.values()))
check('no rows for failed sweeps', not (failed & set(per_sweep)), failed & set(per_sweep))

# The controller's stop is a gap, not zeros, and collection resumes.
gap_times = [g['t_s'] for g in manifest['gaps'] if g['kind'] in ('failed', 'missed')]
check('the controller stop left gaps', len(failed) >= 3 and
      all(stop - 0.5 <= t <= resume + 2.0 for t in gap_times),
      'failed sweeps %s at %s; stopped %.1f-%.1f' % (sorted(failed), gap_times, stop, resume))
after = [r for r in samples if float(r['t_s']) > resume + 1.0]
check('collection resumed', len({r['sweep'] for r in after}) >= 5,
      '%d rows after the resume' % len(after))
first_after = min(int(r['sweep']) for r in samples if int(r['sweep']) > max(failed))
spans = [float(r['dt_s']) for r in samples if int(r['sweep']) == first_after and r['dt_s']]
check('the first sweep after the gap spans it', spans and min(spans) > 2.0, spans)
zero_rows = [r for r in samples if r['packets_received'] == '0' and r['packets_transmitted'] == '0'
             and r['switch'] == target and inject < float(r['t_s']) < reverted]
check('no zero rows for the busy target switch', not zero_rows,
      '%d rows' % len(zero_rows))

# The network forwards all the way through: after the controller's pause
# its link discovery (the LLDP rule's counters) goes on, and no sweep has
# fewer host flows than the switches had at their most (links that time out
# take the flows between switches with them).
lldp = collections.defaultdict(int)
host_flows = collections.Counter()
for r in flows:
    if r['priority'] == '60000':
        lldp[int(r['sweep'])] += int(r['packets'])
    elif r['priority'] == '10':
        host_flows[int(r['sweep'])] += 1
late = [lldp[k] for k in sorted(lldp) if float(per_sweep[k][0]['t_s']) > resume + 1.0]
# LLDP goes out on every port every 2 s: within any three sweeps the
# counters rise.
check('link discovery goes on after the controller resumes',
      len(late) >= 5 and all(late[i + 3] > late[i] for i in range(len(late) - 3)), late)
full = max(host_flows.values())
first_full = min(k for k, n in host_flows.items() if n == full)
thin = [(k, n) for k, n in sorted(host_flows.items()) if k > first_full and n < full]
check('the host flows stay in every switch once learned', not thin, thin[:5])

# Labels.
wrong = []
for r in samples:
    t = float(r['t_s'])
    want = 'drop_service' if inject <= t < reverted else 'normal'
    if r['label'] != want:
        wrong.append((r['sweep'], r['switch'], r['label'], want))
    if want == 'drop_service':
        if r['fault_id'] != '1' or r['fault_target'] != target or r['fault_phase'] not in (
                'active', 'recovery'):
            wrong.append((r['sweep'], r['switch'], 'fields', r['fault_id'], r['fault_target']))
        if (r['on_target'] == '1') != (r['switch'] == target):
            wrong.append((r['sweep'], r['switch'], 'on_target', r['on_target']))
    elif r['fault_phase'] != 'normal' or r['fault_id'] or r['on_target'] != '0':
        wrong.append((r['sweep'], r['switch'], 'normal fields'))
check('labels follow the fault events', not wrong, wrong[:5])
first_fault = min(int(r['sweep']) for r in samples if r['label'] == 'drop_service')
check('the first sweep after the injection is labelled',
      float(per_sweep[first_fault][0]['t_s']) >= inject and
      all(float(r['t_s']) < inject for r in per_sweep.get(first_fault - 1, [])),
      'first labelled sweep %d' % first_fault)

# The drop rule counts the dropped pings.
drop = [r for r in flows if r['switch'] == target and r['priority'] == '65000']
counts = [int(r['packets']) for r in drop]
check('the drop rule is there while injected',
      drop and all(inject <= float(r['t_s']) < reverted + 1.0 for r in drop),
      '%d rows' % len(drop))
check('the drop rule counters rise', len(counts) >= 5 and counts[-1] > counts[0] > 0 and
      counts == sorted(counts), counts)
check('drop rule deltas add up', all(r['packets_delta'] == '' or int(r['packets_delta']) >= 0
                                     for r in drop))

# Ports against ovs-ofctl dump-ports, within one interval.
k = events['dump_ports_after_sweep']
ovs = {}
for m in re.finditer(r'port\s+"?([0-9A-Z]+)"?:\s*rx pkts=(\d+).*?\n\s*tx pkts=(\d+)',
                     events['dump_ports']):
    ovs[m.group(1)] = (int(m.group(2)), int(m.group(3)))
mine = {(r['sweep'], r['port']): r for r in ports if r['switch'] == target}
agree = []
for port, (rx, tx) in ovs.items():
    a, b = mine.get((str(k), port)), mine.get((str(k + 1), port))
    if not a or not b:
        agree.append((port, 'missing sweeps %d/%d' % (k, k + 1)))
        continue
    if not (int(a['packets_received']) <= rx <= int(b['packets_received']) and
            int(a['packets_transmitted']) <= tx <= int(b['packets_transmitted'])):
        agree.append((port, a['packets_received'], rx, b['packets_received']))
check('ports agree with ovs-ofctl dump-ports within one interval', ovs and not agree,
      agree[:3] or ovs)
prev, bad_delta = {}, []
for r in ports:
    key = (r['switch'], r['port'])
    if key in prev and r['packets_received_delta'] and r['counter_reset'] == '0':
        if int(r['packets_received_delta']) != int(r['packets_received']) - int(
                prev[key]['packets_received']):
            bad_delta.append(key)
    prev[key] = r
check('port deltas are differences of the cumulative counters', not bad_delta, bad_delta[:3])
first = [r for r in ports if r['sweep'] == '0']
check('first sweep deltas are empty, not zero',
      first and all(r['packets_received_delta'] == '' for r in first))

# JSON Lines hold the same rows.
with open(os.path.join(D, 'samples.jsonl')) as fh:
    jl = [json.loads(line) for line in fh]
check('samples.jsonl matches samples.csv', len(jl) == len(samples) and all(
    str(j['sweep']) == r['sweep'] and j['switch'] == r['switch'] and j['label'] == r['label']
    and (j['packets_received'] is None) == (r['packets_received'] == '')
    for j, r in zip(jl, samples)))

passed = sum(ok for _, ok, _ in checks)
for name, ok, detail in checks:
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok else ': %s' % (detail,)))
print('%d passed, %d failed' % (passed, len(checks) - passed))
sys.exit(0 if passed == len(checks) else 1)
