/* Flow faults (the seed's 6 to 10, and rate_limit): the flows of table 0
 * on the target switch (or every switch) are read through the controller,
 * each is rewritten as the fault type's 'become' says, and on revert the
 * originals are written back.  A type is a 'struct flt_rewrite' at the end
 * of this file. */
#include "faults-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"

uint32_t
flt_timeout_s(const struct flt_run *r)
{
    return (uint32_t) ((r->spec.timeout_ms + 999) / 1000);
}

bool
flt_rewrite_changes(const struct flt_run *r, const struct flt_flow_kind *k)
{
    const struct flt_rewrite *rw = r->type->detail;
    uint32_t own = rw->timeout == 1 ? k->idle : rw->timeout == 2 ? k->hard : 0;

    /* The seed: "except the one to the controller"; flows_deleted keeps
     * only "the statistics entry". */
    return !k->table_miss && (rw->lldp_too || !k->lldp) && (!rw->outputs_only || k->outputs) &&
           (own == 0 || own > flt_timeout_s(r));
}

/* Whether Ryu's action string 'actions' outputs to a numbered port. */
static bool
outputs_to_port(const char *actions)
{
    for (const char *p = strstr(actions, "OUTPUT:"); p; p = strstr(p + 7, "OUTPUT:")) {
        if (p[7] >= '0' && p[7] <= '9') {
            return true;
        }
    }
    return false;
}

static const struct flt_rewrite *
rewrite_of(const struct flt_run *r)
{
    return r->type->detail;
}

static bool
changes(const struct flt_run *r, const struct saved_flow *f)
{
    struct flt_flow_kind k = { flt_is_table_miss(f->match, f->priority),
                               flt_is_lldp_rule(f->match, f->actions),
                               outputs_to_port(f->actions), f->idle, f->hard };

    return flt_rewrite_changes(r, &k);
}

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
    flt_touch(r, s->sw, 0);
}

