/* The controller client: one interface to switches, ports (state and
 * counters), flows, table statistics and links, and to adding, modifying
 * and deleting flows and meters, with two backends:
 *   ryu  the Ryu ofctl_rest API (the embedded controller, or a real Ryu)
 *   odl  OpenDaylight RESTCONF, old /restconf/{config,operational} paths or
 *        RFC 8040 /rests/data paths, with basic authentication.
 * Records are normalised to OpenDaylight's meanings (DESIGN.md §8) so data
 * from either backend lines up.
 *
 * A sweep fetches every switch at once (a libcurl multi handle, connections
 * kept alive between sweeps) and retries failures with backoff; every
 * failure names the URL, the HTTP status and an excerpt of the body. */
#ifndef SR_CLIENT_H
#define SR_CLIENT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ryu.h"

struct sr_trace;

enum ctl_kind { CTL_KIND_RYU, CTL_KIND_ODL };
enum ctl_odl_api { CTL_ODL_RFC8040, CTL_ODL_RESTCONF };

struct ctl_config {
    enum ctl_kind kind;
    const char *url;          /* "http://127.0.0.1:8181", no trailing slash needed */
    const char *user;         /* NULL: no authentication */
    const char *password;
    enum ctl_odl_api api;
    long timeout_ms;          /* per request; 0: 2000 */
    int retries;              /* further attempts after a failure; backoff 100 ms x 2^k */
    bool batch;               /* ryu only: the embedded controller's extensions, one
                                 request per sweep (GET /simrun/v1/sweep) instead of three
                                 per switch, and flow batches (/simrun/v1/flowentries) */
    struct sr_trace *trace;   /* borrowed, may be NULL: the extensions' messages go to
                                 this protocol trace (see common/trace.h) */
};

/* Port counters, in OpenDaylight's order and meaning. */
enum ctl_counter {
    CTL_RX_PACKETS,   /* packets.received */
    CTL_TX_PACKETS,   /* packets.transmitted */
    CTL_RX_BYTES,     /* bytes.received */
    CTL_TX_BYTES,     /* bytes.transmitted */
    CTL_RX_DROPS,     /* receive-drops */
    CTL_TX_DROPS,     /* transmit-drops */
    CTL_RX_ERRORS,    /* receive-errors */
    CTL_TX_ERRORS,    /* transmit-errors */
    CTL_RX_FRAME_ERR, /* receive-frame-error */
    CTL_RX_OVER_ERR,  /* receive-over-run-error */
    CTL_RX_CRC_ERR,   /* receive-crc-error */
    CTL_COLLISIONS,   /* collision-count */
    CTL_NCOUNTERS
};

/* "packets.received" ... */
const char *ctl_counter_odl_name(enum ctl_counter c);
/* "packets_received" ... (CSV column names) */
const char *ctl_counter_column(enum ctl_counter c);

#define CTL_PORT_LOCAL 0xfffffffeu

struct ctl_port {
    uint32_t port_no;         /* CTL_PORT_LOCAL for the switch's own port */
    char name[32];
    bool has_state;           /* the three flags below are known */
    bool link_down, blocked, live;
    bool has_stats;           /* the counters below are known */
    uint64_t c[CTL_NCOUNTERS];
    uint64_t duration_sec, duration_nsec;
};

struct ctl_table {
    uint32_t table_id;
    uint64_t active, lookups, matched;
};

struct ctl_flow {
    uint32_t table_id;
    uint32_t priority;
    uint64_t cookie;
    uint32_t idle_timeout, hard_timeout;  /* seconds */
    uint64_t packets, bytes;
    uint64_t duration_sec;    /* the flow's age (OpenDaylight's duration) */
    uint64_t duration_nsec;   /* and its fraction, 0 when not reported */
    char *match;              /* the controller's match, canonical JSON */
    char *actions;            /* "OUTPUT:2,OUTPUT:CONTROLLER"; "" is drop */
    char *id;                 /* OpenDaylight's flow id, NULL for Ryu */
};

/* One switch in one sweep. */
struct ctl_stats {
    uint64_t dpid;
    int status;               /* 0, or a negative code with 'error' */
    char error[384];
    struct ctl_port *ports;
    size_t nports;
    struct ctl_table *tables;
    size_t ntables;
    struct ctl_flow *flows;
    size_t nflows;
};

enum { CTL_WANT_PORTS = 1, CTL_WANT_TABLES = 2, CTL_WANT_FLOWS = 4 };

/* A flow to add, modify or delete, in Ryu's OpenFlow 1.3 vocabulary:
 * 'match' keys in_port, eth_type, eth_src, eth_dst, ipv4_src, ipv4_dst,
 * ip_proto, tcp_src, tcp_dst, udp_src, udp_dst; 'actions' a list of
 * {"type": "OUTPUT", "port": N|"CONTROLLER"} (empty: drop), or a meter
 * {"type": "METER", "meter_id": N}.  'id' names the flow for OpenDaylight
 * (required there). */
