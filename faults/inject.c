/* The fault catalogue's steps.  Flow faults snapshot a switch's table-0
 * flows through the controller, write changed versions, and on revert write
 * the originals back; rule faults add high-priority rules and delete them;
 * network faults go through the Mininet control channel; traffic faults
 * raise the hosts' traffic through their simtraffic agents and are seen in
 * the switch ports' byte counters; controller_down stops the controller.  Each family is a few functions in the table at
 * the end. */
#include "inject.h"

#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "services.h"
#include "util.h"

/* A flow as it is written back: what identifies it and what it does. */
struct saved_flow {
    uint32_t priority, idle, hard;
    uint64_t cookie;
    char *id;                 /* OpenDaylight's flow id, NULL for Ryu */
    char *match;              /* canonical JSON (Ryu's names) */
    char *actions;            /* "OUTPUT:2,OUTPUT:CONTROLLER" */
    uint64_t age;             /* its duration_sec when it was read */
};

struct sw_snap {
    char *sw;
    uint64_t dpid;
    struct saved_flow *flows;
    size_t n;
};

struct added_rule {
    uint64_t dpid;
    char *match;
    char *actions;
    uint32_t priority;
};

struct flt_run {
    const struct flt_type *type;
    struct flt_spec spec;
    char *target;
    struct sw_snap *snaps;    /* flow faults: the switches' flows before */
    size_t nsnaps;
    struct added_rule *rules; /* rule faults: what was added */
    size_t nrules;
    struct flt_link_info link;
    struct flt_host_info host;
    uint32_t meter_id;
    uint32_t inport;          /* flow_inport_changed: the port written in */
    /* Traffic faults: the switch ports toward the hosts whose traffic is
     * raised, the rate they carried before and what the fault adds. */
    const char **hosts;
    size_t nhosts;
    uint64_t *probe_dpid;
    uint32_t *probe_port;
    double base_kbps, add_kbps;
    double win_t;             /* start of the current measuring window */
    uint64_t win_bytes;
    bool have_win;
    int verdict;              /* the last window's: 1 raised, 0 normal, -1 not yet seen */
    double last_kbps;
    const char **touched_sw;
    uint32_t *touched_port;
    size_t ntouched;
    double snap_t;            /* when the snapshots were read (sr_now) */
    bool verified;            /* seen in effect once: from then on a flow the
                                 controller put back counts as healed */
    /* Flow faults on local switches: the lines 'ovs-ofctl dump-flows'
     * showed before, of the flows the fault changes ("sw\tline"). */
    char **orig;
    double *orig_age;         /* their durations (s), read at orig_t */
    double orig_t;
    size_t norig;
    /* Flow faults, from the last look after verification: how many flows
     * the fault changed, and how many of them were still as it made them. */
    size_t changed, in_effect;
};

static int witness_before(const struct flt_env *env, struct flt_run *r, struct sr_error *err);

/* ---- helpers ---- */

static void
touch(struct flt_run *r, const char *sw, uint32_t port)
{
    r->touched_sw = xrealloc(r->touched_sw, (r->ntouched + 1) * sizeof *r->touched_sw);
    r->touched_port = xrealloc(r->touched_port, (r->ntouched + 1) * sizeof *r->touched_port);
    r->touched_sw[r->ntouched] = sw;
    r->touched_port[r->ntouched] = port;
    r->ntouched++;
}

size_t
flt_run_touched(const struct flt_run *run, const char ***sws, uint32_t **ports)
{
    *sws = run->touched_sw;
    *ports = run->touched_port;
    return run->ntouched;
}

/* A match in the names Ryu's /stats/flow answers with (OpenFlow 1.0's:
 * eth_type is dl_type, ipv4_dst is nw_dst, tcp_dst is tp_dst ...), as
 * canonical JSON, so a rule as written compares with the rule read back. */
static char *
canon_match(const char *match)
{
    static const char *const names[][2] = {
        { "eth_src", "dl_src" },  { "eth_dst", "dl_dst" },   { "eth_type", "dl_type" },
        { "vlan_vid", "dl_vlan" }, { "ipv4_src", "nw_src" }, { "ipv4_dst", "nw_dst" },
        { "ip_proto", "nw_proto" }, { "tcp_src", "tp_src" }, { "tcp_dst", "tp_dst" },
        { "udp_src", "tp_src" },  { "udp_dst", "tp_dst" },
    };
    json_t *in = json_loads(match, 0, NULL), *out = json_object(), *v;
    const char *key;
    char *text;

    json_object_foreach(in, key, v) {
        const char *name = key;

        for (size_t i = 0; i < SR_ARRAY_SIZE(names); i++) {
            if (!strcmp(key, names[i][0])) {
                name = names[i][1];
            }
        }
        json_object_set(out, name, v);
    }
    text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(in);
    json_decref(out);
    return text ? text : xstrdup(match);
}

/* Ryu action strings back to the dicts /stats/flowentry takes. */
static json_t *
parse_actions(const char *text, struct sr_error *err)
{
    json_t *out = json_array();
    char *copy = xstrdup(text), *save = NULL;

    for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(a, ':');
        int64_t n;

        if (colon) {
            *colon = '\0';
        }
        if (!strcmp(a, "OUTPUT") && colon) {
            /* Ryu's strings drop max_len: to the controller, the whole
             * packet (OFPCML_NO_BUFFER), as controllers install it. */
            json_array_append_new(out, sr_parse_i64(colon + 1, 0, UINT32_MAX, &n)
                                           ? json_pack("{s:s, s:I}", "type", "OUTPUT", "port",
                                                       (json_int_t) n)
                                           : json_pack("{s:s, s:s, s:i}", "type", "OUTPUT",
                                                       "port", colon + 1, "max_len", 65535));
        } else if (!strcmp(a, "METER") && colon && sr_parse_i64(colon + 1, 0, UINT32_MAX, &n)) {
            json_array_append_new(out, json_pack("{s:s, s:I}", "type", "METER", "meter_id",
                                                 (json_int_t) n));
        } else if (!strcmp(a, "GOTO_TABLE") && colon && sr_parse_i64(colon + 1, 0, 254, &n)) {
            json_array_append_new(out, json_pack("{s:s, s:I}", "type", "GOTO_TABLE",
                                                 "table_id", (json_int_t) n));
        } else if (!strcmp(a, "DEC_NW_TTL") && !colon) {
            json_array_append_new(out, json_pack("{s:s}", "type", "DEC_NW_TTL"));
        } else {
            sr_error_set(err, SR_EINVAL, "cannot write back action '%s'", a);
            json_decref(out);
            free(copy);
            return NULL;
        }
    }
    free(copy);
    return out;
}

/* Flow changes gathered to be written at once (ctl_client_flows): a fault
 * on every switch makes hundreds, and one after another they take long. */
struct flow_batch {
    enum ctl_flow_cmd *cmd;
    struct ctl_flow_mod *mod; /* match, actions and id owned here */
    size_t n, cap, capm;
};

static void
batch_release(struct flow_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        json_decref(b->mod[i].match);
        json_decref(b->mod[i].actions);
        free((char *) b->mod[i].id);
    }
    free(b->cmd);
    free(b->mod);
    memset(b, 0, sizeof *b);
}

static int
batch_flush(const struct flt_env *env, struct flow_batch *b, struct sr_error *err)
{
    int failed = b->n ? ctl_client_flows(env->ctl, b->cmd, b->mod, b->n, err) : 0;

    if (failed) {
        sr_error_prefix(err, "%d of %zu flow changes failed", failed, b->n);
    }
    batch_release(b);
    return failed ? -SR_EIO : 0;
}

