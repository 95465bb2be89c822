/* Benign churn in the traffic (churn.h). */
#include "churn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/* The scenario's RNG streams: 7 the traffic mix, 11 the controller's
 * applications. */
#define CHURN_RNG_STREAM 13

static int64_t
draw_ms(struct sr_rng *rng, int64_t lo, int64_t hi)
{
    return lo + (int64_t) sr_rng_below(rng, (uint64_t) (hi - lo) + 1);
}

/* Whether [at, end) meets a traffic fault of 'tl' (with a margin: its
 * agents are told at inject and at revert). */
static bool
meets_traffic_fault(const struct flt_timeline *tl, int64_t at, int64_t end)
{
    for (size_t i = 0; i < tl->n; i++) {
        const struct flt_episode *e = &tl->ep[i];
        bool traffic = !strcmp(e->type->name, "heavy_streaming_host") ||
                       !strcmp(e->type->name, "congestion");

        if (traffic && at < e->at_ms + e->duration_ms + 5000 && end > e->at_ms - 3000) {
            return true;
        }
    }
    return false;
}

/* Whether 'e' would act on an agent that an event of 'c' already acts on
 * at the same time (the later one's end would undo the other). */
static bool
meets_churn(const struct sim_churn *c, const struct topology *t, const struct sim_churn_event *e)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct sim_churn_event *o = &c->ev[i];
        int onet = o->kind == SIM_CHURN_FLASH ? o->net : t->host[o->host].net;
        int enet = e->kind == SIM_CHURN_FLASH ? e->net : t->host[e->host].net;

        if (onet == enet && e->at_ms < o->at_ms + o->duration_ms + 2000 &&
            e->at_ms + e->duration_ms + 2000 > o->at_ms) {
            return true;
        }
    }
    return false;
}

static int
by_start(const void *x, const void *y)
{
    const struct sim_churn_event *a = x, *b = y;

    return a->at_ms < b->at_ms ? -1 : a->at_ms > b->at_ms;
}

void
sim_churn_draw(const struct scenario *scn, const struct topology *topo,
               const struct flt_timeline *tl, int64_t duration_ms, struct sim_churn *out)
{
    const char *services[5];
    size_t nservices = 0, cap = 0, nusers = 0;
    int64_t from = scn->warmup_ms + 5000, to = duration_ms - 5000;
    double hours = (double) (to - from) / 3.6e6;
    long nflash = hours > 0 ? lround(scn->traffic.churn.flash_per_h * hours) : 0;
    long ndepart = hours > 0 ? lround(scn->traffic.churn.depart_per_h * hours) : 0;
    int *users = xcalloc(topo->nhost + 1, sizeof *users);
    struct sr_rng rng;

    memset(out, 0, sizeof *out);
    if (scn->traffic.video.enabled && scn->traffic.video.clients > 0) {
        services[nservices++] = "video";
    }
    if (scn->traffic.chat.enabled) {
        services[nservices++] = "chat";
    }
    if (scn->traffic.p2p.enabled) {
        services[nservices++] = "p2p";
    }
    if (scn->traffic.web.enabled) {
        services[nservices++] = "web";
    }
    if (scn->traffic.mail.enabled) {
        services[nservices++] = "mail";
    }
    for (size_t i = 0; i < topo->nhost; i++) {
        if (topo->host[i].role == TOPO_ROLE_USER) {
            users[nusers++] = (int) i;
        }
    }
    sr_rng_seed(&rng, scn->seed, CHURN_RNG_STREAM);
    for (long i = 0; i < nflash + ndepart && to > from && nusers; i++) {
        struct sim_churn_event e = { .kind = i < nflash ? SIM_CHURN_FLASH : SIM_CHURN_DEPART };

        if (e.kind == SIM_CHURN_FLASH) {
            if (!nservices || topo->params.access_networks < 1) {
                continue;
            }
            e.duration_ms = draw_ms(&rng, 10000, 90000);
            e.service = services[sr_rng_below(&rng, nservices)];
            e.net = 1 + (int) sr_rng_below(&rng, (uint64_t) topo->params.access_networks);
            e.factor = 3 + (int) sr_rng_below(&rng, 8);
            e.streams = 2 + (int) sr_rng_below(&rng, 3);
        } else {
            e.duration_ms = draw_ms(&rng, 30000, 180000);
            e.host = users[sr_rng_below(&rng, nusers)];
        }
        e.at_ms = draw_ms(&rng, from, to);
        if (e.at_ms + e.duration_ms > to) {
            e.duration_ms = to - e.at_ms;
        }
        if (e.duration_ms < 5000 || meets_traffic_fault(tl, e.at_ms, e.at_ms + e.duration_ms) ||
            meets_churn(out, topo, &e)) {
            continue;
        }
        xgrow((void **) &out->ev, &cap, out->n + 1, sizeof *out->ev);
        out->ev[out->n++] = e;
    }
    if (out->n) {
        qsort(out->ev, out->n, sizeof *out->ev, by_start);
    }
    if (scn->traffic.churn.curve > 0) {
        /* Half a cycle to a whole one over the run, starting anywhere. */
        out->curve_amp = scn->traffic.churn.curve;
        out->curve_period_s = (double) draw_ms(&rng, duration_ms, 2 * duration_ms) / 1000.0;
        out->curve_phase = sr_rng_uniform(&rng, 0, 2 * M_PI);
    }
    free(users);
}

void
sim_churn_release(struct sim_churn *c)
{
    if (c) {
        free(c->ev);
        c->ev = NULL;
        c->n = 0;
    }
}

json_t *
sim_churn_json(const struct sim_churn_event *e, const struct topology *topo)
{
    json_t *o, *hosts = json_array();

    if (e->kind == SIM_CHURN_FLASH) {
        for (size_t i = 0; i < topo->nhost; i++) {
            if (topo->host[i].role == TOPO_ROLE_USER && topo->host[i].net == e->net) {
                json_array_append_new(hosts, json_string(topo->host[i].name));
            }
        }
        o = json_pack("{s:s, s:s, s:i}", "churn", "flash_crowd", "service", e->service, "net",
                      e->net);
        json_object_set_new(o, strcmp(e->service, "video") ? "factor" : "streams",
                            json_integer(strcmp(e->service, "video") ? e->factor : e->streams));
    } else {
        json_array_append_new(hosts, json_string(topo->host[e->host].name));
        o = json_pack("{s:s}", "churn", "departure");
    }
    json_object_set_new(o, "hosts", hosts);
    json_object_set_new(o, "at_s", json_real((double) e->at_ms / 1000.0));
    json_object_set_new(o, "duration_s", json_real((double) e->duration_ms / 1000.0));
    return o;
}

json_t *
sim_churn_command(const struct sim_churn_event *e, bool start, json_t *servers)
{
    if (e->kind == SIM_CHURN_DEPART) {
        /* Starting nothing new until it is back; ending the quiet early
         * (quiet_s 0) when its time is up. */
        return json_pack("{s:i, s:i, s:f, s:s}", "load", 1, "extra_streams", 0, "quiet_s",
                         start ? (double) e->duration_ms / 1000.0 : 0.0, "by", "departure");
    }
    if (!strcmp(e->service, "video")) {
        return json_pack("{s:i, s:i, s:O, s:s}", "load", 1, "extra_streams",
                         start ? e->streams : 0, "servers", servers, "by", "flash crowd");
    }
    return json_pack("{s:i, s:i, s:s, s:s}", "load", start ? e->factor : 1, "extra_streams", 0,
                     "service", e->service, "by", "flash crowd");
}
