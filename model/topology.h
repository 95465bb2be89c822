/* Topology generator (DESIGN.md §4): a Barabási–Albert core trimmed to
 * degree >= 2, access networks with user hosts, 'uplinks' gateways per
 * access network to distinct core switches, and datacenters of three servers
 * on core switches.  The same parameters and seed give the same topology,
 * byte for byte, in every output. */
#ifndef SR_TOPOLOGY_H
#define SR_TOPOLOGY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "error.h"

enum topo_role {
    TOPO_ROLE_CORE,
    TOPO_ROLE_ACCESS,  /* access switch without an uplink */
    TOPO_ROLE_GATEWAY, /* access switch with an uplink to the core */
    TOPO_ROLE_USER,
    TOPO_ROLE_SERVER,
};

enum topo_link_kind {
    TOPO_LINK_CORE,   /* core - core */
    TOPO_LINK_ACCESS, /* access - access, inside one access network */
    TOPO_LINK_UPLINK, /* gateway - core */
    TOPO_LINK_HOST,   /* host - switch */
};

#define TOPO_NAME_MAX 32

struct topo_switch {
    char name[TOPO_NAME_MAX]; /* c3, a2s4 */
    enum topo_role role;
    int net;                  /* access network (1-based), 0 for core */
    int index;                /* 1-based within its group */
    uint64_t dpid;
    int nports;               /* ports 1..nports are used */
};

struct topo_host {
    char name[TOPO_NAME_MAX]; /* u2h5, d1h3 */
    enum topo_role role;
    int net;                  /* access network, or datacenter for servers */
    int index;                /* 1-based within its group */
    uint32_t ip;              /* host byte order, in 10.0.0.0/8 */
    uint8_t mac[6];
    int sw;                   /* index of its switch */
    int sw_port;              /* port on that switch */
};

/* Link ends are node ids: switch i is i, host j is nswitches + j. */
struct topo_link {
    int a, b;
    int a_port, b_port;       /* host ends use port 0 (eth0) */
    enum topo_link_kind kind;
};

struct topo_params {
    int64_t core_switches, core_m;
    int64_t access_networks, access_switches, access_m, uplinks, hosts;
    int64_t datacenters;
    double bw_mbps;           /* 0: no shaping */
    uint64_t seed;
};

struct topology {
    struct topo_params params;
    struct topo_switch *sw;
    size_t nsw;
    struct topo_host *host;
    size_t nhost;
    struct topo_link *link;
    size_t nlink;
    int *dc_switch;           /* core switch index of each datacenter */
    size_t ndc;
    size_t ncore;             /* core switches come first in 'sw' */
};

/* Builds the topology for 'p'.  Returns it (free with topo_free()), or NULL
 * with 'err' filled. */
struct topology *topo_build(const struct topo_params *p, struct sr_error *err);
void topo_free(struct topology *t);

const char *topo_role_name(enum topo_role r);
const char *topo_link_kind_name(enum topo_link_kind k);
/* The role or link kind a name (as in topology.json) stands for. */
bool topo_role_parse(const char *s, enum topo_role *out);
bool topo_link_kind_parse(const char *s, enum topo_link_kind *out);
/* The DOT attributes topology.dot gives a node of role 'r' and a link of
 * kind 'k' (the report draws with the same). */
const char *topo_dot_node_style(enum topo_role r);
const char *topo_dot_edge_style(enum topo_link_kind k);
/* Name of node id 'id' (switch or host). */
const char *topo_node_name(const struct topology *t, int id);
/* Index of the switch called 'name', or -1. */
int topo_find_switch(const struct topology *t, const char *name);
/* Formats 'ip' as dotted quad / 'mac' as xx:xx:.. into 'buf'. */
void topo_format_ip(uint32_t ip, char *buf, size_t size);
void topo_format_mac(const uint8_t mac[6], char *buf, size_t size);
/* DPID as the 16 hex digits OVS and Mininet take. */
void topo_format_dpid(uint64_t dpid, char *buf, size_t size);

/* The core switch crossed by the most shortest paths between hosts
 * (betweenness centrality over the whole graph; ties go to the lower
 * index).  Returns its index, or -1 with 'err' filled. */
int topo_busiest_core(const struct topology *t, struct sr_error *err);

/* Degree of each core switch counting only core-core links; 'deg' has
 * t->ncore entries. */
void topo_core_degrees(const struct topology *t, int *deg);

/* Writers, appending to 'out'.  Each returns 0 or a negative code with
 * 'err' filled.  'name' (the scenario's) is escaped for the output's
 * language. */
int topo_write_json(const struct topology *t, const char *name, struct sr_buf *out,
                    struct sr_error *err);
int topo_write_dot(const struct topology *t, const char *name, struct sr_buf *out,
                   struct sr_error *err);

#endif
