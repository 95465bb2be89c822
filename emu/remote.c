/* A network on a lab server: the runtime's bring-up and teardown over one
 * SSH connection (emu/ssh.h).
 *
 * On the server, in a private run directory (~/.simrun/runs/<run id>,
 * mode 0700): the Mininet script and the controller app simrun wrote, the
 * helper (remote_helper.py: preflight, the guard, clean), the traffic
 * plans, and simtraffic when the server has none.  The controller and the
 * Mininet script each run under the helper's guard on an exec channel of
 * their own: the script's stdin and stdout are the control channel, as
 * locally; both stop when their channel closes, which is also what a lost
 * connection does.  The REST API stays on the server's loopback and is
 * reached through a local port forwarded over the connection; the logs
 * stream into the local run directory; the agents' KPI files come back by
 * SFTP when they stop.  The server's run directory is removed at the end,
 * and kept when the connection was lost ('simrun clean --remote'). */
#include "runtime-private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "ssh.h"
#include "util.h"

#define HELPER "simrun_remote.py"
/* The Mininet script writes its hosts' PIDs here: what 'simrun clean
 * --remote' stops when a run was lost with its network up. */
#define HOSTS_FILE "hosts.json"

struct sim_remote {
    struct ssh_conn *conn;
    char *sudo;           /* "" or "sudo -n " */
    char *base, *dir;     /* the server's ~/.simrun/runs and the run's folder in it */
    char *osken;          /* osken-manager on the server */
    char *simtraffic;     /* on the server: its own, or NULL (ours goes there) */
    char arch[64];
    bool same_arch;       /* ours runs there */
    int of_port, rest_port;
    struct ssh_proc *mn, *ctl;
    int ctl_in;
    bool fetched;
    char lost[700];
};

static void
quote_words(struct sr_buf *b, const char *const *words)
{
    for (size_t i = 0; words[i]; i++) {
        if (i) {
            sr_buf_puts(b, " ");
        }
        ssh_quote(b, words[i]);
    }
}

/* The helper's command line: SUDO python3 HELPER WORDS... */
static char *
helper_command(struct sim_remote *r, const char *helper, const char *const *words)
{
    struct sr_buf b = SR_BUF_INIT;

    sr_buf_printf(&b, "%s/usr/bin/python3 ", r->sudo);
    ssh_quote(&b, helper);
    sr_buf_puts(&b, " ");
    quote_words(&b, words);
    return sr_buf_steal(&b);
}

/* Connects and finds out whether commands need 'sudo -n'. */
static struct sim_remote *
connect_remote(const struct sim_remote_opts *o, struct sr_error *err)
{
    struct sr_ssh_target t;
    struct ssh_auth a = { .key_file = o->key_file, .known_hosts = o->known_hosts,
                          .password_file = o->password_file };
    struct sim_remote *r;
    struct sr_buf out = SR_BUF_INIT;
    char *home = NULL;
    int status;

    if (sr_ssh_url_parse(o->url, &t, err) < 0) {
        return NULL;
    }
    r = xcalloc(1, sizeof *r);
    r->ctl_in = -1;
    r->conn = ssh_open(&t, &a, err);
    if (!r->conn) {
        free(r);
        return NULL;
    }
    status = ssh_run(r->conn, "id -u", NULL, &out, NULL, 30, err);
    if (status != 0) {
        if (status > 0) {
            sr_error_set(err, SR_EIO, "'id -u' failed on %s (status %d)", ssh_name(r->conn),
                         status);
        }
        goto fail;
    }
    if (!strcmp(sr_buf_cstr(&out), "0\n")) {
        r->sudo = xstrdup("");
    } else {
        status = ssh_run(r->conn, "sudo -n true", NULL, NULL, NULL, 30, err);
        if (status != 0) {
            if (status > 0) {
                sr_error_set(err, SR_EPERM,
                             "%s is not root and cannot use sudo without a password: "
                             "simrun needs root on the lab server (log in as root, or give "
                             "the user 'NOPASSWD' in sudoers)",
                             ssh_name(r->conn));
            }
            goto fail;
        }
        r->sudo = xstrdup("sudo -n ");
    }
    if (ssh_home(r->conn, &home, err) < 0) {
        goto fail;
    }
    {
        char *top = xasprintf("%s/.simrun", home);

        r->base = xasprintf("%s/.simrun/runs", home);
        status = ssh_mkdir(r->conn, top, 0700, true, err);
        free(top);
    }
    if (status < 0 || ssh_mkdir(r->conn, r->base, 0700, true, err) < 0) {
        goto fail;
    }
    free(home);
    sr_buf_release(&out);
    return r;

fail:
    free(home);
    sr_buf_release(&out);
    ssh_close(r->conn);
    free(r->sudo);
    free(r->base);
    free(r);
    return NULL;
}

