/* Scenario files: TOML read with common/toml, then walked section by
 * section.  Each section lists its known keys; anything else is reported
 * with the nearest known key.  Checks go on after a mistake so that one run
 * of 'simrun check' shows every problem of the file. */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rng.h"
#include "toml.h"
#include "util.h"

struct ctx {
    struct scn_diags *d;
};

void
scn_diag_add(struct scn_diags *d, int line, int col, const char *fmt, ...)
{
    struct scn_diag *g;
    va_list ap;
    int n;

    xgrow((void **) &d->items, &d->cap, d->n + 1, sizeof *d->items);
    g = &d->items[d->n++];
    g->line = line;
    g->col = col;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    g->msg = xmalloc((size_t) (n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(g->msg, (size_t) (n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
}

void
scn_diags_release(struct scn_diags *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].msg);
    }
    free(d->items);
    d->items = NULL;
    d->n = d->cap = 0;
}

static int
compare_diags(const void *a, const void *b)
{
    const struct scn_diag *x = a, *y = b;

    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return (x->col > y->col) - (x->col < y->col);
}

/* Ties in position keep the order the messages were added in. */
static int
compare_diags_stable(const void *a, const void *b)
{
    const struct scn_diag *x = *(const struct scn_diag *const *) a;
    const struct scn_diag *y = *(const struct scn_diag *const *) b;
    int c = compare_diags(x, y);

    return c ? c : (x > y) - (x < y);
}

char *
scn_diags_format(struct scn_diags *d, const char *path)
{
    struct sr_buf b = SR_BUF_INIT;
    const struct scn_diag **order = xcalloc(d->n + 1, sizeof *order);
    struct scn_diag *sorted = xcalloc(d->n + 1, sizeof *sorted);

    /* Stable sort by position in O(n log n): a file with tens of thousands
     * of mistakes is answered at once. */
    for (size_t i = 0; i < d->n; i++) {
        order[i] = &d->items[i];
    }
    qsort(order, d->n, sizeof *order, compare_diags_stable);
    for (size_t i = 0; i < d->n; i++) {
        sorted[i] = *order[i];
    }
    if (d->n) {
        memcpy(d->items, sorted, d->n * sizeof *sorted);
    }
    free(sorted);
    free(order);
    for (size_t i = 0; i < d->n; i++) {
        if (i == SCN_DIAGS_SHOWN && d->n > SCN_DIAGS_SHOWN + 1) {
            sr_buf_printf(&b, "%s: ... and %zu more problems\n", path, d->n - i);
            break;
        }
        if (d->items[i].line > 0) {
            sr_buf_printf(&b, "%s:%d:%d: %s\n", path, d->items[i].line,
                          d->items[i].col, d->items[i].msg);
        } else {
            sr_buf_printf(&b, "%s: %s\n", path, d->items[i].msg);
        }
    }
    return sr_buf_steal(&b);
}

bool
scn_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
    const char *p = s;
    char num[32];
    size_t n = 0;
    double v;

    while ((*p >= '0' && *p <= '9') || *p == '.') {
        if (n + 1 >= sizeof num) {
            return false;
        }
        num[n++] = *p++;
    }
    num[n] = '\0';
    if (!n || num[0] == '.' || num[n - 1] == '.' || !sr_parse_double(num, &v)) {
        return false;
    }
    for (size_t i = 0; i < SR_ARRAY_SIZE(units); i++) {
        if (!strcmp(p, units[i].unit)) {
            double r = v * units[i].ms;

            if (r > 1e15) {
                return false;
            }
            *ms = (int64_t) llround(r);
            return true;
        }
    }
    return false;
}

void
scn_format_duration(int64_t ms, char *buf, size_t size)
{
    if (ms % 1000 == 0) {
        snprintf(buf, size, "%lld s", (long long) (ms / 1000));
    } else if (ms < 1000) {
        snprintf(buf, size, "%lld ms", (long long) ms);
    } else {
        /* Tenths in integers: a double's %.1f may run to 300 digits, which
         * gcc's -Wformat-truncation counts at -O2 and above. */
        long long tenths = (long long) ((ms + 50) / 100);

        snprintf(buf, size, "%lld.%lld s", tenths / 10, tenths % 10);
    }
}

const char *
scn_controller_kind_name(enum scn_controller_kind k)
{
    switch (k) {
    case SCN_CTL_EMBEDDED: return "embedded";
    case SCN_CTL_RYU: return "ryu";
    case SCN_CTL_ODL: return "odl";
    }
    return "?";
}

/* ---- schema helpers ---- */

static const char *
article(enum toml_type t)
{
    return t == TOML_INTEGER || t == TOML_ARRAY || t == TOML_DATETIME ? "an" : "a";
}

/* The known key closest to 'key', or NULL if none is close. */
static const char *
suggest(const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = (size_t) -1;
    size_t len = strlen(key);
    size_t limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;

    for (size_t i = 0; known[i]; i++) {
        size_t d = sr_edit_distance(key, known[i]);

        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

static void
check_keys(struct ctx *c, const struct toml_value *t, const char *where,
           const char *const *known)
{
    for (size_t i = 0; i < t->u.t.n; i++) {
        const struct toml_kv *kv = &t->u.t.items[i];
        bool found = false;
        const char *s;

        for (size_t k = 0; known[k]; k++) {
            if (!strcmp(kv->key, known[k])) {
                found = true;
                break;
            }
        }
        if (found) {
            continue;
        }
        s = suggest(kv->key, known);
        if (s) {
            scn_diag_add(c->d, kv->line, kv->col,
                         "unknown key '%s' in %s (did you mean '%s'?)",
                         kv->key, where, s);
        } else {
            struct sr_buf b = SR_BUF_INIT;

            for (size_t k = 0; known[k]; k++) {
                sr_buf_printf(&b, "%s%s", k ? ", " : "", known[k]);
            }
            scn_diag_add(c->d, kv->line, kv->col,
                         "unknown key '%s' in %s (known keys: %s)", kv->key,
                         where, sr_buf_cstr(&b));
            sr_buf_release(&b);
        }
    }
}

static void
wrong_type(struct ctx *c, const struct toml_value *v, const char *key,
           const char *where, const char *expected)
{
    scn_diag_add(c->d, v->line, v->col, "'%s' in %s must be %s, not %s %s", key,
                 where, expected, article(v->type), toml_type_name(v->type));
}

/* Each getter leaves '*out' alone when the key is absent and reports a
 * message when it is present but wrong.  They return the value found, or
 * NULL. */
static const struct toml_value *
get_int(struct ctx *c, const struct toml_value *t, const char *key,
        const char *where, int64_t min, int64_t max, int64_t *out)
{
    const struct toml_value *v = toml_get(t, key);

    if (!v) {
        return NULL;
    }
    if (v->type != TOML_INTEGER) {
        wrong_type(c, v, key, where, "an integer");
        return NULL;
    }
    if (v->u.i < min || v->u.i > max) {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s is %lld, out of range %lld..%lld", key, where,
                     (long long) v->u.i, (long long) min, (long long) max);
        return NULL;
    }
    *out = v->u.i;
    return v;
}

static bool
number_of(const struct toml_value *v, double *out)
{
    if (v->type == TOML_INTEGER) {
        *out = (double) v->u.i;
        return true;
    }
    if (v->type == TOML_FLOAT && isfinite(v->u.f)) {
        *out = v->u.f;
        return true;
    }
    return false;
}

static const struct toml_value *
get_num(struct ctx *c, const struct toml_value *t, const char *key,
        const char *where, double min, double max, double *out)
{
    const struct toml_value *v = toml_get(t, key);
    double d;

    if (!v) {
        return NULL;
    }
    if (v->type == TOML_FLOAT && !isfinite(v->u.f)) {
        scn_diag_add(c->d, v->line, v->col, "'%s' in %s must be a finite number, not %s", key,
                     where, isnan(v->u.f) ? "nan" : "inf");
        return NULL;
    }
    if (!number_of(v, &d)) {
        wrong_type(c, v, key, where, "a number");
        return NULL;
    }
    if (d < min || d > max) {
        scn_diag_add(c->d, v->line, v->col, "'%s' in %s is %g, out of range %g..%g",
                     key, where, d, min, max);
        return NULL;
    }
    *out = d;
    return v;
}

static const struct toml_value *
get_bool(struct ctx *c, const struct toml_value *t, const char *key,
         const char *where, bool *out)
{
    const struct toml_value *v = toml_get(t, key);

    if (!v) {
        return NULL;
    }
    if (v->type != TOML_BOOL) {
        wrong_type(c, v, key, where, "true or false");
        return NULL;
    }
    *out = v->u.b;
    return v;
}

static const struct toml_value *
get_str(struct ctx *c, const struct toml_value *t, const char *key,
        const char *where, char **out)
{
    const struct toml_value *v = toml_get(t, key);

    if (!v) {
        return NULL;
    }
    if (v->type != TOML_STRING) {
        wrong_type(c, v, key, where, "a string");
        return NULL;
    }
    if (strlen(v->u.s.ptr) != v->u.s.len) {
        scn_diag_add(c->d, v->line, v->col, "'%s' in %s contains a NUL character",
                     key, where);
        return NULL;
    }
    free(*out);
    *out = xstrdup(v->u.s.ptr);
    return v;
}

static bool
duration_of(struct ctx *c, const struct toml_value *v, const char *key,
            const char *where, int64_t min, int64_t max, int64_t *out)
{
    int64_t ms;
    char lo[32], hi[32];

    if (v->type == TOML_INTEGER || v->type == TOML_FLOAT) {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s needs a unit: write it as a string such as "
                     "\"45s\", \"250ms\" or \"2m\"",
                     key, where);
        return false;
    }
    if (v->type != TOML_STRING) {
        wrong_type(c, v, key, where, "a duration string such as \"45s\"");
        return false;
    }
    if (!scn_parse_duration(v->u.s.ptr, &ms)) {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s: invalid duration \"%s\" (use a number and a "
                     "unit: ms, s, m or h, as in \"45s\")",
                     key, where, v->u.s.ptr);
        return false;
    }
    if (ms < min || ms > max) {
        scn_format_duration(min, lo, sizeof lo);
        scn_format_duration(max, hi, sizeof hi);
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s is \"%s\", out of range %s..%s", key, where,
                     v->u.s.ptr, lo, hi);
        return false;
    }
    *out = ms;
    return true;
}