/* Writes one flow ('cmd') on 'dpid', or with 'b' adds it to the batch. */
static int
write_flow_id(const struct flt_env *env, struct flow_batch *b, enum ctl_flow_cmd cmd,
              uint64_t dpid, uint32_t priority, uint64_t cookie, uint32_t idle, uint32_t hard,
              const char *match, const char *actions, const char *flow_id,
              struct sr_error *err)
{
    json_t *m = json_loads(match, 0, NULL), *a = parse_actions(actions, err);
    char id[64];
    struct ctl_flow_mod f = { .dpid = dpid, .priority = priority, .cookie = cookie,
                              .idle_timeout = idle, .hard_timeout = hard, .match = m,
                              .actions = a, .id = flow_id ? flow_id : id };
    uint64_t h = 0xcbf29ce484222325ULL;
    int rc;

    /* OpenDaylight names flows: a new rule gets an id derived (FNV-1a) from
     * its priority and match, so reverting finds it again. */
    for (const char *p = match; *p; p++) {
        h = (h ^ (unsigned char) *p) * 0x100000001b3ULL;
    }
    snprintf(id, sizeof id, "simrun-%u-%016llx", priority, (unsigned long long) h);
    if (!m || !a) {
        json_decref(m);
        json_decref(a);
        return a ? sr_error_set(err, SR_EINVAL, "cannot read match %s", match) : -SR_EINVAL;
    }
    if (b) {
        xgrow((void **) &b->cmd, &b->cap, b->n + 1, sizeof *b->cmd);
        xgrow((void **) &b->mod, &b->capm, b->n + 1, sizeof *b->mod);
        f.id = xstrdup(f.id);
        b->cmd[b->n] = cmd;
        b->mod[b->n++] = f;
        return 0;
    }
    rc = ctl_client_flow(env->ctl, cmd, &f, err);
    json_decref(m);
    json_decref(a);
    return rc;
}

static int
write_flow(const struct flt_env *env, enum ctl_flow_cmd cmd, uint64_t dpid, uint32_t priority,
           uint64_t cookie, uint32_t idle, uint32_t hard, const char *match,
           const char *actions, struct sr_error *err)
{
    return write_flow_id(env, NULL, cmd, dpid, priority, cookie, idle, hard, match, actions,
                         NULL, err);
}

/* The flows of table 0 on 'dpid'. */
static int
read_flows(const struct flt_env *env, uint64_t dpid, struct ctl_stats *st, struct sr_error *err)
{
    int failed = ctl_client_sweep(env->ctl, &dpid, 1, CTL_WANT_FLOWS, st, err);

    if (failed) {
        ctl_stats_release(st);
        return -SR_EIO;
    }
    return 0;
}

static bool
is_table_miss(const struct ctl_flow *f)
{
    return f->priority == 0 && !strcmp(f->match, "{}");
}

static bool
is_lldp_rule(const struct ctl_flow *f)
{
    return strstr(f->match, "\"dl_type\":35020") && strstr(f->actions, "CONTROLLER");
}

/* The flows a fault rewrites: all but the table-miss entry and the rule
 * that sends LLDP to the controller (the seed: "except the one to the
 * controller"); flows_deleted keeps only the table-miss entry (the seed:
 * "except the statistics entry").  The one rule for both views of a flow,
 * the controller's and the switch's. */
static bool
fault_changes(const struct flt_type *type, bool table_miss, bool lldp)
{
    return !table_miss && (!strcmp(type->name, "flows_deleted") || !lldp);
}

static bool
rewritable_for(const struct flt_type *type, const struct saved_flow *f)
{
    struct ctl_flow cf = { .priority = f->priority, .match = f->match, .actions = f->actions };

    return fault_changes(type, is_table_miss(&cf), is_lldp_rule(&cf));
}

/* ---- flow faults ---- */

/* Keeps the table-0 flows of switch 'sw' from 'st'. */
static void
keep_snapshot(struct flt_run *r, const char *sw, const struct ctl_stats *st)
{
    struct sw_snap *s;

    r->snaps = xrealloc(r->snaps, (r->nsnaps + 1) * sizeof *r->snaps);
    s = &r->snaps[r->nsnaps++];
    s->sw = xstrdup(sw);
    s->dpid = st->dpid;
    s->n = 0;
    s->flows = xcalloc(st->nflows + 1, sizeof *s->flows);
    for (size_t i = 0; i < st->nflows; i++) {
        const struct ctl_flow *f = &st->flows[i];

        if (f->table_id != 0) {
            continue;
        }
        s->flows[s->n++] = (struct saved_flow) { f->priority, f->idle_timeout, f->hard_timeout,
                                                 f->cookie, f->id ? xstrdup(f->id) : NULL,
                                                 xstrdup(f->match), xstrdup(f->actions),
                                                 f->duration_sec };
    }
    touch(r, s->sw, 0);
}

/* Snapshots the target switch, or every switch for "all", in one sweep. */
static int
switches_of(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    bool all = !strcmp(r->target, "all");
    size_t n = all ? env->nswitches : 1;
    uint64_t *dpids = xcalloc(n + 1, sizeof *dpids);
    struct ctl_stats *st = xcalloc(n + 1, sizeof *st);
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *sw = all ? env->switches[i] : r->target;

        if (!env->dpid_of(env->ctx, sw, &dpids[i])) {
            rc = sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", sw);
        }
    }
    if (rc == 0 && ctl_client_sweep(env->ctl, dpids, n, CTL_WANT_FLOWS, st, err) != 0) {
        rc = -SR_EIO;
    }
    r->snap_t = sr_now();
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            keep_snapshot(r, all ? env->switches[i] : r->target, &st[i]);
        }
        ctl_stats_release(&st[i]);
    }
    free(st);
    free(dpids);
    return rc;
}

/* The switch's ports that are used in its flows' outputs. */
static size_t
output_ports(const struct sw_snap *s, uint32_t *ports, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++) {
        for (const char *p = strstr(s->flows[i].actions, "OUTPUT:"); p;
             p = strstr(p + 7, "OUTPUT:")) {
            int64_t v;
            char num[16];
            size_t len = strcspn(p + 7, ",");

            snprintf(num, sizeof num, "%.*s", (int) len, p + 7);
            if (!sr_parse_i64(num, 1, 0xffffff00, &v)) {
                continue;
            }
            bool seen = false;

            for (size_t k = 0; k < n; k++) {
                seen = seen || ports[k] == (uint32_t) v;
            }
            if (!seen && n < max) {
                ports[n++] = (uint32_t) v;
            }
        }
    }
    return n;
}

/* Rewrites every output of a flow to the next port of the switch. */
static char *
shifted_actions(const char *actions, const uint32_t *ports, size_t nports)
{
    struct sr_buf b = SR_BUF_INIT;
    char *copy = xstrdup(actions), *save = NULL;

    for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        int64_t v;

        if (!strncmp(a, "OUTPUT:", 7) && sr_parse_i64(a + 7, 1, 0xffffff00, &v)) {
            size_t k = 0;

            while (k < nports && ports[k] != (uint32_t) v) {
                k++;
            }
            sr_buf_printf(&b, "%sOUTPUT:%u", b.len ? "," : "", ports[(k + 1) % nports]);
        } else {
            sr_buf_printf(&b, "%s%s", b.len ? "," : "", a);
        }
    }
    free(copy);
    return sr_buf_steal(&b);
}

/* Adds "in_port": 'port' to a match. */
static char *
with_inport(const char *match, uint32_t port)
{
    json_t *m = json_loads(match, 0, NULL);
    char *out;

    json_object_set_new(m, "in_port", json_integer(port));
    out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    return out;
}

