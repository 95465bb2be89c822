/* The collector: sweeps, deltas, labels, writers and the manifest.  Every
 * row goes through one writer that emits the same fields as CSV and as JSON
 * Lines, so the two formats cannot drift apart. */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"
#include "proc.h"
#include "util.h"

/* ---- columns (README documents each; keep the order) ---- */

/* What a diagnoser is not sent: the truth, and the run and episode a row
 * belongs to (for grouped splits). */
#define LABEL_COLS                                                                            \
    "label", "fault_id", "fault_target", "fault_phase", "since_onset_s", "on_target",          \
        "fault_effect", "run", "episode"
#define COUNTER_COLS                                                                       \
    "packets_received", "packets_transmitted", "bytes_received", "bytes_transmitted",      \
        "receive_drops", "transmit_drops", "receive_errors", "transmit_errors",            \
        "receive_frame_error", "receive_over_run_error", "receive_crc_error", "collision_count"

const char *const col_label_cols[] = { LABEL_COLS, NULL };

static const char *const sample_cols[] = {
    "time", "t_s", "sweep", "late_ms", "dt_s", "switch", "dpid", "role", "ports", "ports_down",
    COUNTER_COLS, "rx_pps", "tx_pps", "rx_bps", "tx_bps", "flows", "packets_looked_up",
    "packets_matched", "counter_reset", LABEL_COLS, NULL,
};
static const char *const port_cols[] = {
    "time", "t_s", "sweep", "dt_s", "switch", "dpid", "port", "name", "link_down", "blocked",
    "live", "duration_s", COUNTER_COLS, "packets_received_delta", "packets_transmitted_delta",
    "bytes_received_delta", "bytes_transmitted_delta", "receive_drops_delta",
    "transmit_drops_delta", "receive_errors_delta", "transmit_errors_delta",
    "receive_frame_error_delta", "receive_over_run_error_delta", "receive_crc_error_delta",
    "collision_count_delta", "counter_reset", LABEL_COLS, NULL,
};
static const char *const flow_cols[] = {
    "time", "t_s", "sweep", "switch", "dpid", "table", "priority", "cookie", "idle_timeout",
    "hard_timeout", "duration_s", "packets", "bytes", "packets_delta", "bytes_delta", "match",
    "actions", LABEL_COLS, NULL,
};

enum fkind { F_NULL, F_STR, F_I64, F_U64, F_DBL, F_BOOL };

struct field {
    enum fkind kind;
    const char *s;
    int64_t i;
    uint64_t u;
    double d;
    int decimals;
};

struct row {
    struct field f[64];
    size_t n;
};

static void
add(struct row *r, struct field f)
{
    if (r->n < SR_ARRAY_SIZE(r->f)) {
        r->f[r->n++] = f;
    }
}

static struct field fnull(void) { return (struct field) { .kind = F_NULL }; }
static struct field fstr(const char *s) { return (struct field) { .kind = F_STR, .s = s }; }
static struct field fi64(int64_t i) { return (struct field) { .kind = F_I64, .i = i }; }
static struct field fu64(uint64_t u) { return (struct field) { .kind = F_U64, .u = u }; }
static struct field fbool(bool b) { return (struct field) { .kind = F_BOOL, .i = b }; }
static struct field
fdbl(double d, int decimals)
{
    return isfinite(d) ? (struct field) { .kind = F_DBL, .d = d, .decimals = decimals } : fnull();
}

/* One table's files.  What was flushed whole is 'good': after a failed
 * write the files are cut back to it, so they hold whole rows only and
 * the manifest counts exactly those. */
struct out {
    const char *name;         /* "samples", "ports", "flows" */
    FILE *csv, *jl;
    char *csv_path, *jl_path;
    off_t csv_good, jl_good;
    const char *const *cols;
    size_t ncols;
    long rows, rows_good;
};

void
col_csv_field(struct sr_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sr_buf_puts(b, s);
        return;
    }
    sr_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') {
            sr_buf_putc(b, '"');
        }
        sr_buf_putc(b, *s);
    }
    sr_buf_putc(b, '"');
}

/* Appends field 'f' as CSV. */
static void
csv_cell(struct sr_buf *b, const struct field *f)
{
    switch (f->kind) {
    case F_NULL: break;
    case F_STR: col_csv_field(b, f->s ? f->s : ""); break;
    case F_I64: sr_buf_printf(b, "%lld", (long long) f->i); break;
    case F_U64: sr_buf_printf(b, "%llu", (unsigned long long) f->u); break;
    case F_DBL: sr_buf_printf(b, "%.*f", f->decimals, f->d); break;
    case F_BOOL: sr_buf_putc(b, f->i ? '1' : '0'); break;
    }
}

static void write_failed(struct collector *c, const char *path, int errnum);
static bool write_has_failed(const struct collector *c);
static size_t sinks_of(const struct collector *c);
static void to_sinks(struct collector *c, const char *table, json_t *row);

