/* Benign churn in the traffic: what a real network's users do that looks
 * like a traffic fault without being one.  A load curve over the run (the
 * busy and the quiet hours, compressed), flash crowds (one service's
 * demand x3 to x10, or two to four extra video streams per user, across
 * one access network for 10 to 90 s: like congestion or a heavy streaming
 * host) and departures (a user host starts no new session for 30 to 180 s).
 * Drawn per run from the scenario's seed ([traffic.churn]), shown by
 * 'simrun plan', carried out through the traffic agents' control sockets
 * and recorded in changes.jsonl; the rows stay labelled normal.  Never
 * while a traffic fault is in the air: both set the same agents' load. */
#ifndef SR_CHURN_H
#define SR_CHURN_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "scenario.h"
#include "topology.h"

enum sim_churn_kind { SIM_CHURN_FLASH, SIM_CHURN_DEPART };

struct sim_churn_event {
    int64_t at_ms, duration_ms; /* after the network is ready */
    enum sim_churn_kind kind;
    const char *service;      /* FLASH: "video", "chat", "p2p", "web" or "mail" */
    int net;                  /* FLASH: the access network whose users join in */
    int host;                 /* DEPART: index in topo->host */
    int factor;               /* FLASH but video: the service's rate multiplier */
    int streams;              /* FLASH of video: extra streams per user */
};

struct sim_churn {
    struct sim_churn_event *ev; /* by start time */
    size_t n;
    /* The load curve: every host's sessions come 1 + amplitude x
     * sin(2 pi t / period + phase) times as often, t from the agents'
     * start (the traffic plans carry it; amplitude 0: none). */
    double curve_amp, curve_period_s, curve_phase;
};

/* Draws the churn of one run of 'scn' lasting 'duration_ms' around the
 * traffic faults of 'tl'. */
void sim_churn_draw(const struct scenario *scn, const struct topology *topo,
                    const struct flt_timeline *tl, int64_t duration_ms, struct sim_churn *out);
void sim_churn_release(struct sim_churn *c);

/* One event as 'simrun plan' and changes.jsonl show it, with the names of
 * the hosts it acts on.  New reference. */
json_t *sim_churn_json(const struct sim_churn_event *e, const struct topology *topo);

/* The command to each agent of 'e' ('start' true: it begins, else it ends;
 * 'servers' the datacenter servers' addresses, borrowed).  New reference. */
json_t *sim_churn_command(const struct sim_churn_event *e, bool start, json_t *servers);

#endif
