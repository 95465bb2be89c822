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
static bool
hex_is(const char *text, unsigned long want)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 16);
    return end != text && *end == '\0' && errno == 0 && v == want;
}

/* How many OpenFlow connections the switches hold to the controller: TCP
 * connections in the kernel's table (/proc/net/tcp and tcp6, where Open
 * vSwitch's userspace datapath and the controller both live) that are
 * established toward the controller's OpenFlow port.  The kernel closes
 * them the moment either end goes, where Open vSwitch's 'is_connected'
 * column is refreshed only every few seconds. */
static int
connected(void *ctx, size_t *n, struct sr_error *err)
{
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    unsigned of_port = (unsigned) sim_runtime_of_port(((struct sim_faultenv *) ctx)->rt);

    *n = 0;
    for (size_t i = 0; i < 2; i++) {
        FILE *f = fopen(tables[i], "r");
        char line[512];

        if (!f) {
            if (i == 0) {
                return sr_error_set(err, SR_EIO, "cannot read %s: %s", tables[i],
                                    strerror(errno));
            }
            continue;
        }
        /* "  sl  local_address rem_address   st ...": addresses as HEX:PORT,
         * the state in hex (01: established).  The heading line has no
         * hex port and is passed over. */
        while (fgets(line, sizeof line, f)) {
            char *save = NULL, *field[4];
            size_t k = 0;

            for (char *w = strtok_r(line, " \t\n", &save); w && k < 4;
                 w = strtok_r(NULL, " \t\n", &save)) {
                field[k++] = w;
            }
            if (k == 4 && hex_is(field[3], 0x01)) {
                const char *colon = strrchr(field[2], ':');

                *n += colon && hex_is(colon + 1, of_port);
            }
        }
        fclose(f);
    }
    return 0;
}

static int
traffic(void *ctx, const char *host, json_t *cmd, struct sr_error *err)
{
    return sim_runtime_agent_control(((struct sim_faultenv *) ctx)->rt, host, cmd, err);
}

/* 'ovs-ofctl dump-flows' of 'n' switches at once, one process each. */
static int
dump_flows(void *ctx, const char *const *sws, size_t n, struct sr_buf *outs, struct sr_error *err)
{
    char *ofctl = sr_which("ovs-ofctl");
    struct sr_proc *p = xcalloc(n + 1, sizeof *p);
    struct sr_fd_spec pipe_spec = { SR_FD_PIPE, NULL }, null = { SR_FD_NULL, NULL };
    double end = sr_now() + 15.0;
    size_t open = 0;
    int rc = 0;

    (void) ctx;
    if (!ofctl) {
        free(p);
        return sr_error_set(err, SR_ENOTFOUND, "no ovs-ofctl");
    }
    for (size_t i = 0; i < n; i++) {
        const char *argv[] = { ofctl, "-O", "OpenFlow13", "--no-names", "dump-flows", sws[i],
                               NULL };

        /* An entry never spawned has no pipe: -1, never fd 0 (simrun's
         * stdin), which the loop below would read and close. */
        p[i] = (struct sr_proc) { .pid = -1, .in_fd = -1, .out_fd = -1 };
        if (rc == 0 && sr_spawn(argv, NULL, null, pipe_spec, null, &p[i], err) < 0) {
            rc = -err->code;
        }
        open += p[i].pid > 0;
    }
    while (open && sr_now() < end) {
        struct pollfd *fds = xcalloc(n + 1, sizeof *fds);

        for (size_t i = 0; i < n; i++) {
            fds[i] = (struct pollfd) { .fd = p[i].out_fd, .events = POLLIN };
        }
        poll(fds, n, 200);
        for (size_t i = 0; i < n; i++) {
            char chunk[4096];
            ssize_t got;

            if (p[i].out_fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            got = read(p[i].out_fd, chunk, sizeof chunk);
            if (got > 0) {
                sr_buf_append(&outs[i], chunk, (size_t) got);
            } else if (got == 0 || errno != EINTR) {
                close(p[i].out_fd);
                p[i].out_fd = -1;
                open--;
            }
        }
        free(fds);
    }
    for (size_t i = 0; i < n; i++) {
        int status = 0;

        if (p[i].pid > 0 && (!sr_proc_wait(p[i].pid, 2000, &status) || status != 0) &&
            rc == 0) {
            rc = sr_error_set(err, SR_EIO, "ovs-ofctl dump-flows %s failed", sws[i]);
        }
        if (p[i].pid > 0) {
            sr_proc_stop(&p[i], 0);
        }
    }
    free(p);
    free(ofctl);
    return rc;
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
                                 .nviewers = sim_video_viewers(sim_runtime_plan(rt)) };
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
