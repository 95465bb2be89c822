/* simrun report: reading a run directory and writing it as one page. */
#include "report.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "episodes.h"
#include "faults.h"
#include "json.h"
#include "rundir.h"
#include "svg.h"
#include "topology.h"
#include "util.h"

#define WIDE 1000    /* px: a full-width plot */
#define SMALL_W 330  /* px: one of the viewers' small plots */
#define SMALL_H 140
#define MAX_GROUPS 12  /* switches drawn with their neighbours */
#define MAX_NEIGHBOURS 4
#define MAX_VIEWERS 60

/* ---- growing series ---- */

struct series {
    double *t, *v;
    size_t n, cap;
};

static void
ser_add(struct series *s, double t, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->t = xrealloc(s->t, s->cap * sizeof *s->t);
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->t[s->n] = t;
    s->v[s->n++] = v;
}

static void
ser_free(struct series *s)
{
    free(s->t);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* The median of the values of 's' (reordered); NAN for none. */
static double
median(struct series *s)
{
    if (!s->n) {
        return NAN;
    }
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/* ---- what the report holds ---- */

enum metric { M_RX, M_TX, M_DROPS, M_FLOWS, M_LOOKUPS, M_COUNT };

struct sw {
    char *name;
    struct series m[M_COUNT];
    double last_t;
};

struct episode {
    int id;
    char *type;
    char *target;
    int colour;
    double at[SVG_EV_COUNT];
};

struct viewer {
    char *name;
    struct series rate;
    struct series stalls; /* t only */
};

struct svc {
    struct series points;  /* the KPI over time */
    struct series fails;   /* t of failures */
    struct series in, out; /* values during fault windows and outside (for medians) */
    long records;
};

struct rep {
    const char *dir;
    json_t *man, *events, *topo, *score, *episodes;
    double epoch0, t_end, interval;
    struct episode *ep;
    size_t nep;
    char **group; /* touched switches, in episode order */
    size_t ngroup;
    size_t omitted; /* touched switches beyond MAX_GROUPS */
    struct sw *sw; /* switches read from samples: groups and their neighbours */
    size_t nsw;
    struct series total; /* received traffic of all switches, per sweep */
    struct viewer *viewer;
    size_t nviewer, viewers_omitted;
    struct svc svc[EP_NSERVICES];
    struct svg_band *band;
    size_t nband;
};

static const char *
jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static double
jnum(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void
esc(struct sr_buf *out, const char *s)
{
    sr_html_escape(out, s);
}

/* A number for a table: '-' when unknown. */
static void
put_num(struct sr_buf *out, double v, int decimals)
{
    if (isfinite(v)) {
        sr_buf_printf(out, "%.*f", decimals, v);
    } else {
        sr_buf_puts(out, "–");
    }
}

static int
fault_colour(const char *type)
{
    size_t n;
    const struct flt_type *all = flt_types(&n);
    const struct flt_type *t = flt_type_find(type);

    return t ? (int) (t - all) : SVG_FAULT_COLOURS - 1;
}

/* ---- topology ---- */

static const json_t *
topo_switch(const struct rep *r, const char *name)
{
    size_t i;
    json_t *s;

    json_array_foreach(json_object_get(r->topo, "switches"), i, s) {
        if (!strcmp(jstr(s, "name"), name)) {
            return s;
        }
    }
    return NULL;
}

static const json_t *
topo_host(const struct rep *r, const char *name)
{
    size_t i;
    json_t *h;

    json_array_foreach(json_object_get(r->topo, "hosts"), i, h) {
        if (!strcmp(jstr(h, "name"), name)) {
            return h;
        }
    }
    return NULL;
}

/* The switches target 'target' touches: a switch, a host's switch, or a
 * link's two ends ("c1-c12"); up to two in 'out'. */
static size_t
target_switches(const struct rep *r, const char *target, const char *out[2])
{
    const json_t *h;

    if (topo_switch(r, target)) {
        out[0] = target;
        return 1;
    }
    if ((h = topo_host(r, target))) {
        out[0] = jstr(h, "switch");
        return 1;
    }
    for (const char *dash = strchr(target, '-'); dash; dash = strchr(dash + 1, '-')) {
        char *a = xstrndup(target, (size_t) (dash - target));
        const json_t *sa = topo_switch(r, a), *sb = topo_switch(r, dash + 1);

        free(a);
        if (sa && sb) {
            out[0] = jstr(sa, "name");
            out[1] = jstr(sb, "name");
            return 2;
        }
    }
    return 0;
}

/* Whether episode 'e' touches node 'name' (as target, host or link end). */
static bool
touches(const struct rep *r, const struct episode *e, const char *name)
{
    const char *sw[2];
    size_t n;

    if (!strcmp(e->target, name)) {
        return true;
    }
    if (topo_host(r, e->target)) {
        return false;
    }
    n = target_switches(r, e->target, sw);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(sw[i], name)) {
            return true;
        }
    }
    return false;
}

/* The episodes that touch node 'name' as "#1 #4", or "". */
static void
episode_marks(const struct rep *r, const char *name, bool links, struct sr_buf *out)
{
    for (size_t i = 0; i < r->nep; i++) {
        const struct episode *e = &r->ep[i];
        const char *sw[2];
        bool hit = links ? target_switches(r, e->target, sw) == 2 && !strcmp(e->target, name)
                         : !strcmp(e->target, name);

        if (hit) {
            sr_buf_printf(out, "%s#%d", out->len ? " " : "", e->id);
        }
    }
}

static void
dot_node(struct sr_buf *dot, const struct rep *r, const char *name, enum topo_role role)
{
    struct sr_buf marks = SR_BUF_INIT;

    sr_buf_puts(dot, "    ");
    sr_dot_quote(dot, name);
    sr_buf_printf(dot, " [%s", topo_dot_node_style(role));
    episode_marks(r, name, false, &marks);
    if (marks.len) {
        sr_buf_puts(dot, ", color=\"#b2182b\", penwidth=3.5, fontcolor=\"#b2182b\", xlabel=");
        sr_dot_quote(dot, sr_buf_cstr(&marks));
    }
    sr_buf_puts(dot, "];\n");
    sr_buf_release(&marks);
}

/* topology.json as DOT, each fault's target drawn in red with its episodes. */
static void
topology_dot(const struct rep *r, struct sr_buf *dot)
{
    json_t *sws = json_object_get(r->topo, "switches"), *hosts = json_object_get(r->topo, "hosts");
    json_t *s, *h, *l;
    size_t i, k;
    long net = -1;
    enum topo_role role;
    enum topo_link_kind kind;

    sr_buf_puts(dot, "graph topology {\n  graph [fontname=Helvetica, fontsize=11, nodesep=0.2, "
                     "ranksep=0.45, outputorder=edgesfirst, forcelabels=true];\n"
                     "  node [fontname=Helvetica, fontsize=10, height=0.3, margin=\"0.05,0.02\"];\n"
                     "  edge [fontname=Helvetica];\n");
    sr_buf_puts(dot, "  subgraph cluster_core {\n    label=\"core and datacenters\"; "
                     "color=\"#3182bd\";\n");
    json_array_foreach(sws, i, s) {
        if (topo_role_parse(jstr(s, "role"), &role) && role == TOPO_ROLE_CORE) {
            dot_node(dot, r, jstr(s, "name"), role);
        }
    }
    json_array_foreach(hosts, i, h) {
        if (!strcmp(jstr(h, "role"), "server")) {
            dot_node(dot, r, jstr(h, "name"), TOPO_ROLE_SERVER);
        }
    }
    sr_buf_puts(dot, "  }\n");
    json_array_foreach(sws, i, s) {
        long n = (long) json_integer_value(json_object_get(s, "network"));

        if (!topo_role_parse(jstr(s, "role"), &role) || role == TOPO_ROLE_CORE) {
            continue;
        }
        if (n != net) {
            if (net >= 0) {
                sr_buf_puts(dot, "  }\n");
            }
            net = n;
            sr_buf_printf(dot, "  subgraph cluster_a%ld {\n    label=\"access network %ld\"; "
                               "color=\"#fd8d3c\";\n",
                          n, n);
            json_array_foreach(hosts, k, h) {
                const json_t *at = topo_switch(r, jstr(h, "switch"));

                if (!strcmp(jstr(h, "role"), "user") && at &&
                    json_integer_value(json_object_get(at, "network")) == n) {
                    dot_node(dot, r, jstr(h, "name"), TOPO_ROLE_USER);
                }
            }
        }
        dot_node(dot, r, jstr(s, "name"), role);
    }
    if (net >= 0) {
        sr_buf_puts(dot, "  }\n");
    }
    json_array_foreach(json_object_get(r->topo, "links"), i, l) {
        struct sr_buf name = SR_BUF_INIT, marks = SR_BUF_INIT;

        if (!topo_link_kind_parse(jstr(l, "kind"), &kind)) {
            kind = TOPO_LINK_CORE;
        }
        sr_buf_puts(dot, "  ");
        sr_dot_quote(dot, jstr(l, "a"));
        sr_buf_puts(dot, " -- ");
        sr_dot_quote(dot, jstr(l, "b"));
        sr_buf_printf(dot, " [%s", topo_dot_edge_style(kind));
        /* A link fault names the link either way round. */
        sr_buf_printf(&name, "%s-%s", jstr(l, "a"), jstr(l, "b"));
        episode_marks(r, sr_buf_cstr(&name), true, &marks);
        sr_buf_clear(&name);
        sr_buf_printf(&name, "%s-%s", jstr(l, "b"), jstr(l, "a"));
        episode_marks(r, sr_buf_cstr(&name), true, &marks);
        if (marks.len) {
            sr_buf_puts(dot, ", color=\"#b2182b\", penwidth=4, fontcolor=\"#b2182b\", label=");
            sr_dot_quote(dot, sr_buf_cstr(&marks));
        }
        sr_buf_puts(dot, "];\n");
        sr_buf_release(&name);
        sr_buf_release(&marks);
    }
    sr_buf_puts(dot, "}\n");
}

/* The topology as inline SVG, laid out by Graphviz's dot. */
static int
topology_svg(const struct rep *r, struct sr_buf *out, struct sr_error *err)
{
    struct sr_buf dot = SR_BUF_INIT;
    GVC_t *gvc;
    Agraph_t *g;
    char *data = NULL;
    unsigned int len = 0;
    const char *svg;
    int rc = 0;

    topology_dot(r, &dot);
    agseterr(AGERR); /* warnings are not the reader's business */
    gvc = gvContext();
    g = agmemread(sr_buf_cstr(&dot));
    if (!g || gvLayout(gvc, g, "dot") != 0) {
        rc = sr_error_set(err, SR_EINVAL, "Graphviz could not lay out the topology");
    } else if (gvRenderData(gvc, g, "svg", &data, &len) != 0 || !data) {
        rc = sr_error_set(err, SR_EINVAL, "Graphviz could not draw the topology");
    } else {
        /* The SVG element itself, without the XML prologue. */
        svg = strstr(data, "<svg");
        sr_buf_append(out, svg ? svg : data, len - (size_t) ((svg ? svg : data) - data));
    }
    if (data) {
        gvFreeRenderData(data);
    }
    if (g) {
        gvFreeLayout(gvc, g);
        agclose(g);
    }
    gvFreeContext(gvc);
    sr_buf_release(&dot);
    return rc;
}

/* ---- reading the run ---- */

static struct episode *
episode_of(struct rep *r, int id, json_t *ev)
{
    struct episode *e;

    for (size_t i = 0; i < r->nep; i++) {
        if (r->ep[i].id == id) {
            return &r->ep[i];
        }
    }
    r->ep = xrealloc(r->ep, (r->nep + 1) * sizeof *r->ep);
    e = &r->ep[r->nep++];
    e->id = id;
    e->type = xstrdup(jstr(ev, "type"));
    e->target = xstrdup(jstr(ev, "target"));
    e->colour = fault_colour(e->type);
    for (int k = 0; k < SVG_EV_COUNT; k++) {
        e->at[k] = NAN;
    }
    return e;
}

static void
read_events(struct rep *r)
{
    size_t i;
    json_t *ev;

    json_array_foreach(r->events, i, ev) {
        const char *kind = jstr(ev, "event");
        json_int_t id = json_integer_value(json_object_get(ev, "id"));
        double t = jnum(ev, "t_s");

        if (id <= 0 || !isfinite(t)) {
            continue; /* unplanned events have no episode */
        }
        r->t_end = fmax(r->t_end, t);
        for (int k = 0; k < SVG_EV_COUNT; k++) {
            if (!strcmp(kind, svg_event_name((enum svg_event) k)) ||
                (k == SVG_EV_HEALED && !strcmp(kind, "partly_healed"))) {
                struct episode *e = episode_of(r, (int) id, ev);

                if (isnan(e->at[k])) {
                    e->at[k] = t;
                }
            }
        }
    }
}

static bool
in_group(const struct rep *r, const char *name)
{
    for (size_t i = 0; i < r->ngroup; i++) {
        if (!strcmp(r->group[i], name)) {
            return true;
        }
    }
    return false;
}

static struct sw *
sw_find(const struct rep *r, const char *name)
{
    for (size_t i = 0; i < r->nsw; i++) {
        if (!strcmp(r->sw[i].name, name)) {
            return &r->sw[i];
        }
    }
    return NULL;
}

static void
sw_want(struct rep *r, const char *name)
{
    if (!sw_find(r, name)) {
        r->sw = xrealloc(r->sw, (r->nsw + 1) * sizeof *r->sw);
        memset(&r->sw[r->nsw], 0, sizeof *r->sw);
        r->sw[r->nsw].name = xstrdup(name);
        r->sw[r->nsw].last_t = NAN;
        r->nsw++;
    }
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The switches next to 'name' over switch links, sorted, at most 'max'. */
static size_t
neighbours(const struct rep *r, const char *name, const char **out, size_t max)
{
    size_t i, n = 0;
    json_t *l;

    json_array_foreach(json_object_get(r->topo, "links"), i, l) {
        const char *a = jstr(l, "a"), *b = jstr(l, "b"), *o = NULL;

        if (!strcmp(jstr(l, "kind"), "host")) {
            continue;
        }
        o = !strcmp(a, name) ? b : !strcmp(b, name) ? a : NULL;
        if (o && n < max) {
            out[n++] = o;
        }
    }
    qsort(out, n, sizeof *out, cmp_str);
    return n;
}

static void
choose_switches(struct rep *r)
{
    for (size_t i = 0; i < r->nep; i++) {
        const char *sw[2];
        size_t n = target_switches(r, r->ep[i].target, sw);

        for (size_t k = 0; k < n; k++) {
            if (in_group(r, sw[k])) {
                continue;
            }
            if (r->ngroup == MAX_GROUPS) {
                r->omitted++;
                continue;
            }
            r->group = xrealloc(r->group, (r->ngroup + 1) * sizeof *r->group);
            r->group[r->ngroup++] = xstrdup(sw[k]);
        }
    }
    for (size_t g = 0; g < r->ngroup; g++) {
        const char *nb[MAX_NEIGHBOURS];
        size_t n = neighbours(r, r->group[g], nb, MAX_NEIGHBOURS);

        sw_want(r, r->group[g]);
        for (size_t k = 0; k < n; k++) {
            sw_want(r, nb[k]);
        }
    }
}

static double
row_num(json_t *row, const char *key)
{
    return jnum(row, key);
}

static int
read_samples(struct rep *r, struct sr_error *err)
{
    struct rd_rows *rows;
    json_t *row;
    struct series sweep_sum = { 0 }; /* t per sweep index, v the sum */

    if (!rd_rows_exist(r->dir, "samples")) {
        return 0;
    }
    if (!(rows = rd_rows_open(r->dir, "samples", err))) {
        return -1;
    }
    while ((row = rd_rows_next(rows))) {
        double t = row_num(row, "t_s"), dt = row_num(row, "dt_s");
        json_int_t k = json_integer_value(json_object_get(row, "sweep"));
        double rx = row_num(row, "rx_bps");
        struct sw *s = sw_find(r, jstr(row, "switch"));

        if (!isfinite(t) || k < 0 || k > 10000000) {
            json_decref(row);
            continue;
        }
        r->t_end = fmax(r->t_end, t);
        while (sweep_sum.n <= (size_t) k) {
            ser_add(&sweep_sum, NAN, NAN);
        }
        sweep_sum.t[k] = t;
        if (isfinite(rx)) {
            sweep_sum.v[k] = (isnan(sweep_sum.v[k]) ? 0 : sweep_sum.v[k]) + rx / 1e6;
        }
        if (s) {
            double drops = row_num(row, "receive_drops") + row_num(row, "transmit_drops");

            /* A missing sweep breaks the line rather than bridging it. */
            if (!isnan(s->last_t) && t - s->last_t > 1.5 * r->interval) {
                for (int m = 0; m < M_COUNT; m++) {
                    ser_add(&s->m[m], (s->last_t + t) / 2, NAN);
                }
            }
            s->last_t = t;
            ser_add(&s->m[M_RX], t, rx / 1e6);
            ser_add(&s->m[M_TX], t, row_num(row, "tx_bps") / 1e6);
            ser_add(&s->m[M_DROPS], t, dt > 0 ? drops / dt : NAN);
            ser_add(&s->m[M_FLOWS], t, row_num(row, "flows"));
            ser_add(&s->m[M_LOOKUPS], t,
                    dt > 0 ? row_num(row, "packets_looked_up") / dt : NAN);
        }
        json_decref(row);
    }
    /* A live run's last line may be half written: what came before stands. */
    (void) rd_rows_error(rows);
    rd_rows_close(rows);
    for (size_t k = 0; k < sweep_sum.n; k++) {
        if (isfinite(sweep_sum.t[k])) {
            ser_add(&r->total, sweep_sum.t[k], sweep_sum.v[k]);
        }
    }
    ser_free(&sweep_sum);
    return 0;
}

static bool
in_fault(const struct rep *r, double t)
{
    for (size_t i = 0; i < r->nband; i++) {
        if (t >= r->band[i].from && t <= r->band[i].to) {
            return true;
        }
    }
    return false;
}

static struct viewer *
viewer_of(struct rep *r, const char *host)
{
    for (size_t i = 0; i < r->nviewer; i++) {
        if (!strcmp(r->viewer[i].name, host)) {
            return &r->viewer[i];
        }
    }
    if (r->nviewer == MAX_VIEWERS) {
        return NULL;
    }
    r->viewer = xrealloc(r->viewer, (r->nviewer + 1) * sizeof *r->viewer);
    memset(&r->viewer[r->nviewer], 0, sizeof *r->viewer);
    r->viewer[r->nviewer].name = xstrdup(host);
    return &r->viewer[r->nviewer++];
}

static void
read_traffic(struct rep *r)
{
    char *path = xasprintf("%s/traffic.jsonl", r->dir);
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    free(path);
    if (!f) {
        return;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *rec = json_loadb(line, (size_t) n, 0, NULL);
        struct ep_kpi k;

        if (rec && ep_kpi_of(rec, &k)) {
            double t = k.t - r->epoch0;
            struct svc *s = &r->svc[k.kind];

            s->records++;
            if (k.kind == EP_VIDEO) {
                struct viewer *v = viewer_of(r, jstr(rec, "host"));

                if (v) {
                    ser_add(&v->rate, t, k.value);
                    if (k.stalled) {
                        ser_add(&v->stalls, t, 0);
                    }
                } else {
                    r->viewers_omitted++;
                }
            } else if (!isnan(k.value)) {
                ser_add(&s->points, t, k.value);
            }
            if (!k.ok) {
                ser_add(&s->fails, t, 0);
            }
            if (!isnan(k.value)) {
                ser_add(in_fault(r, t) ? &s->in : &s->out, t, k.value);
            }
        }
        json_decref(rec);
    }
    free(line);
    fclose(f);
}

static int
cmp_viewer(const void *a, const void *b)
{
    return strcmp(((const struct viewer *) a)->name, ((const struct viewer *) b)->name);
}

static json_t *
load_json(const char *dir, const char *name, bool required, struct sr_error *err)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *text = sr_read_file(path, NULL);
    json_t *j = NULL;

    if (!text) {
        if (required) {
            sr_error_set(err, SR_ENOTFOUND, "cannot read %s", path);
        }
    } else {
        j = sr_json_loads(text, name, err);
    }
    free(text);
    free(path);
    return j;
}

static int
load(struct rep *r, struct sr_error *err)
{
    const char *name;
    struct sr_error soft = { 0 };

    if (!(r->man = rd_manifest(r->dir, err)) || !(r->events = rd_events(r->dir, err)) ||
        !(r->topo = load_json(r->dir, "topology.json", true, err))) {
        return -1;
    }
    r->score = load_json(r->dir, "score.json", false, err);
    r->epoch0 = sr_iso_epoch(jstr(r->man, "started"));
    if (!isfinite(r->epoch0)) {
        return sr_error_set(err, SR_EINVAL, "%s/manifest.json has no start time", r->dir);
    }
    r->interval = jnum(r->man, "interval_s");
    if (!(r->interval > 0)) {
        r->interval = 1;
    }
    read_events(r);
    /* Without its service figures (a broken traffic.jsonl) the rest of
     * the page still stands. */
    name = jstr(json_object_get(r->man, "scenario"), "name");
    r->episodes = ep_summarise(r->dir, name, &soft);
    choose_switches(r);
    if (read_samples(r, err) < 0) {
        return -1;
    }
    /* Fault windows: from the inject to the restore (or the end). */
    for (size_t i = 0; i < r->nep; i++) {
        struct episode *e = &r->ep[i];
        double z = !isnan(e->at[SVG_EV_REVERTED]) ? e->at[SVG_EV_REVERTED]
                   : !isnan(e->at[SVG_EV_REVERT]) ? e->at[SVG_EV_REVERT]
                                                   : r->t_end;

        if (isnan(e->at[SVG_EV_INJECT])) {
            continue;
        }
        r->band = xrealloc(r->band, (r->nband + 1) * sizeof *r->band);
        r->band[r->nband++] = (struct svg_band) { .from = e->at[SVG_EV_INJECT], .to = z,
                                                  .id = e->id, .type = e->type,
                                                  .colour = e->colour };
    }
    read_traffic(r);
    if (r->nviewer) {
        qsort(r->viewer, r->nviewer, sizeof *r->viewer, cmp_viewer);
    }
    for (size_t i = 0; i < r->nviewer; i++) {
        struct series *s = &r->viewer[i].rate;

        if (s->n) {
            r->t_end = fmax(r->t_end, s->t[s->n - 1]);
        }
    }
    return 0;
}

static void
rep_free(struct rep *r)
{
    json_decref(r->man);
    json_decref(r->events);
    json_decref(r->topo);
    json_decref(r->score);
    json_decref(r->episodes);
    for (size_t i = 0; i < r->nep; i++) {
        free(r->ep[i].type);
        free(r->ep[i].target);
    }
    free(r->ep);
    for (size_t i = 0; i < r->ngroup; i++) {
        free(r->group[i]);
    }
    free(r->group);
    for (size_t i = 0; i < r->nsw; i++) {
        free(r->sw[i].name);
        for (int m = 0; m < M_COUNT; m++) {
            ser_free(&r->sw[i].m[m]);
        }
    }
    free(r->sw);
    ser_free(&r->total);
    for (size_t i = 0; i < r->nviewer; i++) {
        free(r->viewer[i].name);
        ser_free(&r->viewer[i].rate);
        ser_free(&r->viewer[i].stalls);
    }
    free(r->viewer);
    for (int k = 0; k < EP_NSERVICES; k++) {
        ser_free(&r->svc[k].points);
        ser_free(&r->svc[k].fails);
        ser_free(&r->svc[k].in);
        ser_free(&r->svc[k].out);
    }
    free(r->band);
}

/* ---- writing the page ---- */

static const char CSS[] =
    "body{font:15px/1.45 Helvetica,Arial,sans-serif;color:#222;margin:0 auto;max-width:1040px;"
    "padding:0 16px 40px}"
    "h1{font-size:24px;margin:18px 0 4px}h2{font-size:19px;margin:30px 0 8px;border-bottom:"
    "2px solid #ccc}h3{font-size:15px;margin:16px 0 4px}"
    "table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:2px 7px;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "svg{max-width:100%;height:auto;display:block}"
    "svg.plot text,svg.timeline text{font:11px Helvetica,Arial,sans-serif;fill:#222}"
    "svg .title{font-weight:bold;font-size:12px}svg .label{fill:#444}"
    "svg .grid{stroke:#e2e2e2;stroke-width:1}svg .frame{fill:none;stroke:#888}"
    "svg rect.fault{fill-opacity:.45}svg .band{font-size:10px;fill:#333}"
    "svg .mark{font-size:13px}"
    ".small{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:6px}"
    ".key span{display:inline-block;margin-right:14px}"
    ".swatch{display:inline-block;width:14px;height:11px;border:1px solid #777;"
    "vertical-align:-1px;margin-right:4px}"
    ".note{color:#555;font-size:13px}#topology svg{margin:auto}"
    "@media print{h2{break-after:avoid}svg{break-inside:avoid}}";

static void
row2(struct sr_buf *o, const char *k, const char *v)
{
    sr_buf_puts(o, "<tr><th>");
    esc(o, k);
    sr_buf_puts(o, "</th><td>");
    esc(o, v);
    sr_buf_puts(o, "</td></tr>");
}

static void row2f(struct sr_buf *o, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
row2f(struct sr_buf *o, const char *k, const char *fmt, ...)
{
    struct sr_buf v = SR_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sr_buf_vprintf(&v, fmt, ap);
    va_end(ap);
    row2(o, k, sr_buf_cstr(&v));
    sr_buf_release(&v);
}

static void
header(struct sr_buf *o, const struct rep *r)
{
    json_t *scn = json_object_get(r->man, "scenario"), *v, *sw = json_object_get(r->man, "sweeps");
    json_t *topo = json_object_get(r->man, "topology"), *ctl = json_object_get(r->man, "controller");
    const char *key;
    struct sr_buf vers = SR_BUF_INIT;

    sr_buf_puts(o, "<h1>simrun report: ");
    esc(o, jstr(scn, "name"));
    sr_buf_printf(o, ", seed %lld</h1>\n",
                  (long long) json_integer_value(json_object_get(r->man, "seed")));
    sr_buf_puts(o, "<table id=\"run\">");
    {
        /* The directory's own name: the page is the same wherever it lies. */
        char *base = xstrdup(r->dir);
        size_t n = strlen(base);

        while (n > 1 && base[n - 1] == '/') {
            base[--n] = '\0';
        }
        row2(o, "run", strrchr(base, '/') ? strrchr(base, '/') + 1 : base);
        free(base);
    }
    row2(o, "scenario file", jstr(scn, "path"));
    row2(o, "scenario sha256", jstr(scn, "sha256"));
    row2(o, "status", jstr(r->man, "status"));
    row2(o, "started", jstr(r->man, "started"));
    row2(o, "ended", json_is_string(json_object_get(r->man, "ended")) ? jstr(r->man, "ended")
                                                                     : "(still running)");
    row2f(o, "length", "%.1f s of data; the network was ready %.1f s after start",
             r->t_end, jnum(r->man, "ready_s"));
    row2f(o, "topology", "%lld switches (%lld core), %lld hosts (%lld users), %lld links",
             (long long) json_integer_value(json_object_get(topo, "switches")),
             (long long) json_integer_value(json_object_get(topo, "core")),
             (long long) json_integer_value(json_object_get(topo, "hosts")),
             (long long) json_integer_value(json_object_get(topo, "users")),
             (long long) json_integer_value(json_object_get(topo, "links")));
    row2f(o, "controller", "%s at %s", jstr(ctl, "kind"), jstr(ctl, "url"));
    row2f(o, "sweeps", "every %.1f s: %lld done, %lld late, %lld missed, %lld failed, %lld partial; "
             "p50 %.0f ms, p95 %.0f ms",
             r->interval, (long long) json_integer_value(json_object_get(sw, "done")),
             (long long) json_integer_value(json_object_get(sw, "late")),
             (long long) json_integer_value(json_object_get(sw, "missed")),
             (long long) json_integer_value(json_object_get(sw, "failed")),
             (long long) json_integer_value(json_object_get(sw, "partial")),
             1000 * jnum(sw, "duration_p50_s"), 1000 * jnum(sw, "duration_p95_s"));
    json_object_foreach(json_object_get(r->man, "versions"), key, v) {
        sr_buf_printf(&vers, "%s%s %s", vers.len ? ", " : "", key, json_string_value(v) ?
                      json_string_value(v) : "?");
    }
    row2(o, "versions", sr_buf_cstr(&vers));
    sr_buf_release(&vers);
    sr_buf_puts(o, "</table>\n");
}

static void
fault_key(struct sr_buf *o, const struct rep *r)
{
    int seen[SVG_FAULT_COLOURS] = { 0 };

    sr_buf_puts(o, "<p class=\"key\">Fault windows (inject to restore): ");
    for (size_t i = 0; i < r->nep; i++) {
        int c = r->ep[i].colour % SVG_FAULT_COLOURS;

        if (seen[c]++) {
            continue;
        }
        sr_buf_printf(o, "<span><i class=\"swatch\" style=\"background:%s\"></i>",
                      svg_fault_colour(c));
        esc(o, r->ep[i].type);
        sr_buf_puts(o, "</span>");
    }
    if (!r->nep) {
        sr_buf_puts(o, "none in this run.");
    }
    sr_buf_puts(o, "</p>\n");
}

static void
topology_section(struct sr_buf *o, const struct rep *r, struct sr_error *err)
{
    sr_buf_puts(o, "<h2>Topology</h2>\n<p class=\"key\">"
                   "<span>dark blue box: core switch</span><span>double border: gateway</span>"
                   "<span>pale blue box: access switch</span><span>orange oval: user</span>"
                   "<span>green cylinder: server</span>"
                   "<span style=\"color:#b2182b\">red, with episode numbers: a fault's target"
                   "</span></p>\n<div id=\"topology\">");
    if (topology_svg(r, o, err) < 0) {
        sr_buf_puts(o, "<p class=\"note\">");
        esc(o, err->msg);
        sr_buf_puts(o, "</p>");
    }
    sr_buf_puts(o, "</div>\n");
}

/* The largest changes.jsonl the report reads (an hour of changes is a few
 * hundred lines). */
#define CHANGES_MAX (8 * 1024 * 1024)

/* What changed in normal time (changes.jsonl): the operator's changes and
 * the traffic's churn, one row each, when the run has any. */
static void
changes_table(struct sr_buf *o, const struct rep *r)
{
    char *path = xasprintf("%s/changes.jsonl", r->dir), *text, *line, *save = NULL;
    struct sr_error err = { 0 };
    size_t rows = 0;

    if (access(path, F_OK) != 0) {
        free(path);
        return;
    }
    text = sr_read_regular(path, CHANGES_MAX, 0, NULL, &err);
    free(path);
    sr_buf_puts(o, "<details><summary>normal-time changes (changes.jsonl): the operator's and "
                   "the traffic's, labelled normal</summary>");
    if (!text) {
        sr_buf_puts(o, "<p>");
        esc(o, err.msg);
        sr_buf_puts(o, "</p></details>\n");
        return;
    }
    sr_buf_puts(o, "<table id=\"changes\"><tr><th>t (s)</th><th>event</th><th>what</th>"
                   "<th>on</th><th>done</th></tr>");
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *c = json_loads(line, 0, NULL);
        const char *what = json_object_get(c, "change") ? jstr(c, "change") : jstr(c, "churn");

        if (!json_is_object(c)) {
            json_decref(c);
            continue;
        }
        sr_buf_puts(o, "<tr><td class=\"n\">");
        put_num(o, jnum(c, "t_s"), 1);
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(c, "event"));
        sr_buf_puts(o, "</td><td>");
        esc(o, what);
        if (json_object_get(c, "service")) {
            sr_buf_puts(o, " ");
            esc(o, jstr(c, "service"));
        }
        sr_buf_puts(o, "</td><td>");
        if (json_object_get(c, "link")) {
            esc(o, jstr(c, "link"));
        } else if (json_is_array(json_object_get(c, "hosts"))) {
            sr_buf_printf(o, "%zu host%s", json_array_size(json_object_get(c, "hosts")),
                          json_array_size(json_object_get(c, "hosts")) == 1 ? "" : "s");
        } else if (json_object_get(c, "tcp_dst")) {
            sr_buf_printf(o, "TCP %lld",
                          (long long) json_integer_value(json_object_get(c, "tcp_dst")));
        } else if (json_object_get(c, "rate_kbps")) {
            sr_buf_printf(o, "%lld kbit/s",
                          (long long) json_integer_value(json_object_get(c, "rate_kbps")));
        }
        sr_buf_printf(o, "</td><td>%s</td></tr>",
                      json_is_true(json_object_get(c, "ok")) ? "yes" : "no");
        rows++;
        json_decref(c);
    }
    sr_buf_printf(o, "</table><p>%zu change%s</p></details>\n", rows, rows == 1 ? "" : "s");
    free(text);
}

