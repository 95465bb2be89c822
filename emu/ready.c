/* Readiness: every switch connected, every link discovered, every user
 * host able to open a TCP connection to a server.  Asked through the
 * controller client and the Mininet control channel. */
#include "runtime-private.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "files.h"
#include "log.h"
#include "proc.h"
#include "util.h"

/* ---- readiness ---- */

static int
check_switches(struct sim_runtime *rt, struct sr_buf *missing, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    uint64_t *dpids = NULL;
    size_t n = 0, nmissing = 0;

    if (ctl_client_switches(rt->client, &dpids, &n, err) < 0) {
        return -err->code;
    }
    sr_buf_clear(missing);
    for (size_t i = 0; i < t->nsw; i++) {
        bool found = false;

        for (size_t k = 0; k < n && !found; k++) {
            found = dpids[k] == t->sw[i].dpid;
        }
        if (!found && nmissing++ < 10) {
            sr_buf_printf(missing, "%s%s", nmissing > 1 ? ", " : "", t->sw[i].name);
        }
    }
    free(dpids);
    return (int) nmissing;
}

int
sim_runtime_missing_links(struct sim_runtime *rt, struct sr_buf *missing, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    struct ctl_link *links = NULL;
    size_t n = 0;
    int nmissing = 0;

    if (ctl_client_links(rt->client, &links, &n, err) < 0) {
        return -err->code;
    }
    sr_buf_clear(missing);
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        if (l->kind == TOPO_LINK_HOST) {
            continue;
        }
        for (int dir = 0; dir < 2; dir++) {
            int a = dir ? l->b : l->a, b = dir ? l->a : l->b;
            int ap = dir ? l->b_port : l->a_port, bp = dir ? l->a_port : l->b_port;
            bool found = false;

            for (size_t k = 0; k < n && !found; k++) {
                found = links[k].src_dpid == t->sw[a].dpid && links[k].src_port == (uint32_t) ap &&
                        links[k].dst_dpid == t->sw[b].dpid && links[k].dst_port == (uint32_t) bp;
            }
            if (!found && nmissing++ < 10) {
                sr_buf_printf(missing, "%s%s:%d->%s:%d", nmissing > 1 ? ", " : "",
                              t->sw[a].name, ap, t->sw[b].name, bp);
            }
        }
    }
    free(links);
    return nmissing;
}

/* Each user host tries a TCP connection to one server (round-robin). */
static int
check_tcp(struct sim_runtime *rt, double deadline, struct sr_buf *failed, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    json_t *pairs = json_array(), *cmd, *answer = NULL;
    size_t nservers = 0, k = 0;
    int nfailed;
    char ip[32];

    for (size_t i = 0; i < t->nhost; i++) {
        nservers += t->host[i].role == TOPO_ROLE_SERVER;
    }
    for (size_t i = 0; i < t->nhost && nservers; i++) {
        size_t want = k++ % nservers, seen = 0;

        if (t->host[i].role != TOPO_ROLE_USER) {
            k--;
            continue;
        }
        for (size_t j = 0; j < t->nhost; j++) {
            if (t->host[j].role == TOPO_ROLE_SERVER && seen++ == want) {
                topo_format_ip(t->host[j].ip, ip, sizeof ip);
                json_array_append_new(pairs, json_pack("[s, s]", t->host[i].name, ip));
                break;
            }
        }
    }
    if (json_array_size(pairs) == 0) {
        json_decref(pairs);
        return 0;
    }
    cmd = json_pack("{s:s, s:o, s:i}", "cmd", "tcpcheck", "pairs", pairs, "timeout", 2);
    if (rt_command(rt, cmd, rt_deadline_left_ms(deadline) / 1000.0 + 5, true, &answer, err) < 0) {
        return -err->code;
    }
    sr_buf_clear(failed);
    nfailed = (int) json_array_size(json_object_get(answer, "failed"));
    for (int i = 0; i < nfailed && i < 10; i++) {
        json_t *f = json_array_get(json_object_get(answer, "failed"), (size_t) i);

        sr_buf_printf(failed, "%s%s -> %s (%s)", i ? ", " : "",
                      json_string_value(json_array_get(f, 0)),
                      json_string_value(json_array_get(f, 1)),
                      json_string_value(json_array_get(f, 2)));
    }
    json_decref(answer);
    return nfailed;
}

int
rt_wait_ready(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    struct sr_buf what = SR_BUF_INIT;
    const char *stage = "switches not connected to the controller";
    int step = 0, rc = 0;

    while (step < 3) {
        int missing;

        if (!rt->external && rt_controller_exited(rt, NULL)) {
            rc = sr_error_set(err, SR_EIO, "the controller exited during start-up; see %s/controller.log",
                              rt->dir);
            break;
        }
        missing = step == 0   ? check_switches(rt, &what, err)
                  : step == 1 ? sim_runtime_missing_links(rt, &what, err)
                              : check_tcp(rt, deadline, &what, err);
        if (missing == 0) {
            static const char *const done[] = { "every switch connected",
                                                "every link discovered",
                                                "every user reached a server over TCP" };

            SR_INFO("%s (%.1f s)", done[step], sr_now() - rt->t0);
            step++;
            continue;
        }
        if (missing < 0 && err->code != SR_ETIMEDOUT && err->code != SR_EIO) {
            rc = -err->code;
            break;
        }
        if (missing < 0 && step == 2) {
            rc = -err->code;
            break;
        }
        stage = missing < 0   ? "the controller did not answer"
                : step == 0   ? "switches not connected to the controller"
                : step == 1   ? "links not discovered"
                              : "users that could not reach a server over TCP";
        if (sr_now() > deadline) {
            char detail[sizeof err->msg + 16];

            /* 'err' may hold the last failure: copy it before reusing it. */
            snprintf(detail, sizeof detail, "%s%s",
                     missing < 0 ? err->msg : sr_buf_cstr(&what),
                     missing > 10 ? ", ..." : "");
            rc = sr_error_set(err, SR_ETIMEDOUT, "the network was not ready within %.0f s: %s (%s)",
                              deadline - rt->t0, stage, detail);
            break;
        }
        if (sr_signals_sleep(step == 2 ? 200 : 250)) {
            rc = sr_error_set(err, SR_EINTR, "interrupted by signal %d while waiting for the "
                              "network", sr_signals_pending());
            break;
        }
    }
    sr_buf_release(&what);
    return rc;
}

