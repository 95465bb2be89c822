/* Reading RFC 4180 CSV (what the collector writes: fields quoted when they
 * hold a comma, a quote, CR or LF; quotes doubled; CRLF line ends). */
#ifndef SR_CSV_H
#define SR_CSV_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

struct sr_csv_record {
    char **fields;            /* NUL-terminated, owned by the record */
    size_t n, cap;
    char *store;              /* the fields' bytes */
    size_t store_cap;
};

/* Reads the next record from 'f' into 'rec' (reused between calls).
 * Returns 1 with a record, 0 at the end, or a negative code for a record
 * the file ends inside of (an unclosed quote) or a read error. */
int sr_csv_read(FILE *f, struct sr_csv_record *rec, struct sr_error *err);
void sr_csv_record_release(struct sr_csv_record *rec);

#endif
