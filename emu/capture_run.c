/* [capture] during a run (capture_run.h). */
#include "capture_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "proc.h"
#include "util.h"

/* A window's end is planned this long after the fault's planned end, until
 * the restore is seen (for placing baselines only). */
#define REVERT_SLACK_S 2.0

struct window {
    char tag[24];
    int ep_id;                /* 0 for a baseline */
    double open_at, close_at; /* collection times; close_at NAN until known */
    bool opened, closed;
};

struct sim_capture {
    struct capture *cap;
    struct collector *col;
    double after;
    struct window *w;
    size_t nw;
};

static void
labels(void *ctx, double t_s, const char *sw, uint32_t port, struct sr_buf *cells)
{
    col_label_cells(ctx, t_s, sw, port, cells);
}

static void
add_window(struct sim_capture *c, const char *tag, int id, double open_at, double close_at)
{
    struct window *w;

    c->w = xrealloc(c->w, (c->nw + 1) * sizeof *c->w);
    w = &c->w[c->nw++];
    memset(w, 0, sizeof *w);
    snprintf(w->tag, sizeof w->tag, "%s", tag);
    w->ep_id = id;
    w->open_at = open_at;
    w->close_at = close_at;
}

/* A window per episode, and a baseline in each normal stretch long enough
 * for one: right before the next episode's window (the nearest normal
 * time to compare with), or at the start of the stretch after the last
 * episode.  Tagged as the rows' episode column tags them: f<id>, n<k>. */
static void
plan_windows(struct sim_capture *c, const struct sim_plan *plan)
{
    const struct scn_capture *sc = &plan->scn->capture;
    const struct flt_timeline *tl = &plan->timeline;
    double before = (double) sc->before_ms / 1000.0, after = (double) sc->after_ms / 1000.0;
    double base = (double) sc->baseline_ms / 1000.0, end = (double) plan->duration_ms / 1000.0;
    double gap_start = (double) plan->scn->warmup_ms / 1000.0;
    char tag[24];

    for (size_t i = 0; i <= tl->n; i++) {
        double at = i < tl->n ? (double) tl->ep[i].at_ms / 1000.0 : end;
        double gap_end = i < tl->n ? at - before : end;

        if (base > 0 && gap_end - gap_start >= base) {
            double from = i < tl->n ? gap_end - base : gap_start;

            snprintf(tag, sizeof tag, "n%zu", i);
            add_window(c, tag, 0, from, from + base);
        }
        if (i < tl->n) {
            snprintf(tag, sizeof tag, "f%d", tl->ep[i].id);
            add_window(c, tag, tl->ep[i].id, fmax(0, at - before), NAN);
            gap_start = fmax(gap_start, at + (double) tl->ep[i].duration_ms / 1000.0 + after +
                                            REVERT_SLACK_S);
        }
    }
}

/* The interfaces of 'sel' as the capture opens them; NULL with 'err'. */
static struct cap_iface *
make_ifaces(const struct sim_plan *plan, struct sim_runtime *rt, const struct sim_capture_if *sel,
            size_t n, struct sr_error *err)
{
    struct cap_iface *ifs = xcalloc(n ? n : 1, sizeof *ifs);

    for (size_t i = 0; i < n; i++) {
        const struct sim_capture_if *s = &sel[i];

        ifs[i].name = s->name;
        ifs[i].sw = plan->topo->sw[s->sw].name;
        ifs[i].port = (uint32_t) s->port;
        if (s->host >= 0) {
            const struct topo_host *h = &plan->topo->host[s->host];

            ifs[i].host = h->name;
            ifs[i].by_mac = true;
            memcpy(ifs[i].mac, h->mac, 6);
            ifs[i].netns_pid = sim_runtime_host_pid(rt, h->name);
            if (ifs[i].netns_pid <= 0) {
                sr_error_set(err, SR_ENOTFOUND, "capture: the process of host '%s' is not known",
                             h->name);
                free(ifs);
                return NULL;
            }
        }
    }
    return ifs;
}

struct sim_capture *
sim_capture_start(const struct sim_plan *plan, struct sim_runtime *rt, struct collector *col,
                  struct sr_error *err)
{
    const struct scn_capture *sc = &plan->scn->capture;
    struct sim_capture *c;
    struct sim_capture_if *sel = NULL;
    struct cap_iface *ifs;
    size_t n = sim_capture_ifaces(plan, &sel);
    struct cap_options o = {
        .dir = sim_runtime_dir(rt),
        .snaplen = (int) sc->snaplen,
        .filter = sc->filter,
        .flow_idle_s = (double) sc->flow_idle_ms / 1000.0,
        .wall0 = col_wall0(col),
        .ring_mb = sc->max_mb,
        .ring_files = (int) sc->files,
        .label_cols = col_label_cols,
        .label = labels,
        .label_ctx = col,
    };