static int
inject_flows(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    const char *name = r->type->name;
    uint32_t timeout = (uint32_t) ((r->spec.timeout_ms + 999) / 1000);
    struct flow_batch b = { 0 };

    if (switches_of(env, r, err) < 0 ||
        (env->dump_flows && witness_before(env, r, err) < 0)) {
        return -1;
    }
    for (size_t si = 0; si < r->nsnaps; si++) {
        struct sw_snap *s = &r->snaps[si];
        uint32_t ports[64];
        size_t nports = output_ports(s, ports, SR_ARRAY_SIZE(ports));

        for (size_t i = 0; i < s->n; i++) {
            const struct saved_flow *f = &s->flows[i];
            int rc = 0;

            if (!rewritable_for(r->type, f)) {
                continue;
            }
            if (!strcmp(name, "flow_output_changed")) {
                char *acts;

                if (nports < 2) {
                    batch_release(&b);
                    return sr_error_set(err, SR_EINVAL,
                                        "switch %s outputs to fewer than two ports: nothing "
                                        "to change outputs to",
                                        s->sw);
                }
                acts = shifted_actions(f->actions, ports, nports);
                rc = write_flow_id(env, &b, CTL_FLOW_MODIFY, s->dpid, f->priority, f->cookie, f->idle,
                                   f->hard, f->match, acts, f->id, err);
                free(acts);
            } else if (!strcmp(name, "flow_inport_changed")) {
                /* The in-port is part of the match: the flow is replaced by
                 * one that only matches packets from a port they never come
                 * from (the highest port the switch outputs to). */
                char *m;

                r->inport = nports ? ports[nports - 1] : 1;
                m = with_inport(f->match, r->inport);
                rc = write_flow_id(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie, 0, 0,
                                   f->match, f->actions, f->id, err);
                if (rc == 0) {
                    rc = write_flow_id(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie,
                                       f->idle, f->hard, m, f->actions, NULL, err);
                }
                free(m);
            } else if (!strcmp(name, "flow_idle_timeout") || !strcmp(name, "flow_hard_timeout")) {
                /* A flow's timeouts cannot be modified: adding it again with
                 * the same match and priority replaces it. */
                bool idle = name[5] == 'i';

                rc = write_flow_id(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie,
                                   idle ? timeout : f->idle, idle ? f->hard : timeout, f->match,
                                   f->actions, f->id, err);
            } else if (!strcmp(name, "flows_deleted")) {
                rc = write_flow_id(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie, 0, 0,
                                   f->match, f->actions, f->id, err);
            } else if (!strcmp(name, "rate_limit")) {
                char *acts = xasprintf("METER:%u,%s", r->meter_id, f->actions);

                rc = write_flow_id(env, &b, CTL_FLOW_MODIFY, s->dpid, f->priority, f->cookie, f->idle,
                                   f->hard, f->match, acts, f->id, err);
                free(acts);
            }
            if (rc < 0) {
                sr_error_prefix(err, "%s on %s", name, s->sw);
                batch_release(&b);
                return -1;
            }
        }
    }
    if (batch_flush(env, &b, err) < 0) {
        sr_error_prefix(err, "%s", name);
        return -1;
    }
    return 0;
}

/* Table 0 of each snapshotted switch as it is now. */
/* Whether the controller has put 'f' back as it was after the fault
 * changed it: the original flow is there, but younger than the one read
 * before the fault would be by now. */
static bool
reinstalled(const struct flt_run *r, const struct saved_flow *f, const struct ctl_stats *st)
{
    double expected = (double) f->age + (sr_now() - r->snap_t);

    for (size_t k = 0; k < st->nflows; k++) {
        const struct ctl_flow *g = &st->flows[k];

        if (g->table_id == 0 && g->priority == f->priority && !strcmp(g->match, f->match) &&
            !strcmp(g->actions, f->actions) && g->idle_timeout == f->idle &&
            g->hard_timeout == f->hard && (double) g->duration_sec + 1.0 < expected) {
            return true;
        }
    }
    return false;
}

