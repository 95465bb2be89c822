/* The collector: polls the controller's statistics on its own clock and
 * writes the labelled dataset (DESIGN.md §8).
 *
 * Sweep k starts at start + k * interval.  A sweep that starts late is
 * written with how late it was; sweeps that could not start at all (the one
 * before overran) are recorded as missed.  A sweep that fails (controller
 * down, time-out) writes no rows: it goes into the manifest as a gap.
 * Counters are cumulative at the controller; rows carry per-interval deltas
 * and rates, empty (never zero) when they are not known: the first time a
 * port is seen, and across a counter reset the delta counts from the reset.
 *
 * Labels come from fault events given to col_fault_event() as they happen
 * (inject, revert, reverted): a row is labelled with a fault from the first
 * sweep that starts at or after the injection until the sweep before the
 * one that starts at or after 'reverted'. */
#ifndef SR_COLLECTOR_H
#define SR_COLLECTOR_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "error.h"
#include "sink.h"

struct col_options {
    const char *dir;          /* run directory, must exist */
    double interval_s;        /* seconds between sweeps */
    bool csv, jsonl;          /* formats to write (at least one) */
    bool flows;               /* also flows.csv / flows.jsonl */
    json_t *manifest;         /* borrowed: fields copied into manifest.json */
    const char *run;          /* the 'run' column: "<scenario>-<seed>"; NULL: "" */
};

/* The columns of every table that hold the ground truth and the run and
 * episode of a row (NULL-terminated): what sinks leave out for a diagnoser. */
extern const char *const col_label_cols[];

struct col_switch {
    uint64_t dpid;
    const char *name;         /* borrowed */
    const char *role;         /* "core", "gateway", "access" */
};

/* What a fault touches: a whole switch (port 0) or one port of it. */
struct col_touch {
    const char *sw;           /* borrowed switch name */
    uint32_t port;
};

struct col_fault {
    int id;
    const char *type;         /* borrowed */
    const char *target;       /* borrowed, as resolved ("c3", "c1-c2", "d1h2", "all") */
    const struct col_touch *touched; /* borrowed; NULL with n 0 and 'all' true */
    size_t ntouched;
    bool all;                 /* touches every switch */
};

/* COL_HEALED: the controller undid the fault by itself (phase "healed"
 * from then until the revert; the label stays the fault's). */
enum col_event { COL_INJECT, COL_VERIFIED, COL_REVERT, COL_REVERTED, COL_FAILED, COL_HEALED };

struct collector;

/* Creates the collector, opens its files and writes the manifest with
 * status "running".  'client' is borrowed. */
struct collector *col_new(const struct col_options *o, const struct col_switch *sws,
                          size_t nsw, const struct col_fault *faults, size_t nfaults,
                          struct ctl_client *client, struct sr_error *err);

/* Adds a sink (borrowed; it outlives the collector's col_finish, which
 * calls its 'finish' and puts what it reports in the manifest). */
void col_add_sink(struct collector *c, const struct col_sink *sink);

/* Hands a line of faults.jsonl (borrowed) to the sinks. */
void col_fault_record(struct collector *c, json_t *event);

/* Records that fault 'id' reached 'ev' at 't_s' seconds after the start of
 * collection (col_now_s()). */
void col_fault_event(struct collector *c, int id, enum col_event ev, double t_s);

/* Records that at 't_s' a share 'share' (0 to 1) of the flows fault 'id'
 * changed were still as it made them: rows of later sweeps, until the
 * next such look, carry it in 'fault_effect'. */
void col_fault_effect(struct collector *c, int id, double t_s, double share);

/* Adds a line to the manifest's warnings (what the caller saw go wrong
 * that the rows themselves do not show). */
void col_warn(struct collector *c, const char *msg);

/* Seconds since collection started. */
double col_now_s(const struct collector *c);

/* Called after every sweep (k is its number); returning false stops. */
typedef bool col_tick_fn(void *ctx, struct collector *c, long k, double t_s);
/* Called while the collector waits for its next sweep, due at
 * 'next_sweep_s' (col_now_s's clock): work that fits before it may run
 * there.  Returns how soon (seconds) it wants to be called again. */
