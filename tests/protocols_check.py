#!/usr/bin/python3
"""Checks messages that crossed a process boundary against their one
written definition in docs/protocols/ (JSON Schema, checked with Debian's
python3-jsonschema).

  protocols_check.py SCHEMA_DIR TRACE [RUNDIR...]

TRACE is a protocol trace (simrun with $SIMRUN_PROTOCOL_TRACE): one line
{"what": KIND, "msg": ...} per message, from both sides of each channel.
Every RUNDIR's traffic/<host>.json plans and controller.json are checked
too.  Prints how many
messages of each kind were checked; exits 1 on the first kinds that do not
match (with the message and the reason), 2 on bad usage."""
import glob
import json
import os
import sys

import jsonschema

KINDS = {
    'mininet.request': ('mininet-control', 'request'),
    'mininet.answer': ('mininet-control', 'answer'),
    'mininet.event': ('mininet-control', 'event'),
    'agent.control': ('agent-control', None),
    'controller.sweep': ('controller-extensions', 'sweep'),
    'controller.flowentries': ('controller-extensions', 'flowentries'),
    'controller.flowentries_answer': ('controller-extensions', 'flowentries_answer'),
    'controller.operator': ('controller-extensions', 'operator'),
    'controller.operator_answer': ('controller-extensions', 'operator_answer'),
    'controller.apps': ('controller-apps', None),
    'traffic.plan': ('traffic-plan', None),
    'diagnoser.window': ('diagnoser-window', 'window'),
    'diagnoser.answer': ('diagnoser-window', 'answer'),
}


def validators(schema_dir):
    out = {}
    for kind, (name, part) in KINDS.items():
        schema = json.load(open(os.path.join(schema_dir, name + '.schema.json')))
        jsonschema.Draft7Validator.check_schema(schema)
        if part:
            schema = {'$ref': '#/definitions/' + part, 'definitions': schema['definitions']}
        out[kind] = jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.draft7_format_checker)
    return out


def check(vals, kind, msg):
    """The first problem of 'msg' as a message of 'kind', or None."""
    if kind not in vals:
        return 'no definition for messages of kind %r' % kind
    errors = sorted(vals[kind].iter_errors(msg), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        return '%s at %s' % (e.message, '/'.join(str(p) for p in e.path) or 'the top')
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    vals = validators(argv[1])
    counts, bad = {}, []
    with open(argv[2]) as fh:
        for n, line in enumerate(fh, 1):
            rec = json.loads(line)
            why = check(vals, rec['what'], rec['msg'])
            counts[rec['what']] = counts.get(rec['what'], 0) + 1
            if why:
                bad.append('%s:%d: %s: %s\n    %s' % (argv[2], n, rec['what'], why,
                                                     json.dumps(rec['msg'])[:300]))
    for d in argv[3:]:
        for path in sorted(glob.glob(os.path.join(d, 'traffic', '*.json'))):
            why = check(vals, 'traffic.plan', json.load(open(path)))
            counts['traffic.plan'] = counts.get('traffic.plan', 0) + 1
            if why:
                bad.append('%s: traffic.plan: %s' % (path, why))
        path = os.path.join(d, 'controller.json')
        if os.path.exists(path):
            why = check(vals, 'controller.apps', json.load(open(path)))
            counts['controller.apps'] = counts.get('controller.apps', 0) + 1
            if why:
                bad.append('%s: controller.apps: %s' % (path, why))
    for kind in sorted(counts):
        print('%-32s %6d checked' % (kind, counts[kind]))
    for b in bad[:20]:
        print('MISMATCH ' + b)
    return 1 if bad or not counts else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
