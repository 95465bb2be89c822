/* Network faults through the Mininet control channel: a link down, a
 * switch stopped, a server's interface down.  Seen in the port state and
 * the topology the controller reports. */
#include "faults-private.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
port_down(const struct flt_env *env, uint64_t dpid, uint32_t port, bool *down, struct sr_error *err)
{
    struct ctl_stats st;
    int failed = ctl_client_sweep(env->ctl, &dpid, 1, CTL_WANT_PORTS, &st, err);

    if (failed) {
        ctl_stats_release(&st);
        return -err->code;
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

/* ---- link_down ---- */

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
link_set(const struct flt_env *env, struct flt_run *r, bool up, struct sr_error *err)
{
    return env->net(env->ctx, "link", r->link.a, r->link.b, up ? "up" : "down", err);
}

static int
inject_link(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    if (!env->link_of(env->ctx, r->target, &r->link)) {
        return sr_error_set(err, SR_ENOTFOUND, "no link '%s'", r->target);
    }
    flt_touch(r, r->link.a, r->link.a_port);
    flt_touch(r, r->link.b, r->link.b_port);
    return link_set(env, r, false, err);
}

static int
revert_link(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return link_set(env, r, true, err);
}

static int
check_link(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
           struct sr_error *err)
{
    bool a_down = false, b_down = false;

    if (port_down(env, r->link.a_dpid, r->link.a_port, &a_down, err) < 0 ||
        port_down(env, r->link.b_dpid, r->link.b_port, &b_down, err) < 0) {
        return -err->code;
    }
    sr_buf_printf(seen, "%s:%u %s, %s:%u %s", r->link.a, r->link.a_port, a_down ? "down" : "up",
                  r->link.b, r->link.b_port, b_down ? "down" : "up");
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

const struct flt_ops flt_link_down_ops = { inject_link, check_link, revert_link, false, false,
                                           false };

/* ---- switch_down ---- */

static int
inject_switch(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    uint64_t dpid;

    if (!env->dpid_of(env->ctx, r->target, &dpid)) {
        return sr_error_set(err, SR_ENOTFOUND, "no switch '%s'", r->target);
    }
    flt_touch(r, r->target, 0);
    return env->net(env->ctx, "switch", r->target, NULL, "stop", err);
}

static int
revert_switch(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return env->net(env->ctx, "switch", r->target, NULL, "start", err);
}

static int
check_switch(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
             struct sr_error *err)
{
    uint64_t dpid = 0, *dpids = NULL;
    size_t n = 0;
    bool connected = false;

    env->dpid_of(env->ctx, r->target, &dpid);
    if (ctl_client_switches(env->ctl, &dpids, &n, err) < 0) {
        return -err->code;
    }
    for (size_t i = 0; i < n; i++) {
        connected = connected || dpids[i] == dpid;
    }
    free(dpids);
    sr_buf_printf(seen, "%s %s the controller", r->target,
                  connected ? "connected to" : "gone from");
    return want_fault ? !connected : connected;
}

const struct flt_ops flt_switch_down_ops = { inject_switch, check_switch, revert_switch, false,
                                             false, false };

/* ---- server_down ---- */

static int
inject_host(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    if (!env->host_of(env->ctx, r->target, &r->host)) {
        return sr_error_set(err, SR_ENOTFOUND, "no host '%s'", r->target);
    }
    flt_touch(r, r->host.sw, r->host.sw_port);
    return env->net(env->ctx, "host", r->target, NULL, "down", err);
}

static int
revert_host(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return env->net(env->ctx, "host", r->target, NULL, "up", err);
}

static int
check_host(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
           struct sr_error *err)
{
    bool down = false;

    if (port_down(env, r->host.sw_dpid, r->host.sw_port, &down, err) < 0) {
        return -err->code;
    }
    sr_buf_printf(seen, "%s:%u (to %s) %s", r->host.sw, r->host.sw_port, r->host.name,
                  down ? "down" : "up");
    return want_fault ? down : !down;
}

const struct flt_ops flt_host_down_ops = { inject_host, check_host, revert_host, false, false,
                                           false };