static const struct toml_value *
get_duration(struct ctx *c, const struct toml_value *t, const char *key,
             const char *where, int64_t min, int64_t max, int64_t *out)
{
    const struct toml_value *v = toml_get(t, key);

    if (!v) {
        return NULL;
    }
    return duration_of(c, v, key, where, min, max, out) ? v : NULL;
}

/* A string that must be one of 'choices'; returns its index in '*out'. */
static const struct toml_value *
get_enum(struct ctx *c, const struct toml_value *t, const char *key,
         const char *where, const char *const *choices, int *out)
{
    const struct toml_value *v = toml_get(t, key);
    struct sr_buf b = SR_BUF_INIT;
    const char *s;

    if (!v) {
        return NULL;
    }
    if (v->type != TOML_STRING) {
        wrong_type(c, v, key, where, "a string");
        return NULL;
    }
    for (int i = 0; choices[i]; i++) {
        if (!strcmp(v->u.s.ptr, choices[i])) {
            *out = i;
            return v;
        }
    }
    for (size_t i = 0; choices[i]; i++) {
        sr_buf_printf(&b, "%s'%s'", i ? ", " : "", choices[i]);
    }
    s = suggest(v->u.s.ptr, choices);
    scn_diag_add(c->d, v->line, v->col, "'%s' in %s is \"%s\"; expected one of %s%s%s%s",
                 key, where, v->u.s.ptr, sr_buf_cstr(&b), s ? " (did you mean '" : "",
                 s ? s : "", s ? "'?)" : "");
    sr_buf_release(&b);
    return NULL;
}

static const struct toml_value *
get_table(struct ctx *c, const struct toml_value *t, const char *key,
          const char *where)
{
    const struct toml_value *v = toml_get(t, key);

    if (v && v->type != TOML_TABLE) {
        wrong_type(c, v, key, where, "a table");
        return NULL;
    }
    return v;
}

/* A [min, max] pair of numbers, or one number for both. */
static const struct toml_value *
get_num_range(struct ctx *c, const struct toml_value *t, const char *key,
              const char *where, double min, double max, double *lo, double *hi)
{
    const struct toml_value *v = toml_get(t, key);
    double a, b;

    if (!v) {
        return NULL;
    }
    if (number_of(v, &a)) {
        b = a;
    } else if (v->type == TOML_ARRAY && v->u.a.n == 2 &&
               number_of(v->u.a.items[0], &a) && number_of(v->u.a.items[1], &b)) {
        /* ok */
    } else {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s must be a number or a [min, max] pair of "
                     "numbers",
                     key, where);
        return NULL;
    }
    if (v->type != TOML_ARRAY && (a < min || a > max)) {
        scn_diag_add(c->d, v->line, v->col, "'%s' in %s is %g, out of range %g..%g", key,
                     where, a, min, max);
        return NULL;
    }
    if (a < min || b > max || a > b) {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s must lie in %g..%g with min <= max", key,
                     where, min, max);
        return NULL;
    }
    *lo = a;
    *hi = b;
    return v;
}

/* A number, or a [lo, hi] range drawn per run (scn_draw_traffic). */
static const struct toml_value *
get_drawn(struct ctx *c, const struct toml_value *t, const char *key, const char *where,
          double min, double max, double *out, struct scn_draw *range)
{
    const struct toml_value *v = toml_get(t, key);
    double lo, hi;

    if (v && v->type != TOML_ARRAY) {
        *range = (struct scn_draw) { 0, 0 };
        return get_num(c, t, key, where, min, max, out);
    }
    if (!get_num_range(c, t, key, where, min, max, &lo, &hi)) {
        return NULL;
    }
    *out = lo;
    *range = (struct scn_draw) { lo, hi };
    return v;
}

/* A [min, max] pair of durations, or one duration for both. */
static const struct toml_value *
get_duration_range(struct ctx *c, const struct toml_value *t, const char *key,
                   const char *where, int64_t min, int64_t max, int64_t *lo,
                   int64_t *hi)
{
    const struct toml_value *v = toml_get(t, key);
    int64_t a, b;

    if (!v) {
        return NULL;
    }
    if (v->type == TOML_ARRAY) {
        if (v->u.a.n != 2) {
            scn_diag_add(c->d, v->line, v->col,
                         "'%s' in %s must be a duration or a [min, max] pair "
                         "of durations",
                         key, where);
            return NULL;
        }
        if (!duration_of(c, v->u.a.items[0], key, where, min, max, &a) ||
            !duration_of(c, v->u.a.items[1], key, where, min, max, &b)) {
            return NULL;
        }
        if (a > b) {
            scn_diag_add(c->d, v->line, v->col,
                         "'%s' in %s: the first duration must not exceed the "
                         "second",
                         key, where);
            return NULL;
        }
    } else if (duration_of(c, v, key, where, min, max, &a)) {
        b = a;
    } else {
        return NULL;
    }
    *lo = a;
    *hi = b;
    return v;
}

/* An integer or a [min, max] pair of integers, each in min..max. */
static const struct toml_value *
get_int_range(struct ctx *c, const struct toml_value *t, const char *key, const char *where,
              int64_t min, int64_t max, int64_t *lo, int64_t *hi)
{
    const struct toml_value *v = toml_get(t, key);
    const struct toml_value *ends[2];

    if (!v) {
        return NULL;
    }
    if (v->type == TOML_ARRAY && v->u.a.n == 2) {
        ends[0] = v->u.a.items[0];
        ends[1] = v->u.a.items[1];
    } else if (v->type == TOML_INTEGER) {
        ends[0] = ends[1] = v;
    } else {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s must be an integer or a [min, max] pair of integers", key, where);
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (ends[i]->type != TOML_INTEGER) {
            wrong_type(c, ends[i], key, where, "an integer");
            return NULL;
        }
        if (ends[i]->u.i < min || ends[i]->u.i > max) {
            scn_diag_add(c->d, ends[i]->line, ends[i]->col,
                         "'%s' in %s is %lld, out of range %lld..%lld", key, where,
                         (long long) ends[i]->u.i, (long long) min, (long long) max);
            return NULL;
        }
    }
    if (ends[0]->u.i > ends[1]->u.i) {
        scn_diag_add(c->d, v->line, v->col,
                     "'%s' in %s: the first value must not exceed the second", key, where);
        return NULL;
    }
    *lo = ends[0]->u.i;
    *hi = ends[1]->u.i;
    return v;
}

/* ---- sections ---- */

#define MS_S 1000LL
#define MS_H (3600LL * MS_S)