static void
timeline_section(struct sr_buf *o, const struct rep *r, double t1)
{
    struct svg_episode *ep = xcalloc(r->nep ? r->nep : 1, sizeof *ep);
    size_t i;
    json_t *ev;

    sr_buf_puts(o, "<h2>Fault timeline</h2>\n<p class=\"key\">");
    for (int k = 0; k < SVG_EV_COUNT; k++) {
        sr_buf_printf(o, "<span>%s %s</span>", svg_event_glyph((enum svg_event) k),
                      svg_event_name((enum svg_event) k));
    }
    sr_buf_puts(o, "</p>\n");
    for (i = 0; i < r->nep; i++) {
        ep[i] = (struct svg_episode) { .id = r->ep[i].id, .type = r->ep[i].type,
                                       .target = r->ep[i].target, .colour = r->ep[i].colour,
                                       .end = t1 };
        memcpy(ep[i].at, r->ep[i].at, sizeof ep[i].at);
    }
    svg_timeline(o, "timeline", 0, t1, WIDE, ep, r->nep);
    free(ep);
    sr_buf_puts(o, "<details><summary>every event of faults.jsonl</summary><table id=\"events\">"
                   "<tr><th>t (s)</th><th>event</th><th>#</th><th>type</th><th>target</th>"
                   "<th>seen</th></tr>");
    json_array_foreach(r->events, i, ev) {
        sr_buf_puts(o, "<tr><td class=\"n\">");
        put_num(o, jnum(ev, "t_s"), 3);
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(ev, "event"));
        sr_buf_printf(o, "</td><td class=\"n\">%lld</td><td>",
                      (long long) json_integer_value(json_object_get(ev, "id")));
        esc(o, jstr(ev, "type"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(ev, "target"));
        sr_buf_puts(o, "</td><td>");
        esc(o, json_object_get(ev, "why") ? jstr(ev, "why") : jstr(ev, "seen"));
        sr_buf_puts(o, "</td></tr>");
    }
    sr_buf_puts(o, "</table></details>\n");
    changes_table(o, r);
}

