/* The embedded controller's applications in one run: the forwarding
 * application (proactive shortest paths, or reactive learning with
 * time-outs) and the policy applications a campus network runs beside it
 * (ACL drops, LLDP dropped on host ports, meters on guest hosts, dec-TTL
 * at the datacenters' gateways, temporary admission rules), each with its
 * own cookie and priority, and the operator's changes during the run.
 *
 * Everything is drawn from the scenario's seed (a stream of its own), so
 * the same scenario and seed give the same applications; 'simrun plan'
 * shows them, the run writes them for the controller (controller.json
 * beside its app, docs/protocols/controller-apps.md) and into the
 * manifest.  Drawn so that a rule's shape alone does not tell a fault
 * from normal: the drop rules share the fault rules' priority bands and
 * the cookies are drawn per run like theirs. */
#ifndef SR_APPS_H
#define SR_APPS_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"
#include "topology.h"

/* What an operator changes while the network runs (simrun asks the
 * controller at the planned time; the rows stay labelled normal). */
enum sim_change_kind {
    SIM_CHANGE_ACL_BLOCK,     /* block one more TCP port (acl) */
    SIM_CHANGE_ACL_UNBLOCK,   /* lift a block (acl) */
    SIM_CHANGE_DRAIN,         /* move paths off a core link (maintenance) */
    SIM_CHANGE_UNDRAIN,       /* and back */
    SIM_CHANGE_METER,         /* the guest hosts' rate changed (guest_meter) */
    SIM_CHANGE_N
};

struct sim_change {
    int64_t at_ms;            /* after the network is ready */
    enum sim_change_kind kind;
    int port;                 /* ACL_*: the TCP port */
    int link;                 /* DRAIN, UNDRAIN: index into topo->link */
    int64_t rate_kbps;        /* METER */
    uint64_t cookie;          /* ACL_BLOCK: the operator's own rule's, drawn per change */
};

/* The applications' cookies and priorities: [0] the forwarding
 * application, [1 + p] policy application p. */
#define SIM_APPS_N (1 + SCN_POLICY_N)
#define SIM_APPS_MAX_BLOCKED 8

struct sim_apps {
    bool embedded;            /* false: an external controller runs its own */
    enum scn_forwarding forwarding;
    int idle_s, hard_s;       /* learning: the flows' time-outs */
    int learn_match;          /* learning: what its flows match, an index of
                                 sim_learn_matches (Ryu's simple_switch; ONOS's
                                 fwd with matchDstMacOnly, with matchIpv4Address) */
    double hard_share;        /* share of learned flows with the hard time-out */
    unsigned policy;          /* bits (1 << SCN_POLICY_*) */
    uint64_t cookie[SIM_APPS_N];
    uint32_t priority[SIM_APPS_N];
    /* acl */
    int blocked[SIM_APPS_MAX_BLOCKED]; /* TCP ports blocked on access switches */
    size_t nblocked;
    uint32_t quarantine_net;  /* a /24 dropped everywhere (host byte order) */
    int p2p_blocked_net;      /* an access network where p2p is blocked, 0 none */
    uint8_t banned_mac[6];    /* a device banned from the network (none of simrun's) */
    bool dec_per_port;        /* dec_ttl: a rule per ingress port, as a router's */
    /* guest_meter */
    int guest_net;            /* the guest access network, 0 none */
    int64_t guest_kbps;
    /* admission */
    int admit_every_s, admit_hard_s;
    uint64_t seed;            /* the controller's own draws (whom to admit) */
    struct sim_change *changes;
    size_t nchanges;
};

/* Draws the applications of one run of 'scn' on 'topo' lasting
 * 'duration_ms', with the faults of 'tl' (a link a fault targets is never
 * drained: the fault would then touch no traffic). */
void sim_apps_draw(const struct scenario *scn, const struct topology *topo,
                   const struct flt_timeline *tl, int64_t duration_ms, struct sim_apps *out);
void sim_apps_release(struct sim_apps *a);

/* Whether the applications add and remove flows on their own while the
 * network runs (learned flows expire, admission rules come and go, paths
 * move): flow faults then judge a revert by the flows they changed, not
 * by the whole table. */
bool sim_apps_dynamic(const struct sim_apps *a);

const char *sim_change_kind_name(enum sim_change_kind k);

/* The match fields of learning's flows, by 'learn_match':
 * "in_port,eth_src,eth_dst", "eth_dst", "in_port,eth_src,eth_dst,ipv4_src,ipv4_dst". */
extern const char *const sim_learn_matches[3];

/* The applications as the manifest keeps them; with 'for_controller',
 * also the switches' and hosts' roles and networks the controller's
 * applications place their rules by (controller.json).  New reference. */
json_t *sim_apps_json(const struct sim_apps *a, const struct topology *topo, bool for_controller);

/* One change as the controller's POST /simrun/v1/operator takes it and
 * changes.jsonl records it; new reference. */
json_t *sim_change_json(const struct sim_change *c, const struct topology *topo);

#endif
