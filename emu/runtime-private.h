/* What the runtime's files share (emu/runtime.c, state.c, ready.c,
 * agents.c); not for other modules. */
#ifndef SR_RUNTIME_PRIVATE_H
#define SR_RUNTIME_PRIVATE_H 1

#include "runtime.h"

#include "client.h"
#include "proc.h"

#define STATE_FILE SIM_STATE_DIR "/state.json"
#define LOCK_FILE SIM_STATE_DIR "/lock"
/* The traffic agents' control sockets (one run owns the machine). */
#define AGENTS_DIR SIM_STATE_DIR "/agents"
#define PYTHON "/usr/bin/python3"
/* Not "mininet.py": a script of that name would shadow the mininet package. */
#define MN_SCRIPT "net.py"
/* The embedded controller's applications, beside its app (controller.py). */
#define RT_APPS_FILE "controller.json"
#define PROBE_PORT 7 /* the servers' readiness listener, inside namespaces */
/* The network device group of every device a run makes in the root
 * namespace ("SR"): teardown and 'simrun clean' delete them in one call. */
#define SIM_DEVGROUP 21330

extern const char ctl_embedded_app_py[];
extern const char remote_helper_py[];
extern const size_t remote_helper_py_size;

struct sim_remote;
extern const size_t ctl_embedded_app_py_size;

struct sim_runtime {
    const struct sim_plan *plan;
    char *dir;
    char *rest_url;           /* as the client uses it */
    char *public_url;         /* without credentials: what is stored and shown */
    char *osken;              /* path of osken-manager */
    const struct ctl_config *external; /* NULL: the embedded controller */
    char of_ip[64];           /* where the switches connect */
    struct ctl_client *client; /* readiness checks, through either */
    int of_port, rest_port;
    struct sr_proc ctl, mn;
    struct sr_buf script;     /* net.py as written, checked before it runs */
    char *apps;               /* controller.json: the embedded controller's applications */
    bool mn_started;          /* the Mininet script reported the network started */
    struct sr_error agent_err; /* an agent exited during the run (agent_exit event) */
    struct sr_trace *trace;   /* borrowed from the options, may be NULL */
    struct sr_buf line;       /* bytes of the Mininet script's output not yet a line */
    int next_id;
    int lock_fd;
    double t0, ready_s;
    char run_id[160];
    char stamp[32];           /* when the run started, UTC: in its id and folder */
    json_t *state;            /* what STATE_FILE holds */
    struct sim_remote *remote; /* NULL: the network runs here */
};

/* The state file: what runs now, for 'simrun clean' after a SIGKILL.
 * Written atomically, mode 0600 (in a directory of mode 0700). */
void rt_save_state(struct sim_runtime *rt);
/* Takes the machine-wide lock; refuses when a live run holds it
 * (SR_EBUSY) or a dead one left its network. */
int rt_take_lock(struct sim_runtime *rt, struct sr_error *err);
/* Removes what 'state' describes and any bridge tagged as simrun's; a
 * line per removal to 'out' (NULL: warnings in the log). */
void rt_sweep(json_t *state, struct sr_buf *out);
/* Makes SIM_STATE_DIR (mode 0700) or a folder in it. */
int rt_state_dir(const char *path, struct sr_error *err);
/* Records the host processes the Mininet script reported, with their
 * start times, so 'clean' never signals a process that reused a PID. */
void rt_note_hosts(struct sim_runtime *rt, json_t *host_pids);

/* Whether the embedded controller ended ('*status': a wait status here,
 * an exit status on a lab server; may be NULL) (runtime.c). */
bool rt_controller_exited(struct sim_runtime *rt, int *status);

/* Readiness (ready.c). */
int rt_wait_ready(struct sim_runtime *rt, double deadline, struct sr_error *err);

/* The control channel (runtime.c). */
int rt_command(struct sim_runtime *rt, json_t *cmd, double timeout_s, bool interruptible,
               json_t **answer, struct sr_error *err);
double rt_deadline_left_ms(double deadline);

/* The error for an agent that exited with 'status' (agents.c). */
int rt_agent_exit_error(struct sim_runtime *rt, const char *host, int status,
                        struct sr_error *err);

/* Removes AGENTS_DIR and the sockets in it (agents.c). */
void rt_remove_agent_sockets(void);
/* The last 'lines' lines of a file, indented, for messages (runtime.c). */
char *rt_log_tail(const char *path, int lines);

/* A network on a lab server (remote.c).  rt_remote_open connects, checks
 * the server (preflight) and makes the run's private directory there,
 * choosing the OpenFlow and REST ports on the server's loopback. */
int rt_remote_open(struct sim_runtime *rt, const struct sim_remote_opts *o, int of_port,
                   int rest_port, struct sr_error *err);
/* Puts the run directory's net.py and controller.py on the server and
 * forwards a local port to the REST API there ('*local_port'). */
int rt_remote_prepare(struct sim_runtime *rt, int *local_port, struct sr_error *err);
int rt_remote_spawn_controller(struct sim_runtime *rt, struct sr_error *err);
/* Stops the controller abruptly (controller_down, teardown). */
void rt_remote_kill_controller(struct sim_runtime *rt);
/* Whether the controller (or the Mininet script) ended; '*status' its
 * exit status. */
bool rt_remote_controller_exited(struct sim_runtime *rt, int *status);
bool rt_remote_controller_running(struct sim_runtime *rt);
int rt_remote_spawn_mininet(struct sim_runtime *rt, struct sr_error *err);
bool rt_remote_mininet_exited(struct sim_runtime *rt, int timeout_ms, int *status);
/* "USER@HOST:PORT" of the lab server. */
const char *rt_remote_name(const struct sim_runtime *rt);
/* Why the connection is gone, or NULL while it holds. */
const char *rt_remote_lost(struct sim_runtime *rt);
/* Agents: plans and the program onto the server, the command, and their
 * KPI files and logs back into 'dir' when they stop. */
int rt_remote_agents_start(struct sim_runtime *rt, const char *program, const char *dir,
                           struct sr_error *err);
int rt_remote_agents_fetch(struct sim_runtime *rt, const char *dir, struct sr_error *err);
int rt_remote_agent_control(struct sim_runtime *rt, const char *host, json_t *cmd,
                            struct sr_error *err);
/* After the network is down: fetches what is left to fetch, removes the
 * server's run directory (kept when the connection was lost) and closes
 * the connection. */
void rt_remote_close(struct sim_runtime *rt);

#endif