static void
free_remote(struct sim_remote *r)
{
    ssh_close(r->conn);
    free(r->sudo);
    free(r->base);
    free(r->dir);
    free(r->osken);
    free(r->simtraffic);
    free(r);
}

int
rt_remote_open(struct sim_runtime *rt, const struct sim_remote_opts *o, int of_port,
               int rest_port, struct sr_error *err)
{
    struct sim_remote *r = connect_remote(o, err);
    struct sr_buf out = SR_BUF_INIT, errs = SR_BUF_INIT, sws = SR_BUF_INIT;
    const struct topology *t = rt->plan->topo;
    json_t *info = NULL, *problems;
    char *helper = NULL, *cmd = NULL;
    const char *words[7];
    struct utsname un;
    int status, rc = -1;

    if (!r) {
        return -err->code;
    }
    rt->remote = r;
    SR_INFO("connected to the lab server %s", ssh_name(r->conn));
    r->dir = xasprintf("%s/%s", r->base, rt->run_id);
    if (ssh_mkdir(r->conn, r->dir, 0700, false, err) < 0) {
        goto out;
    }
    helper = xasprintf("%s/" HELPER, r->dir);
    if (ssh_put(r->conn, helper, remote_helper_py, remote_helper_py_size, 0600, err) < 0) {
        goto out;
    }
    for (size_t i = 0; i < t->nsw; i++) {
        sr_buf_printf(&sws, "%s%s", i ? "," : "", t->sw[i].name);
    }
    words[0] = "preflight";
    words[1] = "--switches";
    words[2] = sr_buf_cstr(&sws);
    words[3] = rt->external ? NULL : "--osken";
    words[4] = NULL;
    cmd = helper_command(r, helper, words);
    status = ssh_run(r->conn, cmd, NULL, &out, &errs, 120, err);
    if (status < 0) {
        goto out;
    }
    if (status == 127) {
        sr_error_set(err, SR_ENOTFOUND,
                     "the lab server %s has no /usr/bin/python3 (apt-get install mininet "
                     "brings it)",
                     ssh_name(r->conn));
        goto out;
    }
    info = json_loads(sr_buf_cstr(&out), 0, NULL);
    if (status != 0 || !json_is_object(info)) {
        sr_error_set(err, SR_EIO, "the preflight check on %s failed (status %d): %.300s",
                     ssh_name(r->conn), status, sr_buf_cstr(&errs));
        goto out;
    }
    problems = json_object_get(info, "problems");
    if (json_array_size(problems)) {
        struct sr_buf all = SR_BUF_INIT;
        size_t i;
        json_t *p;

        json_array_foreach(problems, i, p) {
            sr_buf_printf(&all, "\n  - %s", json_string_value(p));
        }
        sr_error_set(err, SR_ENOTFOUND, "the lab server %s is not ready:%s", ssh_name(r->conn),
                     sr_buf_cstr(&all));
        sr_buf_release(&all);
        goto out;
    }
    if (json_is_true(json_object_get(info, "ovs_started"))) {
        SR_INFO("started Open vSwitch on the lab server");
    }
    r->of_port = of_port ? of_port
                         : (int) json_integer_value(json_array_get(json_object_get(info, "ports"),
                                                                   0));
    r->rest_port = rest_port ? rest_port
                             : (int) json_integer_value(
                                   json_array_get(json_object_get(info, "ports"), 1));
    if (json_string_value(json_object_get(info, "osken"))) {
        r->osken = xstrdup(json_string_value(json_object_get(info, "osken")));
    }
    if (json_string_value(json_object_get(info, "simtraffic"))) {
        r->simtraffic = xstrdup(json_string_value(json_object_get(info, "simtraffic")));
    }
    snprintf(r->arch, sizeof r->arch, "%s",
             json_string_value(json_object_get(info, "arch")) ? json_string_value(json_object_get(info, "arch")) : "?");
    r->same_arch = uname(&un) == 0 && !strcmp(un.machine, r->arch);
    rt->of_port = r->of_port;
    rt->rest_port = r->rest_port;
    rc = 0;

out:
    json_decref(info);
    free(cmd);
    free(helper);
    sr_buf_release(&out);
    sr_buf_release(&errs);
    sr_buf_release(&sws);
    return rc;
}

