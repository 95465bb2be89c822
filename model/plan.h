/* A run's plan: the scenario with its topology and fault timeline built and
 * cross-checked.  Building it needs no root and no network; 'simrun check',
 * 'simrun plan' and 'simrun topo' stop here, a run starts from it. */
#ifndef SR_PLAN_H
#define SR_PLAN_H 1

#include <stdint.h>
#include <stdio.h>

#include "apps.h"
#include "churn.h"
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
    struct sim_apps apps;       /* the embedded controller's applications */
    struct sim_churn churn;     /* flash crowds and departures ([traffic.churn]) */
};

/* Fills 'p' from the scenario's topology section. */
void sim_topo_params(const struct scenario *scn, struct topo_params *p);

/* Builds the plan for 'scn'.  Problems that point into the scenario file
 * (a target that does not exist, overlapping faults, a fault after the end)
 * go to 'diags'; then NULL is returned with 'err' summarising. */
struct sim_plan *sim_plan_build(const struct scenario *scn, struct scn_diags *diags,
                                struct sr_error *err);
void sim_plan_free(struct sim_plan *p);

/* An interface [capture] selects: a host's eth0 (host >= 0, in its
 * namespace) or a switch's port (host -1, in the root namespace); 'sw' and
 * 'port' are the switch port it is or faces. */
struct sim_capture_if {
    char name[48];            /* "u1h1-eth0", "c1-eth2" */
    int host;                 /* index in topo->host, or -1 */
    int sw;                   /* index in topo->sw */
    int port;
};

/* The interfaces the scenario's [capture] selects, each once, in the order
 * of the selectors ("target": for every episode's target a switch's ports,
 * a link's end on its first switch, a host's interface; a fault on the
 * whole network adds none).  '*out' is malloc'd; returns how many. */
size_t sim_capture_ifaces(const struct sim_plan *p, struct sim_capture_if **out);

/* The same for the selectors 'sel' (as [capture] 'on' takes them).
 * Returns how many, or -1 with 'why' naming the first selector that names
 * nothing (then '*out' is NULL). */
long sim_capture_select(const struct sim_plan *p, const char *const *sel, size_t n,
                        struct sim_capture_if **out, char *why, size_t whysize);

#endif
