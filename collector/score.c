#include "score.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "rundir.h"
#include "util.h"

/* The labels of the confusion matrix, in a stable order: "normal" first,
 * then the others sorted. */
struct labels {
    const char **name;
    size_t n, cap;
};

static int
label_index(struct labels *l, const char *name, bool add)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->name[i], name)) {
            return (int) i;
        }
    }
    if (!add) {
        return -1;
    }
    xgrow((void **) &l->name, &l->cap, l->n + 1, sizeof *l->name);
    l->name[l->n++] = name;
    return (int) l->n - 1;
}

static int
cmp_label(const void *a, const void *b)
{
    const char *x = *(const char *const *) a, *y = *(const char *const *) b;
    int xn = !strcmp(x, "normal"), yn = !strcmp(y, "normal");

    return xn || yn ? yn - xn : strcmp(x, y);
}

static bool
headline(const struct sc_answer *a)
{
    return !strcmp(a->phase, "normal") || !strcmp(a->phase, "active");
}

/* A target names the same thing: equal, or a link "x-y" written "y-x"
 * (switch and host names hold no '-'). */
static bool
same_target(const char *a, const char *b)
{
    const char *da = strchr(a, '-'), *db = strchr(b, '-');
    size_t a1, b1;

    if (!strcmp(a, b)) {
        return true;
    }
    if (!da || !db) {
        return false;
    }
    a1 = (size_t) (da - a);
    b1 = (size_t) (db - b);
    return strlen(da + 1) == b1 && strlen(db + 1) == a1 && !strncmp(a, db + 1, a1) &&
           !strncmp(b, da + 1, b1);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static json_t *
num_or_null(double v, int decimals)
{
    double f = pow(10, decimals);

    return isfinite(v) ? json_real(round(v * f) / f) : json_null();
}

/* The confusion matrix and per-label figures of the answers 'pick' takes. */
static json_t *
table(const struct sc_answer *ans, size_t n, bool (*pick)(const struct sc_answer *),
      bool want)
{
    struct labels l = { 0 };
    long *cm, total = 0, correct = 0, unanswered = 0;
    json_t *out = json_object(), *per = json_object(), *matrix = json_array(), *names;
    double f1sum = 0;
    size_t nf1 = 0;

    for (size_t i = 0; i < n; i++) {
        if (pick(&ans[i]) == want) {
            label_index(&l, ans[i].truth, true);
            if (ans[i].label) {
                label_index(&l, ans[i].label, true);
            }
        }
    }
    if (l.n) {
        qsort(l.name, l.n, sizeof *l.name, cmp_label);
    }
    cm = xcalloc(l.n * l.n + 1, sizeof *cm);
    for (size_t i = 0; i < n; i++) {
        if (pick(&ans[i]) != want) {
            continue;
        }
        if (!ans[i].label) {
            unanswered++;
            continue;
        }
        cm[label_index(&l, ans[i].truth, false) * (int) l.n + label_index(&l, ans[i].label, false)]++;
        total++;
        correct += !strcmp(ans[i].truth, ans[i].label);
    }
    names = json_array();
    for (size_t r = 0; r < l.n; r++) {
        json_t *row = json_array();
        long tp = cm[r * l.n + r], fp = 0, fn = 0, support = 0;
        double p, rc, f1;

        json_array_append_new(names, json_string(l.name[r]));
        for (size_t c = 0; c < l.n; c++) {
            json_array_append_new(row, json_integer(cm[r * l.n + c]));
            support += cm[r * l.n + c];
            if (c != r) {
                fp += cm[c * l.n + r];
                fn += cm[r * l.n + c];
            }
        }
        json_array_append_new(matrix, row);
        /* Undefined ratios count as 0, as scikit-learn's zero_division=0. */
        p = tp + fp ? (double) tp / (double) (tp + fp) : 0;
        rc = tp + fn ? (double) tp / (double) (tp + fn) : 0;
        f1 = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
        f1sum += f1;
        nf1++;
        json_object_set_new(per, l.name[r],
                            json_pack("{s:o, s:o, s:o, s:I}", "precision", num_or_null(p, 4),
                                      "recall", num_or_null(rc, 4), "f1", num_or_null(f1, 4),
                                      "support", (json_int_t) support));
    }
    json_object_set_new(out, "answers", json_integer(total));
    json_object_set_new(out, "unanswered", json_integer(unanswered));
    json_object_set_new(out, "accuracy",
                        num_or_null(total ? (double) correct / (double) total : NAN, 4));
    json_object_set_new(out, "macro_f1", num_or_null(nf1 ? f1sum / (double) nf1 : NAN, 4));
    json_object_set_new(out, "per_label", per);
    json_object_set_new(out, "labels", names);
    json_object_set_new(out, "confusion", matrix);
    free(cm);
    free(l.name);
    return out;
}

json_t *
sc_score(const struct sc_answer *ans, size_t n, const struct sc_episode *eps, size_t nep,
         double every_s)
{
    json_t *out = json_object(), *head = table(ans, n, headline, true);
    json_t *apart = table(ans, n, headline, false), *episodes = json_array();
    double *delays = xcalloc(nep + 1, sizeof *delays);
    size_t ndelays = 0, normal = 0, alarms = 0, loc_n = 0, loc_ok = 0;

    /* The time between windows, for how long the run was normal. */
    if (every_s <= 0 && n > 1) {
        double *gaps = xcalloc(n, sizeof *gaps);

        for (size_t i = 1; i < n; i++) {
            gaps[i - 1] = ans[i].to_s - ans[i - 1].to_s;
        }
        qsort(gaps, n - 1, sizeof *gaps, cmp_double);
        every_s = gaps[(n - 2) / 2];
        free(gaps);
    }
    for (size_t i = 0; i < n; i++) {
        const struct sc_answer *a = &ans[i];

        if (!strcmp(a->phase, "normal")) {
            normal++;
            alarms += a->label && strcmp(a->label, "normal");
        }
        if (headline(a) && a->label && strcmp(a->truth, "normal") &&
            !strcmp(a->label, a->truth) && a->target && *a->target) {
            loc_n++;
            loc_ok += same_target(a->target, a->truth_target);
        }
    }
    for (size_t e = 0; e < nep; e++) {
        double delay = NAN;

        for (size_t i = 0; i < n; i++) {
            const struct sc_answer *a = &ans[i];

            if (a->fault_id == eps[e].id && a->label && !strcmp(a->label, eps[e].type) &&
                a->to_s >= eps[e].inject_s) {
                delay = a->to_s - eps[e].inject_s;
                break;
            }
        }
        if (isfinite(delay)) {
            delays[ndelays++] = delay;
        }
        json_array_append_new(episodes, json_pack("{s:i, s:s, s:s, s:o, s:o}", "id", eps[e].id,
                                                  "type", eps[e].type, "target",
                                                  eps[e].target ? eps[e].target : "",
                                                  "inject_s", num_or_null(eps[e].inject_s, 3),
                                                  "delay_s", num_or_null(delay, 3)));
    }
    if (ndelays) {
        qsort(delays, ndelays, sizeof *delays, cmp_double);
    }
    json_object_set_new(out, "headline", head);
    json_object_set_new(out, "apart", apart);
    json_object_set_new(
        out, "detection",
        json_pack("{s:I, s:I, s:o, s:o, s:o}", "episodes", (json_int_t) nep, "detected",
                  (json_int_t) ndelays, "delay_p50_s",
                  num_or_null(ndelays ? delays[(ndelays - 1) / 2] : NAN, 3), "delay_p95_s",
                  num_or_null(ndelays ? delays[(size_t) ceil(0.95 * (double) ndelays) - 1] : NAN,
                              3),
                  "per_episode", episodes));
    json_object_set_new(out, "localisation",
                        json_pack("{s:I, s:o}", "answers", (json_int_t) loc_n, "accuracy",
                                  num_or_null(loc_n ? (double) loc_ok / (double) loc_n : NAN,
                                              4)));
    json_object_set_new(out, "false_alarms",
                        json_pack("{s:I, s:o, s:o}", "count", (json_int_t) alarms,
                                  "normal_hours",
                                  num_or_null((double) normal * every_s / 3600.0, 4),
                                  "per_hour",
                                  num_or_null(normal ? (double) alarms /
                                                           ((double) normal * every_s / 3600.0)
                                                     : NAN,
                                              2)));
    json_object_set_new(out, "every_s", num_or_null(every_s, 3));
    free(delays);
    return out;
}

/* 'v' with 'decimals' decimals, "-" when it is not a number.  A double
 * in %f can take 310 characters before its point: 'buf' holds FMT_MAX. */
#define FMT_MAX 600

static const char *
fmt(const json_t *v, char *buf, unsigned char decimals)
{
    if (!json_is_number(v)) {
        return "-";
    }
    snprintf(buf, FMT_MAX, "%.*f", decimals, json_number_value(v));
    return buf;
}

static void
print_table(const json_t *t, const char *title, FILE *out)
{
    const json_t *labels = json_object_get(t, "labels"), *cm = json_object_get(t, "confusion");
    const json_t *per = json_object_get(t, "per_label"), *v, *row;
    char a[FMT_MAX], b[FMT_MAX], c[FMT_MAX];
    size_t i, j;

    fprintf(out, "%s: %lld answers (%lld unanswered), accuracy %s, macro-F1 %s\n", title,
            (long long) json_integer_value(json_object_get(t, "answers")),
            (long long) json_integer_value(json_object_get(t, "unanswered")),
            fmt(json_object_get(t, "accuracy"), a, 4),
            fmt(json_object_get(t, "macro_f1"), b, 4));
    if (!json_array_size(labels)) {
        return;
    }
    fprintf(out, "  %-4s %-22s %9s %7s %7s %8s\n", "", "label", "precision", "recall", "f1",
            "support");
    json_array_foreach(labels, i, v) {
        const json_t *p = json_object_get(per, json_string_value(v));

        fprintf(out, "  [%-2zu] %-22s %9s %7s %7s %8lld\n", i, json_string_value(v),
                fmt(json_object_get(p, "precision"), a, 3),
                fmt(json_object_get(p, "recall"), b, 3),
                fmt(json_object_get(p, "f1"), c, 3),
                (long long) json_integer_value(json_object_get(p, "support")));
    }
    fprintf(out, "  confusion (rows: truth, columns: answer, by the numbers above)\n  %-6s", "");
    for (i = 0; i < json_array_size(labels); i++) {
        fprintf(out, " %5zu", i);
    }
    fputc('\n', out);
    json_array_foreach(cm, i, row) {
        fprintf(out, "  [%-2zu]  ", i);
        json_array_foreach(row, j, v) {
            fprintf(out, " %5lld", (long long) json_integer_value(v));
        }
        fputc('\n', out);
    }
}

void
sc_print(const json_t *score, FILE *out)
{
    const json_t *d = json_object_get(score, "detection"), *l = json_object_get(score, "localisation");
    const json_t *fa = json_object_get(score, "false_alarms");
    char a[FMT_MAX], b[FMT_MAX], c[FMT_MAX];

    print_table(json_object_get(score, "headline"), "headline (truth normal or an active fault)",
                out);
    fprintf(out, "detection: %lld of %lld episodes, delay p50 %s s, p95 %s s\n",
            (long long) json_integer_value(json_object_get(d, "detected")),
            (long long) json_integer_value(json_object_get(d, "episodes")),
            fmt(json_object_get(d, "delay_p50_s"), a, 1),
            fmt(json_object_get(d, "delay_p95_s"), b, 1));
    fprintf(out, "localisation: %s of %lld answers of the right type named the right target\n",
            fmt(json_object_get(l, "accuracy"), a, 3),
            (long long) json_integer_value(json_object_get(l, "answers")));
    fprintf(out, "false alarms: %lld in %s hours of normal (%s per hour)\n",
            (long long) json_integer_value(json_object_get(fa, "count")),
            fmt(json_object_get(fa, "normal_hours"), b, 3),
            fmt(json_object_get(fa, "per_hour"), c, 1));
    print_table(json_object_get(score, "apart"),
                "apart (truth healed, recovery or failed; not in the headline)", out);
}

/* ---- reading a run ---- */

struct answers {
    struct sc_answer *a;
    size_t n, cap;
    json_t *keep;             /* owns the strings the answers point at */
};

static void
add_answer(struct answers *as, const struct sc_answer *a)
{
    xgrow((void **) &as->a, &as->cap, as->n + 1, sizeof *as->a);
    as->a[as->n++] = *a;
}

static const char *
str(const json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? v : dflt;
}

/* diagnoses.jsonl: answers with their truth. */
static int
read_jsonl(const char *path, struct answers *as, struct sr_error *err)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    int n = 0;

    if (!f) {
        return sr_error_set(err, SR_ENOTFOUND, "cannot read '%s': %s", path, strerror(errno));
    }
    while (fgets(line, sizeof line, f)) {
        json_t *r = json_loads(line, 0, NULL), *t;
        struct sc_answer a;

        n++;
        t = json_object_get(r, "truth");
        if (!json_is_object(r) || !json_is_object(t) || !json_is_number(json_object_get(r, "to_s"))) {
            json_decref(r);
            fclose(f);
            return sr_error_set(err, SR_EINVAL, "%s:%d: not a diagnosis record (seq, to_s, "
                                "label, truth)", path, n);
        }
        json_array_append_new(as->keep, r);
        a = (struct sc_answer) { json_number_value(json_object_get(r, "to_s")),
                                 json_string_value(json_object_get(r, "label")),
                                 json_string_value(json_object_get(r, "target")),
                                 str(t, "label", "normal"), str(t, "target", ""),
                                 str(t, "phase", "normal"),
                                 (int) json_integer_value(json_object_get(t, "fault_id")) };
        add_answer(as, &a);
    }
    fclose(f);
    return 0;
}