/* Snapshots the target switch, or every switch for "all", in one sweep. */
static int
snapshot(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
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
    if (rc == 0) {
        rc = flt_read_flows(env, dpids, n, st, err);
    }
    r->snap_t = sr_now();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        keep_snapshot(r, all ? env->switches[i] : r->target, &st[i]);
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
            bool seen = false;

            snprintf(num, sizeof num, "%.*s", (int) (len < 15 ? len : 15), p + 7);
            if (!sr_parse_i64(num, 1, 0xffffff00, &v)) {
                continue;
            }
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

/* What 'f' becomes under the fault (or stays, without it). */
static void
wanted(const struct flt_run *r, const struct sw_snap *s, const struct saved_flow *f,
       bool rewritten, struct flt_wanted *w)
{
    uint32_t ports[64];
    size_t nports = output_ports(s, ports, SR_ARRAY_SIZE(ports));

    w->match = NULL;
    w->actions = NULL;
    w->idle = f->idle;
    w->hard = f->hard;
    if (rewritten) {
        rewrite_of(r)->become(r, f, ports, nports, w);
    }
    if (!w->match) {
        w->match = xstrdup(f->match);
    }
    if (!w->actions) {
        w->actions = xstrdup(f->actions);
    }
}

static void
wanted_release(struct flt_wanted *w)
{
    free(w->match);
    free(w->actions);
}

static int
inject_flows(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    const struct flt_rewrite *rw = rewrite_of(r);
    struct flt_batch b = { 0 };
    bool all = !strcmp(r->target, "all");
    const char *one[] = { r->target };

    /* The switches themselves first, then the controller (see
     * flt_witness_before). */
    if ((env->dump_flows && flt_witness_before(env, r, all ? env->switches : one,
                                               all ? env->nswitches : 1, err) < 0) ||
        snapshot(env, r, err) < 0 || (rw->prepare && rw->prepare(env, r, err) < 0)) {
        return -err->code;
    }
    {
        /* A fault that would change nothing is not a fault: under a
         * learning controller every flow may already time out sooner than
         * a time-out fault would make it. */
        size_t n = 0;

        for (size_t si = 0; si < r->nsnaps; si++) {
            for (size_t i = 0; i < r->snaps[si].n; i++) {
                n += changes(r, &r->snaps[si].flows[i]);
            }
        }
        if (!n) {
            return sr_error_set(err, SR_EINVAL, "%s finds no flow to change on %s",
                                r->type->name, r->target);
        }
    }
    for (size_t si = 0; si < r->nsnaps; si++) {
        struct sw_snap *s = &r->snaps[si];

        for (size_t i = 0; i < s->n; i++) {
            const struct saved_flow *f = &s->flows[i];
            struct flt_wanted w;
            int rc = 0;

            if (!changes(r, f)) {
                continue;
            }
            wanted(r, s, f, true, &w);
            switch (rw->how) {
            case FLT_RW_MODIFY:
                rc = flt_write_flow(env, &b, CTL_FLOW_MODIFY, s->dpid, f->priority, f->cookie,
                                    f->idle, f->hard, f->match, w.actions, f->id, err);
                break;
            case FLT_RW_REMATCH:
                /* The match is the flow's identity: the flow is replaced. */
                rc = flt_write_flow(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie,
                                    0, 0, f->match, f->actions, f->id, err);
                if (rc == 0) {
                    rc = flt_write_flow(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie,
                                        f->idle, f->hard, w.match, f->actions, NULL, err);
                }
                break;
            case FLT_RW_READD:
                /* A flow's timeouts cannot be modified: adding it again
                 * with the same match and priority replaces it. */
                rc = flt_write_flow(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie,
                                    w.idle, w.hard, f->match, f->actions, f->id, err);
                break;
            case FLT_RW_DELETE:
                rc = flt_write_flow(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie,
                                    0, 0, f->match, f->actions, f->id, err);
                break;
            }
            wanted_release(&w);
            if (rc < 0) {
                sr_error_prefix(err, "%s on %s", r->type->name, s->sw);
                flt_batch_release(&b);
                return rc;
            }
        }
    }
    if (flt_batch_flush(env, &b, err) < 0) {
        sr_error_prefix(err, "%s", r->type->name);
        return -err->code;
    }
    return 0;
}

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

/* Whether 'st' holds 'f' (same priority and match) with any actions. */
static bool
same_flow_there(const struct saved_flow *f, const struct ctl_stats *st, bool same_timeouts)
{
    for (size_t k = 0; k < st->nflows; k++) {
        const struct ctl_flow *g = &st->flows[k];

        if (g->priority == f->priority && !strcmp(g->match, f->match) &&
            (!same_timeouts || (g->idle_timeout == f->idle && g->hard_timeout == f->hard))) {
            return true;
        }
    }
    return false;
}

/* Whether 'st' holds a flow with the priority and match 'match'. */
static bool
match_there(uint32_t priority, const char *match, const struct ctl_stats *st)
{
    for (size_t k = 0; k < st->nflows; k++) {
        if (st->flows[k].table_id == 0 && st->flows[k].priority == priority &&
            !strcmp(st->flows[k].match, match)) {
            return true;
        }
    }
    return false;
}

/* check_one's answers. */
enum { ONE_NOT, ONE_FINE, ONE_PUT_BACK, ONE_GONE };

/* One flow against what the fault wants of it ('rewritten': the fault in
 * effect; otherwise the flow as it was, after a revert when 'changed').
 * Returns ONE_FINE, ONE_NOT (a description to 'why'), ONE_PUT_BACK when
 * the controller already put it back before the fault was first seen (it
 * took effect), or ONE_GONE when, with the applications' own time-outs
 * ('dynamic'), the flow expired on its own (nothing of its match is left). */
static int
check_one(const struct flt_run *r, const struct sw_snap *s, const struct saved_flow *f,
          bool rewritten, bool changed, bool dynamic, const struct ctl_stats *st,
          struct sr_buf *why)
{
    enum flt_rewrite_how how = rewrite_of(r)->how;
    struct flt_wanted w;
    bool present = false;
    /* A flow with a time-out of its own may have gone by itself. */
    bool may_expire = f->idle || f->hard;
    int fine = ONE_FINE;

    wanted(r, s, f, rewritten, &w);
    for (size_t k = 0; k < st->nflows && !present; k++) {
        const struct ctl_flow *g = &st->flows[k];

        present = g->table_id == 0 && g->priority == f->priority && !strcmp(g->match, w.match) &&
                  !strcmp(g->actions, w.actions) && g->idle_timeout == w.idle &&
                  g->hard_timeout == w.hard;
    }
    if (rewritten && !present && !r->verified && reinstalled(r, f, st)) {
        fine = ONE_PUT_BACK;
    } else if (rewritten && how == FLT_RW_READD) {
        /* A flow may already have expired: Open vSwitch counts an idle
         * timeout from the flow's last use, so one idle for longer goes at
         * once.  That is the fault's effect; what must not be there is the
         * flow with its old timeouts. */
        if (!present && same_flow_there(f, st, true)) {
            flt_why(why, "%s: priority=%u match=%s still has idle=%u hard=%u", s->sw,
                    f->priority, f->match, f->idle, f->hard);
            fine = ONE_NOT;
        }
    } else if (rewritten && how == FLT_RW_DELETE) {
        /* Deleted flows must be absent, whatever their actions. */
        if (same_flow_there(f, st, false)) {
            if (!r->verified && reinstalled(r, f, st)) {
                fine = ONE_PUT_BACK;
            } else {
                flt_why(why, "%s still has priority=%u match=%s", s->sw, f->priority, f->match);
                fine = ONE_NOT;
            }
        }
    } else if (!present && dynamic && may_expire && !match_there(f->priority, w.match, st) &&
               !match_there(f->priority, f->match, st)) {
        fine = ONE_GONE;
    } else if (!present) {
        flt_why(why, "%s: no flow priority=%u match=%s actions=%s idle=%u hard=%u", s->sw,
                f->priority, w.match, w.actions[0] ? w.actions : "drop", w.idle, w.hard);
        fine = ONE_NOT;
    }
    if (fine == ONE_FINE && !rewritten && changed && how == FLT_RW_REMATCH) {
        /* Reverted: the flow the fault added with its own match is gone
         * too (the whole table is not compared when flows come and go). */
        struct flt_wanted fw;

        wanted(r, s, f, true, &fw);
        if (strcmp(fw.match, f->match) && match_there(f->priority, fw.match, st)) {
            flt_why(why, "%s still has the fault's priority=%u match=%s", s->sw, f->priority,
                    fw.match);
            fine = ONE_NOT;
        }
        wanted_release(&fw);
    }
    wanted_release(&w);
    return fine;
}

static int
check_flows(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
            struct sr_error *err)
{
    size_t total = 0, back = 0, changed = 0, healed = 0, gone = 0;
    /* Once the fault was seen in effect, a look counts how many of the
     * changed flows still are, instead of stopping at the first that is
     * not: a controller heals a fault flow by flow. */
    bool counting = want_fault && r->verified;
    uint64_t *dpids = xcalloc(r->nsnaps + 1, sizeof *dpids);
    struct ctl_stats *all = xcalloc(r->nsnaps + 1, sizeof *all);
    int ok = 1;

    for (size_t si = 0; si < r->nsnaps; si++) {
        dpids[si] = r->snaps[si].dpid;
    }
    /* Every switch's flows in one sweep: with 'all' that is 20 or more. */
    if (flt_read_flows(env, dpids, r->nsnaps, all, err) < 0) {
        free(all);
        free(dpids);
        return -err->code;
    }
    for (size_t si = 0; si < r->nsnaps && (ok == 1 || counting); si++) {
        const struct sw_snap *s = &r->snaps[si];
        const struct ctl_stats *st = &all[si];

        for (size_t i = 0; i < s->n && (ok == 1 || counting); i++) {
            const struct saved_flow *f = &s->flows[i];
            bool rewritten = want_fault && changes(r, f);
            /* Only the first flow that is not as wanted gets described. */
            int fine = check_one(r, s, f, rewritten, changes(r, f), env->dynamic_flows, st,
                                 ok == 1 ? seen : NULL);

            if (fine == ONE_PUT_BACK) {
                back++;
            } else if (fine == ONE_GONE) {
                gone += rewritten;
            } else if (fine == ONE_NOT) {
                ok = 0;
                healed += rewritten;
            }
            changed += rewritten;
        }
        if (ok == 1 && !want_fault && !env->dynamic_flows) {
            /* Restored means exactly the old set: no flow left over. */
            size_t now = 0;

            for (size_t k = 0; k < st->nflows; k++) {
                now += st->flows[k].table_id == 0;
            }
            if (now != s->n) {
                sr_buf_printf(seen, "%s has %zu flows in table 0, had %zu", s->sw, now, s->n);
                ok = 0;
            }
        }
        if (ok == 1 && r->nsnaps <= 3) {
            sr_buf_printf(seen, "%s%s: %zu flows as expected", seen->len ? "; " : "", s->sw,
                          st->nflows);
        }
        total += st->nflows;
    }
    if (ok == 1 && r->nsnaps > 3) {
        sr_buf_printf(seen, "%zu switches: %zu flows as expected", r->nsnaps, total);
    }
    if (ok == 1 && back) {
        sr_buf_printf(seen, ", %zu of them already put back by the controller", back);
    }
    if (want_fault && changed && gone == changed && ok == 1) {
        /* Every flow it changed expired on its own: nothing shows it. */
        sr_buf_printf(seen, "; but every flow it changed has expired since");
        ok = 0;
    } else if (ok == 1 && gone) {
        sr_buf_printf(seen, ", %zu of them expired on their own since", gone);
    }
    if (counting) {
        r->changed = changed;
        r->in_effect = changed - healed - gone;
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
    const struct flt_rewrite *rw = rewrite_of(r);
    struct flt_batch b = { 0 };
    int rc = 0;

    for (size_t si = 0; si < r->nsnaps; si++) {
        const struct sw_snap *s = &r->snaps[si];

        for (size_t i = 0; i < s->n; i++) {
            const struct saved_flow *f = &s->flows[i];
            int one;

            if (!changes(r, f)) {
                continue;
            }
            if (rw->how == FLT_RW_REMATCH) {
                struct flt_wanted w;

                wanted(r, s, f, true, &w);
                flt_write_flow(env, &b, CTL_FLOW_DELETE, s->dpid, f->priority, f->cookie, 0, 0,
                               w.match, f->actions, NULL, err);
                wanted_release(&w);
            }
            /* ADD replaces a flow with the same match and priority, so one
             * call restores actions and timeouts, or re-creates it. */
            one = flt_write_flow(env, &b, CTL_FLOW_ADD, s->dpid, f->priority, f->cookie, f->idle,
                                 f->hard, f->match, f->actions, f->id, err);
            rc = rc < 0 ? rc : one;
        }
    }
    if (flt_batch_flush(env, &b, err) < 0 && rc == 0) {
        rc = -err->code;
    }
    if (rw->finish) {
        int f = rw->finish(env, r, err);

        rc = rc < 0 ? rc : f;
    }
    return rc;
}

const struct flt_ops flt_flow_ops = {
    .inject = inject_flows,
    .check = check_flows,
    .revert = revert_flows,
    .witness = true,
};

/* ---- the flow fault types ---- */

/* flow_output_changed: every output goes to the next port the switch
 * outputs to. */
static void
become_output(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
              size_t nports, struct flt_wanted *w)
{
    struct sr_buf b = SR_BUF_INIT;
    char *copy = xstrdup(f->actions), *save = NULL;

    (void) r;
    for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        int64_t v;

        if (!strncmp(a, "OUTPUT:", 7) && nports && sr_parse_i64(a + 7, 1, 0xffffff00, &v)) {
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
    w->actions = sr_buf_steal(&b);
}

static int
prepare_output(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    (void) env;
    for (size_t si = 0; si < r->nsnaps; si++) {
        uint32_t ports[64];

        if (output_ports(&r->snaps[si], ports, SR_ARRAY_SIZE(ports)) < 2) {
            return sr_error_set(err, SR_EINVAL,
                                "switch %s outputs to fewer than two ports: nothing to "
                                "change outputs to",
                                r->snaps[si].sw);
        }
    }
    return 0;
}

const struct flt_rewrite flt_rw_output = { FLT_RW_MODIFY, false, true, 0, become_output,
                                           prepare_output, NULL };

/* flow_inport_changed: each flow only matches packets from a port they
 * never come from (the highest port the switch outputs to). */
static void
become_inport(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
              size_t nports, struct flt_wanted *w)
{
    json_t *m = json_loads(f->match, 0, NULL);

    (void) ports;
    (void) nports;
    if (!m) {
        m = json_object();
    }
    json_object_set_new(m, "in_port", json_integer(r->inport));
    w->match = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
}

static int
prepare_inport(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    uint32_t ports[64];
    size_t n = r->nsnaps ? output_ports(&r->snaps[0], ports, SR_ARRAY_SIZE(ports)) : 0;

    (void) env;
    (void) err;
    r->inport = n ? ports[n - 1] : 1;
    return 0;
}

const struct flt_rewrite flt_rw_inport = { FLT_RW_REMATCH, false, false, 0, become_inport,
                                           prepare_inport, NULL };


static void
become_idle(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
            size_t nports, struct flt_wanted *w)
{
    (void) f;
    (void) ports;
    (void) nports;
    w->idle = flt_timeout_s(r);
}

static void
become_hard(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
            size_t nports, struct flt_wanted *w)
{
    (void) f;
    (void) ports;
    (void) nports;
    w->hard = flt_timeout_s(r);
}

const struct flt_rewrite flt_rw_idle = { FLT_RW_READD, false, false, 1, become_idle, NULL, NULL };
const struct flt_rewrite flt_rw_hard = { FLT_RW_READD, false, false, 2, become_hard, NULL, NULL };

/* flows_deleted: nothing is what they become. */
static void
become_nothing(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
               size_t nports, struct flt_wanted *w)
{
    (void) r;
    (void) f;
    (void) ports;
    (void) nports;
    (void) w;
}

const struct flt_rewrite flt_rw_deleted = { FLT_RW_DELETE, true, false, 0, become_nothing, NULL,
                                            NULL };

/* rate_limit: every flow goes through an OpenFlow meter first. */
static void
become_metered(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
               size_t nports, struct flt_wanted *w)
{
    const char *rest = f->actions;

    (void) ports;
    (void) nports;
    /* A flow already metered (a guest host's) goes through the fault's
     * meter instead: OpenFlow allows one meter instruction per flow. */
    if (!strncmp(rest, "METER:", 6)) {
        rest += strcspn(rest, ",");
        rest += *rest == ',';
    }
    w->actions = xasprintf("METER:%u%s%s", r->meter_id, *rest ? "," : "", rest);
}

static int
meter_add(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return r->nsnaps ? ctl_client_meter(env->ctl, true, r->snaps[0].dpid, r->meter_id,
                                        (uint32_t) r->spec.rate_kbps, err)
                     : 0;
}

static int
meter_delete(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return r->nsnaps ? ctl_client_meter(env->ctl, false, r->snaps[0].dpid, r->meter_id, 0, err)
                     : 0;
}

const struct flt_rewrite flt_rw_meter = { FLT_RW_MODIFY, false, false, 0, become_metered,
                                          meter_add, meter_delete };
