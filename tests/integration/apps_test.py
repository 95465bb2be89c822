#!/usr/bin/python3
"""Integration test of the embedded controller's applications (usage:
apps_test.py SIMRUN SOURCE_DIR): runs tests/data/runs/apps.toml -- learning
forwarding, every policy application, operator changes and a campaign of
every fault type -- with a protocol trace, and checks:

  * normal rows of flows.csv hold what a real network's tables hold: the
    ACL's drop rules, LLDP dropped on host ports, flows matching in-ports,
    idle and hard time-outs, meters, dec-TTL, each application's rules
    under its own cookie and priority as controller.json says;
  * the flow count moves in normal time (flows are learned and expire);
  * every operator change of the plan is in changes.jsonl, done, and the
    ACL's blocks and lifts show in the switches' flows after it;
  * every flash crowd and departure of the plan starts and ends there, its
    agents told (their KPI records say so); a flash crowd's service runs
    busier on its users than before it, a departed host starts no web or
    mail session while away;
  * every fault type is injected, verified and reverted;
  * labels follow faults.jsonl; the trace and controller.json match their
    schemas (docs/protocols/); the machine is clean afterwards;
  * simrun audit: on a run of the same network with proactive forwarding
    and no policy (tests/data/runs/apps_proactive.toml) it finds the rule
    shapes that give faults away there -- a drop rule, an in-port match, an
    idle time-out, a meter, present only in a fault -- and on the learning
    + policy run none of them.

Exit 77 without root."""
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

from common import check, epoch, events, label_errors, machine_clean, report, rows, windows

SIMRUN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SCENARIO = os.path.join(SRC, 'tests', 'data', 'runs', 'apps.toml')
PROACTIVE = os.path.join(SRC, 'tests', 'data', 'runs', 'apps_proactive.toml')
# Rule shapes that, in a clean normal network, exist only in faults.
CLEAN_SHORTCUTS = ['flows: actions drop', 'flows: matching in_port', 'flows: idle time-out set',
                   'flows: hard time-out set', 'flows: actions METER+OUTPUT',
                   'flows: actions DEC_NW_TTL+OUTPUT']
TMP = tempfile.mkdtemp(prefix='simrun-apps-it-')
RUN = os.path.join(TMP, 'run')
TRACE = os.path.join(TMP, 'trace.jsonl')


def cookie(app):
    return str(int(app['cookie'], 16))


def audit(run):
    out = os.path.join(TMP, os.path.basename(run) + '-audit.json')
    p = subprocess.run([SIMRUN, 'audit', '--json', out, run], capture_output=True, text=True)
    check('simrun audit %s answers' % os.path.basename(run), p.returncode == 0, p.stderr)
    if p.returncode:
        return {}
    found = {}
    for ftype, items in json.load(open(out))['shortcuts'].items():
        for f in items:
            if f['test'] == 'present':
                found.setdefault(f['feature'], set()).add(ftype)
    return found


