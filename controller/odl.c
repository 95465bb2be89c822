/* OpenDaylight RESTCONF: the operational inventory and topology, and the
 * config-datastore bodies for flows.  Both path styles produce the same
 * tree below the root, but RFC 8040 quotes 64-bit numbers and prefixes the
 * root with its module; both variants are accepted everywhere. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "util.h"

/* Member 'name' of 'obj', written with or without a module prefix
 * ("node", "opendaylight-inventory:node"). */
static json_t *
member(json_t *obj, const char *name)
{
    const char *key;
    json_t *v;
    const char *local = strchr(name, ':') ? strchr(name, ':') + 1 : name;

    if (!json_is_object(obj)) {
        return NULL;
    }
    if ((v = json_object_get(obj, name)) || (v = json_object_get(obj, local))) {
        return v;
    }
    json_object_foreach(obj, key, v) {
        const char *colon = strchr(key, ':');

        if (colon && !strcmp(colon + 1, local)) {
            return v;
        }
    }
    return NULL;
}

static bool
u64_at(json_t *obj, const char *path, uint64_t *out)
{
    char part[96];
    json_t *v = obj;

    /* 'path' is dotted: "packets.received" is packets -> received. */
    while (*path && v) {
        size_t n = strcspn(path, ".");

        if (n >= sizeof part) {
            return false;
        }
        memcpy(part, path, n);
        part[n] = '\0';
        v = member(v, part);
        path += n + (path[n] == '.');
    }
    return v && sr_json_u64(v, out);
}

/* "openflow:12" -> 12; "openflow:12:3" -> 3 (the last token). */
static bool
last_token_u64(const char *s, uint64_t *out)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char *end;

    if (!colon || !colon[1]) {
        return false;
    }
    *out = strtoull(colon + 1, &end, 10);
    return !*end;
}

static json_t *
first_node(json_t *root)
{
    json_t *nodes = member(root, "opendaylight-inventory:nodes");
    json_t *list = member(nodes ? nodes : root, "opendaylight-inventory:node");

    return json_is_array(list) ? json_array_get(list, 0) : NULL;
}

int
ctl_odl_parse_nodes(const char *text, uint64_t **dpids, size_t *n, struct sr_error *err)
{
    json_t *root = sr_json_loads(text, "inventory nodes", err), *nodes, *list, *v;
    uint64_t *out;
    size_t i, k = 0;

    if (!root) {
        return -SR_EINVAL;
    }
    nodes = member(root, "opendaylight-inventory:nodes");
    list = member(nodes ? nodes : root, "opendaylight-inventory:node");
    if (!nodes && !list) {
        json_decref(root);
        return sr_error_set(err, SR_EINVAL, "inventory nodes: no 'nodes' in the answer");
    }
    out = xcalloc(json_array_size(list) + 1, sizeof *out);
    json_array_foreach(list, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));

        if (id && !strncmp(id, "openflow:", 9) && last_token_u64(id, &out[k])) {
            k++;
        }
    }
    *dpids = out;
    *n = k;
    json_decref(root);
    return 0;
}

static void
parse_connector(json_t *nc, struct ctl_stats *s)
{
    static const char *const paths[CTL_NCOUNTERS] = {
        "packets.received", "packets.transmitted", "bytes.received", "bytes.transmitted",
        "receive-drops",    "transmit-drops",      "receive-errors", "transmit-errors",
        "receive-frame-error", "receive-over-run-error", "receive-crc-error",
        "collision-count",
    };
    json_t *num = member(nc, "flow-node-inventory:port-number");
    json_t *state = member(nc, "flow-node-inventory:state");
    json_t *stats = member(nc, "opendaylight-port-statistics:flow-capable-node-connector-statistics");
    const char *name = json_string_value(member(nc, "flow-node-inventory:name"));
    const char *id = json_string_value(json_object_get(nc, "id"));
    struct ctl_port p = { 0 };
    uint64_t no = 0;
    bool ok = true;

    if ((json_is_string(num) && !strcmp(json_string_value(num), "LOCAL")) ||
        (id && strlen(id) > 6 && !strcmp(id + strlen(id) - 6, ":LOCAL"))) {
        p.port_no = CTL_PORT_LOCAL;
    } else if (sr_json_u64(num, &no) || last_token_u64(id, &no)) {
        p.port_no = (uint32_t) no;
    } else {
        return;
    }
    sr_strlcpy(p.name, name ? name : "", sizeof p.name);
    if (json_is_object(state)) {
        p.has_state = true;
        p.link_down = json_is_true(member(state, "link-down"));
        p.blocked = json_is_true(member(state, "blocked"));
        p.live = json_is_true(member(state, "live"));
    }
    if (json_is_object(stats)) {
        for (int k = 0; k < CTL_NCOUNTERS; k++) {
            ok = u64_at(stats, paths[k], &p.c[k]) && ok;
        }
        ok = u64_at(stats, "duration.second", &p.duration_sec) && ok;
        u64_at(stats, "duration.nanosecond", &p.duration_nsec);
        p.has_stats = ok;
    }
    s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof *s->ports);
    s->ports[s->nports++] = p;
}

