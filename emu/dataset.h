/* What a run's dataset records about the run itself (manifest.json). */
#ifndef SR_DATASET_H
#define SR_DATASET_H 1

#include <jansson.h>

#include "collector.h"
#include "plan.h"

/* The manifest fields a plan determines: simrun's version, the scenario
 * (path, name, SHA-256 of the file), seed, topology summary, controller.
 * 'controller_url' may be NULL.  A new reference. */
json_t *sim_manifest_base(const struct sim_plan *plan, const char *controller_kind,
                          const char *controller_url);

/* The collector's view of the plan's switches (names borrowed from the
 * plan's topology; free the array). */
struct col_switch *sim_col_switches(const struct sim_plan *plan);

#endif