static void
read_topology(struct ctx *c, const struct toml_value *t, struct scn_topology *o)
{
    static const char *const known[] = { "core", "access", "datacenters", "link", NULL };
    static const char *const core_keys[] = { "switches", "m", NULL };
    static const char *const access_keys[] = { "networks", "switches", "m",
                                               "uplinks", "hosts", NULL };
    static const char *const link_keys[] = { "bw_mbps", NULL };
    const struct toml_value *core, *access, *link, *v;

    check_keys(c, t, "[topology]", known);
    core = get_table(c, t, "core", "[topology]");
    if (core) {
        check_keys(c, core, "[topology.core]", core_keys);
        get_int(c, core, "switches", "[topology.core]", 3, 1000000, &o->core_switches);
        v = get_int(c, core, "m", "[topology.core]", 1, 100, &o->core_m);
        if (v && o->core_m >= o->core_switches) {
            scn_diag_add(c->d, v->line, v->col,
                         "'m' in [topology.core] is %lld but must be below the "
                         "number of core switches (%lld)",
                         (long long) o->core_m, (long long) o->core_switches);
        }
    }
    access = get_table(c, t, "access", "[topology]");
    if (access) {
        check_keys(c, access, "[topology.access]", access_keys);
        get_int(c, access, "networks", "[topology.access]", 0, 250, &o->access_networks);
        get_int(c, access, "switches", "[topology.access]", 1, 10000, &o->access_switches);
        get_int(c, access, "hosts", "[topology.access]", 0, 60000, &o->hosts);
        v = get_int(c, access, "m", "[topology.access]", 1, 100, &o->access_m);
        if (v && o->access_m >= o->access_switches && o->access_switches > 1) {
            scn_diag_add(c->d, v->line, v->col,
                         "'m' in [topology.access] is %lld but must be below the number of "
                         "switches of an access network (%lld)",
                         (long long) o->access_m, (long long) o->access_switches);
        }
        v = get_int(c, access, "uplinks", "[topology.access]", 1, 100, &o->uplinks);
        if (v && o->uplinks > o->access_switches) {
            scn_diag_add(c->d, v->line, v->col,
                         "'uplinks' in [topology.access] is %lld but an access "
                         "network has only %lld switches",
                         (long long) o->uplinks, (long long) o->access_switches);
        } else if (v && o->uplinks > o->core_switches) {
            scn_diag_add(c->d, v->line, v->col,
                         "'uplinks' in [topology.access] is %lld but there are "
                         "only %lld core switches to reach",
                         (long long) o->uplinks, (long long) o->core_switches);
        }
    }
    get_int(c, t, "datacenters", "[topology]", 0, 250, &o->datacenters);
    link = get_table(c, t, "link", "[topology]");
    if (link) {
        check_keys(c, link, "[topology.link]", link_keys);
        get_num(c, link, "bw_mbps", "[topology.link]", 0, 100000, &o->link_bw_mbps);
    }
    {
        /* What one machine can run: said before anything is built, so a
         * mistaken size gets an answer instead of hours of work or an
         * exhausted memory. */
        long long nsw = o->core_switches + o->access_networks * o->access_switches;
        long long nhosts = o->access_networks * o->hosts + 3 * o->datacenters;

        if (nsw > SCN_MAX_SWITCHES || nhosts > SCN_MAX_HOSTS) {
            scn_diag_add(c->d, t->line, t->col,
                         "this topology has %lld switches and %lld hosts; one machine runs "
                         "at most %d switches and %d hosts (every switch is a userspace "
                         "datapath, every host a namespace with a traffic agent)",
                         nsw, nhosts, SCN_MAX_SWITCHES, SCN_MAX_HOSTS);
        }
    }
}

static const char *const forwarding_names[] = { "proactive", "learning", NULL };
static const char *const policy_names[] = { "acl", "lldp_edge", "guest_meter", "dec_ttl",
                                            "admission", NULL };

const char *
scn_forwarding_name(enum scn_forwarding f)
{
    return f < SCN_FWD_N ? forwarding_names[f] : "?";
}

const char *
scn_policy_name(enum scn_policy p)
{
    return p < SCN_POLICY_N ? policy_names[p] : "?";
}

/* A string of 'choices', or an array of them (each once), as bits of
 * their indexes in '*out'; 'allow_empty' accepts an empty array. */
static const struct toml_value *
get_name_set(struct ctx *c, const struct toml_value *t, const char *key, const char *where,
             const char *const *choices, bool allow_empty, unsigned *out)
{
    const struct toml_value *v = toml_get(t, key);
    const struct toml_value *const *items;
    size_t n;
    unsigned bits = 0;
    bool ok = true;

    if (!v) {
        return NULL;
    }
    if (v->type == TOML_STRING) {
        items = &v;
        n = 1;
    } else if (v->type == TOML_ARRAY) {
        items = (const struct toml_value *const *) v->u.a.items;
        n = v->u.a.n;
    } else {
        wrong_type(c, v, key, where, "a string or an array of strings");
        return NULL;
    }
    if (!n && !allow_empty) {
        scn_diag_add(c->d, v->line, v->col, "'%s' in %s must name at least one", key, where);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct toml_value *e = items[i];
        int k = -1;

        if (e->type != TOML_STRING) {
            wrong_type(c, e, key, where, "a string");
            ok = false;
            continue;
        }
        for (int j = 0; choices[j]; j++) {
            if (!strcmp(e->u.s.ptr, choices[j])) {
                k = j;
            }
        }
        if (k < 0) {
            struct sr_buf b = SR_BUF_INIT;
            const char *s = suggest(e->u.s.ptr, choices);

            for (size_t j = 0; choices[j]; j++) {
                sr_buf_printf(&b, "%s'%s'", j ? ", " : "", choices[j]);
            }
            scn_diag_add(c->d, e->line, e->col, "'%s' in %s names \"%s\"; expected %s%s%s%s",
                         key, where, e->u.s.ptr, sr_buf_cstr(&b), s ? " (did you mean '" : "",
                         s ? s : "", s ? "'?)" : "");
            sr_buf_release(&b);
            ok = false;
        } else if (bits & (1u << k)) {
            scn_diag_add(c->d, e->line, e->col, "'%s' in %s names \"%s\" twice", key, where,
                         e->u.s.ptr);
            ok = false;
        } else {
            bits |= 1u << k;
        }
    }
    if (!ok) {
        return NULL;
    }
    *out = bits;
    return v;
}

static void
read_controller(struct ctx *c, const struct toml_value *t, struct scn_controller *o)
{
    static const char *const known[] = { "kind",         "url",           "user",
                                         "password",     "password_file", "api",
                                         "timeout",      "forwarding",    "idle_timeout",
                                         "hard_timeout", "hard_share",    "policy",
                                         "changes",      NULL };
    static const char *const kinds[] = { "embedded", "ryu", "odl", NULL };
    static const char *const apis[] = { "rfc8040", "restconf", NULL };
    const struct toml_value *kind, *url, *api, *pw, *pwf, *user;
    int k = (int) o->kind, a = (int) o->api;

    check_keys(c, t, "[controller]", known);
    kind = get_enum(c, t, "kind", "[controller]", kinds, &k);
    o->kind = (enum scn_controller_kind) k;
    url = get_str(c, t, "url", "[controller]", &o->url);
    user = get_str(c, t, "user", "[controller]", &o->user);
    pw = get_str(c, t, "password", "[controller]", &o->password);
    pwf = get_str(c, t, "password_file", "[controller]", &o->password_file);
    api = get_enum(c, t, "api", "[controller]", apis, &a);
    o->api = (enum scn_odl_api) a;
    get_duration(c, t, "timeout", "[controller]", 100, 60 * MS_S, &o->timeout_ms);
    {
        /* The embedded controller's applications. */
        const struct toml_value *apps[] = {
            get_name_set(c, t, "forwarding", "[controller]", forwarding_names, false,
                         &o->forwarding),
            get_duration_range(c, t, "idle_timeout", "[controller]", MS_S, 3600 * MS_S,
                               &o->idle_lo_ms, &o->idle_hi_ms),
            get_duration_range(c, t, "hard_timeout", "[controller]", MS_S, 3600 * MS_S,
                               &o->hard_lo_ms, &o->hard_hi_ms),
            get_num(c, t, "hard_share", "[controller]", 0, 1, &o->hard_share),
            get_name_set(c, t, "policy", "[controller]", policy_names, true, &o->policy),
            get_num(c, t, "changes", "[controller]", 0, 3600, &o->changes_per_h),
        };
        const char *names[] = { "forwarding", "idle_timeout", "hard_timeout",
                                "hard_share", "policy",       "changes" };

        for (size_t i = 0; i < SR_ARRAY_SIZE(apps) && o->kind != SCN_CTL_EMBEDDED; i++) {
            if (apps[i]) {
                scn_diag_add(c->d, apps[i]->line, apps[i]->col,
                             "'%s' in [controller] sets up the embedded controller's "
                             "applications; a %s controller runs its own",
                             names[i], scn_controller_kind_name(o->kind));
            }
        }
    }

    if (url && strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8)) {
        scn_diag_add(c->d, url->line, url->col,
                     "'url' in [controller] must start with http:// or https://");
    }
    if (o->kind == SCN_CTL_EMBEDDED) {
        const struct toml_value *extra[] = { url, user, pw, pwf, api };
        const char *names[] = { "url", "user", "password", "password_file", "api" };

        for (size_t i = 0; i < SR_ARRAY_SIZE(extra); i++) {
            if (extra[i]) {
                scn_diag_add(c->d, extra[i]->line, extra[i]->col,
                             "'%s' in [controller] is only used with kind = "
                             "\"ryu\" or \"odl\"; the embedded controller is "
                             "started by simrun",
                             names[i]);
            }
        }
    } else if (!o->url) {
        scn_diag_add(c->d, kind ? kind->line : 0, kind ? kind->col : 0,
                     "kind = \"%s\" in [controller] needs 'url' (for example "
                     "url = \"http://127.0.0.1:%s\")",
                     scn_controller_kind_name(o->kind),
                     o->kind == SCN_CTL_ODL ? "8181" : "8080");
    }
    if (api && o->kind == SCN_CTL_RYU) {
        scn_diag_add(c->d, api->line, api->col,
                     "'api' in [controller] only applies to kind = \"odl\"");
    }
    if (pw && pwf) {
        scn_diag_add(c->d, pwf->line, pwf->col,
                     "give either 'password' or 'password_file' in "
                     "[controller], not both");
    }
}

