# simrun embedded controller: an os-ken application, run by simrun as
#
#   /usr/bin/python3 /usr/bin/osken-manager --ofp-listen-host 127.0.0.1 \
#       --ofp-tcp-listen-port P --observe-links --noinstall-lldp-flow \
#       simrun_controller.py            (REST port from SIMRUN_REST_PORT)
#
# What it does:
#  * links: os-ken's Switches app discovers them with LLDP.  Its own LLDP
#    rule (priority 0xFFFF) is turned off and ours sits at PRIO_LLDP, so a
#    fault rule can still outrank it (lldp_drop).
#  * hosts: learned from packet-ins on edge ports (ports that are not ends
#    of a discovered link).  ARP is answered by the controller for hosts it
#    knows; for an unknown address it sends an ARP probe (sender 0.0.0.0,
#    RFC 5227) out of every edge port, and the target's answer, addressed to
#    the controller's own MAC, comes back as a packet-in that teaches it.
#  * forwarding: for every known host, a flow on every switch matching the
#    host's MAC and sending it one hop along a shortest path (BFS, ties to
#    the lowest DPID), plus a spanning tree for IPv4 broadcast.  Paths are
#    recomputed when switches or links come and go.  A packet-in for a
#    known destination means the switch lacks its flow: it is reinstalled,
#    as a reactive controller would (so some faults heal themselves).
#  * a table-miss entry sends everything else to the controller.
#  * applications (controller.json beside this file, written by simrun from
#    the scenario's seed; docs/protocols/controller-apps.md): forwarding is
#    'proactive' (the per-host flows above) or 'learning' (reactive, as
#    Ryu's simple_switch_13 and ONOS's fwd: a packet-in installs a flow on
#    in-port + source + destination MAC with idle and some hard time-outs);
#    policy applications a campus runs beside it (ACL drops, LLDP dropped
#    on host ports, meters on guest hosts, dec-TTL at the datacenters'
#    gateways, temporary admission rules), each with its own cookie and
#    priority; an operator's changes arrive on POST /simrun/v1/operator.
#  * REST: the Ryu ofctl_rest API (same paths, same JSON shapes, built with
#    os-ken's own ofctl_v1_3) plus /v1.0/topology/{switches,links,hosts},
#    on 127.0.0.1 only, like Ryu without authentication.
#  * GET /simrun/v1/sweep?want=port,table,flow[&dpid=1,2]: one answer with what the
#    collector needs from every switch, in Ryu's shapes, keyed by DPID.  The
#    switches are asked in parallel, port state comes from the port-status
#    messages the controller already tracks, and only tables in use are
#    listed (Open vSwitch reports 255): one request per sweep instead of
#    three per switch, which is what keeps a sweep of 50 switches fast.
#  * POST /simrun/v1/flowentries with [{"cmd": "add", "flow": {...}}, ...]:
#    many /stats/flowentry/<cmd> bodies in one request (a fault on every
#    switch changes hundreds of flows); answers {"done": N, "failed":
#    [{"index": i, "error": "..."}]}.

import json
import logging
import os
import random
import socket
import struct

import routes
import webob

from os_ken.base import app_manager
from os_ken.controller import dpset, ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib import addrconv, hub, ofctl_utils, ofctl_v1_3
from os_ken.lib.packet import arp, ethernet, ether_types, ipv4, packet
from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser
from os_ken.topology import api as topo_api
from os_ken.topology import event as topo_event
from os_ken.topology import switches as topo_switches

# os-ken's LLDP loop sleeps LLDP_SEND_GUARD between ports: at its 50 ms a
# round over 220 ports outlasts the 10 s link timeout and links flap.  With
# 2 ms a round over 2 000 ports takes 4 s; each port is re-announced every
# 2 s instead of 0.9 s, halving the LLDP packet-ins.
topo_switches.Switches.LLDP_SEND_GUARD = 0.002
topo_switches.Switches.LLDP_SEND_PERIOD_PER_PORT = 2.0
LLDP_NUDGE_S = 1.0
FLOWENTRIES_YIELD = 16

PRIO_MISS = 0
PRIO_HOST = 10
PRIO_BROADCAST = 20
PRIO_LLDP = 60000
COOKIE_SIMRUN = 0x5300000000000000   # our flows, so they can be told apart
CTRL_MAC = '02:00:00:00:00:fe'        # never a host; answers come to us
BROADCAST = 'ff:ff:ff:ff:ff:ff'

LOG = logging.getLogger('simrun.controller')
APPS_FILE = 'controller.json'
# What the operator changed, kept across a restart of the controller as a
# real controller keeps its configuration in its datastore.
STATE_FILE = 'controller-state.json'
GUEST_METER_ID = 900                  # the rate_limit fault's are episode ids


def load_apps(path):
    """The applications simrun drew for this run (apps.h sim_apps_json),
    or proactive forwarding alone when there is no file (osken-manager run
    by hand)."""
    try:
        with open(path) as f:
            apps = json.load(f)
    except FileNotFoundError:
        apps = {}
    if not isinstance(apps, dict):
        raise ValueError('%s: not a JSON object' % path)
    fwd = apps.get('forwarding') or {}
    app = fwd.get('app') or {}
    out = {'learning': fwd.get('kind') == 'learning',
           'match': str(fwd.get('match', 'in_port,eth_src,eth_dst')).split(','),
           'idle': int(fwd.get('idle_timeout', 0)), 'hard': int(fwd.get('hard_timeout', 0)),
           'hard_share': float(fwd.get('hard_share', 0.0)),
           'cookie': int(app.get('cookie', hex(COOKIE_SIMRUN)), 16),
           'priority': int(app.get('priority', PRIO_HOST)),
           'policy': {}, 'seed': int(apps.get('seed', 0)),
           'switches': {}, 'hosts': {}}
    for name, pol in (apps.get('policy') or {}).items():
        pol = dict(pol)
        pol['cookie'] = int(pol['cookie'], 16)
        pol['priority'] = int(pol['priority'])
        out['policy'][name] = pol
    for dpid, sw in (apps.get('switches') or {}).items():
        out['switches'][int(dpid)] = sw
    for mac, h in (apps.get('hosts') or {}).items():
        out['hosts'][mac.lower()] = h
    return out


class Host(object):
    def __init__(self, mac, ip, dpid, port):
        self.mac, self.ip, self.dpid, self.port = mac, ip, dpid, port


def fast_address_text():
    """os-ken turns every MAC and IPv4 address it parses (flow matches,
    LLDP, ARP) into text through netaddr, 2.5 us a MAC on these machines;
    these give the same text about ten times faster (tests/controller_test.py
    checks they agree on random addresses).  Installed once, at import."""
    mac_slow, ipv4_slow = addrconv.mac.bin_to_text, addrconv.ipv4.bin_to_text

    def mac_text(b):
        if len(b) == 6:
            return '%02x:%02x:%02x:%02x:%02x:%02x' % tuple(b)
        return mac_slow(b)

    def ipv4_text(b):
        if len(b) == 4:
            return socket.inet_ntoa(b)
        return ipv4_slow(b)

    addrconv.mac.bin_to_text = mac_text
    addrconv.ipv4.bin_to_text = ipv4_text
    return mac_slow, ipv4_slow


NETADDR_TEXT = fast_address_text()