def main():
    if os.geteuid() != 0:
        print('skipped: needs root')
        return 77
    env = dict(os.environ, SIMRUN_PROTOCOL_TRACE=TRACE)
    p = subprocess.run([SIMRUN, 'run', '-o', RUN, SCENARIO], env=env, capture_output=True,
                       text=True, timeout=900)
    check('the run completes', p.returncode == 0, p.stderr[-2000:])
    if p.returncode != 0:
        return report()
    m = json.load(open(os.path.join(RUN, 'manifest.json')))
    apps = json.load(open(os.path.join(RUN, 'controller.json')))
    kept = m['controller'].get('apps', {})
    check('the manifest keeps the applications as the controller got them',
          {k: v for k, v in apps.items() if k not in ('switches', 'hosts')} == kept,
          (sorted(kept), sorted(apps)))
    check('learning forwarding and all five policy applications',
          apps['forwarding']['kind'] == 'learning' and
          sorted(apps['policy']) == ['acl', 'admission', 'dec_ttl', 'guest_meter', 'lldp_edge'],
          apps['forwarding'])

    flows = rows(RUN, 'flows.csv')
    normal = [r for r in flows if r['label'] == 'normal']
    pol = apps['policy']
    fwd = apps['forwarding']['app']
    access = {sw['name'] for sw in apps['switches'].values()
              if sw['role'] in ('access', 'gateway')}

    def having(pred):
        return [r for r in normal if pred(r, json.loads(r['match']))]

    acl = having(lambda r, mt: r['cookie'] == cookie(pol['acl']) and r['actions'] == '' and
                 r['priority'] == str(pol['acl']['priority']))
    check('normal rows hold the ACL\'s drop rules, on access switches only',
          acl and {r['switch'] for r in acl} <= access and
          {r['switch'] for r in acl} == access, {r['switch'] for r in acl} ^ access)
    quarantine = having(lambda r, mt: r['cookie'] == cookie(pol['acl']) and 'nw_src' in mt)
    check('... among them the quarantined subnet\'s', len(quarantine) > 0)
    lldp = having(lambda r, mt: mt.get('dl_type') == 35020 and 'in_port' in mt and
                  r['actions'] == '' and r['cookie'] == cookie(pol['lldp_edge']))
    hosts = len(apps['hosts'])
    per_sweep = {}
    for r in lldp:
        per_sweep[r['sweep']] = per_sweep.get(r['sweep'], 0) + 1
    check('normal rows hold LLDP drops on every host port',
          per_sweep and max(per_sweep.values()) == hosts, (hosts, set(per_sweep.values())))
    learned = having(lambda r, mt: r['cookie'] == cookie(fwd) and
                     {'in_port', 'dl_src', 'dl_dst'} <= set(mt))
    check('normal rows hold learned flows matching in-ports', len(learned) > 100, len(learned))
    check('... with idle time-outs, some of them with hard ones too',
          {r['idle_timeout'] for r in learned} == {str(apps['forwarding']['idle_timeout'])} and
          any(r['hard_timeout'] == str(apps['forwarding']['hard_timeout']) for r in learned) and
          any(r['hard_timeout'] == '0' for r in learned))
    metered = having(lambda r, mt: r['actions'].startswith('METER:900,OUTPUT:') and
                     r['cookie'] == cookie(pol['guest_meter']))
    check('normal rows hold the guest hosts\' metered flows', len(metered) > 0)
    dec = having(lambda r, mt: r['actions'].startswith('DEC_NW_TTL,OUTPUT:') and
                 r['cookie'] == cookie(pol['dec_ttl']))
    check('normal rows hold dec-TTL flows toward the servers', len(dec) > 0)
    admitted = having(lambda r, mt: r['cookie'] == cookie(pol['admission']) and
                      'in_port' in mt and r['hard_timeout'] ==
                      str(pol['admission']['hard_timeout']))
    check('normal rows hold admission rules with their hard time-out', len(admitted) > 0)

    # The flow count moves in normal time, on most switches.
    samples = rows(RUN, 'samples.csv')
    counts = {}
    for r in samples:
        if r['label'] == 'normal' and r['flows']:
            counts.setdefault(r['switch'], set()).add(r['flows'])
    moving = [sw for sw, c in counts.items() if len(c) >= 3]
    check('the flow count changes in normal time on most switches',
          len(moving) * 2 > len(counts), {sw: len(c) for sw, c in counts.items()})

    # Operator changes: all done, in order, and the ACL's show in the flows.
    changes = [json.loads(line) for line in open(os.path.join(RUN, 'changes.jsonl'))]
    ops = [c for c in changes if c['event'] == 'change']
    check('every planned operator change was carried out',
          [c['change'] for c in ops] == [c['change'] for c in apps['changes']] and
          all(c['ok'] for c in ops) and len(ops) >= 5,
          [(c['change'], c['ok'], c.get('error')) for c in ops])
    acl_seen = []
    for c in ops:
        if c['change'] not in ('acl_block', 'acl_unblock'):
            continue
        # An added block is the operator's own rule, with a cookie of its own.
        want_cookie = str(int(c['cookie'], 16)) if 'cookie' in c else cookie(pol['acl'])
        later = [r for r in flows if float(r['t_s']) > c['t_s'] + 2
                 and r['priority'] == str(pol['acl']['priority'])
                 and json.loads(r['match']).get('tp_dst') == c['tcp_dst']]
        if c['change'] == 'acl_block':
            later = [r for r in later if r['cookie'] == want_cookie]
        nxt = [d for d in ops if d['t_s'] > c['t_s'] and d.get('tcp_dst') == c['tcp_dst']]
        if nxt:
            later = [r for r in later if float(r['t_s']) < nxt[0]['t_s']]
        acl_seen.append(bool(later) == (c['change'] == 'acl_block'))
    check('ACL blocks appear in the switches, lifted ones go', acl_seen and all(acl_seen),
          acl_seen)

    page = os.path.join(TMP, 'report.html')
    p = subprocess.run([SIMRUN, 'report', '-o', page, RUN], capture_output=True, text=True)
    shown = open(page).read().count('</td></tr>') if p.returncode == 0 else 0
    table = open(page).read().split('<table id="changes">')[-1].split('</table>')[0] \
        if p.returncode == 0 else ''
    check('simrun report lists every change of changes.jsonl',
          p.returncode == 0 and table.count('<tr><td') == len(changes), (shown, len(changes)))

    # Churn: flash crowds and departures, labelled normal.
    churn = [c for c in changes if c['event'].startswith('churn_')]
    starts = [c for c in churn if c['event'] == 'churn_start']
    check('churn: every event of the plan started and ended, every agent told',
          len(starts) >= 2 and len(churn) == 2 * len(starts) and
          all(c['ok'] and c['agents'] == len(c['hosts']) for c in churn),
          [(c['event'], c['churn'], c['ok'], c.get('error')) for c in churn])
    kpis = [json.loads(line) for line in open(os.path.join(RUN, 'traffic.jsonl'))]
    told = {(r['host'], r['metrics'].get('by')) for r in kpis if r['service'] == 'agent'}
    check('churn: the agents recorded each command',
          all((h, 'flash crowd' if c['churn'] == 'flash_crowd' else 'departure') in told
              for c in starts for h in c['hosts']), sorted(told)[:10])
    during = before = 0
    for c in starts:
        if c['churn'] != 'flash_crowd' or c['service'] == 'video':
            continue
        t0, dur = epoch(c['time']), c['duration_s']
        hosts = set(c['hosts'])
        mine = [r['t'] for r in kpis if r['host'] in hosts and r['service'] == c['service']]
        during += sum(t0 + 2 <= t < t0 + dur for t in mine)
        before += sum(t0 - dur <= t < t0 for t in mine)
    check('churn: flash crowds make their service busier on their users',
          during > 2 * before, (during, before))
    # The load curve: in every plan, and sessions come faster when it is high.
    curve = m.get('load_curve')
    plans = [json.load(open(p)) for p in glob.glob(os.path.join(RUN, 'traffic', '*.json'))]
    check('the load curve is in the manifest and in every traffic plan',
          curve and plans and all(p.get('curve') and
                                  all(abs(p['curve'][k] - curve[k]) < 1e-6 for k in curve)
                                  for p in plans), curve)
    if curve:
        t0 = epoch(m['started'])
        busy_windows = [(epoch(c['time']), epoch(c['time']) + c['duration_s']) for c in starts
                        if c['churn'] == 'flash_crowd']
        evs_all = events(RUN)
        for e in evs_all:
            if e['type'] in ('congestion', 'heavy_streaming_host') and e['event'] == 'inject':
                end = [x for x in evs_all if x['id'] == e['id'] and x['event'] == 'reverted']
                busy_windows.append((epoch(e['time']), epoch(end[0]['time']) if end else 1e18))

        def level(t):
            return 1 + curve['amplitude'] * math.sin(
                2 * math.pi * (t - t0) / curve['period_s'] + curve['phase'])

        def counted(t):
            return not any(a - 2 <= t < b + 5 for a, b in busy_windows)
        span = {'busy': 0, 'quiet': 0, 'mid': 0}
        n = {'busy': 0, 'quiet': 0}
        for t in range(int(t0), int(epoch(m['ended']))):
            if counted(t):
                lv = level(t)
                span['busy' if lv >= 1.3 else 'quiet' if lv <= 0.7 else 'mid'] += 1
        for r in kpis:
            if r['service'] in ('chat', 'web', 'mail') and r['host'].startswith('u') and \
                    r['metrics'].get('role') != 'receiver' and counted(r['t']):
                lv = level(r['t'])
                if lv >= 1.3:
                    n['busy'] += 1
                elif lv <= 0.7:
                    n['quiet'] += 1
        rate = {k: n[k] / span[k] if span[k] else 0 for k in n}
        check('sessions come faster when the load curve is high (30 s or more of each)',
              span['busy'] >= 30 and span['quiet'] >= 30 and rate['busy'] > 1.5 * rate['quiet'],
              (span, n, rate))

    quiet = []
    for c in starts:
        if c['churn'] == 'departure' and c['duration_s'] > 20:
            t0 = epoch(c['time'])
            # Sessions it starts; what others send it (mail it receives) still comes.
            quiet += [r for r in kpis if r['host'] == c['hosts'][0] and
                      r['service'] in ('web', 'mail') and r['metrics'].get('role') != 'receiver'
                      and t0 + 15 <= r['t'] < t0 + c['duration_s']]
    check('churn: a departed host starts no web or mail session while away', not quiet,
          quiet[:3])

    # Faults: every type injected, verified, reverted.
    evs = events(RUN)
    per = {}
    for e in evs:
        per.setdefault((e['id'], e['type']), []).append(e['event'])
    types = {t for _, t in per}
    check('every fault type ran', len(types) == 16, sorted(types))
    bad = {k: v for k, v in per.items()
           if [e for e in v if e not in ('healed', 'partly_healed')] !=
           ['inject', 'verified', 'revert', 'reverted']}
    check('every fault injected, verified, reverted under the applications', not bad, bad)
    topo = json.load(open(os.path.join(RUN, 'topology.json')))
    host_sw = {h['name']: h['switch'] for h in topo['hosts']}
    errors = label_errors(samples, windows(evs), host_sw)
    check('labels follow faults.jsonl', not errors, errors[:5])
    check('no unplanned event', not events(RUN, unplanned=True), events(RUN, unplanned=True))

    pc = subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'protocols_check.py'),
                         os.path.join(SRC, 'docs', 'protocols'), TRACE, RUN],
                        capture_output=True, text=True)
    check('the trace and controller.json match docs/protocols',
          pc.returncode == 0 and 'controller.operator ' in pc.stdout and
          'controller.apps ' in pc.stdout, pc.stdout[-1500:])
    check('the machine is clean afterwards', machine_clean())

    # The audit: the learning + policy run against a clean proactive one.
    present = audit(RUN)
    check('learning + policy: no rule shape of a clean network gives a fault away',
          not any(f in present for f in CLEAN_SHORTCUTS),
          {f: sorted(present[f]) for f in CLEAN_SHORTCUTS if f in present})
    pro = os.path.join(TMP, 'proactive')
    p = subprocess.run([SIMRUN, 'run', '-o', pro, PROACTIVE], capture_output=True, text=True,
                       timeout=600)
    check('the proactive run completes', p.returncode == 0, p.stderr[-2000:])
    if p.returncode == 0:
        present = audit(pro)
        want = {'lldp_drop': 'flows: actions drop', 'flow_inport_changed': 'flows: matching in_port',
                'flow_idle_timeout': 'flows: idle time-out set',
                'rate_limit': 'flows: actions METER+OUTPUT'}
        check('proactive: the audit finds each fault\'s rule shape',
              all(t in present.get(f, set()) for t, f in want.items()),
              {t: sorted(present.get(f, set())) for t, f in want.items()})
    return report(TMP)


if __name__ == '__main__':
    sys.exit(main())
