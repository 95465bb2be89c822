/* Every fault type on one real network (video_drop's topology, embedded
 * controller): inject, verify, see the effect in the switch itself, revert,
 * verify, and check that the switch's flows are exactly as before
 * (ovs-ofctl dump-flows without counters) or, for network faults, that a
 * user reaches the server again.  The traffic faults come last, with the
 * scenario's simtraffic agents started for them: their effect is read on
 * the host itself (its interface's received bytes) and in the agents' KPI
 * records, and after the revert the host's rate is back down.  Events go to
 * DIR/faults.jsonl; one JSON line per fault to stdout with its timings.
 * With --repeat N each type runs N times (bench/faults).  Exit 77 without
 * root.
 *
 * Usage: faults_driver SCENARIO DIR [--repeat N] [TYPE...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "faultenv.h"
#include "log.h"
#include "plan.h"
#include "proc.h"
#include "runtime.h"
#include "trace.h"
#include "traffic_plan.h"
#include "util.h"

static const char *const order[] = {
    "lldp_drop",         "drop_service",      "blackhole_host",      "forwarding_loop",
    "rate_limit",        "flow_output_changed", "flow_inport_changed", "flow_idle_timeout",
    "flow_hard_timeout", "flows_deleted",     "link_down",           "server_down",
    "switch_down",       "controller_down",   "heavy_streaming_host", "congestion",
};

struct ctx {
    struct sim_runtime *rt;
    struct sim_faultenv fe;
    const struct topology *t;
    const struct topo_host *server, *user;
    char server_ip[32];
    const char *server_sw, *core_link_a, *core_link_b, *other_core;
    FILE *log;
    double t0;
    double ep_wall0;          /* wall-clock time of the current injection */
    const char *dir;
    bool agents;
};

/* Sorted 'ovs-ofctl dump-flows --no-stats' of 'sws' (one switch, or all). */
static char *
switch_flows(struct ctx *c, const char *target)
{
    struct sr_buf all = SR_BUF_INIT;

    for (size_t i = 0; i < c->t->nsw; i++) {
        const char *sw = c->t->sw[i].name;
        struct sr_buf out = SR_BUF_INIT;
        struct sr_error err = { 0 };
        char *lines[512];
        size_t n = 0;

        if (strcmp(target, "all") && strcmp(target, sw)) {
            continue;
        }
        if (c->fe.env.dump_flows(&c->fe, &sw, 1, &out, &err) < 0) {
            sr_buf_printf(&all, "%s: %s\n", sw, err.msg);
            continue;
        }
        char *save = NULL;

        for (char *p = strtok_r(out.data, "\n", &save); p && n < SR_ARRAY_SIZE(lines);
             p = strtok_r(NULL, "\n", &save)) {
            double age;

            if (strstr(p, "priority=") || strstr(p, "actions=")) {
                lines[n++] = flt_flow_line(p, &age); /* without counters */
            }
        }
        for (size_t a = 1; a < n; a++) {
            for (size_t b = a; b > 0 && strcmp(lines[b - 1], lines[b]) > 0; b--) {
                char *tmp = lines[b];

                lines[b] = lines[b - 1];
                lines[b - 1] = tmp;
            }
        }
        for (size_t k = 0; k < n; k++) {
            sr_buf_printf(&all, "%s:%s\n", sw, lines[k]);
            free(lines[k]);
        }
        sr_buf_release(&out);
    }
    return sr_buf_steal(&all);
}

static void
event(struct ctx *c, const char *ev, const struct flt_episode *ep, double t, double ms,
      const char *detail)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:f}", "event", ev, "type", ep->type->name,
                          "id", ep->id, "target", ep->target, "t_s", t - c->t0);

    if (ms >= 0) {
        json_object_set_new(o, "took_ms", json_real(ms));
    }
    if (detail) {
        json_object_set_new(o, "seen", json_string(detail));
    }
    json_dumpf(o, c->log, JSON_COMPACT);
    fputc('\n', c->log);
    fflush(c->log);
    json_decref(o);
}

