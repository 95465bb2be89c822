/* The traffic agents' plans: one JSON file per host, written from the
 * scenario's [traffic] section (see traffic/agent.h for what each role
 * reads). */
#ifndef SR_TRAFFIC_PLAN_H
#define SR_TRAFFIC_PLAN_H 1

#include <jansson.h>

#include "error.h"
#include "plan.h"

/* Writes DIR/<host>.json for every host.  Video clients are chosen with
 * the scenario's seed (round(clients x users) of the users) and spread
 * round-robin over the servers. */
int sim_write_traffic_plans(const struct sim_plan *plan, const char *dir, struct sr_error *err);

/* How many users watch video: round(clients x users), none without
 * servers or with video off. */
size_t sim_video_viewers(const struct sim_plan *plan);

/* Joins the agents' DIR/<host>.kpi.jsonl files into 'out' ordered by time;
 * counts records per service into 'counts' (an object).  Returns the
 * number of records. */
long sim_gather_kpis(const struct sim_plan *plan, const char *dir, const char *out,
                     json_t *counts, struct sr_error *err);

#endif
