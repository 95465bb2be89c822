"""Features of a window (the body simrun POSTs; docs/diagnosers.md) that do
not depend on switch names or on how many switches and hosts the network
has: shares, ratios and rates per user host, so that a model trained on
one topology can diagnose another.  Each feature also keeps, where it has
one, the switch or host that made it stand out, for the target."""
import collections
import math

NAMES = [
    # switches missing from the sweeps (switch_down, controller_down)
    'missing_last', 'missing_max', 'empty_sweeps',
    # ports down: toward switches, toward hosts
    'sw_ports_down', 'host_ports_down', 'switches_with_down',
    # traffic per user host, its spread, its trend over the window
    'tx_per_user', 'rx_per_user', 'tx_trend', 'tx_max_share', 'tx_cv',
    'host_port_max_ratio', 'host_port_top_share', 'host_port_trend',
    # drops and errors per user host
    'drops_per_user', 'errors_per_user',
    # flow tables
    'flows_min_ratio', 'flows_drop_frac', 'flows_trend', 'flows_per_host',
    'misses_per_user', 'miss_max_share',
    # what the flows themselves hold
    'drop_rules', 'lldp_drop_rules', 'service_drop_rules', 'inport_flows_frac',
    'idle_frac', 'hard_frac', 'idle_switch_frac', 'hard_switch_frac', 'meter_flows',
    'decttl_flows', 'wrong_output_frac', 'wrong_output_max', 'flows_seen',
    # a user host pulling far more than the others, all the window long
    # (a p2p transfer is a burst; extra video streams last)
    'heavy_persistent_ratio',
    # against this session's own past (History): the traffic level and the
    # table misses relative to their median over the earlier windows
    'tx_vs_session', 'rx_vs_session', 'misses_vs_session', 'tx_now_vs_session',
]


class History(object):
    """What a diagnoser remembers of one session (one run): the level of a
    few features over its earlier windows, so that 'more traffic than
    usual' means usual for this network, whatever its size and mix."""
    KEEP = 120
    # feature -> the feature that holds it relative to the session's median
    PAIRS = (('tx_per_user', 'tx_vs_session'), ('rx_per_user', 'rx_vs_session'),
             ('misses_per_user', 'misses_vs_session'), ('_tx_now', 'tx_now_vs_session'))

    def __init__(self):
        self.past = dict((k, collections.deque(maxlen=self.KEEP)) for k, _ in self.PAIRS)

    def relative(self, f):
        """Sets the *_vs_session features of 'f' and remembers 'f'."""
        for key, name in self.PAIRS:
            past = self.past[key]
            base = _median(list(past)) if len(past) >= 5 else 0.0
            f[name] = _ratio(f[key], base) if base > 0 else 1.0
        for key, _ in self.PAIRS:
            self.past[key].append(f[key])


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _median(xs):
    xs = sorted(xs)
    if not xs:
        return 0.0
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def _cv(xs):
    if len(xs) < 2:
        return 0.0
    m = sum(xs) / len(xs)
    if m <= 0:
        return 0.0
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs)) / m


def _ratio(a, b):
    return a / b if b > 0 else (0.0 if a <= 0 else 10.0)


