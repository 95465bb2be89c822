#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
sim_topo_params(const struct scenario *scn, struct topo_params *p)
{
    const struct scn_topology *t = &scn->topo;

    memset(p, 0, sizeof *p);
    p->core_switches = t->core_switches;
    p->core_m = t->core_m;
    p->access_networks = t->access_networks;
    p->access_switches = t->access_switches;
    p->access_m = t->access_m;
    p->uplinks = t->uplinks;
    p->hosts = t->hosts;
    p->datacenters = t->datacenters;
    p->bw_mbps = t->link_bw_mbps;
    p->seed = scn->seed;
}

static bool
needs_busiest(const struct scenario *scn)
{
    for (size_t i = 0; i < scn->nfaults; i++) {
        if (scn->faults[i].target && !strcmp(scn->faults[i].target, "core:busiest")) {
            return true;
        }
    }
    for (size_t i = 0; scn->campaign.present && i < scn->campaign.c.ntargets; i++) {
        for (size_t k = 0; k < scn->campaign.c.targets[i].n; k++) {
            if (!strcmp(scn->campaign.c.targets[i].choices[k], "core:busiest")) {
                return true;
            }
        }
    }
    return false;
}

static void
push_name(const char ***arr, size_t *n, size_t *cap, const char *name)
{
    xgrow((void **) arr, cap, *n + 1, sizeof **arr);
    (*arr)[(*n)++] = name;
}

/* Fills the plan's world (names by role) from its topology. */
static void
build_world(struct sim_plan *p)
{
    const struct topology *t = p->topo;
    struct flt_world *w = &p->world;
    size_t cap[8] = { 0 };

    for (size_t i = 0; i < t->nsw; i++) {
        const struct topo_switch *s = &t->sw[i];

        if (s->role == TOPO_ROLE_CORE) {
            push_name(&w->core, &w->ncore, &cap[0], s->name);
        } else if (s->role == TOPO_ROLE_GATEWAY) {
            push_name(&w->gateway, &w->ngateway, &cap[1], s->name);
        } else {
            push_name(&w->access, &w->naccess, &cap[2], s->name);
        }
    }
    for (size_t i = 0; i < t->nhost; i++) {
        if (t->host[i].role == TOPO_ROLE_SERVER) {
            push_name(&w->servers, &w->nservers, &cap[3], t->host[i].name);
        } else {
            push_name(&w->users, &w->nusers, &cap[4], t->host[i].name);
        }
    }
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];
        char *name;

        if (l->kind == TOPO_LINK_HOST) {
            continue;
        }
        name = xasprintf("%s-%s", topo_node_name(t, l->a), topo_node_name(t, l->b));
        p->link_names = xrealloc(p->link_names, (p->nlink_names + 1) * sizeof *p->link_names);
        p->link_names[p->nlink_names++] = name;
        if (l->kind == TOPO_LINK_CORE) {
            push_name(&w->core_links, &w->ncore_links, &cap[5], name);
        } else if (l->kind == TOPO_LINK_UPLINK) {
            push_name(&w->uplinks, &w->nuplinks, &cap[6], name);
        } else {
            push_name(&w->access_links, &w->naccess_links, &cap[7], name);
        }
    }
    w->busiest_core = p->busiest >= 0 ? t->sw[p->busiest].name : NULL;
}

static void
free_world(struct sim_plan *p)
{
    struct flt_world *w = &p->world;

    for (size_t i = 0; i < p->nlink_names; i++) {
        free(p->link_names[i]);
    }
    free(p->link_names);
    free(w->core);
    free(w->access);
    free(w->gateway);
    free(w->users);
    free(w->servers);
    free(w->core_links);
    free(w->uplinks);
    free(w->access_links);
}

void
sim_plan_free(struct sim_plan *p)
{
    if (!p) {
        return;
    }
    flt_timeline_release(&p->timeline);
    sim_apps_release(&p->apps);
    sim_churn_release(&p->churn);
    free_world(p);
    topo_free(p->topo);
    free(p);
}

/* Checks the timeline against the run: targets, the end of the run,
 * overlaps.  Returns the number of problems added. */
