/* The embedded controller's applications of one run (apps.h). */
#include "apps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "rng.h"
#include "services.h"
#include "util.h"

/* The scenario's RNG streams: 7 draws the traffic mix (scenario.c). */
#define APPS_RNG_STREAM 11

/* Services a campus blocks at its access switches, none of which simrun's
 * traffic uses: telnet, MS-RPC, NetBIOS, SMB, MS-SQL, RDP, VNC, IRC. */
static const int blockable[] = {23, 135, 139, 445, 1433, 3389, 5900, 6667};

const char *const sim_learn_matches[3] = { "in_port,eth_src,eth_dst", "eth_dst",
                                           "in_port,eth_src,eth_dst,ipv4_src,ipv4_dst" };

static const char *const change_names[] = {"acl_block", "acl_unblock", "drain_link",
                                           "undrain_link", "meter_rate"};

const char *
sim_change_kind_name(enum sim_change_kind k)
{
    return k < SIM_CHANGE_N ? change_names[k] : "?";
}

static int64_t
draw_ms(struct sr_rng *rng, int64_t lo, int64_t hi)
{
    return hi > lo ? lo + (int64_t)sr_rng_below(rng, (uint64_t)(hi - lo) + 1) : lo;
}

/* An application's cookie: its number in the top 16 bits, drawn as the
 * fault rules' are (faults/timeline.c flt_draw_marks), so a cookie alone
 * never tells a fault's rule from an application's. */
static uint64_t
draw_cookie(struct sr_rng *rng)
{
    uint64_t app;

    do {
        app = 1 + sr_rng_below(rng, 0xfffe);
    } while (app == 0x5300u || app == 0x5346u);
    return app << 48 | (sr_rng_next(rng) & 0xffffffffffffULL);
}

static uint32_t
draw_prio(struct sr_rng *rng, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)sr_rng_below(rng, hi - lo + 1);
}

/* Whether every switch still reaches every other without link 'skip'. */
static bool
connected_without(const struct topology *t, size_t skip)
{
    int *seen = xcalloc(t->nsw + 1, sizeof *seen),
        *stack = xcalloc(t->nsw + 1, sizeof *stack);
    size_t n = 0, reached = 1;

    if (!t->nsw) {
        free(seen);
        free(stack);
        return true;
    }
    seen[0] = 1;
    stack[n++] = 0;
    while (n) {
        int sw = stack[--n];

        for (size_t i = 0; i < t->nlink; i++) {
            const struct topo_link *l = &t->link[i];
            int other = l->a == sw ? l->b : l->b == sw ? l->a : -1;

            if (i == skip || l->kind == TOPO_LINK_HOST || other < 0 ||
                (size_t)other >= t->nsw || seen[other]) {
                continue;
            }
            seen[other] = 1;
            stack[n++] = other;
            reached++;
        }
    }
    free(seen);
    free(stack);
    return reached == t->nsw;
}

static void
add_change(struct sim_apps *a, size_t *cap, struct sim_change c)
{
    xgrow((void **)&a->changes, cap, a->nchanges + 1, sizeof *a->changes);
    a->changes[a->nchanges++] = c;
}

static int
cmp_ms(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return a < b ? -1 : a > b;
}

static int
cmp_change(const void *x, const void *y)
{
    const struct sim_change *a = x, *b = y;

    return a->at_ms < b->at_ms ? -1 : a->at_ms > b->at_ms;
}

/* The operator's changes: times spread at random over the run after the
 * warm-up, each of a kind the applications allow. */
/* Whether a fault of 'tl' targets link 'i' of 't' (either way round). */
static bool
fault_on_link(const struct topology *t, const struct flt_timeline *tl, size_t i)
{
    const struct topo_link *l = &t->link[i];
    char ab[2 * TOPO_NAME_MAX + 2], ba[2 * TOPO_NAME_MAX + 2];

    snprintf(ab, sizeof ab, "%s-%s", t->sw[l->a].name, t->sw[l->b].name);
    snprintf(ba, sizeof ba, "%s-%s", t->sw[l->b].name, t->sw[l->a].name);
    for (size_t e = 0; e < tl->n; e++) {
        if (!strcmp(tl->ep[e].target, ab) || !strcmp(tl->ep[e].target, ba)) {
            return true;
        }
    }
    return false;
}

