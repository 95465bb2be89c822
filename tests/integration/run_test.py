#!/usr/bin/python3
"""Integration test of 'simrun run' (usage: run_test.py SIMRUN SOURCE_DIR):
runs tests/data/runs/short.toml (three faults in 30 s) twice with the same
seed, and once interrupted with SIGINT in the middle of a fault, and checks
the run directory: every file, a manifest whose counts match the files,
faults.jsonl with inject/verified/revert/reverted for each fault, labels
that follow those events, the same label for every sweep in both runs, and
a clean machine afterwards.  Exit 77 without root."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from common import check, epoch, events, label_errors, machine_clean, report, rows, windows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIO = os.path.join(SRC, 'tests', 'data', 'runs', 'short.toml')
TMP = tempfile.mkdtemp(prefix='simrun-run-it-')


def check_run(d, name):
    for f in ('samples.csv', 'ports.csv', 'flows.csv', 'samples.jsonl', 'ports.jsonl',
              'flows.jsonl', 'faults.jsonl', 'traffic.jsonl', 'manifest.json', 'topology.json'):
        check('%s: %s exists' % (name, f), os.path.exists(os.path.join(d, f)))
    m = json.load(open(os.path.join(d, 'manifest.json')))
    samples = rows(d, 'samples.csv')
    check('%s: manifest complete' % name, m['status'] == 'complete', m['status'])
    check('%s: manifest counts match the files' % name,
          m['rows']['samples'] == len(samples) and
          m['rows']['ports'] == len(rows(d, 'ports.csv')) and
          m['rows']['flows'] == len(rows(d, 'flows.csv')), m['rows'])
    nsw = m['topology']['switches']
    per = {}
    for r in samples:
        per.setdefault(r['sweep'], 0)
        per[r['sweep']] += 1
    check('%s: one row per switch per sweep, 30 sweeps' % name,
          len(per) == 30 and set(per.values()) == {nsw}, (len(per), set(per.values())))
    evs = events(d)
    kinds = {}
    for e in evs:
        kinds.setdefault(e['id'], []).append(e['event'])
    check('%s: each fault injected, verified, reverted' % name,
          len(kinds) == 3 and all([e for e in k if e not in ('healed', 'partly_healed')] ==
                                  ['inject', 'verified', 'revert', 'reverted']
                                  for k in kinds.values()), kinds)
    # Traffic: the agents ran, and video viewers behind the drop rule stall
    # while it is in place and recover after.
    check('%s: traffic recorded' % name, m['traffic']['generated'] and
          m['traffic']['records_per_service'].get('video', 0) > 0, m['traffic'])
    recs = [json.loads(line) for line in open(os.path.join(d, 'traffic.jsonl'))]
    drop = [e for e in evs if e['id'] == 1]
    t_inj = [e['time'] for e in drop if e['event'] == 'verified'][0]
    t_rev = [e['time'] for e in drop if e['event'] == 'reverted'][0]
    a, b = epoch(t_inj), epoch(t_rev)
    video = {}
    for r in recs:
        if r['service'] == 'video' and r['metrics'].get('ok'):
            video.setdefault(r['host'], []).append((r['t'], r['metrics']['bitrate_kbps']))
    hit = [h for h, v in video.items()
           if all(k < 100 for t, k in v if a + 1.5 < t < b) and
           [k for t, k in v if a + 1.5 < t < b] and
           all(k > 1000 for t, k in v if b + 2.5 < t < b + 5.5)]
    p2p = [r['metrics'] for r in recs if r['service'] == 'p2p' and r['metrics'].get('ok')]
    check('%s: p2p files complete, from three peers at once' % name,
          len(p2p) >= 3 and all(m['complete'] and m['bytes'] == m['size'] and m['peers'] == 3
                                for m in p2p), p2p[:3])
    check('%s: a video viewer behind the drop rule stalls and recovers' % name, hit,
          {h: [(round(t - a, 1), k) for t, k in v if a - 2 < t < b + 6] for h, v in video.items()})
    w = windows(evs)
    bad = label_errors(samples, w)
    check('%s: labels follow faults.jsonl' % name, not bad, bad[:5])
    # The drop rules carry the priority and cookie drawn for the episode
    # (faults.jsonl says which), not a constant of simrun's.
    inj = [e for e in evs if e['id'] == 1 and e['event'] == 'inject'][0]
    check('%s: the rules\' priority and cookie are drawn, not simrun\'s old constants' % name,
          inj['priority'] != 65500 and not inj['cookie'].startswith('0x5346'), inj)
    drop = [r for r in rows(d, 'flows.csv') if r['priority'] == str(inj['priority']) and
            int(r['cookie'], 0) == int(inj['cookie'], 16)]
    t0, t1 = w[1][2], w[1][3]
    check('%s: the drop rules are in the switch during drop_service only' % name,
          drop and all(t0 <= float(r['t_s']) <= t1 + 1 for r in drop), len(drop))
    # The share of the flows flows_deleted (fault 3) deleted that were still
    # gone, from each look after its verification; no other fault has one.
    eff = [r['fault_effect'] for r in samples if r['fault_id'] == '3' and
           r['fault_phase'] in ('active', 'healed')]
    check('%s: flows_deleted rows carry the share still in effect' % name,
          any(eff) and all(0 <= float(x) <= 1 for x in eff if x), eff)
    check('%s: only the flow fault carries fault_effect' % name,
          not [r for r in samples if r['fault_effect'] and r['fault_id'] != '3'])
    return {(r['sweep'], r['switch']): r['label'] for r in samples}


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    labels = []
    trace = os.path.join(TMP, 'trace.jsonl')
    for n in (1, 2):
        d = os.path.join(TMP, 'run%d' % n)
        env = dict(os.environ, SIMRUN_PROTOCOL_TRACE=trace) if n == 1 else None
        res = subprocess.run([SIMRUN, 'run', '--quiet', '--out', d, SCENARIO],
                             capture_output=True, text=True, timeout=300, env=env)
        check('run %d exits 0' % n, res.returncode == 0, res.stderr[-500:])
        check('run %d says complete' % n, 'short: complete' in res.stdout, res.stdout)
        if res.returncode == 0:
            labels.append(check_run(d, 'run %d' % n))
        check('run %d leaves a clean machine' % n, machine_clean())
        if n == 1:
            res = subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'protocols_check.py'),
                                  os.path.join(SRC, 'docs', 'protocols'), trace, d],
                                 capture_output=True, text=True)
            check('every message of run 1 matches docs/protocols', res.returncode == 0,
                  res.stdout[-1500:] + res.stderr[-500:])
    check('the same seed gives the same label for every sweep',
          len(labels) == 2 and labels[0] == labels[1],
          len(labels) == 2 and [k for k in labels[0] if labels[0][k] != labels[1].get(k)][:5])
    # Interrupted in the middle of drop_service (8-16 s).
    d = os.path.join(TMP, 'interrupted')
    proc = subprocess.Popen([SIMRUN, 'run', '--quiet', '--out', d, SCENARIO],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.time() + 120
    while time.time() < end:
        try:
            if any(e['event'] == 'verified' for e in events(d)):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    check('interrupted run exits 1 and says so', proc.returncode == 1 and
          'short: interrupted' in out, (proc.returncode, out, err[-300:]))
    m = json.load(open(os.path.join(d, 'manifest.json')))
    samples = rows(d, 'samples.csv')
    check('interrupted manifest says interrupted', m['status'] == 'interrupted', m['status'])
    check('interrupted files are valid and shorter',
          0 < len(samples) == m['rows']['samples'] and
          len({r['sweep'] for r in samples}) < 30, len(samples))
    evs = [e['event'] for e in events(d) if e['id'] == 1 and e['event'] not in ('healed', 'partly_healed')]
    check('the active fault was reverted before teardown',
          evs == ['inject', 'verified', 'revert', 'reverted'], evs)
    check('interrupted run leaves a clean machine', machine_clean())
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