int
rt_remote_prepare(struct sim_runtime *rt, int *local_port, struct sr_error *err)
{
    struct sim_remote *r = rt->remote;
    char *path = xasprintf("%s/" MN_SCRIPT, r->dir);
    int rc = ssh_put(r->conn, path, rt->script.data, rt->script.len, 0600, err);

    free(path);
    if (rc == 0 && !rt->external) {
        path = xasprintf("%s/controller.py", r->dir);
        rc = ssh_put(r->conn, path, ctl_embedded_app_py, ctl_embedded_app_py_size, 0600, err);
        free(path);
    }
    if (rc == 0 && !rt->external && rt->apps) {
        path = xasprintf("%s/" RT_APPS_FILE, r->dir);
        rc = ssh_put(r->conn, path, rt->apps, strlen(rt->apps), 0600, err);
        free(path);
    }
    if (rc == 0) {
        rc = ssh_forward(r->conn, "127.0.0.1", r->rest_port, local_port, err);
    }
    return rc;
}

/* A local log file the channel's output is appended to. */
static int
open_log(struct sim_runtime *rt, const char *name, struct sr_error *err)
{
    char *path = xasprintf("%s/%s", rt->dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        sr_error_set(err, SR_EIO, "cannot open '%s': %s", path, strerror(errno));
    }
    free(path);
    return fd;
}

int
rt_remote_spawn_controller(struct sim_runtime *rt, struct sr_error *err)
{
    struct sim_remote *r = rt->remote;
    char of[16], envport[48], *app = xasprintf("%s/controller.py", r->dir);
    char *helper = xasprintf("%s/" HELPER, r->dir), *cmd;
    /* Stopped abruptly (SIGKILL) when its channel closes: as a controller
     * crashes, and as simrun stops its own at the end. */
    const char *words[] = { "guard", "--signal", "9", "--env", envport, "--env",
                            "SIMRUN_REST_HOST=127.0.0.1", "--", "/usr/bin/nice", "-n", "-5",
                            PYTHON, r->osken ? r->osken : "osken-manager", "--ofp-listen-host",
                            "127.0.0.1", "--ofp-tcp-listen-port", of, "--observe-links",
                            "--noinstall-lldp-flow", "--default-log-level", "20", app, NULL };
    int logfd = open_log(rt, "controller.log", err);

    snprintf(of, sizeof of, "%d", r->of_port);
    snprintf(envport, sizeof envport, "SIMRUN_REST_PORT=%d", r->rest_port);
    cmd = helper_command(r, helper, words);
    if (logfd >= 0) {
        r->ctl = ssh_spawn(r->conn, cmd, &r->ctl_in, NULL, logfd, err);
        close(logfd);
    }
    free(cmd);
    free(helper);
    free(app);
    return r->ctl ? 0 : -err->code;
}

void
rt_remote_kill_controller(struct sim_runtime *rt)
{
    struct sim_remote *r = rt->remote;

    if (r->ctl_in >= 0) {
        close(r->ctl_in); /* the guard kills it */
        r->ctl_in = -1;
    }
    if (r->ctl) {
        ssh_proc_wait(r->ctl, 5000, NULL);
        ssh_proc_free(r->ctl);
        r->ctl = NULL;
    }
}

bool
rt_remote_controller_exited(struct sim_runtime *rt, int *status)
{
    struct sim_remote *r = rt->remote;

    return r->ctl && ssh_proc_done(r->ctl, status);
}

bool
rt_remote_controller_running(struct sim_runtime *rt)
{
    struct sim_remote *r = rt->remote;

    return r->ctl && !ssh_proc_done(r->ctl, NULL);
}

int
rt_remote_spawn_mininet(struct sim_runtime *rt, struct sr_error *err)
{
    struct sim_remote *r = rt->remote;
    char port[16], probe[16], group[16], size[24];
    char *script = xasprintf("%s/" MN_SCRIPT, r->dir);
    char *helper = xasprintf("%s/" HELPER, r->dir), *cmd;
    char *hosts = xasprintf("%s/" HOSTS_FILE, r->dir);
    /* The guard holds the server's simrun lock while the script runs; when
     * the channel closes it gives the script a second to stop on its own
     * (end of input), then SIGTERM, which unwinds it through its cleanup. */
    const char *words[] = { "guard", "--lock", "--grace", "1", "--size", size, "--", PYTHON,
                            script, "--controller-ip", "127.0.0.1", "--controller-port", port,
                            "--run-id", rt->run_id, "--probe-port", probe, "--devgroup", group,
                            "--hosts-file", hosts, NULL };
    int logfd = open_log(rt, "mininet.log", err);

    snprintf(port, sizeof port, "%d", r->of_port);
    snprintf(probe, sizeof probe, "%d", PROBE_PORT);
    snprintf(group, sizeof group, "%d", SIM_DEVGROUP);
    snprintf(size, sizeof size, "%zu", rt->plan->topo->nsw);
    cmd = helper_command(r, helper, words);
    if (logfd >= 0) {
        r->mn = ssh_spawn(r->conn, cmd, &rt->mn.in_fd, &rt->mn.out_fd, logfd, err);
        close(logfd);
    }
    free(cmd);
    free(helper);
    free(hosts);
    free(script);
    return r->mn ? 0 : -err->code;
}