/* Whether 'at_ms' falls where the operator must keep out of the way, and
 * '*after' when that ends: while a controller_down episode of 'tl' lasts
 * and its switches come back (15 s), as an operator cannot change
 * anything then; and while a fault that rewrites flows lasts, whose
 * revert writes back what it read before (a change made meanwhile would
 * be undone by it, and the revert would not restore what the applications
 * want). */
static bool
operator_away(const struct flt_timeline *tl, int64_t at_ms, int64_t *after)
{
    for (size_t e = 0; e < tl->n; e++) {
        const struct flt_episode *ep = &tl->ep[e];
        bool down = !strcmp(ep->type->name, "controller_down");
        int64_t end = ep->at_ms + ep->duration_ms + (down ? 15000 : 3000);

        if ((down || flt_rewrites_flows(ep->type)) && at_ms >= ep->at_ms - 3000 && at_ms < end) {
            *after = end;
            return true;
        }
    }
    return false;
}

static void
draw_changes(const struct scenario *scn, const struct topology *t,
             const struct flt_timeline *tl, int64_t duration_ms, struct sr_rng *rng,
             struct sim_apps *a)
{
    int64_t from = scn->warmup_ms + 5000, to = duration_ms - 5000;
    double hours = (double)(to - from) / 3.6e6;
    long n = hours > 0 ? lround(scn->controller.changes_per_h * hours) : 0;
    size_t cap = 0, ndrainable = 0, *drainable = xcalloc(t->nlink + 1, sizeof *drainable);
    int64_t *at = xcalloc((size_t)n + 1, sizeof *at), drained_until = -1;
    bool blocked[SR_ARRAY_SIZE(blockable)] = {false};
    size_t nblocked = 0;

    for (size_t i = 0; i < t->nlink; i++) {
        if (t->link[i].kind == TOPO_LINK_CORE && !fault_on_link(t, tl, i) &&
            connected_without(t, i)) {
            drainable[ndrainable++] = i;
        }
    }
    for (size_t i = 0; i < a->nblocked; i++) {
        for (size_t k = 0; k < SR_ARRAY_SIZE(blockable); k++) {
            if (blockable[k] == a->blocked[i]) {
                blocked[k] = true;
                nblocked++;
            }
        }
    }
    for (long i = 0; i < n; i++) {
        at[i] = draw_ms(rng, from, to);
    }
    qsort(at, (size_t)n, sizeof *at, cmp_ms);
    for (long i = 0; i < n; i++) {
        enum sim_change_kind kinds[SIM_CHANGE_N];
        size_t nk = 0;
        struct sim_change c = {.at_ms = at[i], .link = -1};

        if (a->policy & (1u << SCN_POLICY_ACL)) {
            if (nblocked < SR_ARRAY_SIZE(blockable)) {
                kinds[nk++] = SIM_CHANGE_ACL_BLOCK;
            }
            if (nblocked > 1) {
                kinds[nk++] = SIM_CHANGE_ACL_UNBLOCK;
            }
        }
        if (ndrainable && at[i] > drained_until) {
            kinds[nk++] = SIM_CHANGE_DRAIN;
        }
        if (a->guest_net) {
            kinds[nk++] = SIM_CHANGE_METER;
        }
        if (!nk || operator_away(tl, at[i], &c.at_ms)) {
            continue;
        }
        c.kind = kinds[sr_rng_below(rng, nk)];
        switch (c.kind) {
        case SIM_CHANGE_ACL_BLOCK:
        case SIM_CHANGE_ACL_UNBLOCK: {
            bool want = c.kind == SIM_CHANGE_ACL_UNBLOCK;
            size_t pick =
                sr_rng_below(rng, want ? nblocked : SR_ARRAY_SIZE(blockable) - nblocked);

            for (size_t k = 0; k < SR_ARRAY_SIZE(blockable); k++) {
                if (blocked[k] == want && pick-- == 0) {
                    /* A rule the operator writes by hand carries a cookie
                     * of its own, as a fault's rule does. */
                    c.cookie = want ? 0 : draw_cookie(rng);
                    c.port = blockable[k];
                    blocked[k] = !want;
                    nblocked += want ? (size_t)-1 : 1;
                    break;
                }
            }
            break;
        }
        case SIM_CHANGE_DRAIN: {
            struct sim_change back;

            c.link = (int)drainable[sr_rng_below(rng, ndrainable)];
            back = c;
            back.kind = SIM_CHANGE_UNDRAIN;
            back.at_ms = at[i] + draw_ms(rng, 30000, 120000);
            while (back.at_ms < duration_ms && operator_away(tl, back.at_ms, &back.at_ms)) {
                /* after it, and after any that follows at once */
            }
            /* Before the last sweeps: a change is carried out between two. */
            if (back.at_ms > duration_ms - 3000) {
                back.at_ms = duration_ms - 3000;
            }
            drained_until = back.at_ms;
            add_change(a, &cap, back);
            break;
        }
        case SIM_CHANGE_METER:
            c.rate_kbps = draw_ms(rng, 4000, 40000);
            break;
        default:
            break;
        }
        add_change(a, &cap, c);
    }
    /* Stable: an undrain drawn before a later change keeps its place. */
    for (size_t i = 1; i < a->nchanges; i++) {
        for (size_t k = i; k > 0 && cmp_change(&a->changes[k - 1], &a->changes[k]) > 0;
             k--) {
            struct sim_change tmp = a->changes[k];

            a->changes[k] = a->changes[k - 1];
            a->changes[k - 1] = tmp;
        }
    }
    free(at);
    free(drainable);
}

