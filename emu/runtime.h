/* The emulation runtime: brings a plan's network to life on this machine
 * (Open vSwitch, the embedded os-ken controller, the Mininet script as a
 * child), tells when it is ready, drives it over the control channel, and
 * always puts it away again.
 *
 * One run at a time owns the machine's network: a lock and a state file in
 * /run/simrun record what is running, so 'simrun clean' can remove what a
 * run killed with SIGKILL left behind. */
#ifndef SR_RUNTIME_H
#define SR_RUNTIME_H 1

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"
#include "plan.h"

#define SIM_STATE_DIR "/run/simrun"

struct ctl_config;
struct sr_trace;

/* A lab server that runs the network (emu/remote.c): simrun connects over
 * SSH, puts the run's files there, runs the Mininet runtime and the
 * controller there and reaches them through the connection. */
struct sim_remote_opts {
    const char *url;           /* ssh://USER@HOST[:PORT]; NULL: this machine */
    const char *key_file;      /* NULL: the ssh-agent, then ~/.ssh/id_* */
    const char *known_hosts;   /* NULL: ~/.ssh/known_hosts */
    const char *password_file; /* password authentication only with it */
};

struct sim_runtime_opts {
    const char *out_dir;      /* run directory; NULL: runs/<name>-<seed>-<UTC> */
    double ready_timeout_s;   /* 0: 60 s plus 0.5 s per switch */
    int of_port, rest_port;   /* 0: free ports chosen for the run (external
                                 controller: of_port 0 is 6653) */
    /* An external controller (Ryu or OpenDaylight) the switches connect to
     * instead of the embedded one; its URL's host is where they connect. */
    const struct ctl_config *external;
    /* A protocol trace (may be NULL): every control-channel message and
     * agent command is recorded there (common/trace.h). */
    struct sr_trace *trace;
    /* Where the network runs (url NULL: here). */
    struct sim_remote_opts remote;
};

struct sim_runtime;

/* Brings the network of 'plan' up and waits until it is ready (every
 * switch connected, every link discovered, every user host able to open a
 * TCP connection to a datacenter server).  On failure, or when SIGINT,
 * SIGTERM or SIGHUP arrives (see sr_signals_install), everything started is
 * torn down before it returns NULL with 'err' saying what did not come up.
 * 'plan' must outlive the runtime. */
struct sim_runtime *sim_runtime_up(const struct sim_plan *plan,
                                   const struct sim_runtime_opts *opts,
                                   struct sr_error *err);

/* Tears everything down (idempotent) and frees 'rt'.  Accepts NULL. */
void sim_runtime_down(struct sim_runtime *rt);

/* Sends one control-channel command (the object is consumed; "id" is
 * added) and waits up to 'timeout_s' for its answer, which is returned in
 * '*answer' (caller decrefs) when not NULL.  An answer with "ok": false
 * becomes an error carrying its message. */
int sim_runtime_command(struct sim_runtime *rt, json_t *cmd, double timeout_s,
                        json_t **answer, struct sr_error *err);

/* How many of the topology's switch-to-switch links (each direction counts)
 * the controller does not know; the first ten go to 'missing' as
 * "c1:2->c3:1, ...".  Negative when the controller does not answer. */
int sim_runtime_missing_links(struct sim_runtime *rt, struct sr_buf *missing,
                              struct sr_error *err);

/* Waits up to 'timeout_ms' for something to happen: returns 0 on a quiet
 * timeout, the signal number when one arrived, or a negative code when a
 * child died (with 'err' saying which and how). */
int sim_runtime_watch(struct sim_runtime *rt, int timeout_ms, struct sr_error *err);

/* Stops the embedded controller ('up' false) or starts it again on the
 * same ports, waiting until its REST API answers.  With an external
 * controller, cuts every switch off from it (and connects them again). */
int sim_runtime_controller(struct sim_runtime *rt, bool up, struct sr_error *err);

/* Starts a simtraffic agent ('program') on every host that has a plan
 * DIR/<host>.json, writing DIR/<host>.kpi.jsonl and DIR/<host>.log, each
 * with a control socket.  Returns how many started. */
int sim_runtime_agents_start(struct sim_runtime *rt, const char *program, const char *dir,
                             struct sr_error *err);
/* Stops them (SIGTERM: they flush their KPIs). */
int sim_runtime_agents_stop(struct sim_runtime *rt, struct sr_error *err);
/* Sends 'cmd' (consumed) to the agent on 'host' through its control socket
 * (see traffic/agent.c: {"load": L, "extra_streams": N, "servers": [...]}). */
int sim_runtime_agent_control(struct sim_runtime *rt, const char *host, json_t *cmd,
                              struct sr_error *err);

/* How many OpenFlow connections the switches hold to the controller
 * (established TCP connections toward its OpenFlow port, where the
 * network runs). */
int sim_runtime_connected(struct sim_runtime *rt, size_t *n, struct sr_error *err);
/* The flow tables of 'n' switches ('ovs-ofctl dump-flows', where the
 * network runs), one text per switch appended to outs[i]. */
int sim_runtime_dump_flows(struct sim_runtime *rt, const char *const *sws, size_t n,
                           struct sr_buf *outs, struct sr_error *err);
/* Whether the network runs on a lab server. */
bool sim_runtime_is_remote(const struct sim_runtime *rt);
/* The lab server as "USER@HOST:PORT" (no credentials), or NULL. */
const char *sim_runtime_lab_server(const struct sim_runtime *rt);

/* Facts about a running network. */
const struct sim_plan *sim_runtime_plan(const struct sim_runtime *rt);
double sim_runtime_ready_s(const struct sim_runtime *rt);
/* The run's id ("<name>-<seed>-<UTC time>-<pid>"). */
const char *sim_runtime_run_id(const struct sim_runtime *rt);
const char *sim_runtime_dir(const struct sim_runtime *rt);
/* The process of 'host' (its network namespace), or 0 when unknown. */
pid_t sim_runtime_host_pid(const struct sim_runtime *rt, const char *host);
const char *sim_runtime_rest_url(const struct sim_runtime *rt);
/* The same URL without credentials: what may be stored or shown. */
const char *sim_runtime_public_url(const struct sim_runtime *rt);
/* "embedded", "ryu" or "odl". */
const char *sim_runtime_controller_kind(const struct sim_runtime *rt);
int sim_runtime_of_port(const struct sim_runtime *rt);

/* Removes what a run killed with SIGKILL left behind: its processes, OVS
 * bridges, interfaces and state file.  Appends one line per thing removed
 * to 'report'.  Fails (touching nothing) when a live simrun owns the
 * network. */
int sim_clean(struct sr_buf *report, struct sr_error *err);
/* The same on a lab server: what a lost run left there (its processes,
 * network and run directories); refuses while a run is active there. */
int sim_clean_remote(const struct sim_remote_opts *remote, struct sr_buf *report,
                     struct sr_error *err);

#endif