class SimrunController(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]
    _CONTEXTS = {'dpset': dpset.DPSet}

    def __init__(self, *args, **kwargs):
        super(SimrunController, self).__init__(*args, **kwargs)
        self.dpset = kwargs['dpset']
        self.waiters = {}
        self.hosts = {}          # mac -> Host
        self.by_ip = {}          # ip -> mac
        self.links = {}          # (src dpid, src port) -> (dst dpid, dst port)
        self.link_ports = {}     # (dpid, port) -> number of links it ends
        self.sync_timer = None
        self.installed = {}      # dpid -> {mac: port}
        self.bcast = {}          # dpid -> tuple of ports
        self.pending = {}        # ip -> [(dpid, port, requester mac, ip)]
        self.rest_port = int(os.environ.get('SIMRUN_REST_PORT', '8080'))
        self.rest_host = os.environ.get('SIMRUN_REST_HOST', '127.0.0.1')
        here = os.path.dirname(os.path.abspath(__file__))
        self.apps = load_apps(os.path.join(here, APPS_FILE))
        self.state_path = os.path.join(here, STATE_FILE)
        self.learning = self.apps['learning']
        self.fwd_cookie, self.fwd_prio = self.apps['cookie'], self.apps['priority']
        self.policy = self.apps['policy']
        self.rng = random.Random(self.apps['seed'])
        self.drained = set()     # (dpid, port) ends of links paths avoid
        self.blocked = set(self.policy.get('acl', {}).get('blocked_tcp', []))
        self.guest_kbps = self.policy.get('guest_meter', {}).get('rate_kbps', 0)
        self.block_cookie = {}   # tcp port -> the operator's own rule's cookie
        self._load_state()
        self.edge_done = set()   # (dpid, port) whose host has its policy rules
        LOG.info('forwarding %s, policy %s', 'learning' if self.learning else 'proactive',
                 ', '.join(sorted(self.policy)) or 'none')
        hub.spawn(self._serve_rest)
        if 'admission' in self.policy:
            hub.spawn(self._admit_loop)
        hub.spawn(self._keep_lldp_going)
        if os.environ.get('SIMRUN_CONTROLLER_PROFILE'):
            hub.spawn(self._profile, os.environ['SIMRUN_CONTROLLER_PROFILE'])

    @staticmethod
    def _profile(path):
        """For bench/: the controller's own profile (cProfile: every green
        thread shares this OS thread), written to 'path' every 10 s."""
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
        while True:
            hub.sleep(10)
            prof.dump_stats(path)   # stops the profiler
            prof.enable()

    def _keep_lldp_going(self):
        """os-ken's lldp_loop (Switches) computes how long to sleep from the
        first port whose LLDP is not yet due; when one pass finds every port
        due, which happens when it wakes late (the hub was busy for longer
        than a round of sends takes, or the controller was paused), it
        sleeps until its event is set, and nothing sets it in a steady
        network.  LLDP then stops, every link times out ten seconds later
        and the flows between switches go with them.  Setting the event
        every second makes it look again; a pass with nothing due costs a
        walk over the ports."""
        while True:
            hub.sleep(LLDP_NUDGE_S)
            switches = app_manager.lookup_service_brick('switches')
            if switches is not None:
                switches.lldp_event.set()

    # ---- OpenFlow helpers ----

    def _flow(self, dp, priority, match, actions, cmd=None, cookie=0, idle=0, hard=0,
              meter=None):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        if meter is not None:
            inst.insert(0, parser.OFPInstructionMeter(meter))
        dp.send_msg(parser.OFPFlowMod(
            datapath=dp, cookie=cookie, priority=priority, match=match,
            instructions=inst, idle_timeout=idle, hard_timeout=hard,
            command=ofp.OFPFC_ADD if cmd is None else cmd))

    def _flush_cookie(self, cookie, dpids=None):
        """Deletes every flow of one application (its cookie)."""
        for dpid, dp in list(self.dpset.dps.items()):
            if dpids is not None and dpid not in dpids:
                continue
            ofp, parser = dp.ofproto, dp.ofproto_parser
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, command=ofp.OFPFC_DELETE, table_id=0, cookie=cookie,
                cookie_mask=0xffffffffffffffff, out_port=ofp.OFPP_ANY,
                out_group=ofp.OFPG_ANY, match=parser.OFPMatch()))

    # ---- policy applications ----

    def _switch_role(self, dpid):
        return self.apps['switches'].get(dpid, {})

    def _is_access(self, dpid):
        return self._switch_role(dpid).get('role') in ('access', 'gateway')

    def _acl_port(self, dp, port, cmd=None, cookie=None):
        """A drop rule for one blocked TCP port (acl), with the ACL's
        cookie or an operator's own; or, with 'cmd', its deletion whatever
        its cookie."""
        acl, parser = self.policy['acl'], dp.ofproto_parser
        match = parser.OFPMatch(eth_type=ether_types.ETH_TYPE_IP, ip_proto=6, tcp_dst=port)
        if cmd is None:
            self._flow(dp, acl['priority'], match, [],
                       cookie=acl['cookie'] if cookie is None else cookie)
        else:
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, priority=acl['priority'], match=match, command=cmd,
                out_port=dp.ofproto.OFPP_ANY, out_group=dp.ofproto.OFPG_ANY))

    def _guest_meter(self, dp, cmd):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPMeterMod(
            datapath=dp, command=cmd, flags=ofp.OFPMF_KBPS, meter_id=GUEST_METER_ID,
            bands=[parser.OFPMeterBandDrop(rate=int(self.guest_kbps), burst_size=0)]))

    def _switch_policy(self, dp):
        """The rules a policy application puts on a switch as it connects."""
        role, parser = self._switch_role(dp.id), dp.ofproto_parser
        acl = self.policy.get('acl')
        if acl and self._is_access(dp.id):
            for port in sorted(self.blocked):
                self._acl_port(dp, port, cookie=self.block_cookie.get(port))
            for field in ('eth_src', 'eth_dst'):
                self._flow(dp, acl['priority'], parser.OFPMatch(**{field: acl['banned_mac']}),
                           [], cookie=acl['cookie'])
            net = acl['quarantine'].split('/')[0]
            self._flow(dp, acl['priority'],
                       parser.OFPMatch(eth_type=ether_types.ETH_TYPE_IP,
                                       ipv4_src=(net, '255.255.255.0')),
                       [], cookie=acl['cookie'])
            if acl.get('p2p_blocked_net') and role.get('net') == acl['p2p_blocked_net']:
                self._flow(dp, acl['priority'],
                           parser.OFPMatch(eth_type=ether_types.ETH_TYPE_IP, ip_proto=6,
                                           tcp_dst=int(acl['p2p_port'])),
                           [], cookie=acl['cookie'])
        guest = self.policy.get('guest_meter')
        if guest and guest.get('guest_net') and self._is_access(dp.id) and \
                role.get('net') == guest['guest_net']:
            self._guest_meter(dp, dp.ofproto.OFPMC_ADD)

    def _host_policy(self, h):
        """The rules a policy application puts beside a host it learned:
        LLDP dropped on its port, its guest meter, dec-TTL toward a
        server."""
        dp = self.dpset.get(h.dpid)
        if dp is None or (h.dpid, h.port) in self.edge_done or not self.policy:
            return
        self.edge_done.add((h.dpid, h.port))
        parser = dp.ofproto_parser
        info = self.apps['hosts'].get(h.mac, {})
        lldp = self.policy.get('lldp_edge')
        if lldp:
            self._flow(dp, lldp['priority'],
                       parser.OFPMatch(in_port=h.port, eth_type=ether_types.ETH_TYPE_LLDP),
                       [], cookie=lldp['cookie'])
        guest = self.policy.get('guest_meter')
        if guest and info.get('role') == 'user' and info.get('net') == guest.get('guest_net'):
            self._flow(dp, guest['priority'], parser.OFPMatch(eth_dst=h.mac),
                       [parser.OFPActionOutput(h.port)], cookie=guest['cookie'],
                       meter=GUEST_METER_ID)
        dec = self.policy.get('dec_ttl')
        if dec and info.get('role') == 'server':
            # One rule, or one per ingress port as a router's per-interface
            # routes.
            ins = [None]
            if dec.get('per_in_port'):
                ins = [p.port_no for p in self.dpset.get_ports(h.dpid)
                       if p.port_no < ofproto_v1_3.OFPP_MAX and p.port_no != h.port]
            for in_port in ins:
                match = dict(eth_type=ether_types.ETH_TYPE_IP, eth_dst=h.mac)
                if in_port is not None:
                    match['in_port'] = in_port
                self._flow(dp, dec['priority'], parser.OFPMatch(**match),
                           [parser.OFPActionDecNwTtl(), parser.OFPActionOutput(h.port)],
                           cookie=dec['cookie'])

    def _admit_loop(self):
        """admission: now and then a user host is admitted to a server by
        a rule of its own on its switch, which its hard time-out ends."""
        adm = self.policy['admission']
        while True:
            hub.sleep(float(adm['every_s']))
            users = sorted(m for m, h in self.hosts.items()
                           if self.apps['hosts'].get(m, {}).get('role') == 'user')
            servers = sorted(m for m, h in self.hosts.items()
                             if self.apps['hosts'].get(m, {}).get('role') == 'server')
            if not users or not servers:
                continue
            u, srv = self.hosts[self.rng.choice(users)], self.hosts[self.rng.choice(servers)]
            dp = self.dpset.get(u.dpid)
            port = srv.port if srv.dpid == u.dpid else self._next_hops(srv.dpid).get(u.dpid)
            if dp is None or port is None:
                continue
            parser = dp.ofproto_parser
            self._flow(dp, adm['priority'],
                       parser.OFPMatch(in_port=u.port, eth_src=u.mac, eth_dst=srv.mac),
                       [parser.OFPActionOutput(port)], cookie=adm['cookie'],
                       hard=int(adm['hard_timeout']))

    def _load_state(self):
        try:
            with open(self.state_path) as f:
                st = json.load(f)
        except FileNotFoundError:
            return
        self.blocked = set(int(p) for p in st.get('blocked', []))
        self.block_cookie = {int(p): int(c) for p, c in st.get('block_cookie', {}).items()}
        self.drained = set(tuple(e) for e in st.get('drained', []))
        self.guest_kbps = int(st.get('guest_kbps', self.guest_kbps))
        LOG.info('operator state from %s', self.state_path)

    def _save_state(self):
        tmp = self.state_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'blocked': sorted(self.blocked),
                       'block_cookie': {str(p): c for p, c in self.block_cookie.items()},
                       'drained': sorted(self.drained), 'guest_kbps': self.guest_kbps}, f)
        os.rename(tmp, self.state_path)

    def operator(self, change):
        """An operator's change (POST /simrun/v1/operator), kept across a
        restart; returns what was done."""
        out = self._operator(change)
        self._save_state()
        return out

    def _operator(self, change):
        kind = change.get('change')
        acl = self.policy.get('acl')
        if kind in ('acl_block', 'acl_unblock'):
            if not acl:
                raise HttpError(409, 'no acl application in this run')
            port = int(change['tcp_dst'])
            if not 0 < port < 65536:
                raise HttpError(400, 'tcp_dst %d out of range' % port)
            block = kind == 'acl_block'
            cookie = int(change['cookie'], 16) if block and 'cookie' in change else None
            (self.blocked.add if block else self.blocked.discard)(port)
            self.block_cookie.pop(port, None)
            if cookie is not None:
                self.block_cookie[port] = cookie
            n = 0
            for dpid, dp in list(self.dpset.dps.items()):
                if self._is_access(dpid):
                    self._acl_port(dp, port, None if block else dp.ofproto.OFPFC_DELETE_STRICT,
                                   cookie)
                    n += 1
            return {'switches': n}
        if kind in ('drain_link', 'undrain_link'):
            ends = [(int(change[k]['dpid']), int(change[k]['port'])) for k in ('a', 'b')]
            for end in ends:
                (self.drained.add if kind == 'drain_link' else self.drained.discard)(end)
            self._sync()
            return {'drained': len(self.drained) // 2}
        if kind == 'meter_rate':
            guest = self.policy.get('guest_meter')
            if not guest or not guest.get('guest_net'):
                raise HttpError(409, 'no guest_meter application in this run')
            self.guest_kbps = int(change['rate_kbps'])
            n = 0
            for dpid, dp in list(self.dpset.dps.items()):
                if self._is_access(dpid) and \
                        self._switch_role(dpid).get('net') == guest['guest_net']:
                    self._guest_meter(dp, dp.ofproto.OFPMC_MODIFY)
                    n += 1
            return {'switches': n}
        raise HttpError(400, 'unknown change %r' % kind)

    def _delete_strict(self, dp, priority, match):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPFlowMod(
            datapath=dp, priority=priority, match=match,
            command=ofp.OFPFC_DELETE_STRICT, out_port=ofp.OFPP_ANY,
            out_group=ofp.OFPG_ANY))

    def _packet_out(self, dp, port, data, in_port=None):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPPacketOut(
            datapath=dp, buffer_id=ofp.OFP_NO_BUFFER,
            in_port=ofp.OFPP_CONTROLLER if in_port is None else in_port,
            actions=[parser.OFPActionOutput(port)], data=data))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def _features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        # A switch that reconnects may keep old rules: start from a clean
        # table so what we believe is installed is what is installed.
        dp.send_msg(parser.OFPFlowMod(
            datapath=dp, command=ofp.OFPFC_DELETE, table_id=ofp.OFPTT_ALL,
            out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY, match=parser.OFPMatch()))
        self._flow(dp, PRIO_MISS, parser.OFPMatch(),
                   [parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                           ofp.OFPCML_NO_BUFFER)],
                   cookie=COOKIE_SIMRUN)
        self._flow(dp, PRIO_LLDP,
                   parser.OFPMatch(eth_type=ether_types.ETH_TYPE_LLDP),
                   [parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                           ofp.OFPCML_NO_BUFFER)],
                   cookie=COOKIE_SIMRUN)
        self.installed[dp.id] = {}
        self.bcast.pop(dp.id, None)
        self.edge_done = set(e for e in self.edge_done if e[0] != dp.id)
        self._switch_policy(dp)
        LOG.info('switch %016x connected', dp.id)

    # ---- topology ----

    def _add_link(self, src, dst):
        if src in self.links:
            self._del_link(src)
        self.links[src] = dst
        for end in (src, dst):
            self.link_ports[end] = self.link_ports.get(end, 0) + 1

    def _del_link(self, src):
        dst = self.links.pop(src, None)
        if dst is None:
            return False
        for end in (src, dst):
            self.link_ports[end] -= 1
            if not self.link_ports[end]:
                del self.link_ports[end]
        return True

    def _topology_changed(self):
        """Resyncs every switch soon: discovery brings links in bursts, and
        one resync per burst is enough."""
        if self.sync_timer is None:
            self.sync_timer = hub.spawn_after(0.1, self._timed_sync)

    def _timed_sync(self):
        self.sync_timer = None
        self._sync()

    @set_ev_cls(topo_event.EventSwitchEnter)
    def _switch_enter(self, ev):
        self._topology_changed()

    @set_ev_cls(topo_event.EventSwitchLeave)
    def _switch_leave(self, ev):
        dpid = ev.switch.dp.id
        self.installed.pop(dpid, None)
        self.bcast.pop(dpid, None)
        for key in [k for k, v in self.links.items()
                    if k[0] == dpid or v[0] == dpid]:
            self._del_link(key)
        LOG.info('switch %016x left', dpid)
        self._topology_changed()

    @set_ev_cls(topo_event.EventLinkAdd)
    def _link_add(self, ev):
        src, dst = ev.link.src, ev.link.dst
        self._add_link((src.dpid, src.port_no), (dst.dpid, dst.port_no))
        # A host "learned" on what turns out to be a link port was not there.
        for mac in [m for m, h in self.hosts.items()
                    if (h.dpid, h.port) in ((src.dpid, src.port_no),
                                            (dst.dpid, dst.port_no))]:
            self._forget(mac)
        self._topology_changed()

    @set_ev_cls(topo_event.EventLinkDelete)
    def _link_delete(self, ev):
        src = ev.link.src
        if self._del_link((src.dpid, src.port_no)):
            LOG.info('link %016x:%d -> %016x:%d down', src.dpid, src.port_no,
                     ev.link.dst.dpid, ev.link.dst.port_no)
            self._topology_changed()

    def _is_link_port(self, dpid, port):
        return (dpid, port) in self.link_ports

    def _edge_ports(self, dpid):
        ports = []
        for port in self.dpset.get_ports(dpid):
            if port.port_no >= ofproto_v1_3.OFPP_MAX:
                continue
            if port.state & ofproto_v1_3.OFPPS_LINK_DOWN:
                continue
            if not self._is_link_port(dpid, port.port_no):
                ports.append(port.port_no)
        return sorted(ports)

    def _next_hops(self, root):
        """For every switch that can reach 'root', the port it sends out
        of towards 'root' (breadth first, ties to the lowest DPID)."""
        incoming = {}
        for (s, sp), (d, dport) in self.links.items():
            if (s, sp) in self.drained or (d, dport) in self.drained:
                continue
            incoming.setdefault(d, []).append((s, sp))
        hops, frontier = {}, [root]
        seen = {root}
        while frontier:
            nxt = []
            for node in frontier:
                for s, sp in sorted(incoming.get(node, [])):
                    if s not in seen:
                        seen.add(s)
                        hops[s] = sp
                        nxt.append(s)
            frontier = sorted(nxt)
        return hops

    def _tree_ports(self):
        """Ports of a spanning tree over links seen in both directions."""
        dps = sorted(self.dpset.dps)
        ports = {d: set() for d in dps}
        if not dps:
            return ports
        both = {}
        for (s, sp), (d, dpt) in self.links.items():
            if self.links.get((d, dpt)) == (s, sp):
                both.setdefault(s, []).append((d, sp, dpt))
        seen, frontier = {dps[0]}, [dps[0]]
        while frontier:
            nxt = []
            for node in frontier:
                for d, sp, dpt in sorted(both.get(node, [])):
                    if d not in seen and d in ports:
                        seen.add(d)
                        ports[node].add(sp)
                        ports[d].add(dpt)
                        nxt.append(d)
            frontier = sorted(nxt)
        return ports

    def _install_host(self, mac):
        """Installs the flows for one host on every switch at once, so that
        traffic to it does not wait for the next full resync."""
        h = self.hosts[mac]
        self._host_policy(h)
        if self.learning:
            return
        hops = self._next_hops(h.dpid)
        for dpid, dp in self.dpset.dps.items():
            port = h.port if h.dpid == dpid else hops.get(dpid)
            have = self.installed.setdefault(dpid, {})
            parser = dp.ofproto_parser
            if port is not None and have.get(mac) != port:
                self._flow(dp, self.fwd_prio, parser.OFPMatch(eth_dst=mac),
                           [parser.OFPActionOutput(port)], cookie=self.fwd_cookie)
                have[mac] = port
            elif port is None and mac in have:
                self._delete_strict(dp, self.fwd_prio, parser.OFPMatch(eth_dst=mac))
                del have[mac]

    def _sync(self):
        """Brings every switch's host and broadcast flows in line with the
        known topology and hosts."""
        hops = {} if self.learning else \
            {mac: self._next_hops(h.dpid) for mac, h in self.hosts.items()}
        tree = self._tree_ports()
        if self.learning:
            # Paths may have changed: learned flows go, and come back
            # along the new paths with the next packets (a mix of old and
            # new could loop).
            self._flush_cookie(self.fwd_cookie)
        if 'admission' in self.policy:
            self._flush_cookie(self.policy['admission']['cookie'])
        for h in list(self.hosts.values()):
            self._host_policy(h)     # a switch that came back lost them
        for dpid, dp in self.dpset.dps.items():
            parser = dp.ofproto_parser
            have = self.installed.setdefault(dpid, {})
            want = {}
            for mac, h in ([] if self.learning else self.hosts.items()):
                port = h.port if h.dpid == dpid else hops[mac].get(dpid)
                if port is not None:
                    want[mac] = port
            for mac, port in want.items():
                if have.get(mac) != port:
                    self._flow(dp, self.fwd_prio, parser.OFPMatch(eth_dst=mac),
                               [parser.OFPActionOutput(port)],
                               cookie=self.fwd_cookie)
            for mac in [m for m in have if m not in want]:
                self._delete_strict(dp, self.fwd_prio, parser.OFPMatch(eth_dst=mac))
            self.installed[dpid] = want
            out = tuple(sorted(tree.get(dpid, set()) | set(self._edge_ports(dpid))))
            if self.bcast.get(dpid) != out:
                match = parser.OFPMatch(eth_dst=BROADCAST,
                                        eth_type=ether_types.ETH_TYPE_IP)
                self._flow(dp, PRIO_BROADCAST, match,
                           [parser.OFPActionOutput(p) for p in out],
                           cookie=COOKIE_SIMRUN)
                self.bcast[dpid] = out

    # ---- hosts and ARP ----

    def _learn(self, mac, ip, dpid, port):
        h = self.hosts.get(mac)
        if h and (h.dpid, h.port) == (dpid, port) and (ip is None or h.ip == ip):
            return False
        if h and ip is None:
            ip = h.ip
        self.hosts[mac] = Host(mac, ip, dpid, port)
        if ip:
            self.by_ip[ip] = mac
        LOG.info('host %s (%s) at %016x port %d', mac, ip, dpid, port)
        self._install_host(mac)
        if ip:
            self._answer_pending(ip)
        return True

    def _forget(self, mac):
        h = self.hosts.pop(mac, None)
        if h and h.ip and self.by_ip.get(h.ip) == mac:
            del self.by_ip[h.ip]

    def _arp_reply(self, dp, port, src_mac, src_ip, dst_mac, dst_ip):
        pkt = packet.Packet()
        pkt.add_protocol(ethernet.ethernet(ethertype=ether_types.ETH_TYPE_ARP,
                                           dst=dst_mac, src=src_mac))
        pkt.add_protocol(arp.arp(opcode=arp.ARP_REPLY, src_mac=src_mac,
                                 src_ip=src_ip, dst_mac=dst_mac, dst_ip=dst_ip))
        pkt.serialize()
        self._packet_out(dp, port, pkt.data)

    def _probe(self, ip):
        pkt = packet.Packet()
        pkt.add_protocol(ethernet.ethernet(ethertype=ether_types.ETH_TYPE_ARP,
                                           dst=BROADCAST, src=CTRL_MAC))
        pkt.add_protocol(arp.arp(opcode=arp.ARP_REQUEST, src_mac=CTRL_MAC,
                                 src_ip='0.0.0.0', dst_mac='00:00:00:00:00:00',
                                 dst_ip=ip))
        pkt.serialize()
        for dpid, dp in self.dpset.dps.items():
            for port in self._edge_ports(dpid):
                self._packet_out(dp, port, pkt.data)

    def _answer_pending(self, ip):
        mac = self.by_ip.get(ip)
        for dpid, port, req_mac, req_ip in self.pending.pop(ip, []):
            dp = self.dpset.get(dpid)
            if dp is not None and mac:
                self._arp_reply(dp, port, mac, ip, req_mac, req_ip)

    def _forward(self, dp, in_port, src, dst, data, ip4=None):
        """Sends a packet for a known host one hop on.  Proactive: the
        switch lost its flow for the host, which is reinstalled.  Learning:
        a flow for this in-port, source and destination, with the
        application's time-outs."""
        h = self.hosts[dst]
        port = h.port if h.dpid == dp.id else self._next_hops(h.dpid).get(dp.id)
        if port is None:
            return
        parser = dp.ofproto_parser
        if self.learning:
            if port == in_port:
                return
            hard = self.apps['hard'] if self.rng.random() < self.apps['hard_share'] else 0
            known = {'in_port': in_port, 'eth_src': src, 'eth_dst': dst}
            fields = self.apps['match']
            if ip4 is not None:
                known.update(eth_type=ether_types.ETH_TYPE_IP, ipv4_src=ip4.src,
                             ipv4_dst=ip4.dst)
                if 'ipv4_dst' in fields:    # an IPv4 match needs the ethertype
                    fields = fields + ['eth_type']
            else:
                fields = [f for f in fields if not f.startswith('ipv4')]
            self._flow(dp, self.fwd_prio, parser.OFPMatch(**{f: known[f] for f in fields}),
                       [parser.OFPActionOutput(port)], cookie=self.fwd_cookie,
                       idle=self.apps['idle'], hard=hard)
            self._packet_out(dp, port, data, in_port=in_port)
            return
        LOG.info('reinstalling flow for %s on %016x (packet-in for a known '
                 'destination)', dst, dp.id)
        self._flow(dp, self.fwd_prio, parser.OFPMatch(eth_dst=dst),
                   [parser.OFPActionOutput(port)], cookie=self.fwd_cookie)
        self.installed.setdefault(dp.id, {})[dst] = port
        if port != in_port:
            self._packet_out(dp, port, data, in_port=in_port)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def _packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        in_port = msg.match['in_port']
        pkt = packet.Packet(msg.data)
        eth = pkt.get_protocol(ethernet.ethernet)
        if eth is None or eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        if eth.ethertype not in (ether_types.ETH_TYPE_ARP,
                                 ether_types.ETH_TYPE_IP):
            return      # IPv6 and the rest: not forwarded here
        a = pkt.get_protocol(arp.arp)
        ip4 = pkt.get_protocol(ipv4.ipv4)
        edge = not self._is_link_port(dp.id, in_port)
        if edge and eth.src != CTRL_MAC:
            src_ip = a.src_ip if a else (ip4.src if ip4 else None)
            if src_ip == '0.0.0.0':
                src_ip = None
            self._learn(eth.src, src_ip, dp.id, in_port)
        if a is not None and a.opcode == arp.ARP_REQUEST:
            mac = self.by_ip.get(a.dst_ip)
            if mac:
                self._arp_reply(dp, in_port, mac, a.dst_ip, a.src_mac, a.src_ip)
            elif edge:
                self.pending.setdefault(a.dst_ip, []).append(
                    (dp.id, in_port, a.src_mac, a.src_ip))
                self._probe(a.dst_ip)
            return
        if eth.dst == CTRL_MAC:
            return      # a probe's answer: learning above was the point
        if eth.dst in self.hosts:
            self._forward(dp, in_port, eth.src, eth.dst, msg.data, ip4)

    # ---- statistics replies (the waiters contract of ofctl_utils) ----

    @set_ev_cls([ofp_event.EventOFPStatsReply,
                 ofp_event.EventOFPDescStatsReply,
                 ofp_event.EventOFPFlowStatsReply,
                 ofp_event.EventOFPAggregateStatsReply,
                 ofp_event.EventOFPTableStatsReply,
                 ofp_event.EventOFPPortStatsReply,
                 ofp_event.EventOFPPortDescStatsReply,
                 ofp_event.EventOFPMeterStatsReply,
                 ofp_event.EventOFPMeterConfigStatsReply,
                 ofp_event.EventOFPMeterFeaturesStatsReply], MAIN_DISPATCHER)
    def _stats_reply(self, ev):
        msg = ev.msg
        dp = msg.datapath
        waiting = self.waiters.get(dp.id, {})
        if msg.xid not in waiting:
            return
        lock, msgs = waiting[msg.xid]
        msgs.append(msg)
        if msg.flags & dp.ofproto.OFPMPF_REPLY_MORE:
            return
        del waiting[msg.xid]
        lock.set()

    # ---- REST ----

    def _serve_rest(self):
        api = RestApi(self)
        try:
            server = hub.WSGIServer((self.rest_host, self.rest_port), api)
        except OSError as exc:
            LOG.error('cannot listen on %s:%d for REST: %s', self.rest_host,
                      self.rest_port, exc)
            os._exit(3)
        LOG.info('REST API on http://%s:%d', self.rest_host, self.rest_port)
        server.serve_forever()


