/* The steps every fault goes through (inject, verify, watch, revert,
 * verify the revert), dispatched through the fault type's operations, and
 * the helpers the families share. */
#include "faults-private.h"

#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"

/* ---- helpers ---- */

void
flt_touch(struct flt_run *r, const char *sw, uint32_t port)
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

void
flt_why(struct sr_buf *b, const char *fmt, ...)
{
    va_list ap;

    if (!b) {
        return;
    }
    va_start(ap, fmt);
    sr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *
flt_canon_match(const char *match)
{
    /* OpenFlow 1.0's names, which /stats/flow answers with: eth_type is
     * dl_type, ipv4_dst is nw_dst, tcp_dst is tp_dst ... */
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

void
flt_batch_release(struct flt_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        json_decref(b->mod[i].match);
        json_decref(b->mod[i].actions);
        free(b->ids[i]);
    }
    free(b->cmd);
    free(b->mod);
    free(b->ids);
    memset(b, 0, sizeof *b);
}

int
flt_batch_flush(const struct flt_env *env, struct flt_batch *b, struct sr_error *err)
{
    int failed = b->n ? ctl_client_flows(env->ctl, b->cmd, b->mod, b->n, err) : 0;

    if (failed) {
        sr_error_prefix(err, "%d of %zu flow changes failed", failed, b->n);
    }
    flt_batch_release(b);
    return failed ? -SR_EIO : 0;
}

int
flt_write_flow(const struct flt_env *env, struct flt_batch *b, enum ctl_flow_cmd cmd,
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
        xgrow((void **) &b->ids, &b->capi, b->n + 1, sizeof *b->ids);
        b->ids[b->n] = xstrdup(f.id);
        f.id = b->ids[b->n];
        b->cmd[b->n] = cmd;
        b->mod[b->n++] = f;
        return 0;
    }
    rc = ctl_client_flow(env->ctl, cmd, &f, err);
    json_decref(m);
    json_decref(a);
    return rc;
}

int
flt_read_flows(const struct flt_env *env, const uint64_t *dpids, size_t n,
               struct ctl_stats *st, struct sr_error *err)
{
    int failed = ctl_client_sweep(env->ctl, dpids, n, CTL_WANT_FLOWS, st, err);

    if (failed) {
        for (size_t i = 0; i < n; i++) {
            ctl_stats_release(&st[i]);
        }
        return -SR_EIO;
    }
    return 0;
}

bool
flt_is_table_miss(const char *match, uint32_t priority)
{
    return priority == 0 && !strcmp(match, "{}");
}

bool
flt_is_lldp_rule(const char *match, const char *actions)
{
    return strstr(match, "\"dl_type\":35020") && strstr(actions, "CONTROLLER");
}

/* ---- the steps ---- */

static const struct flt_ops *
ops_of(const struct flt_run *r)
{
    return r->type->ops;
}

int
flt_inject(const struct flt_env *env, const struct flt_episode *ep, struct flt_run **out,
           struct sr_error *err)
{
    struct flt_run *r = xcalloc(1, sizeof *r);

    r->type = ep->type;
    r->spec = ep->spec;
    r->spec.target = NULL;
    r->spec.service = ep->spec.service ? xstrdup(ep->spec.service) : NULL;
    /* Rules a fault adds carry the episode's cookie and priority. */
    r->spec.cookie = ep->spec.cookie ? ep->spec.cookie : FLT_COOKIE;
    r->spec.priority = ep->spec.priority ? ep->spec.priority : FLT_PRIORITY;
    r->target = xstrdup(ep->target);
    r->meter_id = (uint32_t) ep->id + 1;
    *out = r;
    return ops_of(r)->inject(env, r, err);
}

int
flt_check(const struct flt_env *env, struct flt_run *r, struct sr_buf *seen, struct sr_error *err)
{
    return ops_of(r)->check(env, r, true, seen, err);
}

int
flt_check_reverted(const struct flt_env *env, struct flt_run *r, struct sr_buf *seen,
                   struct sr_error *err)
{
    return ops_of(r)->check(env, r, false, seen, err);
}

bool
flt_run_effect(const struct flt_run *r, size_t *in_effect, size_t *changed)
{
    *in_effect = r->in_effect;
    *changed = r->changed;
    return ops_of(r) == &flt_flow_ops && r->changed > 0;
}

bool
flt_run_slow(const struct flt_run *r, bool reverting)
{
    return reverting ? ops_of(r)->slow_revert : ops_of(r)->slow_inject;
}

int
flt_look(const struct flt_env *env, struct flt_run *r, bool reverting, struct sr_buf *seen,
         struct sr_error *err)
{
    int ok = ops_of(r)->check(env, r, !reverting, seen, err);

    if (ok == 1 && ops_of(r)->witness && env->dump_flows) {
        /* The controller agrees; the switch itself must too. */
        ok = flt_witness(env, r, !reverting, seen, err);
    }
    if (ok == 1 && !reverting) {
        r->verified = true;
    }
    return ok;
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
        ok = flt_look(env, r, reverted, &last, &e);
        if (ok == 1) {
            if (seen) {
                sr_buf_puts(seen, sr_buf_cstr(&last));
            }
            sr_buf_release(&last);
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
    return ops_of(r)->revert(env, r, err);
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
    for (size_t i = 0; i < r->norig; i++) {
        free(r->orig[i]);
    }
    free(r->orig);
    free(r->orig_age);
    free(r->hosts);
    free(r->probe_dpid);
    free(r->probe_port);
    free(r->spec.service);
    free(r->target);
    free(r);
}
