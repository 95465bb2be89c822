"""Helpers shared by the Python integration tests: named checks with a
report at the end, reading a run directory, and whether the machine is
clean again."""
import csv
import json
import os
import shutil
import subprocess
import time

results = []


def check(name, ok, detail=''):
    results.append((name, bool(ok), detail))


def report(tmp=None):
    """Prints every check; returns the exit code.  Removes 'tmp' when all
    passed (kept for a look otherwise)."""
    passed = sum(ok for _, ok, _ in results)
    for name, ok, detail in results:
        print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok else ': %s' % (detail,)))
    print('%d passed, %d failed' % (passed, len(results) - passed))
    if passed == len(results) and tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if passed == len(results) and results else 1


def rows(d, name):
    with open(os.path.join(d, name), newline='') as fh:
        return list(csv.DictReader(fh))


def events(d, unplanned=False):
    """The fault events of faults.jsonl; with 'unplanned', the others (what
    happened that no fault of the plan did)."""
    with open(os.path.join(d, 'faults.jsonl')) as fh:
        evs = [json.loads(line) for line in fh]
    return [e for e in evs if e['event'].startswith('unplanned') == unplanned]


def machine_clean(controllers=True):
    """No bridges, no Mininet (and, with 'controllers', no os-ken) process,
    no state file."""
    bridges = subprocess.run(['ovs-vsctl', 'list-br'], capture_output=True, text=True).stdout
    pattern = 'mininet:|osken-manager' if controllers else 'mininet:'
    procs = subprocess.run(['pgrep', '-f', pattern], capture_output=True, text=True).stdout
    return not bridges.strip() and not procs.strip() and not os.path.exists(
        '/run/simrun/state.json')


def windows(evs):
    """fault id -> [type, target, inject t_s, reverted t_s]"""
    w = {}
    for e in evs:
        rec = w.setdefault(e['id'], [e['type'], e['target'], None, None])
        if e['event'] == 'inject':
            rec[2] = e['t_s']
        elif e['event'] == 'reverted':
            rec[3] = e['t_s']
    return w


def label_errors(samples, w):
    """Rows whose label, fault id or on_target flag disagrees with the
    fault windows 'w' (see windows()).  Where windows overlap, the fault
    injected last labels the row."""
    bad = []
    for r in samples:
        t = float(r['t_s'])
        active = [(t0, fid, ftype, target) for fid, (ftype, target, t0, t1) in w.items()
                  if t0 is not None and t1 is not None and t0 <= t < t1]
        want = max(active)[2] if active else 'normal'
        if active:
            _, fid, _, target = max(active)
            on = target == 'all' or r['switch'] in target.split('-')
            if r['fault_id'] != str(fid) or (r['on_target'] == '1') != on:
                bad.append((r['sweep'], r['switch'], r['fault_id'], r['on_target']))
        if r['label'] != want:
            bad.append((r['sweep'], r['switch'], r['label'], want))
    return bad


def epoch(iso):
    """Seconds since the epoch of an ISO time such as 2026-11-22T01:02:03.456Z."""
    return time.mktime(time.strptime(iso[:19], '%Y-%m-%dT%H:%M:%S')) - time.timezone + \
        float('0.' + iso[20:23])


def video_drop_variant(src, tmp, name, edits, text=None):
    """Writes tmp/NAME.toml: scenarios/video_drop.toml (or 'text', made
    from it) with each (old, new) of 'edits' replaced once; stops when
    video_drop.toml no longer has what a test replaces."""
    if text is None:
        text = open(os.path.join(src, 'scenarios', 'video_drop.toml')).read()
    for old, new in edits:
        if old not in text:
            raise SystemExit('video_drop.toml changed: no %r in it; update this test' % old)
        text = text.replace(old, new, 1)
    path = os.path.join(tmp, name + '.toml')
    with open(path, 'w') as fh:
        fh.write(text)
    return path
