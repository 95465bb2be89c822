#!/usr/bin/python3
"""The capture engine alone (usage: capture_engine_test.py CAPTURE_DRIVER).

Makes a veth pair, one end in a network namespace of its own with an HTTP
server (Debian's python3 -m http.server), captures both ends with
build/bin/capture_driver (the namespace's end opened inside it, direction
by MAC; the root end with a handle per direction) while curl fetches pages
and ping runs, then checks with Debian's tcpdump and tshark:

  * nothing dropped; the window's pcaps open with tcpdump and tshark with
    the packet counts the report gives;
  * both ends saw the same packets: each end's rx is the other's tx, per
    service, in capture.csv;
  * capture.csv's rows add up to every packet each end saw;
  * every page fetch is a pflows.csv row per end whose packets and bytes
    each way match tshark -z conv,tcp and tshark's frame lengths, with the
    client as the forward side, ended by FIN;
  * ICMP and web are told apart; inter-arrival times are never negative;
  * with a ring of 3 files of 0.01 MiB, 1 MB of pages leaves the 3 newest
    files, none over its size, the manifest listing exactly those, the
    newest holding the last packets.
Exit 77 without root."""
import collections
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from common import check, report

DRIVER = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix='simrun-capeng-it-')
TAG = str(os.getpid() % 10000)
NS, A, B = 'srcapit' + TAG, 'srca' + TAG, 'srcb' + TAG


def sh(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, **kw)


def conv_tcp(path):
    out = sh('tshark', '-r', path, '-q', '-z', 'conv,tcp').stdout
    convs = {}
    for line in out.splitlines():
        m = re.match(r'(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\d+\s+\S+\s+(\d+)\s+', line)
        if m:
            convs[(m.group(1), m.group(2))] = (int(m.group(3)), int(m.group(4)))
    return convs


