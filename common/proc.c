#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* The signal handler's only state: the pipe it writes to and the last
 * signal.  Signal handlers cannot take arguments, so these are globals. */
static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t last_signal;

double
sr_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
on_signal(int sig)
{
    int saved = errno;
    char c = (char) sig;

    last_signal = sig;
    if (signal_pipe[1] >= 0) {
        (void) !write(signal_pipe[1], &c, 1);
    }
    errno = saved;
}

int
sr_signals_install(struct sr_error *err)
{
    struct sigaction sa;
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

    if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        return sr_error_set(err, SR_EIO, "cannot create a pipe: %s", strerror(errno));
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Restarted: a write interrupted by Ctrl-C must not look like a
     * failure (the signal is seen through the pipe instead). */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

int
sr_signals_fd(void)
{
    return signal_pipe[0];
}

int
sr_signals_pending(void)
{
    return last_signal;
}

int
sr_signals_sleep(int ms)
{
    struct pollfd pfd = { signal_pipe[0], POLLIN, 0 };

    if (last_signal) {
        return last_signal;
    }
    if (signal_pipe[0] >= 0) {
        poll(&pfd, 1, ms);
    } else {
        poll(NULL, 0, ms);
    }
    return last_signal;
}

void
sr_signals_hold(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void
sr_signals_restore(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int
open_spec(struct sr_fd_spec spec, int flags)
{
    if (spec.mode == SR_FD_FILE) {
        return open(spec.path, flags | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    return open("/dev/null", (flags & O_WRONLY ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
}

/* Variables no child may inherit: secrets simrun reads itself. */
static const char *const secret_vars[] = { "SIMRUN_CONTROLLER_PASSWORD", "SIMRUN_SSH_PASSWORD",
                                            NULL };

static bool
is_secret_var(const char *kv)
{
    for (size_t i = 0; secret_vars[i]; i++) {
        size_t n = strlen(secret_vars[i]);

        if (!strncmp(kv, secret_vars[i], n) && kv[n] == '=') {
            return true;
        }
    }
    return false;
}

/* A NULL-terminated copy of 'v' that execve() can take (malloc'd). */
static char **
copy_strv(const char *const *v)
{
    size_t n = 0;
    char **out;

    while (v && v[n]) {
        n++;
    }
    out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = xstrdup(v[i]);
    }
    return out;
}

static void
free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        free(v[i]);
    }
    free(v);
}

/* The child's environment, built before fork (nothing but async-signal-
 * safe calls may follow a fork): ours without the secrets, with 'extra'
 * ("K=V") replacing variables of the same name.  Every string is a copy
 * (free with free_strv). */
static char **
child_env(const char *const *extra)
{
    size_t n = 0, k = 0;
    char **env;

    for (char **e = environ; *e; e++) {
        n++;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        n++;
    }
    env = xcalloc(n + 1, sizeof *env);
    for (char **e = environ; *e; e++) {
        bool replaced = false;
        size_t name = strcspn(*e, "=");

        for (size_t i = 0; extra && extra[i] && !replaced; i++) {
            replaced = !strncmp(*e, extra[i], name) && extra[i][name] == '=';
        }
        if (!replaced && !is_secret_var(*e)) {
            env[k++] = xstrdup(*e);
        }
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        env[k++] = xstrdup(extra[i]);
    }
    env[k] = NULL;
    return env;
}

int
sr_spawn(const char *const *argv, const char *const *env, struct sr_fd_spec in,
         struct sr_fd_spec out, struct sr_fd_spec errs, struct sr_proc *p,
         struct sr_error *err)
{
    int inpipe[2] = { -1, -1 }, outpipe[2] = { -1, -1 };
    int fds[3] = { -1, -1, -1 };
    int report[2] = { -1, -1 };
    int child_errno = 0;
    struct sr_error local = { 0 };
    char **envp = NULL, **av = NULL;
    pid_t pid;

    /* Callers tearing down pass no error: the message is then dropped, the
     * code still returned. */
    if (!err) {
        err = &local;
    }
    if (pipe2(report, O_CLOEXEC) < 0 ||
        (in.mode == SR_FD_PIPE && pipe2(inpipe, O_CLOEXEC) < 0) ||
        (out.mode == SR_FD_PIPE && pipe2(outpipe, O_CLOEXEC) < 0)) {
        sr_error_set(err, SR_EIO, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    fds[0] = in.mode == SR_FD_PIPE ? inpipe[0]
             : in.mode == SR_FD_INHERIT ? 0 : open_spec(in, O_RDONLY);
    fds[1] = out.mode == SR_FD_PIPE ? outpipe[1]
             : out.mode == SR_FD_INHERIT ? 1 : open_spec(out, O_WRONLY);
    fds[2] = errs.mode == SR_FD_INHERIT ? 2 : open_spec(errs, O_WRONLY);
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 0) {
            const char *path = (i == 0 ? in : i == 1 ? out : errs).path;

            sr_error_set(err, SR_EIO, "cannot open '%s': %s",
                         path ? path : "/dev/null", strerror(errno));
            goto fail;
        }
    }
    envp = child_env(env);
    av = copy_strv(argv);
    pid = fork();
    if (pid < 0) {
        sr_error_set(err, SR_EIO, "cannot start '%s': %s", argv[0], strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        sigset_t none;
        struct sigaction dfl;

        /* Own process group; default signal dispositions; fds 0-2. */
        setpgid(0, 0);
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGHUP, &dfl, NULL);
        sigaction(SIGPIPE, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int i = 0; i < 3; i++) {
            if (fds[i] != i && dup2(fds[i], i) < 0) {
                _exit(127);
            }
            fcntl(i, F_SETFD, 0);
        }
        execve(av[0], av, envp);
        child_errno = errno;
        (void) !write(report[1], &child_errno, sizeof child_errno);
        _exit(127);
    }
    free_strv(envp);
    free_strv(av);
    envp = av = NULL;
    setpgid(pid, pid); /* also from here, so it holds before we signal it */
    close(report[1]);
    report[1] = -1;
    /* The report pipe closes on a successful exec; otherwise it holds errno. */
    if (read(report[0], &child_errno, sizeof child_errno) == (ssize_t) sizeof child_errno) {
        waitpid(pid, NULL, 0);
        sr_error_set(err, SR_EIO, "cannot run '%s': %s", argv[0], strerror(child_errno));
        goto fail;
    }
    close(report[0]);
    for (int i = 0; i < 3; i++) {
        if (fds[i] > 2 || (fds[i] >= 0 && fds[i] != i)) {
            close(fds[i]);
        }
    }
    p->pid = pid;
    p->in_fd = inpipe[1];
    p->out_fd = outpipe[0];
    return 0;

fail:
    free_strv(envp);
    free_strv(av);
    for (int i = 0; i < 2; i++) {
        if (report[i] >= 0) {
            close(report[i]);
        }
        if (inpipe[i] >= 0) {
            close(inpipe[i]);
        }
        if (outpipe[i] >= 0) {
            close(outpipe[i]);
        }
    }
    for (int i = 0; i < 3; i++) {
        if (fds[i] > 2 && fds[i] != inpipe[0] && fds[i] != outpipe[1]) {
            close(fds[i]);
        }
    }
    p->pid = -1;
    p->in_fd = p->out_fd = -1;
    return -err->code;
}

bool
sr_proc_exited(pid_t pid, int *status)
{
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);

    if (r == pid || (r < 0 && errno == ECHILD)) {
        if (status) {
            *status = r == pid ? st : 0;
        }
        return true;
    }
    return false;
}

bool
sr_proc_wait(pid_t pid, int timeout_ms, int *status)
{
    double end = sr_now() + timeout_ms / 1000.0;

    for (;;) {
        if (sr_proc_exited(pid, status)) {
            return true;
        }
        if (sr_now() >= end) {
            return false;
        }
        poll(NULL, 0, 20);
    }
}

void
sr_proc_stop(struct sr_proc *p, int grace_ms)
{
    if (p->in_fd >= 0) {
        close(p->in_fd);
        p->in_fd = -1;
    }
    if (p->pid > 0 && !sr_proc_exited(p->pid, NULL)) {
        kill(-p->pid, SIGTERM);
        if (!sr_proc_wait(p->pid, grace_ms, NULL)) {
            kill(-p->pid, SIGKILL);
            sr_proc_wait(p->pid, 5000, NULL);
        }
    }
    if (p->out_fd >= 0) {
        close(p->out_fd);
        p->out_fd = -1;
    }
    p->pid = -1;
}

void
sr_proc_describe(int status, char *buf, size_t size)
{
    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    } else {
        snprintf(buf, size, "stopped (status 0x%x)", (unsigned) status);
    }
}

bool
sr_pid_alive(pid_t pid)
{
    char path[64], state = 0;
    FILE *f;
    int n;

    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (!f) {
        return false;
    }
    /* "pid (comm) S ...": the state follows the last ')'. */
    {
        char line[512];
        char *close_paren;

        n = fgets(line, sizeof line, f) != NULL;
        fclose(f);
        if (!n || !(close_paren = strrchr(line, ')')) || close_paren[1] != ' ') {
            return false;
        }
        state = close_paren[2];
    }
    return state != 'Z' && state != 'X';
}

unsigned long long
sr_proc_start_time(pid_t pid)
{
    char path[64], line[1024];
    char *p, *save = NULL, *tok, *end;
    unsigned long long v = 0;
    FILE *f;
    int field = 2;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (!f) {
        return 0;
    }
    p = fgets(line, sizeof line, f);
    fclose(f);
    /* "pid (comm) state ...": comm may hold spaces and parentheses, so
     * fields are counted from the last ')' (field 2). */
    if (!p || !(p = strrchr(line, ')'))) {
        return 0;
    }
    for (tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (++field == 22) {
            errno = 0;
            v = strtoull(tok, &end, 10);
            return errno || *end ? 0 : v;
        }
    }
    return 0;
}

int
sr_run(const char *const *argv, int timeout_ms, struct sr_buf *out, struct sr_error *err)
{
    struct sr_fd_spec null = { SR_FD_NULL, NULL };
    struct sr_fd_spec pipe_spec = { SR_FD_PIPE, NULL };
    struct sr_proc p;
    double end = sr_now() + timeout_ms / 1000.0;
    int status = 0;
    bool done = false;

    if (sr_spawn(argv, NULL, null, out ? pipe_spec : null, null, &p, err) < 0) {
        return -SR_EIO;
    }
    while (!done) {
        struct pollfd pfd = { p.out_fd, POLLIN, 0 };
        int left = (int) ((end - sr_now()) * 1000);

        if (left <= 0) {
            kill(-p.pid, SIGKILL);
            sr_proc_wait(p.pid, 2000, NULL);
            if (p.out_fd >= 0) {
                close(p.out_fd);
            }
            return sr_error_set(err, SR_ETIMEDOUT, "'%s' did not finish within %.1f s",
                                argv[0], timeout_ms / 1000.0);
        }
        if (p.out_fd >= 0 && poll(&pfd, 1, left > 100 ? 100 : left) > 0) {
            char buf[4096];
            ssize_t n = read(p.out_fd, buf, sizeof buf);

            if (n > 0) {
                sr_buf_append(out, buf, (size_t) n);
                continue;
            }
            close(p.out_fd);
            p.out_fd = -1;
        } else if (p.out_fd < 0) {
            poll(NULL, 0, 10);
        }
        done = sr_proc_exited(p.pid, &status);
    }
    if (p.out_fd >= 0) {
        char buf[4096];
        ssize_t n;

        while ((n = read(p.out_fd, buf, sizeof buf)) > 0) {
            sr_buf_append(out, buf, (size_t) n);
        }
        close(p.out_fd);
    }
    if (!WIFEXITED(status)) {
        char why[96];

        sr_proc_describe(status, why, sizeof why);
        return sr_error_set(err, SR_EIO, "'%s' %s", argv[0], why);
    }
    return WEXITSTATUS(status);
}

char *
sr_which(const char *name)
{
    const char *path = getenv("PATH");
    const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";

    while (*p) {
        size_t n = strcspn(p, ":");
        char *full = n ? xasprintf("%.*s/%s", (int) n, p, name) : NULL;

        if (full && access(full, X_OK) == 0) {
            return full;
        }
        free(full);
        p += n + (p[n] == ':');
    }
    return NULL;
}
