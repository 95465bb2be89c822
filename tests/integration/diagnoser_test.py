#!/usr/bin/python3
"""Integration test of the diagnoser loop and the Kafka sink:

  diagnoser_test.py SIMRUN SOURCE_DIR ECHO_DIAGNOSER KAFKA_MOCK

Starts a Kafka mock cluster (librdkafka's rdkafka_mock: the real protocol
on a local port; no broker is packaged for Debian 12) and the reference
diagnoser (diagnoser/serve.py with diagnoser/models/reference.json), runs
tests/data/runs/diagnoser.toml (three faults in 60 s) with [diagnoser] and
[sink.kafka] pointing at them, and kills the diagnoser half way.  Checks:
an answer per window until the kill and an error per window after it,
counted in the manifest and the summary; every sweep on time; the score;
the messages against docs/protocols; kcat reading back exactly the rows
written, in order per switch, and the fault events.  Then replays the run:
to the reference diagnoser at --speed max, to a diagnoser that takes 2 s
per answer, to one that answers garbage, and to Kafka; trains a model on
the run's windows with diagnoser/train.py and serves it.  Exit 77 without
root."""
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from common import check, machine_clean, report, rows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ECHO, KAFKA_MOCK = os.path.abspath(sys.argv[3]), os.path.abspath(sys.argv[4])
TEMPLATE = os.path.join(SRC, 'tests', 'data', 'runs', 'diagnoser.toml')
SERVE = os.path.join(SRC, 'diagnoser', 'serve.py')
TRAIN = os.path.join(SRC, 'diagnoser', 'train.py')
MODEL = os.path.join(SRC, 'diagnoser', 'models', 'reference.json')
TMP = tempfile.mkdtemp(prefix='simrun-diagnoser-it-')
TOPIC = 'simrun-it'
LABELS = set(['normal'])


