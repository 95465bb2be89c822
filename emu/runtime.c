/* The emulation runtime.  Order of bring-up: preflight checks, the lock,
 * the run directory, the controller (until its REST API answers), the
 * Mininet script (until it reports the network started), then readiness.
 * Teardown runs the same way backwards and then sweeps for leftovers, so a
 * half-built network is put away as surely as a finished one. */
#include "runtime-private.h"

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
#include "files.h"
#include "log.h"
#include "mininet.h"
#include "proc.h"
#include "ryu.h"
#include "trace.h"
#include "util.h"


/* ---- small helpers ---- */

/* The last 'lines' lines of the file at 'path', indented, for messages. */
char *
rt_log_tail(const char *path, int lines)
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

double
rt_deadline_left_ms(double deadline)
{
    return (deadline - sr_now()) * 1000.0;
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
            char *tail = rt_log_tail("/var/log/openvswitch/ovs-vswitchd.log", 5);

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

/* A URL as it may be stored or shown: without "user:password@". */
static char *
public_url(const char *url)
{
    struct sr_buf b = SR_BUF_INIT;

    sr_url_redact(&b, url);
    return sr_buf_steal(&b);
}

/* Creates the run directory fresh and writes what the run executes and
 * reads: the topology, the Mininet script and the controller app, each
 * kept in memory so that just before it runs simrun can check that the
 * file is still exactly what it wrote (sr_file_verify). */
static int
prepare_dir(struct sim_runtime *rt, const struct sim_runtime_opts *o, struct sr_error *err)
{
    const struct scenario *scn = rt->plan->scn;
    struct sr_buf topo = SR_BUF_INIT;
    char *path = NULL;
    int rc;

    rt->dir = o->out_dir ? xstrdup(o->out_dir)
                         : xasprintf("runs/%s-%llu-%s", scn->name,
                                     (unsigned long long) scn->seed, rt->stamp);
    rc = sr_dir_fresh(rt->dir, err);
    if (rc == 0) {
        rc = topo_write_json(rt->plan->topo, scn->name, &topo, err);
    }
    if (rc == 0) {
        path = xasprintf("%s/topology.json", rt->dir);
        rc = sr_file_new(path, topo.data, topo.len, 0644, err);
        free(path);
    }
    if (rc == 0) {
        rc = mn_write_script(rt->plan->topo, scn->name, &rt->script, err);
    }
    if (rc == 0) {
        path = xasprintf("%s/" MN_SCRIPT, rt->dir);
        rc = sr_file_new(path, rt->script.data, rt->script.len, 0644, err);
        free(path);
    }
    if (rc == 0 && !rt->external) {
        path = xasprintf("%s/controller.py", rt->dir);
        rc = sr_file_new(path, ctl_embedded_app_py, ctl_embedded_app_py_size, 0644, err);
        free(path);
    }
    if (rc == 0 && !rt->external) {
        /* Read by the controller from beside its app (here or on a lab
         * server): its applications as the plan drew them. */
        json_t *apps = sim_apps_json(&rt->plan->apps, rt->plan->topo, true);

        rt->apps = json_dumps(apps, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(apps);
        path = xasprintf("%s/" RT_APPS_FILE, rt->dir);
        rc = sr_file_new(path, rt->apps, strlen(rt->apps), 0644, err);
        free(path);
    }
    sr_buf_release(&topo);
    return rc;
}

/* The run's id, "<name>-<seed>-<UTC time>-<pid>", and its time stamp. */
static void
make_run_id(struct sim_runtime *rt)
{
    const struct scenario *scn = rt->plan->scn;
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(rt->stamp, sizeof rt->stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(rt->run_id, sizeof rt->run_id, "%s-%llu-%s-%d", scn->name,
             (unsigned long long) scn->seed, rt->stamp, (int) getpid());
}

/* run.json: where the controller answers, for tools and for 'simrun ctl'. */
static int
write_run_json(struct sim_runtime *rt, struct sr_error *err)
{
    char *path = xasprintf("%s/run.json", rt->dir), *text;
    json_t *run = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s?}", "run_id", rt->run_id,
                            "rest_url", rt->public_url, "of_port", rt->of_port, "rest_port",
                            rt->rest_port, "controller", sim_runtime_controller_kind(rt),
                            "lab_server", sim_runtime_lab_server(rt));
    int rc;

    text = json_dumps(run, JSON_INDENT(1));
    rc = sr_file_new(path, text, strlen(text), 0644, err);
    json_decref(run);
    free(text);
    free(path);
    return rc;
}

/* Records a child's PID with its start time in the state file. */
static void
note_pid(struct sim_runtime *rt, const char *key, pid_t pid)
{
    char skey[64];

    if (rt->remote) {
        return; /* the process is the lab server's: its guard stops it */
    }
    snprintf(skey, sizeof skey, "%s_start", key);
    json_object_set_new(rt->state, key, json_integer(pid));
    json_object_set_new(rt->state, skey,
                        json_integer((json_int_t) (pid > 0 ? sr_proc_start_time(pid) : 0)));
    rt_save_state(rt);
}

/* ---- the controller ---- */

/* Starts the embedded controller (it answers a second or so later: see
 * wait_controller). */
/* The embedded controller's nice value (see spawn_controller). */
#define CONTROLLER_NICE "-5"

static int
spawn_controller(struct sim_runtime *rt, struct sr_error *err)
{
    char of[16], envport[48], *app = xasprintf("%s/controller.py", rt->dir);
    char *logp = xasprintf("%s/controller.log", rt->dir);
    /* The controller is the network's measuring instrument: on a busy
     * machine it goes ahead of other work (nice -5; simrun runs as root),
     * so a sweep is answered when it is asked, as a controller on a
     * machine of its own would.  Its load is a burst per sweep. */
    const char *argv[] = { "/usr/bin/nice", "-n", CONTROLLER_NICE, PYTHON, rt->osken,
                           "--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", of,
                           "--observe-links", "--noinstall-lldp-flow", "--default-log-level",
                           "20", app, NULL };
    /* bench/ asks for the controller's cProfile with SIMRUN_CONTROLLER_PROFILE
     * (an absolute path); nothing else of simrun's environment is passed. */
    const char *prof = getenv("SIMRUN_CONTROLLER_PROFILE");
    char *envprof = prof && prof[0] == '/' ? xasprintf("SIMRUN_CONTROLLER_PROFILE=%s", prof) : NULL;
    const char *env[] = { envport, "SIMRUN_REST_HOST=127.0.0.1", envprof, NULL };
    struct sr_fd_spec null = { SR_FD_NULL, NULL }, logf = { SR_FD_FILE, logp };
    int rc = 0;

    if (rt->remote) {
        free(app);
        free(logp);
        free(envprof);
        return rt_remote_spawn_controller(rt, err);
    }
    snprintf(of, sizeof of, "%d", rt->of_port);
    snprintf(envport, sizeof envport, "SIMRUN_REST_PORT=%d", rt->rest_port);
    /* Runs as root: only the app simrun wrote into the run directory. */
    if (sr_file_verify(app, ctl_embedded_app_py, ctl_embedded_app_py_size, err) < 0 ||
        sr_spawn(argv, env, null, logf, logf, &rt->ctl, err) < 0) {
        rc = -err->code;
    } else {
        note_pid(rt, "controller_pid", rt->ctl.pid);
    }
    free(app);
    free(logp);
    free(envprof);
    return rc;
}

/* Whether the embedded controller ended ('*status': a wait status here,
 * an exit status on a lab server). */
bool
rt_controller_exited(struct sim_runtime *rt, int *status)
{
    if (rt->remote) {
        return rt_remote_controller_exited(rt, status);
    }
    if (rt->ctl.pid > 0 && sr_proc_exited(rt->ctl.pid, status)) {
        rt->ctl.pid = -1;
        return true;
    }
    return false;
}

/* "exited with status 3", "killed by SIGKILL", or what ended a process on
 * a lab server. */
static void
describe_end(struct sim_runtime *rt, int status, char *why, size_t size)
{
    const char *lost = rt_remote_lost(rt);

    if (lost) {
        snprintf(why, size, "ended: %s", lost);
    } else if (rt->remote && status > 128) {
        snprintf(why, size, "was killed by signal %d", status - 128);
    } else if (rt->remote) {
        snprintf(why, size, "exited with status %d", status);
    } else {
        sr_proc_describe(status, why, size);
    }
}

/* Waits until the embedded controller's REST API answers. */
static int
wait_controller(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    char *logp = xasprintf("%s/controller.log", rt->dir);
    struct sr_error e = { 0 };
    int rc = 0, status = 0;

    for (;;) {
        uint64_t *dpids = NULL;
        size_t n = 0;

        if (ctl_client_switches(rt->client, &dpids, &n, &e) == 0) {
            free(dpids);
            break;
        }
        if (rt_controller_exited(rt, &status)) {
            char why[800], *tail = rt_log_tail(logp, 8);

            describe_end(rt, status, why, sizeof why);
            rc = sr_error_set(err, SR_EIO, "the controller %s while starting; %s:\n%s", why,
                              logp, tail);
            free(tail);
            goto out;
        }
        if (sr_now() > deadline) {
            char *tail = rt_log_tail(logp, 8);

            rc = sr_error_set(err, SR_ETIMEDOUT,
                              "the controller did not answer at %s within the start-up "
                              "time (%s); %s:\n%s",
                              rt->rest_url, e.msg, logp, tail);
            free(tail);
            goto out;
        }
        if (sr_signals_sleep(100)) {
            rc = sr_error_set(err, SR_EINTR, "interrupted by signal %d while starting the "
                              "controller", sr_signals_pending());
            goto out;
        }
    }

out:
    free(logp);
    return rc;
}

static int
start_controller(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    int rc = spawn_controller(rt, err);

    return rc < 0 ? rc : wait_controller(rt, deadline, err);
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
            sr_trace_text(rt->trace,
                          *msg && json_object_get(*msg, "event") ? "mininet.event"
                                                                 : "mininet.answer",
                          rt->line.data, len);
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
        left = rt_deadline_left_ms(deadline);
        if (left <= 0) {
            return 0;
        }
        if (interruptible && sr_signals_pending()) {
            return sr_error_set(err, SR_EINTR, "interrupted by signal %d",
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
    char why[800] = "stopped answering", *logp = xasprintf("%s/mininet.log", rt->dir);
    char *tail;
    int status;

    if (rt->remote && rt_remote_mininet_exited(rt, 3000, &status)) {
        describe_end(rt, status, why, sizeof why);
    } else if (rt->mn.pid > 0 && sr_proc_wait(rt->mn.pid, 3000, &status)) {
        sr_proc_describe(status, why, sizeof why);
        rt->mn.pid = -1;
    }
    tail = rt_log_tail(logp, 12);
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
    } else if (event && !strcmp(event, "agent_exit") && !rt->agent_err.code) {
        rt_agent_exit_error(rt, or_default(json_string_value(json_object_get(msg, "host")), "?"),
                            (int) json_integer_value(json_object_get(msg, "status")),
                            &rt->agent_err);
    } else if (event && !strcmp(event, "started")) {
        json_t *sec = json_object_get(msg, "seconds");

        SR_INFO("Mininet: links and hosts built in %.1f s, offload off in %.1f s, switches "
                "started in %.1f s",
                json_number_value(json_object_get(sec, "build")),
                json_number_value(json_object_get(sec, "offload")),
                json_number_value(json_object_get(sec, "start")));
        rt->mn_started = true;
        rt_note_hosts(rt, json_object_get(msg, "host_pids"));
        rt_save_state(rt);
    }
}

/* Writes all of 'text' ('len' bytes) to the Mininet script's input. */
static bool
write_all(int fd, const char *text, size_t len)
{
    while (len) {
        ssize_t w = write(fd, text, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        text += w;
        len -= (size_t) w;
    }
    return true;
}

int
rt_command(struct sim_runtime *rt, json_t *cmd, double timeout_s, bool interruptible,
           json_t **answer, struct sr_error *err)
{
    double deadline = sr_now() + timeout_s;
    int id = ++rt->next_id;
    char *text;
    size_t len;
    bool sent;

    json_object_set_new(cmd, "id", json_integer(id));
    sr_trace(rt->trace, "mininet.request", cmd);
    text = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    if (rt->mn.in_fd < 0 || !text) {
        free(text);
        return sr_error_set(err, SR_EIO, "the Mininet script is not running");
    }
    len = strlen(text);
    text[len] = '\n';
    sent = write_all(rt->mn.in_fd, text, len + 1);
    free(text);
    if (!sent) {
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
    return rt_command(rt, cmd, timeout_s, true, answer, err);
}

static int
start_mininet(struct sim_runtime *rt, double deadline, struct sr_error *err)
{
    char port[16], probe[16], group[16];
    char *script = xasprintf("%s/" MN_SCRIPT, rt->dir);
    char *logp = xasprintf("%s/mininet.log", rt->dir);
    const char *argv[] = { PYTHON, script, "--controller-ip", rt->of_ip, "--controller-port",
                           port, "--run-id", rt->run_id, "--probe-port", probe,
                           "--devgroup", group, NULL };
    struct sr_fd_spec pipe_spec = { SR_FD_PIPE, NULL }, logf = { SR_FD_FILE, logp };
    int rc;

    snprintf(port, sizeof port, "%d", rt->of_port);
    snprintf(probe, sizeof probe, "%d", PROBE_PORT);
    snprintf(group, sizeof group, "%d", SIM_DEVGROUP);
    /* Runs as root: only the script simrun wrote into the run directory. */
    if (rt->remote) {
        rc = rt_remote_spawn_mininet(rt, err);
    } else {
        rc = sr_file_verify(script, rt->script.data, rt->script.len, err);
        if (rc == 0) {
            rc = sr_spawn(argv, NULL, pipe_spec, pipe_spec, logf, &rt->mn, err);
        }
    }
    free(script);
    free(logp);
    if (rc < 0) {
        return rc;
    }
    note_pid(rt, "mininet_pid", rt->mn.pid);
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

/* The network on a lab server: the script is asked to stop (or, still
 * building, its channel closes and the guard stops it); then the
 * controller's channel closes, which stops it. */
static void
remote_down(struct sim_runtime *rt)
{
    double grace = 40.0 + 0.25 * (double) rt->plan->topo->nsw;

    if (rt->mn.in_fd >= 0 && rt->mn_started && !rt_remote_lost(rt)) {
        struct sr_error e = { 0 };

        rt_command(rt, json_pack("{s:s}", "cmd", "stop"), 5, false, NULL, &e);
    }
    if (rt->mn.in_fd >= 0) {
        close(rt->mn.in_fd);
        rt->mn.in_fd = -1;
    }
    if (!rt_remote_lost(rt) && !rt_remote_mininet_exited(rt, (int) (grace * 1000), NULL)) {
        SR_WARN("the Mininet script on the lab server did not stop in %.0f s", grace);
    }
    if (rt->mn.out_fd >= 0) {
        close(rt->mn.out_fd);
        rt->mn.out_fd = -1;
    }
    rt_remote_close(rt);
}

void
sim_runtime_down(struct sim_runtime *rt)
{
    if (!rt) {
        return;
    }
    if (rt->remote) {
        remote_down(rt);
    } else if (rt->mn.pid > 0 && !rt->mn_started) {
        /* Still building (a signal or a failure cut bring-up short): it
         * reads no commands yet, but SIGTERM unwinds it through its
         * cleanup, which stops what it built so far. */
        kill(rt->mn.pid, SIGTERM);
    } else if (rt->mn.pid > 0 && !sr_proc_exited(rt->mn.pid, NULL)) {
        /* Ask the script to stop the network; closing its input does too. */
        json_t *stop = json_pack("{s:s}", "cmd", "stop");
        struct sr_error e = { 0 };

        rt_command(rt, stop, 5, false, NULL, &e);
    }
    if (rt->mn.pid > 0) {
        double grace = 30.0 + 0.25 * (double) rt->plan->topo->nsw;

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
        rt_sweep(rt->state, NULL);
        unlink(STATE_FILE);
    }
    if (rt->lock_fd >= 0) {
        close(rt->lock_fd);
    }
    rt_remove_agent_sockets();
    ctl_client_free(rt->client);
    json_decref(rt->state);
    sr_buf_release(&rt->line);
    sr_buf_release(&rt->script);
    free(rt->apps);
    free(rt->dir);
    free(rt->rest_url);
    free(rt->public_url);
    free(rt->osken);
    free(rt);
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
    memcpy(host, p, n);
    host[n] = '\0';
    if (!strcmp(host, "localhost") && size >= sizeof "127.0.0.1") {
        memcpy(host, "127.0.0.1", sizeof "127.0.0.1");
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
    int rest_local = 0;
    json_t *sws;

    rt->plan = plan;
    rt->external = o->external;
    rt->trace = o->trace;
    rt->t0 = sr_now();
    rt->lock_fd = -1;
    rt->ctl.pid = rt->mn.pid = -1;
    rt->ctl.in_fd = rt->ctl.out_fd = rt->mn.in_fd = rt->mn.out_fd = -1;
    make_run_id(rt);
    if (o->remote.url) {
        /* The lab server's preflight, lock and ports (emu/remote.c). */
        if (rt->external) {
            sr_error_set(err, SR_EINVAL, "a run on a lab server (--remote) uses the embedded "
                         "controller there; an external controller with --remote is not "
                         "supported");
            goto fail;
        }
        if (rt_remote_open(rt, &o->remote, o->of_port, o->rest_port, err) < 0 ||
            prepare_dir(rt, o, err) < 0 || rt_remote_prepare(rt, &rest_local, err) < 0) {
            goto fail;
        }
    } else if (preflight(rt, err) < 0 || rt_take_lock(rt, err) < 0) {
        /* Not ours to sweep: a refused run leaves what it found (another
         * run's state) alone. */
        goto fail;
    }
    rt->state = json_pack("{s:i, s:I, s:s}", "simrun_pid", (int) getpid(), "simrun_pid_start",
                          (json_int_t) sr_proc_start_time(getpid()), "run_id", "");
    if (!rt->remote && !rt->external &&
        ((o->of_port && check_port_free(o->of_port, "the OpenFlow", err) < 0) ||
         (o->rest_port && check_port_free(o->rest_port, "the REST", err) < 0))) {
        goto fail;
    }
    if (rt->remote) {
        /* The ports were chosen on the server (rt_remote_open). */
    } else if (rt->external) {
        rt->of_port = o->of_port ? o->of_port : 6653;
        rt->rest_port = 0;
    } else {
        rt->of_port = o->of_port ? o->of_port : free_port(err);
        rt->rest_port = o->rest_port ? o->rest_port : free_port(err);
        while (rt->rest_port == rt->of_port && rt->rest_port > 0) {
            rt->rest_port = free_port(err);
        }
    }
    if (!rt->remote && (rt->of_port < 0 || rt->rest_port < 0 || ensure_ovs(err) < 0 ||
                        check_bridges(plan, err) < 0 || prepare_dir(rt, o, err) < 0)) {
        goto fail;
    }
    if (rt->external) {
        rt->rest_url = xstrdup(o->external->url);
        if (url_host(rt->rest_url, rt->of_ip, sizeof rt->of_ip, err) < 0) {
            goto fail;
        }
        rt->client = ctl_client_new(o->external, err);
    } else {
        struct ctl_config cfg = { .kind = CTL_KIND_RYU, .timeout_ms = 2000, .trace = rt->trace };

        /* On a lab server: the local end of the forwarded port. */
        rt->rest_url = xasprintf("http://127.0.0.1:%d", rt->remote ? rest_local : rt->rest_port);
        snprintf(rt->of_ip, sizeof rt->of_ip, "127.0.0.1");
        cfg.url = rt->rest_url;
        rt->client = ctl_client_new(&cfg, err);
    }
    rt->public_url = public_url(rt->rest_url);
    if (!rt->client) {
        goto fail;
    }
    sws = json_array();
    for (size_t i = 0; i < t->nsw; i++) {
        json_array_append_new(sws, json_pack("[s, i]", t->sw[i].name, t->sw[i].nports));
    }
    json_object_set_new(rt->state, "run_id", json_string(rt->run_id));
    json_object_set_new(rt->state, "dir", json_string(rt->dir));
    json_object_set_new(rt->state, "rest_url", json_string(rt->public_url));
    json_object_set_new(rt->state, "of_port", json_integer(rt->of_port));
    json_object_set_new(rt->state, "controller", json_string(sim_runtime_controller_kind(rt)));
    json_object_set_new(rt->state, "switches", sws);
    rt_save_state(rt);
    if (write_run_json(rt, err) < 0) {
        goto fail;
    }
    SR_INFO("run directory %s", rt->dir);
    if (rt->external) {
        SR_INFO("external %s controller at %s (OpenFlow on %s:%d)",
                sim_runtime_controller_kind(rt), rt->public_url, rt->of_ip, rt->of_port);
    } else if (spawn_controller(rt, err) < 0) {
        goto fail;
    }
    /* The controller and the network start side by side (each takes a
     * second or more); the switches connect once both are there. */
    if (start_mininet(rt, rt->t0 + timeout, err) < 0) {
        goto fail;
    }
    if (!rt->external) {
        if (wait_controller(rt, rt->t0 + 30.0, err) < 0) {
            goto fail;
        }
        SR_INFO("controller answering at %s (OpenFlow on 127.0.0.1:%d)", rt->public_url,
                rt->of_port);
    }
    SR_INFO("network started: %zu switches, %zu hosts (%.1f s)", t->nsw, t->nhost,
            sr_now() - rt->t0);
    if (rt_wait_ready(rt, rt->t0 + timeout, err) < 0) {
        goto fail;
    }
    rt->ready_s = sr_now() - rt->t0;
    return rt;

fail:
    if (err->code == SR_EINTR) {
        SR_INFO("%s: tearing down what was started (%.1f s after the start)", err->msg,
                sr_now() - rt->t0);
    } else {
        SR_INFO("tearing down");
    }
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
        if (rt->agent_err.code) {
            *err = rt->agent_err;
            return -err->code;
        }
        if (rt_controller_exited(rt, &status)) {
            char why[800];

            describe_end(rt, status, why, sizeof why);
            return sr_error_set(err, SR_EIO, "the controller %s; see %s/controller.log", why,
                                rt->dir);
        }
        rc = read_message(rt, sr_now() + (rt_deadline_left_ms(deadline) > 200 ? 0.2
                                          : rt_deadline_left_ms(deadline) / 1000.0),
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
    if (!up && rt->remote) {
        rt_remote_kill_controller(rt);
        return 0;
    }
    if (rt->remote) {
        if (rt_remote_controller_running(rt)) {
            return 0;
        }
        return start_controller(rt, sr_now() + 30.0, err);
    }
    if (!up) {
        /* Abruptly, as a controller crashes: no goodbye to the switches. */
        if (rt->ctl.pid > 0) {
            kill(-rt->ctl.pid, SIGKILL);
            sr_proc_stop(&rt->ctl, 0);
        }
        json_object_set_new(rt->state, "controller_pid", json_integer(0));
        rt_save_state(rt);
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

const char *
sim_runtime_run_id(const struct sim_runtime *rt)
{
    return rt->run_id;
}

double
sim_runtime_ready_s(const struct sim_runtime *rt)
{
    return rt->ready_s;
}

pid_t
sim_runtime_host_pid(const struct sim_runtime *rt, const char *host)
{
    json_t *h = json_object_get(json_object_get(rt->state, "hosts"), host);
    pid_t pid = h ? (pid_t) json_integer_value(json_array_get(h, 0)) : 0;

    /* The process that was the host, not one that took its number since
     * (its start time as recorded when the host appeared). */
    if (pid > 0 && sr_proc_start_time(pid) !=
                       (unsigned long long) json_integer_value(json_array_get(h, 1))) {
        return 0;
    }
    return pid;
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

const char *
sim_runtime_public_url(const struct sim_runtime *rt)
{
    return rt->public_url;
}

int
sim_runtime_of_port(const struct sim_runtime *rt)
{
    return rt->of_port;
}
