#include "ryu.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json.h"
#include "util.h"

static json_t *
load(const char *text, const char *what, struct sr_error *err)
{
    return sr_json_loads(text, what, err);
}

int
ctl_ryu_parse_switches(const char *text, uint64_t **dpids, size_t *n,
                       struct sr_error *err)
{
    json_t *j = load(text, "/stats/switches", err);
    uint64_t *out;
    size_t i;
    json_t *v;

    if (!j) {
        return -SR_EINVAL;
    }
    if (!json_is_array(j)) {
        json_decref(j);
        return sr_error_set(err, SR_EINVAL, "/stats/switches: expected an array");
    }
    out = xcalloc(json_array_size(j) + 1, sizeof *out);
    json_array_foreach(j, i, v) {
        if (!sr_json_u64(v, &out[i])) {
            free(out);
            json_decref(j);
            return sr_error_set(err, SR_EINVAL,
                                "/stats/switches: entry %zu is not a DPID", i);
        }
    }
    *n = json_array_size(j);
    *dpids = out;
    json_decref(j);
    return 0;
}

/* Ryu writes DPIDs and ports in topology records as hex strings. */
static bool
hex_field(json_t *obj, const char *key, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *out = strtoull(s, &end, 16);
    return !errno && !*end;
}

int
ctl_ryu_parse_links(const char *text, struct ctl_link **links, size_t *n,
                    struct sr_error *err)
{
    json_t *j = load(text, "/v1.0/topology/links", err);
    struct ctl_link *out;
    size_t i;
    json_t *v;

    if (!j) {
        return -SR_EINVAL;
    }
    if (!json_is_array(j)) {
        json_decref(j);
        return sr_error_set(err, SR_EINVAL, "/v1.0/topology/links: expected an array");
    }
    out = xcalloc(json_array_size(j) + 1, sizeof *out);
    json_array_foreach(j, i, v) {
        json_t *src = json_object_get(v, "src"), *dst = json_object_get(v, "dst");
        uint64_t sp, dp;

        if (!hex_field(src, "dpid", &out[i].src_dpid) || !hex_field(src, "port_no", &sp) ||
            !hex_field(dst, "dpid", &out[i].dst_dpid) || !hex_field(dst, "port_no", &dp)) {
            free(out);
            json_decref(j);
            return sr_error_set(err, SR_EINVAL,
                                "/v1.0/topology/links: entry %zu lacks src/dst dpid "
                                "and port_no",
                                i);
        }
        out[i].src_port = (uint32_t) sp;
        out[i].dst_port = (uint32_t) dp;
    }
    *n = json_array_size(j);
    *links = out;
    json_decref(j);
    return 0;
}

static int
get(struct ctl_http *h, const char *base, const char *path, struct sr_buf *body,
    struct sr_error *err)
{
    char *url = xasprintf("%s%s", base, path);
    int rc = ctl_http_request(h, "GET", url, NULL, body, true, err);

    free(url);
    return rc < 0 ? rc : 0;
}

int
ctl_ryu_switches(struct ctl_http *h, const char *base, uint64_t **dpids, size_t *n,
                 struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    int rc = get(h, base, "/stats/switches", &body, err);

    if (rc == 0) {
        rc = ctl_ryu_parse_switches(sr_buf_cstr(&body), dpids, n, err);
    }
    sr_buf_release(&body);
    return rc;
}

int
ctl_ryu_links(struct ctl_http *h, const char *base, struct ctl_link **links, size_t *n,
              struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    int rc = get(h, base, "/v1.0/topology/links", &body, err);

    if (rc == 0) {
        rc = ctl_ryu_parse_links(sr_buf_cstr(&body), links, n, err);
    }
    sr_buf_release(&body);
    return rc;
}

/* ---- statistics (merged into a ctl_stats) ---- */

/* Ryu wraps each answer as {"<dpid>": [...]}: the one member's array. */
static json_t *
unwrap(json_t *j, const char *what, struct sr_error *err)
{
    json_t *v;

    if (!json_is_object(j) || json_object_size(j) != 1) {
        sr_error_set(err, SR_EINVAL, "%s: expected {\"<dpid>\": [...]}", what);
        return NULL;
    }
    v = json_object_iter_value(json_object_iter(j));
    if (!json_is_array(v)) {
        sr_error_set(err, SR_EINVAL, "%s: expected an array under the DPID", what);
        return NULL;
    }
    return v;
}

/* port_no is a number, or a reserved name such as "LOCAL". */
static bool
port_number(json_t *v, uint32_t *out)
{
    uint64_t n;

    if (json_is_string(v) && !strcmp(json_string_value(v), "LOCAL")) {
        *out = CTL_PORT_LOCAL;
        return true;
    }
    if (sr_json_u64(v, &n) && n <= UINT32_MAX) {
        *out = (uint32_t) n;
        return true;
    }
    return false;
}

