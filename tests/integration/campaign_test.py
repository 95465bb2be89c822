#!/usr/bin/python3
"""Integration test of a campaign of several runs (usage: campaign_test.py
SIMRUN SOURCE_DIR): tests/data/runs/campaign.toml (two seeds, three fault
types, about 50 s each).  Checks: the plan shows both runs, the same each
time; the campaign runs end to end into one directory with campaign.json;
every row carries its run and episode; episodes.csv; running it again
skips the complete runs; no simrun constant in the flows gives a fault
away; simrun merge joins every row of both runs; simrun split keeps runs
and episodes whole.  Exit 77 without root."""
import json
import os
import re
import subprocess
import sys
import tempfile

from common import check, machine_clean, report, rows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIO = os.path.join(SRC, 'tests', 'data', 'runs', 'campaign.toml')
TMP = tempfile.mkdtemp(prefix='simrun-campaign-it-')
RUNS = ('camp-21', 'camp-22')


def markers(audit):
    """Shortcuts of the campaign's audit (campaign.json) that are a
    rule's marks -- a cookie's application, a priority, a table -- rather
    than what the fault does: a marker a diagnoser could learn instead of
    the fault."""
    return [(t, f['feature']) for t, items in audit['shortcuts'].items() for f in items
            if f['feature'].startswith(('flows: cookie application', 'flows: priority',
                                        'flows: table'))]


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    plans = [subprocess.run([SIMRUN, 'plan', SCENARIO], capture_output=True, text=True)
             for _ in range(2)]
    check('plan shows both runs of the campaign, the same twice',
          plans[0].returncode == 0 and plans[0].stdout == plans[1].stdout and
          all('== run %d of 2: %s ==' % (i + 1, r) in plans[0].stdout
              for i, r in enumerate(RUNS)), plans[0].stdout[-800:] + plans[0].stderr)
    camp = os.path.join(TMP, 'camp')
    res = subprocess.run([SIMRUN, 'run', '--quiet', '--out', camp, SCENARIO],
                         capture_output=True, text=True, timeout=900)
    check('the campaign runs, exit 0', res.returncode == 0, res.stdout[-1500:] + res.stderr[-1500:])
    check('the campaign leaves a clean machine', machine_clean())
    cm = json.load(open(os.path.join(camp, 'campaign.json')))
    check('campaign.json: two complete runs, every type twice',
          cm['runs_complete'] == 2 and cm['runs_failed'] == 0 and
          cm['episodes_per_type'] == {'lldp_drop': 2, 'link_down': 2, 'flow_idle_timeout': 2} and
          cm['balance'] == {'fewest_episodes_of_a_type': 2, 'most_episodes_of_a_type': 2},
          cm)
    dirs = [os.path.join(camp, r) for r in RUNS]
    total = 0
    for r, d in zip(RUNS, dirs):
        samples = rows(d, 'samples.csv')
        total += len(samples)
        evs = [json.loads(line) for line in open(os.path.join(d, 'faults.jsonl'))]
        bad = [x for x in samples if x['run'] != r or
               (x['label'] == 'normal') != x['episode'].startswith('n') or
               (x['label'] != 'normal' and x['episode'] != 'f' + x['fault_id'])]
        check('%s: every row carries its run and episode' % r, samples and not bad, bad[:3])
        stretches = sorted({int(x['episode'][1:]) for x in samples if x['episode'][0] == 'n'})
        check('%s: normal stretches numbered 0..3 between the faults' % r,
              stretches == [0, 1, 2, 3], stretches)
        eps = rows(d, 'episodes.csv')
        injects = [e for e in evs if e['event'] == 'inject']
        check('%s: episodes.csv has each episode with its parameters and times' % r,
              len(eps) == 3 and all(e['run'] == r and e['status'] == 'verified' and
                                    float(e['during_s']) > 3 and e['silent'] in ('0', '1')
                                    for e in eps) and
              [e['type'] for e in eps] == [e['type'] for e in injects], eps)
        idle = [e for e in injects if e['type'] == 'flow_idle_timeout']
        check('%s: the idle time-out was drawn in its range' % r,
              idle and 2 <= idle[0]['timeout_s'] <= 9, idle)
    audit = cm.get('audit', {})
    check('campaign.json holds the audit of both runs', audit.get('runs') == 2 and
          set(audit.get('shortcuts', {})) == {'lldp_drop', 'link_down', 'flow_idle_timeout'},
          audit)
    found = markers(audit) if audit else ['no audit']
    check('no cookie, priority or table gives a fault type away', not found, found[:5])
    check('the audit finds what the clean normal network gives away: an idle time-out',
          any(f['feature'] == 'flows: idle time-out set' and f['test'] == 'present'
              for f in audit.get('shortcuts', {}).get('flow_idle_timeout', [])), audit)
    # Again: both runs are complete, so nothing runs.
    res = subprocess.run([SIMRUN, 'run', '--quiet', '--out', camp, SCENARIO],
                         capture_output=True, text=True, timeout=300)
    check('running the campaign again skips its complete runs',
          res.returncode == 0 and res.stdout.count('complete already, skipped') == 2,
          res.stdout + res.stderr[-500:])
    merged = os.path.join(TMP, 'merged')
    res = subprocess.run([SIMRUN, 'merge', merged, camp], capture_output=True, text=True)
    check('merge exits 0', res.returncode == 0, res.stdout + res.stderr)
    if res.returncode == 0:
        ms = rows(merged, 'samples.csv')
        check('merge keeps every row of both runs, each with its run',
              len(ms) == total and {x['run'] for x in ms} == set(RUNS), (len(ms), total))
        mf = [json.loads(line) for line in open(os.path.join(merged, 'faults.jsonl'))]
        check('merged faults.jsonl and episodes.csv name their runs',
              {e['run'] for e in mf} == set(RUNS) and
              len(rows(merged, 'episodes.csv')) == 6, len(mf))
        check('merge keeps each run\'s topology',
              sorted(os.listdir(os.path.join(merged, 'topology'))) ==
              [r + '.json' for r in RUNS])
        res = subprocess.run([SIMRUN, 'split', merged, '--by', 'run', '--test', '0.5'],
                             capture_output=True, text=True)
        sp = json.load(open(os.path.join(merged, 'split-run.json'))) if res.returncode == 0 else {}
        check('split by run puts one run on each side',
              res.returncode == 0 and len(sp['train']) == 1 and len(sp['test']) == 1 and
              sp['train_rows'] + sp['test_rows'] == total, res.stdout + res.stderr)
        res = subprocess.run([SIMRUN, 'split', merged, '--by', 'episode'],
                             capture_output=True, text=True)
        sp = json.load(open(os.path.join(merged, 'split-episode.json'))) \
            if res.returncode == 0 else {}
        groups = set(sp.get('train', [])) | set(sp.get('test', []))
        check('split by episode keeps episodes whole (each on one side)',
              res.returncode == 0 and not set(sp['train']) & set(sp['test']) and
              len(groups) == len({(x['run'], x['episode']) for x in ms}),
              res.stdout + res.stderr)
        examples(merged)
    return report(TMP)


def python_blocks(path):
    text = open(path).read()
    return [b.split('```', 1)[0] for b in text.split('```python\n')[1:]]


def examples(merged):
    """The grouped-split examples of the README and docs/campaigns.md run
    on the merged campaign and print a score per held-out run."""
    for doc, name in (('README.md', 'runs/camp-merged'), ('docs/campaigns.md', 'OUT')):
        blocks = [b for b in python_blocks(os.path.join(SRC, doc)) if 'GroupKFold' in b]
        code = blocks[0].replace(name + '/', merged + '/') if blocks else 'raise SystemExit(3)'
        res = subprocess.run(['/usr/bin/python3', '-c', code], capture_output=True, text=True,
                             timeout=300)
        scores = re.findall(r'\d\.\d+', res.stdout)
        check('the GroupKFold example of %s runs on a merged campaign' % doc,
              res.returncode == 0 and len(scores) >= 2, (res.stdout[-300:], res.stderr[-600:]))


if __name__ == '__main__':
    sys.exit(main())