static void
read_rate_service(struct ctx *c, const struct toml_value *t, const char *key,
                  struct scn_service *o)
{
    static const char *const known[] = { "enabled", "per_min", NULL };
    char where[64];
    const struct toml_value *s;

    snprintf(where, sizeof where, "[traffic.%s]", key);
    s = get_table(c, t, key, "[traffic]");
    if (!s) {
        return;
    }
    check_keys(c, s, where, known);
    get_bool(c, s, "enabled", where, &o->enabled);
    get_drawn(c, s, "per_min", where, 0, 6000, &o->per_min, &o->per_min_range);
}

static void
read_traffic(struct ctx *c, const struct toml_value *t, struct scenario *scn)
{
    static const char *const known[] = { "video", "chat", "p2p", "web", "mail",
                                         "broadcast", "churn", NULL };
    static const char *const churn_keys[] = { "flash_crowds", "departures", "curve", NULL };
    static const char *const video_keys[] = { "enabled", "clients", "bitrate_kbps", NULL };
    static const char *const p2p_keys[] = { "enabled", "file_mb", "per_min", NULL };
    static const char *const bc_keys[] = { "enabled", "every", NULL };
    const struct toml_value *s;

    check_keys(c, t, "[traffic]", known);
    s = get_table(c, t, "video", "[traffic]");
    if (s) {
        struct scn_video *v = &scn->traffic.video;

        check_keys(c, s, "[traffic.video]", video_keys);
        get_bool(c, s, "enabled", "[traffic.video]", &v->enabled);
        get_drawn(c, s, "clients", "[traffic.video]", 0, 1, &v->clients, &v->clients_range);
        {
            double br = (double) v->bitrate_kbps;

            if (get_drawn(c, s, "bitrate_kbps", "[traffic.video]", 16, 1000000, &br,
                          &v->bitrate_range)) {
                v->bitrate_kbps = (int64_t) llround(br);
            }
        }
    }
    read_rate_service(c, t, "chat", &scn->traffic.chat);
    read_rate_service(c, t, "web", &scn->traffic.web);
    read_rate_service(c, t, "mail", &scn->traffic.mail);
    s = get_table(c, t, "p2p", "[traffic]");
    if (s) {
        struct scn_p2p *p = &scn->traffic.p2p;

        check_keys(c, s, "[traffic.p2p]", p2p_keys);
        get_bool(c, s, "enabled", "[traffic.p2p]", &p->enabled);
        get_num_range(c, s, "file_mb", "[traffic.p2p]", 0.001, 4096,
                      &p->file_mb_min, &p->file_mb_max);
        get_drawn(c, s, "per_min", "[traffic.p2p]", 0, 6000, &p->per_min, &p->per_min_range);
    }
    s = get_table(c, t, "broadcast", "[traffic]");
    if (s) {
        check_keys(c, s, "[traffic.broadcast]", bc_keys);
        get_bool(c, s, "enabled", "[traffic.broadcast]", &scn->traffic.broadcast.enabled);
        get_duration(c, s, "every", "[traffic.broadcast]", 100, MS_H,
                     &scn->traffic.broadcast.every_ms);
    }
    s = get_table(c, t, "churn", "[traffic]");
    if (s) {
        check_keys(c, s, "[traffic.churn]", churn_keys);
        get_num(c, s, "flash_crowds", "[traffic.churn]", 0, 600,
                &scn->traffic.churn.flash_per_h);
        get_num(c, s, "departures", "[traffic.churn]", 0, 3600,
                &scn->traffic.churn.depart_per_h);
        get_num(c, s, "curve", "[traffic.churn]", 0, 0.9, &scn->traffic.churn.curve);
    }
}

static void
read_collector(struct ctx *c, const struct toml_value *t, struct scn_collector *o)
{
    static const char *const known[] = { "interval", "formats", "flows", NULL };
    const struct toml_value *f;

    check_keys(c, t, "[collector]", known);
    get_duration(c, t, "interval", "[collector]", 100, 60 * MS_S, &o->interval_ms);
    get_bool(c, t, "flows", "[collector]", &o->flows);
    f = toml_get(t, "formats");
    if (!f) {
        return;
    }
    if (f->type != TOML_ARRAY || f->u.a.n == 0) {
        scn_diag_add(c->d, f->line, f->col,
                     "'formats' in [collector] must be a non-empty array of "
                     "\"csv\", \"jsonl\" or \"both\"");
        return;
    }
    o->csv = o->jsonl = false;
    for (size_t i = 0; i < f->u.a.n; i++) {
        const struct toml_value *e = f->u.a.items[i];

        if (e->type == TOML_STRING && !strcmp(e->u.s.ptr, "csv")) {
            o->csv = true;
        } else if (e->type == TOML_STRING && !strcmp(e->u.s.ptr, "jsonl")) {
            o->jsonl = true;
        } else if (e->type == TOML_STRING && !strcmp(e->u.s.ptr, "both")) {
            o->csv = o->jsonl = true;
        } else {
            scn_diag_add(c->d, e->line, e->col,
                         "unknown format in [collector] 'formats': expected "
                         "\"csv\", \"jsonl\" or \"both\"");
        }
    }
}

bool
scn_diagnoser_url_valid(const char *url, char *why, size_t n)
{
    const char *auth = strstr(url, "://");
    size_t alen;

    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        snprintf(why, n, "it must start with http:// or https://");
        return false;
    }
    for (const unsigned char *p = (const unsigned char *) url; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            snprintf(why, n, "it holds a space, a control character or a non-ASCII byte "
                             "(percent-encode it)");
            return false;
        }
    }
    auth += 3;
    alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen)) {
        /* It would be stored in the manifest: simrun sends no credentials
         * to a diagnoser. */
        snprintf(why, n, "it holds credentials (user@ or user:password@); simrun sends none "
                         "to a diagnoser");
        return false;
    }
    if (alen == 0 || strlen(url) > 2048) {
        snprintf(why, n, alen ? "it is longer than 2048 characters" : "it has no host");
        return false;
    }
    return true;
}

static void
read_diagnoser(struct ctx *c, const struct toml_value *t, struct scn_diagnoser *o)
{
    static const char *const known[] = { "url", "window", "every", "timeout", "concurrency",
                                         "queue", "ports", "flows", NULL };
    const struct toml_value *v;
    char why[160];

    check_keys(c, t, "[diagnoser]", known);
    v = get_str(c, t, "url", "[diagnoser]", &o->url);
    if (!v) {
        if (!toml_get(t, "url")) {
            scn_diag_add(c->d, t->line, t->col, "[diagnoser] has no 'url' (where the windows "
                                                "are POSTed)");
        }
    } else if (!scn_diagnoser_url_valid(o->url, why, sizeof why)) {
        scn_diag_add(c->d, v->line, v->col, "'url' in [diagnoser]: %s", why);
    }
    get_duration(c, t, "window", "[diagnoser]", 100, 3600 * MS_S, &o->window_ms);
    get_duration(c, t, "every", "[diagnoser]", 100, 3600 * MS_S, &o->every_ms);
    get_duration(c, t, "timeout", "[diagnoser]", 10, 600 * MS_S, &o->timeout_ms);
    get_int(c, t, "concurrency", "[diagnoser]", 1, 64, &o->concurrency);
    get_int(c, t, "queue", "[diagnoser]", 1, 10000, &o->queue);
    get_bool(c, t, "ports", "[diagnoser]", &o->ports);
    get_bool(c, t, "flows", "[diagnoser]", &o->flows);
}

/* Traffic values drawn per run come from their own stream of the seed. */
#define SCN_RNG_STREAM_TRAFFIC_MIX 7

