#!/usr/bin/python3
"""End to end: the README's scenario, scenarios/video_drop.toml, run for 90
seconds (usage: e2e_test.py SIMRUN SOURCE_DIR).  The scenario is copied
with three changes so that it fits 90 s and shows the drop rule's
counters: duration 90 s, the drop_service fault at 40 s for 30 s (instead
of 60 s for 45 s), and [collector] flows = true; topology, traffic, seed
and the fault's type and target are video_drop's own.  Checks:

  * the run directory holds every file of DESIGN.md section 8, and the
    manifest's row counts match the files;
  * one samples row per switch per sweep, 90 sweeps;
  * labels: normal before the fault, drop_service from the first sweep
    after the inject event until the reverted event, normal after;
  * video: every viewer whose every shortest path from its server crosses
    the target (computed here from topology.json) falls to ~0 kbit/s during
    the fault and recovers after; every viewer that falls has a shortest
    path through the target; the others keep playing;
  * the target switch's drop rules (at the priority its inject event records) are in its flows only
    during the fault, and their packet counters rise;
  * nothing is left behind.
Exit 77 without root."""
import collections
import json
import os
import subprocess
import sys
import tempfile

from common import (check, epoch, events, label_errors, machine_clean, report, rows,
                    video_drop_variant, windows)

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-e2e-it-')


def scenario():
    return video_drop_variant(SRC, TMP, 'video_drop', (
        ('duration = "150s"', 'duration = "90s"'), ('at = "60s"', 'at = "40s"'),
        ('duration = "45s"', 'duration = "30s"'), ('[collector]\n', '[collector]\nflows = true\n')))


def distances(adj, start, without=None):
    dist, todo = {start: 0}, collections.deque([start])
    while todo:
        a = todo.popleft()
        for b in adj[a]:
            if b != without and b not in dist:
                dist[b] = dist[a] + 1
                todo.append(b)
    return dist


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    d = os.path.join(TMP, 'run')
    res = subprocess.run([SIMRUN, scenario(), '--out', d, '--quiet'], capture_output=True,
                         text=True, timeout=600)
    check('video_drop runs to completion', res.returncode == 0 and
          'video_drop: complete' in res.stdout, (res.returncode, res.stdout, res.stderr[-800:]))
    check('the machine is clean afterwards', machine_clean())
    if res.returncode != 0:
        return report()
    files = ('samples.csv', 'ports.csv', 'flows.csv', 'faults.jsonl', 'traffic.jsonl',
             'manifest.json', 'topology.json')
    check('every file of the dataset is there',
          all(os.path.exists(os.path.join(d, f)) for f in files),
          [f for f in files if not os.path.exists(os.path.join(d, f))])
    m = json.load(open(os.path.join(d, 'manifest.json')))
    topo = json.load(open(os.path.join(d, 'topology.json')))
    samples, flows = rows(d, 'samples.csv'), rows(d, 'flows.csv')
    traffic = [json.loads(line) for line in open(os.path.join(d, 'traffic.jsonl'))]
    check('the manifest counts match the files',
          m['status'] == 'complete' and m['rows']['samples'] == len(samples) and
          m['rows']['ports'] == len(rows(d, 'ports.csv')) and
          m['rows']['flows'] == len(flows) and m['traffic']['records'] == len(traffic),
          (m['status'], m['rows'], m['traffic'].get('records'), len(traffic)))
    per = collections.Counter(r['sweep'] for r in samples)
    nsw = len(topo['switches'])
    check('one samples row per switch per sweep, 90 sweeps',
          len(per) == 90 and set(per.values()) == {nsw} and not m['gaps'],
          (len(per), set(per.values()), m['gaps'][:2]))
    evs = events(d)
    w = windows(evs)
    check('the fault was injected, verified, reverted',
          [e['event'] for e in evs if e['event'] not in ('healed', 'partly_healed')] ==
          ['inject', 'verified', 'revert', 'reverted'], [e['event'] for e in evs])
    check('the controller knew every link whenever no fault was in the air',
          not events(d, unplanned=True) and not [x for x in m['warnings'] if 'links' in x],
          (events(d, unplanned=True), m['warnings']))
    bad = label_errors(samples, w)
    check('labels: normal, then drop_service from the inject to the reverted event, then '
          'normal', not bad, bad[:5])
    labels = [r['label'] for r in sorted(samples, key=lambda r: int(r['sweep']))]
    check('all three phases are in the data',
          labels[0] == 'normal' and labels[-1] == 'normal' and 'drop_service' in labels)
    # Video behind the drop rule.
    target = w[1][1]
    adj = collections.defaultdict(set)
    for link in topo['links']:
        adj[link['a']].add(link['b'])
        adj[link['b']].add(link['a'])
    where = {h['ip']: h['switch'] for h in topo['hosts']}
    where.update({h['name']: h['switch'] for h in topo['hosts']})
    a = epoch([e['time'] for e in evs if e['event'] == 'verified'][0])
    # The drop rules go between the revert and the reverted event, so the
    # video plays again from the revert event on.
    back = epoch([e['time'] for e in evs if e['event'] == 'revert'][0])
    b = epoch([e['time'] for e in evs if e['event'] == 'reverted'][0])
    video = collections.defaultdict(list)
    for r in traffic:
        if r['service'] == 'video' and r['metrics'].get('ok'):
            video[(r['host'], r['peer'])].append((r['t'], r['metrics']['bitrate_kbps']))
    fell, kept, odd, must, may = [], [], [], set(), set()
    for (host, server), recs in video.items():
        s, v = where[server], where[host]
        full = distances(adj, s)
        if target in (s, v) or distances(adj, s, without=target).get(v, 1e9) > full[v]:
            must.add(host)
        if target in (s, v) or full.get(target, 1e9) + distances(adj, target)[v] == full[v]:
            may.add(host)
        during = [k for t, k in recs if a + 2 < t < back]
        after = [k for t, k in recs if b + 3 < t < b + 8]
        if during and max(during) < 100 and after and min(after) > 1000:
            fell.append(host)
        elif during and min(during) > 1000:
            kept.append(host)
        else:
            odd.append((host, during, after))
    check('viewers behind the drop rule fall to ~0 kbit/s and recover', fell, odd)
    check('every viewer whose every path crosses %s falls' % target,
          must and must <= set(fell), (sorted(must), fell))
    check('only viewers with a path through %s fall' % target, set(fell) <= may,
          (fell, sorted(may)))
    check('every viewer either falls and recovers or keeps playing', not odd, odd)
    # The rules carry the episode's own priority, recorded at the inject.
    prio = [str(e['priority']) for e in evs if e['event'] == 'inject'][0]
    drop = [r for r in flows if r['priority'] == prio and r['switch'] == target]
    t0, t1 = w[1][2], w[1][3]
    counts = collections.defaultdict(list)
    for r in drop:
        counts[r['match']].append(int(r['packets']))
    check('the drop rules are in %s only during the fault' % target,
          drop and all(t0 <= float(r['t_s']) <= t1 + 1 for r in drop), len(drop))
    check("the drop rules' packet counters rise",
          any(c[-1] > c[0] for c in counts.values()) and
          all(c == sorted(c) for c in counts.values()), dict(counts))
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