def request_all(dp, reqs, waiters):
    """Sends every request of 'reqs' to 'dp' at once and waits for all their
    replies, as ofctl_utils.send_stats_request does for one (same waiters,
    same time-out, a multipart reply's parts gathered): one round trip
    instead of one per request.  Returns each request's messages."""
    per_dp = waiters.setdefault(dp.id, {})
    pending = []
    for req in reqs:
        dp.set_xid(req)
        lock, msgs = hub.Event(), []
        per_dp[req.xid] = (lock, msgs)
        pending.append((req, lock, msgs))
        ofctl_utils.send_msg(dp, req, LOG)
    for req, lock, msgs in pending:
        seen = len(msgs)
        lock.wait(timeout=ofctl_utils.DEFAULT_TIMEOUT)
        while len(msgs) > seen:     # parts still coming: give them time too
            seen = len(msgs)
            lock.wait(timeout=ofctl_utils.DEFAULT_TIMEOUT)
        if not lock.is_set():
            per_dp.pop(req.xid, None)
    return [msgs for _, _, msgs in pending]


# ---- flow statistics, converted quickly (see RestApi._flow_stats) ----

# OpenFlow 1.3 match fields as /stats/flow names them (ofctl's names).
MATCH_NAMES = {'eth_src': 'dl_src', 'eth_dst': 'dl_dst', 'eth_type': 'dl_type',
               'ipv4_src': 'nw_src', 'ipv4_dst': 'nw_dst', 'ip_proto': 'nw_proto',
               'tcp_src': 'tp_src', 'tcp_dst': 'tp_dst', 'udp_src': 'tp_src',
               'udp_dst': 'tp_dst'}