/* Instructions as Ryu-style action text: "OUTPUT:2,GOTO_TABLE:1"; "" is drop. */
static char *
actions_text(json_t *instructions)
{
    struct sr_buf b = SR_BUF_INIT;
    json_t *list = member(instructions, "instruction"), *ins;
    size_t i;

    json_array_foreach(list, i, ins) {
        json_t *apply = member(ins, "apply-actions"), *act;
        size_t k;
        uint64_t n;

        if (u64_at(ins, "go-to-table.table_id", &n)) {
            sr_buf_printf(&b, "%sGOTO_TABLE:%llu", b.len ? "," : "", (unsigned long long) n);
        }
        if (u64_at(ins, "meter.meter-id", &n)) {
            sr_buf_printf(&b, "%sMETER:%llu", b.len ? "," : "", (unsigned long long) n);
        }
        json_array_foreach(member(apply, "action"), k, act) {
            json_t *out = member(act, "output-action");
            const char *key;
            json_t *v;

            if (out) {
                const char *nc = json_string_value(member(out, "output-node-connector"));
                const char *tok = nc && strrchr(nc, ':') ? strrchr(nc, ':') + 1 : nc;

                sr_buf_printf(&b, "%sOUTPUT:%s", b.len ? "," : "", tok ? tok : "?");
                continue;
            }
            if (member(act, "drop-action")) {
                continue;
            }
            if (member(act, "dec-nw-ttl")) {
                sr_buf_printf(&b, "%sDEC_NW_TTL", b.len ? "," : "");
                continue;
            }
            json_object_foreach(act, key, v) {
                if (strcmp(key, "order")) {
                    sr_buf_printf(&b, "%s%s", b.len ? "," : "", key);
                }
            }
        }
    }
    return sr_buf_steal(&b);
}

static void
parse_table(json_t *t, unsigned want, struct ctl_stats *s)
{
    json_t *ts = member(t, "opendaylight-flow-table-statistics:flow-table-statistics");
    json_t *flows = member(t, "flow-node-inventory:flow"), *f;
    uint64_t id = 0;
    size_t i;

    if (!sr_json_u64(json_object_get(t, "id"), &id)) {
        return;
    }
    if ((want & CTL_WANT_TABLES) && json_is_object(ts)) {
        struct ctl_table tab = { (uint32_t) id, 0, 0, 0 };

        u64_at(ts, "active-flows", &tab.active);
        u64_at(ts, "packets-looked-up", &tab.lookups);
        u64_at(ts, "packets-matched", &tab.matched);
        s->tables = xrealloc(s->tables, (s->ntables + 1) * sizeof *s->tables);
        s->tables[s->ntables++] = tab;
    }
    if (!(want & CTL_WANT_FLOWS)) {
        return;
    }
    json_array_foreach(flows, i, f) {
        json_t *fs = member(f, "opendaylight-flow-statistics:flow-statistics");
        struct ctl_flow fl = { 0 };
        uint64_t v = 0;
        const char *fid = json_string_value(json_object_get(f, "id"));
        json_t *match = member(f, "match");

        fl.table_id = (uint32_t) id;
        fl.priority = u64_at(f, "priority", &v) ? (uint32_t) v : 0;
        u64_at(f, "cookie", &fl.cookie);
        fl.idle_timeout = u64_at(f, "idle-timeout", &v) ? (uint32_t) v : 0;
        fl.hard_timeout = u64_at(f, "hard-timeout", &v) ? (uint32_t) v : 0;
        u64_at(fs, "packet-count", &fl.packets);
        u64_at(fs, "byte-count", &fl.bytes);
        u64_at(fs, "duration.second", &fl.duration_sec);
        u64_at(fs, "duration.nanosecond", &fl.duration_nsec);
        /* A flow without a match matches everything: "{}". */
        fl.match = match ? json_dumps(match, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!fl.match) {
            fl.match = xstrdup("{}");
        }
        fl.actions = actions_text(member(f, "instructions"));
        fl.id = fid ? xstrdup(fid) : NULL;
        s->flows = xrealloc(s->flows, (s->nflows + 1) * sizeof *s->flows);
        s->flows[s->nflows++] = fl;
    }
}

