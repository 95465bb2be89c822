/* Child processes and signals.
 *
 * Children run in their own process group, so a Ctrl-C on simrun's terminal
 * reaches simrun only and simrun tears them down in order.  Signals that
 * end a run (SIGINT, SIGTERM, SIGHUP) are turned into a readable file
 * descriptor (the self-pipe trick), so waits can watch for them with poll(). */
#ifndef SR_PROC_H
#define SR_PROC_H 1

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"

/* What a child's standard descriptor is connected to. */
enum sr_fd_mode {
    SR_FD_NULL,   /* /dev/null */
    SR_FD_PIPE,   /* a pipe to simrun */
    SR_FD_FILE,   /* a file, appended to */
    SR_FD_INHERIT /* simrun's own */
};

struct sr_fd_spec {
    enum sr_fd_mode mode;
    const char *path;   /* SR_FD_FILE */
};

struct sr_proc {
    pid_t pid;          /* -1 when not running */
    int in_fd;          /* write end of the child's stdin pipe, or -1 */
    int out_fd;         /* read end of the child's stdout pipe, or -1 */
};

/* Starts 'argv' (argv[0] is a path) with extra environment 'env' ("K=V",
 * NULL-terminated, may be NULL) and the given stdin/stdout/stderr.  Fills
 * 'p' on success. */
int sr_spawn(const char *const *argv, const char *const *env, struct sr_fd_spec in,
             struct sr_fd_spec out, struct sr_fd_spec errs, struct sr_proc *p,
             struct sr_error *err);

/* Whether 'pid' has exited; reaps it and stores its wait status. */
bool sr_proc_exited(pid_t pid, int *status);
/* Waits up to 'timeout_ms' for 'pid' to exit.  Returns true if it did. */
bool sr_proc_wait(pid_t pid, int timeout_ms, int *status);
/* SIGTERM to the process group of 'p', up to 'grace_ms' to exit, then
 * SIGKILL.  Closes the pipes and sets p->pid to -1. */
void sr_proc_stop(struct sr_proc *p, int grace_ms);
/* Describes a wait status: "exited with status 3", "killed by SIGKILL". */
void sr_proc_describe(int status, char *buf, size_t size);

/* Whether process 'pid' exists (and is not a zombie of ours). */
bool sr_pid_alive(pid_t pid);
/* When 'pid' started, in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 when it cannot be read: with the PID it names one
 * process for good, where a PID alone may be reused. */
unsigned long long sr_proc_start_time(pid_t pid);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP and ignores SIGPIPE. */
int sr_signals_install(struct sr_error *err);
/* Readable when a signal has arrived (poll it with POLLIN). */
int sr_signals_fd(void);
/* The last signal received, or 0. */
int sr_signals_pending(void);
/* Waits up to 'ms' milliseconds or until a signal arrives; returns the
 * signal number or 0. */
int sr_signals_sleep(int ms);

/* Blocks the signals that end a run in the calling thread, saving the old
 * mask in '*old': threads started in between (ours, libcurl's, librdkafka's)
 * inherit the block and leave the signals to the main thread.  Then
 * sr_signals_restore(old). */
void sr_signals_hold(sigset_t *old);
void sr_signals_restore(const sigset_t *old);

/* Monotonic time in seconds. */
double sr_now(void);


/* Runs 'argv' to completion (at most 'timeout_ms'), with stdout and stderr
 * collected in 'out' (may be NULL).  Returns its exit status (0..255), or a
 * negative code if it could not run or was killed. */
int sr_run(const char *const *argv, int timeout_ms, struct sr_buf *out,
           struct sr_error *err);

/* Finds 'name' in $PATH; returns a malloc'd path or NULL. */
char *sr_which(const char *name);

#endif
