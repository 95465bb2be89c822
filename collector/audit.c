/* The shortcut audit (audit.h). */
#include "audit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rundir.h"
#include "util.h"

struct au_feature {
    char *name;
    bool shape;               /* a rule shape's count (0 where absent), else a column */
    double *v;                /* per sweep; NAN: no value */
    size_t n, cap;
};

struct au_audit {
    json_t *index;            /* feature name -> its index in 'f' */
    struct au_feature *f;
    size_t nf, capf;
    char **label;             /* per sweep: its fault type, "normal", or NULL (left out) */
    size_t nsweeps, capsweeps;
};

struct au_audit *
au_new(void)
{
    struct au_audit *a = xcalloc(1, sizeof *a);

    a->index = json_object();
    return a;
}

void
au_free(struct au_audit *a)
{
    if (!a) {
        return;
    }
    for (size_t i = 0; i < a->nf; i++) {
        free(a->f[i].name);
        free(a->f[i].v);
    }
    for (size_t i = 0; i < a->nsweeps; i++) {
        free(a->label[i]);
    }
    free(a->f);
    free(a->label);
    json_decref(a->index);
    free(a);
}

static struct au_feature *
feature(struct au_audit *a, const char *name, bool shape)
{
    json_t *k = json_object_get(a->index, name);

    if (k) {
        return &a->f[json_integer_value(k)];
    }
    xgrow((void **) &a->f, &a->capf, a->nf + 1, sizeof *a->f);
    a->f[a->nf] = (struct au_feature) { .name = xstrdup(name), .shape = shape };
    json_object_set_new(a->index, name, json_integer((json_int_t) a->nf));
    return &a->f[a->nf++];
}

static double
value_at(const struct au_feature *f, size_t s)
{
    return s < f->n ? f->v[s] : f->shape ? 0 : NAN;
}

static double *
slot(struct au_feature *f, size_t s)
{
    if (s >= f->n) {
        xgrow((void **) &f->v, &f->cap, s + 1, sizeof *f->v);
        for (size_t i = f->n; i <= s; i++) {
            f->v[i] = f->shape ? 0 : NAN;
        }
        f->n = s + 1;
    }
    return &f->v[s];
}

/* Adds 'x' to column feature 'name' of sweep 's' as its sum and max. */
static void
add_column(struct au_audit *a, const char *table, const char *col, size_t s, double x)
{
    char name[160];
    double *v;

    snprintf(name, sizeof name, "%s.%s (sum)", table, col);
    v = slot(feature(a, name, false), s);
    *v = isnan(*v) ? x : *v + x;
    snprintf(name, sizeof name, "%s.%s (max)", table, col);
    v = slot(feature(a, name, false), s);
    *v = isnan(*v) || x > *v ? x : *v;
}

static void
count_shape(struct au_audit *a, const char *name, size_t s)
{
    *slot(feature(a, name, true), s) += 1;
}

/* Columns that say where and when a row is, or its truth: never features. */
static bool
skipped(const char *col)
{
    static const char *const skip[] = { "t_s",           "sweep",        "late_ms",  "dt_s",
                                        "fault_id",      "since_onset_s", "on_target",
                                        "fault_effect",  "port",         "table",    "priority",
                                        "cookie",        "idle_timeout", "hard_timeout",
                                        "duration_s",    NULL };

    for (size_t i = 0; skip[i]; i++) {
        if (!strcmp(col, skip[i])) {
            return true;
        }
    }
    return false;
}

/* The sweep a row belongs to, by its run and sweep number ('sweeps' maps
 * "run\tsweep" to the index); new sweeps are added when 'create'. */