void
sim_apps_draw(const struct scenario *scn, const struct topology *topo,
              const struct flt_timeline *tl, int64_t duration_ms, struct sim_apps *a)
{
    const struct scn_controller *c = &scn->controller;
    enum scn_forwarding choices[SCN_FWD_N];
    size_t nchoices = 0;
    struct sr_rng rng;

    memset(a, 0, sizeof *a);
    a->embedded = c->kind == SCN_CTL_EMBEDDED;
    if (!a->embedded) {
        return;
    }
    sr_rng_seed(&rng, scn->seed, APPS_RNG_STREAM);
    for (int f = 0; f < SCN_FWD_N; f++) {
        if (c->forwarding & (1u << f)) {
            choices[nchoices++] = (enum scn_forwarding)f;
        }
    }
    a->forwarding = nchoices ? choices[sr_rng_below(&rng, nchoices)] : SCN_FWD_PROACTIVE;
    a->idle_s = (int)((draw_ms(&rng, c->idle_lo_ms, c->idle_hi_ms) + 999) / 1000);
    a->hard_s = (int)((draw_ms(&rng, c->hard_lo_ms, c->hard_hi_ms) + 999) / 1000);
    a->hard_share = c->hard_share;
    a->learn_match = (int) sr_rng_below(&rng, SR_ARRAY_SIZE(sim_learn_matches));
    a->dec_per_port = sr_rng_below(&rng, 2);
    a->policy = c->policy;
    a->seed = sr_rng_next(&rng);
    for (size_t i = 0; i < SIM_APPS_N; i++) {
        a->cookie[i] = draw_cookie(&rng);
    }
    /* Forwarding lowest (Ryu's simple_switch uses 1, ONOS's fwd 10); the
     * policies that forward sit below the fault rules' band (1000 and up)
     * so a fault's rule always outranks them; the drop rules share the
     * fault rules' bands. */
    a->priority[0] = a->forwarding == SCN_FWD_LEARNING ? draw_prio(&rng, 1, 9) : 10;
    a->priority[1 + SCN_POLICY_ACL] = draw_prio(&rng, 1000, 59999);
    a->priority[1 + SCN_POLICY_LLDP_EDGE] = draw_prio(&rng, 60001, 65534);
    a->priority[1 + SCN_POLICY_GUEST_METER] = draw_prio(&rng, 100, 999);
    a->priority[1 + SCN_POLICY_DEC_TTL] = draw_prio(&rng, 100, 999);
    a->priority[1 + SCN_POLICY_ADMISSION] = draw_prio(&rng, 100, 999);
    if (a->policy & (1u << SCN_POLICY_ACL)) {
        int pool[SR_ARRAY_SIZE(blockable)];

        memcpy(pool, blockable, sizeof pool);
        sr_rng_shuffle(&rng, pool, SR_ARRAY_SIZE(pool), sizeof pool[0]);
        a->nblocked = 2 + sr_rng_below(&rng, 3);
        memcpy(a->blocked, pool, a->nblocked * sizeof pool[0]);
        /* A /24 of 192.168/16 that no host of simrun's uses: the rule
         * matches, nothing is ever sent there. */
        a->quarantine_net =
            (192u << 24) | (168u << 16) | ((uint32_t)sr_rng_below(&rng, 256) << 8);
        /* Locally administered, and not 02:00:.. like simrun's hosts. */
        a->banned_mac[0] = 0x02;
        a->banned_mac[1] = 0x42;
        for (int i = 2; i < 6; i++) {
            a->banned_mac[i] = (uint8_t) sr_rng_below(&rng, 256);
        }
        if (topo->params.access_networks > 0 && sr_rng_below(&rng, 2)) {
            a->p2p_blocked_net =
                1 + (int)sr_rng_below(&rng, (uint64_t)topo->params.access_networks);
        }
    }
    if ((a->policy & (1u << SCN_POLICY_GUEST_METER)) &&
        topo->params.access_networks > 0) {
        a->guest_net =
            1 + (int)sr_rng_below(&rng, (uint64_t)topo->params.access_networks);
        a->guest_kbps = draw_ms(&rng, 4000, 40000);
    }
    if (a->policy & (1u << SCN_POLICY_ADMISSION)) {
        a->admit_every_s = (int)draw_ms(&rng, 5, 30);
        a->admit_hard_s = (int)draw_ms(&rng, 20, 120);
    }
    if (c->changes_per_h > 0) {
        draw_changes(scn, topo, tl, duration_ms, &rng, a);
    }
}