def reserved_names(prefix):
    """Value -> name of OpenFlow 1.3's reserved numbers with 'prefix'
    (OFPP_CONTROLLER -> 'CONTROLLER'), the first name of each value as
    ofctl's OFCtlUtil finds it; ofctl searches the module every time."""
    names = {}
    skip = ('OFPTFPT_EXPERIMENTER_SLAVE', 'OFPTFPT_EXPERIMENTER_MASTER', 'OFPQCFC_EPERM')
    for key, value in ofproto_v1_3.__dict__.items():
        if key.startswith(prefix) and key not in skip and value not in names:
            names[value] = key.replace(prefix, '')
    return names


PORT_NAMES = reserved_names('OFPP_')
TABLE_NAMES = reserved_names('OFPTT_')
METER_NAMES = reserved_names('OFPM_')


def match_dict(match):
    """A match as ofctl_v1_3.match_to_str gives it, without its generic
    JSON round trip; fields outside MATCH_NAMES take ofctl's path."""
    out = {}
    for key, value in match.items():
        if key == 'in_port':
            value = PORT_NAMES.get(value, value)
        elif key in MATCH_NAMES:
            key = MATCH_NAMES[key]
            if isinstance(value, tuple):
                value = '%s/%s' % value
        else:
            return ofctl_v1_3.match_to_str(match)
        out.setdefault(key, value)
    return out


