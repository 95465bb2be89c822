/* The shortcut audit: which single column of a dataset, or which single
 * rule shape in its flow tables, tells a fault type from normal on its
 * own.  A dataset where one does is one a diagnoser can score well on by
 * learning that column or shape instead of the fault: on a real network,
 * whose tables hold drop rules, in-port matches, time-outs and meters in
 * normal time, it would fail.
 *
 * The unit is the sweep (every switch of the network at one time, as a
 * diagnoser's window sees it): for each sweep, each numeric column of
 * samples.csv and ports.csv summed and maxed over its rows, and, from
 * flows.csv, how many flows have each shape -- their match fields, their
 * actions, time-outs set or not, in_port matched or not, cookie, priority,
 * table, LLDP or a service port in the match.  A feature separates fault type T when one
 * threshold (>= or <=) or one value gives precision >= 'min_precision'
 * and recall >= 'min_recall' over T's active sweeps against the normal
 * ones. */
#ifndef SR_AUDIT_H
#define SR_AUDIT_H 1

#include <jansson.h>

#include "error.h"

struct au_audit;

struct au_audit *au_new(void);
void au_free(struct au_audit *a);

/* Adds the sweeps of one run directory, or of a merged dataset (its 'run'
 * column keeps the runs apart).  Needs samples; ports and flows are read
 * when the run kept them. */
int au_add_run(struct au_audit *a, const char *dir, struct sr_error *err);

/* The findings (a new reference):
 *   {"sweeps": {"normal": N, TYPE: N...}, "features": N,
 *    "min_precision": P, "min_recall": R,
 *    "shortcuts": {TYPE: [{"feature", "kind": "rule shape"|"column",
 *                          "test": "present", ">=", "<=" or "==", "value",
 *                          "precision", "recall"}, ...]}}
 * where "present" (a rule shape only) means a flow of that shape is there
 * at all, the plainest shortcut, reported whenever it passes the bars;
 * each type's list best first (precision, then recall), at most 'max_each'
 * of them; types with none have an empty list. */
json_t *au_result(const struct au_audit *a, double min_precision, double min_recall,
                  size_t max_each);

#endif
