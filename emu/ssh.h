/* One SSH connection to a lab server, with libssh2: the server's host key
 * checked against a known_hosts file, authentication by a key file, the
 * running ssh-agent or (only when asked for) a password; SFTP for files;
 * remote commands on exec channels, bridged to local pipes; and local
 * TCP ports forwarded to the server's loopback on direct-tcpip channels.
 *
 * A thread of the connection moves the bytes of every channel (the pipes'
 * and the forwarded sockets') while the caller works with ordinary file
 * descriptors.  Calls are made from one thread (the caller's); they lock
 * the session against the mover.  When the connection is lost, every pipe
 * and socket is closed, so readers see EOF, and ssh_lost() says why. */
#ifndef SR_SSH_H
#define SR_SSH_H 1

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "util.h"


struct ssh_auth {
    const char *key_file;      /* NULL: the ssh-agent, then ~/.ssh/id_{ed25519,ecdsa,rsa} */
    const char *known_hosts;   /* NULL: ~/.ssh/known_hosts */
    const char *password_file; /* only with it is a password tried (its first line) */
    double timeout_s;          /* connecting and authenticating; 0: 20 s */
};

struct ssh_conn;
struct ssh_proc;

/* Connects, checks the host key (an unknown or changed key is refused
 * with the fingerprint and what to do) and authenticates. */
struct ssh_conn *ssh_open(const struct sr_ssh_target *t, const struct ssh_auth *a,
                          struct sr_error *err);
/* Closes every channel and the connection.  Accepts NULL. */
void ssh_close(struct ssh_conn *c);
/* "USER@HOST:PORT", for messages. */
const char *ssh_name(const struct ssh_conn *c);
/* Whether the connection was lost; then 'why' says how. */
bool ssh_lost(struct ssh_conn *c, char *why, size_t size);

/* SFTP.  Paths are the server's. */
int ssh_home(struct ssh_conn *c, char **path, struct sr_error *err);
/* Makes a directory; one that exists already is fine when 'exist_ok'. */
int ssh_mkdir(struct ssh_conn *c, const char *path, int mode, bool exist_ok,
              struct sr_error *err);
/* Writes a file whole (created with 'mode', replaced if it was there). */
int ssh_put(struct ssh_conn *c, const char *path, const void *data, size_t len, int mode,
            struct sr_error *err);
/* Reads a file whole into 'out' (appended). */
int ssh_get(struct ssh_conn *c, const char *path, struct sr_buf *out, struct sr_error *err);
/* The names in a directory (without "." and ".."), NULL-terminated; free
 * with ssh_list_free.  '*n' gets the count. */
int ssh_list(struct ssh_conn *c, const char *dir, char ***names, size_t *n,
             struct sr_error *err);
void ssh_list_free(char **names);

/* Runs 'cmd' (a shell command line: quote every word with ssh_quote) and
 * waits up to 'timeout_s' for it to end: its output goes to 'out' and 'errs'
 * (either may be NULL), 'input' (may be NULL) to its stdin.  Returns its
 * exit status (128+N for a signal), or a negative code. */
int ssh_run(struct ssh_conn *c, const char *cmd, const char *input, struct sr_buf *out,
            struct sr_buf *errs, double timeout_s, struct sr_error *err);

/* Starts 'cmd' on a channel of its own: '*in_fd' (write; close it for
 * EOF) feeds its stdin, '*out_fd' (read) gives its stdout, and its stderr
 * is appended to the local file descriptor 'err_fd' (-1: dropped).  Both
 * descriptors are the caller's to close. */
struct ssh_proc *ssh_spawn(struct ssh_conn *c, const char *cmd, int *in_fd, int *out_fd,
                           int err_fd, struct sr_error *err);
/* Whether the command has ended; then '*status' is its exit status (128+N
 * for a signal, -1 when the connection was lost). */
bool ssh_proc_done(struct ssh_proc *p, int *status);
/* Waits up to 'timeout_ms' for the end. */
bool ssh_proc_wait(struct ssh_proc *p, int timeout_ms, int *status);
/* Lets go of the channel (closing it if the command still runs: the
 * command's stdin and stdout then close on the server).  Accepts NULL. */
void ssh_proc_free(struct ssh_proc *p);

/* Listens on 127.0.0.1 (a free port, put in '*local_port') and carries
 * every connection made there to 'rhost':'rport' as the server sees it. */
int ssh_forward(struct ssh_conn *c, const char *rhost, int rport, int *local_port,
                struct sr_error *err);

/* Appends 's' quoted for a POSIX shell ('...', with ' as '\''). */
void ssh_quote(struct sr_buf *b, const char *s);

#endif