def action_strings(instructions):
    """Actions as ofctl_v1_3.actions_to_str gives them, for apply-actions
    of OUTPUT and DEC_NW_TTL, meters and goto-table; anything else takes
    ofctl's path."""
    parser, ofp = ofproto_v1_3_parser, ofproto_v1_3
    out = []
    for inst in instructions:
        if isinstance(inst, parser.OFPInstructionActions) and \
                inst.type == ofp.OFPIT_APPLY_ACTIONS:
            for act in inst.actions:
                if act.cls_action_type == ofp.OFPAT_OUTPUT:
                    out.append('OUTPUT:' + str(PORT_NAMES.get(act.port, act.port)))
                elif act.cls_action_type == ofp.OFPAT_DEC_NW_TTL:
                    out.append('DEC_NW_TTL')
                else:
                    return ofctl_v1_3.actions_to_str(instructions)
        elif isinstance(inst, parser.OFPInstructionMeter):
            out.append('METER:' + str(METER_NAMES.get(inst.meter_id, inst.meter_id)))
        elif isinstance(inst, parser.OFPInstructionGotoTable):
            out.append('GOTO_TABLE:' + str(TABLE_NAMES.get(inst.table_id, inst.table_id)))
        else:
            return ofctl_v1_3.actions_to_str(instructions)
    return out