/* sr_buf_printf into 'b' when there is one. */
static void why_printf(struct sr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
why_printf(struct sr_buf *b, const char *fmt, ...)
{
    va_list ap;

    if (!b) {
        return;
    }
    va_start(ap, fmt);
    sr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static int
check_flows(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
            struct sr_error *err)
{
    size_t total = 0, back = 0;
    const char *name = r->type->name;
    uint32_t timeout = (uint32_t) ((r->spec.timeout_ms + 999) / 1000);
    int ok = 1;
    /* Once the fault was seen in effect, a look counts how many of the
     * changed flows still are, instead of stopping at the first that is
     * not: a controller heals a fault flow by flow. */
    bool counting = want_fault && r->verified;
    size_t changed = 0, healed = 0;

    uint64_t *dpids = xcalloc(r->nsnaps + 1, sizeof *dpids);
    struct ctl_stats *all = xcalloc(r->nsnaps + 1, sizeof *all);

    /* Every switch's flows in one sweep: with 'all' that is 20 or more. */
    for (size_t si = 0; si < r->nsnaps; si++) {
        dpids[si] = r->snaps[si].dpid;
    }
    if (ctl_client_sweep(env->ctl, dpids, r->nsnaps, CTL_WANT_FLOWS, all, err) > 0) {
        for (size_t si = 0; si < r->nsnaps; si++) {
            ctl_stats_release(&all[si]);
        }
        free(all);
        free(dpids);
        return -1;
    }
    for (size_t si = 0; si < r->nsnaps && (ok == 1 || counting); si++) {
        struct sw_snap *s = &r->snaps[si];
        struct ctl_stats st = all[si];
        uint32_t ports[64];
        size_t nports = output_ports(s, ports, SR_ARRAY_SIZE(ports));

        memset(&all[si], 0, sizeof all[si]);
        for (size_t i = 0; i < s->n && (ok == 1 || counting); i++) {
            const struct saved_flow *f = &s->flows[i];
            char *want_match = xstrdup(f->match), *want_actions = xstrdup(f->actions);
            uint32_t want_idle = f->idle, want_hard = f->hard;
            bool present = false, rewritten = want_fault && rewritable_for(r->type, f);
            /* Whether this flow is as wanted; only the first flow that is
             * not gets described. */
            int fine = 1;
            struct sr_buf *why = ok == 1 ? seen : NULL;

            if (rewritten && !strcmp(name, "flow_output_changed")) {
                free(want_actions);
                want_actions = shifted_actions(f->actions, ports, nports);
            } else if (rewritten && !strcmp(name, "flow_inport_changed")) {
                free(want_match);
                want_match = with_inport(f->match, r->inport);
            } else if (rewritten && !strcmp(name, "flow_idle_timeout")) {
                want_idle = timeout;
            } else if (rewritten && !strcmp(name, "flow_hard_timeout")) {
                want_hard = timeout;
            } else if (rewritten && !strcmp(name, "rate_limit")) {
                free(want_actions);
                want_actions = xasprintf("METER:%u,%s", r->meter_id, f->actions);
            }
            for (size_t k = 0; k < st.nflows && !present; k++) {
                const struct ctl_flow *g = &st.flows[k];

                present = g->table_id == 0 && g->priority == f->priority &&
                          !strcmp(g->match, want_match) && !strcmp(g->actions, want_actions) &&
                          g->idle_timeout == want_idle && g->hard_timeout == want_hard;
            }
            if (rewritten && !present && !r->verified && reinstalled(r, f, &st)) {
                /* Changed, and already put back by the controller: the
                 * fault took effect (the next look counts it as healed). */
                back++;
            } else if (rewritten && present && (!strcmp(name, "flow_idle_timeout") ||
                                                !strcmp(name, "flow_hard_timeout"))) {
                /* In effect, with the new timeout. */
            } else if (rewritten && (!strcmp(name, "flow_idle_timeout") ||
                                     !strcmp(name, "flow_hard_timeout"))) {
                /* A flow may already have expired: Open vSwitch counts an
                 * idle timeout from the flow's last use, so one idle for
                 * longer goes at once.  That is the fault's effect; what
                 * must not be there is the flow with its old timeouts. */
                bool old_one = false;

                for (size_t k = 0; k < st.nflows; k++) {
                    const struct ctl_flow *g = &st.flows[k];

                    old_one = old_one || (g->priority == f->priority && !strcmp(g->match, f->match) &&
                                          g->idle_timeout == f->idle && g->hard_timeout == f->hard);
                }
                if (old_one) {
                    why_printf(why, "%s: priority=%u match=%s still has idle=%u hard=%u", s->sw,
                                  f->priority, f->match, f->idle, f->hard);
                    fine = 0;
                }
            } else if (rewritten && !strcmp(name, "flows_deleted")) {
                /* Deleted flows must be absent, whatever their actions. */
                bool still = false;

                for (size_t k = 0; k < st.nflows; k++) {
                    still = still || (st.flows[k].priority == f->priority &&
                                      !strcmp(st.flows[k].match, f->match));
                }
                if (still && !r->verified && reinstalled(r, f, &st)) {
                    back++; /* deleted, and already put back by the controller */
                } else if (still) {
                    why_printf(why, "%s still has priority=%u match=%s", s->sw, f->priority,
                                  f->match);
                    fine = 0;
                }
            } else {
                if (!present) {
                    why_printf(why, "%s: no flow priority=%u match=%s actions=%s "
                                        "idle=%u hard=%u",
                                  s->sw, f->priority, want_match, want_actions[0] ? want_actions : "drop",
                                  want_idle, want_hard);
                    fine = 0;
                }
            }
            if (!fine) {
                ok = 0;
                healed += rewritten;
            }
            changed += rewritten;
            free(want_match);
            free(want_actions);
        }
        if (ok == 1 && !want_fault) {
            /* Restored means exactly the old set: no flow left over. */
            size_t now = 0;

            for (size_t k = 0; k < st.nflows; k++) {
                now += st.flows[k].table_id == 0;
            }
            if (now != s->n) {
                sr_buf_printf(seen, "%s has %zu flows in table 0, had %zu", s->sw, now, s->n);
                ok = 0;
            }
        }
        if (ok == 1 && r->nsnaps <= 3) {
            sr_buf_printf(seen, "%s%s: %zu flows as expected", seen->len ? "; " : "", s->sw,
                          st.nflows);
        }
        total += st.nflows;
        ctl_stats_release(&st);
    }
    if (ok == 1 && r->nsnaps > 3) {
        sr_buf_printf(seen, "%zu switches: %zu flows as expected", r->nsnaps, total);
    }
    if (ok == 1 && back) {
        sr_buf_printf(seen, ", %zu of them already put back by the controller", back);
    }
    if (counting) {
        r->changed = changed;
        r->in_effect = changed - healed;
        if (ok != 1) {
            sr_buf_printf(seen, " (still in effect on %zu of the %zu flows it changed)",
                          r->in_effect, changed);
        }
    }
    for (size_t si = 0; si < r->nsnaps; si++) {
        ctl_stats_release(&all[si]);
    }
    free(all);
    free(dpids);
    return ok;
}

static int
revert_flows(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    const char *name = r->type->name;
    struct flow_batch b = { 0 };
    int rc = 0;

    for (size_t si = 0; si < r->nsnaps; si++) {
        struct sw_snap *s = &r->snaps[si];

        for (size_t i = 0; i < s->n; i++) {
            const struct saved_flow *f = &s->flows[i];
            int one = 0;

            if (!rewritable_for(r->type, f)) {
                continue;
            }
            if (!strcmp(name, "flow_inport_changed")) {
                char *m = with_inport(f->match, r->inport);

                write_flow_id(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie, 0, 0,
                              m, f->actions, NULL, err);
                free(m);
            }
            /* ADD replaces a flow with the same match and priority, so one
             * call restores actions and timeouts, or re-creates it. */
            one = write_flow_id(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie, f->idle,
                                f->hard, f->match, f->actions, f->id, err);
            rc = rc < 0 ? rc : one;
        }
    }
    if (batch_flush(env, &b, err) < 0 && rc == 0) {
        rc = -SR_EIO;
    }
    return rc;
}

/* ---- rule faults: rules added at high priority, then deleted ---- */

static int
add_rule(const struct flt_env *env, struct flt_run *r, uint64_t dpid, json_t *match,
         const char *actions, struct sr_error *err)
{
    char *m = json_dumps(match, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = write_flow(env, CTL_FLOW_ADD, dpid, FLT_PRIORITY, FLT_COOKIE, 0, 0, m, actions, err);

    if (rc == 0) {
        r->rules = xrealloc(r->rules, (r->nrules + 1) * sizeof *r->rules);
        r->rules[r->nrules++] = (struct added_rule) { dpid, m, xstrdup(actions), FLT_PRIORITY };
    } else {
        free(m);
    }
    /* 'match' stays as written (for deleting it); comparisons canonicalise. */
    return rc;
}

int
flt_service_matches(const char *service, json_t *matches, struct sr_error *err)
{
    static const struct {
        const char *service;
        int proto, port;
    } rules[] = {
        { "video", 6, SR_PORT_RTSP }, { "video", 17, SR_PORT_RTP }, { "chat", 6, SR_PORT_CHAT },
        { "p2p", 6, SR_PORT_P2P },    { "web", 6, SR_PORT_HTTP },   { "mail", 6, SR_PORT_SMTP },
        { "broadcast", 17, SR_PORT_BROADCAST },
    };
    size_t n = 0;

    for (size_t i = 0; i < SR_ARRAY_SIZE(rules); i++) {
        if (!strcmp(rules[i].service, service)) {
            json_array_append_new(matches, json_pack("{s:i, s:i, s:i}", "eth_type", 2048,
                                                     "ip_proto", rules[i].proto,
                                                     rules[i].proto == 6 ? "tcp_dst" : "udp_dst",
                                                     rules[i].port));
            n++;
        }
    }
    return n ? 0 : sr_error_set(err, SR_EINVAL, "unknown service '%s'", service);
}

static int
inject_rules(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    const char *name = r->type->name;
    json_t *m;
    uint64_t dpid;
    int rc = 0;

    if (!strcmp(name, "lldp_drop") || !strcmp(name, "drop_service")) {
        if (!env->dpid_of(env->ctx, r->target, &dpid)) {
            return sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", r->target);
        }
        touch(r, r->target, 0);
        if (name[0] == 'l') {
            m = json_pack("{s:i}", "eth_type", 0x88cc);
            rc = add_rule(env, r, dpid, m, "", err);
            json_decref(m);
        } else {
            json_t *list = json_array(), *v;
            size_t i;

            rc = flt_service_matches(r->spec.service ? r->spec.service : "", list, err);
            json_array_foreach(list, i, v) {
                rc = rc < 0 ? rc : add_rule(env, r, dpid, v, "", err);
            }
            json_decref(list);
        }
    } else if (!strcmp(name, "blackhole_host")) {
        if (!env->host_of(env->ctx, r->target, &r->host)) {
            return sr_error_set(err, SR_ENOTFOUND, "no host '%s'", r->target);
        }
        touch(r, r->host.sw, r->host.sw_port);
        m = json_pack("{s:s}", "eth_dst", r->host.mac);
        rc = add_rule(env, r, r->host.sw_dpid, m, "", err);
        json_decref(m);
    } else if (!strcmp(name, "forwarding_loop")) {
        char acts[64];

        if (!env->link_of(env->ctx, r->target, &r->link)) {
            return sr_error_set(err, SR_ENOTFOUND, "no link '%s'", r->target);
        }
        touch(r, r->link.a, r->link.a_port);
        touch(r, r->link.b, r->link.b_port);
        /* IPv4 sent back and forth over the link; DEC_NW_TTL makes each
         * packet die after its TTL instead of looping for ever. */
        m = json_pack("{s:i}", "eth_type", 2048);
        snprintf(acts, sizeof acts, "DEC_NW_TTL,OUTPUT:%u", r->link.a_port);
        rc = add_rule(env, r, r->link.a_dpid, m, acts, err);
        snprintf(acts, sizeof acts, "DEC_NW_TTL,OUTPUT:%u", r->link.b_port);
        rc = rc < 0 ? rc : add_rule(env, r, r->link.b_dpid, m, acts, err);
        json_decref(m);
    }
    return rc;
}

static int
check_rules(const struct flt_env *env, struct flt_run *r, bool want_present, struct sr_buf *seen,
            struct sr_error *err)
{
    for (size_t i = 0; i < r->nrules; i++) {
        const struct added_rule *a = &r->rules[i];
        struct ctl_stats st;
        bool present = false;

        if (read_flows(env, a->dpid, &st, err) < 0) {
            return -1;
        }
        char *want = canon_match(a->match);

        for (size_t k = 0; k < st.nflows && !present; k++) {
            char *got = canon_match(st.flows[k].match);

            present = st.flows[k].priority == a->priority && !strcmp(got, want) &&
                      !strcmp(st.flows[k].actions, a->actions);
            free(got);
        }
        free(want);
        ctl_stats_release(&st);
        if (present != want_present) {
            sr_buf_printf(seen, "rule priority=%u match=%s actions=%s is %s on %016llx",
                          a->priority, a->match, a->actions[0] ? a->actions : "drop",
                          present ? "still there" : "missing", (unsigned long long) a->dpid);
            return 0;
        }
    }
    sr_buf_printf(seen, "%zu rule%s %s", r->nrules, r->nrules == 1 ? "" : "s",
                  want_present ? "in place" : "gone");
    return 1;
}

static int
revert_rules(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    int rc = 0;

    for (size_t i = 0; i < r->nrules; i++) {
        const struct added_rule *a = &r->rules[i];
        int one = write_flow(env, CTL_FLOW_DELETE, a->dpid, a->priority, FLT_COOKIE, 0, 0, a->match,
                             a->actions, err);

        rc = rc < 0 ? rc : one;
    }
    return rc;
}

/* ---- network faults ---- */

static int
port_down(const struct flt_env *env, uint64_t dpid, uint32_t port, bool *down, struct sr_error *err)
{
    struct ctl_stats st;
    int failed = ctl_client_sweep(env->ctl, &dpid, 1, CTL_WANT_PORTS, &st, err);

    if (failed) {
        ctl_stats_release(&st);
        return -1;
    }
    *down = false;
    for (size_t i = 0; i < st.nports; i++) {
        if (st.ports[i].port_no == port) {
            *down = st.ports[i].has_state && st.ports[i].link_down;
        }
    }
    ctl_stats_release(&st);
    return 0;
}

static bool
switch_connected(const struct flt_env *env, uint64_t dpid, struct sr_error *err, int *rc)
{
    uint64_t *dpids = NULL;
    size_t n = 0;
    bool found = false;

    *rc = ctl_client_switches(env->ctl, &dpids, &n, err);
    for (size_t i = 0; *rc == 0 && i < n; i++) {
        found = found || dpids[i] == dpid;
    }
    free(dpids);
    return found;
}

static bool
link_discovered(const struct flt_env *env, const struct flt_link_info *l, struct sr_error *err)
{
    struct ctl_link *links = NULL;
    size_t n = 0;
    bool ab = false, ba = false;

    if (ctl_client_links(env->ctl, &links, &n, err) < 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        ab = ab || (links[i].src_dpid == l->a_dpid && links[i].src_port == l->a_port &&
                    links[i].dst_dpid == l->b_dpid);
        ba = ba || (links[i].src_dpid == l->b_dpid && links[i].src_port == l->b_port &&
                    links[i].dst_dpid == l->a_dpid);
    }
    free(links);
    return ab && ba;
}

static int
inject_net(const struct flt_env *env, struct flt_run *r, bool up, struct sr_error *err)
{
    const char *name = r->type->name;
    uint64_t dpid;

    if (!strcmp(name, "link_down")) {
        if (!up && !env->link_of(env->ctx, r->target, &r->link)) {
            return sr_error_set(err, SR_ENOTFOUND, "no link '%s'", r->target);
        }
        if (!up) {
            touch(r, r->link.a, r->link.a_port);
            touch(r, r->link.b, r->link.b_port);
        }
        return env->net(env->ctx, "link", r->link.a, r->link.b, up ? "up" : "down", err);
    }
    if (!strcmp(name, "switch_down")) {
        if (!up && !env->dpid_of(env->ctx, r->target, &dpid)) {
            return sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", r->target);
        }
        if (!up) {
            touch(r, r->target, 0);
        }
        return env->net(env->ctx, "switch", r->target, NULL, up ? "start" : "stop", err);
    }
    if (!up && !env->host_of(env->ctx, r->target, &r->host)) {
        return sr_error_set(err, SR_ENOTFOUND, "no host '%s'", r->target);
    }
    if (!up) {
        touch(r, r->host.sw, r->host.sw_port);
    }
    return env->net(env->ctx, "host", r->target, NULL, up ? "up" : "down", err);
}

static int
check_net(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
          struct sr_error *err)
{
    const char *name = r->type->name;
    bool a_down = false, b_down = false;
    int rc;

    if (!strcmp(name, "link_down")) {
        if (port_down(env, r->link.a_dpid, r->link.a_port, &a_down, err) < 0 ||
            port_down(env, r->link.b_dpid, r->link.b_port, &b_down, err) < 0) {
            return -1;
        }
        sr_buf_printf(seen, "%s:%u %s, %s:%u %s", r->link.a, r->link.a_port,
                      a_down ? "down" : "up", r->link.b, r->link.b_port, b_down ? "down" : "up");
        if (want_fault) {
            return a_down && b_down;
        }
        if (a_down || b_down) {
            return 0;
        }
        /* Reachability is back when the controller sees the link again. */
        if (!link_discovered(env, &r->link, err)) {
            sr_buf_puts(seen, "; link not rediscovered yet");
            return 0;
        }
        sr_buf_puts(seen, "; link rediscovered");
        return 1;
    }
    if (!strcmp(name, "switch_down")) {
        uint64_t dpid;
        bool connected;

        env->dpid_of(env->ctx, r->target, &dpid);
        connected = switch_connected(env, dpid, err, &rc);
        if (rc < 0) {
            return -1;
        }
        sr_buf_printf(seen, "%s %s the controller", r->target,
                      connected ? "connected to" : "gone from");
        return want_fault ? !connected : connected;
    }
    if (port_down(env, r->host.sw_dpid, r->host.sw_port, &a_down, err) < 0) {
        return -1;
    }
    sr_buf_printf(seen, "%s:%u (to %s) %s", r->host.sw, r->host.sw_port, r->host.name,
                  a_down ? "down" : "up");
    return want_fault ? a_down : !a_down;
}

/* ---- the switch itself: ovs-ofctl dump-flows ---- */

/* One line of 'ovs-ofctl dump-flows' without its counters and age (as
 * --no-stats prints it), its duration in '*age'. */
char *
flt_flow_line(const char *line, double *age)
{
    static const char *const stats[] = { "duration=", "table=", "n_packets=", "n_bytes=",
                                         "idle_age=", "hard_age=" };
    struct sr_buf b = SR_BUF_INIT;

    *age = 0;
    while (*line == ' ') {
        line++;
    }
    while (*line) {
        size_t n = strcspn(line, " ");
        bool drop = false;

        for (size_t i = 0; i < SR_ARRAY_SIZE(stats) && !drop; i++) {
            drop = !strncmp(line, stats[i], strlen(stats[i]));
        }
        if (!strncmp(line, "duration=", 9)) {
            *age = strtod(line + 9, NULL);
        }
        if (!drop) {
            sr_buf_printf(&b, "%s%.*s", b.len ? " " : "", (int) n, line);
        }
        line += n;
        while (*line == ' ') {
            line++;
        }
    }
    return sr_buf_steal(&b);
}

/* The flow lines of the 'n' switches 'sws' without counters, one malloc'd
 * string each ("sw\tline"), appended to '*lines', with their ages in
 * '*ages'; or -1. */
static int
switch_lines(const struct flt_env *env, const char *const *sws, size_t n, char ***lines,
             double **ages, size_t *nlines, struct sr_error *err)
{
    struct sr_buf *outs = xcalloc(n + 1, sizeof *outs);
    int rc = n ? env->dump_flows(env->ctx, sws, n, outs, err) : 0;

    for (size_t i = 0; i < n; i++) {
        for (char *save = NULL, *l = rc == 0 ? strtok_r(outs[i].data, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save)) {
            double age;
            char *flow;

            if (!strstr(l, "actions=")) {
                continue;
            }
            flow = flt_flow_line(l, &age);
            *lines = xrealloc(*lines, (*nlines + 1) * sizeof **lines);
            *ages = xrealloc(*ages, (*nlines + 1) * sizeof **ages);
            (*lines)[*nlines] = xasprintf("%s\t%s", sws[i], flow);
            (*ages)[(*nlines)++] = age;
            free(flow);
        }
        sr_buf_release(&outs[i]);
    }
    free(outs);
    return rc < 0 ? -1 : 0;
}

static void
free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lines[i]);
    }
    free(lines);
}

