/* A run's plan: the scenario with its topology and fault timeline built and
 * cross-checked.  Building it needs no root and no network; 'simrun check',
 * 'simrun plan' and 'simrun topo' stop here, a run starts from it. */
#ifndef SR_PLAN_H
#define SR_PLAN_H 1

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "faults.h"
#include "scenario.h"
#include "topology.h"

struct sim_plan {
    const struct scenario *scn; /* borrowed: outlives the plan */
    struct topology *topo;
    int busiest;                /* core switch index, -1 if not needed */
    struct flt_world world;     /* arrays owned by the plan */
    char **link_names;          /* the world's link names ("c1-c2"), owned */
    size_t nlink_names;
    struct flt_timeline timeline;
    int64_t duration_ms;        /* final run length (a campaign may set it) */
};

/* Fills 'p' from the scenario's topology section. */
void sim_topo_params(const struct scenario *scn, struct topo_params *p);

/* Builds the plan for 'scn'.  Problems that point into the scenario file
 * (a target that does not exist, overlapping faults, a fault after the end)
 * go to 'diags'; then NULL is returned with 'err' summarising. */
struct sim_plan *sim_plan_build(const struct scenario *scn, struct scn_diags *diags,
                                struct sr_error *err);
void sim_plan_free(struct sim_plan *p);

#endif
