/* Fault timeline: target selectors, name checks, and campaign expansion. */
#include "faults.h"

/* Longer than any switch, host or link name ("a250s10000-a250s9999"). */
#define TOPO_NAME_LEN_MAX 40

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rng.h"
#include "util.h"

/* Random streams drawn from the scenario seed (see sr_rng_seed): targets,
 * times and parameters; the rules' cookies and priorities apart, so that
 * drawing them changes no target or time. */
#define FLT_RNG_STREAM 3
#define FLT_RNG_STREAM_MARKS 6

struct pool {
    const char **names;
    size_t n;
};

/* Where a selector or a name may come from for one target kind. */
struct choice {
    struct pool pools[3];
    size_t npools;
    bool busiest;
    bool all;
};

static void
add_pool(struct choice *c, const char **names, size_t n)
{
    c->pools[c->npools].names = names;
    c->pools[c->npools].n = n;
    c->npools++;
}

static bool
is_switch_kind(enum flt_target_kind k)
{
    return k == FLT_TARGET_SWITCH || k == FLT_TARGET_SWITCH_OR_ALL;
}

/* Fills 'c' for selector 'sel' if it is one that 'kind' accepts. */
static bool
selector_choice(enum flt_target_kind kind, const char *sel,
                const struct flt_world *w, struct choice *c)
{
    memset(c, 0, sizeof *c);
    if (!strcmp(sel, "all")) {
        c->all = true;
        return kind == FLT_TARGET_NONE || kind == FLT_TARGET_SWITCH_OR_ALL;
    }
    if (is_switch_kind(kind)) {
        if (!strcmp(sel, "core:busiest")) {
            c->busiest = true;
        } else if (!strcmp(sel, "core:random")) {
            add_pool(c, w->core, w->ncore);
        } else if (!strcmp(sel, "access:random")) {
            add_pool(c, w->access, w->naccess);
            add_pool(c, w->gateway, w->ngateway);
        } else if (!strcmp(sel, "gateway:random")) {
            add_pool(c, w->gateway, w->ngateway);
        } else if (!strcmp(sel, "switch:random")) {
            add_pool(c, w->core, w->ncore);
            add_pool(c, w->access, w->naccess);
            add_pool(c, w->gateway, w->ngateway);
        } else {
            return false;
        }
        return true;
    }
    if (kind == FLT_TARGET_USER || kind == FLT_TARGET_HOST) {
        if (!strcmp(sel, "user:random") ||
            (kind == FLT_TARGET_USER && !strcmp(sel, "host:random"))) {
            add_pool(c, w->users, w->nusers);
            return true;
        }
    }
    if (kind == FLT_TARGET_SERVER || kind == FLT_TARGET_HOST) {
        if (!strcmp(sel, "server:random")) {
            add_pool(c, w->servers, w->nservers);
            return true;
        }
    }
    if (kind == FLT_TARGET_HOST && !strcmp(sel, "host:random")) {
        add_pool(c, w->users, w->nusers);
        add_pool(c, w->servers, w->nservers);
        return true;
    }
    if (kind == FLT_TARGET_LINK) {
        if (!strcmp(sel, "link:core-random")) {
            add_pool(c, w->core_links, w->ncore_links);
        } else if (!strcmp(sel, "link:uplink-random")) {
            add_pool(c, w->uplinks, w->nuplinks);
        } else if (!strcmp(sel, "link:access-random")) {
            add_pool(c, w->access_links, w->naccess_links);
        } else if (!strcmp(sel, "link:random")) {
            add_pool(c, w->core_links, w->ncore_links);
            add_pool(c, w->uplinks, w->nuplinks);
            add_pool(c, w->access_links, w->naccess_links);
        } else {
            return false;
        }
        return true;
    }
    return false;
}

