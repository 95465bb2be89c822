#!/usr/bin/python3
"""Trains simrun's reference diagnoser on recorded runs.

  diagnoser/train.py -o MODEL.json WINDOWS.jsonl...

Each WINDOWS file is what 'simrun replay RUNDIR --windows FILE --ports
--flows' writes: every window of a run, as the window API sends it, with
its truth.  Windows whose truth is a fault in its 'healed', 'recovery' or
'failed' phase are left out (the fault's effect is gone or never came).
The model is a random forest (scikit-learn) over the features of
simrun_diagnoser/features.py, written as JSON (simrun_diagnoser/forest.py).
Prints the windows per label it learned from."""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simrun_diagnoser import features, forest  # noqa: E402
from simrun_diagnoser.topology import Topology  # noqa: E402


def read_windows(path):
    """(feature rows, labels) of one windows file; the topology comes with
    its first window."""
    xs, ys = [], []
    topo, history = Topology(None), features.History()
    with open(path) as fh:
        for line in fh:
            rec = json.loads(line)
            w, truth = rec['window'], rec['truth']
            if w.get('topology'):
                topo, history = Topology(w['topology']), features.History()
            # Every window goes through the history, as the server sees it;
            # only those of a clear truth are learnt from.
            x, _hints = features.extract(w, topo, history)
            if truth['phase'] not in ('normal', 'active'):
                continue
            xs.append(x)
            ys.append(truth['label'])
    return xs, ys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('--trees', type=int, default=150)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('windows', nargs='+')
    args = ap.parse_args()
    from sklearn.ensemble import RandomForestClassifier
    xs, ys = [], []
    for path in args.windows:
        x, y = read_windows(path)
        xs += x
        ys += y
    if len(set(ys)) < 2:
        sys.exit('train.py: the windows hold fewer than two labels: nothing to learn')
    clf = RandomForestClassifier(n_estimators=args.trees, min_samples_leaf=2,
                                 class_weight='balanced', random_state=args.seed, n_jobs=1)
    clf.fit(xs, ys)
    doc = forest.export(clf, features.NAMES, {
        'trained_on': [os.path.basename(p) for p in args.windows],
        'windows': len(ys), 'per_label': dict(collections.Counter(ys))})
    with open(args.output, 'w') as fh:
        json.dump(doc, fh, separators=(',', ':'))
    for label, n in sorted(collections.Counter(ys).items()):
        print('%-22s %6d windows' % (label, n))
    print('model: %s (%d trees, %d features)' % (args.output, args.trees, len(features.NAMES)))


if __name__ == '__main__':
    main()