def flow_entry(stats):
    """One OFPFlowStats as ofctl_v1_3.get_flow_stats gives it."""
    return {'priority': stats.priority, 'cookie': stats.cookie,
            'idle_timeout': stats.idle_timeout, 'hard_timeout': stats.hard_timeout,
            'byte_count': stats.byte_count, 'duration_sec': stats.duration_sec,
            'duration_nsec': stats.duration_nsec, 'packet_count': stats.packet_count,
            'length': stats.length, 'flags': stats.flags,
            'table_id': TABLE_NAMES.get(stats.table_id, stats.table_id),
            'match': match_dict(stats.match),
            'actions': action_strings(stats.instructions)}


# ---- flow and table statistics read off the wire (see RawEntries) ----

FLOW_HEAD = struct.Struct('!HBxIIHHHH4xQQQ')    # ofp_flow_stats up to its match
OXM_BASIC = 0x8000
# OXM field number -> (ofctl's name, how its value reads): only what
# simrun's networks and faults put into matches; anything else is ofctl's.
OXM_FIELDS = {0: ('in_port', 'port'), 3: ('dl_dst', 'mac'), 4: ('dl_src', 'mac'),
              5: ('dl_type', 'int'), 10: ('nw_proto', 'int'), 11: ('nw_src', 'ipv4'),
              12: ('nw_dst', 'ipv4'), 13: ('tp_src', 'int'), 14: ('tp_dst', 'int'),
              15: ('tp_src', 'int'), 16: ('tp_dst', 'int')}


class NotQuick(Exception):
    """An entry raw_flow_entry does not read itself (ofctl's path reads it)."""


def oxm_value(kind, raw):
    if kind == 'int':
        return int.from_bytes(raw, 'big')
    if kind == 'port':
        value = int.from_bytes(raw, 'big')
        return PORT_NAMES.get(value, value)
    if kind == 'mac':
        return '%02x:%02x:%02x:%02x:%02x:%02x' % tuple(raw)
    return socket.inet_ntoa(raw)


def raw_match(buf, offset):
    """The ofp_match at 'offset' as match_dict gives it; its padded length."""
    mtype, mlen = struct.unpack_from('!HH', buf, offset)
    if mtype != ofproto_v1_3.OFPMT_OXM:
        raise NotQuick()
    out, pos, end = {}, offset + 4, offset + mlen
    while pos < end:
        oclass, field, olen = struct.unpack_from('!HBB', buf, pos)
        has_mask, field = field & 1, field >> 1
        spec = OXM_FIELDS.get(field) if oclass == OXM_BASIC else None
        if spec is None:
            raise NotQuick()
        body = bytes(buf[pos + 4:pos + 4 + olen])
        if has_mask:
            half = olen // 2
            if spec[1] == 'port':
                raise NotQuick()
            value = '%s/%s' % (oxm_value(spec[1], body[:half]), oxm_value(spec[1], body[half:]))
        else:
            value = oxm_value(spec[1], body)
        out.setdefault(spec[0], value)
        pos += 4 + olen
    return out, (mlen + 7) // 8 * 8


def raw_actions(buf, pos, end):
    """Instructions from 'pos' to 'end' as action_strings gives them."""
    ofp, out = ofproto_v1_3, []
    while pos < end:
        itype, ilen = struct.unpack_from('!HH', buf, pos)
        if ilen < 8:
            raise NotQuick()
        if itype == ofp.OFPIT_APPLY_ACTIONS:
            apos = pos + 8
            while apos < pos + ilen:
                atype, alen = struct.unpack_from('!HH', buf, apos)
                if atype == ofp.OFPAT_OUTPUT:
                    port = struct.unpack_from('!I', buf, apos + 4)[0]
                    out.append('OUTPUT:' + str(PORT_NAMES.get(port, port)))
                elif atype == ofp.OFPAT_DEC_NW_TTL:
                    out.append('DEC_NW_TTL')
                else:
                    raise NotQuick()
                if alen < 8:
                    raise NotQuick()
                apos += alen
        elif itype == ofp.OFPIT_METER:
            meter = struct.unpack_from('!I', buf, pos + 4)[0]
            out.append('METER:' + str(METER_NAMES.get(meter, meter)))
        elif itype == ofp.OFPIT_GOTO_TABLE:
            out.append('GOTO_TABLE:' + str(TABLE_NAMES.get(buf[pos + 4], buf[pos + 4])))
        else:
            raise NotQuick()
        pos += ilen
    return out


def raw_flow_entry(buf, offset):
    """The ofp_flow_stats at 'offset' as flow_entry gives it, read straight
    off the message (os-ken's parser builds an object per match field and
    instruction: most of a sweep's time at 50 switches); its length."""
    (length, table_id, dsec, dnsec, prio, idle, hard, flags, cookie, packets,
     octets) = FLOW_HEAD.unpack_from(buf, offset)
    if length < FLOW_HEAD.size + 8 or offset + length > len(buf):
        raise ValueError('a flow statistics entry of %d bytes at %d of %d'
                         % (length, offset, len(buf)))
    try:
        match, mlen = raw_match(buf, offset + FLOW_HEAD.size)
        actions = raw_actions(buf, offset + FLOW_HEAD.size + mlen, offset + length)
    except NotQuick:
        return flow_entry(ofproto_v1_3_parser.OFPFlowStats.parser(buf, offset)), length
    return {'priority': prio, 'cookie': cookie, 'idle_timeout': idle,
            'hard_timeout': hard, 'byte_count': octets, 'duration_sec': dsec,
            'duration_nsec': dnsec, 'packet_count': packets, 'length': length,
            'flags': flags, 'table_id': TABLE_NAMES.get(table_id, table_id),
            'match': match, 'actions': actions}, length


