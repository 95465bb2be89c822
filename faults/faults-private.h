/* What the fault catalogue's files share: the operations each fault type
 * has (a table entry in catalog.c points at them), the state of a fault
 * while it is injected, and helpers.  One family per file:
 *   flows.c       flow faults that rewrite a switch's flows (seed ids 6-10)
 *   rules.c       faults that add high-priority rules (lldp_drop, ...)
 *   network.c     links, switches and hosts through Mininet
 *   traffic.c     more traffic through the hosts' agents
 *   controller.c  the controller stops or loses its switches
 *   witness.c     reading flows back from the switches themselves
 *   inject.c      the steps every fault goes through, and the helpers
 * Adding a fault type is an entry in catalog.c and its operations in the
 * file of its family. */
#ifndef SR_FAULTS_PRIVATE_H
#define SR_FAULTS_PRIVATE_H 1

#include "faults.h"
#include "inject.h"

/* What one fault type does at each step.  'check' answers for both
 * directions: with 'want_fault' it is the verification after injecting
 * and the watch while the fault lasts (has the controller healed it?),
 * without it the verification of the revert.  It returns 1 (as wanted),
 * 0 (not, 'seen' saying what was seen) or a negative code (could not
 * look). */
struct flt_ops {
    int (*inject)(const struct flt_env *env, struct flt_run *r, struct sr_error *err);
    int (*check)(const struct flt_env *env, struct flt_run *r, bool want_fault,
                 struct sr_buf *seen, struct sr_error *err);
    int (*revert)(const struct flt_env *env, struct flt_run *r, struct sr_error *err);
    /* Seconds to show (a rate over a window) or to go (switches reconnect
     * after Open vSwitch's backoff): looked at once per sweep. */
    bool slow_inject, slow_revert;
    /* The switches can be asked directly (ovs-ofctl): verification also
     * reads the flows back from them (witness.c). */
    bool witness;
};

/* A flow as it is written back: what identifies it and what it does. */
struct saved_flow {
    uint32_t priority, idle, hard;
    uint64_t cookie;
    char *id;                 /* OpenDaylight's flow id, NULL for Ryu */
    char *match;              /* canonical JSON (Ryu's names) */
    char *actions;            /* "OUTPUT:2,OUTPUT:CONTROLLER" */
    uint64_t age;             /* its duration_sec when it was read */
};

struct sw_snap {
    char *sw;
    uint64_t dpid;
    struct saved_flow *flows;
    size_t n;
};

struct added_rule {
    uint64_t dpid;
    char *match;
    char *actions;
    uint32_t priority;
    uint64_t cookie;
};

/* What a flow fault makes of one flow. */
struct flt_wanted {
    char *match, *actions;    /* malloc'd */
    uint32_t idle, hard;
};

/* How a flow fault writes its change, and so how it is checked. */
enum flt_rewrite_how {
    FLT_RW_MODIFY,            /* the same flow with other actions (MODIFY) */
    FLT_RW_REMATCH,           /* deleted and added with another match */
    FLT_RW_READD,             /* added again with other timeouts (ADD replaces it);
                                 it may then expire, which is the fault's effect */
    FLT_RW_DELETE,            /* deleted */
};

/* A flow fault (flows.c): what it does to each flow of the switches it
 * targets. */
struct flt_rewrite {
    enum flt_rewrite_how how;
    bool lldp_too;            /* also the rule sending LLDP to the controller */
    bool outputs_only;        /* only flows that output to a port (a drop rule has none
                                 to change) */
    int timeout;              /* 1: sets the idle time-out, 2: the hard one, 0: neither */
    /* Fills 'w' with what flow 'f' becomes; 'ports' are the ports the
     * switch's flows output to. */
    void (*become)(const struct flt_run *r, const struct saved_flow *f, const uint32_t *ports,
                   size_t nports, struct flt_wanted *w);
    /* Before the first write (may be NULL): checks, a meter to add. */
    int (*prepare)(const struct flt_env *env, struct flt_run *r, struct sr_error *err);
    /* After the revert's writes (may be NULL): a meter to delete. */
    int (*finish)(const struct flt_env *env, struct flt_run *r, struct sr_error *err);
};

/* A rule fault (rules.c): adds its rules with flt_add_rule(). */
struct flt_rule_maker {
    int (*add)(const struct flt_env *env, struct flt_run *r, struct sr_error *err);
};

/* A traffic fault (traffic.c). */
struct flt_traffic_kind {
    bool one_host;            /* the target only, or every host */
};