static void
write_row(struct collector *c, struct out *o, const struct row *r, struct sr_buf *scratch)
{
    struct sr_buf num = SR_BUF_INIT;

    if (write_has_failed(c)) {
        return; /* the run stops after this sweep; its rows are dropped */
    }
    if (o->csv) {
        sr_buf_clear(scratch);
        for (size_t i = 0; i < r->n; i++) {
            const struct field *f = &r->f[i];

            if (i) {
                sr_buf_putc(scratch, ',');
            }
            csv_cell(scratch, f);
        }
        sr_buf_puts(scratch, "\r\n");
        if (fwrite(scratch->data, 1, scratch->len, o->csv) != scratch->len) {
            write_failed(c, o->csv_path, errno);
        }
    }
    if (o->jl || sinks_of(c)) {
        json_t *obj = json_object();
        char *text;

        for (size_t i = 0; i < r->n && i < o->ncols; i++) {
            const struct field *f = &r->f[i];
            json_t *v = NULL;

            switch (f->kind) {
            case F_NULL: v = json_null(); break;
            case F_STR: v = json_string(f->s ? f->s : ""); break;
            case F_I64: v = json_integer((json_int_t) f->i); break;
            case F_U64:
                /* Counters above 2^63-1 would not survive as JSON integers here. */
                v = f->u <= INT64_MAX ? json_integer((json_int_t) f->u)
                                      : json_sprintf("%llu", (unsigned long long) f->u);
                break;
            case F_DBL:
                /* The same digits as the CSV (the formats must not drift). */
                sr_buf_clear(&num);
                sr_buf_printf(&num, "%.*f", f->decimals, f->d);
                v = json_real(strtod(sr_buf_cstr(&num), NULL));
                break;
            case F_BOOL: v = json_boolean(f->i); break;
            }
            json_object_set_new(obj, o->cols[i], v);
        }
        if (o->jl) {
            text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (!text || fputs(text, o->jl) == EOF || fputc('\n', o->jl) == EOF) {
                write_failed(c, o->jl_path, text ? errno : ENOMEM);
            }
            free(text);
        }
        to_sinks(c, o->name, obj);
        json_decref(obj);
    }
    sr_buf_release(&num);
    o->rows++;
}

/* ---- state ---- */

struct fault_state {
    struct col_fault f;
    double inject, revert, reverted, healed; /* NAN until the event happens */
    bool failed;
    double effect, effect_t;  /* the last col_fault_effect (NAN before one) */
};


struct port_prev {
    uint32_t port;
    double t_s;
    uint64_t dur;
    uint64_t c[CTL_NCOUNTERS];
};

struct flow_prev {
    char *key;
    uint64_t packets, bytes;
};

struct sw_state {
    struct col_switch sw;
    char dpid_hex[20];
    struct port_prev *ports;
    size_t nports;
    bool have_tables;
    double t_s;               /* time of the last good sweep, for dt */
    uint64_t lookups, matched;
    struct flow_prev *flows;
    size_t nflows;
};

struct collector {
    char *dir;
    char *run;                /* the 'run' column */
    double interval;
    bool flows;
    struct sw_state *sw;
    size_t nsw;
    uint64_t *dpids;
    struct fault_state *faults;
    size_t nfaults;
    struct ctl_client *client;
    struct out samples, ports, flowsout;
    struct sr_buf scratch;
    double t0;                /* monotonic start */
    double wall0;             /* wall-clock start, seconds since the epoch */
    long done, late, missed, failed, partial;
    json_t *gaps, *labels, *manifest_base;
    json_t *labels_sweep;     /* this sweep's labels, counted once its rows are written */
    json_t *warnings;         /* from col_warn */
    double *times;
    size_t ntimes, cap_times;
    /* The first failed write of the dataset: the run stops on it. */
    struct sr_error werr;
    /* Disk kept free for the last manifest, however full the disk gets. */
    char *reserve;
    char *failure;            /* why the run failed, from col_set_failure */
    struct col_sink *sinks;   /* borrowed (see col_add_sink) */
    size_t nsinks;
};

static size_t
sinks_of(const struct collector *c)
{
    return c->nsinks;
}

static void
to_sinks(struct collector *c, const char *table, json_t *row)
{
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->row) {
            c->sinks[i].ops->row(c->sinks[i].ctx, table, row);
        }
    }
}

void
col_add_sink(struct collector *c, const struct col_sink *sink)
{
    c->sinks = xrealloc(c->sinks, (c->nsinks + 1) * sizeof *c->sinks);
    c->sinks[c->nsinks++] = *sink;
}

void
col_fault_record(struct collector *c, json_t *event)
{
    for (size_t i = 0; i < c->nsinks; i++) {
        if (c->sinks[i].ops->event) {
            c->sinks[i].ops->event(c->sinks[i].ctx, event);
        }
    }
}

/* How much disk the reserve file keeps for the final manifest. */
#define RESERVE_BYTES (512 * 1024)

static void
write_failed(struct collector *c, const char *path, int errnum)
{
    if (c->werr.code) {
        return; /* the first failure is the one to report */
    }
    sr_error_set(&c->werr, sr_write_code(errnum), "cannot write '%s': %s%s", path,
                 strerror(errnum ? errnum : EIO),
                 sr_write_code(errnum) == SR_ENOSPC ? " (the disk is full)" : "");
}

void
col_set_failure(struct collector *c, const char *why)
{
    free(c->failure);
    c->failure = xstrdup(why);
}

void
col_release_reserve(struct collector *c)
{
    if (c && c->reserve) {
        unlink(c->reserve);
        free(c->reserve);
        c->reserve = NULL;
    }
}