/* The truth of every sweep, from samples rows: time -> label. */
struct truth_at {
    double *t;
    json_t **row;             /* one samples row of that sweep (owned) */
    size_t n, cap;
};

static const json_t *
truth_of(const struct truth_at *ta, double t)
{
    const json_t *best = NULL;

    for (size_t i = 0; i < ta->n && ta->t[i] <= t + 1e-6; i++) {
        best = ta->row[i];
    }
    return best;
}

static double
time_of(const char *s, double started)
{
    double v;
    struct tm tm = { 0 };
    const char *rest;

    if (sr_parse_double(s, &v)) {
        return v;
    }
    rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) {
        return NAN;
    }
    v = (double) timegm(&tm);
    if (*rest == '.') {
        v += strtod(rest, NULL);
    }
    return v - started;
}

/* A CSV 'time,label[,target]' whose truth is in the run's samples. */
static int
read_csv(const char *rundir, const char *path, struct answers *as, struct sr_error *err)
{
    struct sr_error e = { 0 };
    struct rd_rows *rows = rd_rows_open(rundir, "samples", err);
    struct truth_at ta = { 0 };
    struct sr_csv_record rec = { 0 };
    json_t *m = NULL, *row;
    double started = 0;
    FILE *f;
    int rc = 0, line = 0;

    if (!rows) {
        return -err->code;
    }
    /* One row per sweep is enough: the truth of a moment is the same for
     * every switch but for on_target. */
    while ((row = rd_rows_next(rows))) {
        double t = json_number_value(json_object_get(row, "t_s"));

        if (ta.n && ta.t[ta.n - 1] == t) {
            json_decref(row);
            continue;
        }
        xgrow((void **) &ta.t, &ta.cap, ta.n + 1, sizeof *ta.t);
        ta.row = xrealloc(ta.row, ta.cap * sizeof *ta.row);
        ta.t[ta.n] = t;
        ta.row[ta.n++] = row;
    }
    if (rd_rows_error(rows)) {
        rc = sr_error_set(err, rd_rows_error(rows)->code, "%s", rd_rows_error(rows)->msg);
    }
    rd_rows_close(rows);
    m = rc == 0 ? rd_manifest(rundir, &e) : NULL;
    if (m) {
        struct tm tm = { 0 };
        const char *s = str(m, "started", "");
        /* The fraction after the seconds, from where the parse ended: a
         * short "started" has none (reading at s + 19 read past it). */
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

        if (rest) {
            started = (double) timegm(&tm) + (*rest == '.' ? strtod(rest, NULL) : 0);
        }
    }
    f = rc == 0 ? fopen(path, "r") : NULL;
    if (rc == 0 && !f) {
        rc = sr_error_set(err, SR_ENOTFOUND, "cannot read '%s': %s", path, strerror(errno));
    }
    while (rc == 0 && sr_csv_read(f, &rec, err) == 1) {
        struct sc_answer a;
        const json_t *t;
        double when;

        line++;
        if (line == 1 && rec.n && !strcmp(rec.fields[0], "time")) {
            continue; /* a header */
        }
        when = rec.n >= 2 ? time_of(rec.fields[0], started) : NAN;
        t = isfinite(when) ? truth_of(&ta, when) : NULL;
        if (!isfinite(when)) {
            rc = sr_error_set(err, SR_EINVAL, "%s:%d: expected time,label[,target] with the "
                              "time in seconds of the run or ISO 8601", path, line);
            break;
        }
        if (!t) {
            continue; /* before the first sweep: no truth to score against */
        }
        json_array_append_new(as->keep, json_pack("[s, s]", rec.fields[1],
                                                  rec.n > 2 ? rec.fields[2] : ""));
        a = (struct sc_answer) {
            when,
            json_string_value(json_array_get(json_array_get(as->keep, json_array_size(as->keep) - 1), 0)),
            rec.n > 2 ? json_string_value(json_array_get(json_array_get(as->keep, json_array_size(as->keep) - 1), 1))
                      : NULL,
            str(t, "label", "normal"), str(t, "fault_target", ""), str(t, "fault_phase", "normal"),
            (int) json_integer_value(json_object_get(t, "fault_id")) };
        add_answer(as, &a);
    }
    if (rc == 0 && err->code) {
        rc = -err->code;
    }
    if (f) {
        fclose(f);
    }
    sr_csv_record_release(&rec);
    /* The truth rows are kept: the answers point at their strings. */
    for (size_t i = 0; i < ta.n; i++) {
        json_array_append_new(as->keep, ta.row[i]);
    }
    free(ta.t);
    free(ta.row);
    json_decref(m);
    return rc;
}

json_t *
sc_score_run(const char *rundir, const char *path, struct sr_error *err)
{
    struct answers as = { .keep = json_array() };
    json_t *evs = rd_events(rundir, err), *e, *score = NULL;
    struct sc_episode *eps = NULL;
    size_t nep = 0, i, len = strlen(path);
    int rc;

    if (!evs) {
        json_decref(as.keep);
        return NULL;
    }
    rc = len > 4 && !strcmp(path + len - 4, ".csv") ? read_csv(rundir, path, &as, err)
                                                     : read_jsonl(path, &as, err);
    if (rc == 0) {
        eps = xcalloc(json_array_size(evs) + 1, sizeof *eps);
        json_array_foreach(evs, i, e) {
            if (!strcmp(str(e, "event", ""), "inject")) {
                eps[nep++] = (struct sc_episode) { (int) json_integer_value(json_object_get(e, "id")),
                                                   str(e, "type", "?"), str(e, "target", ""),
                                                   json_number_value(json_object_get(e, "t_s")) };
            }
        }
        score = sc_score(as.a, as.n, eps, nep, 0);
        json_object_set_new(score, "predictions", json_string(path));
    }
    free(eps);
    free(as.a);
    json_decref(as.keep);
    json_decref(evs);
    return score;
}
