/* What each fault episode of a run did: its parameters and times (from
 * faults.jsonl) and its measured effect on the services (from the traffic
 * agents' KPIs in traffic.jsonl), the stretch while it was in place against
 * the normal stretch of the same length just before it.  Written as
 * episodes.csv and put in the manifest, so a dataset's user can tell the
 * episodes that hurt the services from the silent ones. */
#ifndef SR_EPISODES_H
#define SR_EPISODES_H 1

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* The episodes of the run in 'rundir' as an array of objects (a new
 * reference; the columns of episodes.csv), 'run' filling their run column.
 * NULL with 'err' when faults.jsonl cannot be read; a run without
 * traffic.jsonl gets no service columns. */
json_t *ep_summarise(const char *rundir, const char *run, struct sr_error *err);

/* Writes 'episodes' as CSV to 'path' (created fresh). */
int ep_write_csv(const char *path, json_t *episodes, struct sr_error *err);

/* One record of traffic.jsonl, reduced to a service's KPI: video bitrate
 * (kbit/s, with its stalls), web page time (ms), chat RTT (ms), a mail
 * sender's session time (ms), p2p throughput (Mbit/s). */
enum ep_service { EP_VIDEO, EP_WEB, EP_CHAT, EP_MAIL, EP_P2P, EP_NSERVICES };
struct ep_kpi {
    double t;      /* s since the epoch */
    enum ep_service kind;
    bool ok;
    bool stalled;
    double value;  /* NAN when none (a failure, or no figure) */
};

/* Reduces record 'r' into 'k'; false for records with no KPI (broadcast,
 * a mail receiver, anything unknown). */
bool ep_kpi_of(json_t *r, struct ep_kpi *k);

/* The columns of episodes.csv, NULL-terminated. */
extern const char *const ep_columns[];

#endif