static bool
write_has_failed(const struct collector *c)
{
    return c->werr.code != 0;
}

const struct sr_error *
col_write_error(const struct collector *c)
{
    return c->werr.code ? &c->werr : NULL;
}

void
col_fault_effect(struct collector *c, int id, double t_s, double share)
{
    for (size_t i = 0; i < c->nfaults; i++) {
        if (c->faults[i].f.id == id) {
            c->faults[i].effect = share;
            c->faults[i].effect_t = t_s;
        }
    }
}

void
col_warn(struct collector *c, const char *msg)
{
    json_array_append_new(c->warnings, json_string(msg));
}

double
col_now_s(const struct collector *c)
{
    return sr_now() - c->t0;
}

/* ---- deltas ---- */

bool
col_delta(const struct col_prev *prev, uint64_t cur, uint64_t duration_sec, uint64_t *delta,
          bool *reset)
{
    *reset = false;
    if (!prev->have) {
        return false;
    }
    if (cur < prev->value || duration_sec < prev->duration_sec) {
        /* The port or switch was recreated: counting restarted from zero. */
        *reset = true;
        *delta = cur;
        return true;
    }
    *delta = cur - prev->value;
    return true;
}

/* ---- labels ---- */

void
col_label_at(const struct collector *c, double t, const char *sw, uint32_t port,
             struct col_label *out)
{
    const struct fault_state *best = NULL;

    *out = (struct col_label) { "normal", 0, "", "normal", -1.0, false, -1.0, 0 };
    for (size_t i = 0; i < c->nfaults; i++) {
        const struct fault_state *f = &c->faults[i];

        if (!isnan(f->reverted) && t >= f->reverted) {
            out->stretch++;
        }
        if (isnan(f->inject) || t < f->inject || (!isnan(f->reverted) && t >= f->reverted)) {
            continue;
        }
        if (!best || f->inject > best->inject) {
            best = f;
        }
    }
    if (!best) {
        return;
    }
    out->label = best->f.type;
    out->fault_id = best->f.id;
    out->target = best->f.target;
    out->phase = best->failed ? "failed"
                 : (!isnan(best->revert) && t >= best->revert) ? "recovery"
                 : (!isnan(best->healed) && t >= best->healed) ? "healed" : "active";
    out->since_onset_s = t - best->inject;
    if (!isnan(best->effect) && best->effect_t <= t && !best->failed &&
        (isnan(best->revert) || t < best->revert)) {
        out->effect = best->effect;
    }
    out->on_target = best->f.all;
    for (size_t k = 0; k < best->f.ntouched && !out->on_target; k++) {
        const struct col_touch *tc = &best->f.touched[k];

        out->on_target = !strcmp(tc->sw, sw) && (tc->port == 0 || port == 0 || tc->port == port);
    }
}

/* The 'episode' column: "f<id>" for a fault's rows, "n<k>" for the normal
 * stretch after k faults were reverted. */
static const char *
episode_of(const struct col_label *l, char *buf, size_t size)
{
    snprintf(buf, size, l->fault_id ? "f%d" : "n%d", l->fault_id ? l->fault_id : l->stretch);
    return buf;
}

static void
add_labels(const struct collector *c, struct row *r, const struct col_label *l, char *ep,
           size_t epsize)
{
    add(r, fstr(l->label));
    add(r, l->fault_id ? fi64(l->fault_id) : fnull());
    add(r, fstr(l->target));
    add(r, fstr(l->phase));
    add(r, l->since_onset_s >= 0 ? fdbl(l->since_onset_s, 3) : fnull());
    add(r, fbool(l->on_target));
    add(r, l->effect >= 0 ? fdbl(l->effect, 4) : fnull());
    add(r, fstr(c->run));
    add(r, fstr(episode_of(l, ep, epsize)));
}

void
col_label_cells(const struct collector *c, double t_s, const char *sw, uint32_t port,
                struct sr_buf *b)
{
    struct col_label l;
    struct row r = { .n = 0 };
    char ep[32];

    col_label_at(c, t_s, sw, port, &l);
    add_labels(c, &r, &l, ep, sizeof ep);
    for (size_t i = 0; i < r.n; i++) {
        sr_buf_putc(b, ',');
        csv_cell(b, &r.f[i]);
    }
}

double
col_wall0(const struct collector *c)
{
    return c->wall0;
}

void
col_fault_event(struct collector *c, int id, enum col_event ev, double t_s)
{
    for (size_t i = 0; i < c->nfaults; i++) {
        struct fault_state *f = &c->faults[i];

        if (f->f.id != id) {
            continue;
        }
        switch (ev) {
        case COL_INJECT: f->inject = t_s; break;
        case COL_VERIFIED: break;
        case COL_REVERT: f->revert = t_s; break;
        case COL_REVERTED: f->reverted = t_s; break;
        case COL_FAILED: f->failed = true; break;
        case COL_HEALED: f->healed = t_s; break;
        }
    }
}