def extract(window, topo, history=None):
    """(feature vector in NAMES' order, hints) for one window; 'hints'
    names, per kind of anomaly, the switch or host that stood out.  With
    'history' (the session's History), the session-relative features too;
    it then remembers this window."""
    f = dict((n, 0.0) for n in NAMES)
    f['_tx_now'] = 0.0
    hints = {}
    samples = window.get('samples') or []
    sweeps = collections.OrderedDict()
    for r in samples:
        sweeps.setdefault(r.get('sweep'), []).append(r)
    nsw = len(topo.switches) if topo.known else max([len(v) for v in sweeps.values()] or [1])
    nusers = max(len(topo.users), 1) if topo.known else max(nsw, 1)
    nhosts = max(len(topo.hosts), 1) if topo.known else max(nsw, 1)
    ws = window.get('sweeps') or [{'rows': len(v)} for v in sweeps.values()]
    if ws:
        missing = [1.0 - min(_num(s.get('rows')), nsw) / nsw for s in ws]
        f['missing_last'] = missing[-1]
        f['missing_max'] = max(missing)
        f['empty_sweeps'] = sum(1 for s in ws if not s.get('rows')) / len(ws)
    keys = list(sweeps)
    last = sweeps[keys[-1]] if keys else []
    first = sweeps[keys[0]] if keys else []
    if topo.known and last:
        present = set(r['switch'] for r in last)
        gone = [s for s in topo.switches if s not in present]
        if gone:
            hints['missing'] = gone[0]

    # Ports down, from the ports rows when there are some (which side of a
    # link is down tells a link from a server), else the samples' counts.
    ports = window.get('ports')
    if ports:
        last_sweep = max(_num(p.get('sweep')) for p in ports)
        down_sw, down_host = [], []
        for p in ports:
            if _num(p.get('sweep')) != last_sweep or not p.get('link_down') or p.get('port') == 'LOCAL':
                continue
            peer = topo.port_peer.get((p['switch'], int(_num(p.get('port')))))
            if peer and peer[0] == 'host':
                down_host.append((p['switch'], peer[1]))
            else:
                down_sw.append((p['switch'], peer[1] if peer else None))
        f['sw_ports_down'] = len(down_sw) / nsw
        f['host_ports_down'] = len(down_host) / nhosts
        f['switches_with_down'] = len(set(s for s, _ in down_sw + down_host)) / nsw
        if down_host:
            hints['host_down'] = down_host[0][1]
        if down_sw:
            a, b = down_sw[0]
            hints['link_down'] = topo.link_name(a, b) if b else a
    else:
        f['sw_ports_down'] = sum(_num(r.get('ports_down')) for r in last) / nsw
        f['switches_with_down'] = sum(1 for r in last if _num(r.get('ports_down')) > 0) / nsw

    # Traffic.
    def total(rows, col):
        return sum(_num(r.get(col)) for r in rows)
    per_sweep_tx = [total(v, 'tx_bps') for v in sweeps.values()]
    f['tx_per_user'] = (sum(per_sweep_tx) / len(per_sweep_tx) if per_sweep_tx else 0) / nusers / 1e6
    # the level now: over the last three sweeps
    f['_tx_now'] = (sum(per_sweep_tx[-3:]) / len(per_sweep_tx[-3:]) if per_sweep_tx else 0) / \
        nusers / 1e6
    f['rx_per_user'] = (sum(total(v, 'rx_bps') for v in sweeps.values()) /
                        max(len(sweeps), 1)) / nusers / 1e6
    if len(per_sweep_tx) >= 4:
        h = len(per_sweep_tx) // 2
        f['tx_trend'] = _ratio(sum(per_sweep_tx[h:]) / (len(per_sweep_tx) - h),
                               sum(per_sweep_tx[:h]) / h)
    tx_last = [_num(r.get('tx_bps')) for r in last]
    if tx_last and sum(tx_last) > 0:
        f['tx_max_share'] = max(tx_last) / sum(tx_last)
        f['tx_cv'] = _cv(tx_last)
    if ports and topo.known:
        per_host = collections.defaultdict(list)
        for p in ports:
            peer = topo.port_peer.get((p['switch'], int(_num(p.get('port'))))) \
                if p.get('port') != 'LOCAL' else None
            if peer and peer[0] == 'host' and topo.hosts[peer[1]].get('role') == 'user':
                dt = _num(p.get('dt_s')) or _num(window.get('interval_s')) or 1.0
                per_host[peer[1]].append(8.0 * _num(p.get('bytes_transmitted_delta')) / dt)
        means = dict((h, sum(v) / len(v)) for h, v in per_host.items() if v)
        # Each host's steady rate now (the least of its last three sweeps,
        # which a burst does not lift); the steadiest against the next one:
        # about 1 when the viewers pull one stream each, many times more
        # when one pulls several.
        steady = sorted(min(v[-3:]) for v in per_host.values() if v)
        if steady and steady[-1] > 0:
            f['heavy_persistent_ratio'] = min(_ratio(steady[-1], steady[-2]) if len(steady) > 1
                                              else 10.0, 100.0)
        if means:
            top = max(means, key=means.get)
            rest = sorted(means.values())
            f['host_port_max_ratio'] = _ratio(means[top], _median(rest))
            f['host_port_top_share'] = _ratio(means[top], sum(rest))
            series = per_host[top]
            if len(series) >= 4:
                h = len(series) // 2
                f['host_port_trend'] = _ratio(sum(series[h:]) / (len(series) - h),
                                              sum(series[:h]) / h)
            hints['heavy_host'] = top
    f['drops_per_user'] = sum(total(v, 'receive_drops') + total(v, 'transmit_drops')
                              for v in sweeps.values()) / max(len(sweeps), 1) / nusers
    f['errors_per_user'] = sum(total(v, 'receive_errors') + total(v, 'transmit_errors')
                               for v in sweeps.values()) / max(len(sweeps), 1) / nusers

    # Flow tables, from the samples.
    flows_last = dict((r['switch'], _num(r.get('flows'))) for r in last if r.get('flows') is not None)
    flows_first = dict((r['switch'], _num(r.get('flows'))) for r in first if r.get('flows') is not None)
    if flows_last:
        expected = nhosts + 3.0   # a flow per host, the broadcast, LLDP and table-miss rules
        ratios = dict((s, v / expected) for s, v in flows_last.items())
        low = min(ratios, key=ratios.get)
        f['flows_min_ratio'] = ratios[low]
        f['flows_per_host'] = sum(flows_last.values()) / len(flows_last) / expected
        drops = [s for s in flows_last if flows_first.get(s, 0) > 0 and
                 flows_last[s] < 0.5 * flows_first[s]]
        f['flows_drop_frac'] = len(drops) / nsw
        f['flows_trend'] = _ratio(sum(flows_last.values()), sum(flows_first.values()))
        hints['fewest_flows'] = low
    misses = collections.Counter()
    for v in sweeps.values():
        for r in v:
            misses[r['switch']] += max(_num(r.get('packets_looked_up')) -
                                       _num(r.get('packets_matched')), 0)
    tot = sum(misses.values())
    f['misses_per_user'] = tot / max(len(sweeps), 1) / nusers
    if tot > 0:
        top = max(misses, key=misses.get)
        f['miss_max_share'] = misses[top] / tot
        hints['misses'] = top

    # The flows themselves (the last sweep's).
    flows = window.get('flows')
    if flows:
        f['flows_seen'] = 1.0
        n = len(flows)
        per_sw = collections.defaultdict(lambda: collections.Counter())
        host_flows = wrong = 0
        wrong_by = collections.Counter()
        host_by = collections.Counter()
        for fl in flows:
            sw = fl.get('switch')
            match = _match(fl.get('match'))
            actions = fl.get('actions') or ''
            c = per_sw[sw]
            c['n'] += 1
            if actions == '' and match:
                c['drop'] += 1
                if _num(match.get('dl_type')) == 35020:
                    c['lldp_drop'] += 1
                elif 'tp_dst' in match:
                    c['service_drop'] += 1
            if 'in_port' in match:
                c['inport'] += 1
            if _num(fl.get('idle_timeout')) > 0:
                c['idle'] += 1
            if _num(fl.get('hard_timeout')) > 0:
                c['hard'] += 1
            if 'METER' in actions:
                c['meter'] += 1
            if 'DEC_NW_TTL' in actions:
                c['decttl'] += 1
            mac = match.get('dl_dst')
            if topo.known and mac in topo.host_mac and actions.startswith('OUTPUT:') and \
                    'in_port' not in match:
                host = topo.host_mac[mac]['name']
                try:
                    port = int(actions.split(',')[0][7:])
                except ValueError:
                    continue
                good = topo.good_ports(host).get(sw)
                if good is not None:
                    host_flows += 1
                    host_by[sw] += 1
                    if port not in good:
                        wrong += 1
                        wrong_by[sw] += 1
        totals = collections.Counter()
        for c in per_sw.values():
            totals.update(c)
        f['drop_rules'] = totals['drop'] / nsw
        f['lldp_drop_rules'] = totals['lldp_drop'] / nsw
        f['service_drop_rules'] = totals['service_drop'] / nsw
        f['inport_flows_frac'] = totals['inport'] / n
        f['idle_frac'] = totals['idle'] / n
        f['hard_frac'] = totals['hard'] / n
        f['idle_switch_frac'] = sum(1 for c in per_sw.values() if c['idle']) / nsw
        f['hard_switch_frac'] = sum(1 for c in per_sw.values() if c['hard']) / nsw
        f['meter_flows'] = totals['meter'] / n
        f['decttl_flows'] = totals['decttl'] / n
        f['wrong_output_frac'] = _ratio(wrong, host_flows) if host_flows else 0.0
        if wrong_by:
            top = max(wrong_by, key=lambda s: wrong_by[s] / max(host_by[s], 1))
            f['wrong_output_max'] = wrong_by[top] / max(host_by[top], 1)
            hints['wrong_output'] = top
        for kind in ('lldp_drop', 'drop', 'inport', 'idle', 'hard', 'meter', 'decttl'):
            top = max(per_sw, key=lambda s: per_sw[s][kind])
            if per_sw[top][kind]:
                hints[kind] = top
    if history is not None:
        history.relative(f)
    else:
        for _, name in History.PAIRS:
            f[name] = 1.0
    return [f[n] for n in NAMES], hints


