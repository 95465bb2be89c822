/* The emulation runtime.  Order of bring-up: preflight checks, the lock,
 * the run directory, the controller (until its REST API answers), the
 * Mininet script (until it reports the network started), then readiness.
 * Teardown runs the same way backwards and then sweeps for leftovers, so a
 * half-built network is put away as surely as a finished one. */
#include "runtime.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "mininet.h"
#include "proc.h"
#include "ryu.h"
#include "util.h"

#define STATE_FILE SIM_STATE_DIR "/state.json"
#define LOCK_FILE SIM_STATE_DIR "/lock"
/* The traffic agents' control sockets (one run owns the machine). */
#define AGENTS_DIR SIM_STATE_DIR "/agents"
#define PYTHON "/usr/bin/python3"
/* Not "mininet.py": a script of that name would shadow the mininet package. */
#define MN_SCRIPT "net.py"
#define PROBE_PORT 7 /* the servers' readiness listener, inside namespaces */

extern const char ctl_embedded_app_py[];
extern const size_t ctl_embedded_app_py_size;

struct sim_runtime {
    const struct sim_plan *plan;
    char *dir;
    char *rest_url;
    char *osken;              /* path of osken-manager */
    const struct ctl_config *external; /* NULL: the embedded controller */
    char of_ip[64];           /* where the switches connect */
    struct ctl_client *client; /* readiness checks, through either */
    int of_port, rest_port;
    struct sr_proc ctl, mn;
    struct ctl_http *http;
    struct sr_buf line;       /* bytes of the Mininet script's output not yet a line */
    int next_id;
    int lock_fd;
    double t0, ready_s;
    char run_id[64];
    json_t *state;            /* what STATE_FILE holds */
};

static void remove_agent_sockets(void);

/* ---- small helpers ---- */

static int
write_file(const char *path, const void *data, size_t n, struct sr_error *err)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        return sr_error_set(err, SR_EIO, "cannot write '%s': %s", path, strerror(errno));
    }
    if (fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        return sr_error_set(err, SR_EIO, "cannot write '%s': %s", path, strerror(errno));
    }
    return 0;
}

static int
mkdir_p(const char *path, struct sr_error *err)
{
    char *copy = xstrdup(path);

    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                int e = errno;

                free(copy);
                return sr_error_set(err, SR_EIO, "cannot create '%s': %s", path, strerror(e));
            }
            *p = '/';
        }
    }
    free(copy);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        return sr_error_set(err, SR_EIO, "cannot create '%s': %s", path, strerror(errno));
    }
    return 0;
}

/* The last 'lines' lines of the file at 'path', indented, for messages. */
static char *
log_tail(const char *path, int lines)
{
    char *text = sr_read_file(path, NULL);
    struct sr_buf b = SR_BUF_INIT;
    const char *start;
    int seen = 0;

    if (!text || !*text) {
        free(text);
        return xasprintf("  (%s is empty)", path);
    }
    start = text + strlen(text);
    while (start > text && (start[-1] == '\n' || start[-1] == ' ')) {
        start--;
    }
    while (start > text && seen < lines) {
        start--;
        if (*start == '\n') {
            seen++;
        }
    }
    if (*start == '\n') {
        start++;
    }
    for (const char *p = start; *p;) {
        size_t n = strcspn(p, "\n");

        sr_buf_printf(&b, "  | %.*s\n", (int) n, p);
        p += n + (p[n] == '\n');
    }
    free(text);
    if (b.len) {
        b.data[--b.len] = '\0';
    }
    return sr_buf_steal(&b);
}