/* The lines a flow fault changes, as the switch shows them (see
 * fault_changes). */
static bool
changed_line(const struct flt_type *type, const char *line)
{
    return fault_changes(type, strstr(line, "priority=0 ") || strstr(line, "priority=0,"),
                         strstr(line, "dl_type=0x88cc") != NULL);
}

/* Keeps the lines of the snapshotted switches the fault will change. */
static int
witness_before(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    const char **sws = xcalloc(r->nsnaps + 1, sizeof *sws);
    char **lines = NULL;
    double *ages = NULL;
    size_t n = 0;
    int rc;

    for (size_t si = 0; si < r->nsnaps; si++) {
        sws[si] = r->snaps[si].sw;
    }
    rc = switch_lines(env, sws, r->nsnaps, &lines, &ages, &n, err);
    r->orig_t = sr_now();
    for (size_t i = 0; i < n; i++) {
        if (changed_line(r->type, strchr(lines[i], '\t') + 1)) {
            r->orig = xrealloc(r->orig, (r->norig + 1) * sizeof *r->orig);
            r->orig_age = xrealloc(r->orig_age, (r->norig + 1) * sizeof *r->orig_age);
            r->orig_age[r->norig] = ages[i];
            r->orig[r->norig++] = lines[i];
            lines[i] = NULL;
        }
    }
    free_lines(lines, n);
    free(ages);
    free(sws);
    return rc;
}