    ifs = make_ifaces(plan, rt, sel, n, err);
    if (!ifs) {
        free(sel);
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->col = col;
    c->after = (double) sc->after_ms / 1000.0;
    c->cap = cap_start(&o, ifs, n, err);
    free(ifs);
    free(sel);
    if (!c->cap) {
        free(c);
        return NULL;
    }
    if (sc->episodes) {
        plan_windows(c, plan);
    }
    SR_INFO("capture: %zu interface%s", n, n == 1 ? "" : "s");
    return c;
}

struct capture *
sim_capture_by_hand(const struct sim_plan *plan, struct sim_runtime *rt,
                    const char *const *selectors, size_t nsel, const char *tag,
                    struct sr_error *err)
{
    struct sim_capture_if *sel = NULL;
    struct cap_iface *ifs;
    struct capture *cap;
    char why[200];
    struct cap_options o = { .dir = sim_runtime_dir(rt), .snaplen = 2048, .wall0 = sr_wall(),
                             .pcaps_only = true };
    long n;

    for (size_t i = 0; i < nsel; i++) {
        if (!scn_capture_selector_valid(selectors[i])) {
            /* Typed text goes back to a terminal: shown cleaned. */
            struct sr_buf shown = SR_BUF_INIT;

            sr_term_clean(&shown, selectors[i]);
            sr_error_set(err, SR_EINVAL, "'%s' is not an interface selector: give hosts, "
                         "servers, users, a host, a switch or a switch port such as c1-eth2",
                         sr_buf_cstr(&shown));
            sr_buf_release(&shown);
            return NULL;
        }
    }
    n = sim_capture_select(plan, selectors, nsel, &sel, why, sizeof why);
    if (n <= 0) {
        sr_error_set(err, SR_EINVAL, "%s", n < 0 ? why : "nothing to capture");
        return NULL;
    }
    ifs = make_ifaces(plan, rt, sel, (size_t) n, err);
    cap = ifs ? cap_start(&o, ifs, (size_t) n, err) : NULL;
    if (cap && cap_window_open(cap, tag, err) < 0) {
        json_t *report = NULL;

        cap_finish(cap, 0, 0, &report, NULL);
        json_decref(report);
        cap = NULL;
    }
    free(ifs);
    free(sel);
    return cap;
}

void
sim_capture_fault(struct sim_capture *c, int id, enum col_event ev, double t_s)
{
    if (!c || ev != COL_REVERTED) {
        return;
    }
    for (size_t i = 0; i < c->nw; i++) {
        if (c->w[i].ep_id == id) {
            c->w[i].close_at = t_s + c->after;
        }
    }
}

double
sim_capture_windows(struct sim_capture *c, double t_s)
{
    double next = 1e9;

    if (!c) {
        return next;
    }
    for (size_t i = 0; i < c->nw; i++) {
        struct window *w = &c->w[i];
        struct sr_error err = { 0 };

        if (!w->opened && t_s >= w->open_at) {
            w->opened = true;
            if (cap_window_open(c->cap, w->tag, &err) < 0) {
                SR_WARN("%s", err.msg);
            }
        }
        if (w->opened && !w->closed && !isnan(w->close_at) && t_s >= w->close_at) {
            w->closed = true;
            cap_window_close(c->cap, w->tag);
        }
        if (!w->opened) {
            next = fmin(next, w->open_at - t_s);
        } else if (!w->closed && !isnan(w->close_at)) {
            next = fmin(next, w->close_at - t_s);
        }
    }
    return next > 0 ? next : 0;
}

int
sim_capture_sweep(struct sim_capture *c, long k, double t_s, struct sr_error *err)
{
    return c ? cap_sweep(c->cap, k, t_s, err) : 0;
}

int
sim_capture_finish(struct sim_capture *c, long k, double t_s, struct sr_error *err)
{
    json_t *report = NULL;
    int rc;

    if (!c) {
        return 0;
    }
    rc = cap_finish(c->cap, k, t_s, &report, err);
    if (report) {
        col_manifest_set(c->col, "capture", report);
    }
    free(c->w);
    free(c);
    return rc;
}