int
ctl_odl_parse_node(const char *text, unsigned want, struct ctl_stats *s, struct sr_error *err)
{
    json_t *root = sr_json_loads(text, "inventory node", err), *node, *v;
    size_t i;

    if (!root) {
        return -SR_EINVAL;
    }
    node = first_node(root);
    if (!json_is_object(node)) {
        json_decref(root);
        return sr_error_set(err, SR_EINVAL, "inventory node: no 'node' in the answer");
    }
    if (want & CTL_WANT_PORTS) {
        json_array_foreach(member(node, "opendaylight-inventory:node-connector"), i, v) {
            parse_connector(v, s);
        }
    }
    json_array_foreach(member(node, "flow-node-inventory:table"), i, v) {
        parse_table(v, want, s);
    }
    json_decref(root);
    return 0;
}

int
ctl_odl_parse_links(const char *text, struct ctl_link **links, size_t *n, struct sr_error *err)
{
    json_t *root = sr_json_loads(text, "topology flow:1", err), *topo, *list, *l;
    struct ctl_link *out;
    size_t i, k = 0;

    if (!root) {
        return -SR_EINVAL;
    }
    topo = member(root, "network-topology:topology");
    if (json_is_array(topo)) {
        topo = json_array_get(topo, 0);
    } else if (!topo) {
        json_t *nt = member(root, "network-topology:network-topology");

        topo = json_array_get(member(nt, "topology"), 0);
    }
    list = member(topo, "link");
    out = xcalloc(json_array_size(list) + 1, sizeof *out);
    json_array_foreach(list, i, l) {
        json_t *src = member(l, "source"), *dst = member(l, "destination");
        uint64_t sp, dp;
        struct ctl_link *o = &out[k];

        if (last_token_u64(json_string_value(member(src, "source-node")), &o->src_dpid) &&
            last_token_u64(json_string_value(member(src, "source-tp")), &sp) &&
            last_token_u64(json_string_value(member(dst, "dest-node")), &o->dst_dpid) &&
            last_token_u64(json_string_value(member(dst, "dest-tp")), &dp)) {
            o->src_port = (uint32_t) sp;
            o->dst_port = (uint32_t) dp;
            k++;
        }
    }
    *links = out;
    *n = k;
    json_decref(root);
    return 0;
}

/* ---- flow bodies ---- */

static json_t *
ensure_obj(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);

    if (!o) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

static json_t *
u64_json(uint64_t v)
{
    if (v <= INT64_MAX) {
        return json_integer((json_int_t) v);
    }
    return json_sprintf("%llu", (unsigned long long) v);
}