/* Runs a shell line on a host; returns its exit status. */
static int
run_on(struct ctx *c, const char *host, const char *line)
{
    json_t *ans = NULL;
    struct sr_error err = { 0 };
    int status;

    if (sim_runtime_command(c->rt, json_pack("{s:s, s:s, s:[s, s, s]}", "cmd", "run", "host",
                                             host, "argv", "bash", "-c", line),
                            60, &ans, &err) < 0) {
        fprintf(stderr, "run on %s: %s\n", host, err.msg);
        return -1;
    }
    status = (int) json_integer_value(json_object_get(ans, "status"));
    json_decref(ans);
    return status;
}

static const char *
target_for(struct ctx *c, const char *type, char *buf, size_t size)
{
    if (!strcmp(type, "blackhole_host") || !strcmp(type, "server_down")) {
        return c->server->name;
    }
    if (!strcmp(type, "forwarding_loop") || !strcmp(type, "link_down")) {
        snprintf(buf, size, "%s-%s", c->core_link_a, c->core_link_b);
        return buf;
    }
    if (!strcmp(type, "flow_idle_timeout") || !strcmp(type, "flow_hard_timeout") ||
        !strcmp(type, "controller_down")) {
        return "all";
    }
    if (!strcmp(type, "switch_down")) {
        return c->other_core;
    }
    if (!strcmp(type, "heavy_streaming_host")) {
        return c->user->name;
    }
    return c->server_sw;
}

/* The traffic agents, started for the traffic faults (with traffic on,
 * the controller learns flows all the time, so the flow faults' exact
 * before/after comparison runs without them). */
static int
start_agents(struct ctx *c)
{
    char self[4096], *folder = xasprintf("%s/traffic", c->dir), *program;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    struct sr_error err = { 0 };
    int rc;

    self[n > 0 ? n : 0] = '\0';
    *(strrchr(self, '/') ? strrchr(self, '/') : self) = '\0';
    program = xasprintf("%s/simtraffic", self);
    mkdir(folder, 0755);
    rc = sim_write_traffic_plans(sim_runtime_plan(c->rt), folder, &err) < 0 ||
                 sim_runtime_agents_start(c->rt, program, folder, &err) < 0
             ? -1 : 0;
    if (rc < 0) {
        fprintf(stderr, "starting the traffic agents: %s\n", err.msg);
    }
    free(folder);
    free(program);
    c->agents = rc == 0;
    sr_signals_sleep(5000); /* the video streams start */
    return rc;
}

/* kbit/s a host received over 'seconds', read from its own interface. */
static double
host_rx_kbps(struct ctx *c, const char *host, double seconds)
{
    json_t *ans = NULL;
    struct sr_error err = { 0 };
    double kbps = -1;
    char *line = xasprintf("a=$(cat /sys/class/net/%s-eth0/statistics/rx_bytes); sleep %.1f; "
                           "b=$(cat /sys/class/net/%s-eth0/statistics/rx_bytes); "
                           "echo $((b - a))",
                           host, seconds, host);
    if (sim_runtime_command(c->rt, json_pack("{s:s, s:s, s:[s, s, s]}", "cmd", "run", "host",
                                             host, "argv", "bash", "-c", line),
                            60, &ans, &err) == 0) {
        kbps = strtod(json_string_value(json_object_get(ans, "stdout")), NULL) * 8.0 / 1000.0 /
               seconds;
    }
    json_decref(ans);
    free(line);
    return kbps;
}

/* The agents' records of the control commands and extra streams. */
static void
agent_records(struct ctx *c, const char *host, double since, double *load, long *extra_reports)
{
    char *path = xasprintf("%s/traffic/%s.kpi.jsonl", c->dir, host);
    char *text = sr_read_file(path, NULL);

    *load = 0;
    *extra_reports = 0;
    char *save = NULL;

    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        json_t *r = json_loads(l, 0, NULL);
        json_t *m = json_object_get(r, "metrics");
        const char *svc = json_string_value(json_object_get(r, "service"));

        if (svc && json_number_value(json_object_get(r, "t")) >= since) {
            if (!strcmp(svc, "agent")) {
                *load = json_number_value(json_object_get(m, "load"));
            } else if (!strcmp(svc, "video") && json_is_true(json_object_get(m, "extra")) &&
                       json_number_value(json_object_get(m, "bitrate_kbps")) > 1000) {
                (*extra_reports)++;
            }
        }
        json_decref(r);
    }
    free(text);
    free(path);
}