static size_t
check_timeline(struct sim_plan *p, struct scn_diags *diags)
{
    const struct scenario *scn = p->scn;
    const struct flt_timeline *tl = &p->timeline;
    size_t before = diags->n;

    for (size_t i = 0; i < tl->n; i++) {
        const struct flt_episode *e = &tl->ep[i];
        const struct scn_fault_pos *pos = e->source >= 0 ? &scn->fault_pos[e->source] : NULL;

        if (pos && e->at_ms < scn->warmup_ms) {
            scn_diag_add(diags, pos->at_line, pos->at_col,
                         "[[fault]] #%d (%s) starts at %.1f s, inside the warm-up "
                         "(%.1f s): faults start after it",
                         e->source + 1, e->type->name, (double) e->at_ms / 1000.0,
                         (double) scn->warmup_ms / 1000.0);
        }
        if (e->at_ms + e->duration_ms > p->duration_ms) {
            if (pos) {
                scn_diag_add(diags, pos->duration_line, pos->duration_col,
                             "[[fault]] #%d (%s) ends at %.1f s, after the run "
                             "ends (duration = %.1f s)",
                             e->source + 1, e->type->name,
                             (double) (e->at_ms + e->duration_ms) / 1000.0,
                             (double) p->duration_ms / 1000.0);
            } else {
                scn_diag_add(diags, scn->campaign.line, scn->campaign.col,
                             "the campaign needs %.1f s but the run lasts %.1f s "
                             "(duration): raise 'duration', lower 'episodes', "
                             "or leave 'duration' out to fit the campaign",
                             (double) (flt_timeline_end_ms(tl) +
                                       scn->campaign.c.gap_min_ms) / 1000.0,
                             (double) p->duration_ms / 1000.0);
                break;
            }
        }
    }
    if (scn->allow_overlap) {
        return diags->n - before;
    }
    for (size_t i = 0; i + 1 < tl->n; i++) {
        const struct flt_episode *a = &tl->ep[i], *b = &tl->ep[i + 1];

        if (b->at_ms < a->at_ms + a->duration_ms) {
            const struct flt_episode *later = b->source >= 0 ? b : a;
            const struct flt_episode *other = later == b ? a : b;
            const struct scn_fault_pos *pos =
                later->source >= 0 ? &scn->fault_pos[later->source] : NULL;

            scn_diag_add(diags, pos ? pos->at_line : scn->campaign.line,
                         pos ? pos->at_col : scn->campaign.col,
                         "fault %s (%.1f-%.1f s) overlaps %s %s (%.1f-%.1f s); "
                         "set allow_overlapping_faults = true to allow it",
                         later->type->name, (double) later->at_ms / 1000.0,
                         (double) (later->at_ms + later->duration_ms) / 1000.0,
                         other->source >= 0 ? "fault" : "campaign episode",
                         other->type->name, (double) other->at_ms / 1000.0,
                         (double) (other->at_ms + other->duration_ms) / 1000.0);
        }
    }
    return diags->n - before;
}

/* Why the scenario cannot do fault type 't': its controller cannot, or it
 * raises traffic the scenario does not have.  NULL when it can. */
static char *
cannot_do(const struct scenario *scn, const struct flt_type *t)
{
    const char *kind = scn_controller_kind_name(scn->controller.kind);
    const char *why = flt_controller_limit(t, kind);
    bool any = scn->traffic.video.enabled || scn->traffic.chat.enabled ||
               scn->traffic.web.enabled || scn->traffic.mail.enabled ||
               scn->traffic.p2p.enabled || scn->traffic.broadcast.enabled;

    if (why) {
        return xasprintf("fault type '%s' cannot be done with the %s controller: %s", t->name,
                         kind, why);
    }
    if (t->family == FLT_FAMILY_TRAFFIC && !any) {
        return xasprintf("fault type '%s' raises the hosts' traffic, but [traffic] turns every "
                         "service off", t->name);
    }
    if ((t->params & FLT_P_STREAMS) && !scn->traffic.video.enabled) {
        return xasprintf("fault type '%s' pulls video streams, but [traffic] turns video off",
                         t->name);
    }
    return NULL;
}

/* ---- capture ---- */

/* The first 'n' bytes of 's' as a name (cut to what a name holds). */
static void
name_part(char *dst, size_t size, const char *s, size_t n)
{
    n = n < size - 1 ? n : size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int
find_host(const struct topology *t, const char *name)
{
    for (size_t i = 0; i < t->nhost; i++) {
        if (!strcmp(t->host[i].name, name)) {
            return (int) i;
        }
    }
    return -1;
}

struct if_list {
    struct sim_capture_if *v;
    size_t n, cap;
};

static void
add_if(struct if_list *l, const struct topology *t, int host, int sw, int port)
{
    struct sim_capture_if f = { "", host, sw, port };

    if (host >= 0) {
        snprintf(f.name, sizeof f.name, "%s-eth0", t->host[host].name);
        f.sw = t->host[host].sw;
        f.port = t->host[host].sw_port;
    } else {
        snprintf(f.name, sizeof f.name, "%s-eth%d", t->sw[sw].name, port);
    }
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].name, f.name)) {
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = f;
}