/* The pools that plain names for 'kind' are looked up in. */
static void
name_pools(enum flt_target_kind kind, const struct flt_world *w,
           struct choice *c)
{
    memset(c, 0, sizeof *c);
    switch (kind) {
    case FLT_TARGET_SWITCH:
    case FLT_TARGET_SWITCH_OR_ALL:
        add_pool(c, w->core, w->ncore);
        add_pool(c, w->access, w->naccess);
        add_pool(c, w->gateway, w->ngateway);
        break;
    case FLT_TARGET_USER:
        add_pool(c, w->users, w->nusers);
        break;
    case FLT_TARGET_SERVER:
        add_pool(c, w->servers, w->nservers);
        break;
    case FLT_TARGET_HOST:
        add_pool(c, w->users, w->nusers);
        add_pool(c, w->servers, w->nservers);
        break;
    case FLT_TARGET_LINK:
        add_pool(c, w->core_links, w->ncore_links);
        add_pool(c, w->uplinks, w->nuplinks);
        add_pool(c, w->access_links, w->naccess_links);
        break;
    case FLT_TARGET_NONE:
        break;
    }
}

/* Writes "b-a" for a link name "a-b" into 'buf'; false if not a link or
 * if it does not fit. */
static bool
reverse_link(const char *name, char *buf, size_t size)
{
    const char *dash = strchr(name, '-');
    size_t a, b;

    if (!dash || strchr(dash + 1, '-') || dash == name || !dash[1]) {
        return false;
    }
    a = (size_t) (dash - name);
    b = strlen(dash + 1);
    if (a + b + 2 > size) {
        return false;
    }
    memcpy(buf, dash + 1, b);
    buf[b] = '-';
    memcpy(buf + b + 1, name, a);
    buf[a + b + 1] = '\0';
    return true;
}

/* Finds 'name' in the pools of 'c' (links in either order); returns the
 * stored spelling or NULL. */
static const char *
find_name(const struct choice *c, const char *name, bool link)
{
    char rev[128];
    bool has_rev = link && reverse_link(name, rev, sizeof rev);

    for (size_t p = 0; p < c->npools; p++) {
        for (size_t i = 0; i < c->pools[p].n; i++) {
            const char *s = c->pools[p].names[i];

            if (!strcmp(s, name) || (has_rev && !strcmp(s, rev))) {
                return s;
            }
        }
    }
    return NULL;
}

static const char *
nearest_name(const struct choice *c, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t) -1, total = 0;

    for (size_t p = 0; p < c->npools; p++) {
        total += c->pools[p].n;
    }
    /* Names are short: a long target cannot be a typo of one, and a name
     * whose length differs by more than the distance allowed cannot be
     * the one meant (checked before the quadratic distance). */
    size_t len = strlen(name);

    if (total > 20000 || len > TOPO_NAME_LEN_MAX) {
        return NULL;
    }
    for (size_t p = 0; p < c->npools; p++) {
        for (size_t i = 0; i < c->pools[p].n; i++) {
            size_t other = strlen(c->pools[p].names[i]), d;

            if ((len > other ? len - other : other - len) > 2) {
                continue;
            }
            d = sr_edit_distance(name, c->pools[p].names[i]);

            if (d < best_d) {
                best_d = d;
                best = c->pools[p].names[i];
            }
        }
    }
    return best_d <= 2 ? best : NULL;
}

static const char *
selectors_for(enum flt_target_kind kind)
{
    switch (kind) {
    case FLT_TARGET_NONE: return "all";
    case FLT_TARGET_SWITCH:
        return "core:busiest, core:random, access:random, gateway:random, "
               "switch:random";
    case FLT_TARGET_SWITCH_OR_ALL:
        return "all, core:busiest, core:random, access:random, "
               "gateway:random, switch:random";
    case FLT_TARGET_USER: return "user:random";
    case FLT_TARGET_SERVER: return "server:random";
    case FLT_TARGET_HOST: return "user:random, server:random, host:random";
    case FLT_TARGET_LINK:
        return "link:core-random, link:uplink-random, link:access-random, "
               "link:random";
    }
    return "";
}