/* Checks the effect that can be seen beyond the verification itself. */
static bool
effect(struct ctx *c, const struct flt_episode *ep, const char *before, char **why)
{
    const char *name = ep->type->name;

    if (ep->type->family == FLT_FAMILY_FLOW) {
        char *now = switch_flows(c, !strcmp(name, "blackhole_host") ? c->server_sw
                                    : !strcmp(name, "forwarding_loop") ? "all" : ep->target);
        bool changed = strcmp(now, before) != 0;

        free(now);
        if (!changed) {
            *why = xstrdup("the switch's flows did not change");
            return false;
        }
    }
    if (!strcmp(name, "heavy_streaming_host")) {
        /* Eight more streams of 1500 kbit/s: the host itself receives them,
         * and its agent reports them (each once a second). */
        double kbps, load;
        long extra = 0;

        for (double end = sr_now() + 6.0; extra < 8 && sr_now() < end; sr_signals_sleep(250)) {
            agent_records(c, ep->target, c->ep_wall0, &load, &extra);
        }
        /* Every stream is playing by now: measure over two seconds. */
        kbps = host_rx_kbps(c, ep->target, 2.0);
        if (kbps < 0.7 * 8 * 1500 || extra < 8) {
            *why = xasprintf("%s received %.0f kbit/s with 8 extra streams of 1500; %ld good "
                             "reports of extra streams", ep->target, kbps, extra);
            return false;
        }
    }
    if (!strcmp(name, "congestion")) {
        /* Every host's agent took the load; each viewer pulls 3 more streams. */
        for (size_t i = 0; i < c->t->nhost; i++) {
            double load;
            long extra;

            agent_records(c, c->t->host[i].name, c->ep_wall0, &load, &extra);
            if (load != 4) {
                *why = xasprintf("the agent of %s runs at load %g, not 4", c->t->host[i].name,
                                 load);
                return false;
            }
        }
    }
    if (!strcmp(name, "drop_service")) {
        /* Video's RTP port: the drop rule must count these packets. */
        char line[256];
        struct ctl_stats st;
        struct sr_error err = { 0 };
        uint64_t dpid = 0, counted = 0;

        snprintf(line, sizeof line,
                 "for i in $(seq 50); do echo x > /dev/udp/%s/5004; sleep 0.01; done",
                 c->server_ip);
        run_on(c, c->user->name, line);
        c->fe.env.dpid_of(&c->fe, c->server_sw, &dpid);
        /* Open vSwitch's userspace datapath updates flow counters shortly
         * after the packets: read until all are counted, for 3 s at most. */
        for (double end = sr_now() + 3.0; counted < 50 && sr_now() < end;) {
            if (ctl_client_sweep(c->fe.env.ctl, &dpid, 1, CTL_WANT_FLOWS, &st, &err) == 0) {
                for (size_t i = 0; i < st.nflows; i++) {
                    if (st.flows[i].priority == FLT_PRIORITY &&
                        strstr(st.flows[i].match, "5004")) {
                        counted = st.flows[i].packets;
                    }
                }
            }
            ctl_stats_release(&st);
            if (counted < 50) {
                sr_signals_sleep(100);
            }
        }
        if (counted < 50) {
            *why = xasprintf("the drop rule counted %llu of 50 video packets",
                             (unsigned long long) counted);
            return false;
        }
    }
    return true;
}