static void
add_switch_ports(struct if_list *l, const struct topology *t, int sw)
{
    for (int port = 1; port <= t->sw[sw].nports; port++) {
        add_if(l, t, -1, sw, port);
    }
}

/* Adds what selector 's' names; false when it names nothing that exists
 * ('why' says what). */
static bool
select_ifs(const struct sim_plan *p, const char *s, struct if_list *l, char *why, size_t n)
{
    const struct topology *t = p->topo;
    const char *dash = strchr(s, '-');
    bool any = false;

    if (!strcmp(s, "hosts") || !strcmp(s, "servers") || !strcmp(s, "users")) {
        for (size_t i = 0; i < t->nhost; i++) {
            enum topo_role r = t->host[i].role;

            if (s[0] == 'h' || (s[0] == 's') == (r == TOPO_ROLE_SERVER)) {
                add_if(l, t, (int) i, -1, 0);
                any = true;
            }
        }
        snprintf(why, n, "the topology has no %s", s);
        return any;
    }
    if (!strcmp(s, "target")) {
        for (size_t i = 0; i < p->timeline.n; i++) {
            const char *tg = p->timeline.ep[i].target;
            const char *ld = strchr(tg, '-');
            int sw = topo_find_switch(t, tg), h = find_host(t, tg);

            if (sw >= 0) {
                add_switch_ports(l, t, sw);
                any = true;
            } else if (h >= 0) {
                add_if(l, t, h, -1, 0);
                any = true;
            } else if (ld) {
                char a[TOPO_NAME_MAX];
                int sa, sb;

                name_part(a, sizeof a, tg, (size_t) (ld - tg));
                sa = topo_find_switch(t, a);
                sb = topo_find_switch(t, ld + 1);
                for (size_t k = 0; sa >= 0 && sb >= 0 && k < t->nlink; k++) {
                    const struct topo_link *lk = &t->link[k];

                    if ((lk->a == sa && lk->b == sb) || (lk->a == sb && lk->b == sa)) {
                        /* One end: each packet once. */
                        add_if(l, t, -1, lk->a, lk->a_port);
                        any = true;
                        break;
                    }
                }
            }
            /* A fault on the whole network ("all") adds none. */
        }
        snprintf(why, n, "'target' selects what each fault touches, and no fault of this "
                         "scenario touches a switch, link or host");
        return any;
    }
    if (!dash) {
        int sw = topo_find_switch(t, s), h = find_host(t, s);

        if (sw >= 0) {
            add_switch_ports(l, t, sw);
            return true;
        }
        if (h >= 0) {
            add_if(l, t, h, -1, 0);
            return true;
        }
        snprintf(why, n, "no host or switch is called '%s'", s);
        return false;
    } else {
        char node[TOPO_NAME_MAX];
        /* The scenario checked "-eth" and at most four digits. */
        int port = (int) strtol(dash + 4, NULL, 10), sw, h;

        name_part(node, sizeof node, s, (size_t) (dash - s));
        sw = topo_find_switch(t, node);
        h = find_host(t, node);
        if (h >= 0 && port == 0) {
            add_if(l, t, h, -1, 0);
            return true;
        }
        if (sw >= 0 && port >= 1 && port <= t->sw[sw].nports) {
            add_if(l, t, -1, sw, port);
            return true;
        }
        if (sw >= 0) {
            snprintf(why, n, "switch '%s' has ports 1 to %d", node, t->sw[sw].nports);
        } else if (h >= 0) {
            snprintf(why, n, "host '%s' has one interface, %s-eth0", node, node);
        } else {
            snprintf(why, n, "no host or switch is called '%s'", node);
        }
        return false;
    }
}

long
sim_capture_select(const struct sim_plan *p, const char *const *sel, size_t n,
                   struct sim_capture_if **out, char *why, size_t whysize)
{
    struct if_list l = { 0 };
    char because[160];

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!select_ifs(p, sel[i], &l, because, sizeof because)) {
            snprintf(why, whysize, "'%s' selects nothing: %s", sel[i], because);
            free(l.v);
            return -1;
        }
    }
    *out = l.v;
    return (long) l.n;
}

size_t
sim_capture_ifaces(const struct sim_plan *p, struct sim_capture_if **out)
{
    char why[200];
    long n = sim_capture_select(p, (const char *const *) p->scn->capture.on,
                                p->scn->capture.non, out, why, sizeof why);

    return n > 0 ? (size_t) n : 0; /* the plan checked every selector */
}

