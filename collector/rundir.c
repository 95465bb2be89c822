#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "util.h"

/* Columns whose values are text (everything else is a number, a boolean
 * or empty): they stay strings even when they look like numbers ("dpid"
 * is hex, "port" may be "LOCAL", "0001"...). */
static const char *const string_cols[] = {
    "time", "switch", "dpid", "role", "port", "name", "match", "actions", "label",
    "fault_target", "fault_phase", "run", "episode", "service", "host", "peer", NULL,
};
static const char *const bool_cols[] = {
    "link_down", "blocked", "live", "counter_reset", "on_target", NULL,
};

static bool
in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++) {
        if (!strcmp(list[i], name)) {
            return true;
        }
    }
    return false;
}

enum col_kind { K_NUMBER, K_STRING, K_BOOL };

static enum col_kind
kind_of(const char *name)
{
    return in_list(string_cols, name) ? K_STRING : in_list(bool_cols, name) ? K_BOOL : K_NUMBER;
}

static json_t *
row_from_csv(char *const *names, const enum col_kind *kinds, char *const *values, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; i < n; i++) {
        const char *v = values[i];
        json_t *j;
        int64_t iv;
        double dv;

        if (kinds[i] == K_STRING) {
            j = json_string(v);
        } else if (!*v) {
            j = json_null();
        } else if (kinds[i] == K_BOOL) {
            j = json_boolean(!strcmp(v, "1"));
        } else if (sr_parse_i64(v, INT64_MIN, INT64_MAX, &iv)) {
            j = json_integer((json_int_t) iv);
        } else if (strpbrk(v, ".eE") && sr_parse_double(v, &dv)) {
            j = json_real(dv);
        } else {
            j = json_string(v); /* a counter above 2^63-1, as JSON Lines keeps it */
        }
        json_object_set_new(o, names[i], j);
    }
    return o;
}

json_t *
rd_row_from_csv(char *const *names, char *const *values, size_t n)
{
    enum col_kind *kinds = xcalloc(n ? n : 1, sizeof *kinds);
    json_t *o;

    for (size_t i = 0; i < n; i++) {
        kinds[i] = kind_of(names[i]);
    }
    o = row_from_csv(names, kinds, values, n);
    free(kinds);
    return o;
}

json_t *
rd_manifest(const char *dir, struct sr_error *err)
{
    char *path = xasprintf("%s/manifest.json", dir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);

    if (!m || !json_is_object(m)) {
        sr_error_set(err, access(path, R_OK) == 0 ? SR_EINVAL : SR_ENOTFOUND,
                     "cannot read '%s': %s", path, m ? "not a JSON object" : je.text);
        json_decref(m);
        m = NULL;
    }
    free(path);
    return m;
}

json_t *
rd_events(const char *dir, struct sr_error *err)
{
    char *path = xasprintf("%s/faults.jsonl", dir), line[65536];
    FILE *f = fopen(path, "r");
    json_t *out = json_array();
    int n = 0;

    while (f && fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);

        n++;
        if (!json_is_object(e)) {
            sr_error_set(err, SR_EINVAL, "%s:%d: not a JSON object", path, n);
            json_decref(e);
            json_decref(out);
            out = NULL;
            break;
        }
        json_array_append_new(out, e);
    }
    if (f) {
        fclose(f);
    }
    free(path);
    return out;
}

struct rd_rows {
    FILE *f;
    bool csv;
    char *path;
    struct sr_csv_record head, rec;
    enum col_kind *kinds;     /* of each header column, for CSV */
    struct sr_buf line;
    struct sr_error err;
    long n;
};

bool
rd_rows_exist(const char *dir, const char *table)
{
    char *j = xasprintf("%s/%s.jsonl", dir, table), *c = xasprintf("%s/%s.csv", dir, table);
    bool yes = access(j, F_OK) == 0 || access(c, F_OK) == 0;

    free(j);
    free(c);
    return yes;
}

struct rd_rows *
rd_rows_open(const char *dir, const char *table, struct sr_error *err)
{
    struct rd_rows *r = xcalloc(1, sizeof *r);

    r->path = xasprintf("%s/%s.jsonl", dir, table);
    r->f = fopen(r->path, "r");
    if (!r->f) {
        free(r->path);
        r->path = xasprintf("%s/%s.csv", dir, table);
        r->f = fopen(r->path, "r");
        r->csv = true;
    }
    if (!r->f) {
        sr_error_set(err, SR_ENOTFOUND, "the run in '%s' has no %s (neither %s.jsonl nor "
                     "%s.csv)", dir, table, table, table);
        free(r->path);
        free(r);
        return NULL;
    }
    if (r->csv && sr_csv_read(r->f, &r->head, err) != 1) {
        if (!err->code) {
            sr_error_set(err, SR_EINVAL, "'%s' is empty (no header)", r->path);
        }
        rd_rows_close(r);
        return NULL;
    }
    if (r->csv) {
        r->kinds = xcalloc(r->head.n ? r->head.n : 1, sizeof *r->kinds);
        for (size_t i = 0; i < r->head.n; i++) {
            r->kinds[i] = kind_of(r->head.fields[i]);
        }
    }
    return r;
}

json_t *
rd_rows_next(struct rd_rows *r)
{
    if (r->err.code) {
        return NULL;
    }
    if (r->csv) {
        int rc = sr_csv_read(r->f, &r->rec, &r->err);

        if (rc != 1) {
            return NULL;
        }
        r->n++;
        if (r->rec.n != r->head.n) {
            sr_error_set(&r->err, SR_EINVAL, "%s: row %ld has %zu fields, the header %zu",
                         r->path, r->n, r->rec.n, r->head.n);
            return NULL;
        }
        return row_from_csv(r->head.fields, r->kinds, r->rec.fields, r->rec.n);
    }
    for (;;) {
        char chunk[8192];
        json_error_t je;
        json_t *o;

        sr_buf_clear(&r->line);
        while (fgets(chunk, sizeof chunk, r->f)) {
            sr_buf_puts(&r->line, chunk);
            if (r->line.len && r->line.data[r->line.len - 1] == '\n') {
                break;
            }
        }
        if (!r->line.len) {
            return NULL;
        }
        r->n++;
        o = json_loads(r->line.data, 0, &je);
        if (!json_is_object(o)) {
            sr_error_set(&r->err, SR_EINVAL, "%s:%ld: %s", r->path, r->n,
                         o ? "not a JSON object" : je.text);
            json_decref(o);
            return NULL;
        }
        return o;
    }
}

const struct sr_error *
rd_rows_error(const struct rd_rows *r)
{
    return r->err.code ? &r->err : NULL;
}

void
rd_rows_close(struct rd_rows *r)
{
    if (!r) {
        return;
    }
    if (r->f) {
        fclose(r->f);
    }
    sr_csv_record_release(&r->head);
    sr_csv_record_release(&r->rec);
    sr_buf_release(&r->line);
    free(r->kinds);
    free(r->path);
    free(r);
}