def start(argv):
    """Starts a server that prints its port (or address) on its first line."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline().strip()
    if not first:
        raise SystemExit('%s did not start: %s' % (argv[0], proc.stderr.read()[-500:]))
    return proc, first


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kcat(brokers, topic):
    """Every message of 'topic': (key, partition, offset, value)."""
    res = subprocess.run(['kcat', '-C', '-b', brokers, '-t', topic, '-e', '-q',
                          '-f', '%k\t%p\t%o\t%s\n'], capture_output=True, text=True, timeout=120)
    out = []
    for line in res.stdout.splitlines():
        k, p, o, v = line.split('\t', 3)
        out.append((k, int(p), int(o), json.loads(v)))
    return out


def check_kafka(brokers, topic, d, name):
    samples = rows(d, 'samples.csv')
    ports = rows(d, 'ports.csv')
    msgs = kcat(brokers, topic)
    check('%s: kcat reads back as many samples messages as rows' % name,
          len(msgs) == len(samples), (len(msgs), len(samples)))
    # Per switch: the partition's order is the file's order.
    by_key = collections.defaultdict(list)
    parts = collections.defaultdict(set)
    for k, p, o, v in sorted(msgs, key=lambda m: (m[1], m[2])):
        by_key[k].append(int(v['sweep']))
        parts[k].add(p)
    want = collections.defaultdict(list)
    for r in samples:
        want[r['switch']].append(int(r['sweep']))
    check('%s: one partition per switch, rows in order per switch' % name,
          dict(by_key) == dict(want) and all(len(p) == 1 for p in parts.values()),
          [k for k in want if by_key.get(k) != want[k]][:3])
    check('%s: the messages carry no label column' % name,
          msgs and not any('label' in v or 'fault_id' in v for _, _, _, v in msgs))
    pm = kcat(brokers, topic + '.ports')
    check('%s: kcat reads back every ports row' % name, len(pm) == len(ports),
          (len(pm), len(ports)))
    events = [json.loads(line) for line in open(os.path.join(d, 'faults.jsonl'))]
    fm = kcat(brokers, topic + '.faults')
    got, want = collections.defaultdict(list), collections.defaultdict(list)
    for k, p, o, v in sorted(fm, key=lambda m: (m[1], m[2])):
        got[k].append(v['event'])
    for e in events:
        want[str(e.get('id', 0))].append(e['event'])
    check('%s: every fault event on its own topic, in order per fault' % name,
          events and dict(got) == dict(want), (dict(got), dict(want)))


def live(brokers):
    ref, port = start(['/usr/bin/python3', SERVE, '--model', MODEL])
    text = open(TEMPLATE).read()
    text = text.replace('http://127.0.0.1:1/diagnose', 'http://127.0.0.1:%s/diagnose' % port)
    text = text.replace('brokers = "127.0.0.1:1"', 'brokers = "%s"' % brokers)
    scn = os.path.join(TMP, 'diag.toml')
    with open(scn, 'w') as fh:
        fh.write(text)
    d = os.path.join(TMP, 'run')
    trace = os.path.join(TMP, 'trace.jsonl')
    proc = subprocess.Popen([SIMRUN, 'run', '--out', d, scn], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, SIMRUN_PROTOCOL_TRACE=trace))
    # Half way through the run (the windows come one per sweep), the
    # diagnoser dies.
    path = os.path.join(d, 'diagnoses.jsonl')
    end = time.time() + 300
    answered_at_kill = None
    while time.time() < end and proc.poll() is None:
        try:
            n = sum(1 for _ in open(path))
        except OSError:
            n = 0
        if n >= 30:
            ref.send_signal(signal.SIGKILL)
            ref.wait()
            answered_at_kill = n
            break
        time.sleep(0.1)
    out, err = proc.communicate(timeout=300)
    stop(ref)
    check('live: simrun exits 0 with the diagnoser killed half way', proc.returncode == 0,
          (proc.returncode, err[-800:]))
    check('live: the diagnoser was killed during the run', answered_at_kill is not None)
    if proc.returncode != 0:
        return None
    m = json.load(open(os.path.join(d, 'manifest.json')))
    recs = [json.loads(line) for line in open(path)]
    samples = rows(d, 'samples.csv')
    sweeps = sorted({int(r['sweep']) for r in samples})
    dg = m['diagnoser']
    check('live: the manifest says complete', m['status'] == 'complete', m['status'])
    check('live: one window per sweep, each recorded once',
          len(recs) == len(sweeps) == dg['windows'] and
          sorted(r['seq'] for r in recs) == list(range(1, len(recs) + 1)),
          (len(recs), len(sweeps), dg['windows']))
    answered = [r for r in recs if 'label' in r]
    failed = [r for r in recs if 'error' in r]
    check('live: answered windows before the kill, errors after',
          len(answered) >= 25 and failed and
          max(r['seq'] for r in answered) < min(r['seq'] for r in failed) + dg['concurrency'] * 2,
          (len(answered), len(failed)))
    check('live: every answer is a diagnosis with a known label',
          all(r['label'] in LABELS and r['latency_ms'] >= 0 for r in answered),
          [r for r in answered if r['label'] not in LABELS][:3])
    check('live: each record has its window span and the truth of its end',
          all(r['from_s'] <= r['to_s'] and r['to_s'] - r['from_s'] < 10.5 and
              set(r['truth']) == {'label', 'fault_id', 'target', 'phase'} for r in recs))
    check('live: the manifest counts answers and errors as the file has them',
          dg['answers'] == len(answered) and dg['errors'] == len(failed) and
          dg['dropped'] == 0, dg)
    nsw = m['topology']['switches']
    per = collections.Counter(r['sweep'] for r in samples)
    late = max(float(r['late_ms'] or 0) for r in samples)
    check('live: every sweep on time with the diagnoser gone (none missed, none an interval '
          'late)', not m['gaps'] and set(per.values()) == {nsw} and len(per) == 60 and
          late < 1000.0, (m['gaps'], len(per), late))
    check('live: the summary prints the diagnoser line with the score',
          re.search(r'diagnoser +%d windows: %d answered, %d errors \(\d+ timed out\), 0 dropped; '
                    r'accuracy [0-9.]+, macro-F1 [0-9.]+; \d of 3 episodes detected'
                    % (len(recs), len(answered), len(failed)), out) and
          re.search(r'kafka +(\d+) messages delivered of \1 to .simrun-it. \(0 failed', out),
          out)
    score = json.load(open(os.path.join(d, 'score.json')))
    check('live: score.json has the headline and the episodes',
          'accuracy' in score['headline'] and score['detection']['episodes'] == 3,
          list(score))
    res = subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'protocols_check.py'),
                          os.path.join(SRC, 'docs', 'protocols'), trace],
                         capture_output=True, text=True)
    check('live: windows and answers match docs/protocols',
          res.returncode == 0 and 'diagnoser.window' in res.stdout and
          'diagnoser.answer' in res.stdout, res.stdout[-1500:] + res.stderr[-300:])
    check('live: the run leaves a clean machine', machine_clean())
    check_kafka(brokers, TOPIC, d, 'kafka (live)')
    kf = m['kafka']
    check('kafka (live): the manifest counts every message delivered',
          kf['delivered'] == kf['produced'] == m['rows']['samples'] + m['rows']['ports'] +
          m['rows']['flows'] + len(open(os.path.join(d, 'faults.jsonl')).readlines()) and
          kf['failed'] == kf['dropped'] == kf['undelivered'] == 0, kf)
    return d


def replay(d, argv, name, timeout=600):
    t0 = time.time()
    res = subprocess.run([SIMRUN, 'replay'] + argv + [d], capture_output=True, text=True,
                         timeout=timeout, cwd=TMP)
    return res, time.time() - t0


def figures(out):
    m = re.search(r'(\d+) windows: (\d+) windows/s; (\d+) answered, (\d+) errors', out)
    lat = re.search(r'latency ms: p50 ([0-9.]+), p95 ([0-9.]+), p99 ([0-9.]+)', out)
    return (tuple(int(x) for x in m.groups()) if m else None,
            tuple(float(x) for x in lat.groups()) if lat else None)


def replays(d, brokers):
    nwin = len({r['sweep'] for r in rows(d, 'samples.csv')})
    ref, port = start(['/usr/bin/python3', SERVE, '--model', MODEL])
    res, took = replay(d, ['--diagnoser', 'http://127.0.0.1:%s/' % port, '--speed', 'max',
                           '--ports', '--flows', '--out', os.path.join(TMP, 'ref.jsonl')],
                       'reference')
    stop(ref)
    fig, lat = figures(res.stdout)
    check('replay max to the reference diagnoser: exit 0, every window answered, figures '
          'printed', res.returncode == 0 and fig and fig[0] == nwin and fig[2] == nwin and
          lat and 'accuracy' in res.stdout, res.stdout[-1500:] + res.stderr[-500:])
    check('replay wrote its score beside its answers',
          os.path.exists(os.path.join(TMP, 'ref.score.json')))
    # A diagnoser that takes 2 s per answer: with 8 at once nothing stalls,
    # and the replay takes about windows/8 x 2 s.
    slow, sport = start([ECHO, '--delay', '2000'])
    res, took = replay(d, ['--diagnoser', 'http://127.0.0.1:%s/' % sport, '--speed', 'max',
                           '--concurrency', '8', '--timeout', '5s',
                           '--out', os.path.join(TMP, 'slow.jsonl')], 'slow')
    stop(slow)
    fig, lat = figures(res.stdout)
    bound = (nwin // 8 + 2) * 2.0 + 30
    check('replay max to a 2-s diagnoser: exit 0, every window answered, latency >= 2 s, '
          'done in %.0f s (bound %.0f s)' % (took, bound),
          res.returncode == 0 and fig and fig[2] == nwin and lat and lat[0] >= 2000 and
          took < bound, res.stdout[-1500:] + res.stderr[-500:])
    bad, bport = start([ECHO, '--garbage'])
    res, took = replay(d, ['--diagnoser', 'http://127.0.0.1:%s/' % bport, '--speed', 'max',
                           '--out', os.path.join(TMP, 'garbage.jsonl')], 'garbage')
    stop(bad)
    fig, lat = figures(res.stdout)
    recs = [json.loads(line) for line in open(os.path.join(TMP, 'garbage.jsonl'))]
    check('replay to a diagnoser answering garbage: every window an error with the reason',
          res.returncode == 0 and fig and fig[3] == nwin and
          all('not a diagnosis' in r.get('error', '') for r in recs) and len(recs) == nwin,
          res.stdout[-800:] + res.stderr[-300:])
    # Kafka, from the recorded run.
    res, took = replay(d, ['--kafka', brokers, '--topic', 'simrun-replay', '--speed', 'max'],
                       'kafka')
    check('replay to Kafka: exit 0, every message delivered', res.returncode == 0 and
          re.search(r'kafka: (\d+) messages delivered of \1 .*0 failed, 0 dropped, '
                    r'0 undelivered', res.stdout), res.stdout + res.stderr[-500:])
    check_kafka(brokers, 'simrun-replay', d, 'kafka (replay)')
    # Training on the run's own windows, then serving that model.
    wpath = os.path.join(TMP, 'run.windows.jsonl')
    res, took = replay(d, ['--windows', wpath, '--ports', '--flows', '--speed', 'max'], 'windows')
    check('replay --windows writes one window per sweep with its truth',
          res.returncode == 0 and sum(1 for _ in open(wpath)) == nwin,
          res.stdout + res.stderr[-500:])
    model = os.path.join(TMP, 'model.json')
    res = subprocess.run(['/usr/bin/python3', TRAIN, '-o', model, '--trees', '20', wpath],
                         capture_output=True, text=True, timeout=600)
    check('train.py learns from a run\'s windows', res.returncode == 0 and
          os.path.exists(model), res.stdout[-500:] + res.stderr[-800:])
    if res.returncode == 0:
        mine, mport = start(['/usr/bin/python3', SERVE, '--model', model])
        res, took = replay(d, ['--diagnoser', 'http://127.0.0.1:%s/' % mport, '--speed', 'max',
                               '--ports', '--flows', '--out', os.path.join(TMP, 'mine.jsonl')],
                           'mine')
        stop(mine)
        fig, lat = figures(res.stdout)
        check('the trained model serves every window', res.returncode == 0 and fig and
              fig[2] == nwin, res.stdout[-800:] + res.stderr[-300:])


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    with open(MODEL) as fh:
        LABELS.update(json.load(fh)['classes'])
    mock, brokers = start([KAFKA_MOCK, '--topic', TOPIC + ':3', '--topic', TOPIC + '.ports:3',
                           '--topic', 'simrun-replay:3'])
    try:
        d = live(brokers)
        if d:
            replays(d, brokers)
    finally:
        stop(mock)
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