def _match(m):
    if isinstance(m, dict):
        return m
    if isinstance(m, str) and m:
        import json
        try:
            v = json.loads(m)
            return v if isinstance(v, dict) else {}
        except ValueError:
            return {}
    return {}


# Which hint names the target of each fault type, and what an 'all' fault
# looks like.
TARGET_HINT = {
    'link_down': 'link_down', 'switch_down': 'missing', 'server_down': 'host_down',
    'flows_deleted': 'fewest_flows', 'flow_output_changed': 'wrong_output',
    'flow_inport_changed': 'inport', 'lldp_drop': 'lldp_drop', 'drop_service': 'drop',
    'blackhole_host': 'drop', 'rate_limit': 'meter', 'forwarding_loop': 'decttl',
    'heavy_streaming_host': 'heavy_host', 'flow_idle_timeout': 'idle',
    'flow_hard_timeout': 'hard',
}


def target_of(label, features, hints):
    """The diagnoser's guess of what the fault touches."""
    fv = dict(zip(NAMES, features))
    if label in ('congestion', 'controller_down'):
        return 'all'
    if label == 'flow_idle_timeout' and fv['idle_switch_frac'] > 0.5:
        return 'all'
    if label == 'flow_hard_timeout' and fv['hard_switch_frac'] > 0.5:
        return 'all'
    return hints.get(TARGET_HINT.get(label, ''), None)