void
sim_apps_release(struct sim_apps *a)
{
    if (a) {
        free(a->changes);
        a->changes = NULL;
        a->nchanges = 0;
    }
}

bool
sim_apps_dynamic(const struct sim_apps *a)
{
    return a->embedded && (a->forwarding == SCN_FWD_LEARNING ||
                           (a->policy & (1u << SCN_POLICY_ADMISSION)) || a->nchanges > 0);
}

static json_t *
app_json(const struct sim_apps *a, size_t i)
{
    char cookie[24];

    snprintf(cookie, sizeof cookie, "0x%016llx", (unsigned long long)a->cookie[i]);
    return json_pack("{s:s, s:I}", "cookie", cookie, "priority",
                     (json_int_t)a->priority[i]);
}

json_t *
sim_apps_json(const struct sim_apps *a, const struct topology *topo, bool for_controller)
{
    json_t *o = json_object(), *policy = json_object(), *changes = json_array();
    char ip[32];

    if (!a->embedded) {
        json_object_set_new(o, "embedded", json_false());
        json_decref(policy);
        json_decref(changes);
        return o;
    }
    json_object_set_new(o, "forwarding",
                        json_pack("{s:s, s:i, s:i, s:f, s:s, s:o}", "kind",
                                  scn_forwarding_name(a->forwarding), "idle_timeout",
                                  a->idle_s, "hard_timeout", a->hard_s, "hard_share",
                                  a->hard_share, "match", sim_learn_matches[a->learn_match],
                                  "app", app_json(a, 0)));
    for (int p = 0; p < SCN_POLICY_N; p++) {
        json_t *app;

        if (!(a->policy & (1u << p))) {
            continue;
        }
        app = app_json(a, 1 + (size_t)p);
        switch ((enum scn_policy)p) {
        case SCN_POLICY_ACL: {
            json_t *ports = json_array();

            for (size_t i = 0; i < a->nblocked; i++) {
                json_array_append_new(ports, json_integer(a->blocked[i]));
            }
            topo_format_ip(a->quarantine_net, ip, sizeof ip);
            json_object_set_new(app, "blocked_tcp", ports);
            json_object_set_new(app, "quarantine", json_sprintf("%s/24", ip));
            json_object_set_new(app, "banned_mac",
                                json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a->banned_mac[0],
                                             a->banned_mac[1], a->banned_mac[2], a->banned_mac[3],
                                             a->banned_mac[4], a->banned_mac[5]));
            json_object_set_new(app, "p2p_blocked_net", json_integer(a->p2p_blocked_net));
            json_object_set_new(app, "p2p_port", json_integer(SR_PORT_P2P));
            break;
        }
        case SCN_POLICY_DEC_TTL:
            json_object_set_new(app, "per_in_port", json_boolean(a->dec_per_port));
            break;
        case SCN_POLICY_GUEST_METER:
            json_object_set_new(app, "guest_net", json_integer(a->guest_net));
            json_object_set_new(app, "rate_kbps", json_integer(a->guest_kbps));
            break;
        case SCN_POLICY_ADMISSION:
            json_object_set_new(app, "every_s", json_integer(a->admit_every_s));
            json_object_set_new(app, "hard_timeout", json_integer(a->admit_hard_s));
            break;
        default:
            break;
        }
        json_object_set_new(policy, scn_policy_name((enum scn_policy)p), app);
    }
    json_object_set_new(o, "policy", policy);
    json_object_set_new(o, "seed",
                        json_integer((json_int_t)(a->seed & 0x7fffffffffffffffULL)));
    for (size_t i = 0; i < a->nchanges; i++) {
        json_t *c = sim_change_json(&a->changes[i], topo);

        json_object_set_new(c, "at_s", json_real((double)a->changes[i].at_ms / 1000.0));
        json_array_append_new(changes, c);
    }
    json_object_set_new(o, "changes", changes);
    if (for_controller) {
        json_t *sws = json_object(), *hosts = json_object();

        for (size_t i = 0; i < topo->nsw; i++) {
            char dpid[24];

            snprintf(dpid, sizeof dpid, "%llu", (unsigned long long)topo->sw[i].dpid);
            json_object_set_new(sws, dpid,
                                json_pack("{s:s, s:s, s:i}", "name", topo->sw[i].name,
                                          "role", topo_role_name(topo->sw[i].role), "net",
                                          topo->sw[i].net));
        }
        for (size_t i = 0; i < topo->nhost; i++) {
            const struct topo_host *h = &topo->host[i];
            char mac[24];

            snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", h->mac[0],
                     h->mac[1], h->mac[2], h->mac[3], h->mac[4], h->mac[5]);
            topo_format_ip(h->ip, ip, sizeof ip);
            json_object_set_new(hosts, mac,
                                json_pack("{s:s, s:s, s:i, s:s}", "name", h->name, "role",
                                          topo_role_name(h->role), "net", h->net, "ip",
                                          ip));
        }
        json_object_set_new(o, "switches", sws);
        json_object_set_new(o, "hosts", hosts);
    }
    return o;
}

