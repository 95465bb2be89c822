#include "traffic_plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

#define TRAFFIC_RNG_STREAM 4

size_t
sim_video_viewers(const struct sim_plan *plan)
{
    const struct scenario *s = plan->scn;
    size_t nusers = 0;

    for (size_t i = 0; i < plan->topo->nhost; i++) {
        nusers += plan->topo->host[i].role == TOPO_ROLE_USER;
    }
    return s->traffic.video.enabled && nusers < plan->topo->nhost
               ? (size_t) lround(s->traffic.video.clients * (double) nusers) : 0;
}

int
sim_write_traffic_plans(const struct sim_plan *plan, const char *dir, struct sr_error *err)
{
    const struct scenario *s = plan->scn;
    const struct topology *t = plan->topo;
    size_t nusers = 0, nservers = 0, nclients, k = 0;
    int *order;
    bool *viewer;
    struct sr_rng rng;
    json_t *user_ips = json_array(), *server_ips = json_array();
    char ip[32];
    int rc = 0;

    order = xcalloc(t->nhost + 1, sizeof *order);
    viewer = xcalloc(t->nhost + 1, sizeof *viewer);
    for (size_t i = 0; i < t->nhost; i++) {
        topo_format_ip(t->host[i].ip, ip, sizeof ip);
        if (t->host[i].role == TOPO_ROLE_USER) {
            order[nusers++] = (int) i;
            json_array_append_new(user_ips, json_string(ip));
        } else {
            nservers++;
            json_array_append_new(server_ips, json_string(ip));
        }
    }
    /* Which users watch video: a seeded choice, the same every run. */
    sr_rng_seed(&rng, s->seed, TRAFFIC_RNG_STREAM);
    sr_rng_shuffle(&rng, order, nusers, sizeof *order);
    nclients = sim_video_viewers(plan);
    for (size_t i = 0; i < nclients; i++) {
        viewer[order[i]] = true;
    }
    for (size_t i = 0; i < t->nhost && rc == 0; i++) {
        const struct topo_host *h = &t->host[i];
        json_t *roles = json_object(), *doc;
        char *path = xasprintf("%s/%s.json", dir, h->name);
        bool user = h->role == TOPO_ROLE_USER;
        json_t *others = json_array(), *v;
        size_t n;

        topo_format_ip(h->ip, ip, sizeof ip);
        /* Chat and p2p peers: every other user. */
        json_array_foreach(user_ips, n, v) {
            if (strcmp(json_string_value(v), ip)) {
                json_array_append(others, v);
            }
        }
        if (s->traffic.chat.enabled && user) {
            json_object_set_new(roles, "chat",
                                json_pack("{s:b, s:f, s:O, s:f}", "listen", 1, "per_min",
                                          s->traffic.chat.per_min, "peers", others, "timeout_s",
                                          2.0));
        }
        if (s->traffic.p2p.enabled && user) {
            json_object_set_new(roles, "p2p",
                                json_pack("{s:b, s:f, s:[f, f], s:O}", "listen", 1, "per_min",
                                          s->traffic.p2p.per_min, "size_mb",
                                          s->traffic.p2p.file_mb_min, s->traffic.p2p.file_mb_max,
                                          "peers", others));
        }
        if (s->traffic.broadcast.enabled) {
            /* Hosts share 10.0.0.0/8: its broadcast address. */
            json_object_set_new(roles, "broadcast",
                                json_pack("{s:f, s:s, s:b}", "every_s",
                                          (double) s->traffic.broadcast.every_ms / 1000.0,
                                          "address", "10.255.255.255", "send", user));
        }
        if (s->traffic.web.enabled && !user) {
            json_object_set_new(roles, "web", json_pack("{s:b}", "serve", 1));
        } else if (s->traffic.web.enabled && nservers) {
            json_object_set_new(roles, "web", json_pack("{s:O, s:f}", "servers", server_ips,
                                                        "per_min", s->traffic.web.per_min));
        }
        if (s->traffic.mail.enabled) {
            /* Users send to servers; servers send to users. */
            json_object_set_new(roles, "mail", json_pack("{s:b, s:f, s:O}", "listen", 1,
                                                         "per_min", s->traffic.mail.per_min,
                                                         "to", user ? server_ips : user_ips));
        }
        if (s->traffic.video.enabled && !user) {
            json_object_set_new(roles, "video", json_pack("{s:b}", "serve", 1));
        } else if (viewer[i]) {
            json_object_set_new(roles, "video",
                                json_pack("{s:[O], s:I}", "servers",
                                          json_array_get(server_ips, k++ % nservers),
                                          "bitrate_kbps",
                                          (json_int_t) s->traffic.video.bitrate_kbps));
        }
        doc = json_pack("{s:s, s:s, s:I, s:o}", "host", h->name, "ip", ip, "seed",
                        (json_int_t) (s->seed * 1000003 + i), "roles", roles);
        if (plan->churn.curve_amp > 0) {
            json_object_set_new(doc, "curve",
                                json_pack("{s:f, s:f, s:f}", "amplitude", plan->churn.curve_amp,
                                          "period_s", plan->churn.curve_period_s, "phase",
                                          plan->churn.curve_phase));
        }
        json_decref(others);
        if (json_dump_file(doc, path, JSON_INDENT(1)) < 0) {
            rc = sr_error_set(err, SR_EIO, "cannot write '%s': %s", path, strerror(errno));
        }
        json_decref(doc);
        free(path);
    }
    json_decref(user_ips);
    json_decref(server_ips);
    free(order);
    free(viewer);
    return rc;
}

struct rec {
    double t;
    char *line;
};

static int
cmp_rec(const void *a, const void *b)
{
    double x = ((const struct rec *) a)->t, y = ((const struct rec *) b)->t;

    return (x > y) - (x < y);
}

long
sim_gather_kpis(const struct sim_plan *plan, const char *dir, const char *out, json_t *counts,
                struct sr_error *err)
{
    const struct topology *t = plan->topo;
    struct rec *recs = NULL;
    size_t n = 0, cap = 0;
    FILE *f;

    for (size_t i = 0; i < t->nhost; i++) {
        char *path = xasprintf("%s/%s.kpi.jsonl", dir, t->host[i].name);
        char *text = sr_read_file(path, NULL);

        free(path);
        char *save = NULL;

        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
            json_t *j = json_loads(line, 0, NULL);
            const char *svc = json_string_value(json_object_get(j, "service"));

            if (j && svc) {
                json_t *c = json_object_get(counts, svc);

                xgrow((void **) &recs, &cap, n + 1, sizeof *recs);
                recs[n].t = json_number_value(json_object_get(j, "t"));
                recs[n++].line = xstrdup(line);
                json_object_set_new(counts, svc, json_integer(c ? json_integer_value(c) + 1 : 1));
            }
            json_decref(j);
        }
        free(text);
    }
    if (n) {
        qsort(recs, n, sizeof *recs, cmp_rec);
    }
    f = fopen(out, "w");
    for (size_t i = 0; f && i < n; i++) {
        fprintf(f, "%s\n", recs[i].line);
    }
    for (size_t i = 0; i < n; i++) {
        free(recs[i].line);
    }
    free(recs);
    if (!f || fclose(f) != 0) {
        return sr_error_set(err, SR_EIO, "cannot write '%s'", out);
    }
    return (long) n;
}