bool
rt_remote_mininet_exited(struct sim_runtime *rt, int timeout_ms, int *status)
{
    struct sim_remote *r = rt->remote;

    return r->mn && ssh_proc_wait(r->mn, timeout_ms, status);
}

const char *
rt_remote_name(const struct sim_runtime *rt)
{
    return ssh_name(rt->remote->conn);
}

const char *
rt_remote_lost(struct sim_runtime *rt)
{
    struct sim_remote *r = rt->remote;

    return r && ssh_lost(r->conn, r->lost, sizeof r->lost) ? r->lost : NULL;
}

/* ---- traffic agents ---- */

/* Ends with 'suffix'. */
static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !strcmp(s + n - m, suffix);
}

int
rt_remote_agents_start(struct sim_runtime *rt, const char *program, const char *dir,
                       struct sr_error *err)
{
    struct sim_remote *r = rt->remote;
    char *rdir = xasprintf("%s/traffic", r->dir), *ctl = xasprintf("%s/agents", r->dir);
    char *prog = r->simtraffic ? xstrdup(r->simtraffic) : xasprintf("%s/simtraffic", r->dir);
    const struct topology *t = rt->plan->topo;
    json_t *answer = NULL;
    int rc = 0, n = -1;

    if (ssh_mkdir(r->conn, rdir, 0700, true, err) < 0 ||
        ssh_mkdir(r->conn, ctl, 0700, true, err) < 0) {
        rc = -err->code;
    }
    /* Each host's plan, as written into the local run directory. */
    for (size_t i = 0; rc == 0 && i < t->nhost; i++) {
        char *local = xasprintf("%s/%s.json", dir, t->host[i].name);
        char *remote = xasprintf("%s/%s.json", rdir, t->host[i].name);
        size_t len = 0;
        char *text = access(local, F_OK) == 0 ? sr_read_file(local, &len) : NULL;

        if (text) {
            rc = ssh_put(r->conn, remote, text, len, 0600, err);
        }
        free(text);
        free(local);
        free(remote);
    }
    if (rc == 0 && !r->simtraffic && !r->same_arch) {
        rc = sr_error_set(err, SR_ENOTFOUND,
                          "the lab server has no simtraffic on its PATH, and this one cannot "
                          "run there (it is a %s machine): build simrun there and install "
                          "simtraffic (cmake --install)",
                          r->arch);
    }
    if (rc == 0 && !r->simtraffic) {
        size_t len = 0;
        char *bin = sr_read_file(program, &len);

        if (!bin) {
            rc = sr_error_set(err, SR_EIO, "cannot read '%s'", program);
        } else {
            SR_INFO("putting simtraffic on the lab server (%zu KiB)", len / 1024);
            rc = ssh_put(r->conn, prog, bin, len, 0700, err);
        }
        free(bin);
    }
    if (rc == 0 &&
        sim_runtime_command(rt, json_pack("{s:s, s:s, s:s, s:s}", "cmd", "agents", "program",
                                          prog, "dir", rdir, "control", ctl),
                            60, &answer, err) == 0) {
        n = (int) json_integer_value(json_object_get(answer, "agents"));
    }
    json_decref(answer);
    free(rdir);
    free(ctl);
    free(prog);
    return rc < 0 ? rc : n < 0 ? -err->code : n;
}