static bool
sweep_of(struct au_audit *a, json_t *sweeps, json_t *row, bool create, size_t *s)
{
    json_t *sw = json_object_get(row, "sweep"), *k;
    const char *run = json_string_value(json_object_get(row, "run"));
    char key[200];

    if (!json_is_integer(sw)) {
        return false;
    }
    snprintf(key, sizeof key, "%s\t%lld", run ? run : "", (long long) json_integer_value(sw));
    k = json_object_get(sweeps, key);
    if (k) {
        *s = (size_t) json_integer_value(k);
        return true;
    }
    if (!create) {
        return false;
    }
    xgrow((void **) &a->label, &a->capsweeps, a->nsweeps + 1, sizeof *a->label);
    {
        const char *label = json_string_value(json_object_get(row, "label"));
        const char *phase = json_string_value(json_object_get(row, "fault_phase"));
        bool normal = label && !strcmp(label, "normal") && phase && !strcmp(phase, "normal");
        bool active = label && strcmp(label, "normal") && phase && !strcmp(phase, "active");

        /* Recovery, a failed or healed fault: the truth is mixed there. */
        a->label[a->nsweeps] = normal || active ? xstrdup(label) : NULL;
    }
    json_object_set_new(sweeps, key, json_integer((json_int_t) a->nsweeps));
    *s = a->nsweeps++;
    return true;
}

static void
add_columns(struct au_audit *a, const char *table, json_t *row, size_t s)
{
    const char *col;
    json_t *v;

    json_object_foreach(row, col, v) {
        if (json_is_number(v) && !skipped(col)) {
            add_column(a, table, col, s, json_number_value(v));
        }
    }
}

/* The kinds of a flow's actions, "drop" for none: "METER+OUTPUT". */
static void
action_kinds(const char *actions, char *out, size_t size)
{
    const char *p = actions;
    size_t used = 0;

    out[0] = '\0';
    while (*p) {
        size_t n = strcspn(p, ":,");
        char kind[32];

        snprintf(kind, sizeof kind, "%.*s", (int) (n < 31 ? n : 31), p);
        if (!strstr(out, kind)) {
            int w = snprintf(out + used, size - used, "%s%s", used ? "+" : "", kind);

            used += w > 0 && (size_t) w < size - used ? (size_t) w : 0;
        }
        p += strcspn(p, ",");
        p += *p == ',';
    }
    if (!out[0]) {
        snprintf(out, size, "drop");
    }
}

/* Counts the shapes of one flow row in sweep 's'. */
static void
add_flow(struct au_audit *a, json_t *row, size_t s)
{
    const char *match = json_string_value(json_object_get(row, "match"));
    const char *actions = json_string_value(json_object_get(row, "actions"));
    json_t *m = match ? json_loads(match, 0, NULL) : NULL, *v;
    char fields[200] = "", kinds[120], name[400];
    const char *key;
    size_t used = 0;

    json_object_foreach(m, key, v) {
        int w = snprintf(fields + used, sizeof fields - used, "%s%s", used ? "+" : "", key);

        used += w > 0 && (size_t) w < sizeof fields - used ? (size_t) w : 0;
        if (!strcmp(key, "dl_type") || !strcmp(key, "tp_dst") || !strcmp(key, "nw_proto")) {
            snprintf(name, sizeof name, "flows: match %s=%lld", key,
                     (long long) json_integer_value(v));
            count_shape(a, name, s);
        }
    }
    action_kinds(actions ? actions : "", kinds, sizeof kinds);
    count_shape(a, "flows: all", s);
    if (json_object_get(m, "in_port")) {
        count_shape(a, "flows: matching in_port", s);
    }
    snprintf(name, sizeof name, "flows: match on %s", used ? fields : "nothing");
    count_shape(a, name, s);
    snprintf(name, sizeof name, "flows: actions %s", kinds);
    count_shape(a, name, s);
    snprintf(name, sizeof name, "flows: %s -> %s", used ? fields : "*", kinds);
    count_shape(a, name, s);
    if (json_integer_value(json_object_get(row, "idle_timeout")) > 0) {
        count_shape(a, "flows: idle time-out set", s);
    }
    if (json_integer_value(json_object_get(row, "hard_timeout")) > 0) {
        count_shape(a, "flows: hard time-out set", s);
    }
    v = json_object_get(row, "cookie");
    if (json_is_integer(v) || json_is_string(v)) {
        /* A cookie above 2^63 comes back as its digits: its top 16 bits
         * are the application's number. */
        unsigned long long c = json_is_integer(v) ? (unsigned long long) json_integer_value(v)
                                                  : strtoull(json_string_value(v), NULL, 10);

        snprintf(name, sizeof name, "flows: cookie application 0x%04llx", c >> 48);
        count_shape(a, name, s);
    }
    snprintf(name, sizeof name, "flows: priority %lld",
             (long long) json_integer_value(json_object_get(row, "priority")));
    count_shape(a, name, s);
    snprintf(name, sizeof name, "flows: table %lld",
             (long long) json_integer_value(json_object_get(row, "table")));
    count_shape(a, name, s);
    json_decref(m);
}