class RawEntries(object):
    """The body of a flow or table statistics reply, kept as the bytes it
    came in and parsed by os-ken only when something iterates it (ofctl's
    /stats/flow and /stats/table do); the sweep reads the bytes itself.
    os-ken's parser builds every entry of every reply the moment it
    arrives, 254 tables and every flow of every switch a sweep."""

    def __init__(self, entry_cls, buf, offset, end):
        self.entry_cls, self.buf, self.offset, self.end = entry_cls, buf, offset, end
        self._parsed = None

    def _entries(self):
        if self._parsed is None:
            out, pos = [], self.offset
            while pos < self.end:
                entry = self.entry_cls.parser(self.buf, pos)
                out.append(entry)
                pos += entry.length
            self._parsed = out
        return self._parsed

    def __iter__(self):
        return iter(self._entries())

    def __len__(self):
        return len(self._entries())

    def __getitem__(self, index):
        return self._entries()[index]

    def flows(self):
        out, pos = [], self.offset
        while pos < self.end:
            entry, length = raw_flow_entry(self.buf, pos)
            out.append(entry)
            pos += length
        return out

    def tables(self):
        """(table_id, active_count, lookup_count, matched_count) of every
        table, as tuples."""
        if (self.end - self.offset) % ofproto_v1_3.OFP_TABLE_STATS_SIZE:
            raise ValueError('table statistics of %d bytes' % (self.end - self.offset))
        return struct.iter_unpack(ofproto_v1_3.OFP_TABLE_STATS_PACK_STR,
                                  self.buf[self.offset:self.end])


def keep_stats_raw():
    """Makes os-ken keep flow and table statistics replies' bodies as
    RawEntries: its multipart reply parser, replaced for those two types
    (the message class and so the event are the same).  Installed once, at
    import; returns the parser it wraps."""
    p, ofp = ofproto_v1_3_parser, ofproto_v1_3
    lazy = {ofp.OFPMP_FLOW: p.OFPFlowStats, ofp.OFPMP_TABLE: p.OFPTableStats}
    original = p._MSG_PARSERS[ofp.OFPT_MULTIPART_REPLY]

    def multipart_reply(datapath, version, msg_type, msg_len, xid, buf):
        mp_type, flags = struct.unpack_from('!HH', buf, ofp.OFP_HEADER_SIZE)
        entry_cls = lazy.get(mp_type)
        if entry_cls is None or msg_len > len(buf):
            return original(datapath, version, msg_type, msg_len, xid, buf)
        cls = p.OFPMultipartReply._STATS_MSG_TYPES[mp_type]
        msg = cls(datapath)
        msg.set_headers(version, msg_type, msg_len, xid)
        msg.set_buf(buf)
        msg.type, msg.flags = mp_type, flags
        msg.body = RawEntries(entry_cls, msg.buf, ofp.OFP_MULTIPART_REPLY_SIZE, msg_len)
        return msg

    p._MSG_PARSERS[ofp.OFPT_MULTIPART_REPLY] = multipart_reply
    return original


OSKEN_MULTIPART_PARSER = keep_stats_raw()


class HttpError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status


def _dpid(text):
    try:
        return int(str(text), 0)
    except ValueError:
        raise HttpError(400, 'invalid dpid %r' % text)