static void
episodes_table(struct sr_buf *o, const struct rep *r)
{
    size_t i;
    json_t *e;

    if (!json_array_size(r->episodes)) {
        return;
    }
    sr_buf_puts(o, "<h3>What each episode did to the services</h3><p class=\"note\">"
                   "While the fault was in place against the same length of time just before "
                   "it (episodes.csv).</p><table id=\"episodes\"><tr><th>#</th><th>type</th>"
                   "<th>target</th><th>status</th><th>healed</th><th>video kbit/s</th>"
                   "<th>web failures</th><th>chat RTT ms</th><th>p2p Mbit/s</th>"
                   "<th>impact</th></tr>");
    json_array_foreach(r->episodes, i, e) {
        static const char *const pairs[][2] = {
            { "video_kbps_before", "video_kbps_during" },
            { "web_fail_before", "web_fail_during" },
            { "chat_rtt_ms_before", "chat_rtt_ms_during" },
            { "p2p_mbps_before", "p2p_mbps_during" },
        };
        json_t *impact = json_object_get(e, "impact");

        sr_buf_printf(o, "<tr><td class=\"n\">%lld</td><td>",
                      (long long) json_integer_value(json_object_get(e, "id")));
        esc(o, jstr(e, "type"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(e, "target"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(e, "status"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(e, "healed"));
        sr_buf_puts(o, "</td>");
        for (size_t p = 0; p < 4; p++) {
            sr_buf_puts(o, "<td class=\"n\">");
            put_num(o, jnum(e, pairs[p][0]), p == 1 ? 2 : 0);
            sr_buf_puts(o, " → ");
            put_num(o, jnum(e, pairs[p][1]), p == 1 ? 2 : 0);
            sr_buf_puts(o, "</td>");
        }
        sr_buf_puts(o, "<td>");
        if (json_is_string(impact)) {
            esc(o, json_string_value(impact));
        } else {
            put_num(o, jnum(e, "impact"), 2);
        }
        sr_buf_puts(o, "</td></tr>");
    }
    sr_buf_puts(o, "</table>\n");
}

static void
plot(struct sr_buf *o, const struct rep *r, const char *id, const char *title, const char *unit,
     const struct svg_series *s, size_t n, double t1, int w, int h, const struct series *ticks,
     const char *ticks_name, double floor_)
{
    struct svg_plot p = { .id = id, .title = title, .unit = unit, .t0 = 0, .t1 = t1,
                          .width = w, .height = h, .series = s, .nseries = n,
                          .bands = r->band, .nbands = r->nband,
                          .ticks = ticks ? ticks->t : NULL, .nticks = ticks ? ticks->n : 0,
                          .ticks_name = ticks_name, .ymax_floor = floor_ };

    svg_plot(o, &p);
}

static void
switches_section(struct sr_buf *o, const struct rep *r, double t1)
{
    static const struct {
        enum metric m;
        const char *what, *unit;
    } M[] = {
        { M_RX, "received", "Mbit/s" },
        { M_DROPS, "drops (receive + transmit)", "packets/s" },
        { M_FLOWS, "flow entries", "flows" },
        { M_LOOKUPS, "table lookups", "packets/s" },
    };
    struct svg_series all = { .name = "all switches", .t = r->total.t, .v = r->total.v,
                              .n = r->total.n };

    sr_buf_puts(o, "<h2>Switches</h2>\n");
    fault_key(o, r);
    plot(o, r, "total", "Traffic received by all switches (sum)", "Mbit/s", &all, 1, t1, WIDE,
         200, NULL, NULL, 0);
    if (!r->ngroup) {
        sr_buf_puts(o, "<p class=\"note\">No fault of this run targets one switch, host or "
                       "link.</p>\n");
    }
    for (size_t g = 0; g < r->ngroup; g++) {
        const struct sw *me = sw_find(r, r->group[g]);
        const char *nb[MAX_NEIGHBOURS];
        size_t nn = neighbours(r, r->group[g], nb, MAX_NEIGHBOURS);
        struct svg_series s[2 + MAX_NEIGHBOURS];

        sr_buf_puts(o, "<h3 id=\"sw-");
        esc(o, r->group[g]);
        sr_buf_puts(o, "\">");
        esc(o, r->group[g]);
        sr_buf_puts(o, ", touched by");
        for (size_t i = 0; i < r->nep; i++) {
            if (touches(r, &r->ep[i], r->group[g])) {
                sr_buf_printf(o, " #%d ", r->ep[i].id);
                esc(o, r->ep[i].type);
            }
        }
        sr_buf_puts(o, "; grey: its neighbours");
        for (size_t k = 0; k < nn; k++) {
            sr_buf_puts(o, k ? ", " : " ");
            esc(o, nb[k]);
        }
        sr_buf_puts(o, "</h3>\n");
        for (size_t m = 0; m < sizeof M / sizeof *M; m++) {
            size_t n = 0;
            char id[96], title[160];

            for (size_t k = 0; k < nn; k++) {
                const struct sw *x = sw_find(r, nb[k]);

                s[n++] = (struct svg_series) { .name = nb[k], .t = x->m[M[m].m].t,
                                               .v = x->m[M[m].m].v, .n = x->m[M[m].m].n,
                                               .thin = true };
            }
            s[n++] = (struct svg_series) { .name = me->name, .t = me->m[M[m].m].t,
                                           .v = me->m[M[m].m].v, .n = me->m[M[m].m].n,
                                           .style = 0 };
            if (M[m].m == M_RX) {
                s[n++] = (struct svg_series) { .name = "sent", .t = me->m[M_TX].t,
                                               .v = me->m[M_TX].v, .n = me->m[M_TX].n,
                                               .style = 1 };
                s[n - 2].name = "received";
            }
            snprintf(id, sizeof id, "sw-%s-%d", me->name, (int) M[m].m);
            snprintf(title, sizeof title, "%s: %s%s", me->name, M[m].what,
                     M[m].m == M_RX ? " and sent" : "");
            plot(o, r, id, title, M[m].unit, s, n, t1, WIDE, 190, NULL, NULL, 0);
        }
    }
    if (r->omitted) {
        sr_buf_printf(o, "<p class=\"note\">%zu more touched switches are not drawn.</p>\n",
                      r->omitted);
    }
}

static void
services_section(struct sr_buf *o, struct rep *r, double t1)
{
    static const struct {
        enum ep_service k;
        const char *name, *what, *unit;
    } S[] = {
        { EP_VIDEO, "video", "bitrate per viewer", "kbit/s" },
        { EP_WEB, "web", "page load time", "ms" },
        { EP_CHAT, "chat", "round-trip time", "ms" },
        { EP_P2P, "p2p", "download throughput", "Mbit/s" },
        { EP_MAIL, "mail", "sending session time", "ms" },
    };

    sr_buf_puts(o, "<h2>Services</h2>\n");
    fault_key(o, r);
    sr_buf_puts(o, "<table id=\"kpis\"><tr><th>service</th><th>KPI</th><th>records</th>"
                   "<th>failures</th><th>median outside faults</th>"
                   "<th>median during faults</th></tr>");
    for (size_t i = 0; i < sizeof S / sizeof *S; i++) {
        struct svc *s = &r->svc[S[i].k];

        sr_buf_printf(o, "<tr><td>%s</td><td>%s (%s)</td><td class=\"n\">%ld</td>"
                         "<td class=\"n\">%zu</td><td class=\"n\">",
                      S[i].name, S[i].what, S[i].unit, s->records, s->fails.n);
        put_num(o, median(&s->out), 1);
        sr_buf_puts(o, "</td><td class=\"n\">");
        put_num(o, median(&s->in), 1);
        sr_buf_puts(o, "</td></tr>");
    }
    sr_buf_puts(o, "</table>\n");
    sr_buf_puts(o, "<h3>Video: bitrate per viewer</h3><p class=\"note\">Red ticks under the "
                   "axis: reports of a stalled stream.</p><div class=\"small\" id=\"video\">");
    for (size_t i = 0; i < r->nviewer; i++) {
        struct viewer *v = &r->viewer[i];
        struct svg_series s = { .name = v->name, .t = v->rate.t, .v = v->rate.v,
                                .n = v->rate.n };
        char id[96], title[96];

        snprintf(id, sizeof id, "video-%s", v->name);
        snprintf(title, sizeof title, "%s", v->name);
        plot(o, r, id, title, "kbit/s", &s, 1, t1, SMALL_W, SMALL_H, &v->stalls, "stalled",
             0);
    }
    sr_buf_puts(o, "</div>\n");
    if (!r->nviewer) {
        sr_buf_puts(o, "<p class=\"note\">No video in this run.</p>\n");
    }
    if (r->viewers_omitted) {
        sr_buf_printf(o, "<p class=\"note\">Only the first %d viewers are drawn; the table "
                         "counts them all.</p>\n",
                      MAX_VIEWERS);
    }
    for (size_t i = 1; i < sizeof S / sizeof *S; i++) {
        struct svc *s = &r->svc[S[i].k];
        struct svg_series one = { .name = S[i].name, .t = s->points.t, .v = s->points.v,
                                  .n = s->points.n, .kind = SVG_POINTS, .style = (int) i };
        char id[64], title[128];

        if (!s->records) {
            continue;
        }
        snprintf(id, sizeof id, "svc-%s", S[i].name);
        snprintf(title, sizeof title, "%s: %s (red ticks: failures)", S[i].name, S[i].what);
        plot(o, r, id, title, S[i].unit, &one, 1, t1, WIDE, 180, &s->fails, "failed", 0);
    }
}

static void
labels_section(struct sr_buf *o, const struct rep *r)
{
    const char *key;
    json_t *v, *g;
    size_t i;

    sr_buf_puts(o, "<h2>Labels, gaps and warnings</h2>\n<table id=\"rows\"><tr><th>table</th>"
                   "<th>rows</th></tr>");
    json_object_foreach(json_object_get(r->man, "rows"), key, v) {
        sr_buf_puts(o, "<tr><td>");
        esc(o, key);
        sr_buf_printf(o, "</td><td class=\"n\">%lld</td></tr>",
                      (long long) json_integer_value(v));
    }
    sr_buf_puts(o, "</table><table id=\"labels\"><tr><th>samples labelled</th><th>rows</th></tr>");
    json_object_foreach(json_object_get(r->man, "rows_per_label"), key, v) {
        sr_buf_puts(o, "<tr><td>");
        esc(o, key);
        sr_buf_printf(o, "</td><td class=\"n\">%lld</td></tr>",
                      (long long) json_integer_value(v));
    }
    sr_buf_puts(o, "</table>\n<h3>Gaps</h3>");
    if (!json_array_size(json_object_get(r->man, "gaps"))) {
        sr_buf_puts(o, "<p>None: every sweep answered.</p>");
    } else {
        sr_buf_puts(o, "<table id=\"gaps\"><tr><th>sweep</th><th>t (s)</th><th>kind</th>"
                       "<th>error</th></tr>");
        json_array_foreach(json_object_get(r->man, "gaps"), i, g) {
            sr_buf_printf(o, "<tr><td class=\"n\">%lld</td><td class=\"n\">",
                          (long long) json_integer_value(json_object_get(g, "sweep")));
            put_num(o, jnum(g, "t_s"), 1);
            sr_buf_puts(o, "</td><td>");
            esc(o, jstr(g, "kind"));
            sr_buf_puts(o, "</td><td>");
            esc(o, jstr(g, "error"));
            sr_buf_puts(o, "</td></tr>");
        }
        sr_buf_puts(o, "</table>");
    }
    sr_buf_puts(o, "\n<h3>Unplanned events and warnings</h3><ul id=\"warnings\">");
    json_array_foreach(r->events, i, g) {
        if (!strncmp(jstr(g, "event"), "unplanned", 9)) {
            sr_buf_puts(o, "<li>");
            put_num(o, jnum(g, "t_s"), 1);
            sr_buf_puts(o, " s: ");
            esc(o, jstr(g, "event"));
            sr_buf_puts(o, " ");
            esc(o, jstr(g, "seen"));
            sr_buf_puts(o, "</li>");
        }
    }
    json_array_foreach(json_object_get(r->man, "warnings"), i, g) {
        sr_buf_puts(o, "<li>");
        esc(o, json_string_value(g) ? json_string_value(g) : "");
        sr_buf_puts(o, "</li>");
    }
    sr_buf_puts(o, "</ul>\n");
}

/* The packet capture ([capture]): interfaces with their packets and the
 * kernel's drops, and the pcap files by window (linked when the page sits
 * in the run directory). */
static void
capture_section(struct sr_buf *o, const struct rep *r, bool links)
{
    json_t *cap = json_object_get(r->man, "capture"), *v;
    long long packets = 0, dropped = 0;
    size_t i;

    if (!cap) {
        return;
    }
    json_array_foreach(json_object_get(cap, "interfaces"), i, v) {
        packets += (long long) json_integer_value(json_object_get(v, "packets"));
        dropped += (long long) json_integer_value(json_object_get(v, "dropped")) +
                   (long long) json_integer_value(json_object_get(v, "if_dropped"));
    }
    sr_buf_printf(o, "<h2 id=\"capture\">Packet capture</h2>\n<p>%zu interfaces, %lld "
                     "packets, %lld dropped by the kernel; snap length %lld bytes",
                  json_array_size(json_object_get(cap, "interfaces")), packets, dropped,
                  (long long) json_integer_value(json_object_get(cap, "snaplen")));
    if (json_string_value(json_object_get(cap, "filter"))) {
        sr_buf_puts(o, "; filter <code>");
        esc(o, jstr(cap, "filter"));
        sr_buf_puts(o, "</code>");
    }
    sr_buf_puts(o, ". Per interface and sweep: <code>capture.csv</code>; flows: "
                   "<code>pflows.csv</code>.</p>\n<table id=\"capture-interfaces\"><tr>"
                   "<th>interface</th><th>host</th><th>switch port</th><th>packets</th>"
                   "<th>dropped</th></tr>");
    json_array_foreach(json_object_get(cap, "interfaces"), i, v) {
        sr_buf_puts(o, "<tr><td>");
        esc(o, jstr(v, "name"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(v, "host"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(v, "switch"));
        sr_buf_printf(o, ":%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td></tr>",
                      (long long) json_integer_value(json_object_get(v, "port")),
                      (long long) json_integer_value(json_object_get(v, "packets")),
                      (long long) (json_integer_value(json_object_get(v, "dropped")) +
                                   json_integer_value(json_object_get(v, "if_dropped"))));
    }
    sr_buf_puts(o, "</table>\n<table id=\"capture-files\"><tr><th>window</th><th>interface</th>"
                   "<th>packets</th><th>pcap file</th></tr>");
    json_array_foreach(json_object_get(cap, "files"), i, v) {
        sr_buf_puts(o, "<tr><td>");
        esc(o, jstr(v, "window"));
        sr_buf_puts(o, "</td><td>");
        esc(o, jstr(v, "interface"));
        sr_buf_printf(o, "</td><td class=\"n\">%lld</td><td>",
                      (long long) json_integer_value(json_object_get(v, "packets")));
        if (links) {
            sr_buf_puts(o, "<a href=\"");
            esc(o, jstr(v, "file"));
            sr_buf_puts(o, "\">");
        }
        esc(o, jstr(v, "file"));
        sr_buf_puts(o, links ? "</a>" : "");
        if (json_is_false(json_object_get(v, "complete"))) {
            sr_buf_puts(o, " (incomplete: a write failed)");
        }
        sr_buf_puts(o, "</td></tr>");
    }
    sr_buf_puts(o, "</table>\n");
}

static void
score_section(struct sr_buf *o, const struct rep *r)
{
    json_t *h = json_object_get(r->score, "headline"), *labels, *conf, *row, *v;
    const char *key;
    size_t i, k;

    if (!h) {
        return;
    }
    labels = json_object_get(h, "labels");
    conf = json_object_get(h, "confusion");
    sr_buf_puts(o, "<h2>Diagnoser score</h2>\n<p id=\"score\">");
    sr_buf_printf(o, "%lld answers, %lld unanswered; accuracy ",
                  (long long) json_integer_value(json_object_get(h, "answers")),
                  (long long) json_integer_value(json_object_get(h, "unanswered")));
    put_num(o, 100 * jnum(h, "accuracy"), 1);
    sr_buf_puts(o, " %, macro-F1 ");
    put_num(o, 100 * jnum(h, "macro_f1"), 1);
    sr_buf_puts(o, " %.</p><table id=\"per-label\"><tr><th>label</th><th>precision</th>"
                   "<th>recall</th><th>F1</th><th>support</th></tr>");
    json_object_foreach(json_object_get(h, "per_label"), key, v) {
        sr_buf_puts(o, "<tr><td>");
        esc(o, key);
        sr_buf_puts(o, "</td><td class=\"n\">");
        put_num(o, jnum(v, "precision"), 3);
        sr_buf_puts(o, "</td><td class=\"n\">");
        put_num(o, jnum(v, "recall"), 3);
        sr_buf_puts(o, "</td><td class=\"n\">");
        put_num(o, jnum(v, "f1"), 3);
        sr_buf_printf(o, "</td><td class=\"n\">%lld</td></tr>",
                      (long long) json_integer_value(json_object_get(v, "support")));
    }
    sr_buf_puts(o, "</table><h3>Confusion matrix (rows: truth, columns: answer)</h3>"
                   "<table id=\"confusion\"><tr><th></th>");
    json_array_foreach(labels, i, v) {
        sr_buf_puts(o, "<th>");
        esc(o, json_string_value(v) ? json_string_value(v) : "");
        sr_buf_puts(o, "</th>");
    }
    sr_buf_puts(o, "</tr>");
    json_array_foreach(conf, i, row) {
        sr_buf_puts(o, "<tr><th>");
        esc(o, json_string_value(json_array_get(labels, i)) ?
               json_string_value(json_array_get(labels, i)) : "");
        sr_buf_puts(o, "</th>");
        json_array_foreach(row, k, v) {
            sr_buf_printf(o, "<td class=\"n\"%s>%lld</td>",
                          i == k ? " style=\"font-weight:bold\"" : "",
                          (long long) json_integer_value(v));
        }
        sr_buf_puts(o, "</tr>");
    }
    sr_buf_puts(o, "</table>\n");
}

int
report_render(const char *dir, const struct report_opts *opts, struct sr_buf *o,
              struct sr_error *err)
{
    struct rep r = { .dir = dir };
    struct sr_error soft = { 0 };
    double t1;

    if (load(&r, err) < 0) {
        rep_free(&r);
        return -1;
    }
    /* The x axis: the whole run, to a round number of seconds. */
    t1 = ceil(fmax(r.t_end, 1) / 5) * 5;
    sr_buf_puts(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (opts && opts->refresh_s > 0) {
        sr_buf_printf(o, "<meta http-equiv=\"refresh\" content=\"%d\">\n", opts->refresh_s);
    }
    sr_buf_puts(o, "<title>simrun: ");
    esc(o, jstr(json_object_get(r.man, "scenario"), "name"));
    sr_buf_printf(o, " seed %lld</title>\n<style>%s</style></head><body>\n",
                  (long long) json_integer_value(json_object_get(r.man, "seed")), CSS);
    header(o, &r);
    sr_buf_puts(o, "<p>Contents: <a href=\"#topology\">topology</a> · "
                   "<a href=\"#timeline\">fault timeline</a> · <a href=\"#total\">switches</a> · "
                   "<a href=\"#kpis\">services</a> · <a href=\"#rows\">labels, gaps, warnings</a>");
    if (json_object_get(r.man, "capture")) {
        sr_buf_puts(o, " · <a href=\"#capture\">packet capture</a>");
    }
    if (r.score) {
        sr_buf_puts(o, " · <a href=\"#score\">diagnoser score</a>");
    }
    sr_buf_puts(o, "</p>\n");
    topology_section(o, &r, &soft);
    timeline_section(o, &r, t1);
    episodes_table(o, &r);
    switches_section(o, &r, t1);
    services_section(o, &r, t1);
    labels_section(o, &r);
    capture_section(o, &r, opts && opts->links);
    score_section(o, &r);
    sr_buf_puts(o, "<p class=\"note\">Written by simrun ");
    esc(o, SIMRUN_VERSION);
    sr_buf_puts(o, " (simrun report) from the files of the run directory; every number is "
                   "computed from all the data, the curves are thinned for drawing only.</p>\n"
                   "</body></html>\n");
    rep_free(&r);
    return 0;
}
