/* The machine-wide lock and state file of a run, and 'simrun clean': what
 * a run killed with SIGKILL left behind is found from the state file and
 * the bridges' tags, and removed. */
#include "runtime-private.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>

#include "client.h"
#include "files.h"
#include "log.h"
#include "proc.h"
#include "util.h"

static const char *
or_default(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

/* ---- the state file ---- */

int
rt_state_dir(const char *path, struct sr_error *err)
{
    struct stat st;

    if (mkdir(SIM_STATE_DIR, 0700) < 0 && errno != EEXIST) {
        return sr_error_set(err, errno == EACCES ? SR_EPERM : SR_EIO, "cannot create '%s': %s",
                            SIM_STATE_DIR, strerror(errno));
    }
    if (strcmp(path, SIM_STATE_DIR) && mkdir(path, 0700) < 0 && errno != EEXIST) {
        return sr_error_set(err, SR_EIO, "cannot create '%s': %s", path, strerror(errno));
    }
    /* Made before, perhaps under another umask, or by someone else: the
     * folder must be ours and closed to others, whatever happened. */
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        return sr_error_set(err, SR_EPERM, "'%s' is not a directory of ours: remove it", path);
    }
    if ((st.st_mode & 0777) != 0700 && chmod(path, 0700) < 0) {
        return sr_error_set(err, SR_EIO, "cannot set the mode of '%s': %s", path,
                            strerror(errno));
    }
    return 0;
}

void
rt_save_state(struct sim_runtime *rt)
{
    char *text;
    struct sr_error e = { 0 };

    if (rt->remote || rt->lock_fd < 0) {
        return; /* the network is the lab server's, or the lock is not ours */
    }
    text = json_dumps(rt->state, JSON_INDENT(1));
    unlink(STATE_FILE ".tmp");
    if (!text || sr_file_new(STATE_FILE ".tmp", text, strlen(text), 0600, &e) < 0 ||
        rename(STATE_FILE ".tmp", STATE_FILE) < 0) {
        /* 'simrun clean' would then miss this run's leftovers. */
        SR_WARN("cannot save the run's state in %s: %s", STATE_FILE,
                e.code ? e.msg : strerror(errno));
    }
    free(text);
}

/* What another run left in STATE_FILE, for messages. */
static json_t *
load_state(void)
{
    json_t *st = json_load_file(STATE_FILE, JSON_REJECT_DUPLICATES, NULL);

    if (st && !json_is_object(st)) {
        json_decref(st);
        st = NULL;
    }
    return st;
}

