/* Traffic faults: the hosts' agents raise their traffic (heavy_streaming_host:
 * one user pulls more video streams; congestion: every host raises every
 * service), seen as the rate the switches send toward those hosts. */
#include "faults-private.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"


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
            return -err->code;
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
    if (((const struct flt_traffic_kind *) r->type->detail)->one_host) {
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
    bool heavy = ((const struct flt_traffic_kind *) r->type->detail)->one_host;
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
        flt_touch(r, info.sw, info.sw_port);
    }
    if (measure_kbps(env, r, &r->base_kbps, err) < 0) {
        return -err->code;
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
        return -err->code;
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

static int
revert_traffic(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    return start_traffic(env, r, false, err);
}

/* Both ways a rate is measured over a window: looked at once per sweep. */
const struct flt_ops flt_traffic_ops = { inject_traffic, check_traffic, revert_traffic, true, true,
                                         false };

const struct flt_traffic_kind flt_traffic_heavy = { true };
const struct flt_traffic_kind flt_traffic_congestion = { false };