/* Reads table 'table' of 'dir' into the audit: samples first (they say
 * which sweeps there are and their labels). */
static int
add_table(struct au_audit *a, const char *dir, const char *table, json_t *sweeps,
          struct sr_error *err)
{
    struct rd_rows *r = rd_rows_open(dir, table, err);
    json_t *row;
    bool samples = !strcmp(table, "samples");

    if (!r) {
        return -err->code;
    }
    while ((row = rd_rows_next(r)) != NULL) {
        size_t s;

        if (sweep_of(a, sweeps, row, samples, &s)) {
            if (!strcmp(table, "flows")) {
                add_flow(a, row, s);
            } else {
                add_columns(a, table, row, s);
            }
        }
        json_decref(row);
    }
    if (rd_rows_error(r)) {
        *err = *rd_rows_error(r);
        rd_rows_close(r);
        return -err->code;
    }
    rd_rows_close(r);
    return 0;
}

int
au_add_run(struct au_audit *a, const char *dir, struct sr_error *err)
{
    static const char *const tables[] = { "samples", "ports", "flows" };
    json_t *sweeps = json_object();
    size_t first = a->nsweeps;
    int rc = 0;

    for (size_t i = 0; i < SR_ARRAY_SIZE(tables) && rc == 0; i++) {
        if (i == 0 || rd_rows_exist(dir, tables[i])) {
            rc = add_table(a, dir, tables[i], sweeps, err);
        }
    }
    /* A shape absent from a whole run counts 0 there, not "no value". */
    for (size_t k = 0; rc == 0 && k < a->nf; k++) {
        if (a->f[k].shape && a->nsweeps > first) {
            (void) slot(&a->f[k], a->nsweeps - 1);
        }
    }
    json_decref(sweeps);
    if (rc < 0) {
        sr_error_prefix(err, "%s", dir);
    }
    return rc;
}

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *) x, b = *(const double *) y;

    return a < b ? -1 : a > b;
}

struct finding {
    const struct au_feature *f;
    const char *test;
    double value, precision, recall;
};

/* The best single test of feature 'f' for 'type' against normal, in '*out'
 * when one reaches the bars. */