/* ---- the manifest ---- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

void
col_sweep_times(const struct collector *c, double *p50, double *p95)
{
    double *copy;

    if (!c->ntimes) {
        *p50 = *p95 = NAN;
        return;
    }
    copy = xmalloc(c->ntimes * sizeof *copy);
    memcpy(copy, c->times, c->ntimes * sizeof *copy);
    qsort(copy, c->ntimes, sizeof *copy, cmp_double);
    *p50 = copy[(c->ntimes - 1) / 2];
    *p95 = copy[(size_t) ceil(0.95 * (double) c->ntimes) - 1];
    free(copy);
}

static void
write_manifest(struct collector *c, const char *status)
{
    json_t *m = json_deep_copy(c->manifest_base), *faults = json_array();
    char now[40], start[40], *path = xasprintf("%s/manifest.json", c->dir);
    char *tmp = xasprintf("%s/.manifest.json.tmp", c->dir);
    double p50, p95;

    if (!m) {
        m = json_object();
    }
    sr_iso_time(c->wall0, start, sizeof start);
    sr_iso_time(sr_wall(), now, sizeof now);
    col_sweep_times(c, &p50, &p95);
    json_object_set_new(m, "status", json_string(status));
    json_object_set_new(m, "started", json_string(start));
    json_object_set_new(m, "updated", json_string(now));
    json_object_set_new(m, "ended", strcmp(status, "running") ? json_string(now) : json_null());
    json_object_set_new(m, "interval_s", json_real(c->interval));
    json_object_set_new(m, "sweeps",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "done",
                                  (json_int_t) c->done, "late", (json_int_t) c->late, "missed",
                                  (json_int_t) c->missed, "failed", (json_int_t) c->failed,
                                  "partial", (json_int_t) c->partial, "duration_p50_s",
                                  isnan(p50) ? json_null() : json_real(round(p50 * 1e4) / 1e4),
                                  "duration_p95_s",
                                  isnan(p95) ? json_null() : json_real(round(p95 * 1e4) / 1e4)));
    json_object_set_new(m, "rows", json_pack("{s:I, s:I, s:I}", "samples",
                                             (json_int_t) c->samples.rows, "ports",
                                             (json_int_t) c->ports.rows, "flows",
                                             (json_int_t) c->flowsout.rows));
    json_object_set(m, "rows_per_label", c->labels);
    json_object_set(m, "gaps", c->gaps);
    {
        json_t *w = json_array();

        if (c->late) {
            json_array_append_new(w, json_sprintf("%ld sweeps started more than 10%% of an "
                                                  "interval late",
                                                  c->late));
        }
        if (c->missed) {
            json_array_append_new(w, json_sprintf("%ld sweeps were missed: the sweep before "
                                                  "overran",
                                                  c->missed));
        }
        if (c->failed || c->partial) {
            json_array_append_new(w, json_sprintf("%ld sweeps failed and %ld were partial; see "
                                                  "gaps",
                                                  c->failed, c->partial));
        }
        json_array_extend(w, c->warnings);
        json_object_set_new(m, "warnings", w);
    }
    for (size_t i = 0; i < c->nfaults; i++) {
        const struct fault_state *f = &c->faults[i];
        json_t *o = json_pack("{s:i, s:s, s:s}", "id", f->f.id, "type", f->f.type, "target",
                              f->f.target);

        json_object_set_new(o, "inject_s", isnan(f->inject) ? json_null() : json_real(f->inject));
        json_object_set_new(o, "revert_s", isnan(f->revert) ? json_null() : json_real(f->revert));
        json_object_set_new(o, "reverted_s",
                            isnan(f->reverted) ? json_null() : json_real(f->reverted));
        json_object_set_new(o, "failed", json_boolean(f->failed));
        json_array_append_new(faults, o);
    }
    json_object_set_new(m, "label_windows", faults);
    if (c->werr.code || c->failure) {
        json_object_set_new(m, "failure", json_string(c->werr.code ? c->werr.msg : c->failure));
    }
    {
        struct sr_error e = { 0 };
        FILE *f = sr_fopen_new(tmp, true, &e);

        if (!f) {
            write_failed(c, tmp, e.code == SR_ENOSPC ? ENOSPC : EIO);
        } else if (json_dumpf(m, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(10)) < 0 ||
                   fputc('\n', f) == EOF) {
            write_failed(c, tmp, errno);
            fclose(f);
        } else if (sr_fclose_checked(f, tmp, &e) < 0) {
            write_failed(c, tmp, e.code == SR_ENOSPC ? ENOSPC : EIO);
        } else if (rename(tmp, path) < 0) {
            write_failed(c, path, errno);
        }
    }
    json_decref(m);
    free(path);
    free(tmp);
}

/* ---- files ---- */

static int
open_out(struct collector *c, struct out *o, const char *name, const char *const *cols,
         bool csv, bool jl, struct sr_error *err)
{
    char *path;

    o->name = name;
    o->cols = cols;
    for (o->ncols = 0; cols[o->ncols]; o->ncols++) {
    }
    if (csv) {
        path = xasprintf("%s/%s.csv", c->dir, name);
        o->csv = sr_fopen_new(path, false, err);
        if (!o->csv) {
            free(path);
            return -err->code;
        }
        o->csv_path = path;
        sr_buf_clear(&c->scratch);
        for (size_t i = 0; i < o->ncols; i++) {
            sr_buf_printf(&c->scratch, "%s%s", i ? "," : "", cols[i]);
        }
        sr_buf_puts(&c->scratch, "\r\n");
        if (fwrite(c->scratch.data, 1, c->scratch.len, o->csv) != c->scratch.len ||
            fflush(o->csv) != 0) {
            return sr_error_set(err, sr_write_code(errno), "cannot write '%s': %s", path,
                                strerror(errno));
        }
        o->csv_good = ftello(o->csv);
    }
    if (jl) {
        path = xasprintf("%s/%s.jsonl", c->dir, name);
        o->jl = sr_fopen_new(path, false, err);
        if (!o->jl) {
            free(path);
            return -err->code;
        }
        o->jl_path = path;
    }
    return 0;
}

