/* Injecting, verifying and reverting faults.
 *
 * Every fault has three steps: inject (make the change), verify (read back
 * that it took effect: the flows through the controller and, where the
 * switch can be asked directly, in the switch; the port state; the
 * process), and revert (restore exactly what was there, and verify that
 * too).  Faults act through a 'struct flt_env' that the runtime fills, so
 * this module knows nothing of Mininet or of how the controller runs. */
#ifndef SR_INJECT_H
#define SR_INJECT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "client.h"
#include "error.h"
#include "faults.h"

struct flt_link_info {
    const char *a, *b;        /* switch names */
    uint64_t a_dpid, b_dpid;
    uint32_t a_port, b_port;
};

struct flt_host_info {
    const char *name;
    char ip[32], mac[32];
    const char *sw;           /* its switch */
    uint64_t sw_dpid;
    uint32_t sw_port;
};

/* What faults act through; filled by the runtime. */
struct flt_env {
    struct ctl_client *ctl;
    void *ctx;
    /* Mininet control channel: ("link", a, b, "down"|"up"),
     * ("switch", name, NULL, "stop"|"start"), ("host", name, NULL, "down"|"up"). */
    int (*net)(void *ctx, const char *what, const char *a, const char *b, const char *state,
               struct sr_error *err);
    /* Stops or restarts the controller (embedded), or cuts the switches off
     * from it and back (external). */
    int (*controller)(void *ctx, bool up, struct sr_error *err);
    /* How many OpenFlow connections the switches hold to the controller. */
    int (*connected)(void *ctx, size_t *n, struct sr_error *err);
    /* Sends a command (consumed) to the traffic agent on 'host' (traffic
     * faults); NULL when the network runs no agents. */
    int (*traffic)(void *ctx, const char *host, json_t *cmd, struct sr_error *err);
    /* 'ovs-ofctl dump-flows' of 'n' switches into 'outs[i]' (with their
     * counters and ages; see flt_flow_line), when the switches are local;
     * NULL otherwise. */
    int (*dump_flows)(void *ctx, const char *const *sws, size_t n, struct sr_buf *outs,
                      struct sr_error *err);
    /* Lookups in the topology. */
    bool (*dpid_of)(void *ctx, const char *sw, uint64_t *dpid);
    bool (*link_of)(void *ctx, const char *name, struct flt_link_info *out);
    bool (*host_of)(void *ctx, const char *name, struct flt_host_info *out);
    const char *const *switches; /* every switch, for target "all" */
    size_t nswitches;
    const char *const *users, *const *servers; /* every host by role */
    size_t nusers, nservers;
    /* The controller's applications add and remove flows on their own
     * (learned flows expire, temporary rules, paths moved): a flow fault's
     * revert is judged by the flows it changed, not by the whole table,
     * and a changed flow that expired on its own counts as gone. */
    bool dynamic_flows;
    double video_kbps;        /* the scenario's video bitrate */
    size_t nviewers;          /* users watching video in the traffic plan */
};

/* One fault while it is injected: what it changed and how to undo it. */
struct flt_run;

/* Priority of the rules faults add: above the controller's LLDP rule. */
#define FLT_PRIORITY 65500
/* Cookie marking flows written by faults. */
#define FLT_COOKIE 0x5346000000000000ULL

/* Injects 'ep'.  On success '*out' holds what is needed to revert it
 * (also after a failed verification). */
int flt_inject(const struct flt_env *env, const struct flt_episode *ep, struct flt_run **out,
               struct sr_error *err);

/* Reads back whether the fault is in effect.  Returns 1 (in effect), 0 (not,
 * with 'why' saying what was seen), or a negative code when it could not
 * look.  'seen' (may be NULL) gets a short account of what was read. */
int flt_check(const struct flt_env *env, struct flt_run *run, struct sr_buf *seen,
              struct sr_error *err);

/* One look: whether the fault is in effect ('reverting' false) or what was
 * there before is back (true), as flt_check / flt_check_reverted answer,
 * and, for flow faults whose switches can be asked directly, in the
 * switches too.  1, 0 ('seen' says what differs), or a negative code. */
int flt_look(const struct flt_env *env, struct flt_run *run, bool reverting, struct sr_buf *seen,
             struct sr_error *err);

/* Polls flt_check until the fault is in effect or 'timeout_s' passes; for
 * flow faults, once the controller shows it, the switches themselves must
 * too (env->dump_flows, when set).  Returns 0 when verified; otherwise
 * 'err' says what was seen last. */
int flt_verify(const struct flt_env *env, struct flt_run *run, double timeout_s,
               struct sr_buf *seen, struct sr_error *err);

/* Restores what the fault changed. */
int flt_revert(const struct flt_env *env, struct flt_run *run, struct sr_error *err);

/* Polls until what was there before is back (the same flows, the port up
 * and the link rediscovered, the switch back, the controller answering). */
int flt_verify_reverted(const struct flt_env *env, struct flt_run *run, double timeout_s,
                        struct sr_buf *seen, struct sr_error *err);

/* One look at whether what was there before is back: 1, 0, or negative
 * when it could not look. */
int flt_check_reverted(const struct flt_env *env, struct flt_run *run, struct sr_buf *seen,
                       struct sr_error *err);

/* Whether the fault takes seconds to show ('reverting' false) or to go
 * (true): a rate is measured over a window (traffic faults, both ways);
 * switches reconnect to a controller after Open vSwitch's backoff
 * (controller_down, going; cutting them off shows at once).  A caller with
 * other work (the collector's sweeps) should then call flt_check /
 * flt_check_reverted once per turn instead of blocking in flt_verify. */
bool flt_run_slow(const struct flt_run *run, bool reverting);

/* For a flow fault after a look that found it no longer wholly in effect
 * (flt_check answering 0 once verified): how many of the flows it changed
 * were still as it made them, and how many it changed.  False for other
 * faults, and before such a look. */
bool flt_run_effect(const struct flt_run *run, size_t *in_effect, size_t *changed);

/* The switches and ports the fault touches, for labels (on_target). */
size_t flt_run_touched(const struct flt_run *run, const char ***sws, uint32_t **ports);

void flt_run_free(struct flt_run *run);

/* One line of 'ovs-ofctl dump-flows' as --no-stats prints it (malloc'd),
 * and the flow's age in seconds. */
char *flt_flow_line(const char *line, double *age);

/* Matches that single out one service's traffic (drop_service): fills
 * 'matches' (an array the caller owns) with one object per rule. */
int flt_service_matches(const char *service, json_t *matches, struct sr_error *err);

#endif
