#!/usr/bin/python3
"""Packet capture in a run (usage: capture_test.py SIMRUN SOURCE_DIR).

video_drop shortened (50 s; the drop rule on its core switch from 20 s
for 15 s; more web pages) with [capture] on = ["target", "servers"].
Checks, with Debian's tcpdump and tshark as the judges:

  * the run completes and the machine is clean;
  * the kernel dropped no packet (pcap_stats) on any interface;
  * capture.csv has a row per interface per sweep, labelled as
    samples.csv's rows of the same sweep;
  * every pcap the manifest lists opens with 'tcpdump -r' and 'tshark -r'
    with the packet count the manifest gives;
  * RTP to every viewer behind the drop rule is in the target switch's
    episode pcap before the fault, gone from the port it left by while
    the rule sat there, and back after it; and capture.csv shows the
    target switch sending no video while the rule sits there;
  * capture.csv's counts agree with the pcaps over the same time, within
    1 % per interface;
  * pflows.csv's web page fetches agree with 'tshark -z conv,tcp' on the
    same pcap: packets each way exactly, bytes each way exactly (tshark's
    per-stream frame lengths) and within its rounding of the table; a
    fetch is one row (its FIN and ACK sent again stay in it) but for a
    rare FIN that crossed the last ACK, at most 1 % of them.
Exit 77 without root."""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

from common import (check, epoch, events, machine_clean, report, rows, video_drop_variant,
                    windows)

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TMP = tempfile.mkdtemp(prefix='simrun-capture-it-')


def scenario():
    return video_drop_variant(SRC, TMP, 'capture', (
        ('duration = "150s"', 'duration = "50s"'), ('warmup = "20s"', 'warmup = "10s"'),
        ('at = "60s"', 'at = "20s"'), ('duration = "45s"', 'duration = "15s"'),
        ('web = { per_min = 4 }', 'web = { per_min = 12 }'),
        ('[[fault]]', '[capture]\non = ["target", "servers"]\nbefore = "4s"\nafter = "4s"\n'
                      'baseline = "5s"\n\n[[fault]]')))


def tshark(path, *args):
    res = subprocess.run(['tshark', '-r', path] + list(args), capture_output=True, text=True,
                         timeout=120)
    return res.returncode, res.stdout


def packets_of(path, display_filter, fields):
    """[(time, field...)] of the packets matching 'display_filter'."""
    rc, out = tshark(path, '-Y', display_filter, '-T', 'fields', '-e', 'frame.time_epoch',
                     *sum((['-e', f] for f in fields), []))
    if rc != 0:
        return None
    return [tuple(line.split('\t')) for line in out.splitlines() if line]


