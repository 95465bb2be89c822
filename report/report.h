/* simrun report: a run directory as one self-contained HTML page (inline
 * SVG and CSS, no script, nothing fetched): the scenario and its timings,
 * the topology drawn by Graphviz with each fault's target marked, the
 * fault timeline, the counters of the switches the faults touched and of
 * their neighbours, the services' KPIs over time with the fault windows
 * shaded, labels, gaps and warnings, the packet capture's interfaces and
 * pcap files, and the diagnoser's score when the run has them.  The same run directory gives the same bytes. */
#ifndef SR_REPORT_H
#define SR_REPORT_H 1

#include <stdbool.h>

#include "buf.h"
#include "error.h"

struct report_opts {
    int refresh_s; /* >0: the page reloads itself every that many s (--watch) */
    bool links;    /* the page is written into the run directory: link its pcap files */
};

/* Renders the run in 'dir' into 'html'.  <0 with 'err' when the run
 * cannot be read (no manifest, a broken file); what a live run has not
 * written yet is left out. */
int report_render(const char *dir, const struct report_opts *o, struct sr_buf *html,
                  struct sr_error *err);

#endif