/* What the switches themselves show.  Rule faults: the fault's cookie on
 * as many flows as rules were added (none once reverted).  Flow faults:
 * none of the changed flows as they were (all of them again once
 * reverted).  1, 0 with 'seen' saying what differs, or -1. */
static int
switch_witness(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
               struct sr_error *err)
{
    size_t nsw = r->nrules ? env->nswitches : r->nsnaps, bad = 0, ours = 0, nwant = 0, back = 0;
    const char **want = xcalloc(nsw + 1, sizeof *want);
    const char *example = NULL;
    double *ages = NULL, elapsed = sr_now() - r->orig_t;
    char **all = NULL;
    size_t nall = 0;
    int rc;

    for (size_t i = 0; i < nsw; i++) {
        const char *sw = r->nrules ? env->switches[i] : r->snaps[i].sw;
        bool wanted = !r->nrules;

        for (size_t k = 0; k < r->nrules && !wanted; k++) {
            uint64_t dpid;

            wanted = env->dpid_of(env->ctx, sw, &dpid) && dpid == r->rules[k].dpid;
        }
        if (wanted) {
            want[nwant++] = sw;
        }
    }
    rc = switch_lines(env, want, nwant, &all, &ages, &nall, err);
    free(want);
    if (rc < 0) {
        free_lines(all, nall);
        free(ages);
        return -1;
    }
    for (size_t k = 0; k < nall; k++) {
        ours += strstr(all[k], "cookie=0x5346000000000000") != NULL;
    }
    if (r->nrules) {
        rc = want_fault ? ours >= r->nrules : ours == 0;
        sr_buf_printf(seen, "; in the switches: %zu flow%s with the fault's cookie", ours,
                      ours == 1 ? "" : "s");
    } else {
        for (size_t i = 0; i < r->norig; i++) {
            bool present = false, younger = false;

            for (size_t k = 0; k < nall && !present; k++) {
                present = !strcmp(all[k], r->orig[i]);
                /* The same flow again, but put there after the fault. */
                younger = present && ages[k] + 0.5 < r->orig_age[i] + elapsed;
            }
            if (want_fault && present && younger && !r->verified) {
                back++;
            } else if (present == want_fault) {
                bad++;
                example = example ? example : r->orig[i];
            }
        }
        rc = bad == 0;
        if (bad) {
            sr_buf_printf(seen, "; in the switch: %zu of %zu flows %s, e.g. %s", bad, r->norig,
                          want_fault ? "unchanged" : "not back", example);
        } else {
            sr_buf_printf(seen, "; in the switch: %zu flow%s %s", r->norig,
                          r->norig == 1 ? "" : "s", want_fault ? "changed" : "as before");
            if (back) {
                sr_buf_printf(seen, ", %zu of them put back since by the controller", back);
            }
        }
    }
    free_lines(all, nall);
    free(ages);
    return rc;
}

/* ---- traffic ---- */

/* A rate is read over at least this long. */
#define RATE_WINDOW_S 0.5

/* Bytes the probed switch ports have sent toward their hosts. */
static int
probe_bytes(const struct flt_env *env, struct flt_run *r, uint64_t *bytes, struct sr_error *err)
{
    uint64_t *dpids = xcalloc(r->nhosts + 1, sizeof *dpids);
    struct ctl_stats *st;
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < r->nhosts; i++) {
        bool seen = false;

        for (size_t k = 0; k < n && !seen; k++) {
            seen = dpids[k] == r->probe_dpid[i];
        }
        if (!seen) {
            dpids[n++] = r->probe_dpid[i];
        }
    }
    st = xcalloc(n + 1, sizeof *st);
    rc = ctl_client_sweep(env->ctl, dpids, n, CTL_WANT_PORTS, st, err);
    *bytes = 0;
    for (size_t i = 0; rc == 0 && i < r->nhosts; i++) {
        bool found = false;

        for (size_t k = 0; k < n && !found; k++) {
            for (size_t p = 0; st[k].dpid == r->probe_dpid[i] && p < st[k].nports; p++) {
                if (st[k].ports[p].port_no == r->probe_port[i] && st[k].ports[p].has_stats) {
                    *bytes += st[k].ports[p].c[CTL_TX_BYTES];
                    found = true;
                    break;
                }
            }
        }
        if (!found) {
            rc = sr_error_set(err, SR_ENOTFOUND, "the controller has no counters for port %u "
                              "of switch %016llx (toward %s)", r->probe_port[i],
                              (unsigned long long) r->probe_dpid[i], r->hosts[i]);
        }
    }
    for (size_t k = 0; k < n; k++) {
        ctl_stats_release(&st[k]);
    }
    free(st);
    free(dpids);
    return rc == 0 ? 0 : -SR_EIO;
}

