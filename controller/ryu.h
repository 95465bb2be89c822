/* Reading the Ryu ofctl_rest API (the embedded controller or a real Ryu):
 * what the runtime needs to tell when a network is ready.  The full
 * controller client (ports, flows, tables, both backends) grows here. */
#ifndef SR_RYU_H
#define SR_RYU_H 1

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "http.h"

/* A directed link as LLDP discovered it. */
struct ctl_link {
    uint64_t src_dpid, dst_dpid;
    uint32_t src_port, dst_port;
};

/* GET /stats/switches: the connected DPIDs (malloc'd, caller frees). */
int ctl_ryu_switches(struct ctl_http *h, const char *base, uint64_t **dpids, size_t *n,
                     struct sr_error *err);
/* GET /v1.0/topology/links: the discovered links (caller frees). */
int ctl_ryu_links(struct ctl_http *h, const char *base, struct ctl_link **links,
                  size_t *n, struct sr_error *err);

/* Parsers, separate from the transport so unit tests can feed them text. */
int ctl_ryu_parse_switches(const char *json, uint64_t **dpids, size_t *n,
                           struct sr_error *err);
int ctl_ryu_parse_links(const char *json, struct ctl_link **links, size_t *n,
                        struct sr_error *err);

#endif