struct flt_run {
    const struct flt_type *type;
    struct flt_spec spec;
    char *target;
    struct sw_snap *snaps;    /* flow faults: the switches' flows before */
    size_t nsnaps;
    struct added_rule *rules; /* rule faults: what was added */
    size_t nrules;
    struct flt_link_info link;
    struct flt_host_info host;
    uint32_t meter_id;
    uint32_t inport;          /* flow_inport_changed: the port written in */
    /* Traffic faults: the switch ports toward the hosts whose traffic is
     * raised, the rate they carried before and what the fault adds. */
    const char **hosts;
    size_t nhosts;
    uint64_t *probe_dpid;
    uint32_t *probe_port;
    double base_kbps, add_kbps;
    double win_t;             /* start of the current measuring window */
    uint64_t win_bytes;
    bool have_win;
    int verdict;              /* the last window's: 1 raised, 0 normal, -1 not yet seen */
    double last_kbps;
    const char **touched_sw;
    uint32_t *touched_port;
    size_t ntouched;
    double snap_t;            /* when the snapshots were read (sr_now) */
    bool verified;            /* seen in effect once: from then on a flow the
                                 controller put back counts as healed */
    /* Flow faults on local switches: the lines 'ovs-ofctl dump-flows'
     * showed before, of the flows the fault changes ("sw\tline"). */
    char **orig;
    double *orig_age;         /* their durations (s), read at orig_t */
    double orig_t;
    size_t norig;
    /* Flow faults, from the last look after verification: how many flows
     * the fault changed, and how many of them were still as it made them. */
    size_t changed, in_effect;
};

/* ---- the families' operations (the catalogue points at them) ---- */

extern const struct flt_ops flt_flow_ops, flt_rule_ops, flt_traffic_ops;
extern const struct flt_ops flt_link_down_ops, flt_switch_down_ops, flt_host_down_ops;
extern const struct flt_ops flt_controller_down_ops;
extern const struct flt_rewrite flt_rw_output, flt_rw_inport, flt_rw_idle, flt_rw_hard,
    flt_rw_deleted, flt_rw_meter;
extern const struct flt_rule_maker flt_rules_lldp, flt_rules_service, flt_rules_blackhole,
    flt_rules_loop;
extern const struct flt_traffic_kind flt_traffic_heavy, flt_traffic_congestion;

/* ---- helpers (inject.c) ---- */

/* Notes that the fault touches port 'port' of switch 'sw' (0: all of it). */
void flt_touch(struct flt_run *r, const char *sw, uint32_t port);

/* sr_buf_printf into 'b' when there is one. */
void flt_why(struct sr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A match in the names Ryu's /stats/flow answers with, as canonical JSON
 * (malloc'd), so a rule as written compares with the rule read back. */
char *flt_canon_match(const char *match);

/* Flow changes gathered to be written at once (ctl_client_flows). */
struct flt_batch {
    enum ctl_flow_cmd *cmd;
    struct ctl_flow_mod *mod; /* match and actions owned here */
    char **ids;               /* mod[i].id, owned here */
    size_t n, cap, capm, capi;
};
void flt_batch_release(struct flt_batch *b);
/* Writes the batch and releases it. */
int flt_batch_flush(const struct flt_env *env, struct flt_batch *b, struct sr_error *err);

/* Writes one flow ('cmd') on 'dpid' (with 'b', adds it to the batch).
 * 'match' is JSON, 'actions' Ryu's action string; 'flow_id' names the
 * flow for OpenDaylight (NULL: one derived from priority and match). */
int flt_write_flow(const struct flt_env *env, struct flt_batch *b, enum ctl_flow_cmd cmd,
                   uint64_t dpid, uint32_t priority, uint64_t cookie, uint32_t idle,
                   uint32_t hard, const char *match, const char *actions, const char *flow_id,
                   struct sr_error *err);

/* The flows of the 'n' switches 'dpids', in one sweep. */
int flt_read_flows(const struct flt_env *env, const uint64_t *dpids, size_t n,
                   struct ctl_stats *st, struct sr_error *err);

bool flt_is_table_miss(const char *match, uint32_t priority);
bool flt_is_lldp_rule(const char *match, const char *actions);

/* Adds a rule (rule faults): the episode's priority and cookie. */
int flt_add_rule(const struct flt_env *env, struct flt_run *r, uint64_t dpid, json_t *match,
                 const char *actions, struct sr_error *err);

/* The switch read-back (witness.c): the flows a flow fault will change,
 * as the switches show them before it; and whether they agree with the
 * controller's view now. */
int flt_witness_before(const struct flt_env *env, struct flt_run *r, const char *const *sws,
                       size_t n, struct sr_error *err);
int flt_witness(const struct flt_env *env, struct flt_run *r, bool want_fault,
                struct sr_buf *seen, struct sr_error *err);

/* What a flow is, for flt_rewrite_changes. */
struct flt_flow_kind {
    bool table_miss, lldp;    /* the table-miss entry; the LLDP rule to the controller */
    bool outputs;             /* it outputs to a port */
    uint32_t idle, hard;      /* its time-outs (s), 0 for none */
};

/* Whether flow fault 'r' changes a flow of kind 'k' (the one rule for the
 * controller's view and the switch's): never the table-miss entry; the
 * LLDP rule only when 'lldp_too'; with 'outputs_only', only a flow that
 * outputs to a port; a time-out fault only a flow whose own time-out is
 * none or longer than the fault's (it cannot make a shorter one worse). */
bool flt_rewrite_changes(const struct flt_run *r, const struct flt_flow_kind *k);

/* The time-out (s) a time-out fault sets. */
uint32_t flt_timeout_s(const struct flt_run *r);

#endif
