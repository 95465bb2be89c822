/* The Kafka sink: every row the collector writes as one JSON message,
 * keyed by its switch (so one switch's rows stay in order on one
 * partition), and every fault event on a topic of its own:
 *
 *   <topic>           samples rows
 *   <topic>.ports     ports rows (when the run writes them)
 *   <topic>.flows     flows rows (when the run writes them)
 *   <topic>.faults    the lines of faults.jsonl, keyed by fault id
 *
 * Rows leave without their label columns unless 'labels' (a diagnoser fed
 * from the topic must not see the truth; the faults topic carries it).
 * The producer is librdkafka's, idempotent (no duplicates, order kept
 * through retries); its own threads send, and one of ours serves the
 * delivery reports, so the collector never waits.  A message the local
 * queue has no room for is counted as dropped; at the end the sink waits
 * (bounded) until every message is delivered and reports any it lost. */
#ifndef SR_KAFKA_H
#define SR_KAFKA_H 1

#include <stdbool.h>

#include "error.h"
#include "sink.h"

struct kf_config {
    const char *brokers;      /* host:port,... (scn_brokers_valid) */
    const char *topic;
    bool labels;              /* keep the label columns in the rows */
    long flush_ms;            /* how long the end waits for deliveries */
};

struct kf_sink;

struct kf_sink *kf_sink_new(const struct kf_config *cfg, struct sr_error *err);

/* The sink's operations (see sink.h); 'ctx' is the kf_sink. */
extern const struct col_sink_ops kf_sink_ops;

struct kf_stats {
    long produced;            /* handed to librdkafka */
    long delivered;           /* acknowledged by the cluster */
    long failed;              /* reported undeliverable */
    long dropped;             /* no room in the local queue */
    long pending;             /* neither delivered nor failed yet */
};

void kf_sink_stats(struct kf_sink *s, struct kf_stats *out);

#endif