/* A TCP port on 127.0.0.1 that is free right now. */
static int
free_port(struct sr_error *err)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *) &a, &len) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return sr_error_set(err, SR_EIO, "cannot find a free TCP port: %s", strerror(errno));
    }
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int
check_port_free(int port, const char *what, struct sr_error *err)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, rc = 0;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0) {
        rc = sr_error_set(err, SR_EIO,
                          "%s port %d on 127.0.0.1 is in use (%s); choose another or "
                          "leave it out to get a free one",
                          what, port, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* 's', or 'fallback' when it is NULL. */
static const char *
or_default(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

static double
deadline_left_ms(double deadline)
{
    return (deadline - sr_now()) * 1000.0;
}

/* ---- the state file ---- */

static void
save_state(struct sim_runtime *rt)
{
    char *text = json_dumps(rt->state, JSON_INDENT(1));
    char tmp[] = STATE_FILE ".tmp";

    if (text && write_file(tmp, text, strlen(text), NULL) == 0) {
        rename(tmp, STATE_FILE);
    }
    free(text);
}

/* ---- preflight ---- */

static int
preflight(struct sim_runtime *rt, struct sr_error *err)
{
    static const char *const tools[][2] = {
        { "ovs-vsctl", "Open vSwitch is not installed (apt-get install "
                       "openvswitch-switch, or run setup.sh)" },
        { "ovs-ofctl", "Open vSwitch is not installed (apt-get install "
                       "openvswitch-switch, or run setup.sh)" },
        { "ip", "iproute2 is not installed (apt-get install iproute2)" },
        { "ethtool", "ethtool is not installed (apt-get install ethtool): it turns "
                     "off checksum offload, without which TCP fails" },
    };

    if (geteuid() != 0) {
        return sr_error_set(err, SR_EINVAL,
                            "bringing a network up needs root: Mininet creates network "
                            "namespaces and Open vSwitch bridges (run simrun as root)");
    }
    for (size_t i = 0; i < SR_ARRAY_SIZE(tools); i++) {
        char *p = sr_which(tools[i][0]);

        if (!p) {
            return sr_error_set(err, SR_ENOTFOUND, "%s", tools[i][1]);
        }
        free(p);
    }
    if (access(PYTHON, X_OK) < 0 ||
        access("/usr/lib/python3/dist-packages/mininet/net.py", R_OK) < 0) {
        return sr_error_set(err, SR_ENOTFOUND,
                            "Mininet is not installed for " PYTHON
                            " (apt-get install mininet, or run setup.sh)");
    }
    if (rt->external) {
        return 0;
    }
    rt->osken = sr_which("osken-manager");
    if (!rt->osken || access("/usr/lib/python3/dist-packages/os_ken/__init__.py", R_OK) < 0) {
        return sr_error_set(err, SR_ENOTFOUND,
                            "os-ken is not installed (apt-get install python3-os-ken, "
                            "or run setup.sh): the embedded controller needs it");
    }
    return 0;
}

/* Starts Open vSwitch's daemons when they are not running. */
static int
ensure_ovs(struct sr_error *err)
{
    static const char *const show[] = { "ovs-vsctl", "--timeout=5", "show", NULL };
    static const char *const start[] = { "/usr/share/openvswitch/scripts/ovs-ctl", "start",
                                         "--system-id=random", NULL };
    char *vsctl = sr_which("ovs-vsctl");
    const char *argv[4] = { vsctl, show[1], show[2], NULL };
    struct sr_buf out = SR_BUF_INIT;
    int rc = sr_run(argv, 10000, &out, err);

    if (rc != 0) {
        SR_INFO("starting Open vSwitch");
        sr_buf_clear(&out);
        rc = sr_run(start, 60000, &out, err);
        if (rc == 0) {
            rc = sr_run(argv, 10000, NULL, err);
        }
        if (rc != 0) {
            char *tail = log_tail("/var/log/openvswitch/ovs-vswitchd.log", 5);

            sr_error_set(err, SR_EIO,
                         "Open vSwitch is not running and could not be started "
                         "(ovs-ctl start: %s)\n%s",
                         sr_buf_cstr(&out), tail);
            free(tail);
            rc = -SR_EIO;
        }
    }
    sr_buf_release(&out);
    free(vsctl);
    return rc == 0 ? 0 : -SR_EIO;
}

/* Takes the machine-wide lock; refuses when a live run holds it or a dead
 * one left its network. */
static int
take_lock(struct sim_runtime *rt, struct sr_error *err)
{
    json_t *old;

    if (mkdir_p(SIM_STATE_DIR, err) < 0) {
        return -SR_EIO;
    }
    rt->lock_fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (rt->lock_fd < 0) {
        return sr_error_set(err, SR_EIO, "cannot open '%s': %s", LOCK_FILE, strerror(errno));
    }
    if (flock(rt->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        old = json_load_file(STATE_FILE, 0, NULL);
        sr_error_set(err, SR_EINVAL,
                     "another simrun run (pid %lld, run directory %s) owns the network "
                     "on this machine; wait for it or stop it first",
                     (long long) json_integer_value(json_object_get(old, "simrun_pid")),
                     or_default(json_string_value(json_object_get(old, "dir")), "?"));
        json_decref(old);
        close(rt->lock_fd);
        rt->lock_fd = -1;
        return -SR_EINVAL;
    }
    old = json_load_file(STATE_FILE, 0, NULL);
    if (old) {
        sr_error_set(err, SR_EINVAL,
                     "a previous run (pid %lld, run directory %s) ended without tearing "
                     "down its network: run 'simrun clean' first",
                     (long long) json_integer_value(json_object_get(old, "simrun_pid")),
                     or_default(json_string_value(json_object_get(old, "dir")), "?"));
        json_decref(old);
        return -SR_EINVAL;
    }
    return 0;
}

/* Refuses to start when Open vSwitch already has bridges with our names. */
static int
check_bridges(const struct sim_plan *plan, struct sr_error *err)
{
    const char *argv[] = { "ovs-vsctl", "--timeout=10", "list-br", NULL };
    char *vsctl = sr_which("ovs-vsctl");
    struct sr_buf out = SR_BUF_INIT, clash = SR_BUF_INIT;
    int rc;
    size_t nclash = 0;

    argv[0] = vsctl;
    rc = sr_run(argv, 15000, &out, err);
    free(vsctl);
    if (rc != 0) {
        sr_buf_release(&out);
        return rc < 0 ? rc : sr_error_set(err, SR_EIO, "ovs-vsctl list-br failed");
    }
    for (const char *p = sr_buf_cstr(&out); *p;) {
        size_t n = strcspn(p, "\n");

        for (size_t i = 0; i < plan->topo->nsw; i++) {
            if (strlen(plan->topo->sw[i].name) == n && !strncmp(p, plan->topo->sw[i].name, n)) {
                if (nclash++ < 8) {
                    sr_buf_printf(&clash, "%s%.*s", nclash > 1 ? ", " : "", (int) n, p);
                }
            }
        }
        p += n + (p[n] == '\n');
    }
    sr_buf_release(&out);
    if (nclash) {
        rc = sr_error_set(err, SR_EINVAL,
                          "Open vSwitch already has %zu bridge%s named like this "
                          "scenario's switches (%s%s); remove them (ovs-vsctl del-br "
                          "NAME) or run 'simrun clean'",
                          nclash, nclash == 1 ? "" : "s", sr_buf_cstr(&clash),
                          nclash > 8 ? ", ..." : "");
    }
    sr_buf_release(&clash);
    return rc;
}

/* ---- the run directory ---- */

static int
prepare_dir(struct sim_runtime *rt, const struct sim_runtime_opts *o, struct sr_error *err)
{
    const struct scenario *scn = rt->plan->scn;
    char stamp[32], *path;
    time_t now = time(NULL);
    struct tm tm;
    FILE *f;
    int rc = 0;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(rt->run_id, sizeof rt->run_id, "%s-%llu-%s-%d", scn->name,
             (unsigned long long) scn->seed, stamp, (int) getpid());
    if (o->out_dir) {
        rt->dir = xstrdup(o->out_dir);
    } else {
        rt->dir = xasprintf("runs/%s-%llu-%s", scn->name, (unsigned long long) scn->seed,
                            stamp);
    }
    if (mkdir_p(rt->dir, err) < 0) {
        return -SR_EIO;
    }
    path = xasprintf("%s/topology.json", rt->dir);
    f = fopen(path, "w");
    rc = f ? topo_write_json(rt->plan->topo, scn->name, f, err) : -1;
    if (f && fclose(f) != 0) {
        rc = -1;
    }
    free(path);
    path = xasprintf("%s/" MN_SCRIPT, rt->dir);
    if (rc == 0 && (f = fopen(path, "w"))) {
        rc = mn_write_script(rt->plan->topo, scn->name, f, err);
        if (fclose(f) != 0) {
            rc = -1;
        }
    } else if (rc == 0) {
        rc = -1;
    }
    free(path);
    if (rc < 0) {
        return sr_error_set(err, SR_EIO, "cannot write the run directory '%s': %s", rt->dir,
                            strerror(errno));
    }
    if (rt->external) {
        return 0;
    }
    path = xasprintf("%s/controller.py", rt->dir);
    rc = write_file(path, ctl_embedded_app_py, ctl_embedded_app_py_size, err);
    free(path);
    return rc;
}

/* ---- the controller ---- */

static int
start_controller(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    char of[16], envport[48], *app = xasprintf("%s/controller.py", rt->dir);
    char *logp = xasprintf("%s/controller.log", rt->dir);
    const char *argv[] = { PYTHON, rt->osken, "--ofp-listen-host", "127.0.0.1",
                           "--ofp-tcp-listen-port", of, "--observe-links",
                           "--noinstall-lldp-flow", "--default-log-level", "20", app, NULL };
    const char *env[] = { envport, "SIMRUN_REST_HOST=127.0.0.1", NULL };
    struct sr_fd_spec null = { SR_FD_NULL, NULL }, logf = { SR_FD_FILE, logp };
    struct sr_error e = { 0 };
    int rc = 0, status = 0;

    snprintf(of, sizeof of, "%d", rt->of_port);
    snprintf(envport, sizeof envport, "SIMRUN_REST_PORT=%d", rt->rest_port);
    if (sr_spawn(argv, env, null, logf, logf, &rt->ctl, err) < 0) {
        rc = -SR_EIO;
        goto out;
    }
    json_object_set_new(rt->state, "controller_pid", json_integer(rt->ctl.pid));
    save_state(rt);
    /* Ready when the REST API answers. */
    for (;;) {
        uint64_t *dpids = NULL;
        size_t n = 0;

        if (ctl_ryu_switches(rt->http, rt->rest_url, &dpids, &n, &e) == 0) {
            free(dpids);
            break;
        }
        if (sr_proc_exited(rt->ctl.pid, &status)) {
            char why[96], *tail = log_tail(logp, 8);

            sr_proc_describe(status, why, sizeof why);
            rt->ctl.pid = -1;
            rc = sr_error_set(err, SR_EIO, "the controller %s while starting; %s:\n%s", why,
                              logp, tail);
            free(tail);
            goto out;
        }
        if (sr_now() > deadline) {
            char *tail = log_tail(logp, 8);

            rc = sr_error_set(err, SR_ETIMEDOUT,
                              "the controller did not answer at %s within the start-up "
                              "time (%s); %s:\n%s",
                              rt->rest_url, e.msg, logp, tail);
            free(tail);
            goto out;
        }
        if (sr_signals_sleep(100)) {
            rc = sr_error_set(err, SR_EINVAL, "interrupted while starting the controller");
            goto out;
        }
    }

out:
    free(app);
    free(logp);
    return rc;
}

/* ---- the control channel ---- */

/* Reads one JSON line from the Mininet script.  Returns 1 with '*msg', 0
 * when 'deadline' passed, or a negative code (EOF, bad JSON, a signal). */
static int
read_message(struct sim_runtime *rt, double deadline, bool interruptible, json_t **msg,
             struct sr_error *err)
{
    for (;;) {
        char *nl = rt->line.data ? memchr(rt->line.data, '\n', rt->line.len) : NULL;
        struct pollfd pfd[2] = { { rt->mn.out_fd, POLLIN, 0 },
                                 { sr_signals_fd(), POLLIN, 0 } };
        double left;
        char buf[8192];
        ssize_t n;

        if (nl) {
            json_error_t je;
            size_t len = (size_t) (nl - rt->line.data);

            *msg = json_loadb(rt->line.data, len, 0, &je);
            memmove(rt->line.data, nl + 1, rt->line.len - len - 1);
            rt->line.len -= len + 1;
            rt->line.data[rt->line.len] = '\0';
            if (!*msg) {
                return sr_error_set(err, SR_EIO,
                                    "the Mininet script wrote something that is not JSON "
                                    "(%s)",
                                    je.text);
            }
            return 1;
        }
        if (rt->mn.out_fd < 0) {
            return sr_error_set(err, SR_EIO, "the Mininet script's output is closed");
        }
        left = deadline_left_ms(deadline);
        if (left <= 0) {
            return 0;
        }
        if (interruptible && sr_signals_pending()) {
            return sr_error_set(err, SR_EINVAL, "interrupted by signal %d",
                                sr_signals_pending());
        }
        if (poll(pfd, interruptible ? 2 : 1, left > 200 ? 200 : (int) left) <= 0) {
            continue;
        }
        if (!(pfd[0].revents & (POLLIN | POLLHUP))) {
            continue;
        }
        n = read(rt->mn.out_fd, buf, sizeof buf);
        if (n > 0) {
            sr_buf_append(&rt->line, buf, (size_t) n);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            return sr_error_set(err, SR_EIO, "the Mininet script closed its output");
        }
    }
}

/* Explains why the Mininet script is gone, with the end of its log. */
static int
mininet_died(struct sim_runtime *rt, struct sr_error *err)
{
    char why[96] = "stopped answering", *logp = xasprintf("%s/mininet.log", rt->dir);
    char *tail = log_tail(logp, 12);
    int status;

    if (rt->mn.pid > 0 && sr_proc_wait(rt->mn.pid, 3000, &status)) {
        sr_proc_describe(status, why, sizeof why);
        rt->mn.pid = -1;
    }
    sr_error_set(err, SR_EIO, "the Mininet script %s; %s:\n%s", why, logp, tail);
    free(tail);
    free(logp);
    return -SR_EIO;
}

static void
note_event(struct sim_runtime *rt, json_t *msg)
{
    const char *event = json_string_value(json_object_get(msg, "event"));

    if (event && !strcmp(event, "error")) {
        SR_WARN("the Mininet script reports: %s",
                or_default(json_string_value(json_object_get(msg, "error")), "?"));
    } else if (event && !strcmp(event, "started")) {
        json_t *sec = json_object_get(msg, "seconds");

        SR_INFO("Mininet: links and hosts built in %.1f s, offload off in %.1f s, switches "
                "started in %.1f s",
                json_number_value(json_object_get(sec, "build")),
                json_number_value(json_object_get(sec, "offload")),
                json_number_value(json_object_get(sec, "start")));
        json_object_set(rt->state, "host_pids", json_object_get(msg, "host_pids"));
        json_object_set(rt->state, "mininet_pid", json_object_get(msg, "pid"));
        save_state(rt);
    }
}

static int
command(struct sim_runtime *rt, json_t *cmd, double timeout_s, bool interruptible,
        json_t **answer, struct sr_error *err)
{
    double deadline = sr_now() + timeout_s;
    int id = ++rt->next_id;
    char *text;
    size_t len;
    ssize_t w;

    json_object_set_new(cmd, "id", json_integer(id));
    text = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    if (rt->mn.in_fd < 0 || !text) {
        free(text);
        return sr_error_set(err, SR_EIO, "the Mininet script is not running");
    }
    len = strlen(text);
    text[len] = '\n';
    w = write(rt->mn.in_fd, text, len + 1);
    free(text);
    if (w != (ssize_t) len + 1) {
        return mininet_died(rt, err);
    }
    for (;;) {
        json_t *msg = NULL;
        int rc = read_message(rt, deadline, interruptible, &msg, err);

        if (rc == 0) {
            return sr_error_set(err, SR_ETIMEDOUT,
                                "the Mininet script did not answer within %.0f s", timeout_s);
        }
        if (rc < 0) {
            return err->code == SR_EIO ? mininet_died(rt, err) : rc;
        }
        if (json_integer_value(json_object_get(msg, "id")) != id) {
            note_event(rt, msg);
            json_decref(msg);
            continue;
        }
        if (!json_is_true(json_object_get(msg, "ok"))) {
            sr_error_set(err, SR_EINVAL, "%s",
                         or_default(json_string_value(json_object_get(msg, "error")), "failed"));
            json_decref(msg);
            return -SR_EINVAL;
        }
        if (answer) {
            *answer = msg;
        } else {
            json_decref(msg);
        }
        return 0;
    }
}

int
sim_runtime_command(struct sim_runtime *rt, json_t *cmd, double timeout_s, json_t **answer,
                    struct sr_error *err)
{
    return command(rt, cmd, timeout_s, true, answer, err);
}

static int
start_mininet(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    char port[16], probe[16];
    char *script = xasprintf("%s/" MN_SCRIPT, rt->dir);
    char *logp = xasprintf("%s/mininet.log", rt->dir);
    const char *argv[] = { PYTHON, script, "--controller-ip", rt->of_ip, "--controller-port",
                           port, "--run-id", rt->run_id, "--probe-port", probe, NULL };
    struct sr_fd_spec pipe_spec = { SR_FD_PIPE, NULL }, logf = { SR_FD_FILE, logp };
    int rc;

    snprintf(port, sizeof port, "%d", rt->of_port);
    snprintf(probe, sizeof probe, "%d", PROBE_PORT);
    rc = sr_spawn(argv, NULL, pipe_spec, pipe_spec, logf, &rt->mn, err);
    free(script);
    free(logp);
    if (rc < 0) {
        return rc;
    }
    json_object_set_new(rt->state, "mininet_pid", json_integer(rt->mn.pid));
    save_state(rt);
    for (;;) {
        json_t *msg = NULL;
        const char *event;

        rc = read_message(rt, deadline, true, &msg, err);
        if (rc == 0) {
            return sr_error_set(err, SR_ETIMEDOUT,
                                "Mininet did not start the network in time (see %s/mininet.log)",
                                rt->dir);
        }
        if (rc < 0) {
            return err->code == SR_EIO ? mininet_died(rt, err) : rc;
        }
        event = json_string_value(json_object_get(msg, "event"));
        note_event(rt, msg);
        if (event && !strcmp(event, "started")) {
            json_decref(msg);
            return 0;
        }
        if (event && !strcmp(event, "error")) {
            json_decref(msg);
            return mininet_died(rt, err);
        }
        json_decref(msg);
    }
}

/* ---- readiness ---- */

static int
check_switches(struct sim_runtime *rt, struct sr_buf *missing, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    uint64_t *dpids = NULL;
    size_t n = 0, nmissing = 0;

    if (ctl_client_switches(rt->client, &dpids, &n, err) < 0) {
        return -1;
    }
    sr_buf_clear(missing);
    for (size_t i = 0; i < t->nsw; i++) {
        bool found = false;

        for (size_t k = 0; k < n && !found; k++) {
            found = dpids[k] == t->sw[i].dpid;
        }
        if (!found && nmissing++ < 10) {
            sr_buf_printf(missing, "%s%s", nmissing > 1 ? ", " : "", t->sw[i].name);
        }
    }
    free(dpids);
    return (int) nmissing;
}

int
sim_runtime_missing_links(struct sim_runtime *rt, struct sr_buf *missing, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    struct ctl_link *links = NULL;
    size_t n = 0;
    int nmissing = 0;

    if (ctl_client_links(rt->client, &links, &n, err) < 0) {
        return -1;
    }
    sr_buf_clear(missing);
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        if (l->kind == TOPO_LINK_HOST) {
            continue;
        }
        for (int dir = 0; dir < 2; dir++) {
            int a = dir ? l->b : l->a, b = dir ? l->a : l->b;
            int ap = dir ? l->b_port : l->a_port, bp = dir ? l->a_port : l->b_port;
            bool found = false;

            for (size_t k = 0; k < n && !found; k++) {
                found = links[k].src_dpid == t->sw[a].dpid && links[k].src_port == (uint32_t) ap &&
                        links[k].dst_dpid == t->sw[b].dpid && links[k].dst_port == (uint32_t) bp;
            }
            if (!found && nmissing++ < 10) {
                sr_buf_printf(missing, "%s%s:%d->%s:%d", nmissing > 1 ? ", " : "",
                              t->sw[a].name, ap, t->sw[b].name, bp);
            }
        }
    }
    free(links);
    return nmissing;
}

/* Each user host tries a TCP connection to one server (round-robin). */
static int
check_tcp(struct sim_runtime *rt, double deadline, struct sr_buf *failed, struct sr_error *err)
{
    const struct topology *t = rt->plan->topo;
    json_t *pairs = json_array(), *cmd, *answer = NULL;
    size_t nservers = 0, k = 0;
    int nfailed;
    char ip[32];

    for (size_t i = 0; i < t->nhost; i++) {
        nservers += t->host[i].role == TOPO_ROLE_SERVER;
    }
    for (size_t i = 0; i < t->nhost && nservers; i++) {
        size_t want = k++ % nservers, seen = 0;

        if (t->host[i].role != TOPO_ROLE_USER) {
            k--;
            continue;
        }
        for (size_t j = 0; j < t->nhost; j++) {
            if (t->host[j].role == TOPO_ROLE_SERVER && seen++ == want) {
                topo_format_ip(t->host[j].ip, ip, sizeof ip);
                json_array_append_new(pairs, json_pack("[s, s]", t->host[i].name, ip));
                break;
            }
        }
    }
    if (json_array_size(pairs) == 0) {
        json_decref(pairs);
        return 0;
    }
    cmd = json_pack("{s:s, s:o, s:i}", "cmd", "tcpcheck", "pairs", pairs, "timeout", 2);
    if (command(rt, cmd, deadline_left_ms(deadline) / 1000.0 + 5, true, &answer, err) < 0) {
        return -1;
    }
    sr_buf_clear(failed);
    nfailed = (int) json_array_size(json_object_get(answer, "failed"));
    for (int i = 0; i < nfailed && i < 10; i++) {
        json_t *f = json_array_get(json_object_get(answer, "failed"), (size_t) i);

        sr_buf_printf(failed, "%s%s -> %s (%s)", i ? ", " : "",
                      json_string_value(json_array_get(f, 0)),
                      json_string_value(json_array_get(f, 1)),
                      json_string_value(json_array_get(f, 2)));
    }
    json_decref(answer);
    return nfailed;
}

static int
wait_ready(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    struct sr_buf what = SR_BUF_INIT;
    const char *stage = "switches not connected to the controller";
    int step = 0, rc = 0;

    while (step < 3) {
        int missing;

        if (!rt->external && sr_proc_exited(rt->ctl.pid, NULL)) {
            rt->ctl.pid = -1;
            rc = sr_error_set(err, SR_EIO, "the controller exited during start-up; see %s/controller.log",
                              rt->dir);
            break;
        }
        missing = step == 0   ? check_switches(rt, &what, err)
                  : step == 1 ? sim_runtime_missing_links(rt, &what, err)
                              : check_tcp(rt, deadline, &what, err);
        if (missing == 0) {
            static const char *const done[] = { "every switch connected",
                                                "every link discovered",
                                                "every user reached a server over TCP" };

            SR_INFO("%s (%.1f s)", done[step], sr_now() - rt->t0);
            step++;
            continue;
        }
        if (missing < 0 && err->code != SR_ETIMEDOUT && err->code != SR_EIO) {
            rc = -1;
            break;
        }
        if (missing < 0 && step == 2) {
            rc = -1;
            break;
        }
        stage = missing < 0   ? "the controller did not answer"
                : step == 0   ? "switches not connected to the controller"
                : step == 1   ? "links not discovered"
                              : "users that could not reach a server over TCP";
        if (sr_now() > deadline) {
            char detail[sizeof err->msg + 16];

            /* 'err' may hold the last failure: copy it before reusing it. */
            snprintf(detail, sizeof detail, "%s%s",
                     missing < 0 ? err->msg : sr_buf_cstr(&what),
                     missing > 10 ? ", ..." : "");
            rc = sr_error_set(err, SR_ETIMEDOUT, "the network was not ready within %.0f s: %s (%s)",
                              deadline - rt->t0, stage, detail);
            break;
        }
        if (sr_signals_sleep(step == 2 ? 200 : 250)) {
            rc = sr_error_set(err, SR_EINVAL, "interrupted while waiting for the network");
            break;
        }
    }
    sr_buf_release(&what);
    return rc;
}

/* ---- cleaning up ---- */

static bool
cmdline_has(pid_t pid, const char *needle)
{
    char path[64], buf[4096];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
    f = fopen(path, "r");
    if (!f) {
        return false;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        if (!buf[i]) {
            buf[i] = ' ';
        }
    }
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Kills every process in the network namespace of 'pid' (a host shell). */
static int
kill_namespace(pid_t pid)
{
    char path[64], ns[64], other[64];
    ssize_t n;
    DIR *d;
    struct dirent *e;
    int killed = 0;

    snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
    n = readlink(path, ns, sizeof ns - 1);
    if (n <= 0) {
        return 0;
    }
    ns[n] = '\0';
    d = opendir("/proc");
    while (d && (e = readdir(d))) {
        int64_t p;

        if (!sr_parse_i64(e->d_name, 1, INT32_MAX, &p)) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) p);
        n = readlink(path, other, sizeof other - 1);
        if (n > 0) {
            other[n] = '\0';
            if (!strcmp(ns, other) && kill((pid_t) p, SIGKILL) == 0) {
                killed++;
            }
        }
    }
    if (d) {
        closedir(d);
    }
    return killed;
}

static void
report(struct sr_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(struct sr_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (out) {
        sr_buf_printf(out, "%s\n", line);
    } else {
        SR_WARN("teardown left %s; removed it", line);
    }
}

static void
stop_pid(pid_t pid, const char *needle, int patience_ms, int grace_ms, const char *what,
         struct sr_buf *out)
{
    if (pid <= 0 || !sr_pid_alive(pid) || !cmdline_has(pid, needle)) {
        return;
    }
    /* A Mininet script whose simrun died saw its input close and is
     * stopping its network: give it 'patience_ms' to finish on its own. */
    for (int waited = 0; waited < patience_ms && sr_pid_alive(pid); waited += 50) {
        poll(NULL, 0, 50);
        sr_proc_exited(pid, NULL);
    }
    kill(pid, SIGTERM);
    for (int waited = 0; waited < grace_ms && sr_pid_alive(pid); waited += 50) {
        poll(NULL, 0, 50);
        sr_proc_exited(pid, NULL);
    }
    if (sr_pid_alive(pid)) {
        kill(pid, SIGKILL);
    }
    report(out, "%s (pid %d)", what, (int) pid);
}

/* Removes what 'state' describes and any bridge tagged as simrun's.  Writes
 * a line per removal to 'out' (NULL: warn in the log instead). */
static void
sweep(json_t *state, struct sr_buf *out)
{
    const char *argv[] = { NULL, "--timeout=10", "--format=csv", "--data=bare", "--no-headings",
                           "--columns=name,external_ids", "list", "bridge", NULL };
    char *vsctl = sr_which("ovs-vsctl"), *ipcmd = sr_which("ip");
    json_t *hosts = json_object_get(state, "host_pids"), *v, *sws;
    struct sr_buf list = SR_BUF_INIT;
    const char *key;
    size_t i;

    /* The Mininet script first: given time, it stops its own network. */
    stop_pid((pid_t) json_integer_value(json_object_get(state, "mininet_pid")), MN_SCRIPT,
             60000, 20000, "the Mininet script", out);
    stop_pid((pid_t) json_integer_value(json_object_get(state, "controller_pid")),
             "osken-manager", 0, 3000, "the controller", out);
    json_object_foreach(hosts, key, v) {
        pid_t pid = (pid_t) json_integer_value(v);
        int n;

        if (pid <= 0 || !sr_pid_alive(pid) || !cmdline_has(pid, "mininet:")) {
            continue;
        }
        n = kill_namespace(pid);
        report(out, "host %s (%d process%s)", key, n, n == 1 ? "" : "es");
    }
    argv[0] = vsctl;
    if (vsctl && sr_run(argv, 15000, &list, NULL) == 0) {
        for (const char *p = sr_buf_cstr(&list); *p;) {
            size_t n = strcspn(p, "\n");
            char name[64];
            size_t c = strcspn(p, ",");

            if (c < n && c < sizeof name && memmem(p, n, "simrun-run=", 11)) {
                const char *del[] = { vsctl, "--timeout=10", "--if-exists", "del-br", name,
                                      NULL };

                memcpy(name, p, c);
                name[c] = '\0';
                if (sr_run(del, 15000, NULL, NULL) == 0) {
                    report(out, "Open vSwitch bridge %s", name);
                }
            }
            p += n + (p[n] == '\n');
        }
    }
    sws = json_object_get(state, "switches");
    json_array_foreach(sws, i, v) {
        const char *sw = json_string_value(json_array_get(v, 0));
        int ports = (int) json_integer_value(json_array_get(v, 1));

        for (int p = 1; sw && ipcmd && p <= ports; p++) {
            char ifname[64], sys[128];

            snprintf(ifname, sizeof ifname, "%s-eth%d", sw, p);
            snprintf(sys, sizeof sys, "/sys/class/net/%s", ifname);
            if (access(sys, F_OK) == 0) {
                const char *del[] = { ipcmd, "link", "del", ifname, NULL };

                if (sr_run(del, 10000, NULL, NULL) == 0) {
                    report(out, "interface %s", ifname);
                }
            }
        }
    }
    sr_buf_release(&list);
    free(vsctl);
    free(ipcmd);
}

void
sim_runtime_down(struct sim_runtime *rt)
{
    if (!rt) {
        return;
    }
    if (rt->mn.pid > 0) {
        /* Ask the script to stop the network; closing its input does too. */
        double grace = 30.0 + 0.25 * (double) rt->plan->topo->nsw;

        if (!sr_proc_exited(rt->mn.pid, NULL)) {
            json_t *stop = json_pack("{s:s}", "cmd", "stop");
            struct sr_error e = { 0 };

            command(rt, stop, 5, false, NULL, &e);
        }
        if (rt->mn.in_fd >= 0) {
            close(rt->mn.in_fd);
            rt->mn.in_fd = -1;
        }
        if (!sr_proc_wait(rt->mn.pid, (int) (grace * 1000), NULL)) {
            SR_WARN("the Mininet script did not stop in %.0f s; terminating it", grace);
        }
        sr_proc_stop(&rt->mn, 10000);
    }
    if (rt->ctl.pid > 0) {
        kill(rt->ctl.pid, SIGCONT); /* a stopped controller cannot exit */
        sr_proc_stop(&rt->ctl, 3000);
    }
    if (rt->state && rt->lock_fd >= 0) {
        json_object_set_new(rt->state, "mininet_pid", json_integer(0));
        json_object_set_new(rt->state, "controller_pid", json_integer(0));
        sweep(rt->state, NULL);
        unlink(STATE_FILE);
    }
    if (rt->lock_fd >= 0) {
        close(rt->lock_fd);
    }
    remove_agent_sockets();
    ctl_http_free(rt->http);
    ctl_client_free(rt->client);
    json_decref(rt->state);
    sr_buf_release(&rt->line);
    free(rt->dir);
    free(rt->rest_url);
    free(rt->osken);
    free(rt);
}

/* ---- traffic agents ---- */

/* Removes AGENTS_DIR and the sockets in it (agents that were killed leave
 * theirs behind). */
static void
remove_agent_sockets(void)
{
    DIR *d = opendir(AGENTS_DIR);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.') {
            char *path = xasprintf("%s/%s", AGENTS_DIR, e->d_name);

            unlink(path);
            free(path);
        }
    }
    if (d) {
        closedir(d);
        rmdir(AGENTS_DIR);
    }
}

int
sim_runtime_agents_start(struct sim_runtime *rt, const char *program, const char *dir,
                         struct sr_error *err)
{
    json_t *answer = NULL;
    int n;

    remove_agent_sockets();
    if (mkdir_p(AGENTS_DIR, err) < 0) {
        return -SR_EIO;
    }
    if (sim_runtime_command(rt, json_pack("{s:s, s:s, s:s, s:s}", "cmd", "agents", "program",
                                          program, "dir", dir, "control", AGENTS_DIR),
                            60, &answer, err) < 0) {
        return -SR_EIO;
    }
    n = (int) json_integer_value(json_object_get(answer, "agents"));
    json_decref(answer);
    return n;
}

int
sim_runtime_agents_stop(struct sim_runtime *rt, struct sr_error *err)
{
    int rc = sim_runtime_command(rt, json_pack("{s:s}", "cmd", "agents_stop"), 30, NULL, err);

    remove_agent_sockets();
    return rc;
}

int
sim_runtime_agent_control(struct sim_runtime *rt, const char *host, json_t *cmd,
                          struct sr_error *err)
{
    struct sockaddr_un to = { .sun_family = AF_UNIX };
    char *text = json_dumps(cmd, JSON_COMPACT);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    (void) rt;
    snprintf(to.sun_path, sizeof to.sun_path, "%s/%s.ctl", AGENTS_DIR, host);
    if (fd < 0 || sendto(fd, text, strlen(text), 0, (struct sockaddr *) &to, sizeof to) < 0) {
        rc = sr_error_set(err, SR_EIO, "cannot reach the traffic agent of %s (%s): %s", host,
                          to.sun_path,
                          errno == ENOENT || errno == ECONNREFUSED
                              ? "no agent is running there" : strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    free(text);
    json_decref(cmd);
    return rc;
}

int
sim_clean(struct sr_buf *out, struct sr_error *err)
{
    int fd;
    json_t *state;

    if (geteuid() != 0) {
        return sr_error_set(err, SR_EINVAL, "cleaning up needs root");
    }
    if (mkdir_p(SIM_STATE_DIR, err) < 0) {
        return -SR_EIO;
    }
    fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return sr_error_set(err, SR_EIO, "cannot open '%s': %s", LOCK_FILE, strerror(errno));
    }
    state = json_load_file(STATE_FILE, 0, NULL);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        sr_error_set(err, SR_EINVAL,
                     "a simrun run (pid %lld) is still running; stop it with Ctrl-C or "
                     "'kill %lld', and it tears its network down itself",
                     (long long) json_integer_value(json_object_get(state, "simrun_pid")),
                     (long long) json_integer_value(json_object_get(state, "simrun_pid")));
        json_decref(state);
        close(fd);
        return -SR_EINVAL;
    }
    if (!state) {
        state = json_object();
    }
    sweep(state, out);
    if (access(AGENTS_DIR, F_OK) == 0) {
        remove_agent_sockets();
        report(out, "traffic agents' control sockets %s", AGENTS_DIR);
    }
    if (access(STATE_FILE, F_OK) == 0) {
        unlink(STATE_FILE);
        report(out, "state file %s", STATE_FILE);
    }
    json_decref(state);
    close(fd);
    return 0;
}

/* ---- bring-up ---- */

/* The host of an http(s) URL, where the switches find an external
 * controller's OpenFlow port. */
static int
url_host(const char *url, char *host, size_t size, struct sr_error *err)
{
    const char *p = strstr(url, "://");
    size_t n;

    p = p ? p + 3 : url;
    if (strchr(p, '@') && strchr(p, '@') < p + strcspn(p, "/")) {
        p = strchr(p, '@') + 1;
    }
    n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/");
    if (n == 0 || n >= size) {
        return sr_error_set(err, SR_EINVAL, "cannot tell the controller's host from '%s'", url);
    }
    snprintf(host, size, "%.*s", (int) n, p);
    if (!strcmp(host, "localhost")) {
        snprintf(host, size, "127.0.0.1");
    }
    return 0;
}

struct sim_runtime *
sim_runtime_up(const struct sim_plan *plan, const struct sim_runtime_opts *o,
               struct sr_error *err)
{
    struct sim_runtime *rt = xcalloc(1, sizeof *rt);
    const struct topology *t = plan->topo;
    double timeout = o->ready_timeout_s > 0 ? o->ready_timeout_s : 60.0 + 0.5 * (double) t->nsw;
    json_t *sws;

    rt->plan = plan;
    rt->external = o->external;
    rt->t0 = sr_now();
    rt->lock_fd = -1;
    rt->ctl.pid = rt->mn.pid = -1;
    rt->ctl.in_fd = rt->ctl.out_fd = rt->mn.in_fd = rt->mn.out_fd = -1;
    if (preflight(rt, err) < 0 || take_lock(rt, err) < 0) {
        goto fail;
    }
    rt->state = json_pack("{s:i, s:s}", "simrun_pid", (int) getpid(), "run_id", "");
    if (!rt->external &&
        ((o->of_port && check_port_free(o->of_port, "the OpenFlow", err) < 0) ||
         (o->rest_port && check_port_free(o->rest_port, "the REST", err) < 0))) {
        goto fail;
    }
    if (rt->external) {
        rt->of_port = o->of_port ? o->of_port : 6653;
        rt->rest_port = 0;
    } else {
        rt->of_port = o->of_port ? o->of_port : free_port(err);
        rt->rest_port = o->rest_port ? o->rest_port : free_port(err);
        while (rt->rest_port == rt->of_port && rt->rest_port > 0) {
            rt->rest_port = free_port(err);
        }
    }
    if (rt->of_port < 0 || rt->rest_port < 0 || ensure_ovs(err) < 0 ||
        check_bridges(plan, err) < 0 || prepare_dir(rt, o, err) < 0) {
        goto fail;
    }
    if (rt->external) {
        rt->rest_url = xstrdup(o->external->url);
        if (url_host(rt->rest_url, rt->of_ip, sizeof rt->of_ip, err) < 0) {
            goto fail;
        }
        rt->client = ctl_client_new(o->external, err);
    } else {
        struct ctl_config cfg = { .kind = CTL_KIND_RYU, .timeout_ms = 2000 };

        rt->rest_url = xasprintf("http://127.0.0.1:%d", rt->rest_port);
        snprintf(rt->of_ip, sizeof rt->of_ip, "127.0.0.1");
        cfg.url = rt->rest_url;
        rt->client = ctl_client_new(&cfg, err);
    }
    rt->http = rt->client ? ctl_http_new(2000, NULL, NULL, err) : NULL;
    if (!rt->http) {
        goto fail;
    }
    sws = json_array();
    for (size_t i = 0; i < t->nsw; i++) {
        json_array_append_new(sws, json_pack("[s, i]", t->sw[i].name, t->sw[i].nports));
    }
    json_object_set_new(rt->state, "run_id", json_string(rt->run_id));
    json_object_set_new(rt->state, "dir", json_string(rt->dir));
    json_object_set_new(rt->state, "rest_url", json_string(rt->rest_url));
    json_object_set_new(rt->state, "of_port", json_integer(rt->of_port));
    json_object_set_new(rt->state, "controller", json_string(sim_runtime_controller_kind(rt)));
    json_object_set_new(rt->state, "switches", sws);
    save_state(rt);
    {
        char *path = xasprintf("%s/run.json", rt->dir);
        json_t *run = json_pack("{s:s, s:s, s:i, s:i, s:s}", "run_id", rt->run_id, "rest_url",
                                rt->rest_url, "of_port", rt->of_port, "rest_port",
                                rt->rest_port, "controller", sim_runtime_controller_kind(rt));

        json_dump_file(run, path, JSON_INDENT(1));
        json_decref(run);
        free(path);
    }
    SR_INFO("run directory %s", rt->dir);
    if (rt->external) {
        SR_INFO("external %s controller at %s (OpenFlow on %s:%d)",
                sim_runtime_controller_kind(rt), rt->rest_url, rt->of_ip, rt->of_port);
    } else {
        if (start_controller(rt, rt->t0 + 30.0, err) < 0) {
            goto fail;
        }
        SR_INFO("controller answering at %s (OpenFlow on 127.0.0.1:%d)", rt->rest_url,
                rt->of_port);
    }
    if (start_mininet(rt, rt->t0 + timeout, err) < 0) {
        goto fail;
    }
    SR_INFO("network started: %zu switches, %zu hosts (%.1f s)", t->nsw, t->nhost,
            sr_now() - rt->t0);
    if (wait_ready(rt, rt->t0 + timeout, err) < 0) {
        goto fail;
    }
    rt->ready_s = sr_now() - rt->t0;
    return rt;

fail:
    SR_INFO("tearing down");
    sim_runtime_down(rt);
    return NULL;
}

int
sim_runtime_watch(struct sim_runtime *rt, int timeout_ms, struct sr_error *err)
{
    double deadline = sr_now() + timeout_ms / 1000.0;
    int status;

    for (;;) {
        json_t *msg = NULL;
        int rc;

        if (sr_signals_pending()) {
            return sr_signals_pending();
        }
        if (rt->ctl.pid > 0 && sr_proc_exited(rt->ctl.pid, &status)) {
            char why[96];

            sr_proc_describe(status, why, sizeof why);
            rt->ctl.pid = -1;
            return sr_error_set(err, SR_EIO, "the controller %s; see %s/controller.log", why,
                                rt->dir);
        }
        rc = read_message(rt, sr_now() + (deadline_left_ms(deadline) > 200 ? 0.2
                                          : deadline_left_ms(deadline) / 1000.0),
                          true, &msg, err);
        if (rc > 0) {
            note_event(rt, msg);
            json_decref(msg);
        } else if (rc < 0) {
            if (sr_signals_pending()) {
                return sr_signals_pending();
            }
            return mininet_died(rt, err);
        }
        if (sr_now() >= deadline) {
            return 0;
        }
    }
}

int
sim_runtime_controller(struct sim_runtime *rt, bool up, struct sr_error *err)
{
    if (rt->external) {
        /* Simrun cannot stop someone else's controller: the switches lose it. */
        return sim_runtime_command(rt, json_pack("{s:s, s:s}", "cmd", "controller", "state",
                                                 up ? "up" : "down"),
                                   60, NULL, err);
    }
    if (!up) {
        /* Abruptly, as a controller crashes: no goodbye to the switches. */
        if (rt->ctl.pid > 0) {
            kill(-rt->ctl.pid, SIGKILL);
            sr_proc_stop(&rt->ctl, 0);
        }
        json_object_set_new(rt->state, "controller_pid", json_integer(0));
        save_state(rt);
        return 0;
    }
    if (rt->ctl.pid > 0 && !sr_proc_exited(rt->ctl.pid, NULL)) {
        return 0;
    }
    /* The same ports: the switches reconnect to where they were told. */
    return start_controller(rt, sr_now() + 30.0, err);
}

const struct sim_plan *
sim_runtime_plan(const struct sim_runtime *rt)
{
    return rt->plan;
}

double
sim_runtime_ready_s(const struct sim_runtime *rt)
{
    return rt->ready_s;
}

const char *
sim_runtime_dir(const struct sim_runtime *rt)
{
    return rt->dir;
}

const char *
sim_runtime_controller_kind(const struct sim_runtime *rt)
{
    return rt->external ? ctl_kind_name(rt->external->kind) : "embedded";
}

const char *
sim_runtime_rest_url(const struct sim_runtime *rt)
{
    return rt->rest_url;
}

int
sim_runtime_of_port(const struct sim_runtime *rt)
{
    return rt->of_port;
}