/* The normal rate toward the hosts: the lower of two windows of half
 * RATE_WINDOW_S each, so that one burst (a p2p file) does not pass for the
 * normal load. */
static int
measure_kbps(const struct flt_env *env, struct flt_run *r, double *kbps, struct sr_error *err)
{
    uint64_t b[3];
    double t[3];

    for (int i = 0; i < 3; i++) {
        if (i) {
            poll(NULL, 0, (int) (RATE_WINDOW_S * 500));
        }
        if (probe_bytes(env, r, &b[i], err) < 0) {
            return -1;
        }
        t[i] = sr_now();
    }
    *kbps = fmin((double) (b[1] - b[0]) / (t[1] - t[0]), (double) (b[2] - b[1]) / (t[2] - t[1])) *
            8.0 / 1000.0;
    return 0;
}

/* The command that raises (or, with 'up' false, lowers) a host's traffic. */
static json_t *
traffic_command(const struct flt_env *env, const struct flt_run *r, bool up)
{
    json_t *servers = json_array();
    char by[96];

    if (!up) {
        json_decref(servers);
        return json_pack("{s:i, s:i, s:s}", "load", 1, "extra_streams", 0, "by", "revert");
    }
    snprintf(by, sizeof by, "%s %s", r->type->name, r->target);
    if (!strcmp(r->type->name, "heavy_streaming_host")) {
        for (size_t i = 0; i < env->nservers; i++) {
            struct flt_host_info h;

            if (env->host_of(env->ctx, env->servers[i], &h)) {
                json_array_append_new(servers, json_string(h.ip));
            }
        }
        return json_pack("{s:i, s:I, s:o, s:s}", "load", 1, "extra_streams",
                         (json_int_t) r->spec.streams, "servers", servers, "by", by);
    }
    json_decref(servers);
    return json_pack("{s:I, s:i, s:s}", "load", (json_int_t) r->spec.factor, "extra_streams", 0,
                     "by", by);
}

/* Sends the command to every host concerned and starts the first
 * measuring window; the verdict is unknown until a window has passed. */
static int
start_traffic(const struct flt_env *env, struct flt_run *r, bool up, struct sr_error *err)
{
    struct sr_error probe_err = { 0 }; /* a failed first look is taken again later */
    int rc = 0;

    for (size_t i = 0; i < r->nhosts; i++) {
        struct sr_error e = { 0 };

        if (env->traffic(env->ctx, r->hosts[i], traffic_command(env, r, up), &e) < 0 && rc == 0) {
            rc = sr_error_set(err, e.code ? e.code : SR_EIO, "%s", e.msg);
        }
    }
    r->verdict = -1;
    r->last_kbps = -1;
    r->have_win = rc == 0 && probe_bytes(env, r, &r->win_bytes, &probe_err) == 0;
    r->win_t = sr_now();
    return rc;
}

/* heavy_streaming_host: one user pulls 'streams' more video streams from
 * the servers; congestion: every host's roles run 'factor' times as often
 * and every viewer watches 'factor' streams.  Either is seen as the rate
 * the switches send toward the hosts concerned. */
static int
inject_traffic(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    bool heavy = !strcmp(r->type->name, "heavy_streaming_host");
    size_t n = heavy ? 1 : env->nusers + env->nservers;

    if (!env->traffic) {
        return sr_error_set(err, SR_EINVAL, "%s needs the hosts' traffic agents, and this "
                            "network has none", r->type->name);
    }
    r->hosts = xcalloc(n + 1, sizeof *r->hosts);
    r->probe_dpid = xcalloc(n + 1, sizeof *r->probe_dpid);
    r->probe_port = xcalloc(n + 1, sizeof *r->probe_port);
    for (size_t i = 0; i < n; i++) {
        const char *h = heavy ? r->target
                        : i < env->nusers ? env->users[i] : env->servers[i - env->nusers];
        struct flt_host_info info;

        if (!env->host_of(env->ctx, h, &info)) {
            return sr_error_set(err, SR_ENOTFOUND, "no host '%s'", h);
        }
        r->hosts[r->nhosts] = info.name;
        r->probe_dpid[r->nhosts] = info.sw_dpid;
        r->probe_port[r->nhosts++] = info.sw_port;
        touch(r, info.sw, info.sw_port);
    }
    if (measure_kbps(env, r, &r->base_kbps, err) < 0) {
        return -1;
    }
    /* What the fault surely adds: the extra video streams.  The other
     * roles' rise comes as their next events fall due, so without video a
     * congestion counts on half of what 'factor' promises. */
    if (heavy) {
        r->add_kbps = (double) r->spec.streams * env->video_kbps;
    } else if (env->nviewers && env->video_kbps > 0) {
        r->add_kbps = (double) (r->spec.factor - 1) * (double) env->nviewers * env->video_kbps;
    } else {
        r->add_kbps = (double) (r->spec.factor - 1) * r->base_kbps / 2;
    }
    if (r->add_kbps <= 0) {
        return sr_error_set(err, SR_EINVAL, "%s on %s would add no traffic that can be seen "
                            "(%s)", r->type->name, r->target,
                            heavy ? "the scenario's video bitrate is 0"
                                  : "no traffic flowed before it");
    }
    return start_traffic(env, r, true, err);
}

static void
describe_rate(const struct flt_run *r, double kbps, struct sr_buf *seen)
{
    if (r->nhosts == 1) {
        sr_buf_printf(seen, "%s got %.0f kbit/s (normal %.0f, the fault adds ~%.0f)",
                      r->hosts[0], kbps, r->base_kbps, r->add_kbps);
    } else {
        sr_buf_printf(seen, "the %zu hosts got %.0f kbit/s (normal %.0f, the fault adds ~%.0f)",
                      r->nhosts, kbps, r->base_kbps, r->add_kbps);
    }
}

/* Reads the rate since the last look, at most once per RATE_WINDOW_S: in
 * effect above the normal rate plus half of what the fault adds, normal
 * again below plus a quarter (in between, the last verdict holds, so a
 * stream that reconnects does not flip it). */
static int
check_traffic(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
              struct sr_error *err)
{
    double now = sr_now(), kbps;
    uint64_t bytes;

    if (probe_bytes(env, r, &bytes, err) < 0) {
        return -1;
    }
    if (!r->have_win || now - r->win_t < RATE_WINDOW_S) {
        if (!r->have_win) {
            r->win_t = now;
            r->win_bytes = bytes;
            r->have_win = true;
        }
        if (r->last_kbps >= 0) {
            describe_rate(r, r->last_kbps, seen);
        } else {
            sr_buf_printf(seen, "measuring the rate toward %s",
                          r->nhosts == 1 ? r->hosts[0] : "the hosts");
        }
        return r->verdict == want_fault;
    }
    kbps = (double) (bytes - r->win_bytes) * 8.0 / 1000.0 / (now - r->win_t);
    r->win_t = now;
    r->win_bytes = bytes;
    r->last_kbps = kbps;
    if (kbps >= r->base_kbps + r->add_kbps / 2) {
        r->verdict = 1;
    } else if (kbps <= r->base_kbps + r->add_kbps / 4) {
        r->verdict = 0;
    } else if (r->verdict < 0) {
        r->verdict = want_fault ? 0 : 1; /* in between: not yet what is asked */
    }
    describe_rate(r, kbps, seen);
    return r->verdict == want_fault;
}

/* ---- the controller ---- */

/* Cut off: no switch holds a connection to the controller.  Back: every
 * switch holds one and the controller lists every switch (a connection is
 * up before the OpenFlow handshake is done). */
static int
check_controller(const struct flt_env *env, struct flt_run *r, bool want_fault,
                 struct sr_buf *seen, struct sr_error *err)
{
    uint64_t *dpids = NULL;
    size_t n = 0, known = 0, ndp = 0;