static void
draw_one(struct sr_rng *rng, const struct scn_draw *r, double *out)
{
    if (r->hi > r->lo) {
        *out = sr_rng_uniform(rng, r->lo, r->hi);
    }
}

void
scn_draw_traffic(struct scenario *s)
{
    struct sr_rng rng;
    double br = (double) s->traffic.video.bitrate_kbps;

    sr_rng_seed(&rng, s->seed, SCN_RNG_STREAM_TRAFFIC_MIX);
    draw_one(&rng, &s->traffic.video.clients_range, &s->traffic.video.clients);
    draw_one(&rng, &s->traffic.video.bitrate_range, &br);
    s->traffic.video.bitrate_kbps = (int64_t) llround(br);
    draw_one(&rng, &s->traffic.chat.per_min_range, &s->traffic.chat.per_min);
    draw_one(&rng, &s->traffic.p2p.per_min_range, &s->traffic.p2p.per_min);
    draw_one(&rng, &s->traffic.web.per_min_range, &s->traffic.web.per_min);
    draw_one(&rng, &s->traffic.mail.per_min_range, &s->traffic.mail.per_min);
}

bool
scn_multi_run(const struct scenario *s)
{
    return s->campaign.present && (s->campaign.nseeds > 0 || s->campaign.runs > 0);
}

size_t
scn_run_seeds(const struct scenario *s, uint64_t **out)
{
    size_t n = s->campaign.nseeds ? s->campaign.nseeds
               : s->campaign.runs  ? (size_t) s->campaign.runs
                                   : 1;

    *out = xcalloc(n, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = s->campaign.nseeds ? s->campaign.seeds[i] : s->seed + i;
    }
    return n;
}

bool
scn_topic_valid(const char *topic)
{
    size_t n = strlen(topic);

    /* Kafka's rule; ".faults" and the others are added to it. */
    return n > 0 && n <= 200 && strcmp(topic, ".") && strcmp(topic, "..") &&
           strspn(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool
scn_brokers_valid(const char *list, char *why, size_t n)
{
    const char *p = list;
    int count = 0;

    if (!*list) {
        snprintf(why, n, "it is empty (host:port,...)");
        return false;
    }
    while (*p) {
        const char *end = strchr(p, ','), *colon;
        size_t len = end ? (size_t) (end - p) : strlen(p), host;
        int64_t port;
        char num[8];

        colon = memrchr(p, ':', len);
        if (!colon || colon == p) {
            snprintf(why, n, "'%.*s' is not host:port", (int) (len > 60 ? 60 : len), p);
            return false;
        }
        host = (size_t) (colon - p);
        if (len - host - 1 == 0 || len - host - 1 >= sizeof num) {
            snprintf(why, n, "'%.*s' has no port", (int) (len > 60 ? 60 : len), p);
            return false;
        }
        memcpy(num, colon + 1, len - host - 1);
        num[len - host - 1] = '\0';
        if (!sr_parse_i64(num, 1, 65535, &port)) {
            snprintf(why, n, "'%s' is not a port (1 to 65535)", num);
            return false;
        }
        /* A name or an IPv4 address, or an IPv6 one in brackets. */
        if (host > 253 || (p[0] == '[' ? (host < 3 || p[host - 1] != ']' ||
                                          strspn(p + 1, "0123456789abcdefABCDEF:.") != host - 2)
                                       : strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                                   "QRSTUVWXYZ0123456789.-") != host)) {
            snprintf(why, n, "'%.*s' is not a host name or address", (int) (host > 60 ? 60 : host),
                     p);
            return false;
        }
        if (++count > 64) {
            snprintf(why, n, "more than 64 brokers");
            return false;
        }
        if (!end) {
            break;
        }
        p = end + 1;
        if (!*p) {
            snprintf(why, n, "it ends with ','");
            return false;
        }
    }
    return true;
}

/* Whether 's' is a [capture] 'on' selector: a word simrun knows, a node
 * name, or a switch port "<switch>-eth<N>" (checked against the topology
 * by the plan).  Names are letters and digits: they become file names. */
bool
scn_capture_selector_valid(const char *s)
{
    static const char *const words[] = { "hosts", "servers", "users", "target", NULL };
    const char *dash = strchr(s, '-');
    size_t n = dash ? (size_t) (dash - s) : strlen(s);

    for (size_t i = 0; words[i]; i++) {
        if (!strcmp(s, words[i])) {
            return true;
        }
    }
    if (n == 0 || n > 15) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char) s[i]) || (i == 0 && !isalpha((unsigned char) s[i]))) {
            return false;
        }
    }
    if (!dash) {
        return true;
    }
    if (strncmp(dash, "-eth", 4) || !dash[4] || strlen(dash + 4) > 4) {
        return false;
    }
    for (const char *p = dash + 4; *p; p++) {
        if (!isdigit((unsigned char) *p)) {
            return false;
        }
    }
    return dash[4] != '0' || !dash[5];
}

static void
read_capture(struct ctx *c, const struct toml_value *t, struct scn_capture *o)
{
    static const char *const known[] = { "on", "snaplen", "filter", "episodes", "before",
                                         "after", "baseline", "flow_idle", "max_mb", "files",
                                         NULL };
    const struct toml_value *v = toml_get(t, "on"), *f;

    o->present = true;
    o->line = t->line;
    o->col = t->col;
    check_keys(c, t, "[capture]", known);
    if (!v) {
        scn_diag_add(c->d, t->line, t->col, "[capture] has no 'on' (the interfaces to capture: "
                                            "\"hosts\", \"servers\", \"users\", \"target\", a host "
                                            "or a switch port such as \"c1-eth2\")");
    } else if (v->type != TOML_ARRAY || v->u.a.n == 0) {
        scn_diag_add(c->d, v->line, v->col, "'on' in [capture] must be a non-empty array of "
                                            "strings");
    } else {
        o->on = xcalloc(v->u.a.n, sizeof *o->on);
        o->on_pos = xcalloc(v->u.a.n, sizeof *o->on_pos);
        for (size_t i = 0; i < v->u.a.n; i++) {
            const struct toml_value *e = v->u.a.items[i];

            if (e->type != TOML_STRING || strlen(e->u.s.ptr) != e->u.s.len) {
                scn_diag_add(c->d, e->line, e->col, "'on' in [capture] must hold strings");
                continue;
            }
            if (!scn_capture_selector_valid(e->u.s.ptr)) {
                struct sr_buf shown = SR_BUF_INIT;

                sr_term_clean(&shown, e->u.s.ptr);
                scn_diag_add(c->d, e->line, e->col,
                             "'%s' in [capture] 'on' is not an interface selector: give "
                             "\"hosts\", \"servers\", \"users\", \"target\", a host name "
                             "or a switch port such as \"c1-eth2\"", sr_buf_cstr(&shown));
                sr_buf_release(&shown);
                continue;
            }
            o->on_pos[o->non] = (struct scn_pos) { e->line, e->col };
            o->on[o->non++] = xstrdup(e->u.s.ptr);
        }
    }
    get_int(c, t, "snaplen", "[capture]", 64, 262144, &o->snaplen);
    f = get_str(c, t, "filter", "[capture]", &o->filter);
    if (f) {
        bool ok = strlen(o->filter) <= 1024;

        for (const char *p = o->filter; ok && *p; p++) {
            ok = *p >= 0x20 && *p < 0x7f;
        }
        if (!ok) {
            scn_diag_add(c->d, f->line, f->col, "'filter' in [capture] must be a BPF "
                                                "expression of printable ASCII, at most 1024 "
                                                "characters");
        }
        o->filter_pos = (struct scn_pos) { f->line, f->col };
    }
    get_bool(c, t, "episodes", "[capture]", &o->episodes);
    get_duration(c, t, "before", "[capture]", 0, 600 * MS_S, &o->before_ms);
    get_duration(c, t, "after", "[capture]", 0, 600 * MS_S, &o->after_ms);
    get_duration(c, t, "baseline", "[capture]", 0, 3600 * MS_S, &o->baseline_ms);
    get_duration(c, t, "flow_idle", "[capture]", 1 * MS_S, 3600 * MS_S, &o->flow_idle_ms);
    get_num(c, t, "max_mb", "[capture]", 0.01, 1e6, &o->max_mb);
    get_int(c, t, "files", "[capture]", 1, 10000, &o->files);
    if (toml_get(t, "files") && !toml_get(t, "max_mb")) {
        v = toml_get(t, "files");
        scn_diag_add(c->d, v->line, v->col, "'files' in [capture] is the ring's file count: "
                                            "give 'max_mb' too");
    }
}