class RestApi(object):
    """WSGI application with Ryu ofctl_rest's routes."""

    def __init__(self, app):
        self.app = app
        m = self.mapper = routes.Mapper()
        get = dict(conditions=dict(method=['GET']))
        get_post = dict(conditions=dict(method=['GET', 'POST']))
        post = dict(conditions=dict(method=['POST']))
        delete = dict(conditions=dict(method=['DELETE']))
        m.connect('/stats/switches', action='switches', **get)
        m.connect('/stats/desc/{dpid}', action='desc', **get)
        m.connect('/stats/flow/{dpid}', action='flow', **get_post)
        m.connect('/stats/flowdesc/{dpid}', action='flow', **get_post)
        m.connect('/stats/aggregateflow/{dpid}', action='aggregate', **get_post)
        m.connect('/stats/table/{dpid}', action='table', **get)
        m.connect('/stats/port/{dpid}', action='port', **get)
        m.connect('/stats/port/{dpid}/{port}', action='port', **get)
        m.connect('/stats/portdesc/{dpid}', action='portdesc', **get)
        m.connect('/stats/meter/{dpid}', action='meter', **get)
        m.connect('/stats/meterconfig/{dpid}', action='meterconfig', **get)
        m.connect('/stats/flowentry/clear/{dpid}', action='clear', **delete)
        m.connect('/stats/flowentry/{cmd}', action='flowentry', **post)
        m.connect('/stats/meterentry/{cmd}', action='meterentry', **post)
        m.connect('/v1.0/topology/switches', action='topo_switches', **get)
        m.connect('/v1.0/topology/switches/{dpid}', action='topo_switches', **get)
        m.connect('/v1.0/topology/links', action='topo_links', **get)
        m.connect('/v1.0/topology/links/{dpid}', action='topo_links', **get)
        m.connect('/v1.0/topology/hosts', action='topo_hosts', **get)
        m.connect('/simrun/v1/sweep', action='sweep', **get)
        m.connect('/simrun/v1/flowentries', action='flowentries', **post)
        m.connect('/simrun/v1/operator', action='operator', **post)

    def __call__(self, environ, start_response):
        req = webob.Request(environ)
        match = self.mapper.match(environ=environ)
        if match is None:
            res = webob.Response(status=404, body=b'no such resource\n')
            return res(environ, start_response)
        action = match.pop('action')
        try:
            body = getattr(self, action)(req, **match)
            if body is None:
                res = webob.Response(status=200)
            else:
                res = webob.Response(status=200, content_type='application/json',
                                     charset='utf-8', body=json.dumps(body).encode())
        except HttpError as exc:
            res = webob.Response(status=exc.status, body=(str(exc) + '\n').encode())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            LOG.warning('bad request %s %s: %s', req.method, req.path, exc)
            res = webob.Response(status=400, body=('%s\n' % exc).encode())
        return res(environ, start_response)

    def _dp(self, dpid):
        dp = self.app.dpset.get(_dpid(dpid))
        if dp is None:
            raise HttpError(404, 'no datapath %s' % dpid)
        return dp

    @staticmethod
    def _body(req):
        if not req.body:
            return {}
        try:
            return json.loads(req.body)
        except ValueError as exc:
            raise HttpError(400, 'invalid JSON body: %s' % exc)

    def switches(self, req):
        return sorted(self.app.dpset.dps.keys())

    def desc(self, req, dpid):
        return ofctl_v1_3.get_desc_stats(self._dp(dpid), self.app.waiters)

    def flow(self, req, dpid):
        flt = self._body(req) if req.method == 'POST' else {}
        return ofctl_v1_3.get_flow_stats(self._dp(dpid), self.app.waiters, flt)

    def aggregate(self, req, dpid):
        flt = self._body(req) if req.method == 'POST' else {}
        return ofctl_v1_3.get_aggregate_flow_stats(self._dp(dpid),
                                                   self.app.waiters, flt)

    def table(self, req, dpid):
        return ofctl_v1_3.get_table_stats(self._dp(dpid), self.app.waiters)

    def port(self, req, dpid, port=None):
        if port == 'ALL':
            port = None
        return ofctl_v1_3.get_port_stats(self._dp(dpid), self.app.waiters, port)

    def portdesc(self, req, dpid):
        return ofctl_v1_3.get_port_desc(self._dp(dpid), self.app.waiters)

    def meter(self, req, dpid):
        return ofctl_v1_3.get_meter_stats(self._dp(dpid), self.app.waiters)

    def meterconfig(self, req, dpid):
        return ofctl_v1_3.get_meter_config(self._dp(dpid), self.app.waiters)

    FLOW_CMDS = {'add': ofproto_v1_3.OFPFC_ADD, 'modify': ofproto_v1_3.OFPFC_MODIFY,
                 'modify_strict': ofproto_v1_3.OFPFC_MODIFY_STRICT,
                 'delete': ofproto_v1_3.OFPFC_DELETE,
                 'delete_strict': ofproto_v1_3.OFPFC_DELETE_STRICT}

    def _mod_flow(self, cmd, flow):
        if cmd not in self.FLOW_CMDS:
            raise HttpError(404, 'unknown command %r' % cmd)
        if not isinstance(flow, dict) or 'dpid' not in flow:
            raise HttpError(400, "the body needs 'dpid'")
        flow = dict(flow)
        dp = self._dp(flow.pop('dpid'))
        ofctl_v1_3.mod_flow_entry(dp, flow, self.FLOW_CMDS[cmd])

    def flowentry(self, req, cmd):
        self._mod_flow(cmd, self._body(req))
        return None

    def flowentries(self, req):
        entries = self._body(req)
        if not isinstance(entries, list):
            raise HttpError(400, 'the body must be a list of {"cmd", "flow"}')
        failed = []
        for i, entry in enumerate(entries):
            if i and i % FLOWENTRIES_YIELD == 0:
                # Hundreds of changes (a fault on every switch) must not
                # hold the hub: a sweep asked meanwhile is answered on time.
                hub.sleep(0)
            try:
                self._mod_flow(entry.get('cmd'), entry.get('flow'))
            except HttpError as exc:
                failed.append({'index': i, 'error': str(exc)})
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                failed.append({'index': i, 'error': 'bad entry: %s' % exc})
        return {'done': len(entries) - len(failed), 'failed': failed}

    def operator(self, req):
        change = self._body(req)
        if not isinstance(change, dict):
            raise HttpError(400, 'the body must be a JSON object')
        return self.app.operator(change)

    def clear(self, req, dpid):
        dp = self._dp(dpid)
        ofctl_v1_3.mod_flow_entry(dp, {'table_id': dp.ofproto.OFPTT_ALL},
                                  dp.ofproto.OFPFC_DELETE)
        return None

    def meterentry(self, req, cmd):
        cmds = {'add': ofproto_v1_3.OFPMC_ADD, 'modify': ofproto_v1_3.OFPMC_MODIFY,
                'delete': ofproto_v1_3.OFPMC_DELETE}
        if cmd not in cmds:
            raise HttpError(404, 'unknown command %r' % cmd)
        meter = self._body(req)
        if 'dpid' not in meter:
            raise HttpError(400, "the body needs 'dpid'")
        dp = self._dp(meter.pop('dpid'))
        ofctl_v1_3.mod_meter_entry(dp, meter, cmds[cmd])
        return None

    def sweep(self, req):
        want = set(req.params.get('want', 'port,table').split(','))
        waiters = self.app.waiters
        dps = list(self.app.dpset.dps.items())
        if req.params.get('dpid'):
            only = set(_dpid(d) for d in req.params['dpid'].split(',') if d)
            dps = [(d, dp) for d, dp in dps if d in only]
        out = {}

        def one(dpid, dp):
            ofp, parser = dp.ofproto, dp.ofproto_parser
            reqs = []
            if 'port' in want:
                reqs.append(('port', parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY)))
            if 'table' in want:
                reqs.append(('table', parser.OFPTableStatsRequest(dp, 0)))
            if 'flow' in want:
                reqs.append(('flow', parser.OFPFlowStatsRequest(
                    dp, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0, parser.OFPMatch())))
            # The switch's requests go out together: one round trip each
            # switch, not three one after the other.
            replies = request_all(dp, [r for _, r in reqs], waiters)
            entry = {}
            for (kind, _), msgs in zip(reqs, replies):
                if kind == 'port':
                    entry['port'] = self._port_stats(dp, msgs)
                    entry['portdesc'] = [self._port_desc(p)
                                         for p in self.app.dpset.get_ports(dpid)]
                elif kind == 'table':
                    entry['table'] = self._used_tables(msgs)
                else:
                    entry['flow'] = self._flow_stats(msgs)
            out[str(dpid)] = entry

        threads = [hub.spawn(one, dpid, dp) for dpid, dp in dps]
        hub.joinall(threads)
        return out

    @staticmethod
    def _port_stats(dp, msgs):
        """Port statistics in /stats/port's shape, read straight off the
        replies (ofctl's generic conversion is most of the cost)."""
        ofp = dp.ofproto
        out = []
        for msg in msgs:
            for p in msg.body:
                out.append({'port_no': 'LOCAL' if p.port_no == ofp.OFPP_LOCAL else p.port_no,
                            'rx_packets': p.rx_packets, 'tx_packets': p.tx_packets,
                            'rx_bytes': p.rx_bytes, 'tx_bytes': p.tx_bytes,
                            'rx_dropped': p.rx_dropped, 'tx_dropped': p.tx_dropped,
                            'rx_errors': p.rx_errors, 'tx_errors': p.tx_errors,
                            'rx_frame_err': p.rx_frame_err, 'rx_over_err': p.rx_over_err,
                            'rx_crc_err': p.rx_crc_err, 'collisions': p.collisions,
                            'duration_sec': p.duration_sec,
                            'duration_nsec': p.duration_nsec})
        return out

    @staticmethod
    def _flow_stats(msgs):
        """Flow statistics in /stats/flow's shape, converted straight off
        the replies for the fields and actions simrun's networks use, and
        with ofctl's generic conversion for anything else: with flows on,
        that conversion was most of a sweep's time (tests/controller_test.py
        checks both give the same answer)."""
        out = []
        for msg in msgs:
            if isinstance(msg.body, RawEntries):
                out.extend(msg.body.flows())
            else:
                out.extend(flow_entry(s) for s in msg.body)
        return out

    @staticmethod
    def _used_tables(msgs):
        """Table statistics in /stats/table's shape, for tables in use only.
        Reads the four fields off the replies: ofctl's generic conversion of
        all 255 tables Open vSwitch reports costs ~13 ms per switch."""
        out = []
        for msg in msgs:
            tables = msg.body.tables() if isinstance(msg.body, RawEntries) else \
                ((t.table_id, t.active_count, t.lookup_count, t.matched_count)
                 for t in msg.body)
            for table_id, active, lookup, matched in tables:
                if table_id == 0 or active or lookup:
                    out.append({'table_id': table_id, 'active_count': active,
                                'lookup_count': lookup, 'matched_count': matched})
        return out

    @staticmethod
    def _port_desc(port):
        """A port as /stats/portdesc shows it, from the controller's state."""
        return {'port_no': 'LOCAL' if port.port_no == ofproto_v1_3.OFPP_LOCAL
                else port.port_no,
                'hw_addr': port.hw_addr, 'name': port.name.decode('utf-8', 'replace')
                if isinstance(port.name, bytes) else port.name,
                'config': port.config, 'state': port.state}

    def topo_switches(self, req, dpid=None):
        return [s.to_dict() for s in
                topo_api.get_switch(self.app, None if dpid is None else _dpid(dpid))]

    def topo_links(self, req, dpid=None):
        return [l.to_dict() for l in
                topo_api.get_link(self.app, None if dpid is None else _dpid(dpid))]

    def topo_hosts(self, req):
        out = []
        for h in sorted(self.app.hosts.values(), key=lambda x: x.mac):
            out.append({'mac': h.mac, 'ipv4': [h.ip] if h.ip else [], 'ipv6': [],
                        'port': {'dpid': '%016x' % h.dpid,
                                 'port_no': '%08x' % h.port}})
        return out