def frame_bytes(path):
    out = sh('tshark', '-r', path, '-Y', 'tcp', '-T', 'fields', '-e', 'ip.src', '-e',
             'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'frame.len').stdout
    total = collections.defaultdict(int)
    for line in out.splitlines():
        a, ap, b, bp, n = line.split('\t')
        total[('%s:%s' % (a, ap), '%s:%s' % (b, bp))] += int(n)
    return total


def run():
    www = os.path.join(TMP, 'www')
    os.mkdir(www)
    with open(os.path.join(www, 'page'), 'wb') as fh:
        fh.write(os.urandom(200000))
    for argv in (['ip', 'netns', 'add', NS],
                 ['ip', 'link', 'add', A, 'type', 'veth', 'peer', 'name', B, 'netns', NS],
                 ['ip', 'addr', 'add', '10.251.%s.1/30' % (int(TAG) % 250), 'dev', A],
                 ['ip', 'link', 'set', A, 'up'],
                 ['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add',
                  '10.251.%s.2/30' % (int(TAG) % 250), 'dev', B],
                 ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', B, 'up'],
                 ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']):
        res = sh(*argv)
        if res.returncode != 0:
            check('set-up: ' + ' '.join(argv), False, res.stderr)
            return
    server_ip = '10.251.%s.2' % (int(TAG) % 250)
    server = subprocess.Popen(['ip', 'netns', 'exec', NS, '/usr/bin/python3', '-m',
                               'http.server', '80', '--bind', server_ip, '--directory', www],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        mac = sh('ip', 'netns', 'exec', NS, 'cat', '/sys/class/net/%s/address' % B).stdout.strip()
        d = os.path.join(TMP, 'cap')
        os.mkdir(d)
        time.sleep(0.5)
        drv = subprocess.Popen([DRIVER, d, '8', A, '%s@%d=%s' % (B, server.pid, mac)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = drv.stdout.readline()
        check('the driver opens both ends', first.strip() == 'capturing', first)
        fetched = 0
        for _ in range(5):
            res = sh('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',
                     'http://%s/page' % server_ip, timeout=10)
            fetched += res.stdout == '200'
        sh('ping', '-c', '5', '-i', '0.2', server_ip)
        out, err = drv.communicate(timeout=60)
        check('curl fetched five pages', fetched == 5, fetched)
        check('the driver ends well', drv.returncode == 0, err[-500:])
        rep = json.loads(out)
        check('nothing dropped', all(i['dropped'] == 0 and i['if_dropped'] == 0
                                     for i in rep['interfaces']), rep['interfaces'])
        bad = []
        for f in rep['files']:
            path = os.path.join(d, f['file'])
            n_td = len(sh('tcpdump', '-nn', '-r', path).stdout.splitlines())
            n_ts = len(sh('tshark', '-r', path, '-T', 'fields', '-e', 'frame.number')
                       .stdout.splitlines())
            if not (n_td == n_ts == f['packets'] > 0 and f['bytes'] == os.path.getsize(path)):
                bad.append((f['file'], f['packets'], n_td, n_ts, f['bytes'],
                            os.path.getsize(path)))
        check('both pcaps open with tcpdump and tshark, with the report\'s counts and sizes',
              len(rep['files']) == 2 and not bad, bad)
        with open(os.path.join(d, 'capture.csv'), newline='') as fh:
            crow = list(csv.DictReader(fh))
        tot = collections.defaultdict(lambda: collections.Counter())
        for r in crow:
            for k, v in r.items():
                if k.endswith('_packets') or k.endswith('_bytes'):
                    tot[r['interface']][k] += int(v)
        mirror = [k for k in tot[A] if '_rx_' in k and
                  tot[A][k] != tot[B][k.replace('_rx_', '_tx_')]]
        mirror += [k for k in tot[A] if '_tx_' in k and
                   tot[A][k] != tot[B][k.replace('_tx_', '_rx_')]]
        check('each end\'s rx is the other\'s tx, per service', not mirror and
              tot[A]['web_rx_bytes'] > 1000000, (mirror, dict(tot[A])))
        seen = {i['name']: i['packets'] for i in rep['interfaces']}
        check('capture.csv adds up to every packet each end saw',
              all(sum(v for k, v in tot[n].items() if k.endswith('_packets')) == seen[n]
                  for n in (A, B)), (seen, {n: sum(v for k, v in tot[n].items()
                                                   if k.endswith('_packets')) for n in (A, B)}))
        check('ping is ICMP, not web', tot[A]['other_tx_packets'] >= 5 and
              tot[A]['web_tx_packets'] > 0)
        with open(os.path.join(d, 'pflows.csv'), newline='') as fh:
            flows = list(csv.DictReader(fh))
        pages = [r for r in flows if r['service'] == 'web']
        differ = []
        for name in (A, B):
            path = os.path.join(d, 'pcap', 'w-%s.pcap' % name)
            convs, exact = conv_tcp(path), frame_bytes(path)
            mine = [r for r in pages if r['interface'] == name]
            if len(mine) != 5:
                differ.append((name, '%d web flows' % len(mine)))
            for r in mine:
                fwd = '%s:%s' % (r['src_ip'], r['src_port'])
                bwd = '%s:%s' % (r['dst_ip'], r['dst_port'])
                c = convs.get((fwd, bwd))
                ok = (c is not None and r['end'] == 'fin' and r['dst_port'] == '80' and
                      int(r['fwd_packets']) == c[1] and int(r['bwd_packets']) == c[0] and
                      int(r['fwd_bytes']) == exact[(fwd, bwd)] and
                      int(r['bwd_bytes']) == exact[(bwd, fwd)])
                if not ok:
                    differ.append((name, fwd, bwd, r['end'], r['fwd_packets'],
                                   r['bwd_packets'], r['fwd_bytes'], r['bwd_bytes'], c,
                                   exact[(fwd, bwd)], exact[(bwd, fwd)]))
        check('every page fetch is a flow that agrees with tshark -z conv,tcp at both ends',
              not differ, differ[:4])
        neg = [r for r in flows if r['iat_min'] and float(r['iat_min']) < 0]
        check('inter-arrival times are never negative (the two directions merged in order)',
              not neg, [(r['interface'], r['iat_min']) for r in neg[:3]])
        ring(server_ip)
    finally:
        server.terminate()
        server.wait()


def ring(server_ip):
    d = os.path.join(TMP, 'ring')
    os.mkdir(d)
    drv = subprocess.Popen([DRIVER, d, '5', '--ring', '0.03', '3', A], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    drv.stdout.readline()
    for _ in range(5):
        sh('curl', '-s', '-o', '/dev/null', 'http://%s/page' % server_ip, timeout=10)
    out, err = drv.communicate(timeout=60)
    rep = json.loads(out)
    files = sorted(os.listdir(os.path.join(d, 'pcap')))
    listed = sorted(os.path.basename(f['file']) for f in rep['files'])
    sizes = [os.path.getsize(os.path.join(d, 'pcap', f)) for f in files]
    check('a ring of 3 files keeps the 3 newest, none over 0.01 MiB, as the manifest lists',
          len(files) == 3 and files == listed and all(n <= 0.01 * 1048576 for n in sizes) and
          files[-1] > 'ring-%s-0004' % A, (files, listed, sizes))
    last = sh('tshark', '-r', os.path.join(d, 'pcap', files[-1]), '-T', 'fields', '-e',
              'frame.time_epoch').stdout.split()
    total = rep['interfaces'][0]['packets']
    check('the ring holds the last packets, fewer than all',
          last and sum(f['packets'] for f in rep['files']) < total, (len(last), total))


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    try:
        run()
    finally:
        sh('ip', 'link', 'del', A)
        sh('ip', 'netns', 'del', NS)
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
