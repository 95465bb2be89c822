#!/usr/bin/python3
"""A run whose disk fills (usage: diskfull_test.py SIMRUN SOURCE_DIR).
video_drop runs with its run directory on a 2 MB tmpfs, which its dataset
and the agents' KPI records fill within a minute.  Checks:

  * the run stops with exit status 1 and a message naming the full disk;
  * manifest.json says status "failed", with the reason under "failure";
  * the files hold whole sweeps only: every CSV row has all its fields,
    and the manifest's row counts equal the files' (a row cut in half by
    the full disk would break both);
  * the fault in the air was reverted and the machine is clean.
Exit 77 without root."""
import csv
import json
import os
import subprocess
import sys
import tempfile

from common import check, machine_clean, report, video_drop_variant

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-diskfull-it-')


def csv_rows(path):
    with open(path, newline='') as fh:
        data = list(csv.reader(fh))
    return data[0], data[1:]


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    disk = os.path.join(TMP, 'disk')
    os.mkdir(disk)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', disk],
                   check=True)
    try:
        # The fault starts early, so the disk fills while it is in the air.
        scn = video_drop_variant(SRC, TMP, 'video_drop', (
            ('at = "60s"', 'at = "25s"'), ('duration = "45s"', 'duration = "100s"')))
        d = os.path.join(disk, 'run')
        res = subprocess.run([SIMRUN, scn, '--out', d, '--quiet'], capture_output=True,
                             text=True, timeout=900)
        check('the run stops with exit status 1', res.returncode == 1,
              'exit %d: %s' % (res.returncode, res.stderr[-800:]))
        check('the message names the full disk', 'disk is full' in res.stderr,
              res.stderr[-800:])
        m = json.load(open(os.path.join(d, 'manifest.json')))
        check('the manifest says failed', m.get('status') == 'failed', m.get('status'))
        check('the manifest says why', 'disk is full' in (m.get('failure') or ''),
              m.get('failure'))
        for name in ('samples', 'ports'):
            head, body = csv_rows(os.path.join(d, name + '.csv'))
            short = [i for i, r in enumerate(body) if len(r) != len(head)]
            check('%s.csv holds whole rows' % name, not short, short[:5])
            check('%s.csv has as many rows as the manifest says' % name,
                  len(body) == m['rows'][name], (len(body), m['rows'][name]))
            sweeps = sorted(set(r[head.index('sweep')] for r in body), key=int)
            per = [sum(1 for r in body if r[head.index('sweep')] == s) for s in sweeps]
            check('%s.csv holds whole sweeps' % name, len(set(per)) <= 1, per[-3:])
        check('rows per label add up to the samples written',
              sum(m['rows_per_label'].values()) == m['rows']['samples'],
              (m['rows_per_label'], m['rows']['samples']))
        evs = [json.loads(line) for line in open(os.path.join(d, 'faults.jsonl'))]
        kinds = [e['event'] for e in evs]
        check('the fault was injected before the disk filled', 'inject' in kinds, kinds)
        check('and reverted as the run stopped', 'reverted' in kinds, kinds)
        check('the machine is clean', machine_clean())
        return report(TMP)
    finally:
        subprocess.run(['umount', disk])


if __name__ == '__main__':
    sys.exit(main())