int
flt_check_target(const struct flt_type *type, const char *target,
                 const struct flt_world *world, struct sr_error *err)
{
    struct choice c;
    const char *near;

    if (selector_choice(type->target, target, world, &c)) {
        size_t total = 0;

        for (size_t p = 0; p < c.npools; p++) {
            total += c.pools[p].n;
        }
        if (c.npools && !total) {
            return sr_error_set(err, SR_EINVAL,
                                "target '%s' of fault type '%s' has nothing to "
                                "choose from in this topology",
                                target, type->name);
        }
        return 0;
    }
    name_pools(type->target, world, &c);
    if (find_name(&c, target, type->target == FLT_TARGET_LINK)) {
        return 0;
    }
    near = nearest_name(&c, target);
    if (type->target == FLT_TARGET_NONE) {
        return sr_error_set(err, SR_EINVAL,
                            "fault type '%s' acts on the whole network: its "
                            "target can only be 'all', not '%s'",
                            type->name, target);
    }
    return sr_error_set(err, SR_EINVAL,
                        "unknown target '%s' for fault type '%s', which needs "
                        "%s: give %s%s%s%s or one of %s",
                        target, type->name,
                        flt_target_kind_name(type->target),
                        type->target == FLT_TARGET_LINK
                            ? "an existing link as 'switch-switch'"
                            : "an existing name",
                        near ? " (did you mean '" : "", near ? near : "",
                        near ? "'?)" : "", selectors_for(type->target));
}

char *
flt_resolve_target(const struct flt_type *type, const char *target,
                   const struct flt_world *world, struct sr_rng *rng,
                   struct sr_error *err)
{
    struct choice c;
    const char *name;

    if (flt_check_target(type, target, world, err) < 0) {
        return NULL;
    }
    if (selector_choice(type->target, target, world, &c)) {
        size_t total = 0, k;

        if (c.all) {
            return xstrdup("all");
        }
        if (c.busiest) {
            if (!world->busiest_core) {
                sr_error_set(err, SR_EINVAL,
                             "'core:busiest' needs a topology with core "
                             "switches");
                return NULL;
            }
            return xstrdup(world->busiest_core);
        }
        for (size_t p = 0; p < c.npools; p++) {
            total += c.pools[p].n;
        }
        k = (size_t) sr_rng_below(rng, total);
        for (size_t p = 0; p < c.npools; p++) {
            if (k < c.pools[p].n) {
                return xstrdup(c.pools[p].names[k]);
            }
            k -= c.pools[p].n;
        }
    }
    name_pools(type->target, world, &c);
    name = find_name(&c, target, type->target == FLT_TARGET_LINK);
    return xstrdup(name ? name : target);
}

static void
episode_release(struct flt_episode *e)
{
    free(e->target);
    free(e->selector);
    free(e->spec.target);
    free(e->spec.service);
}

void
flt_timeline_release(struct flt_timeline *tl)
{
    if (!tl) {
        return;
    }
    for (size_t i = 0; i < tl->n; i++) {
        episode_release(&tl->ep[i]);
    }
    free(tl->ep);
    tl->ep = NULL;
    tl->n = 0;
}

