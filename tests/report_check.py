"""Checks a report page (as simrun wrote it, or as Chromium dumped its DOM)
against the run directory it was made from.

    report_check.py PAGE RUNDIR

Prints one PASS/FAIL line per check and exits 1 on any failure.  Used by
the golden test (tests/report_test.sh) and the browser test
(tests/integration/report_test.py)."""
import html.parser
import json
import os
import re
import sys


class Page(html.parser.HTMLParser):
    """The elements the checks look at, with their attributes, and the
    text inside each <svg>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, attrs, enclosing svg id)
        self.svg_stack = []
        self.svg_text = {}
        self.stack = []
        self.divs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'div':
            self.divs.append(a.get('id'))
        if tag == 'svg':
            # Graphviz's drawing has no id: it is named by its <div>.
            outer = next((d for d in reversed(self.divs) if d), None)
            self.svg_stack.append(a.get('id') or outer or '?')
        self.elements.append((tag, a, self.svg_stack[0] if self.svg_stack else None))
        if tag not in ('meta', 'br', 'img', 'link', 'input', 'hr') and not (
                tag in ('path', 'rect', 'line', 'circle', 'polygon', 'ellipse', 'polyline')):
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), self.svg_stack[0] if self.svg_stack else None))

    def handle_endtag(self, tag):
        if tag == 'div' and self.divs:
            self.divs.pop()
        if tag == 'svg' and self.svg_stack:
            self.svg_stack.pop()
        while self.stack and self.stack[-1] != tag:
            self.stack.pop()
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.svg_stack:
            key = self.svg_stack[0]
            self.svg_text[key] = self.svg_text.get(key, '') + data


def curve(svg, path):
    """The (t, value) points of a series path in a plot."""
    f = {k: float(svg['data-' + k]) for k in ('t0', 't1', 'y0', 'y1', 'left', 'right',
                                               'top', 'bottom')}
    pts = []
    for x, y in re.findall(r'[ML]([-0-9.]+) ([-0-9.]+)', path['d']):
        x, y = float(x), float(y)
        t = f['t0'] + (x - f['left']) / (f['right'] - f['left']) * (f['t1'] - f['t0'])
        v = f['y0'] + (f['bottom'] - y) / (f['bottom'] - f['top']) * (f['y1'] - f['y0'])
        pts.append((t, v))
    return pts


def check_page(text, rundir):
    results = []

    def check(what, ok, detail=''):
        results.append((what, bool(ok), detail))

    p = Page()
    p.feed(text)
    events = [json.loads(line) for line in open(os.path.join(rundir, 'faults.jsonl'))]
    topo = json.load(open(os.path.join(rundir, 'topology.json')))
    svgs = {a.get('id'): a for tag, a, _ in p.elements if tag == 'svg' and a.get('id')}

    # The topology: every switch and host drawn, each fault's target marked.
    drawn = p.svg_text.get('topology', '')
    names = [s['name'] for s in topo['switches']] + [h['name'] for h in topo['hosts']]
    titles = set(re.findall(r'[A-Za-z0-9_.-]+', drawn))
    missing = [n for n in names if n not in titles]
    check('the topology holds every switch and host', not missing, missing[:5])
    targets = {e['target'] for e in events if e['event'] == 'inject'}
    red = sum(1 for tag, a, svg in p.elements if svg == 'topology' and
              tag in ('polygon', 'path', 'ellipse') and a.get('stroke') == '#b2182b')
    check('fault targets are drawn in red', not targets or red, sorted(targets))

    # The fault windows: one band per episode, from its inject to its restore.
    windows = {}
    for e in events:
        if e.get('id'):
            windows.setdefault(e['id'], {})[e['event']] = e['t_s']
    bands = [a for tag, a, svg in p.elements if tag == 'rect' and 'fault' in a.get('class', '')]
    check('fault windows are shaded', bands or not windows, len(bands))
    wrong = []
    for a in bands:
        w = windows.get(int(a['data-id']), {})
        want_to = w.get('reverted', w.get('revert'))
        if abs(float(a['data-from']) - w.get('inject', -1)) > 0.001 or \
                (want_to is not None and abs(float(a['data-to']) - want_to) > 0.001):
            wrong.append((a['data-id'], a['data-from'], a['data-to'], w))
    check('every fault window spans its inject to its restore', not wrong, wrong[:3])
    marks = [a for tag, a, svg in p.elements if a.get('class') == 'mark']
    got = sorted((svg, a['data-event'], round(float(a['data-t']), 3)) for tag, a, svg in
                 [(t, a, s) for t, a, s in p.elements if a.get('class') == 'mark'])
    want = sorted(('timeline', e['event'] if e['event'] != 'partly_healed' else 'healed',
                   round(e['t_s'], 3)) for e in events if e.get('id') and e['event'] in
                  ('inject', 'verified', 'revert', 'reverted', 'healed', 'failed'))
    check('the timeline marks every event of faults.jsonl', marks and
          sorted(set(got)) == sorted(set(want)), (got[:4], want[:4]))

    # Video: some viewer falls to ~0 during the drop and plays before it.
    paths = [(svg, a) for tag, a, svg in p.elements if tag == 'path' and
             'series' in a.get('class', '') and svg and svg.startswith('video-')]
    fell = []
    drop = [e for e in events if e['event'] == 'inject' and e['type'] == 'drop_service']
    if drop:
        a = windows[drop[0]['id']]['inject']
        b = windows[drop[0]['id']].get('revert', a)
        for svg, path in paths:
            pts = curve(svgs[svg], path)
            during = [v for t, v in pts if a + 3 < t < b - 0.5]
            before = [v for t, v in pts if a - 6 < t < a - 1]
            if during and before and max(during) < 100 and min(before) > 500:
                fell.append(svg)
        check('a viewer\'s bitrate curve drops to ~0 during the fault', fell,
              '%d video plots' % len(paths))
    check('a plot per viewer', paths, len(paths))
    return results


def main():
    text = open(sys.argv[1], encoding='utf-8').read()
    failed = 0
    for what, ok, detail in check_page(text, sys.argv[2]):
        print('%s %s%s' % ('PASS' if ok else 'FAIL', what, '' if ok else ': %s' % (detail,)))
        failed += not ok
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