/* After a failed write: closes the file (what stdio still buffers may or
 * may not reach the disk) and cuts it back to its last whole flush.  The
 * run stops on a failed write, so nothing is written to it again. */
static void
abandon(FILE **fp, off_t good)
{
    int fd;

    if (!*fp) {
        return;
    }
    fd = dup(fileno(*fp));
    fclose(*fp);
    *fp = NULL;
    if (fd >= 0) {
        (void) !ftruncate(fd, good);
        close(fd);
    }
}

static void
close_out(struct collector *c, struct out *o)
{
    struct sr_error e = { 0 };

    if (o->csv && sr_fclose_checked(o->csv, o->csv_path, &e) < 0) {
        write_failed(c, o->csv_path, e.code == SR_ENOSPC ? ENOSPC : EIO);
    }
    if (o->jl && sr_fclose_checked(o->jl, o->jl_path, &e) < 0) {
        write_failed(c, o->jl_path, e.code == SR_ENOSPC ? ENOSPC : EIO);
    }
    o->csv = o->jl = NULL;
    free(o->csv_path);
    free(o->jl_path);
    o->csv_path = o->jl_path = NULL;
}

/* Flushes a sweep's rows.  When any write of the sweep failed, every file
 * is cut back to the end of the last whole sweep: the dataset holds whole
 * sweeps only. */
static void
flush_out(struct collector *c, struct out *o)
{
    if (!c->werr.code && o->csv && fflush(o->csv) != 0) {
        write_failed(c, o->csv_path, errno);
    }
    if (!c->werr.code && o->jl && fflush(o->jl) != 0) {
        write_failed(c, o->jl_path, errno);
    }
}

static void
commit_out(struct collector *c, struct out *o)
{
    if (c->werr.code) {
        abandon(&o->csv, o->csv_good);
        abandon(&o->jl, o->jl_good);
        o->rows = o->rows_good;
        return;
    }
    o->csv_good = o->csv ? ftello(o->csv) : 0;
    o->jl_good = o->jl ? ftello(o->jl) : 0;
    o->rows_good = o->rows;
}

struct collector *
col_new(const struct col_options *o, const struct col_switch *sws, size_t nsw,
        const struct col_fault *faults, size_t nfaults, struct ctl_client *client,
        struct sr_error *err)
{
    struct collector *c = xcalloc(1, sizeof *c);
    json_t *files = json_object();

