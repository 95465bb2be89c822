/* Rule faults: rules added on top of the controller's at the episode's
 * priority and cookie, deleted on revert.  A type is a 'struct
 * flt_rule_maker' whose 'add' puts its rules with flt_add_rule(). */
#include "faults-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"
#include "util.h"

int
flt_add_rule(const struct flt_env *env, struct flt_run *r, uint64_t dpid, json_t *match,
             const char *actions, struct sr_error *err)
{
    char *m = json_dumps(match, JSON_COMPACT | JSON_SORT_KEYS);
    uint32_t prio = r->spec.priority;
    uint64_t cookie = r->spec.cookie;
    int rc = flt_write_flow(env, NULL, CTL_FLOW_ADD, dpid, prio, cookie, 0, 0, m, actions,
                            NULL, err);

    if (rc == 0) {
        r->rules = xrealloc(r->rules, (r->nrules + 1) * sizeof *r->rules);
        r->rules[r->nrules++] = (struct added_rule) { dpid, m, xstrdup(actions), prio, cookie };
    } else {
        free(m);
    }
    /* 'match' stays as written (for deleting it); comparisons canonicalise. */
    return rc;
}

static const struct flt_rule_maker *
maker_of(const struct flt_run *r)
{
    return r->type->detail;
}

static int
inject_rules(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return maker_of(r)->add(env, r, err);
}

static int
check_rules(const struct flt_env *env, struct flt_run *r, bool want_present, struct sr_buf *seen,
            struct sr_error *err)
{
    for (size_t i = 0; i < r->nrules; i++) {
        const struct added_rule *a = &r->rules[i];
        struct ctl_stats st;
        bool present = false;
        char *want;

        if (flt_read_flows(env, &a->dpid, 1, &st, err) < 0) {
            return -err->code;
        }
        want = flt_canon_match(a->match);
        for (size_t k = 0; k < st.nflows && !present; k++) {
            char *got = flt_canon_match(st.flows[k].match);

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
        int one = flt_write_flow(env, NULL, CTL_FLOW_DELETE, a->dpid, a->priority, a->cookie, 0,
                                 0, a->match, a->actions, NULL, err);

        rc = rc < 0 ? rc : one;
    }
    return rc;
}

const struct flt_ops flt_rule_ops = {
    .inject = inject_rules,
    .check = check_rules,
    .revert = revert_rules,
    .witness = true,
};

/* ---- the rule fault types ---- */

/* The target switch of a one-switch rule fault. */
static int
target_switch(const struct flt_env *env, struct flt_run *r, uint64_t *dpid,
              struct sr_error *err)
{
    if (!env->dpid_of(env->ctx, r->target, dpid)) {
        return sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", r->target);
    }
    flt_touch(r, r->target, 0);
    return 0;
}

/* lldp_drop: every LLDP packet reaching the switch is dropped. */
static int
add_lldp_drop(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    uint64_t dpid;
    json_t *m;
    int rc = target_switch(env, r, &dpid, err);

    if (rc < 0) {
        return rc;
    }
    m = json_pack("{s:i}", "eth_type", 0x88cc);
    rc = flt_add_rule(env, r, dpid, m, "", err);
    json_decref(m);
    return rc;
}

const struct flt_rule_maker flt_rules_lldp = { add_lldp_drop };

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

/* drop_service: a drop rule per protocol and port of the service. */
static int
add_service_drop(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    json_t *list = json_array(), *v;
    uint64_t dpid;
    size_t i;
    int rc = target_switch(env, r, &dpid, err);

    if (rc == 0) {
        rc = flt_service_matches(r->spec.service ? r->spec.service : "", list, err);
    }
    json_array_foreach(list, i, v) {
        rc = rc < 0 ? rc : flt_add_rule(env, r, dpid, v, "", err);
    }
    json_decref(list);
    return rc;
}

const struct flt_rule_maker flt_rules_service = { add_service_drop };

/* blackhole_host: everything sent to the host is dropped at its switch. */
static int
add_blackhole(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    json_t *m;
    int rc;

    if (!env->host_of(env->ctx, r->target, &r->host)) {
        return sr_error_set(err, SR_ENOTFOUND, "no host '%s'", r->target);
    }
    flt_touch(r, r->host.sw, r->host.sw_port);
    m = json_pack("{s:s}", "eth_dst", r->host.mac);
    rc = flt_add_rule(env, r, r->host.sw_dpid, m, "", err);
    json_decref(m);
    return rc;
}

const struct flt_rule_maker flt_rules_blackhole = { add_blackhole };

/* forwarding_loop: IPv4 sent back and forth over a link; DEC_NW_TTL makes
 * each packet die after its TTL instead of looping for ever. */
static int
add_loop(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    char acts[64];
    json_t *m;
    int rc;

    if (!env->link_of(env->ctx, r->target, &r->link)) {
        return sr_error_set(err, SR_ENOTFOUND, "no link '%s'", r->target);
    }
    flt_touch(r, r->link.a, r->link.a_port);
    flt_touch(r, r->link.b, r->link.b_port);
    m = json_pack("{s:i}", "eth_type", 2048);
    snprintf(acts, sizeof acts, "DEC_NW_TTL,OUTPUT:%u", r->link.a_port);
    rc = flt_add_rule(env, r, r->link.a_dpid, m, acts, err);
    snprintf(acts, sizeof acts, "DEC_NW_TTL,OUTPUT:%u", r->link.b_port);
    rc = rc < 0 ? rc : flt_add_rule(env, r, r->link.b_dpid, m, acts, err);
    json_decref(m);
    return rc;
}

const struct flt_rule_maker flt_rules_loop = { add_loop };