static bool
best_test(const struct au_audit *a, const struct au_feature *f, const char *type, double minp,
          double minr, double *tv, double *nv, struct finding *out)
{
    size_t nt = 0, nn = 0, nt_all = 0, need;
    struct finding best = { 0 };

    for (size_t s = 0; s < a->nsweeps; s++) {
        double x = value_at(f, s);

        if (!a->label[s]) {
            continue;
        }
        if (!strcmp(a->label[s], type)) {
            nt_all++;
            if (!isnan(x)) {
                tv[nt++] = x;
            }
        } else if (!strcmp(a->label[s], "normal") && !isnan(x)) {
            nv[nn++] = x;
        }
    }
    need = (size_t) ceil(minr * (double) nt_all);
    if (!nt_all || need > nt || need == 0) {
        return false;
    }
    qsort(tv, nt, sizeof *tv, cmp_double);
    if (f->shape) {
        /* The plainest shortcut: a flow of this shape is there at all. */
        size_t pt = 0, pn = 0;

        for (size_t i = 0; i < nt; i++) {
            pt += tv[i] >= 1;
        }
        for (size_t i = 0; i < nn; i++) {
            pn += nv[i] >= 1;
        }
        if (pt && (double) pt / (double) (pt + pn) >= minp &&
            (double) pt / (double) nt_all >= minr) {
            *out = (struct finding) { f, "present", 1, (double) pt / (double) (pt + pn),
                                      (double) pt / (double) nt_all };
            return true;
        }
    }
    for (int t = 0; t < 3; t++) {
        /* >=: as many of T's sweeps as recall needs, the highest values;
         * <=: the lowest; ==: T's most frequent value. */
        double theta = t == 0 ? tv[nt - need] : t == 1 ? tv[need - 1] : tv[0];
        size_t pt = 0, pn = 0;

        if (t == 2) {
            size_t run = 1, most = 0;

            for (size_t i = 1; i <= nt; i++) {
                if (i < nt && tv[i] == tv[i - 1]) {
                    run++;
                    continue;
                }
                if (run > most) {
                    most = run;
                    theta = tv[i - 1];
                }
                run = 1;
            }
        }
        for (size_t i = 0; i < nt; i++) {
            pt += t == 0 ? tv[i] >= theta : t == 1 ? tv[i] <= theta : tv[i] == theta;
        }
        for (size_t i = 0; i < nn; i++) {
            pn += t == 0 ? nv[i] >= theta : t == 1 ? nv[i] <= theta : nv[i] == theta;
        }
        {
            double p = pt + pn ? (double) pt / (double) (pt + pn) : 0;
            double r = (double) pt / (double) nt_all;

            if (p >= minp && r >= minr &&
                (!best.test || p > best.precision ||
                 (p == best.precision && r > best.recall))) {
                best = (struct finding) { f, t == 0 ? ">=" : t == 1 ? "<=" : "==", theta, p, r };
            }
        }
    }
    if (best.test) {
        *out = best;
    }
    return best.test != NULL;
}

static int
cmp_finding(const void *x, const void *y)
{
    const struct finding *a = x, *b = y;
    bool ap = !strcmp(a->test, "present"), bp = !strcmp(b->test, "present");

    if (ap != bp) {
        return ap ? -1 : 1;
    }
    if (a->precision != b->precision) {
        return a->precision > b->precision ? -1 : 1;
    }
    if (a->recall != b->recall) {
        return a->recall > b->recall ? -1 : 1;
    }
    return strcmp(a->f->name, b->f->name);
}

json_t *
au_result(const struct au_audit *a, double minp, double minr, size_t max_each)
{
    json_t *out = json_object(), *counts = json_object(), *shortcuts = json_object();
    double *tv = xcalloc(a->nsweeps + 1, sizeof *tv), *nv = xcalloc(a->nsweeps + 1, sizeof *nv);
    struct finding *found = xcalloc(a->nf + 1, sizeof *found);

    for (size_t s = 0; s < a->nsweeps; s++) {
        if (a->label[s]) {
            json_t *c = json_object_get(counts, a->label[s]);

            json_object_set_new(counts, a->label[s],
                                json_integer(c ? json_integer_value(c) + 1 : 1));
        }
    }
    {
        const char *type;
        json_t *c;

        json_object_foreach(counts, type, c) {
            json_t *list;
            size_t n = 0;

            if (!strcmp(type, "normal")) {
                continue;
            }
            list = json_array();
            for (size_t k = 0; k < a->nf; k++) {
                n += best_test(a, &a->f[k], type, minp, minr, tv, nv, &found[n]);
            }
            qsort(found, n, sizeof *found, cmp_finding);
            for (size_t i = 0; i < n && i < max_each; i++) {
                json_array_append_new(
                    list, json_pack("{s:s, s:s, s:s, s:f, s:f, s:f}", "feature", found[i].f->name,
                                    "kind", found[i].f->shape ? "rule shape" : "column", "test",
                                    found[i].test, "value", found[i].value, "precision",
                                    found[i].precision, "recall", found[i].recall));
            }
            json_object_set_new(shortcuts, type, list);
        }
    }
    json_object_set_new(out, "sweeps", counts);
    json_object_set_new(out, "features", json_integer((json_int_t) a->nf));
    json_object_set_new(out, "min_precision", json_real(minp));
    json_object_set_new(out, "min_recall", json_real(minr));
    json_object_set_new(out, "shortcuts", shortcuts);
    free(found);
    free(tv);
    free(nv);
    return out;
}