static bool
restored(struct ctx *c, const struct flt_episode *ep, const char *before, char **why)
{
    char line[128];

    if (ep->type->family == FLT_FAMILY_FLOW) {
        char *now = switch_flows(c, !strcmp(ep->type->name, "blackhole_host") ? c->server_sw
                                    : !strcmp(ep->type->name, "forwarding_loop") ? "all"
                                                                                  : ep->target);
        bool same = !strcmp(now, before);

        if (!same) {
            *why = xasprintf("flows differ from before:\n--- before\n%s--- after\n%s", before, now);
        }
        free(now);
        return same;
    }
    if (ep->type->family == FLT_FAMILY_NETWORK) {
        snprintf(line, sizeof line, "ping -c 3 -W 1 -i 0.2 %s >/dev/null", c->server_ip);
        for (int tries = 0; tries < 10; tries++) {
            if (run_on(c, c->user->name, line) == 0) {
                return true;
            }
        }
        *why = xasprintf("%s cannot reach %s after the revert", c->user->name, c->server_ip);
        return false;
    }
    if (!strcmp(ep->type->name, "heavy_streaming_host")) {
        double kbps = host_rx_kbps(c, ep->target, 1.0);

        if (kbps < 0 || kbps > 0.3 * 8 * 1500) {
            *why = xasprintf("%s still receives %.0f kbit/s after the revert", ep->target, kbps);
            return false;
        }
    }
    return true;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct sim_runtime_opts opts = { 0 };
    struct ctl_config cfg = { .kind = CTL_KIND_RYU, .timeout_ms = 3000, .retries = 2,
                              .batch = true };
    struct ctl_client *ctl = NULL;
    struct scenario *scn;
    struct sim_plan *plan;
    struct ctx c = { 0 };
    const char *types[32];
    size_t ntypes = 0;
    long repeat = 1;
    int failures = 0, id = 0;
    char *path;

    if (argc < 3) {
        fprintf(stderr, "usage: faults_driver SCENARIO DIR [--repeat N] [TYPE...]\n");
        return 2;
    }
    if (geteuid() != 0) {
        printf("skipped: needs root\n");
        return 77;
    }
    for (int i = 3; i < argc; i++) {
        int64_t v;

        if (!strcmp(argv[i], "--repeat") && i + 1 < argc && sr_parse_i64(argv[i + 1], 1, 1000, &v)) {
            repeat = (long) v;
            i++;
        } else if (ntypes < SR_ARRAY_SIZE(types)) {
            types[ntypes++] = argv[i];
        }
    }
    if (!ntypes) {
        for (size_t i = 0; i < SR_ARRAY_SIZE(order); i++) {
            types[ntypes++] = order[i];
        }
    }
    scn = scenario_load(argv[1], &diags, &err);
    plan = scn ? sim_plan_build(scn, &diags, &err) : NULL;
    if (!plan || sr_signals_install(&err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    opts.out_dir = c.dir = argv[2];
    if (getenv("SIMRUN_PROTOCOL_TRACE")) {
        /* The messages of every fault type, for tests/protocols_check.py. */
        opts.trace = cfg.trace = sr_trace_open(getenv("SIMRUN_PROTOCOL_TRACE"), &err);
    }
    c.rt = sim_runtime_up(plan, &opts, &err);
    if (!c.rt) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    c.t = plan->topo;
    c.t0 = sr_now();
    for (size_t i = 0; i < c.t->nhost; i++) {
        if (!c.server && c.t->host[i].role == TOPO_ROLE_SERVER) {
            c.server = &c.t->host[i];
        }
        if (!c.user && c.t->host[i].role == TOPO_ROLE_USER) {
            c.user = &c.t->host[i];
        }
    }
    topo_format_ip(c.server->ip, c.server_ip, sizeof c.server_ip);
    c.server_sw = c.t->sw[c.server->sw].name;
    for (size_t i = 0; i < c.t->nlink; i++) {
        if (c.t->link[i].kind == TOPO_LINK_CORE) {
            c.core_link_a = c.t->sw[c.t->link[i].a].name;
            c.core_link_b = c.t->sw[c.t->link[i].b].name;
            break;
        }
    }
    for (size_t i = 0; i < c.t->ncore; i++) {
        if (strcmp(c.t->sw[i].name, c.server_sw)) {
            c.other_core = c.t->sw[i].name;
            break;
        }
    }
    cfg.url = sim_runtime_rest_url(c.rt);
    ctl = ctl_client_new(&cfg, &err);
    sim_faultenv_init(&c.fe, c.rt, ctl);
    path = xasprintf("%s/faults.jsonl", argv[2]);
    c.log = fopen(path, "w");
    free(path);
    /* Every user learned by the controller before the faults start. */
    for (size_t i = 0; i < c.t->nhost; i++) {
        char line[96];

        if (c.t->host[i].role == TOPO_ROLE_USER) {
            snprintf(line, sizeof line, "ping -c 1 -W 1 %s >/dev/null", c.server_ip);
            run_on(&c, c.t->host[i].name, line);
        }
    }
    for (size_t ti = 0; ti < ntypes; ti++) {
        const struct flt_type *type = flt_type_find(types[ti]);
        double *inj = xcalloc((size_t) repeat, sizeof *inj), *rev = xcalloc((size_t) repeat, sizeof *rev);
        char tbuf[64], *why = NULL;
        long ok = 0;

        if (!type) {
            fprintf(stderr, "unknown fault type '%s'\n", types[ti]);
            return 2;
        }
        for (long k = 0; k < repeat && !why; k++) {
            struct flt_episode ep = { 0 };
            struct flt_run *run = NULL;
            struct sr_buf seen = SR_BUF_INIT;
            char *before;
            double t0, t1;

            ep.id = ++id;
            ep.type = type;
            ep.target = xstrdup(target_for(&c, type->name, tbuf, sizeof tbuf));
            ep.spec = (struct flt_spec) { .type = type, .service = "video", .timeout_ms = 5000,
                                          .rate_kbps = 1000, .streams = 8, .factor = 4 };
            if (type->family == FLT_FAMILY_TRAFFIC && !c.agents && start_agents(&c) < 0) {
                why = xstrdup("the traffic agents did not start");
                break;
            }
            before = switch_flows(&c, !strcmp(type->name, "blackhole_host") ? c.server_sw
                                      : !strcmp(type->name, "forwarding_loop") ? "all"
                                                                                : ep.target);
            t0 = sr_now();
            c.ep_wall0 = (double) time(NULL) - 1;
            event(&c, "inject", &ep, t0, -1, NULL);
            if (flt_inject(&c.fe.env, &ep, &run, &err) < 0 ||
                flt_verify(&c.fe.env, run, type->family == FLT_FAMILY_TRAFFIC ? 10.0 : 5.0,
                           &seen, &err) < 0) {
                why = xasprintf("inject: %s", err.msg);
                event(&c, "failed", &ep, sr_now(), -1, err.msg);
            } else {
                inj[k] = (sr_now() - t0) * 1000.0;
                event(&c, "verified", &ep, sr_now(), inj[k], sr_buf_cstr(&seen));
                effect(&c, &ep, before, &why);
            }
            sr_buf_clear(&seen);
            t1 = sr_now();
            event(&c, "revert", &ep, t1, -1, NULL);
            if (run && (flt_revert(&c.fe.env, run, &err) < 0 ||
                        flt_verify_reverted(&c.fe.env, run, 20.0, &seen, &err) < 0)) {
                if (!why) {
                    why = xasprintf("revert: %s", err.msg);
                }
                event(&c, "failed", &ep, sr_now(), -1, err.msg);
            } else if (run) {
                rev[k] = (sr_now() - t1) * 1000.0;
                event(&c, "reverted", &ep, sr_now(), rev[k], sr_buf_cstr(&seen));
                if (!why) {
                    restored(&c, &ep, before, &why);
                }
            }
            ok += !why;
            free(before);
            sr_buf_release(&seen);
            flt_run_free(run);
            free(ep.target);
        }
        qsort(inj, (size_t) ok, sizeof *inj, cmp_d);
        qsort(rev, (size_t) ok, sizeof *rev, cmp_d);
        if (why) {
            failures++;
            printf("{\"type\": \"%s\", \"ok\": false, \"why\": ", type->name);
            json_t *w = json_string(why);

            json_dumpf(w, stdout, JSON_ENCODE_ANY);
            json_decref(w);
            printf("}\n");
        } else {
            printf("{\"type\": \"%s\", \"ok\": true, \"runs\": %ld, \"inject_verified_ms_p50\": "
                   "%.1f, \"inject_verified_ms_p95\": %.1f, \"revert_verified_ms_p50\": %.1f, "
                   "\"revert_verified_ms_p95\": %.1f}\n",
                   type->name, ok, inj[(ok - 1) / 2], inj[(size_t) ((double) ok * 0.95 + 0.999) - 1],
                   rev[(ok - 1) / 2], rev[(size_t) ((double) ok * 0.95 + 0.999) - 1]);
        }
        fflush(stdout);
        free(why);
        free(inj);
        free(rev);
    }
    fclose(c.log);
    if (c.agents) {
        sim_runtime_agents_stop(c.rt, &err);
    }
    sim_faultenv_release(&c.fe);
    ctl_client_free(ctl);
    sim_runtime_down(c.rt);
    sim_plan_free(plan);
    scenario_free(scn);
    return failures ? 1 : 0;
}