static void
read_sink(struct ctx *c, const struct toml_value *t, struct scn_sink *o)
{
    static const char *const known[] = { "kafka", NULL };
    static const char *const kafka_keys[] = { "brokers", "topic", "labels", NULL };
    char why[160];
    const struct toml_value *k, *v;

    check_keys(c, t, "[sink]", known);
    k = get_table(c, t, "kafka", "[sink]");
    if (!k) {
        return;
    }
    check_keys(c, k, "[sink.kafka]", kafka_keys);
    v = get_str(c, k, "brokers", "[sink.kafka]", &o->kafka_brokers);
    if (!v && !toml_get(k, "brokers")) {
        scn_diag_add(c->d, k->line, k->col, "[sink.kafka] has no 'brokers' (host:port,...)");
    } else if (v && !scn_brokers_valid(o->kafka_brokers, why, sizeof why)) {
        scn_diag_add(c->d, v->line, v->col, "'brokers' in [sink.kafka]: %s", why);
    }
    get_bool(c, k, "labels", "[sink.kafka]", &o->kafka_labels);
    v = get_str(c, k, "topic", "[sink.kafka]", &o->kafka_topic);
    if (!v && !toml_get(k, "topic")) {
        scn_diag_add(c->d, k->line, k->col, "[sink.kafka] has no 'topic'");
    } else if (v && !scn_topic_valid(o->kafka_topic)) {
        scn_diag_add(c->d, v->line, v->col, "'topic' in [sink.kafka] must be 1 to 200 "
                                            "letters, digits, '.', '_' or '-' (Kafka's rule)");
    }
}

static void
read_emulation(struct ctx *c, const struct toml_value *t, struct scn_emulation *o)
{
    static const char *const known[] = { "remote", NULL };
    const struct toml_value *v;

    check_keys(c, t, "[emulation]", known);
    v = get_str(c, t, "remote", "[emulation]", &o->remote);
    if (v) {
        struct sr_ssh_target target;
        struct sr_error e = { 0 };

        o->remote_pos = (struct scn_pos) { v->line, v->col };
        if (sr_ssh_url_parse(o->remote, &target, &e) < 0) {
            scn_diag_add(c->d, v->line, v->col, "'remote' in [emulation]: %s", e.msg);
        }
    }
}

static const struct flt_type *
fault_type_of(struct ctx *c, const struct toml_value *v, const char *where)
{
    const struct flt_type *type;
    const char *names[32];
    size_t n;
    const struct flt_type *all = flt_types(&n);
    const char *s;

    if (v->type != TOML_STRING) {
        wrong_type(c, v, "type", where, "a string");
        return NULL;
    }
    type = flt_type_find(v->u.s.ptr);
    if (type) {
        return type;
    }
    for (size_t i = 0; i < n && i + 1 < SR_ARRAY_SIZE(names); i++) {
        names[i] = all[i].name;
        names[i + 1] = NULL;
    }
    s = suggest(v->u.s.ptr, names);
    if (s) {
        scn_diag_add(c->d, v->line, v->col,
                     "unknown fault type \"%s\" (did you mean '%s'?)", v->u.s.ptr, s);
    } else {
        scn_diag_add(c->d, v->line, v->col,
                     "unknown fault type \"%s\" (run 'simrun faults' for the "
                     "catalogue)",
                     v->u.s.ptr);
    }
    return NULL;
}

static void
read_fault(struct ctx *c, const struct toml_value *t, struct scenario *scn,
           size_t index)
{
    static const char *const known[] = { "type",    "target",    "at",
                                         "duration", "service",  "timeout",
                                         "rate_kbps", "streams", "factor",
                                         NULL };
    static const struct {
        const char *key;
        unsigned bit;
    } params[] = { { "service", FLT_P_SERVICE }, { "timeout", FLT_P_TIMEOUT },
                   { "rate_kbps", FLT_P_RATE },  { "streams", FLT_P_STREAMS },
                   { "factor", FLT_P_FACTOR } };
    struct flt_spec *f = &scn->faults[index];
    const struct toml_value *v;
    char where[48];

    snprintf(where, sizeof where, "[[fault]] #%zu", index + 1);
    memset(f, 0, sizeof *f);
    f->timeout_ms = 5000;
    f->rate_kbps = 1000;
    f->streams = 8;
    f->factor = 4;
    {
        struct scn_fault_pos *pos = &scn->fault_pos[index];
        const struct toml_value *tv = toml_get(t, "target");
        const struct toml_value *av = toml_get(t, "at");
        const struct toml_value *dv = toml_get(t, "duration");

        pos->line = t->line;
        pos->col = t->col;
        pos->target_line = tv ? tv->line : 0;
        pos->target_col = tv ? tv->col : 0;
        pos->at_line = av ? av->line : t->line;
        pos->at_col = av ? av->col : t->col;
        pos->duration_line = dv ? dv->line : t->line;
        pos->duration_col = dv ? dv->col : t->col;
    }
    check_keys(c, t, where, known);
    v = toml_get(t, "type");
    if (!v) {
        scn_diag_add(c->d, t->line, t->col, "%s has no 'type'", where);
    } else {
        f->type = fault_type_of(c, v, where);
    }
    get_str(c, t, "target", where, &f->target);
    if (!get_duration(c, t, "at", where, 0, 1000 * MS_H, &f->at_ms) &&
        !toml_get(t, "at")) {
        scn_diag_add(c->d, t->line, t->col, "%s has no 'at' (when it starts)", where);
    }
    if (!get_duration(c, t, "duration", where, 100, 1000 * MS_H, &f->duration_ms) &&
        !toml_get(t, "duration")) {
        scn_diag_add(c->d, t->line, t->col, "%s has no 'duration'", where);
    }
    v = get_str(c, t, "service", where, &f->service);
    if (v && !flt_is_service(f->service)) {
        scn_diag_add(c->d, v->line, v->col,
                     "'service' in %s is \"%s\"; expected one of 'video', "
                     "'chat', 'p2p', 'web', 'mail', 'broadcast'",
                     where, f->service);
    }
    get_duration(c, t, "timeout", where, 1000, 65535 * MS_S, &f->timeout_ms);
    get_int(c, t, "rate_kbps", where, 1, 100000000, &f->rate_kbps);
    get_int(c, t, "streams", where, 1, 1000, &f->streams);
    get_int(c, t, "factor", where, 2, 100, &f->factor);
    if (!f->type) {
        return;
    }
    for (size_t i = 0; i < SR_ARRAY_SIZE(params); i++) {
        const struct toml_kv *kv = toml_get_kv(t, params[i].key);

        if (kv && !(f->type->params & params[i].bit)) {
            scn_diag_add(c->d, kv->line, kv->col,
                         "'%s' does not apply to fault type '%s'",
                         params[i].key, f->type->name);
        } else if (!kv && (f->type->required & params[i].bit)) {
            scn_diag_add(c->d, t->line, t->col,
                         "%s: fault type '%s' needs '%s'", where,
                         f->type->name, params[i].key);
        }
    }
    if (!f->target) {
        f->target = xstrdup(f->type->default_target);
    }
    /* When it happens within the run (after the warm-up, before the end,
     * not over another fault) is checked when the plan is built, where the
     * run's final length is known. */
}

static void
read_campaign_targets(struct ctx *c, const struct toml_value *t, struct scenario *scn)
{
    struct flt_campaign *cp = &scn->campaign.c;

    if (t->type != TOML_TABLE) {
        wrong_type(c, t, "targets", "[campaign]", "a table of fault type = target(s)");
        return;
    }
    cp->targets = xcalloc(t->u.t.n ? t->u.t.n : 1, sizeof *cp->targets);
    scn->campaign.target_pos = xcalloc(t->u.t.n ? t->u.t.n : 1,
                                       sizeof *scn->campaign.target_pos);
    for (size_t i = 0; i < t->u.t.n; i++) {
        const struct toml_kv *kv = &t->u.t.items[i];
        const struct flt_type *ft = flt_type_find(kv->key);
        const struct toml_value *v = kv->val;
        const struct toml_value *const *items = &v;
        size_t n = 1;
        struct flt_campaign_targets *tg;

        if (!ft) {
            scn_diag_add(c->d, kv->line, kv->col,
                         "unknown fault type '%s' in [campaign] 'targets'", kv->key);
            continue;
        }
        if (v->type == TOML_ARRAY) {
            items = (const struct toml_value *const *) v->u.a.items;
            n = v->u.a.n;
        }
        if (n == 0) {
            scn_diag_add(c->d, v->line, v->col,
                         "'targets' of '%s' in [campaign] is empty: give a target or a list",
                         ft->name);
            continue;
        }
        tg = &cp->targets[cp->ntargets];
        tg->type = ft;
        tg->choices = xcalloc(n, sizeof *tg->choices);
        scn->campaign.target_pos[cp->ntargets] = xcalloc(n, sizeof **scn->campaign.target_pos);
        for (size_t k = 0; k < n; k++) {
            if (items[k]->type != TOML_STRING || strlen(items[k]->u.s.ptr) != items[k]->u.s.len) {
                scn_diag_add(c->d, items[k]->line, items[k]->col,
                             "a target of '%s' in [campaign] 'targets' must be a string (a "
                             "name or a selector)",
                             ft->name);
                continue;
            }
            scn->campaign.target_pos[cp->ntargets][tg->n] =
                (struct scn_pos) { items[k]->line, items[k]->col };
            tg->choices[tg->n++] = xstrdup(items[k]->u.s.ptr);
        }
        cp->ntargets++;
    }
}