    c->dir = xstrdup(o->dir);
    c->run = xstrdup(o->run ? o->run : "");
    c->interval = o->interval_s > 0 ? o->interval_s : 1.0;
    c->flows = o->flows;
    c->client = client;
    c->nsw = nsw;
    c->sw = xcalloc(nsw + 1, sizeof *c->sw);
    c->dpids = xcalloc(nsw + 1, sizeof *c->dpids);
    for (size_t i = 0; i < nsw; i++) {
        c->sw[i].sw = sws[i];
        c->dpids[i] = sws[i].dpid;
        snprintf(c->sw[i].dpid_hex, sizeof c->sw[i].dpid_hex, "%016llx",
                 (unsigned long long) sws[i].dpid);
    }
    c->nfaults = nfaults;
    c->faults = xcalloc(nfaults + 1, sizeof *c->faults);
    for (size_t i = 0; i < nfaults; i++) {
        c->faults[i].f = faults[i];
        c->faults[i].inject = c->faults[i].revert = c->faults[i].reverted = NAN;
        c->faults[i].healed = NAN;
        c->faults[i].effect = NAN;
        c->faults[i].effect_t = NAN;
    }
    c->gaps = json_array();
    c->warnings = json_array();
    c->labels = json_object();
    c->labels_sweep = json_object();
    c->manifest_base = o->manifest ? json_deep_copy(o->manifest) : json_object();
    if (open_out(c, &c->samples, "samples", sample_cols, o->csv, o->jsonl, err) < 0 ||
        open_out(c, &c->ports, "ports", port_cols, o->csv, o->jsonl, err) < 0 ||
        (o->flows && open_out(c, &c->flowsout, "flows", flow_cols, o->csv, o->jsonl, err) < 0)) {
        col_finish(c, "failed");
        return NULL;
    }
    for (const char *const *n = (const char *const[]) { "samples", "ports", "flows", NULL }; *n;
         n++) {
        if (!strcmp(*n, "flows") && !o->flows) {
            continue;
        }
        if (o->csv) {
            json_object_set_new(files, *n, json_sprintf("%s.csv", *n));
        }
        if (o->jsonl) {
            char key[32];

            snprintf(key, sizeof key, "%s_jsonl", *n);
            json_object_set_new(files, key, json_sprintf("%s.jsonl", *n));
        }
    }
    json_object_set_new(c->manifest_base, "files", files);
    c->reserve = xasprintf("%s/.reserve", c->dir);
    {
        int fd = open(c->reserve, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int e = fd < 0 ? errno : posix_fallocate(fd, 0, RESERVE_BYTES);

        if (fd >= 0) {
            close(fd);
        }
        if (e) {
            unlink(c->reserve);
            sr_error_set(err, sr_write_code(e), "cannot keep %d KiB free in '%s' for the "
                         "manifest: %s", RESERVE_BYTES / 1024, c->dir, strerror(e));
            col_finish(c, "failed");
            return NULL;
        }
    }
    c->t0 = sr_now();
    c->wall0 = sr_wall();
    write_manifest(c, "running");
    return c;
}

/* ---- one sweep ---- */

static struct port_prev *
find_port(struct sw_state *s, uint32_t port)
{
    for (size_t i = 0; i < s->nports; i++) {
        if (s->ports[i].port == port) {
            return &s->ports[i];
        }
    }
    return NULL;
}

static int
cmp_flow_prev(const void *a, const void *b)
{
    return strcmp(((const struct flow_prev *) a)->key, ((const struct flow_prev *) b)->key);
}

static char *
flow_key(const struct ctl_flow *f)
{
    return xasprintf("%u/%u/%llu/%s", f->table_id, f->priority, (unsigned long long) f->cookie,
                     f->match ? f->match : "");
}

static void
free_flow_prev(struct sw_state *s)
{
    for (size_t i = 0; i < s->nflows; i++) {
        free(s->flows[i].key);
    }
    free(s->flows);
    s->flows = NULL;
    s->nflows = 0;
}

static void
count_label(struct collector *c, const char *label)
{
    /* Counted when the sweep's rows are written whole (commit_sweep). */
    json_t *v = json_object_get(c->labels_sweep, label);

    json_object_set_new(c->labels_sweep, label, json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* Writes the rows of one switch and remembers its counters. */
static void
switch_rows(struct collector *c, struct sw_state *s, const struct ctl_stats *st, long k,
            double t, double late, const char *iso)
{
    double dt = s->t_s > 0 || s->nports ? t - s->t_s : NAN;
    uint64_t sum[CTL_NCOUNTERS] = { 0 };
    bool sum_known = s->nports > 0, any_reset = false;
    struct port_prev *next = xcalloc(st->nports + 1, sizeof *next);
    size_t nports = 0, down = 0, nnext = 0;
    struct col_label lab;
    struct row r;
    char epbuf[24];           /* the episode column, borrowed by the rows */
    uint64_t active = 0, lookups = 0, matched = 0;

    for (size_t i = 0; i < st->nports; i++) {
        const struct ctl_port *p = &st->ports[i];
        struct port_prev *prev = find_port(s, p->port_no);
        uint64_t d[CTL_NCOUNTERS];
        bool known[CTL_NCOUNTERS], reset = false;
        char portname[16];

        if (!p->has_stats) {
            continue;
        }
        for (int n = 0; n < CTL_NCOUNTERS; n++) {
            struct col_prev cp = { prev != NULL, prev ? prev->t_s : 0, prev ? prev->dur : 0,
                                   prev ? prev->c[n] : 0 };
            bool rs;

            known[n] = col_delta(&cp, p->c[n], p->duration_sec, &d[n], &rs);
            if (!prev && isfinite(dt) && (double) p->duration_sec <= dt) {
                /* A port created since the last sweep: all it counted is new. */
                known[n] = true;
                d[n] = p->c[n];
            }
            reset = reset || rs;
        }
        if (p->port_no != CTL_PORT_LOCAL) {
            nports++;
            down += p->has_state && p->link_down;
            for (int n = 0; n < CTL_NCOUNTERS; n++) {
                if (known[n]) {
                    sum[n] += d[n];
                } else {
                    sum_known = false;
                }
            }
            any_reset = any_reset || reset;
        }
        if (p->port_no == CTL_PORT_LOCAL) {
            snprintf(portname, sizeof portname, "LOCAL");
        } else {
            snprintf(portname, sizeof portname, "%u", p->port_no);
        }
        col_label_at(c, t, s->sw.name, p->port_no == CTL_PORT_LOCAL ? UINT32_MAX : p->port_no,
                     &lab);
        r.n = 0;
        add(&r, fstr(iso));
        add(&r, fdbl(t, 3));
        add(&r, fi64(k));
        add(&r, fdbl(dt, 3));
        add(&r, fstr(s->sw.name));
        add(&r, fstr(s->dpid_hex));
        add(&r, fstr(portname));
        add(&r, fstr(p->name));
        add(&r, p->has_state ? fbool(p->link_down) : fnull());
        add(&r, p->has_state ? fbool(p->blocked) : fnull());
        add(&r, p->has_state ? fbool(p->live) : fnull());
        add(&r, fu64(p->duration_sec));
        for (int n = 0; n < CTL_NCOUNTERS; n++) {
            add(&r, fu64(p->c[n]));
        }
        for (int n = 0; n < CTL_NCOUNTERS; n++) {
            add(&r, known[n] ? fu64(d[n]) : fnull());
        }
        add(&r, fbool(reset));
        add_labels(c, &r, &lab, epbuf, sizeof epbuf);
        write_row(c, &c->ports, &r, &c->scratch);
        next[nnext].port = p->port_no;
        next[nnext].t_s = t;
        next[nnext].dur = p->duration_sec;
        memcpy(next[nnext].c, p->c, sizeof next[nnext].c);
        nnext++;
    }
    for (size_t i = 0; i < st->ntables; i++) {
        active += st->tables[i].active;
        lookups += st->tables[i].lookups;
        matched += st->tables[i].matched;
    }
    col_label_at(c, t, s->sw.name, 0, &lab);
    r.n = 0;
    add(&r, fstr(iso));
    add(&r, fdbl(t, 3));
    add(&r, fi64(k));
    add(&r, fdbl(late * 1000.0, 1));
    add(&r, fdbl(dt, 3));
    add(&r, fstr(s->sw.name));
    add(&r, fstr(s->dpid_hex));
    add(&r, fstr(s->sw.role));
    add(&r, fu64(nports));
    add(&r, fu64(down));
    for (int n = 0; n < CTL_NCOUNTERS; n++) {
        add(&r, sum_known ? fu64(sum[n]) : fnull());
    }
    add(&r, sum_known && dt > 0 ? fdbl((double) sum[CTL_RX_PACKETS] / dt, 2) : fnull());
    add(&r, sum_known && dt > 0 ? fdbl((double) sum[CTL_TX_PACKETS] / dt, 2) : fnull());
    add(&r, sum_known && dt > 0 ? fdbl(8.0 * (double) sum[CTL_RX_BYTES] / dt, 1) : fnull());
    add(&r, sum_known && dt > 0 ? fdbl(8.0 * (double) sum[CTL_TX_BYTES] / dt, 1) : fnull());
    add(&r, st->ntables ? fu64(active) : fnull());
    if (st->ntables && s->have_tables && lookups >= s->lookups && matched >= s->matched) {
        add(&r, fu64(lookups - s->lookups));
        add(&r, fu64(matched - s->matched));
    } else {
        add(&r, fnull());
        add(&r, fnull());
    }
    add(&r, fbool(any_reset));
    add_labels(c, &r, &lab, epbuf, sizeof epbuf);
    write_row(c, &c->samples, &r, &c->scratch);
    count_label(c, lab.label);
    if (c->flows) {
        struct flow_prev *fnext = xcalloc(st->nflows + 1, sizeof *fnext);

        for (size_t i = 0; i < st->nflows; i++) {
            const struct ctl_flow *f = &st->flows[i];
            struct flow_prev key = { flow_key(f), 0, 0 };
            struct flow_prev *prev = s->nflows ? bsearch(&key, s->flows, s->nflows,
                                                         sizeof *s->flows, cmp_flow_prev)
                                               : NULL;
            bool known = prev && f->packets >= prev->packets && f->bytes >= prev->bytes;

            if (!known && isfinite(dt) && (double) f->duration_sec <= dt) {
                known = true; /* added since the last sweep */
                prev = NULL;
            }
            col_label_at(c, t, s->sw.name, 0, &lab);
            r.n = 0;
            add(&r, fstr(iso));
            add(&r, fdbl(t, 3));
            add(&r, fi64(k));
            add(&r, fstr(s->sw.name));
            add(&r, fstr(s->dpid_hex));
            add(&r, fu64(f->table_id));
            add(&r, fu64(f->priority));
            add(&r, fu64(f->cookie));
            add(&r, fu64(f->idle_timeout));
            add(&r, fu64(f->hard_timeout));
            add(&r, fu64(f->duration_sec));
            add(&r, fu64(f->packets));
            add(&r, fu64(f->bytes));
            add(&r, known ? fu64(f->packets - (prev ? prev->packets : 0)) : fnull());
            add(&r, known ? fu64(f->bytes - (prev ? prev->bytes : 0)) : fnull());
            add(&r, fstr(f->match));
            add(&r, fstr(f->actions));
            add_labels(c, &r, &lab, epbuf, sizeof epbuf);
            write_row(c, &c->flowsout, &r, &c->scratch);
            fnext[i] = (struct flow_prev) { key.key, f->packets, f->bytes };
        }
        free_flow_prev(s);
        qsort(fnext, st->nflows, sizeof *fnext, cmp_flow_prev);
        s->flows = fnext;
        s->nflows = st->nflows;
    }
    free(s->ports);
    s->ports = next;
    s->nports = nnext;
    s->t_s = t;
    s->have_tables = st->ntables > 0;
    s->lookups = lookups;
    s->matched = matched;
}

int
col_sweep(struct collector *c, long k, double scheduled)
{
    struct ctl_stats *st = xcalloc(c->nsw + 1, sizeof *st);
    struct sr_error err = { 0 };
    double t = col_now_s(c), late = t - scheduled, t_end;
    char iso[40];
    int failed;

    sr_iso_time(c->wall0 + t, iso, sizeof iso);
    failed = ctl_client_sweep(c->client, c->dpids, c->nsw,
                              CTL_WANT_PORTS | CTL_WANT_TABLES | (c->flows ? CTL_WANT_FLOWS : 0),
                              st, &err);
    t_end = col_now_s(c);
    xgrow((void **) &c->times, &c->cap_times, c->ntimes + 1, sizeof *c->times);
    c->times[c->ntimes++] = t_end - t;
    c->done++;
    if (late > 0.1 * c->interval) {
        c->late++;
    }
    for (size_t i = 0; i < c->nsw; i++) {
        if (st[i].status == 0) {
            switch_rows(c, &c->sw[i], &st[i], k, t, late > 0 ? late : 0, iso);
        }
    }
    if (failed) {
        json_t *names = json_array();

        for (size_t i = 0; i < c->nsw; i++) {
            if (st[i].status != 0) {
                json_array_append_new(names, json_string(c->sw[i].sw.name));
            }
        }
        json_array_append_new(c->gaps,
                              json_pack("{s:I, s:f, s:s, s:s, s:o, s:s}", "sweep", (json_int_t) k,
                                        "t_s", round(t * 1000) / 1000, "time", iso, "kind",
                                        (size_t) failed == c->nsw ? "failed" : "partial",
                                        "switches", names, "error", err.msg));
        if ((size_t) failed == c->nsw) {
            c->failed++;
        } else {
            c->partial++;
        }
    }
    for (size_t i = 0; i < c->nsw; i++) {
        ctl_stats_release(&st[i]);
    }
    free(st);
    flush_out(c, &c->samples);
    flush_out(c, &c->ports);
    flush_out(c, &c->flowsout);
    commit_out(c, &c->samples);
    commit_out(c, &c->ports);
    commit_out(c, &c->flowsout);
    if (!c->werr.code) {
        const char *label;
        json_t *v;

        json_object_foreach(c->labels_sweep, label, v) {
            json_t *had = json_object_get(c->labels, label);

            json_object_set_new(c->labels, label,
                                json_integer(json_integer_value(v) +
                                             (had ? json_integer_value(had) : 0)));
        }
    }
    json_object_clear(c->labels_sweep);
    if (!c->werr.code) {
        struct col_label lab;
        struct col_truth truth;

        col_label_at(c, t, "", 0, &lab);
        truth = (struct col_truth) { lab.label, lab.fault_id, lab.target, lab.phase };
        for (size_t i = 0; i < c->nsinks; i++) {
            if (c->sinks[i].ops->sweep) {
                c->sinks[i].ops->sweep(c->sinks[i].ctx, k, t, &truth);
            }
        }
        write_manifest(c, "running");
    }
    return failed;
}

int
col_run(struct collector *c, double duration_s, col_tick_fn *tick, col_idle_fn *idle,
        void *ctx)
{
    for (long k = 0;; k++) {
        double scheduled = (double) k * c->interval, now = col_now_s(c);

        if (scheduled >= duration_s - 1e-9) {
            return 0;
        }
        while (now < scheduled) {
            double wait = scheduled - now;
            int sig;

            if (idle) {
                double again = idle(ctx, c, scheduled);

                now = col_now_s(c);
                wait = fmin(scheduled - now, again);
            }
            sig = wait > 0 ? sr_signals_sleep((int) (wait * 1000.0) + 1) : sr_signals_pending();
            if (sig) {
                return sig;
            }
            now = col_now_s(c);
        }
        if (sr_signals_pending()) {
            return sr_signals_pending();
        }
        if (now >= scheduled + c->interval) {
            /* The sweep before overran: these slots had no sweep at all. */
            long next = (long) floor(now / c->interval);

            json_array_append_new(c->gaps, json_pack("{s:I, s:I, s:f, s:s}", "sweep",
                                                     (json_int_t) k, "until_sweep",
                                                     (json_int_t) next - 1, "t_s", scheduled,
                                                     "kind", "missed"));
            c->missed += next - k;
            k = next;
            scheduled = (double) k * c->interval;
            if (scheduled >= duration_s - 1e-9) {
                return 0;
            }
        }
        col_sweep(c, k, scheduled);
        if (c->werr.code) {
            return -c->werr.code;
        }
        if (tick && !tick(ctx, c, k, col_now_s(c))) {
            return c->werr.code ? -c->werr.code : 0;
        }
    }
}

void
col_manifest_set(struct collector *c, const char *key, json_t *value)
{
    json_object_set_new(c->manifest_base, key, value);
}

void
col_finish(struct collector *c, const char *status)
{
    if (!c) {
        return;
    }
    close_out(c, &c->samples);
    close_out(c, &c->ports);
    close_out(c, &c->flowsout);
    /* The reserve gives the last manifest its room on a full disk. */
    col_release_reserve(c);
    for (size_t i = 0; i < c->nsinks; i++) {
        struct sr_error e = { 0 };
        json_t *part = json_object();

        if (c->sinks[i].ops->finish && c->sinks[i].ops->finish(c->sinks[i].ctx, part, &e) < 0) {
            json_array_append_new(c->warnings, json_sprintf("%s: %s", c->sinks[i].ops->name,
                                                            e.msg));
        }
        json_object_set_new(c->manifest_base, c->sinks[i].ops->name, part);
    }
    write_manifest(c, c->werr.code || c->failure ? "failed" : status);
    for (size_t i = 0; i < c->nsw; i++) {
        free(c->sw[i].ports);
        free_flow_prev(&c->sw[i]);
    }
    json_decref(c->gaps);
    json_decref(c->warnings);
    json_decref(c->labels);
    json_decref(c->labels_sweep);
    json_decref(c->manifest_base);
    sr_buf_release(&c->scratch);
    free(c->times);
    free(c->sw);
    free(c->dpids);
    free(c->faults);
    free(c->dir);
    free(c->run);
    free(c->reserve);
    free(c->failure);
    free(c->sinks);
    free(c);
}