json_t *
sim_change_json(const struct sim_change *c, const struct topology *topo)
{
    json_t *o = json_pack("{s:s}", "change", sim_change_kind_name(c->kind));

    switch (c->kind) {
    case SIM_CHANGE_ACL_BLOCK:
    case SIM_CHANGE_ACL_UNBLOCK:
        json_object_set_new(o, "tcp_dst", json_integer(c->port));
        if (c->cookie) {
            json_object_set_new(o, "cookie",
                                json_sprintf("0x%016llx", (unsigned long long) c->cookie));
        }
        break;
    case SIM_CHANGE_DRAIN:
    case SIM_CHANGE_UNDRAIN: {
        const struct topo_link *l = &topo->link[c->link];

        json_object_set_new(
            o, "link", json_sprintf("%s-%s", topo->sw[l->a].name, topo->sw[l->b].name));
        json_object_set_new(o, "a",
                            json_pack("{s:I, s:i}", "dpid",
                                      (json_int_t)topo->sw[l->a].dpid, "port",
                                      l->a_port));
        json_object_set_new(o, "b",
                            json_pack("{s:I, s:i}", "dpid",
                                      (json_int_t)topo->sw[l->b].dpid, "port",
                                      l->b_port));
        break;
    }
    case SIM_CHANGE_METER:
        json_object_set_new(o, "rate_kbps", json_integer(c->rate_kbps));
        break;
    default:
        break;
    }
    return o;
}