static void
read_campaign_services(struct ctx *c, const struct toml_value *v, struct flt_campaign *cp)
{
    const struct toml_value *const *items = &v;
    size_t n = 1;

    if (v->type == TOML_ARRAY) {
        items = (const struct toml_value *const *) v->u.a.items;
        n = v->u.a.n;
    }
    cp->services = xcalloc(n ? n : 1, sizeof *cp->services);
    for (size_t k = 0; k < n; k++) {
        if (items[k]->type != TOML_STRING || !flt_is_service(items[k]->u.s.ptr)) {
            scn_diag_add(c->d, items[k]->line, items[k]->col,
                         "'service' in [campaign] holds one or more of 'video', 'chat', 'p2p', "
                         "'web', 'mail', 'broadcast'");
            continue;
        }
        cp->services[cp->nservices++] = xstrdup(items[k]->u.s.ptr);
    }
}

/* 'seeds = [1, 2, 3]' or 'runs = N' (seeds seed, seed+1, ...): one run
 * per seed, each with its own topology, traffic and episodes. */
static void
read_campaign_runs(struct ctx *c, const struct toml_value *t, struct scenario *scn)
{
    const struct toml_value *seeds = toml_get(t, "seeds"), *runs = toml_get(t, "runs");
    int64_t n = 0;

    if (seeds && runs) {
        scn_diag_add(c->d, runs->line, runs->col,
                     "[campaign] has 'seeds' and 'runs': give one of them");
        return;
    }
    if (seeds) {
        if (seeds->type != TOML_ARRAY || seeds->u.a.n == 0 || seeds->u.a.n > SCN_MAX_RUNS) {
            scn_diag_add(c->d, seeds->line, seeds->col,
                         "'seeds' in [campaign] must be an array of 1 to %d seeds", SCN_MAX_RUNS);
            return;
        }
        scn->campaign.seeds = xcalloc(seeds->u.a.n, sizeof *scn->campaign.seeds);
        for (size_t i = 0; i < seeds->u.a.n; i++) {
            const struct toml_value *e = seeds->u.a.items[i];

            if (e->type != TOML_INTEGER || e->u.i < 0) {
                scn_diag_add(c->d, e->line, e->col,
                             "a seed in [campaign] 'seeds' must be an integer of 0 or more");
                continue;
            }
            for (size_t k = 0; k < scn->campaign.nseeds; k++) {
                if (scn->campaign.seeds[k] == (uint64_t) e->u.i) {
                    scn_diag_add(c->d, e->line, e->col,
                                 "seed %lld is listed twice in [campaign] 'seeds'",
                                 (long long) e->u.i);
                    e = NULL;
                    break;
                }
            }
            if (e) {
                scn->campaign.seeds[scn->campaign.nseeds++] = (uint64_t) e->u.i;
            }
        }
    } else if (get_int(c, t, "runs", "[campaign]", 1, SCN_MAX_RUNS, &n)) {
        scn->campaign.runs = (int) n;
    }
}

static void
read_campaign(struct ctx *c, const struct toml_value *t, struct scenario *scn)
{
    static const char *const known[] = { "types", "episodes", "length", "gap", "targets",
                                         "timeout", "streams", "factor", "rate_kbps",
                                         "service", "seeds", "runs", NULL };
    struct flt_campaign *cp = &scn->campaign.c;
    const struct toml_value *types, *v;
    int64_t episodes = cp->episodes;

    scn->campaign.present = true;
    scn->campaign.line = t->line;
    scn->campaign.col = t->col;
    check_keys(c, t, "[campaign]", known);
    types = toml_get(t, "types");
    if (!types) {
        scn_diag_add(c->d, t->line, t->col, "[campaign] has no 'types'");
    } else if (types->type != TOML_ARRAY || types->u.a.n == 0) {
        scn_diag_add(c->d, types->line, types->col,
                     "'types' in [campaign] must be a non-empty array of "
                     "fault type names");
    } else {
        cp->types = xcalloc(types->u.a.n, sizeof *cp->types);
        for (size_t i = 0; i < types->u.a.n; i++) {
            const struct toml_value *e = types->u.a.items[i];
            const struct flt_type *ft = fault_type_of(c, e, "[campaign] 'types'");

            if (!ft) {
                continue;
            }
            for (size_t k = 0; k < cp->ntypes; k++) {
                if (cp->types[k] == ft) {
                    scn_diag_add(c->d, e->line, e->col,
                                 "fault type '%s' is listed twice in [campaign] "
                                 "'types'",
                                 ft->name);
                    ft = NULL;
                    break;
                }
            }
            if (ft) {
                cp->types[cp->ntypes++] = ft;
            }
        }
    }
    get_int(c, t, "episodes", "[campaign]", 1, SCN_MAX_EPISODES, &episodes);
    cp->episodes = (int) episodes;
    if ((v = toml_get(t, "targets")) != NULL) {
        read_campaign_targets(c, v, scn);
    }
    get_duration_range(c, t, "timeout", "[campaign]", 1000, 65535 * MS_S, &cp->timeout_min_ms,
                       &cp->timeout_max_ms);
    get_int_range(c, t, "streams", "[campaign]", 1, 1000, &cp->streams_min, &cp->streams_max);
    get_int_range(c, t, "factor", "[campaign]", 2, 100, &cp->factor_min, &cp->factor_max);
    get_int_range(c, t, "rate_kbps", "[campaign]", 1, 100000000, &cp->rate_min_kbps,
                  &cp->rate_max_kbps);
    if ((v = toml_get(t, "service")) != NULL) {
        read_campaign_services(c, v, cp);
    }
    read_campaign_runs(c, t, scn);
    get_duration_range(c, t, "length", "[campaign]", 1 * MS_S, 24 * MS_H,
                       &cp->length_min_ms, &cp->length_max_ms);
    get_duration_range(c, t, "gap", "[campaign]", 1 * MS_S, 24 * MS_H,
                       &cp->gap_min_ms, &cp->gap_max_ms);
    {
        /* The longest the campaign can take must fit in a run's length. */
        double worst = (double) cp->episodes *
                       (double) (cp->length_max_ms + cp->gap_max_ms) / (double) MS_H;

        if (worst > (double) SCN_MAX_DURATION_H) {
            scn_diag_add(c->d, t->line, t->col,
                         "[campaign] of %d episodes of up to %.0f s plus gaps of up to %.0f s "
                         "can take %.0f hours; a run lasts at most %d hours",
                         cp->episodes, (double) cp->length_max_ms / 1000.0,
                         (double) cp->gap_max_ms / 1000.0, worst, SCN_MAX_DURATION_H);
        }
    }
}

static void
set_defaults(struct scenario *s)
{
    s->seed = 1;
    s->duration_ms = 120 * MS_S;
    s->warmup_ms = 10 * MS_S;
    s->description = xstrdup("");
    s->topo = (struct scn_topology) { .core_switches = 8, .core_m = 2,
                                      .access_networks = 3, .access_switches = 4,
                                      .access_m = 1, .uplinks = 2, .hosts = 6,
                                      .datacenters = 2, .link_bw_mbps = 0 };
    s->controller.kind = SCN_CTL_EMBEDDED;
    s->controller.api = SCN_API_RFC8040;
    s->controller.timeout_ms = 2 * MS_S;
    s->controller.forwarding = 1u << SCN_FWD_PROACTIVE;
    /* Ryu's simple_switch and ONOS's reactive forwarding time flows out
     * after seconds to minutes of silence. */
    s->controller.idle_lo_ms = 10 * MS_S;
    s->controller.idle_hi_ms = 120 * MS_S;
    s->controller.hard_lo_ms = 60 * MS_S;
    s->controller.hard_hi_ms = 300 * MS_S;
    s->controller.hard_share = 0.2;
    s->traffic.video = (struct scn_video) { .enabled = true, .clients = 0.5, .bitrate_kbps = 1500 };
    s->traffic.chat = (struct scn_service) { .enabled = true, .per_min = 6 };
    s->traffic.p2p = (struct scn_p2p) { .enabled = true, .file_mb_min = 1, .file_mb_max = 8,
                                        .per_min = 1 };
    s->traffic.web = (struct scn_service) { .enabled = true, .per_min = 4 };
    s->traffic.mail = (struct scn_service) { .enabled = true, .per_min = 1 };
    s->traffic.broadcast = (struct scn_broadcast) { true, 5 * MS_S };
    s->collector = (struct scn_collector) { 1 * MS_S, true, false, false };
    s->diagnoser = (struct scn_diagnoser) { .window_ms = 10 * MS_S, .every_ms = 0,
                                            .timeout_ms = 2 * MS_S, .concurrency = 2,
                                            .queue = 8 };
    s->capture = (struct scn_capture) { .snaplen = 2048, .episodes = true,
                                        .before_ms = 5 * MS_S, .after_ms = 5 * MS_S,
                                        .baseline_ms = 10 * MS_S, .flow_idle_ms = 60 * MS_S,
                                        .files = 10 };
    s->campaign.c.episodes = 10;
    s->campaign.c.length_min_ms = 20 * MS_S;
    s->campaign.c.length_max_ms = 40 * MS_S;
    s->campaign.c.gap_min_ms = 20 * MS_S;
    s->campaign.c.gap_max_ms = 40 * MS_S;
    /* Each episode draws its parameters (issue: a model must not learn one
     * time-out or one stream count). */
    s->campaign.c.timeout_min_ms = 2 * MS_S;
    s->campaign.c.timeout_max_ms = 20 * MS_S;
    s->campaign.c.streams_min = 4;
    s->campaign.c.streams_max = 16;
    s->campaign.c.factor_min = 2;
    s->campaign.c.factor_max = 6;
    s->campaign.c.rate_min_kbps = 200;
    s->campaign.c.rate_max_kbps = 2000;
}