/* Every [capture] selector names something of this network. */
static size_t
check_capture(const struct sim_plan *p, struct scn_diags *diags)
{
    const struct scn_capture *c = &p->scn->capture;
    struct if_list l = { 0 };
    size_t before = diags->n;
    char why[160];

    for (size_t i = 0; i < c->non; i++) {
        if (!select_ifs(p, c->on[i], &l, why, sizeof why)) {
            scn_diag_add(diags, c->on_pos[i].line, c->on_pos[i].col,
                         "'%s' in [capture] 'on' selects nothing: %s", c->on[i], why);
        }
    }
    free(l.v);
    return diags->n - before;
}

struct sim_plan *
sim_plan_build(const struct scenario *scn, struct scn_diags *diags, struct sr_error *err)
{
    struct sim_plan *p = xcalloc(1, sizeof *p);
    struct topo_params tp;
    size_t before = diags->n;
    bool targets_ok = true;

    p->scn = scn;
    p->busiest = -1;
    sim_topo_params(scn, &tp);
    p->topo = topo_build(&tp, err);
    if (!p->topo) {
        goto fail_err;
    }
    if (needs_busiest(scn)) {
        p->busiest = topo_busiest_core(p->topo, err);
        if (p->busiest < 0) {
            goto fail_err;
        }
    }
    build_world(p);
    /* Targets first, each with its position, so every bad one is listed. */
    for (size_t i = 0; i < scn->nfaults; i++) {
        const struct flt_spec *f = &scn->faults[i];
        const struct scn_fault_pos *pos = &scn->fault_pos[i];
        struct sr_error terr = { 0 };

        char *why = cannot_do(scn, f->type);

        if (flt_check_target(f->type, f->target, &p->world, &terr) < 0) {
            scn_diag_add(diags, pos->target_line ? pos->target_line : pos->line,
                         pos->target_line ? pos->target_col : pos->col, "%s", terr.msg);
            targets_ok = false;
        }
        if (why) {
            scn_diag_add(diags, pos->line, pos->col, "%s", why);
            targets_ok = false;
            free(why);
        }
    }
    for (size_t i = 0; scn->campaign.present && i < scn->campaign.c.ntargets; i++) {
        const struct flt_campaign_targets *tg = &scn->campaign.c.targets[i];
        bool listed = false;

        for (size_t k = 0; k < scn->campaign.c.ntypes; k++) {
            listed = listed || scn->campaign.c.types[k] == tg->type;
        }
        if (!listed) {
            const struct scn_pos *pos = &scn->campaign.target_pos[i][0];

            scn_diag_add(diags, pos->line, pos->col,
                         "[campaign] 'targets' names '%s', which is not in its 'types'",
                         tg->type->name);
            targets_ok = false;
        }
        for (size_t k = 0; k < tg->n; k++) {
            struct sr_error terr = { 0 };

            if (flt_check_target(tg->type, tg->choices[k], &p->world, &terr) < 0) {
                scn_diag_add(diags, scn->campaign.target_pos[i][k].line,
                             scn->campaign.target_pos[i][k].col, "%s", terr.msg);
                targets_ok = false;
            }
        }
    }
    for (size_t i = 0; scn->campaign.present && i < scn->campaign.c.ntypes; i++) {
        char *why = cannot_do(scn, scn->campaign.c.types[i]);

        if (why) {
            scn_diag_add(diags, scn->campaign.line, scn->campaign.col, "[campaign]: %s", why);
            targets_ok = false;
            free(why);
        }
    }
    if (!targets_ok) {
        goto fail;
    }
    if (flt_timeline_build(scn->faults, scn->nfaults,
                           scn->campaign.present ? &scn->campaign.c : NULL,
                           scn->warmup_ms, &p->world, scn->seed, &p->timeline, err) < 0) {
        goto fail_err;
    }
    p->duration_ms = scn->duration_ms;
    if (scn->campaign.present && !scn->duration_set) {
        int64_t iv = scn->collector.interval_ms;
        int64_t end = flt_timeline_end_ms(&p->timeline) + scn->campaign.c.gap_min_ms;

        /* Fit the campaign, rounded up to whole sweeps. */
        p->duration_ms = (end + iv - 1) / iv * iv;
        if (p->duration_ms <= scn->warmup_ms) {
            p->duration_ms = scn->warmup_ms + iv;
        }
    }
    if (check_timeline(p, diags) + check_capture(p, diags)) {
        goto fail;
    }
    sim_apps_draw(scn, p->topo, &p->timeline, p->duration_ms, &p->apps);
    sim_churn_draw(scn, p->topo, &p->timeline, p->duration_ms, &p->churn);
    return p;

fail_err:
    scn_diag_add(diags, 0, 0, "%s", err->msg);
fail:
    sr_error_set(err, SR_EINVAL, "%s: %zu problem%s found", scn->path, diags->n - before,
                 diags->n - before == 1 ? "" : "s");
    sim_plan_free(p);
    return NULL;
}