static json_t *
odl_match(const struct ctl_flow_mod *f, struct sr_error *err)
{
    json_t *m = json_object(), *v;
    const char *key;

    json_object_foreach(f->match, key, v) {
        const char *s = json_string_value(v);
        uint64_t n = 0;
        bool is_num = sr_json_u64(v, &n);

        if (!strcmp(key, "in_port") && is_num) {
            json_object_set_new(m, "in-port", json_sprintf("openflow:%llu:%llu",
                                                           (unsigned long long) f->dpid,
                                                           (unsigned long long) n));
        } else if (!strcmp(key, "eth_type") && is_num) {
            json_object_set_new(ensure_obj(ensure_obj(m, "ethernet-match"), "ethernet-type"),
                                "type", json_integer((json_int_t) n));
        } else if ((!strcmp(key, "eth_src") || !strcmp(key, "eth_dst")) && s) {
            json_object_set_new(ensure_obj(ensure_obj(m, "ethernet-match"),
                                           key[4] == 's' ? "ethernet-source"
                                                         : "ethernet-destination"),
                                "address", json_string(s));
        } else if ((!strcmp(key, "ipv4_src") || !strcmp(key, "ipv4_dst")) && s) {
            json_object_set_new(m, key[5] == 's' ? "ipv4-source" : "ipv4-destination",
                                strchr(s, '/') ? json_string(s) : json_sprintf("%s/32", s));
        } else if (!strcmp(key, "ip_proto") && is_num) {
            json_object_set_new(ensure_obj(m, "ip-match"), "ip-protocol",
                                json_integer((json_int_t) n));
        } else if (is_num && (!strcmp(key, "tcp_src") || !strcmp(key, "tcp_dst") ||
                              !strcmp(key, "udp_src") || !strcmp(key, "udp_dst"))) {
            char name[32];

            snprintf(name, sizeof name, "%.3s-%s-port", key,
                     key[4] == 's' ? "source" : "destination");
            json_object_set_new(m, name, json_integer((json_int_t) n));
        } else {
            json_decref(m);
            sr_error_set(err, SR_EINVAL, "match field '%s' cannot be written for "
                                         "OpenDaylight",
                         key);
            return NULL;
        }
    }
    return m;
}

json_t *
ctl_odl_flow_body(const struct ctl_flow_mod *f, struct sr_error *err)
{
    json_t *match = odl_match(f, err), *acts = json_array(), *ins = json_array(), *a, *flow;
    size_t i;
    int order = 0;

    if (!match) {
        json_decref(acts);
        json_decref(ins);
        return NULL;
    }
    if (!f->id) {
        json_decref(match);
        json_decref(acts);
        json_decref(ins);
        sr_error_set(err, SR_EINVAL, "OpenDaylight flows need an id");
        return NULL;
    }
    json_array_foreach(f->actions, i, a) {
        const char *type = json_string_value(json_object_get(a, "type"));
        json_t *port = json_object_get(a, "port");
        uint64_t n;

        if (type && !strcmp(type, "OUTPUT") && port) {
            json_t *nc = json_is_string(port) ? json_string(json_string_value(port))
                         : sr_json_u64(port, &n) ? json_sprintf("%llu", (unsigned long long) n)
                                                 : NULL;

            if (!nc) {
                break;
            }
            json_array_append_new(acts, json_pack("{s:i, s:{s:o, s:i}}", "order", order++,
                                                  "output-action", "output-node-connector",
                                                  nc, "max-length", 65535));
        } else if (type && !strcmp(type, "DEC_NW_TTL")) {
            json_array_append_new(acts, json_pack("{s:i, s:{}}", "order", order++, "dec-nw-ttl"));
        } else if (type && !strcmp(type, "METER") &&
                   sr_json_u64(json_object_get(a, "meter_id"), &n)) {
            json_array_append_new(ins, json_pack("{s:i, s:{s:I}}", "order", 0, "meter",
                                                 "meter-id", (json_int_t) n));
        } else {
            json_decref(match);
            json_decref(acts);
            json_decref(ins);
            sr_error_set(err, SR_EINVAL, "action %zu cannot be written for OpenDaylight", i);
            return NULL;
        }
    }
    if (!json_array_size(acts)) {
        json_array_append_new(acts, json_pack("{s:i, s:{}}", "order", 0, "drop-action"));
    }
    json_array_append_new(ins, json_pack("{s:i, s:{s:o}}", "order", (int) json_array_size(ins),
                                         "apply-actions", "action", acts));
    flow = json_pack("{s:s, s:i, s:i, s:o, s:i, s:i, s:o, s:{s:o}}", "id", f->id, "table_id",
                     (int) f->table_id, "priority", (int) f->priority, "cookie",
                     u64_json(f->cookie), "idle-timeout", (int) f->idle_timeout,
                     "hard-timeout", (int) f->hard_timeout, "match", match, "instructions",
                     "instruction", ins);
    return json_pack("{s:[o]}", "flow-node-inventory:flow", flow);
}
