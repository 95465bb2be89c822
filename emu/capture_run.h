/* [capture] during a run: the interfaces the scenario selects, opened in
 * the hosts' namespaces; a pcap window per fault episode (from 'before'
 * ahead of the injection to 'after' past the restore) and a baseline
 * window in each normal stretch; capture.csv and pflows.csv labelled with
 * the collector's ground truth. */
#ifndef SR_CAPTURE_RUN_H
#define SR_CAPTURE_RUN_H 1

#include <jansson.h>
#include <stdbool.h>

#include "collector.h"
#include "error.h"
#include "plan.h"
#include "runtime.h"

struct sim_capture;

/* Starts capturing what the plan's [capture] selects; NULL with 'err'
 * when an interface cannot be opened. */
struct sim_capture *sim_capture_start(const struct sim_plan *plan, struct sim_runtime *rt,
                                      struct collector *col, struct sr_error *err);

/* A capture started by hand (simrun up's "capture start"): the
 * interfaces 'selectors' name, pcaps only, pcap/<tag>-<interface>.pcap in
 * the run directory until cap_finish.  NULL with 'err' saying why. */
struct capture;
struct capture *sim_capture_by_hand(const struct sim_plan *plan, struct sim_runtime *rt,
                                    const char *const *selectors, size_t nsel, const char *tag,
                                    struct sr_error *err);

/* Fault episode 'id' reached 'ev' at collection time 't_s'. */
void sim_capture_fault(struct sim_capture *c, int id, enum col_event ev, double t_s);

/* Opens and closes the windows due at collection time 't_s'; returns how
 * soon (s) the next is due. */
double sim_capture_windows(struct sim_capture *c, double t_s);

/* Writes sweep 'k''s rows. */
int sim_capture_sweep(struct sim_capture *c, long k, double t_s, struct sr_error *err);

/* Ends the capture and puts its report into the collector's manifest
 * ("capture").  Accepts NULL. */
int sim_capture_finish(struct sim_capture *c, long k, double t_s, struct sr_error *err);

#endif