int
rt_take_lock(struct sim_runtime *rt, struct sr_error *err)
{
    json_t *old;

    if (rt_state_dir(SIM_STATE_DIR, err) < 0) {
        return -err->code;
    }
    rt->lock_fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (rt->lock_fd < 0) {
        return sr_error_set(err, SR_EIO, "cannot open '%s': %s", LOCK_FILE, strerror(errno));
    }
    if (flock(rt->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        old = load_state();
        sr_error_set(err, SR_EBUSY,
                     "another simrun run (pid %lld, run directory %s) owns the network "
                     "on this machine; wait for it or stop it first",
                     (long long) json_integer_value(json_object_get(old, "simrun_pid")),
                     or_default(json_string_value(json_object_get(old, "dir")), "?"));
        json_decref(old);
        close(rt->lock_fd);
        rt->lock_fd = -1;
        return -SR_EBUSY;
    }
    old = load_state();
    if (old) {
        sr_error_set(err, SR_EBUSY,
                     "a previous run (pid %lld, run directory %s) ended without tearing "
                     "down its network: run 'simrun clean' first",
                     (long long) json_integer_value(json_object_get(old, "simrun_pid")),
                     or_default(json_string_value(json_object_get(old, "dir")), "?"));
        json_decref(old);
        return -SR_EBUSY;
    }
    return 0;
}

void
rt_note_hosts(struct sim_runtime *rt, json_t *host_pids)
{
    json_t *hosts, *v;
    const char *key;

    if (rt->remote) {
        return; /* processes of the lab server */
    }
    hosts = json_object();
    json_object_foreach(host_pids, key, v) {
        pid_t pid = (pid_t) json_integer_value(v);

        json_object_set_new(hosts, key, json_pack("[i, I]", (int) pid,
                                                  (json_int_t) sr_proc_start_time(pid)));
    }
    json_object_set_new(rt->state, "hosts", hosts);
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

/* Whether 'pid' is the process the state file meant: alive, started at
 * 'start' (clock ticks since boot, from /proc/PID/stat; 0 when the state
 * file did not say) and running 'needle'.  A PID reused by another process
 * fails the start time. */
static bool
same_process(pid_t pid, uint64_t start, const char *needle)
{
    return pid > 1 && sr_pid_alive(pid) && (!start || sr_proc_start_time(pid) == start) &&
           cmdline_has(pid, needle);
}

static bool
netns_of(pid_t pid, char *ns, size_t size)
{
    char path[64];
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
    n = readlink(path, ns, size - 1);
    if (n <= 0) {
        return false;
    }
    ns[n] = '\0';
    return true;
}

/* Kills every process in the network namespace of 'pid' (a host shell),
 * unless that namespace is the machine's own or simrun's: a host lives in
 * a namespace of its own, and a PID that now names something else must
 * not take the machine's processes with it.  Returns how many it
 * killed, or -SR_EPERM for such a namespace. */
static int
kill_namespace(pid_t pid)
{
    char path[64], ns[64], other[64], mine[64], init[64];
    DIR *d;
    struct dirent *e;
    int killed = 0;

    if (!netns_of(pid, ns, sizeof ns) || !netns_of(getpid(), mine, sizeof mine) ||
        !strcmp(ns, mine) || (netns_of(1, init, sizeof init) && !strcmp(ns, init))) {
        return -SR_EPERM;
    }
    d = opendir("/proc");
    while (d && (e = readdir(d))) {
        int64_t p;

        if (!sr_parse_i64(e->d_name, 1, INT32_MAX, &p)) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) p);
        if (netns_of((pid_t) p, other, sizeof other) && !strcmp(ns, other) &&
            kill((pid_t) p, SIGKILL) == 0) {
            killed++;
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
stop_pid(json_t *state, const char *key, const char *needle, int patience_ms, int grace_ms,
         const char *what, struct sr_buf *out)
{
    pid_t pid = (pid_t) json_integer_value(json_object_get(state, key));
    char *skey = xasprintf("%s_start", key);
    uint64_t start = (uint64_t) json_integer_value(json_object_get(state, skey));

    free(skey);
    if (!same_process(pid, start, needle)) {
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
void
rt_sweep(json_t *state, struct sr_buf *out)
{
    const char *argv[] = { NULL, "--timeout=10", "--format=csv", "--data=bare", "--no-headings",
                           "--columns=name,external_ids", "list", "bridge", NULL };
    char *vsctl = sr_which("ovs-vsctl"), *ipcmd = sr_which("ip");
    json_t *hosts = json_object_get(state, "hosts"), *v, *sws;
    struct sr_buf list = SR_BUF_INIT;
    const char *key;
    size_t i;

    /* The Mininet script first: given time, it stops its own network. */
    stop_pid(state, "mininet_pid", MN_SCRIPT, 60000, 20000, "the Mininet script", out);
    stop_pid(state, "controller_pid", "osken-manager", 0, 3000, "the controller", out);
    json_object_foreach(hosts, key, v) {
        pid_t pid = (pid_t) json_integer_value(json_array_get(v, 0));
        uint64_t start = (uint64_t) json_integer_value(json_array_get(v, 1));
        int n;

        if (!same_process(pid, start, "mininet:")) {
            continue;
        }
        n = kill_namespace(pid);
        if (n < 0) {
            report(out, "nothing for host %s: pid %d is in the machine's own network "
                   "namespace, not a host's", key, (int) pid);
        } else {
            report(out, "host %s (%d process%s)", key, n, n == 1 ? "" : "es");
        }
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
    /* Every device a run made in the root namespace carries its device
     * group: one call removes what a killed run left (and the hosts' ends
     * of its veths). */
    if (ipcmd) {
        char group[16];
        const char *del[] = { ipcmd, "link", "del", "group", group, NULL };
        struct sr_buf shown = SR_BUF_INIT;
        const char *show[] = { ipcmd, "-o", "link", "show", "group", group, NULL };

        snprintf(group, sizeof group, "%d", SIM_DEVGROUP);
        if (sr_run(show, 10000, &shown, NULL) == 0 && shown.len) {
            size_t n = 0;

            for (const char *p = sr_buf_cstr(&shown); *p; p++) {
                n += *p == '\n';
            }
            if (sr_run(del, 30000, NULL, NULL) == 0) {
                report(out, "%zu network device%s of group %d", n, n == 1 ? "" : "s",
                       SIM_DEVGROUP);
            }
        }
        sr_buf_release(&shown);
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

int
sim_clean(struct sr_buf *out, struct sr_error *err)
{
    int fd;
    json_t *state;

    if (geteuid() != 0) {
        return sr_error_set(err, SR_EPERM, "cleaning up needs root");
    }
    if (rt_state_dir(SIM_STATE_DIR, err) < 0) {
        return -err->code;
    }
    fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return sr_error_set(err, SR_EIO, "cannot open '%s': %s", LOCK_FILE, strerror(errno));
    }
    state = load_state();
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        sr_error_set(err, SR_EBUSY,
                     "a simrun run (pid %lld) is still running; stop it with Ctrl-C or "
                     "'kill %lld', and it tears its network down itself",
                     (long long) json_integer_value(json_object_get(state, "simrun_pid")),
                     (long long) json_integer_value(json_object_get(state, "simrun_pid")));
        json_decref(state);
        close(fd);
        return -SR_EBUSY;
    }
    if (!state) {
        state = json_object();
    }
    rt_sweep(state, out);
    if (access(AGENTS_DIR, F_OK) == 0) {
        rt_remove_agent_sockets();
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

