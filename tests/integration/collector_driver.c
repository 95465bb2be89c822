/* Drives a collection run on a real network for collector_check.py:
 * video_drop with the embedded controller, pings from every user to a
 * server, 40 sweeps at 1 s.  Through the client it adds a drop rule for one
 * server at its switch (sweep 10) and removes it (sweep 30); it stops the
 * controller with SIGSTOP for 5 s (from sweep 16) and snapshots
 * 'ovs-ofctl dump-ports' right after sweep 5.  What it did, and when, goes
 * to DIR/events.json.  Exit 77 without root.
 *
 * Usage: collector_driver SCENARIO DIR */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "collector.h"
#include "dataset.h"
#include "log.h"
#include "plan.h"
#include "proc.h"
#include "runtime.h"
#include "util.h"

struct drive {
    struct sim_runtime *rt;
    struct ctl_client *client;
    const struct sim_plan *plan;
    const char *sw_name, *server_ip;
    uint64_t sw_dpid;
    int ctl_pid;
    double stop_t, cont_t;
    json_t *events;
    bool failed;
};

static int
flow(struct drive *d, enum ctl_flow_cmd cmd, struct sr_error *err)
{
    json_t *match = json_pack("{s:i, s:s}", "eth_type", 2048, "ipv4_dst", d->server_ip);
    json_t *actions = json_array();
    struct ctl_flow_mod f = { .dpid = d->sw_dpid, .priority = 65000, .cookie = 0x51,
                              .match = match, .actions = actions, .id = "simrun-drop" };
    int rc = ctl_client_flow(d->client, cmd, &f, err);

    json_decref(match);
    json_decref(actions);
    return rc;
}