static struct ctl_port *
port_slot(struct ctl_stats *s, uint32_t port_no)
{
    struct ctl_port *p;

    for (size_t i = 0; i < s->nports; i++) {
        if (s->ports[i].port_no == port_no) {
            return &s->ports[i];
        }
    }
    s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof *s->ports);
    p = &s->ports[s->nports++];
    memset(p, 0, sizeof *p);
    p->port_no = port_no;
    return p;
}

static uint64_t
u64_member(json_t *obj, const char *key, bool *ok)
{
    uint64_t v = 0;

    if (!sr_json_u64(json_object_get(obj, key), &v)) {
        *ok = false;
    }
    return v;
}

static int
ryu_port_stats(json_t *arr, struct ctl_stats *s, struct sr_error *err)
{
    static const char *const keys[CTL_NCOUNTERS] = {
        "rx_packets", "tx_packets", "rx_bytes",  "tx_bytes",     "rx_dropped",  "tx_dropped",
        "rx_errors",  "tx_errors",  "rx_frame_err", "rx_over_err", "rx_crc_err", "collisions",
    };
    json_t *v;
    size_t i;
    int rc = 0;

    json_array_foreach(arr, i, v) {
        uint32_t no;
        bool ok = true;
        struct ctl_port *p;

        if (!port_number(json_object_get(v, "port_no"), &no)) {
            rc = sr_error_set(err, SR_EINVAL, "/stats/port: entry %zu has no port_no", i);
            break;
        }
        p = port_slot(s, no);
        for (int k = 0; k < CTL_NCOUNTERS; k++) {
            p->c[k] = u64_member(v, keys[k], &ok);
        }
        p->duration_sec = u64_member(v, "duration_sec", &ok);
        p->duration_nsec = u64_member(v, "duration_nsec", &ok);
        if (!ok) {
            rc = sr_error_set(err, SR_EINVAL,
                              "/stats/port: port %u lacks a counter or has a bad one", no);
            break;
        }
        p->has_stats = true;
    }
    return rc;
}


static int
ryu_port_desc(json_t *arr, struct ctl_stats *s, struct sr_error *err)
{
    json_t *v;
    size_t i;
    int rc = 0;

    json_array_foreach(arr, i, v) {
        uint32_t no;
        uint64_t state;
        struct ctl_port *p;
        const char *name = json_string_value(json_object_get(v, "name"));

        if (!port_number(json_object_get(v, "port_no"), &no) ||
            !sr_json_u64(json_object_get(v, "state"), &state)) {
            rc = sr_error_set(err, SR_EINVAL,
                              "/stats/portdesc: entry %zu lacks port_no or state", i);
            break;
        }
        p = port_slot(s, no);
        /* OpenFlow 1.3 port state bits: LINK_DOWN 1, BLOCKED 2, LIVE 4. */
        p->link_down = state & 1;
        p->blocked = (state & 2) != 0;
        p->live = (state & 4) != 0;
        p->has_state = true;
        sr_strlcpy(p->name, name ? name : "", sizeof p->name);
    }
    return rc;
}


static int
ryu_tables(json_t *arr, struct ctl_stats *s, struct sr_error *err)
{
    json_t *v;
    size_t i;
    int rc = 0;

    json_array_foreach(arr, i, v) {
        struct ctl_table t = { 0 };
        bool ok = true;

        t.table_id = (uint32_t) u64_member(v, "table_id", &ok);
        t.active = u64_member(v, "active_count", &ok);
        t.lookups = u64_member(v, "lookup_count", &ok);
        t.matched = u64_member(v, "matched_count", &ok);
        if (!ok) {
            rc = sr_error_set(err, SR_EINVAL, "/stats/table: entry %zu is incomplete", i);
            break;
        }
        /* Open vSwitch reports all 255 tables; keep the ones in use. */
        if (t.table_id != 0 && !t.active && !t.lookups) {
            continue;
        }
        s->tables = xrealloc(s->tables, (s->ntables + 1) * sizeof *s->tables);
        s->tables[s->ntables++] = t;
    }
    return rc;
}