/* The file name without folders and without ".toml". */
static char *
name_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".toml")) {
        n -= 5;
    }
    return xstrndup(base, n);
}

static bool
is_bare_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

static bool
is_valid_name(const char *s)
{
    /* It starts with a letter or digit: a name that begins with '-' would
     * read as an option where it is passed as an argument, one of dots as
     * a folder. */
    if (!*s || strlen(s) > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                   (*s >= '0' && *s <= '9'))) {
        return false;
    }
    for (; *s; s++) {
        if (!is_bare_name_char(*s)) {
            return false;
        }
    }
    return true;
}

struct scenario *
scenario_parse(const char *path, const char *text, size_t len,
               struct scn_diags *diags, struct sr_error *err)
{
    static const char *const known[] = { "name", "description", "seed", "duration",
                                         "warmup", "allow_overlapping_faults",
                                         "topology", "controller", "traffic",
                                         "collector", "fault", "campaign", "diagnoser", "sink",
                                         "capture", "emulation", NULL };
    struct ctx c = { diags };
    struct scenario *s = xcalloc(1, sizeof *s);
    struct sr_error perr = { 0 };
    struct toml_value *root;
    const struct toml_value *v;
    int64_t seed = 1;
    int line = 0, col = 0;
    size_t before = diags->n;

    s->path = xstrdup(path);
    set_defaults(s);
    root = toml_parse_at(text, len, &line, &col, &perr);
    if (!root) {
        /* The parser's message starts with "LINE:COL: ". */
        const char *msg = strstr(perr.msg, ": ");

        scn_diag_add(diags, line, col, "%s", msg ? msg + 2 : perr.msg);
        goto fail;
    }
    check_keys(&c, root, "the scenario's top level", known);
    v = get_str(&c, root, "name", "the top level", &s->name);
    if (v && !is_valid_name(s->name)) {
        scn_diag_add(diags, v->line, v->col,
                     "'name' must be 1 to 64 letters, digits, '_', '-' or '.', starting "
                     "with a letter or digit (it names the run directory)");
    }
    get_str(&c, root, "description", "the top level", &s->description);
    get_int(&c, root, "seed", "the top level", 0, INT64_MAX, &seed);
    s->seed = (uint64_t) seed;
    if (get_duration(&c, root, "duration", "the top level", 1 * MS_S, SCN_MAX_DURATION_H * MS_H,
                     &s->duration_ms)) {
        s->duration_set = true;
    }
    v = get_duration(&c, root, "warmup", "the top level", 0, 1000 * MS_H, &s->warmup_ms);
    if (v && s->duration_set && s->warmup_ms >= s->duration_ms) {
        scn_diag_add(diags, v->line, v->col,
                     "'warmup' (%.1f s) must be shorter than 'duration' (%.1f s)",
                     (double) s->warmup_ms / 1000.0, (double) s->duration_ms / 1000.0);
    }
    get_bool(&c, root, "allow_overlapping_faults", "the top level", &s->allow_overlap);
    if ((v = get_table(&c, root, "topology", "the top level"))) {
        read_topology(&c, v, &s->topo);
    }
    if ((v = get_table(&c, root, "controller", "the top level"))) {
        read_controller(&c, v, &s->controller);
    }
    if ((v = get_table(&c, root, "traffic", "the top level"))) {
        read_traffic(&c, v, s);
    }
    if ((v = get_table(&c, root, "collector", "the top level"))) {
        read_collector(&c, v, &s->collector);
    }
    if ((v = get_table(&c, root, "campaign", "the top level"))) {
        read_campaign(&c, v, s);
    }
    if ((v = get_table(&c, root, "diagnoser", "the top level"))) {
        read_diagnoser(&c, v, &s->diagnoser);
    }
    if ((v = get_table(&c, root, "sink", "the top level"))) {
        read_sink(&c, v, &s->sink);
    }
    if ((v = get_table(&c, root, "capture", "the top level"))) {
        read_capture(&c, v, &s->capture);
    }
    if ((v = get_table(&c, root, "emulation", "the top level"))) {
        read_emulation(&c, v, &s->emulation);
    }
    v = toml_get(root, "fault");
    if (v && (v->type != TOML_ARRAY || (v->u.a.n && v->u.a.items[0]->type != TOML_TABLE))) {
        scn_diag_add(diags, v->line, v->col,
                     "'fault' must be an array of tables, written [[fault]]");
    } else if (v) {
        s->nfaults = v->u.a.n;
        s->faults = xcalloc(s->nfaults, sizeof *s->faults);
        s->fault_pos = xcalloc(s->nfaults, sizeof *s->fault_pos);
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (v->u.a.items[i]->type != TOML_TABLE) {
                scn_diag_add(diags, v->u.a.items[i]->line, v->u.a.items[i]->col,
                             "each 'fault' entry must be a table");
                continue;
            }
            read_fault(&c, v->u.a.items[i], s, i);
        }
    }
    if (!s->name) {
        /* A name taken from the file name is checked like one written in
         * the file: it names the run directory and reaches the generated
         * script and drawing. */
        s->name = name_from_path(path);
        if (!is_valid_name(s->name)) {
            struct sr_buf shown = SR_BUF_INIT;

            sr_term_clean(&shown, s->name);
            scn_diag_add(diags, 0, 0,
                         "the file name '%s' cannot name the run: it must be 1 to 64 "
                         "letters, digits, '_', '-' or '.', starting with a letter or digit; "
                         "rename the file or set 'name' in it",
                         sr_buf_cstr(&shown));
            sr_buf_release(&shown);
        }
    }
    toml_free(root);
    if (diags->n > before) {
        goto fail;
    }
    return s;

fail:
    sr_error_set(err, SR_EINVAL, "%s: %zu problem%s found", path,
                 diags->n - before, diags->n - before == 1 ? "" : "s");
    scenario_free(s);
    return NULL;
}

void
scenario_free(struct scenario *s)
{
    if (!s) {
        return;
    }
    free(s->path);
    free(s->name);
    free(s->description);
    free(s->controller.url);
    free(s->controller.user);
    free(s->controller.password);
    free(s->controller.password_file);
    free(s->diagnoser.url);
    free(s->emulation.remote);
    free(s->sink.kafka_brokers);
    free(s->sink.kafka_topic);
    for (size_t i = 0; i < s->capture.non; i++) {
        free(s->capture.on[i]);
    }
    free(s->capture.on);
    free(s->capture.on_pos);
    free(s->capture.filter);
    for (size_t i = 0; i < s->nfaults; i++) {
        free(s->faults[i].target);
        free(s->faults[i].service);
    }
    free(s->faults);
    free(s->fault_pos);
    free(s->campaign.c.types);
    for (size_t i = 0; i < s->campaign.c.ntargets; i++) {
        for (size_t k = 0; k < s->campaign.c.targets[i].n; k++) {
            free(s->campaign.c.targets[i].choices[k]);
        }
        free(s->campaign.c.targets[i].choices);
        free(s->campaign.target_pos[i]);
    }
    free(s->campaign.c.targets);
    free(s->campaign.target_pos);
    for (size_t i = 0; i < s->campaign.c.nservices; i++) {
        free(s->campaign.c.services[i]);
    }
    free(s->campaign.c.services);
    free(s->campaign.seeds);
    free(s);
}