typedef double col_idle_fn(void *ctx, struct collector *c, double next_sweep_s);

/* Sweeps until 'duration_s' has passed, a signal arrives (see
 * sr_signals_install), 'tick' says stop, or a write of the dataset fails.
 * Returns 0, the signal number that stopped it, or the negative code of
 * the failed write (col_write_error() says which: SR_ENOSPC for a full
 * disk). */
int col_run(struct collector *c, double duration_s, col_tick_fn *tick, col_idle_fn *idle,
            void *ctx);

/* Runs sweep 'k' now (for tests and benchmarks).  Returns the number of
 * switches that failed. */
int col_sweep(struct collector *c, long k, double scheduled_s);

/* Records why the run failed (outside the collector's own writes): the
 * manifest's "failure", and status "failed" at col_finish(). */
void col_set_failure(struct collector *c, const char *why);

/* Frees the disk the collector kept for its last manifest (done by
 * col_finish too): call it once a write failed, so the little that must
 * still be written (the revert's events, the manifest) finds room. */
void col_release_reserve(struct collector *c);

/* The first write of the dataset that failed (the files then hold whole
 * sweeps up to the one before), or NULL. */
const struct sr_error *col_write_error(const struct collector *c);

/* Writes the final manifest with 'status' ("complete", "interrupted",
 * "failed"; "failed" whatever is asked after a failed write, with the
 * reason under "failure"), closes the files and frees 'c'.  Accepts NULL.
 * A reserve of disk kept since col_new() gives this last manifest room on
 * a full disk. */
void col_finish(struct collector *c, const char *status);

/* Sets 'key' of the manifest to 'value' (consumed) from now on. */
void col_manifest_set(struct collector *c, const char *key, json_t *value);

/* Sweep durations so far: median and 95th percentile in seconds. */
void col_sweep_times(const struct collector *c, double *p50, double *p95);

/* ---- pieces exposed for unit tests ---- */

/* A counter's change between two readings; false when unknown. */
struct col_prev {
    bool have;
    double t_s;
    uint64_t duration_sec;
    uint64_t value;
};
/* Delta of counter 'cur' (with the port's 'duration_sec' at 't_s') since
 * 'prev'.  A counter below its previous value, or a duration below the
 * previous one, is a reset: the delta is then the new value.  Returns
 * false when no delta is known (no previous reading).  Sets '*reset'. */
bool col_delta(const struct col_prev *prev, uint64_t cur, uint64_t duration_sec,
               uint64_t *delta, bool *reset);

struct col_label {
    const char *label;        /* "normal" or the fault type */
    int fault_id;             /* 0 when normal */
    const char *target;       /* "" when normal */
    const char *phase;        /* "normal", "active", "recovery" */
    double since_onset_s;     /* < 0 when normal */
    bool on_target;
    double effect;            /* share of the changed flows still changed; < 0 unknown */
    int stretch;              /* normal: faults reverted before it (0: before the first) */
};
/* The label of a row of switch 'sw' (port 'port', 0 for the whole switch)
 * for a sweep that started at 't_s'. */
void col_label_at(const struct collector *c, double t_s, const char *sw, uint32_t port,
                  struct col_label *out);

/* Appends the label cells of a row of switch 'sw' port 'port' at 't_s',
 * each preceded by a comma, as the collector's own CSV tables write them
 * (the columns col_label_cols names): for tables written beside the
 * collector's (capture.csv, pflows.csv). */
struct sr_buf;
void col_label_cells(const struct collector *c, double t_s, const char *sw, uint32_t port,
                     struct sr_buf *b);

/* The wall-clock time (seconds since the epoch) of collection time 0. */
double col_wall0(const struct collector *c);

/* Appends 's' to 'b' as one RFC 4180 CSV field (quoted when it holds a
 * comma, a quote, CR or LF; quotes doubled). */
struct sr_buf;
void col_csv_field(struct sr_buf *b, const char *s);

#endif
