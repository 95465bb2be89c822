#include "faultenv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "traffic_plan.h"
#include "util.h"

static const struct topology *
topo_of(void *ctx)
{
    return sim_runtime_plan(((struct sim_faultenv *) ctx)->rt)->topo;
}

static int
net(void *ctx, const char *what, const char *a, const char *b, const char *state,
    struct sr_error *err)
{
    struct sim_faultenv *fe = ctx;
    json_t *cmd = !strcmp(what, "link")
                      ? json_pack("{s:s, s:s, s:s, s:s}", "cmd", "link", "a", a, "b", b, "state",
                                  state)
                      : json_pack("{s:s, s:s, s:s}", "cmd", what, "name", a, "state", state);

    return sim_runtime_command(fe->rt, cmd, 60, NULL, err);
}

static int
controller(void *ctx, bool up, struct sr_error *err)
{
    return sim_runtime_controller(((struct sim_faultenv *) ctx)->rt, up, err);
}

/* Whether 'text' is exactly a hexadecimal number equal to 'want'. */
/* The switches' OpenFlow connections to the controller, where the
 * network runs. */
static int
connected(void *ctx, size_t *n, struct sr_error *err)
{
    return sim_runtime_connected(((struct sim_faultenv *) ctx)->rt, n, err);
}

static int
traffic(void *ctx, const char *host, json_t *cmd, struct sr_error *err)
{
    return sim_runtime_agent_control(((struct sim_faultenv *) ctx)->rt, host, cmd, err);
}

/* The switches' flow tables, where the network runs. */
static int
dump_flows(void *ctx, const char *const *sws, size_t n, struct sr_buf *outs, struct sr_error *err)
{
    return sim_runtime_dump_flows(((struct sim_faultenv *) ctx)->rt, sws, n, outs, err);
}

static bool
dpid_of(void *ctx, const char *sw, uint64_t *dpid)
{
    const struct topology *t = topo_of(ctx);
    int i = topo_find_switch(t, sw);

    if (i < 0) {
        return false;
    }
    *dpid = t->sw[i].dpid;
    return true;
}

static bool
link_of(void *ctx, const char *name, struct flt_link_info *out)
{
    const struct topology *t = topo_of(ctx);

    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];
        char fwd[2 * TOPO_NAME_MAX + 2], rev[2 * TOPO_NAME_MAX + 2];

        if (l->kind == TOPO_LINK_HOST) {
            continue;
        }
        snprintf(fwd, sizeof fwd, "%s-%s", t->sw[l->a].name, t->sw[l->b].name);
        snprintf(rev, sizeof rev, "%s-%s", t->sw[l->b].name, t->sw[l->a].name);
        if (!strcmp(name, fwd) || !strcmp(name, rev)) {
            *out = (struct flt_link_info) { t->sw[l->a].name, t->sw[l->b].name, t->sw[l->a].dpid,
                                            t->sw[l->b].dpid, (uint32_t) l->a_port,
                                            (uint32_t) l->b_port };
            return true;
        }
    }
    return false;
}

static bool
host_of(void *ctx, const char *name, struct flt_host_info *out)
{
    const struct topology *t = topo_of(ctx);

    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        if (!strcmp(h->name, name)) {
            memset(out, 0, sizeof *out);
            out->name = h->name;
            topo_format_ip(h->ip, out->ip, sizeof out->ip);
            topo_format_mac(h->mac, out->mac, sizeof out->mac);
            out->sw = t->sw[h->sw].name;
            out->sw_dpid = t->sw[h->sw].dpid;
            out->sw_port = (uint32_t) h->sw_port;
            return true;
        }
    }
    return false;
}

void
sim_faultenv_init(struct sim_faultenv *fe, struct sim_runtime *rt, struct ctl_client *ctl)
{
    const struct topology *t = sim_runtime_plan(rt)->topo;

    memset(fe, 0, sizeof *fe);
    fe->rt = rt;
    size_t nusers = 0, nservers = 0;

    fe->switches = xcalloc(t->nsw + 1, sizeof *fe->switches);
    for (size_t i = 0; i < t->nsw; i++) {
        fe->switches[i] = t->sw[i].name;
    }
    fe->users = xcalloc(t->nhost + 1, sizeof *fe->users);
    fe->servers = xcalloc(t->nhost + 1, sizeof *fe->servers);
    for (size_t i = 0; i < t->nhost; i++) {
        if (t->host[i].role == TOPO_ROLE_USER) {
            fe->users[nusers++] = t->host[i].name;
        } else {
            fe->servers[nservers++] = t->host[i].name;
        }
    }
    fe->env = (struct flt_env) { .ctl = ctl, .ctx = fe, .net = net, .controller = controller,
                                 .connected = connected, .traffic = traffic,
                                 .dump_flows = dump_flows, .dpid_of = dpid_of, .link_of = link_of,
                                 .host_of = host_of, .switches = fe->switches,
                                 .nswitches = t->nsw, .users = fe->users, .nusers = nusers,
                                 .servers = fe->servers, .nservers = nservers,
                                 .video_kbps = (double) sim_runtime_plan(rt)
                                                   ->scn->traffic.video.bitrate_kbps,
                                 .nviewers = sim_video_viewers(sim_runtime_plan(rt)),
                                 .dynamic_flows = sim_apps_dynamic(&sim_runtime_plan(rt)->apps) };
}

void
sim_faultenv_release(struct sim_faultenv *fe)
{
    free(fe->switches);
    free(fe->users);
    free(fe->servers);
    fe->switches = NULL;
    fe->users = fe->servers = NULL;
}