def conv_tcp(path):
    """tshark -z conv,tcp: {(a, b): (frames b->a, bytes b->a, frames a->b, bytes a->b)} with
    byte figures as the (lo, hi) range tshark's rounding allows."""
    rc, out = tshark(path, '-q', '-z', 'conv,tcp')
    unit = {'bytes': 1, 'kB': 1000, 'MB': 1000000}
    convs = {}
    for line in out.splitlines():
        m = re.match(r'(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB)\s+(\d+)\s+(\d+)\s+'
                     r'(bytes|kB|MB)', line)
        if m:
            def rng(v, u):
                return (int(v), int(v)) if u == 'bytes' else \
                    ((int(v) - 1) * unit[u], (int(v) + 1) * unit[u])
            convs[(m.group(1), m.group(2))] = (int(m.group(3)), rng(m.group(4), m.group(5)),
                                               int(m.group(6)), rng(m.group(7), m.group(8)))
    return convs


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    d = os.path.join(TMP, 'run')
    res = subprocess.run([SIMRUN, scenario(), '--out', d, '--quiet'], capture_output=True,
                         text=True, timeout=600)
    check('the run completes', res.returncode == 0 and 'video_drop: complete' in res.stdout,
          (res.returncode, res.stdout[-400:], res.stderr[-1500:]))
    check('the machine is clean afterwards', machine_clean())
    if res.returncode != 0:
        return report()
    m = json.load(open(os.path.join(d, 'manifest.json')))
    topo = json.load(open(os.path.join(d, 'topology.json')))
    cap = m.get('capture', {})
    evs = events(d)
    w = windows(evs)
    target = w[1][1]
    ifaces = cap.get('interfaces', [])
    names = {i['name'] for i in ifaces}
    servers = {h['name'] + '-eth0' for h in topo['hosts'] if h['role'] == 'server'}
    ports = {'%s-eth%d' % (target, p) for p in range(1, 1 + [s for s in topo['switches']
                                                             if s['name'] == target][0]['ports'])}
    check('the interfaces are the target switch\'s ports and the servers\'',
          names == servers | ports, (sorted(names), sorted(servers | ports)))
    check('every interface saw packets, and the kernel dropped none',
          ifaces and all(i['packets'] > 0 and i['dropped'] == 0 and i['if_dropped'] == 0
                         for i in ifaces), ifaces)

    # capture.csv: a row per interface per sweep, labelled as samples.csv.
    crow, samples = rows(d, 'capture.csv'), rows(d, 'samples.csv')
    per = collections.Counter(r['sweep'] for r in crow)
    check('capture.csv has a row per interface per sweep (and the manifest says how many)',
          set(per.values()) == {len(ifaces)} and cap.get('rows') == len(crow) and
          len(per) >= m['sweeps']['done'], (set(per.values()), len(per), cap.get('rows')))
    label_of = {(r['sweep'], r['switch']): (r['label'], r['episode']) for r in samples}
    bad = [(r['sweep'], r['interface'], r['label'], label_of.get((r['sweep'], r['switch'])))
           for r in crow if (r['sweep'], r['switch']) in label_of and
           (r['label'], r['episode']) != label_of[(r['sweep'], r['switch'])]]
    check('capture.csv rows carry the labels of samples.csv\'s rows of the same sweep',
          not bad and 'drop_service' in {r['label'] for r in crow}, bad[:5])

    # Every pcap opens in tcpdump and tshark with the manifest's count.
    files = cap.get('files', [])
    tags = {f['window'] for f in files}
    check('pcaps for the episode and the baselines', {'f1', 'n0'} <= tags, sorted(tags))
    wrong = []
    for f in files:
        path = os.path.join(d, f['file'])
        td = subprocess.run(['tcpdump', '-nn', '-r', path], capture_output=True, text=True)
        rc, out = tshark(path, '-T', 'fields', '-e', 'frame.number')
        if td.returncode != 0 or len(td.stdout.splitlines()) != f['packets'] or rc != 0 or \
                len(out.splitlines()) != f['packets'] or not f['complete']:
            wrong.append((f['file'], f['packets'], len(td.stdout.splitlines()),
                          len(out.splitlines()), td.stderr[-200:]))
    check('every pcap opens with tcpdump -r and tshark, with the manifest\'s packet count',
          files and not wrong, wrong[:5])

    # RTP to the viewers behind the drop rule, in the target switch's pcaps.
    inject = epoch([e['time'] for e in evs if e['event'] == 'inject'][0])
    verified = epoch([e['time'] for e in evs if e['event'] == 'verified'][0])
    revert = epoch([e['time'] for e in evs if e['event'] == 'revert'][0])
    reverted = epoch([e['time'] for e in evs if e['event'] == 'reverted'][0])
    ip_of = {h['name']: h['ip'] for h in topo['hosts']}
    traffic = [json.loads(line) for line in open(os.path.join(d, 'traffic.jsonl'))]
    rate = collections.defaultdict(list)
    for r in traffic:
        if r['service'] == 'video' and r['metrics'].get('ok') and not r['metrics'].get('extra'):
            rate[r['host']].append((r['t'], r['metrics']['bitrate_kbps']))
    behind = sorted(h for h, recs in rate.items()
                    if [k for t, k in recs if verified + 2 < t < revert] and
                    max(k for t, k in recs if verified + 2 < t < revert) < 100 and
                    [k for t, k in recs if t < inject and k > 1000])
    check('some viewers are behind the drop rule (their video falls during it)', behind)
    rtp = {}
    for p in sorted(ports):
        got = packets_of(os.path.join(d, 'pcap', 'f1-%s.pcap' % p), 'udp.dstport == 5004',
                         ['ip.dst'])
        rtp[p] = got or []
    unseen = []
    for v in behind:
        ok = False
        for p, pk in rtp.items():
            ts = [float(t) for t, dst in pk if dst == ip_of[v]]
            before = [t for t in ts if t < inject]
            during = [t for t in ts if verified + 0.5 < t < revert]
            after = [t for t in ts if t > reverted + 0.5]
            # The port the stream left by: present before and after, absent during.
            if before and after and not during:
                ok = True
        if not ok:
            unseen.append(v)
    check('RTP to each viewer behind the rule stops on its way out of %s during the drop and '
          'resumes after' % target, behind and not unseen, unseen)
    t_verified = verified - epoch(m['started'])
    t_revert = revert - epoch(m['started'])
    sent = [int(r['video_tx_packets']) for r in crow
            if r['switch'] == target and r['host'] == '' and
            t_verified + 1.5 < float(r['t_s']) < t_revert]
    before_rows = [int(r['video_tx_packets']) for r in crow
                   if r['switch'] == target and r['host'] == '' and
                   float(r['t_s']) < inject - epoch(m['started'])]
    check('capture.csv: %s sends no video while the rule sits there, and did before' % target,
          sent and sum(sent) == 0 and sum(before_rows) > 0, (sent, sum(before_rows)))

    # capture.csv against the pcaps, per interface, over whole rows inside the episode window.
    off = []
    for name in sorted(names):
        path = os.path.join(d, 'pcap', 'f1-%s.pcap' % name)
        rc, out = tshark(path, '-T', 'fields', '-e', 'frame.time_epoch')
        ts = sorted(float(x) for x in out.split())
        if not ts:
            off.append((name, 'no packets'))
            continue
        mine = sorted((epoch(r['time']), r) for r in crow if r['interface'] == name)
        total, lo, hi = 0, None, None
        for (b0, _), (b1, r) in zip(mine, mine[1:]):
            if b0 >= ts[0] and b1 <= ts[-1]:
                total += sum(int(r[k]) for k in r if k.endswith('_packets'))
                lo = b0 if lo is None else lo
                hi = b1
        if lo is None:
            off.append((name, 'no whole row in the window'))
            continue
        counted = sum(1 for t in ts if lo <= t < hi)
        if abs(total - counted) > 0.01 * counted + 1:
            off.append((name, total, counted))
    check('capture.csv counts agree with the pcaps within 1 %', not off, off)

    # pflows.csv against tshark -z conv,tcp, web fetches on the servers.
    every = rows(d, 'pflows.csv')
    flows = [r for r in every if r['service'] == 'web' and r['end'] == 'fin']
    # A connection's packets after its fin row (a FIN sent again that
    # crossed the last ACK) make a row of their own on the same 4-tuple:
    # tshark's conversation holds them too, so they are added; how often
    # that happens is checked on its own.
    tails = collections.defaultdict(list)
    for r in every:
        if r['end'] in ('fin', 'rst', 'idle', 'close') and r['protocol'] == '6':
            tails[(r['interface'], frozenset(('%s:%s' % (r['src_ip'], r['src_port']),
                                              '%s:%s' % (r['dst_ip'], r['dst_port']))))].append(r)
    compared, differ, tailed = 0, [], []
    for name in sorted(servers):
        path = os.path.join(d, 'pcap', 'f1-%s.pcap' % name)
        rc, out = tshark(path, '-T', 'fields', '-e', 'frame.time_epoch')
        ts = [float(x) for x in out.split()]
        if not ts:
            continue
        convs = conv_tcp(path)
        exact = collections.defaultdict(int)
        rc, out = tshark(path, '-Y', 'tcp', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.srcport',
                         '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'frame.len')
        for line in out.splitlines():
            a, ap, b, bp, n = line.split('\t')
            exact[('%s:%s' % (a, ap), '%s:%s' % (b, bp))] += int(n)
        for r in flows:
            start = epoch(m['started']) + float(r['start_s'])
            if r['interface'] != name or start < min(ts) or start + float(r['duration_s']) > \
                    max(ts):
                continue
            fwd = '%s:%s' % (r['src_ip'], r['src_port'])
            bwd = '%s:%s' % (r['dst_ip'], r['dst_port'])
            c = convs.get((fwd, bwd))
            flip = False
            if c is None and (bwd, fwd) in convs:
                c, flip = convs[(bwd, fwd)], True
            if c is None:
                differ.append((name, fwd, bwd, 'not in tshark'))
                continue
            # c: frames b->a, bytes b->a, frames a->b, bytes a->b (a on the left).
            f_fwd, b_fwd, f_bwd, b_bwd = (c[0], c[1], c[2], c[3]) if flip else \
                (c[2], c[3], c[0], c[1])
            mine = [int(r['fwd_packets']), int(r['fwd_bytes']), int(r['bwd_packets']),
                    int(r['bwd_bytes'])]
            fin_end = float(r['start_s']) + float(r['duration_s'])
            for o in tails[(name, frozenset((fwd, bwd)))]:
                if o is r or float(o['start_s']) < fin_end:
                    continue
                tailed.append((name, fwd, bwd))
                same = '%s:%s' % (o['src_ip'], o['src_port']) == fwd
                mine[0 if same else 2] += int(o['fwd_packets'])
                mine[1 if same else 3] += int(o['fwd_bytes'])
                mine[2 if same else 0] += int(o['bwd_packets'])
                mine[3 if same else 1] += int(o['bwd_bytes'])
            ok = (mine[0] == f_fwd and mine[2] == f_bwd and
                  b_fwd[0] <= mine[1] <= b_fwd[1] and b_bwd[0] <= mine[3] <= b_bwd[1] and
                  mine[1] == exact[(fwd, bwd)] and mine[3] == exact[(bwd, fwd)])
            compared += 1
            if not ok:
                differ.append((name, fwd, bwd, mine, c, exact[(fwd, bwd)], exact[(bwd, fwd)]))
    check('pflows.csv web fetches agree with tshark -z conv,tcp (packets and bytes each way)',
          compared >= 3 and not differ, (compared, differ[:3]))
    check('a fetch ends in one pflows.csv row but for a rare FIN that crossed the last ACK '
          '(at most 1 %% of %d)' % compared, len(tailed) <= 0.01 * compared, tailed[:5])
    page(d, names, files)
    by_hand()
    return report(TMP)


def page(d, names, files):
    """simrun report's packet capture section."""
    res = subprocess.run([SIMRUN, 'report', d], capture_output=True, text=True, timeout=120)
    html = open(os.path.join(d, 'report.html')).read() if res.returncode == 0 else ''
    sect = html[html.find('id="capture"'):]
    sect = sect[:sect.find('</table>\n', sect.find('capture-files'))]
    links = re.findall(r'<a href="(pcap/[^"]+)">', sect)
    rows = re.findall(r'<tr><td>([^<]+)</td><td>[^<]*</td><td>[^<]*</td><td class="n">', sect)
    check('simrun report lists every captured interface and links every pcap file',
          res.returncode == 0 and set(rows) == names and
          sorted(links) == sorted(f['file'] for f in files) and
          all(os.path.exists(os.path.join(d, f)) for f in links),
          (res.returncode, res.stderr[-300:], sorted(rows), len(links), len(files)))


def by_hand():
    """'capture start' and 'capture stop' typed at simrun up."""
    d = os.path.join(TMP, 'up')
    script = ('sleep 1; n=0; while ! grep -q "^ready" %s/out 2>/dev/null && '
              '[ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done; '
              'echo "capture start u1h1 zz"; echo "capture start u1h1 c1-eth1"; sleep 1; '
              'echo "capture start hosts"; echo "run u1h1 ping -c3 -i 0.2 10.0.1.1"; sleep 2; '
              'echo "capture stop"; echo "capture stop"; echo quit') % TMP
    feeder = subprocess.Popen(['sh', '-c', script], stdout=subprocess.PIPE)
    with open(os.path.join(TMP, 'out'), 'w') as out:
        res = subprocess.run([SIMRUN, 'up', '--out', d, os.path.join(TMP, 'capture.toml')],
                             stdin=feeder.stdout, stdout=out, stderr=subprocess.PIPE,
                             text=True, timeout=300)
    feeder.kill()
    feeder.wait()
    text = open(os.path.join(TMP, 'out')).read()
    check('simrun up: a capture started and stopped by hand', res.returncode == 0 and
          "error: 'zz' selects nothing" in text and 'capturing into' in text and
          'error: a capture is running' in text and 'error: no capture is running' in text,
          (res.returncode, text[-800:], res.stderr[-500:]))
    listed = re.findall(r'(\S+\.pcap): (\d+) packets', text)
    pings = 0
    for path, n in listed:
        td = subprocess.run(['tcpdump', '-nn', '-r', path], capture_output=True, text=True)
        if len(td.stdout.splitlines()) != int(n):
            pings = -1000
        if path.endswith('lab1-u1h1-eth0.pcap'):
            pings += td.stdout.count('ICMP echo request')
    check('the pcaps it lists hold what it says, u1h1\'s three pings among them',
          len(listed) == 2 and pings == 3, (listed, pings))
    check('the machine is clean after simrun up', machine_clean())


if __name__ == '__main__':
    sys.exit(main())
