/* Reading a run directory back: its manifest, its fault events, and its
 * rows table by table as the same JSON objects the collector wrote to its
 * JSON Lines files, whether the run kept CSV, JSON Lines or both.  Replay,
 * score, report and merge read runs through this. */
#ifndef SR_RUNDIR_H
#define SR_RUNDIR_H 1

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rd_rows;

/* The run's manifest.json (a new reference), or NULL with 'err'. */
json_t *rd_manifest(const char *dir, struct sr_error *err);

/* The lines of faults.jsonl as an array (a new reference; empty when the
 * run had no file), or NULL with 'err' for a line that is not JSON. */
json_t *rd_events(const char *dir, struct sr_error *err);

/* Opens table 'table' ("samples", "ports", "flows") of the run: its JSON
 * Lines file when there is one, else its CSV.  NULL with 'err' when the
 * run has neither (SR_ENOTFOUND). */
struct rd_rows *rd_rows_open(const char *dir, const char *table, struct sr_error *err);

/* Whether the run kept table 'table' (as JSON Lines or CSV). */
bool rd_rows_exist(const char *dir, const char *table);

/* The next row (a new reference), NULL at the end or on an error (then
 * rd_rows_error says which). */
json_t *rd_rows_next(struct rd_rows *r);
const struct sr_error *rd_rows_error(const struct rd_rows *r);
void rd_rows_close(struct rd_rows *r);

/* One CSV row of 'table' as the JSON object the collector writes for it:
 * strings, integers, reals, booleans and nulls where the JSON Lines file
 * has them. */
json_t *rd_row_from_csv(char *const *names, char *const *values, size_t n);

#endif
