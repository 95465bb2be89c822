#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void
put(struct sr_csv_record *rec, size_t *len, char c)
{
    xgrow((void **) &rec->store, &rec->store_cap, *len + 1, 1);
    rec->store[(*len)++] = c;
}

int
sr_csv_read(FILE *f, struct sr_csv_record *rec, struct sr_error *err)
{
    size_t len = 0, nstarts = 0, *starts = NULL, cap_starts = 0;
    bool quoted = false, any = false, field_started = true;
    int c;

    for (;;) {
        c = getc_unlocked(f);
        if (c == EOF) {
            if (ferror(f)) {
                free(starts);
                return sr_error_set(err, SR_EIO, "cannot read CSV: %s", strerror(errno));
            }
            if (quoted) {
                free(starts);
                return sr_error_set(err, SR_EINVAL, "CSV ends inside a quoted field");
            }
            if (!any) {
                free(starts);
                return 0;
            }
            break;
        }
        any = true;
        if (field_started) {
            xgrow((void **) &starts, &cap_starts, nstarts + 1, sizeof *starts);
            starts[nstarts++] = len;
            field_started = false;
        }
        if (quoted) {
            if (c == '"') {
                int d = getc_unlocked(f);

                if (d == '"') {
                    put(rec, &len, '"');
                } else {
                    quoted = false;
                    if (d != EOF) {
                        ungetc(d, f);
                    }
                }
            } else {
                put(rec, &len, (char) c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            put(rec, &len, '\0');
            field_started = true;
        } else if (c == '\r') {
            /* the CR of CRLF */
        } else if (c == '\n') {
            break;
        } else {
            put(rec, &len, (char) c);
        }
    }
    if (field_started) {
        /* A trailing comma: one more, empty field. */
        xgrow((void **) &starts, &cap_starts, nstarts + 1, sizeof *starts);
        starts[nstarts++] = len;
    }
    put(rec, &len, '\0');
    xgrow((void **) &rec->fields, &rec->cap, nstarts + 1, sizeof *rec->fields);
    for (size_t i = 0; i < nstarts; i++) {
        rec->fields[i] = rec->store + starts[i];
    }
    rec->n = nstarts;
    free(starts);
    return 1;
}

void
sr_csv_record_release(struct sr_csv_record *rec)
{
    free(rec->fields);
    free(rec->store);
    memset(rec, 0, sizeof *rec);
}