    (void) r;
    if (env->connected(env->ctx, &n, err) < 0) {
        return -1;
    }
    sr_buf_printf(seen, "%zu of %zu switches connected to the controller", n, env->nswitches);
    if (want_fault || n != env->nswitches) {
        return want_fault ? n == 0 : 0;
    }
    if (ctl_client_switches(env->ctl, &dpids, &ndp, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < env->nswitches; i++) {
        uint64_t dpid;

        for (size_t j = 0; env->dpid_of(env->ctx, env->switches[i], &dpid) && j < ndp; j++) {
            if (dpids[j] == dpid) {
                known++;
                break;
            }
        }
    }
    free(dpids);
    sr_buf_printf(seen, ", %zu of them known to it", known);
    return known == env->nswitches;
}

/* ---- the steps ---- */

int
flt_inject(const struct flt_env *env, const struct flt_episode *ep, struct flt_run **out,
           struct sr_error *err)
{
    struct flt_run *r = xcalloc(1, sizeof *r);
    enum flt_family fam = ep->type->family;
    const char *name = ep->type->name;
    int rc;

    r->type = ep->type;
    r->spec = ep->spec;
    r->spec.target = NULL;
    r->spec.service = ep->spec.service ? xstrdup(ep->spec.service) : NULL;
    r->target = xstrdup(ep->target);
    r->meter_id = (uint32_t) ep->id + 1;
    *out = r;
    if (fam == FLT_FAMILY_TRAFFIC) {
        return inject_traffic(env, r, err);
    }
    if (fam == FLT_FAMILY_NETWORK) {
        return inject_net(env, r, false, err);
    }
    if (fam == FLT_FAMILY_CONTROLLER) {
        for (size_t i = 0; i < env->nswitches; i++) {
            touch(r, env->switches[i], 0);
        }
        return env->controller(env->ctx, false, err);
    }
    if (!strcmp(name, "lldp_drop") || !strcmp(name, "drop_service") ||
        !strcmp(name, "blackhole_host") || !strcmp(name, "forwarding_loop")) {
        return inject_rules(env, r, err);
    }
    if (!strcmp(name, "rate_limit")) {
        uint64_t dpid;

        if (!env->dpid_of(env->ctx, r->target, &dpid)) {
            return sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", r->target);
        }
        rc = ctl_client_meter(env->ctl, true, dpid, r->meter_id, (uint32_t) r->spec.rate_kbps, err);
        if (rc < 0) {
            return rc;
        }
    }
    return inject_flows(env, r, err);
}

int
flt_check(const struct flt_env *env, struct flt_run *r, struct sr_buf *seen, struct sr_error *err)
{
    switch (r->type->family) {
    case FLT_FAMILY_NETWORK: return check_net(env, r, true, seen, err);
    case FLT_FAMILY_CONTROLLER: return check_controller(env, r, true, seen, err);
    case FLT_FAMILY_TRAFFIC: return check_traffic(env, r, true, seen, err);
    case FLT_FAMILY_FLOW: break;
    }
    return r->nrules ? check_rules(env, r, true, seen, err) : check_flows(env, r, true, seen, err);
}

int
flt_check_reverted(const struct flt_env *env, struct flt_run *r, struct sr_buf *seen,
                   struct sr_error *err)
{
    switch (r->type->family) {
    case FLT_FAMILY_NETWORK: return check_net(env, r, false, seen, err);
    case FLT_FAMILY_CONTROLLER: return check_controller(env, r, false, seen, err);
    case FLT_FAMILY_TRAFFIC: return check_traffic(env, r, false, seen, err);
    case FLT_FAMILY_FLOW: break;
    }
    return r->nrules ? check_rules(env, r, false, seen, err) : check_flows(env, r, false, seen, err);
}

bool
flt_run_effect(const struct flt_run *r, size_t *in_effect, size_t *changed)
{
    *in_effect = r->in_effect;
    *changed = r->changed;
    return r->type->family == FLT_FAMILY_FLOW && r->changed > 0;
}

bool
flt_run_slow(const struct flt_run *r, bool reverting)
{
    return r->type->family == FLT_FAMILY_TRAFFIC ||
           (reverting && r->type->family == FLT_FAMILY_CONTROLLER);
}

static int
poll_until(const struct flt_env *env, struct flt_run *r, bool reverted, double timeout_s,
           struct sr_buf *seen, struct sr_error *err)
{
    double end = sr_now() + timeout_s;
    struct sr_buf last = SR_BUF_INIT;

    for (;;) {
        struct sr_error e = { 0 };
        int ok;

        sr_buf_clear(&last);
        ok = reverted ? flt_check_reverted(env, r, &last, &e) : flt_check(env, r, &last, &e);
        if (ok == 1 && r->type->family == FLT_FAMILY_FLOW && env->dump_flows) {
            /* The controller agrees; the switch itself must too. */
            ok = switch_witness(env, r, !reverted, &last, &e);
        }
        if (ok == 1) {
            if (seen) {
                sr_buf_puts(seen, sr_buf_cstr(&last));
            }
            sr_buf_release(&last);
            r->verified = r->verified || !reverted;
            return 0;
        }
        if (sr_now() > end) {
            sr_error_set(err, SR_ETIMEDOUT, "%s not %s within %.1f s: %s", r->type->name,
                         reverted ? "reverted" : "in effect", timeout_s,
                         ok < 0 ? e.msg : sr_buf_cstr(&last));
            if (seen) {
                sr_buf_puts(seen, ok < 0 ? e.msg : sr_buf_cstr(&last));
            }
            sr_buf_release(&last);
            return -SR_ETIMEDOUT;
        }
        poll(NULL, 0, 50);
    }
}

int
flt_verify(const struct flt_env *env, struct flt_run *r, double timeout_s, struct sr_buf *seen,
           struct sr_error *err)
{
    return poll_until(env, r, false, timeout_s, seen, err);
}

int
flt_revert(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    int rc;

    switch (r->type->family) {
    case FLT_FAMILY_NETWORK: return inject_net(env, r, true, err);
    case FLT_FAMILY_CONTROLLER: return env->controller(env->ctx, true, err);
    case FLT_FAMILY_TRAFFIC:
        return start_traffic(env, r, false, err);
    case FLT_FAMILY_FLOW: break;
    }
    if (r->nrules) {
        return revert_rules(env, r, err);
    }
    rc = revert_flows(env, r, err);
    if (!strcmp(r->type->name, "rate_limit") && r->nsnaps) {
        int m = ctl_client_meter(env->ctl, false, r->snaps[0].dpid, r->meter_id, 0, err);

        rc = rc < 0 ? rc : m;
    }
    return rc;
}

int
flt_verify_reverted(const struct flt_env *env, struct flt_run *r, double timeout_s,
                    struct sr_buf *seen, struct sr_error *err)
{
    return poll_until(env, r, true, timeout_s, seen, err);
}

void
flt_run_free(struct flt_run *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nsnaps; i++) {
        for (size_t k = 0; k < r->snaps[i].n; k++) {
            free(r->snaps[i].flows[k].id);
            free(r->snaps[i].flows[k].match);
            free(r->snaps[i].flows[k].actions);
        }
        free(r->snaps[i].flows);
        free(r->snaps[i].sw);
    }
    for (size_t i = 0; i < r->nrules; i++) {
        free(r->rules[i].match);
        free(r->rules[i].actions);
    }
    free(r->snaps);
    free(r->rules);
    free(r->touched_sw);
    free(r->touched_port);
    free_lines(r->orig, r->norig);
    free(r->orig_age);
    free(r->hosts);
    free(r->probe_dpid);
    free(r->probe_port);
    free(r->spec.service);
    free(r->target);
    free(r);
}