static int
compare_episodes(const void *a, const void *b)
{
    const struct flt_episode *x = a, *y = b;

    if (x->at_ms != y->at_ms) {
        return x->at_ms < y->at_ms ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

/* A duration drawn uniformly in [lo, hi], in whole 100 ms steps. */
static int64_t
draw_ms(struct sr_rng *rng, int64_t lo, int64_t hi)
{
    int64_t steps;

    if (hi <= lo) {
        return lo;
    }
    steps = (hi - lo) / 100;
    return lo + 100 * (int64_t) sr_rng_below(rng, (uint64_t) steps + 1);
}

const char *const *
flt_campaign_default_targets(const struct flt_type *type, size_t *n)
{
    static const char *const sw[] = { "switch:random" };
    static const char *const sw_or_all[] = { "all", "switch:random" };
    static const char *const link[] = { "link:random" };
    static const char *const user[] = { "user:random" };
    static const char *const server[] = { "server:random" };
    static const char *const host[] = { "host:random" };
    static const char *const all[] = { "all" };

    switch (type->target) {
    case FLT_TARGET_SWITCH: *n = 1; return sw;
    case FLT_TARGET_SWITCH_OR_ALL: *n = 2; return sw_or_all;
    case FLT_TARGET_LINK: *n = 1; return link;
    case FLT_TARGET_USER: *n = 1; return user;
    case FLT_TARGET_SERVER: *n = 1; return server;
    case FLT_TARGET_HOST: *n = 1; return host;
    case FLT_TARGET_NONE: break;
    }
    *n = 1;
    return all;
}

/* The embedded controller's own cookie's application number (top 16
 * bits, controller/simrun_controller.py COOKIE_SIMRUN) and the one simrun
 * once marked every fault rule with: never drawn. */
#define MARK_APP_CONTROLLER 0x5300u
#define MARK_APP_OLD 0x5346u

void
flt_draw_marks(const struct flt_type *type, struct sr_rng *rng, uint64_t *cookie,
               uint32_t *priority)
{
    uint64_t app;

    do {
        app = 1 + sr_rng_below(rng, 0xfffe);
    } while (app == MARK_APP_CONTROLLER || app == MARK_APP_OLD);
    *cookie = app << 48 | (sr_rng_next(rng) & 0xffffffffffffULL);
    if (!strcmp(type->name, "lldp_drop")) {
        /* Above the embedded controller's LLDP rule (60000). */
        *priority = 60001 + (uint32_t) sr_rng_below(rng, 65534 - 60001 + 1);
    } else {
        /* Above the forwarding rules (10, 20), below LLDP. */
        *priority = 1000 + (uint32_t) sr_rng_below(rng, 59999 - 1000 + 1);
    }
}

static int
add_episode(struct flt_timeline *tl, size_t *cap, const struct flt_spec *spec,
            int source, const struct flt_world *world, struct sr_rng *rng,
            struct sr_rng *marks, struct sr_error *err)
{
    struct flt_episode e = { 0 };
    char *target = flt_resolve_target(spec->type, spec->target, world, rng, err);

    if (!target) {
        return -err->code;
    }
    e.id = (int) tl->n + 1;
    e.source = source;
    e.type = spec->type;
    e.target = target;
    e.selector = strcmp(target, spec->target) ? xstrdup(spec->target) : NULL;
    e.at_ms = spec->at_ms;
    e.duration_ms = spec->duration_ms;
    e.spec = *spec;
    e.spec.target = xstrdup(spec->target);
    e.spec.service = spec->service ? xstrdup(spec->service) : NULL;
    if (!e.spec.cookie || !e.spec.priority) {
        uint64_t cookie;
        uint32_t priority;

        flt_draw_marks(spec->type, marks, &cookie, &priority);
        e.spec.cookie = e.spec.cookie ? e.spec.cookie : cookie;
        e.spec.priority = e.spec.priority ? e.spec.priority : priority;
    }
    xgrow((void **) &tl->ep, cap, tl->n + 1, sizeof *tl->ep);
    tl->ep[tl->n++] = e;
    return 0;
}

/* 'lo'..'hi' drawn uniformly, or 'def' when the range is unset. */
static int64_t
draw_in(struct sr_rng *rng, int64_t lo, int64_t hi, int64_t def)
{
    if (lo == 0 && hi == 0) {
        return def;
    }
    return hi <= lo ? lo : lo + (int64_t) sr_rng_below(rng, (uint64_t) (hi - lo) + 1);
}

/* The parameters and target of a campaign episode of 'type', drawn. */
static void
campaign_spec(const struct flt_campaign *cp, const struct flt_type *type, int64_t at, int64_t len,
              struct sr_rng *rng, struct flt_spec *spec)
{
    static const char *const services[] = { "video", "web", "chat",
                                            "p2p",   "mail" };
    const char *const *choices = NULL;
    size_t n = 0;

    for (size_t i = 0; i < cp->ntargets; i++) {
        if (cp->targets[i].type == type) {
            choices = (const char *const *) cp->targets[i].choices;
            n = cp->targets[i].n;
        }
    }
    if (!n) {
        choices = flt_campaign_default_targets(type, &n);
    }
    memset(spec, 0, sizeof *spec);
    spec->type = type;
    spec->target = xstrdup(choices[n > 1 ? sr_rng_below(rng, n) : 0]);
    spec->at_ms = at;
    spec->duration_ms = len;
    /* Timeouts in whole seconds, as OpenFlow holds them. */
    spec->timeout_ms = 1000 * draw_in(rng, cp->timeout_min_ms / 1000, cp->timeout_max_ms / 1000,
                                      5);
    spec->rate_kbps = draw_in(rng, cp->rate_min_kbps, cp->rate_max_kbps, 1000);
    spec->streams = draw_in(rng, cp->streams_min, cp->streams_max, 8);
    spec->factor = draw_in(rng, cp->factor_min, cp->factor_max, 4);
    if (type->params & FLT_P_SERVICE) {
        spec->service = xstrdup(cp->nservices ? cp->services[sr_rng_below(rng, cp->nservices)]
                                              : services[sr_rng_below(rng, SR_ARRAY_SIZE(services))]);
    }
}

int
flt_timeline_build(const struct flt_spec *specs, size_t nspecs,
                   const struct flt_campaign *campaign, int64_t start_ms,
                   const struct flt_world *world, uint64_t seed,
                   struct flt_timeline *out, struct sr_error *err)
{
    struct flt_timeline tl = { 0 };
    struct sr_rng rng, marks;
    size_t cap = 0;
    int rc;

    sr_rng_seed(&rng, seed, FLT_RNG_STREAM);
    sr_rng_seed(&marks, seed, FLT_RNG_STREAM_MARKS);
    for (size_t i = 0; i < nspecs; i++) {
        if (add_episode(&tl, &cap, &specs[i], (int) i, world, &rng, &marks, err) < 0) {
            goto fail;
        }
    }
    if (campaign && campaign->episodes > 0 && campaign->ntypes > 0) {
        /* Rounds of a shuffled type list: every type appears once per round,
         * so no two types differ by more than one episode. */
        size_t nt = campaign->ntypes;
        const struct flt_type **round = xcalloc(nt, sizeof *round);
        int64_t t = start_ms;
        int done = 0;

        while (done < campaign->episodes) {
            memcpy(round, campaign->types, nt * sizeof *round);
            sr_rng_shuffle(&rng, round, nt, sizeof *round);
            for (size_t k = 0; k < nt && done < campaign->episodes; k++, done++) {
                struct flt_spec spec;
                int64_t len;

                t += draw_ms(&rng, campaign->gap_min_ms, campaign->gap_max_ms);
                len = draw_ms(&rng, campaign->length_min_ms,
                              campaign->length_max_ms);
                campaign_spec(campaign, round[k], t, len, &rng, &spec);
                rc = add_episode(&tl, &cap, &spec, -1, world, &rng, &marks, err);
                free(spec.target);
                free(spec.service);
                if (rc < 0) {
                    free(round);
                    goto fail;
                }
                t += len;
            }
        }
        free(round);
    }
    if (tl.n) {
        qsort(tl.ep, tl.n, sizeof *tl.ep, compare_episodes); /* ep is NULL when empty */
    }
    for (size_t i = 0; i < tl.n; i++) {
        tl.ep[i].id = (int) i + 1;
    }
    *out = tl;
    return 0;

fail:
    flt_timeline_release(&tl);
    return -err->code;
}

int64_t
flt_timeline_end_ms(const struct flt_timeline *tl)
{
    int64_t end = 0;

    for (size_t i = 0; i < tl->n; i++) {
        int64_t e = tl->ep[i].at_ms + tl->ep[i].duration_ms;

        if (e > end) {
            end = e;
        }
    }
    return end;
}
