/* The window API: simrun sends a diagnoser windows of the run's records
 * and keeps its answers beside the ground truth (docs/diagnosers.md; the
 * shapes are docs/protocols/diagnoser-window.schema.json).
 *
 * A window is the samples rows (and, when asked, the ports rows, and the
 * flows of its last sweep) of the last 'window_s' seconds, in time order,
 * without the label columns; the first window of a session also carries
 * the topology summary.  One window is built every 'every_s' seconds of
 * the run, as the sweeps come in; a thread of the sink posts them (at most
 * 'concurrency' at once, each with a time-out) and writes every answer,
 * or why there was none, to diagnoses.jsonl.  The collector never waits
 * for a diagnoser: a full queue drops its oldest window (counted) — except
 * in replay, which waits for room instead ('block'). */
#ifndef SR_DIAGNOSER_H
#define SR_DIAGNOSER_H 1

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "sink.h"

struct sr_trace;

struct dg_config {
    const char *url;          /* where windows are POSTed */
    double window_s;          /* how much of the past a window holds */
    double every_s;           /* one window this often (of run time) */
    double interval_s;        /* the collector's, told to the diagnoser */
    long timeout_ms;          /* per request */
    int concurrency;          /* requests under way at once */
    int queue_max;            /* windows waiting to be sent */
    bool ports;               /* include the ports rows */
    bool flows;               /* include the flows of the window's last sweep */
    bool block;               /* a full queue waits (replay) instead of dropping */
    const char *session;      /* names the run for the diagnoser */
    json_t *topology;         /* sent with the first window (copied) */
    const char *out_path;     /* diagnoses.jsonl, created fresh (with 'url') */
    /* Also (or, without 'url', only) every window with its truth, one JSON
     * line {"truth": {...}, "window": {...}} each: what a diagnoser is
     * trained on is then exactly what it is sent (created fresh). */
    const char *windows_path;
    struct sr_trace *trace;   /* borrowed, may be NULL */
};

struct dg_sink;

/* Starts a sink (with 'url', its thread too).  NULL with 'err' on
 * failure. */
struct dg_sink *dg_sink_new(const struct dg_config *cfg, struct sr_error *err);

/* The sink's operations (see sink.h); 'ctx' is the dg_sink. */
extern const struct col_sink_ops dg_sink_ops;

struct dg_stats {
    long windows;             /* built */
    long sent;                /* posted */
    long answers;             /* answered with a valid diagnosis */
    long errors;              /* no answer, an HTTP error, or an answer that is not one */
    long timeouts;            /* of the errors, those that timed out */
    long dropped;             /* windows dropped from a full queue */
    double p50_ms, p95_ms, p99_ms; /* latency of the answered requests */
};

/* What the sink did so far. */
void dg_sink_stats(struct dg_sink *s, struct dg_stats *out);

#endif