struct ctl_flow_mod {
    uint64_t dpid;
    uint32_t table_id, priority;
    uint64_t cookie;
    uint32_t idle_timeout, hard_timeout;
    json_t *match;            /* borrowed */
    json_t *actions;          /* borrowed */
    const char *id;
};

enum ctl_flow_cmd { CTL_FLOW_ADD, CTL_FLOW_MODIFY, CTL_FLOW_DELETE };

struct ctl_client;

struct ctl_client *ctl_client_new(const struct ctl_config *cfg, struct sr_error *err);
void ctl_client_free(struct ctl_client *c);
const char *ctl_kind_name(enum ctl_kind k);

/* The connected switches' DPIDs, sorted (caller frees). */
int ctl_client_switches(struct ctl_client *c, uint64_t **dpids, size_t *n,
                        struct sr_error *err);
/* The discovered links, directed (caller frees). */
int ctl_client_links(struct ctl_client *c, struct ctl_link **links, size_t *n,
                     struct sr_error *err);

/* Fetches what 'want' asks for from the 'n' switches in 'dpids', all at
 * once, into 'stats' (n entries, released with ctl_stats_release).  Each
 * entry has its own status.  Returns the number of switches that failed
 * (0 when all answered); 'err' then describes the first failure. */
int ctl_client_sweep(struct ctl_client *c, const uint64_t *dpids, size_t n, unsigned want,
                     struct ctl_stats *stats, struct sr_error *err);
void ctl_stats_release(struct ctl_stats *s);

int ctl_client_flow(struct ctl_client *c, enum ctl_flow_cmd cmd,
                    const struct ctl_flow_mod *f, struct sr_error *err);

/* Carries out the 'n' flow changes 'cmds[i]' on 'mods[i]' at once (with
 * 'batch', one POST /simrun/v1/flowentries to the embedded controller;
 * otherwise a libcurl multi handle, each retried as single writes are);
 * the changes must not depend on one another's order.  Returns how many failed ('err'
 * holds the first failure). */
int ctl_client_flows(struct ctl_client *c, const enum ctl_flow_cmd *cmds,
                     const struct ctl_flow_mod *mods, size_t n, struct sr_error *err);

/* A meter that drops traffic above 'rate_kbps' (OpenFlow 1.3 meters). */
int ctl_client_meter(struct ctl_client *c, bool add, uint64_t dpid, uint32_t meter_id,
                     uint32_t rate_kbps, struct sr_error *err);

/* An operator's change to the embedded controller's applications
 * (POST /simrun/v1/operator, docs/protocols/controller-extensions.schema.json;
 * 'change' is borrowed).  On success '*answer' (may be NULL) gets the
 * controller's answer, a new reference. */
int ctl_client_operator(struct ctl_client *c, json_t *change, json_t **answer,
                        struct sr_error *err);

/* ---- parsers, separate from the transport for unit tests ---- */

/* Ryu: /stats/port/<dpid>, /stats/portdesc/<dpid>, /stats/table/<dpid>,
 * /stats/flow/<dpid> bodies, merged into 's' (ports are matched by number). */
int ctl_ryu_parse_port_stats(const char *json, struct ctl_stats *s, struct sr_error *err);
int ctl_ryu_parse_port_desc(const char *json, struct ctl_stats *s, struct sr_error *err);
int ctl_ryu_parse_tables(const char *json, struct ctl_stats *s, struct sr_error *err);
int ctl_ryu_parse_flows(const char *json, struct ctl_stats *s, struct sr_error *err);
/* The embedded controller's /simrun/v1/sweep answer, for the 'n' switches
 * of 'dpids' into 'stats'.  Returns the number of switches that failed
 * (each with its status), or a negative code when the answer is unusable. */
int ctl_ryu_parse_sweep(const char *json, const uint64_t *dpids, size_t n, unsigned want,
                        struct ctl_stats *stats, struct sr_error *err);

/* OpenDaylight: one node of the operational inventory (either path style;
 * numbers or decimal strings; roots with or without module prefix). */
int ctl_odl_parse_node(const char *json, unsigned want, struct ctl_stats *s,
                       struct sr_error *err);
/* The node ids of an inventory ("openflow:N") as DPIDs (caller frees). */
int ctl_odl_parse_nodes(const char *json, uint64_t **dpids, size_t *n,
                        struct sr_error *err);
/* Links of topology flow:1. */
int ctl_odl_parse_links(const char *json, struct ctl_link **links, size_t *n,
                        struct sr_error *err);
/* The body OpenDaylight takes for 'f' (a new reference). */
json_t *ctl_odl_flow_body(const struct ctl_flow_mod *f, struct sr_error *err);

#endif
