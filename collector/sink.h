/* Where a run's records go besides its files: a Kafka topic, a diagnoser's
 * window API.  Each kind is a table of operations (as a fault type is); the
 * collector hands every sink the rows it writes, the end of each sweep it
 * wrote whole, and the fault events; replay feeds them the same from a
 * recorded run.  A sink never blocks the collector: what takes time happens
 * on its own thread. */
#ifndef SR_SINK_H
#define SR_SINK_H 1

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* The ground truth of a moment, for sinks that score (see col_label). */
struct col_truth {
    const char *label;        /* "normal" or the fault type */
    int fault_id;             /* 0 when normal */
    const char *target;       /* "" when normal */
    const char *phase;        /* "normal", "active", "healed", "recovery", "failed" */
};

struct col_sink_ops {
    const char *name;         /* "kafka", "diagnoser" */
    /* One row of 'table' ("samples", "ports", "flows"), as its JSON Lines
     * record (borrowed; take a reference to keep it). */
    void (*row)(void *ctx, const char *table, json_t *row);
    /* Sweep 'k' (collection time 't_s') is written whole; 'truth' is the
     * label of that moment. */
    void (*sweep)(void *ctx, long k, double t_s, const struct col_truth *truth);
    /* A line of faults.jsonl (borrowed). */
    void (*event)(void *ctx, json_t *event);
    /* The run ends: finish what is under way (bounded), add what the sink
     * did to 'manifest' (an object, under the sink's name), and return 0,
     * or a negative code when records were lost ('err' says how many). */
    int (*finish)(void *ctx, json_t *manifest, struct sr_error *err);
    void (*free)(void *ctx);
};

struct col_sink {
    const struct col_sink_ops *ops;
    void *ctx;
};

#endif
