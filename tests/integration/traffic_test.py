#!/usr/bin/python3
"""simtraffic between network namespaces this test creates (no Mininet):
two hosts on one veth pair, h1 also a video server.  Video arrives at the
target bitrate (within 3 % over 20 s) without loss; chat answers every
message (RTTs in both directions); broadcast announcements are counted;
ffprobe, a real RTSP client, recognises the video stream; cutting the link
(veth down) shows as chat failures and a video stall, which end when it
returns.  Through h1's control socket a traffic fault raises its load:
the extra video streams arrive at full bitrate beside the planned one and
chat runs faster, and both stop when the load is lifted.  A bad plan gets
a clear error.  Exit 77 without root.
Usage: traffic_test.py SIMTRAFFIC"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import check, report

AGENT = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix='simrun-traffic-it-')
NS = ['srt-a', 'srt-b']
IP = ['10.77.0.1', '10.77.0.2']


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def setup():
    for ns in NS:
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
        sh('ip', 'netns', 'add', ns)
    sh('ip', 'link', 'add', 'srt-va', 'netns', NS[0], 'type', 'veth', 'peer', 'name', 'srt-vb',
       'netns', NS[1])
    for ns, dev, ip in ((NS[0], 'srt-va', IP[0]), (NS[1], 'srt-vb', IP[1])):
        sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', ip + '/24', 'brd', '10.77.0.255',
           'dev', dev)
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up')
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')


def teardown():
    for ns in NS:
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)


def plan(i, path):
    roles = {'chat': {'listen': True, 'per_min': 240, 'peers': [IP[1 - i]], 'timeout_s': 1},
             'broadcast': {'every_s': 1, 'address': '10.77.0.255'}}
    roles['video'] = {'serve': True} if i == 1 else {'servers': [IP[1]], 'bitrate_kbps': 1500}
    roles['web'] = {'serve': True} if i == 1 else {'servers': [IP[1]], 'per_min': 60}
    roles['mail'] = {'listen': True, 'per_min': 30, 'to': [IP[1 - i]]}
    roles['p2p'] = {'listen': True, 'per_min': 12, 'size_mb': [0.5, 3], 'peers': [IP[1 - i]]}
    with open(path, 'w') as fh:
        json.dump({'host': 'h%d' % i, 'seed': i, 'roles': roles}, fh)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return '%016x' % h


def kpis(i):
    with open(os.path.join(TMP, 'kpi%d.jsonl' % i)) as fh:
        return [json.loads(line) for line in fh]


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    setup()
    procs = []
    try:
        t0 = time.time()
        for i in (0, 1):
            p = os.path.join(TMP, 'plan%d.json' % i)
            plan(i, p)
            procs.append(subprocess.Popen(
                ['ip', 'netns', 'exec', NS[i], AGENT, '--plan', p, '--kpi',
                 os.path.join(TMP, 'kpi%d.jsonl' % i), '--log', os.path.join(TMP, 'log%d' % i),
                 '--duration', '90', '--control', os.path.join(TMP, 'h%d.ctl' % i)]))
        time.sleep(12)
        if shutil.which('ffprobe'):
            probe = subprocess.run(
                ['ip', 'netns', 'exec', NS[0], 'timeout', '20', 'ffprobe', '-v', 'quiet',
                 '-analyzeduration', '1000000', '-probesize', '100000',
                 '-rtsp_transport', 'udp', '-show_entries', 'stream=codec_name,width,height',
                 '-of', 'compact', 'rtsp://%s:554/stream?kbps=300' % IP[1]],
                capture_output=True, text=True)
            check('ffprobe recognises the RTSP stream',
                  'codec_name=h264|width=320|height=240' in probe.stdout,
                  (probe.returncode, probe.stdout))
        else:
            check('ffprobe is installed (setup.sh installs ffmpeg)', False)
        page = subprocess.run(['ip', 'netns', 'exec', NS[0], 'curl', '-s', '-m', '5',
                               'http://%s/' % IP[1]], capture_output=True, text=True)
        obj = subprocess.run(['ip', 'netns', 'exec', NS[0], 'curl', '-s', '-m', '5', '-o',
                              '/dev/null', '-w', '%{http_code} %{size_download}',
                              'http://%s/obj/3' % IP[1]], capture_output=True, text=True)
        body = os.path.join(TMP, 'mail.txt')
        with open(body, 'w') as fh:
            fh.write('From: <curl@simrun.test>\r\nSubject: by curl\r\n\r\nhello from curl\r\n')
        smtp = subprocess.run(['ip', 'netns', 'exec', NS[0], 'curl', '-s', '-m', '5',
                               'smtp://%s/client' % IP[1], '--mail-from', '<curl@simrun.test>',
                               '--mail-rcpt', '<postmaster@[%s]>' % IP[1], '-T', body],
                              capture_output=True, text=True)
        check('curl delivers a mail', smtp.returncode == 0, smtp.stderr)
        curl_digest = fnv1a(b'From: <curl@simrun.test>\r\nSubject: by curl\r\n\r\n'
                            b'hello from curl\r\n')
        check('curl fetches the page and an object',
              page.stdout.count('<img src=') == 11 and
              obj.stdout == '200 %d' % (2048 + (3 * 7919 % 59) * 1024), (page.stdout[:80], obj.stdout))
        time.sleep(max(0, t0 + 22 - time.time()))
        cut = time.time()
        sh('ip', 'netns', 'exec', NS[0], 'ip', 'link', 'set', 'srt-va', 'down')
        time.sleep(4)
        back = time.time()
        sh('ip', 'netns', 'exec', NS[0], 'ip', 'link', 'set', 'srt-va', 'up')
        time.sleep(7)
        # A traffic fault: load 3 and two more streams: 2 + (3 - 1) x 1
        # extra viewers beside the planned one.
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        raised = time.time()
        ctl.sendto(json.dumps({'load': 3, 'extra_streams': 2, 'servers': [IP[1]],
                               'by': 'test'}).encode(), os.path.join(TMP, 'h0.ctl'))
        time.sleep(6)
        lowered = time.time()
        ctl.sendto(json.dumps({'load': 1, 'extra_streams': 0}).encode(),
                   os.path.join(TMP, 'h0.ctl'))
        time.sleep(3)
        for p in procs:
            p.terminate()   # SIGTERM: the agents stop and flush their KPIs
            p.wait(60)
        for i in (0, 1):
            k = kpis(i)
            chat = [r for r in k if r['service'] == 'chat']
            before = [r for r in chat if r['t'] < cut]
            during = [r for r in chat if cut + 1.5 < r['t'] < back]
            after = [r for r in chat if r['t'] > back + 2.5]
            if i == 0:
                extra = [r for r in k if r['service'] == 'video' and r['metrics'].get('extra')]
                loaded = [r['metrics'] for r in extra if raised + 2.5 < r['t'] < lowered]
                rates = [m['bitrate_kbps'] for m in loaded]
                check('a load of 3 and 2 extra streams: 4 extra viewers at ~1500 kbit/s',
                      len(loaded) >= 8 and len({r['peer'] for r in extra}) == 1 and
                      abs(sum(rates) / len(rates) - 1500) <= 150 and
                      max(len([r for r in extra if abs(r['t'] - t) < 0.5])
                          for t in (raised + 3, raised + 4, raised + 5)) == 4, rates)
                check('the extra streams stop when the load is lifted',
                      extra and not any(r['t'] > lowered + 1.5 for r in extra),
                      [r['t'] - lowered for r in extra][-3:])
                agent = [r['metrics'] for r in k if r['service'] == 'agent']
                check('each control command is recorded',
                      [(m['load'], m['extra_streams']) for m in agent] == [(3, 4), (1, 0)],
                      agent)
                rate_before = len([r for r in chat if back + 2 < r['t'] < raised]) / (
                    raised - back - 2)
                rate_loaded = len([r for r in chat if raised + 0.5 < r['t'] < lowered]) / (
                    lowered - raised - 0.5)
                check('chat runs faster under load 3',
                      rate_loaded >= 2 * rate_before > 0, (rate_before, rate_loaded))
                video = [r for r in k if r['service'] == 'video' and
                         not r['metrics'].get('extra')]
                steady = [r['metrics'] for r in video if t0 + 1.5 < r['t'] < cut - 0.5]
                rate = sum(m['bitrate_kbps'] for m in steady) / max(len(steady), 1)
                check('video bitrate within 3 %% of 1500 kbit/s over %d s' % len(steady),
                      len(steady) >= 19 and abs(rate - 1500) <= 45, rate)
                check('no video loss and little jitter before the cut',
                      all(m['loss'] == 0 and m['jitter_ms'] < 20 and not m['stalled']
                          for m in steady), steady[:3])
                cut_v = [r['metrics'] for r in video if cut + 1.5 < r['t'] < back]
                check('video stalls while the link is down',
                      cut_v and all(m['stalled'] for m in cut_v), cut_v[:3])
                web = [r['metrics'] for r in k if r['service'] == 'web']
                web_ok = [m for m in web if m['ok']]
                objects = sum(2048 + (n * 7919 % 59) * 1024 for n in range(1, 12))
                check('web pages complete with all objects',
                      len(web_ok) >= 5 and all(m['objects'] == 11 and m['bytes'] > objects and
                                               m['status'] == 200 for m in web_ok),
                      web[:3])
                rec_v = [r['metrics'] for r in video if r['t'] > back + 2]
                check('video resumes when the link returns',
                      rec_v and not rec_v[-1]['stalled'] and rec_v[-1]['bitrate_kbps'] > 1000 and
                      rec_v[-1]['stalls'] >= 1, rec_v[-2:])
            # Mail: every mail this host sent before the cut arrived with
            # the same content (digest) at the other host.
            other = kpis(1 - i)
            got = {r['metrics']['digest'] for r in other
                   if r['service'] == 'mail' and r['metrics'].get('role') == 'receiver'}
            mine = [r['metrics'] for r in k if r['service'] == 'mail' and
                    r['metrics'].get('role') == 'sender' and r['t'] < cut]
            if i == 1:
                check('the mail curl sent arrived with its content',
                      curl_digest in {r['metrics']['digest'] for r in k
                                      if r['service'] == 'mail' and
                                      r['metrics'].get('role') == 'receiver'})
            files = [r['metrics'] for r in k if r['service'] == 'p2p' and r['t'] < cut]
            check('h%d p2p files complete with the right byte counts' % i,
                  len(files) >= 2 and all(m['ok'] and m['complete'] and m['bytes'] == m['size']
                                          for m in files), files[:3])
            check('h%d mails delivered with the right content' % i,
                  len(mine) >= 3 and all(m['ok'] and m['digest'] in got for m in mine),
                  (mine[:2], len(got)))
            check('h%d chat answered before the cut' % i,
                  len(before) >= 5 and all(r['metrics']['ok'] for r in before),
                  [r['metrics'] for r in before if not r['metrics']['ok']][:3] or len(before))
            check('h%d chat RTTs are real' % i,
                  all(0 < r['metrics']['rtt_ms'] < 500 for r in before if r['metrics']['ok']))
            check('h%d chat fails while the link is down' % i,
                  during and not any(r['metrics']['ok'] for r in during),
                  [r['metrics'] for r in during][:3])
            check('h%d chat recovers when the link returns' % i,
                  after and all(r['metrics']['ok'] for r in after), [r['metrics'] for r in after][:3])
            bc = [r for r in k if r['service'] == 'broadcast' and r['t'] < cut]
            check('h%d counts the other host\'s broadcasts' % i,
                  any(r['peer'] == IP[1 - i] and r['metrics']['received'] >= 1 for r in bc),
                  bc[:3])
            check('h%d records carry time, host, service, peer, metrics' % i,
                  all(set(r) == {'t', 'host', 'service', 'peer', 'metrics'} and
                      r['host'] == 'h%d' % i and r['t'] > t0 for r in k))
        # A port in use and an unreachable peer: a clear error in the log,
        # and the agent goes on with its other roles.
        holder = subprocess.Popen(['ip', 'netns', 'exec', NS[0], '/usr/bin/python3', '-c',
                                   'import socket,time; s=socket.socket(); '
                                   's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); '
                                   's.bind(("0.0.0.0", 5222)); s.listen(1); time.sleep(30)'])
        time.sleep(0.5)
        p = os.path.join(TMP, 'busy.json')
        with open(p, 'w') as fh:
            json.dump({'host': 'busy', 'seed': 9, 'roles': {
                'chat': {'listen': True, 'per_min': 600, 'peers': ['10.77.0.99'], 'timeout_s': 1},
                'broadcast': {'every_s': 1, 'address': '10.77.0.255'}}}, fh)
        kpi, log = os.path.join(TMP, 'busy.jsonl'), os.path.join(TMP, 'busy.log')
        subprocess.run(['ip', 'netns', 'exec', NS[0], AGENT, '--plan', p, '--kpi', kpi, '--log',
                        log, '--duration', '4'], timeout=30)
        holder.kill()
        holder.wait()
        logged = open(log).read() if os.path.exists(log) else ''
        recs = [json.loads(line) for line in open(kpi)] if os.path.exists(kpi) else []
        check('a port in use is a clear error in the log',
              'chat: cannot listen on chat port 5222: Address already in use' in logged, logged)
        check('the agent keeps its other roles',
              any(r['service'] == 'broadcast' for r in recs), recs[:3])
        check('an unreachable peer shows as chat failures',
              any(r['service'] == 'chat' and not r['metrics']['ok'] for r in recs) and
              not any(r['service'] == 'chat' and r['metrics']['ok'] for r in recs), recs[:3])
        bad = os.path.join(TMP, 'bad.json')
        with open(bad, 'w') as fh:
            fh.write('{"host": "x", "roles": [')
        res = subprocess.run([AGENT, '--plan', bad], capture_output=True, text=True)
        check('a malformed plan is a clear error', res.returncode == 2 and
              'bad.json:1:' in res.stderr, res.stderr)
        res = subprocess.run([AGENT, '--plan', os.path.join(TMP, 'missing.json')],
                             capture_output=True, text=True)
        check('a missing plan is a clear error', res.returncode == 2 and
              'missing.json' in res.stderr, res.stderr)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        teardown()
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