static bool
tick(void *ctx, struct collector *c, long k, double t)
{
    struct drive *d = ctx;
    struct sr_error err = { 0 };

    if (k == 5) {
        const char *argv[] = { "/usr/bin/ovs-ofctl", "-O", "OpenFlow13", "dump-ports",
                               d->sw_name, NULL };
        struct sr_buf out = SR_BUF_INIT;

        if (sr_run(argv, 10000, &out, &err) != 0) {
            fprintf(stderr, "dump-ports: %s\n", err.msg);
            d->failed = true;
        }
        json_object_set_new(d->events, "dump_ports_after_sweep", json_integer(k));
        json_object_set_new(d->events, "dump_ports", json_string(sr_buf_cstr(&out)));
        sr_buf_release(&out);
    } else if (k == 10) {
        if (flow(d, CTL_FLOW_ADD, &err) < 0) {
            fprintf(stderr, "adding the drop rule: %s\n", err.msg);
            d->failed = true;
            return false;
        }
        t = col_now_s(c);
        col_fault_event(c, 1, COL_INJECT, t);
        json_object_set_new(d->events, "inject_s", json_real(t));
    } else if (k == 16) {
        kill(d->ctl_pid, SIGSTOP);
        d->stop_t = col_now_s(c);
        json_object_set_new(d->events, "controller_stopped_s", json_real(d->stop_t));
    } else if (d->stop_t > 0 && d->cont_t == 0 && t >= d->stop_t + 5.0) {
        kill(d->ctl_pid, SIGCONT);
        d->cont_t = col_now_s(c);
        json_object_set_new(d->events, "controller_resumed_s", json_real(d->cont_t));
    } else if (k == 30) {
        t = col_now_s(c);
        col_fault_event(c, 1, COL_REVERT, t);
        if (flow(d, CTL_FLOW_DELETE, &err) < 0) {
            fprintf(stderr, "removing the drop rule: %s\n", err.msg);
            d->failed = true;
            return false;
        }
        t = col_now_s(c);
        col_fault_event(c, 1, COL_REVERTED, t);
        json_object_set_new(d->events, "reverted_s", json_real(t));
    }
    if (sim_runtime_watch(d->rt, 0, &err) != 0) {
        fprintf(stderr, "the network failed: %s\n", err.msg);
        d->failed = true;
        return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct scenario *scn;
    struct sim_plan *plan;
    struct sim_runtime_opts opts = { 0 };
    struct drive d = { 0 };
    struct col_switch *sws;
    struct collector *c = NULL;
    struct col_touch touch;
    struct col_fault fault;
    const struct topology *t;
    const struct topo_host *server = NULL;
    char ip[32], *path;
    int users = 0, rc = 1;
    json_t *state;

    if (argc != 3) {
        fprintf(stderr, "usage: collector_driver SCENARIO DIR\n");
        return 2;
    }
    if (geteuid() != 0) {
        printf("skipped: needs root\n");
        return 77;
    }
    scn = scenario_load(argv[1], &diags, &err);
    plan = scn ? sim_plan_build(scn, &diags, &err) : NULL;
    if (!plan || sr_signals_install(&err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    t = plan->topo;
    opts.out_dir = argv[2];
    d.rt = sim_runtime_up(plan, &opts, &err);
    if (!d.rt) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    d.plan = plan;
    d.events = json_object();
    for (size_t i = 0; i < t->nhost && !server; i++) {
        if (t->host[i].role == TOPO_ROLE_SERVER) {
            server = &t->host[i];
        }
    }
    topo_format_ip(server->ip, ip, sizeof ip);
    d.server_ip = ip;
    d.sw_name = t->sw[server->sw].name;
    d.sw_dpid = t->sw[server->sw].dpid;
    state = json_load_file(SIM_STATE_DIR "/state.json", 0, NULL);
    d.ctl_pid = (int) json_integer_value(json_object_get(state, "controller_pid"));
    json_decref(state);
    /* Every user pings a server, round-robin, five times a second. */
    for (size_t i = 0, k = 0; i < t->nhost; i++) {
        char sip[32];
        size_t want, seen = 0;

        if (t->host[i].role != TOPO_ROLE_USER) {
            continue;
        }
        want = k++ % (3 * t->ndc);
        for (size_t j = 0; j < t->nhost; j++) {
            if (t->host[j].role == TOPO_ROLE_SERVER && seen++ == want) {
                topo_format_ip(t->host[j].ip, sip, sizeof sip);
            }
        }
        if (sim_runtime_command(d.rt, json_pack("{s:s, s:s, s:[s, s, s, s, s]}", "cmd", "spawn",
                                                "host", t->host[i].name, "argv", "ping", "-q",
                                                "-i", "0.2", sip),
                                10, NULL, &err) < 0) {
            fprintf(stderr, "spawn: %s\n", err.msg);
            goto out;
        }
        users++;
    }
    {
        struct ctl_config cfg = { .kind = CTL_KIND_RYU, .url = sim_runtime_rest_url(d.rt),
                                  .timeout_ms = 800, .retries = 0, .batch = true };
        struct col_options o = { .dir = argv[2], .interval_s = 1.0, .csv = true,
                                 .jsonl = true, .flows = true };

        d.client = ctl_client_new(&cfg, &err);
        o.manifest = sim_manifest_base(plan, "embedded", cfg.url);
        touch = (struct col_touch) { d.sw_name, 0 };
        fault = (struct col_fault) { 1, "drop_service", d.sw_name, &touch, 1, false };
        sws = sim_col_switches(plan);
        c = d.client ? col_new(&o, sws, t->nsw, &fault, 1, d.client, &err) : NULL;
        json_decref(o.manifest);
        if (!c) {
            fprintf(stderr, "%s\n", err.msg);
            free(sws);
            goto out;
        }
        SR_INFO("collecting: %d users pinging; drop rule for %s on %s", users, ip, d.sw_name);
        rc = col_run(c, 40.0, tick, NULL, &d) ? 1 : 0;
        col_finish(c, rc == 0 && !d.failed ? "complete" : "interrupted");
        free(sws);
    }
    json_object_set_new(d.events, "target_switch", json_string(d.sw_name));
    json_object_set_new(d.events, "server_ip", json_string(ip));
    json_object_set_new(d.events, "switches", json_integer((json_int_t) t->nsw));
    path = xasprintf("%s/events.json", argv[2]);
    json_dump_file(d.events, path, JSON_INDENT(1));
    free(path);
    rc = rc || d.failed;

out:
    if (d.ctl_pid > 0) {
        kill(d.ctl_pid, SIGCONT);
    }
    ctl_client_free(d.client);
    json_decref(d.events);
    sim_runtime_down(d.rt);
    sim_plan_free(plan);
    scenario_free(scn);
    return rc;
}