static int
ryu_flows(json_t *arr, struct ctl_stats *s, struct sr_error *err)
{
    json_t *v;
    size_t i;
    int rc = 0;

    s->flows = xcalloc(json_array_size(arr) + 1, sizeof *s->flows);
    json_array_foreach(arr, i, v) {
        struct ctl_flow *f = &s->flows[s->nflows];
        struct sr_buf acts = SR_BUF_INIT;
        json_t *a;
        size_t k;
        bool ok = true;

        f->table_id = (uint32_t) u64_member(v, "table_id", &ok);
        f->priority = (uint32_t) u64_member(v, "priority", &ok);
        f->cookie = u64_member(v, "cookie", &ok);
        f->idle_timeout = (uint32_t) u64_member(v, "idle_timeout", &ok);
        f->hard_timeout = (uint32_t) u64_member(v, "hard_timeout", &ok);
        f->packets = u64_member(v, "packet_count", &ok);
        f->bytes = u64_member(v, "byte_count", &ok);
        f->duration_sec = u64_member(v, "duration_sec", &ok);
        {
            bool have_nsec = true; /* Ryu sends it; older answers may not */

            f->duration_nsec = u64_member(v, "duration_nsec", &have_nsec);
            f->duration_nsec = have_nsec && f->duration_nsec < 1000000000u ? f->duration_nsec : 0;
        }
        if (!ok || !json_is_object(json_object_get(v, "match")) ||
            !json_is_array(json_object_get(v, "actions"))) {
            rc = sr_error_set(err, SR_EINVAL, "/stats/flow: entry %zu is incomplete", i);
            break;
        }
        f->match = json_dumps(json_object_get(v, "match"), JSON_COMPACT | JSON_SORT_KEYS);
        json_array_foreach(json_object_get(v, "actions"), k, a) {
            char *text_a = json_is_string(a) ? NULL : json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);

            sr_buf_printf(&acts, "%s%s", k ? "," : "",
                          json_is_string(a) ? json_string_value(a) : text_a);
            free(text_a);
        }
        f->actions = sr_buf_steal(&acts);
        s->nflows++;
    }
    return rc;
}


/* Parses a {"<dpid>": [...]} answer of 'what' with 'parse'. */
static int
parse_wrapped(const char *text, const char *what,
              int (*parse)(json_t *arr, struct ctl_stats *s, struct sr_error *err),
              struct ctl_stats *s, struct sr_error *err)
{
    json_t *j = load(text, what, err), *arr;
    int rc;

    if (!j) {
        return -SR_EINVAL;
    }
    arr = unwrap(j, what, err);
    rc = arr ? parse(arr, s, err) : -SR_EINVAL;
    json_decref(j);
    return rc;
}

int
ctl_ryu_parse_port_stats(const char *text, struct ctl_stats *s, struct sr_error *err)
{
    return parse_wrapped(text, "/stats/port", ryu_port_stats, s, err);
}

int
ctl_ryu_parse_port_desc(const char *text, struct ctl_stats *s, struct sr_error *err)
{
    return parse_wrapped(text, "/stats/portdesc", ryu_port_desc, s, err);
}

int
ctl_ryu_parse_tables(const char *text, struct ctl_stats *s, struct sr_error *err)
{
    return parse_wrapped(text, "/stats/table", ryu_tables, s, err);
}

int
ctl_ryu_parse_flows(const char *text, struct ctl_stats *s, struct sr_error *err)
{
    return parse_wrapped(text, "/stats/flow", ryu_flows, s, err);
}

int
ctl_ryu_parse_sweep(const char *text, const uint64_t *dpids, size_t n, unsigned want,
                    struct ctl_stats *stats, struct sr_error *err)
{
    json_t *j = load(text, "/simrun/v1/sweep", err);
    int failed = 0;

    if (!j) {
        return -SR_EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return sr_error_set(err, SR_EINVAL, "/simrun/v1/sweep: expected an object");
    }
    for (size_t i = 0; i < n; i++) {
        char key[32];
        json_t *e;
        struct sr_error perr = { 0 };
        int rc = 0;

        snprintf(key, sizeof key, "%llu", (unsigned long long) dpids[i]);
        e = json_object_get(j, key);
        if (!json_is_object(e)) {
            rc = sr_error_set(&perr, SR_ENOTFOUND, "switch %016llx is not connected",
                              (unsigned long long) dpids[i]);
        } else {
            json_t *port = json_object_get(e, "port"), *desc = json_object_get(e, "portdesc");
            json_t *table = json_object_get(e, "table"), *flow = json_object_get(e, "flow");

            if ((want & CTL_WANT_PORTS) &&
                (!json_is_array(port) || !json_is_array(desc) ||
                 ryu_port_stats(port, &stats[i], &perr) < 0 ||
                 ryu_port_desc(desc, &stats[i], &perr) < 0)) {
                rc = perr.code ? -perr.code
                               : sr_error_set(&perr, SR_EINVAL, "no port statistics");
            } else if ((want & CTL_WANT_TABLES) &&
                       (!json_is_array(table) || ryu_tables(table, &stats[i], &perr) < 0)) {
                rc = perr.code ? -perr.code
                               : sr_error_set(&perr, SR_EINVAL, "no table statistics");
            } else if ((want & CTL_WANT_FLOWS) &&
                       (!json_is_array(flow) || ryu_flows(flow, &stats[i], &perr) < 0)) {
                rc = perr.code ? -perr.code : sr_error_set(&perr, SR_EINVAL, "no flows");
            }
        }
        if (rc < 0) {
            stats[i].status = rc;
            snprintf(stats[i].error, sizeof stats[i].error, "%.*s", (int) sizeof stats[i].error - 1,
                     perr.msg);
            if (failed++ == 0) {
                sr_error_set(err, perr.code, "/simrun/v1/sweep: %s", perr.msg);
            }
        }
    }
    json_decref(j);
    return failed;
}