int
rt_remote_agents_fetch(struct sim_runtime *rt, const char *dir, struct sr_error *err)
{
    struct sim_remote *r = rt->remote;
    char *rdir = xasprintf("%s/traffic", r->dir), **names = NULL;
    size_t n = 0, got = 0;
    int rc;

    if (r->fetched) {
        free(rdir);
        return 0;
    }
    rc = ssh_list(r->conn, rdir, &names, &n, err);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct sr_buf data = SR_BUF_INIT;
        char *remote, *local;

        if (!ends_with(names[i], ".kpi.jsonl") && !ends_with(names[i], ".log")) {
            continue;
        }
        remote = xasprintf("%s/%s", rdir, names[i]);
        local = xasprintf("%s/%s", dir, names[i]);
        rc = ssh_get(r->conn, remote, &data, err);
        if (rc == 0) {
            rc = sr_file_new(local, data.data ? data.data : "", data.len, 0644, err);
            got += rc == 0;
        }
        sr_buf_release(&data);
        free(remote);
        free(local);
    }
    if (rc == 0) {
        r->fetched = true;
        SR_INFO("fetched %zu traffic files from the lab server", got);
    }
    ssh_list_free(names);
    free(rdir);
    return rc;
}

int
rt_remote_agent_control(struct sim_runtime *rt, const char *host, json_t *cmd,
                        struct sr_error *err)
{
    char *ctl = xasprintf("%s/agents", rt->remote->dir);
    int rc = sim_runtime_command(rt, json_pack("{s:s, s:s, s:s, s:o}", "cmd", "agent_control",
                                               "host", host, "control", ctl, "msg", cmd),
                                 10, NULL, err);

    free(ctl);
    return rc;
}

/* ---- the end ---- */

void
rt_remote_close(struct sim_runtime *rt)
{
    struct sim_remote *r = rt->remote;

    if (!r) {
        return;
    }
    rt_remote_kill_controller(rt);
    if (r->mn) {
        ssh_proc_free(r->mn);
        r->mn = NULL;
    }
    if (r->dir && !ssh_lost(r->conn, NULL, 0)) {
        struct sr_buf cmd = SR_BUF_INIT;
        struct sr_error e = { 0 };

        /* The agents' files belong to root there: removed as root. */
        sr_buf_printf(&cmd, "%srm -rf -- ", r->sudo);
        ssh_quote(&cmd, r->dir);
        if (ssh_run(r->conn, sr_buf_cstr(&cmd), NULL, NULL, NULL, 60, &e) != 0) {
            SR_WARN("could not remove the run directory %s on the lab server: %s", r->dir,
                    e.code ? e.msg : "rm failed");
        }
        sr_buf_release(&cmd);
    } else if (r->dir) {
        SR_WARN("%s; the run directory %s on the lab server stays (simrun clean --remote "
                "removes it)",
                r->lost, r->dir);
    }
    free_remote(r);
    rt->remote = NULL;
}

int
sim_clean_remote(const struct sim_remote_opts *o, struct sr_buf *report, struct sr_error *err)
{
    struct sim_remote *r = connect_remote(o, err);
    struct sr_buf out = SR_BUF_INIT, errs = SR_BUF_INIT, rm = SR_BUF_INIT;
    char *helper, *cmd;
    const char *words[] = { "clean", "--base", NULL, NULL };
    int status, rc = 0;

    if (!r) {
        return -err->code;
    }
    /* The helper sits outside the runs' folder, which clean empties. */
    helper = xasprintf("%s/../clean.py", r->base);
    words[2] = r->base;
    cmd = helper_command(r, helper, words);
    if (ssh_put(r->conn, helper, remote_helper_py, remote_helper_py_size, 0600, err) < 0) {
        rc = -err->code;
    } else {
        status = ssh_run(r->conn, cmd, NULL, &out, &errs, 300, err);
        if (status == 75) {
            rc = sr_error_set(err, SR_EBUSY,
                              "a simrun run owns the network on %s: stop it (Ctrl-C where "
                              "it runs) and it tears its network down itself",
                              ssh_name(r->conn));
        } else if (status != 0) {
            rc = status < 0 ? status
                            : sr_error_set(err, SR_EIO, "cleaning %s failed (status %d): %.300s",
                                           ssh_name(r->conn), status, sr_buf_cstr(&errs));
        } else {
            sr_buf_append(report, out.data ? out.data : "", out.len);
        }
        struct sr_error e = { 0 };

        sr_buf_printf(&rm, "rm -f -- ");
        ssh_quote(&rm, helper);
        if (ssh_run(r->conn, sr_buf_cstr(&rm), NULL, NULL, NULL, 30, &e) != 0) {
            SR_WARN("could not remove %s on the lab server", helper);
        }
    }
    free(cmd);
    free(helper);
    sr_buf_release(&out);
    sr_buf_release(&errs);
    sr_buf_release(&rm);
    free_remote(r);
    return rc;
}
