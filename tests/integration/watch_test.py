#!/usr/bin/python3
"""The link watch (usage: watch_test.py SIMRUN SOURCE_DIR): video_drop's
network for 60 s with no traffic and no fault, while this test, behind
simrun's back, drops LLDP on switch c1 with a rule of its own from 8 s to
38 s after collection starts.  The controller then loses the links into c1
(os-ken's 10-s link timeout) and finds them again once the rule is gone.
Checks: the run completes; faults.jsonl has one 'unplanned' event naming
links into c1, after the rule went in and before it went out, then one
'unplanned_over' after it went out, and nothing unplanned before the rule;
the manifest warns about it; the summary says so; the machine is clean.
Exit 77 without root."""
import json
import os
import subprocess
import sys
import tempfile
import time

from common import check, events, machine_clean, report, video_drop_variant

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-watch-it-')
RULE = 'priority=65000,dl_type=0x88cc'
RULE_AT, RULE_OFF = 8.0, 38.0


def scenario():
    """video_drop without traffic and faults, for 60 s."""
    text = open(os.path.join(SRC, 'scenarios', 'video_drop.toml')).read()
    head, rest = text.split('[traffic]', 1)
    return video_drop_variant(SRC, TMP, 'watch', (
        ('duration = "150s"', 'duration = "60s"'), ('warmup = "20s"', 'warmup = "0s"'),
        ('name = "video_drop"', 'name = "watch"')),
        text=head + rest[rest.index('[collector]'):rest.index('[[fault]]')])


def ofctl(*args):
    return subprocess.run(['ovs-ofctl', '-O', 'OpenFlow13'] + list(args), capture_output=True,
                          text=True)


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    d = os.path.join(TMP, 'run')
    proc = subprocess.Popen([SIMRUN, scenario(), '--out', d, '--quiet'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Collection starts when the first samples row is there.
    samples = os.path.join(d, 'samples.csv')
    end = time.time() + 300
    while time.time() < end and proc.poll() is None:
        if os.path.exists(samples) and sum(1 for _ in open(samples)) > 1:
            break
        time.sleep(0.2)
    t0 = time.time()
    time.sleep(max(0.0, t0 + RULE_AT - time.time()))
    added = ofctl('add-flow', 'c1', RULE + ',actions=drop')
    time.sleep(max(0.0, t0 + RULE_OFF - time.time()))
    removed = ofctl('--strict', 'del-flows', 'c1', RULE)
    out, err = proc.communicate(timeout=300)
    check('the rule went in and out', added.returncode == 0 and removed.returncode == 0,
          (added.stderr, removed.stderr))
    check('the run completes', proc.returncode == 0 and 'watch: complete' in out,
          (proc.returncode, out, err[-600:]))
    check('the machine is clean afterwards', machine_clean())
    if proc.returncode != 0:
        return report()
    un = events(d, unplanned=True)
    kinds = [e['event'] for e in un]
    check('one loss of links, then their return', kinds == ['unplanned', 'unplanned_over'], un)
    if kinds == ['unplanned', 'unplanned_over']:
        lost, back = un
        check('the lost links are links into c1',
              lost['what'] == 'links' and '->c1:' in lost['seen'], lost['seen'])
        # Seen at a look (every 10 s) after the link timeout (10-15 s).
        check('the loss is seen while the rule is in, after the link timeout',
              RULE_AT + 10 <= lost['t_s'] <= RULE_OFF + 1, (lost['t_s'], RULE_AT, RULE_OFF))
        check('the return is seen after the rule went out',
              RULE_OFF <= back['t_s'] <= RULE_OFF + 21, back['t_s'])
    m = json.load(open(os.path.join(d, 'manifest.json')))
    check('the manifest warns about it',
          any('lost links between' in w for w in m['warnings']), m['warnings'])
    check('the summary says so', 'the controller lost links 1 time' in out, out)
    check('no fault events', not events(d), events(d))
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
