/* One SSH connection with libssh2 (see ssh.h).
 *
 * The session runs non-blocking.  The mover thread ('pump') holds the
 * session lock while it services the channels, then waits in poll()
 * without it; a call from the caller's thread takes the lock for the whole
 * of its operation, waiting on the socket with the lock held, so the
 * session never sees two operations interleaved mid-packet. */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>

#include "proc.h"
#include "util.h"

/* How long one operation may wait on a silent server. */
#define OP_TIMEOUT_S 30.0
/* How long sent bytes may stay unacknowledged before the connection
 * counts as lost (keep-alives go every 5 s). */
#define USER_TIMEOUT_MS 30000u

struct stream {
    LIBSSH2_CHANNEL *ch;
    int from_local;          /* read: bytes for the channel (-1: none or done) */
    int to_local;            /* write: the channel's bytes (-1: closed) */
    int err_local;           /* write: the channel's stderr, a descriptor of
                                the stream's own (-1: dropped) */
    bool out_to_err;         /* the channel's stdout goes there too */
    bool tcp;                /* a forwarded connection (from_local == to_local) */
    char in[16384];          /* read locally, not yet written to the channel */
    size_t in_len, in_off;
    char out[32768];         /* read from the channel, not yet written locally */
    size_t out_len, out_off;
    bool in_eof, eof_sent, out_eof, closing, done, abandoned;
    int status;
    struct stream *next;
};

struct ssh_proc {
    struct ssh_conn *c;
    struct stream *s;
};

struct forward {
    int fd;
    char rhost[64];
    int rport;
    struct forward *next;
};

struct ssh_conn {
    LIBSSH2_SESSION *s;
    LIBSSH2_SFTP *sftp;
    int sock;
    char name[340];
    pthread_mutex_t mu;
    pthread_t pump;
    bool pump_on;
    int wake[2];
    bool stop;
    bool lost;
    char why[640];
    struct stream *streams;
    struct forward *forwards;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
lib_init(void)
{
    init_rc = libssh2_init(0);
}

/* ---- addresses ---- */

void
ssh_quote(struct sr_buf *b, const char *s)
{
    sr_buf_puts(b, "'");
    for (; *s; s++) {
        if (*s == '\'') {
            sr_buf_puts(b, "'\\''");
        } else {
            sr_buf_append(b, s, 1);
        }
    }
    sr_buf_puts(b, "'");
}

static int
tcp_connect(const struct sr_ssh_target *t, double timeout_s, struct sr_error *err)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    char port[16];
    int rc, fd = -1, saved = 0;

    snprintf(port, sizeof port, "%d", t->port);
    rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc != 0) {
        return sr_error_set(err, SR_ENOTFOUND, "cannot find the lab server '%s': %s", t->host,
                            gai_strerror(rc));
    }
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        struct pollfd p;
        int one = 1, soerr = 0;
        unsigned user_timeout = USER_TIMEOUT_MS;
        socklen_t len = sizeof soerr;

        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        p = (struct pollfd) { fd, POLLOUT, 0 };
        if (poll(&p, 1, (int) (timeout_s * 1000)) <= 0) {
            saved = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
            saved = soerr ? soerr : errno;
        } else {
            /* A server that vanishes without a word (a cable, a crash)
             * leaves the keep-alives unacknowledged: the kernel gives up on
             * the connection after USER_TIMEOUT_MS, and the run learns the
             * connection is lost instead of waiting for TCP's own minutes. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
            continue; /* connected */
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return sr_error_set(err, SR_EIO, "cannot connect to the lab server %s port %d: %s",
                            t->host, t->port, strerror(saved));
    }
    return fd;
}

/* ---- waiting on the session (lock held) ---- */

static void
wait_socket(struct ssh_conn *c, int ms)
{
    int dir = libssh2_session_block_directions(c->s);
    struct pollfd p = { c->sock, 0, 0 };

    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND) {
        p.events |= POLLIN;
    }
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) {
        p.events |= POLLOUT;
    }
    if (!p.events) {
        p.events = POLLIN;
    }
    poll(&p, 1, ms);
}

/* The caller's operations run blocking, with the session locked, so
 * libssh2 sees each one through before the mover touches the session
 * again; a silent server ends one after OP_TIMEOUT_S. */
static void
op_lock(struct ssh_conn *c)
{
    pthread_mutex_lock(&c->mu);
    libssh2_session_set_timeout(c->s, (long) (OP_TIMEOUT_S * 1000));
    libssh2_session_set_blocking(c->s, 1);
}

static void
op_unlock(struct ssh_conn *c)
{
    libssh2_session_set_blocking(c->s, 0);
    libssh2_session_set_timeout(c->s, 0);
    pthread_mutex_unlock(&c->mu);
}

static bool
is_connection_error(int rc)
{
    return rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_SEND ||
           rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
           rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_DECRYPT ||
           rc == LIBSSH2_ERROR_BAD_USE;
}

/* What libssh2 last said, for messages. */
static const char *
last_error(struct ssh_conn *c)
{
    char *msg = NULL;

    libssh2_session_last_error(c->s, &msg, NULL, 0);
    return msg && *msg ? msg : "no reason given";
}

static void
mark_lost(struct ssh_conn *c, const char *how)
{
    if (c->lost) {
        return;
    }
    c->lost = true;
    snprintf(c->why, sizeof c->why, "the connection to %s was lost (%s)", c->name, how);
    for (struct stream *s = c->streams; s; s = s->next) {
        if (s->to_local >= 0 && s->to_local != s->from_local) {
            close(s->to_local);
        }
        if (s->from_local >= 0) {
            close(s->from_local);
        }
        s->to_local = s->from_local = -1;
        if (s->err_local >= 0) {
            close(s->err_local);
            s->err_local = -1;
        }
        s->done = true;
        s->status = -1;
    }
    for (struct forward *f = c->forwards; f; f = f->next) {
        if (f->fd >= 0) {
            close(f->fd);
            f->fd = -1;
        }
    }
}

/* Repeats a libssh2 call while it says EAGAIN (lock held), up to the
 * operation's time limit.  Sets 'rc'. */
#define SSH_RETRY(c, rc, call)                                                               \
    do {                                                                                     \
        double end_ = sr_now() + OP_TIMEOUT_S;                                               \
        while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN && sr_now() < end_) {                 \
            wait_socket((c), 100);                                                           \
        }                                                                                    \
    } while (0)

/* The same for calls that return a pointer (NULL with EAGAIN: try again). */
#define SSH_RETRY_PTR(c, ptr, call)                                                          \
    do {                                                                                     \
        double end_ = sr_now() + OP_TIMEOUT_S;                                               \
        while (!((ptr) = (call)) &&                                                          \
               libssh2_session_last_errno((c)->s) == LIBSSH2_ERROR_EAGAIN &&                 \
               sr_now() < end_) {                                                            \
            wait_socket((c), 100);                                                           \
        }                                                                                    \
    } while (0)

static int
op_error(struct ssh_conn *c, int rc, struct sr_error *err, const char *what)
{
    if (c->lost) {
        return sr_error_set(err, SR_EIO, "%s: %s", what, c->why);
    }
    if (rc == LIBSSH2_ERROR_EAGAIN) {
        return sr_error_set(err, SR_ETIMEDOUT, "%s: %s did not answer within %.0f s", what,
                            c->name, OP_TIMEOUT_S);
    }
    if (is_connection_error(rc)) {
        mark_lost(c, last_error(c));
        return sr_error_set(err, SR_EIO, "%s: %s", what, c->why);
    }
    return sr_error_set(err, SR_EIO, "%s: %s", what, last_error(c));
}

/* ---- host key and authentication ---- */

static char *
home_file(const char *name)
{
    const char *home = getenv("HOME");
    struct passwd *pw;

    if (!home || !*home) {
        pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    return xasprintf("%s/%s", home, name);
}

static void
fingerprint(LIBSSH2_SESSION *s, char *out, size_t size)
{
    const unsigned char *hash =
        (const unsigned char *) libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
    unsigned char b64[64];
    int n;

    if (!hash) {
        snprintf(out, size, "(unknown)");
        return;
    }
    n = EVP_EncodeBlock(b64, hash, 32);
    while (n > 0 && b64[n - 1] == '=') {
        n--;
    }
    snprintf(out, size, "SHA256:%.*s", n, (const char *) b64);
}

static int
check_host_key(struct ssh_conn *c, const struct sr_ssh_target *t, const char *file,
               struct sr_error *err)
{
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(c->s);
    struct libssh2_knownhost *found = NULL;
    const char *key, *tname;
    size_t len;
    int type, keybit, rc, n;
    char fp[96], where[300];

    key = libssh2_session_hostkey(c->s, &len, &type);
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: keybit = LIBSSH2_KNOWNHOST_KEY_SSHRSA; tname = "rsa"; break;
    case LIBSSH2_HOSTKEY_TYPE_DSS: keybit = LIBSSH2_KNOWNHOST_KEY_SSHDSS; tname = "dsa"; break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        keybit = LIBSSH2_KNOWNHOST_KEY_ECDSA_256; tname = "ecdsa"; break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        keybit = LIBSSH2_KNOWNHOST_KEY_ECDSA_384; tname = "ecdsa"; break;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        keybit = LIBSSH2_KNOWNHOST_KEY_ECDSA_521; tname = "ecdsa"; break;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        keybit = LIBSSH2_KNOWNHOST_KEY_ED25519; tname = "ed25519"; break;
    default:
        keybit = 0; tname = "?"; break;
    }
    fingerprint(c->s, fp, sizeof fp);
    if (t->port == 22) {
        snprintf(where, sizeof where, "%s", t->host);
    } else {
        snprintf(where, sizeof where, "[%s]:%d", t->host, t->port);
    }
    if (!kh || !key || !keybit) {
        if (kh) {
            libssh2_knownhost_free(kh);
        }
        return sr_error_set(err, SR_EIO, "the lab server %s offered a host key simrun cannot "
                            "check", where);
    }
    n = libssh2_knownhost_readfile(kh, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    if (n < 0 && access(file, F_OK) == 0) {
        libssh2_knownhost_free(kh);
        return sr_error_set(err, SR_EINVAL, "cannot read the known hosts file '%s'", file);
    }
    rc = libssh2_knownhost_checkp(kh, t->host, t->port, key, len,
                                  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
                                      keybit,
                                  &found);
    libssh2_knownhost_free(kh);
    switch (rc) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
        return 0;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        return sr_error_set(err, SR_EINVAL,
                            "the host key of the lab server %s has CHANGED: it offered the %s "
                            "key %s, which is not the one in %s. Someone may be intercepting "
                            "the connection, or the server was reinstalled; ask its "
                            "administrator, and only then replace the line in %s "
                            "(ssh-keygen -R '%s' -f %s)",
                            where, tname, fp, file, file, where, file);
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        return sr_error_set(err, SR_EINVAL,
                            "the lab server %s is not in %s (it offered the %s key %s). "
                            "Check the fingerprint with the server's administrator, then add "
                            "it: ssh-keyscan -t %s%s%d %s >> %s, or connect once with ssh",
                            where, file, tname, fp, tname, t->port == 22 ? "" : " -p ",
                            t->port == 22 ? 0 : t->port, t->host, file);
    default:
        return sr_error_set(err, SR_EIO, "cannot check the host key of %s against %s", where,
                            file);
    }
}

static char *
read_password(const char *file, struct sr_error *err)
{
    struct stat st;
    FILE *f = fopen(file, "re");
    char line[1024];
    size_t n;

    if (!f) {
        sr_error_set(err, SR_EINVAL, "cannot open the password file '%s': %s", file,
                     strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fclose(f);
        sr_error_set(err, SR_EINVAL,
                     "the password file '%s' may be read by others (mode %03o): "
                     "chmod 600 it",
                     file, (unsigned) (st.st_mode & 0777));
        return NULL;
    }
    if (!fgets(line, sizeof line, f)) {
        line[0] = '\0';
    }
    fclose(f);
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    return xstrdup(line);
}

static int
authenticate(struct ssh_conn *c, const struct sr_ssh_target *t, const struct ssh_auth *a,
             struct sr_error *err)
{
    const char *methods = libssh2_userauth_list(c->s, t->user, (unsigned) strlen(t->user));
    struct sr_buf tried = SR_BUF_INIT;
    int rc = -1;

    if (!methods && libssh2_userauth_authenticated(c->s)) {
        return 0;
    }
    if (!methods) {
        methods = "";
    }
    if (a->password_file) {
        char *pw = read_password(a->password_file, err);

        if (!pw) {
            return -err->code;
        }
        rc = strstr(methods, "password")
                 ? libssh2_userauth_password(c->s, t->user, pw)
                 : -1;
        OPENSSL_cleanse(pw, strlen(pw));
        free(pw);
        sr_buf_puts(&tried, "the password of --ssh-password-file");
    } else if (a->key_file) {
        if (access(a->key_file, R_OK) < 0) {
            return sr_error_set(err, SR_EINVAL, "cannot read the key '%s': %s", a->key_file,
                                strerror(errno));
        }
        rc = libssh2_userauth_publickey_fromfile(c->s, t->user, NULL, a->key_file, NULL);
        sr_buf_printf(&tried, "the key %s", a->key_file);
    } else {
        static const char *const keys[] = { ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa" };
        LIBSSH2_AGENT *agent = getenv("SSH_AUTH_SOCK") ? libssh2_agent_init(c->s) : NULL;

        if (agent && libssh2_agent_connect(agent) == 0 &&
            libssh2_agent_list_identities(agent) == 0) {
            struct libssh2_agent_publickey *id = NULL, *prev = NULL;

            while (rc != 0 && libssh2_agent_get_identity(agent, &id, prev) == 0) {
                rc = libssh2_agent_userauth(agent, t->user, id);
                prev = id;
            }
            libssh2_agent_disconnect(agent);
            sr_buf_puts(&tried, "the ssh-agent's keys");
        }
        if (agent) {
            libssh2_agent_free(agent);
        }
        for (size_t i = 0; rc != 0 && i < SR_ARRAY_SIZE(keys); i++) {
            char *path = home_file(keys[i]);

            if (access(path, R_OK) == 0) {
                rc = libssh2_userauth_publickey_fromfile(c->s, t->user, NULL, path, NULL);
                sr_buf_printf(&tried, "%s%s", tried.len ? ", " : "", path);
            }
            free(path);
        }
    }
    if (rc != 0) {
        sr_error_set(err, SR_EINVAL,
                     "%s@%s refused %s (it accepts: %s)%s", t->user, t->host,
                     tried.len ? sr_buf_cstr(&tried) : "every way simrun has: no ssh-agent, "
                                                       "no key in ~/.ssh",
                     *methods ? methods : "nothing",
                     a->key_file || a->password_file ? "" : "; name a key with --ssh-key FILE");
        rc = -SR_EINVAL;
    }
    sr_buf_release(&tried);
    return rc;
}

/* ---- the mover ---- */

static void
set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int
signal_number(const char *name)
{
    static const struct { const char *name; int sig; } sigs[] = {
        { "HUP", SIGHUP }, { "INT", SIGINT }, { "KILL", SIGKILL }, { "TERM", SIGTERM },
        { "PIPE", SIGPIPE }, { "SEGV", SIGSEGV }, { "ABRT", SIGABRT }, { "QUIT", SIGQUIT },
    };

    for (size_t i = 0; name && i < SR_ARRAY_SIZE(sigs); i++) {
        if (!strcmp(name, sigs[i].name)) {
            return sigs[i].sig;
        }
    }
    return 0;
}

static void
close_local(struct stream *s)
{
    if (s->to_local >= 0 && s->to_local != s->from_local) {
        close(s->to_local);
    }
    if (s->from_local >= 0) {
        close(s->from_local);
    }
    s->to_local = s->from_local = -1;
}

/* Moves what can move on one stream without waiting (lock held).  Returns
 * false when a write to the channel must wait for the socket. */
static bool
service(struct ssh_conn *c, struct stream *s)
{
    ssize_t n;

    if (s->done) {
        return true;
    }
    if (s->abandoned && !s->closing) {
        close_local(s);
        s->closing = true;
    }
    /* The channel's stderr. */
    for (;;) {
        char buf[4096];

        n = libssh2_channel_read_stderr(s->ch, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        if (s->err_local >= 0 && write(s->err_local, buf, (size_t) n) < 0) {
            s->err_local = -1;
        }
    }
    /* The channel's stdout, to the local end. */
    while (!s->out_eof) {
        if (s->out_off < s->out_len) {
            if (s->to_local < 0) {
                /* Into the log with stderr, or nobody reads: dropped. */
                if (s->out_to_err && s->err_local >= 0 &&
                    write(s->err_local, s->out + s->out_off, s->out_len - s->out_off) < 0) {
                    s->err_local = -1;
                }
                s->out_off = s->out_len;
                continue;
            }
            n = write(s->to_local, s->out + s->out_off, s->out_len - s->out_off);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            }
            if (n < 0) {
                /* The local reader is gone. */
                if (s->tcp) {
                    s->abandoned = true;
                }
                s->out_off = s->out_len;
                continue;
            }
            s->out_off += (size_t) n;
            continue;
        }
        n = libssh2_channel_read(s->ch, s->out, sizeof s->out);
        if (n > 0) {
            s->out_len = (size_t) n;
            s->out_off = 0;
            continue;
        }
        if (n == LIBSSH2_ERROR_EAGAIN || (n == 0 && !libssh2_channel_eof(s->ch))) {
            break;
        }
        if (n < 0 && is_connection_error((int) n)) {
            mark_lost(c, last_error(c));
            return true;
        }
        s->out_eof = true;
        if (s->tcp && s->to_local >= 0) {
            shutdown(s->to_local, SHUT_WR);
        } else if (s->to_local >= 0) {
            close(s->to_local);
            s->to_local = -1;
        }
    }
    /* The local end, to the channel's stdin. */
    while (!s->eof_sent && !s->closing) {
        if (s->in_off < s->in_len) {
            n = libssh2_channel_write(s->ch, s->in + s->in_off, s->in_len - s->in_off);
            if (n == LIBSSH2_ERROR_EAGAIN) {
                return false;
            }
            if (n < 0) {
                if (is_connection_error((int) n)) {
                    mark_lost(c, last_error(c));
                    return true;
                }
                s->in_off = s->in_len; /* the channel is closing */
                s->in_eof = true;
                continue;
            }
            s->in_off += (size_t) n;
            continue;
        }
        if (s->in_eof) {
            int rc = libssh2_channel_send_eof(s->ch);

            if (rc == LIBSSH2_ERROR_EAGAIN) {
                return false;
            }
            s->eof_sent = true;
            if (!s->tcp && s->from_local >= 0) {
                close(s->from_local);
                s->from_local = -1;
            }
            break;
        }
        if (s->from_local < 0) {
            s->in_eof = true;
            continue;
        }
        n = read(s->from_local, s->in, sizeof s->in);
        if (n > 0) {
            s->in_len = (size_t) n;
            s->in_off = 0;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            s->in_eof = true;
        } else {
            break;
        }
    }
    /* The end: both ways done (a forwarded connection), the command's
     * output ended (a command), or the caller let go. */
    if (!s->closing && s->out_eof && s->out_off >= s->out_len &&
        (!s->tcp || s->eof_sent)) {
        s->closing = true;
    }
    if (s->closing) {
        int rc = libssh2_channel_close(s->ch);

        if (rc == LIBSSH2_ERROR_EAGAIN) {
            return false;
        }
        rc = libssh2_channel_wait_closed(s->ch);
        if (rc == LIBSSH2_ERROR_EAGAIN) {
            return true;
        }
        if (!s->tcp) {
            char *sig = NULL;

            libssh2_channel_get_exit_signal(s->ch, &sig, NULL, NULL, NULL, NULL, NULL);
            s->status = sig ? 128 + signal_number(sig) : libssh2_channel_get_exit_status(s->ch);
            free(sig);
        }
        close_local(s);
        if (s->err_local >= 0) {
            close(s->err_local);
            s->err_local = -1;
        }
        s->done = true;
    }
    return true;
}

static struct stream *
open_stream(struct ssh_conn *c, LIBSSH2_CHANNEL *ch, int from_local, int to_local, int err_local,
            bool tcp)
{
    struct stream *s = xcalloc(1, sizeof *s);

    s->ch = ch;
    s->from_local = from_local;
    s->to_local = to_local;
    s->err_local = err_local >= 0 ? fcntl(err_local, F_DUPFD_CLOEXEC, 0) : -1;
    s->tcp = tcp;
    s->next = c->streams;
    c->streams = s;
    return s;
}

/* A connection to a forwarded port (lock held). */
static void
accept_forward(struct ssh_conn *c, struct forward *f)
{
    int fd = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;
    LIBSSH2_CHANNEL *ch;

    if (fd < 0) {
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSH_RETRY_PTR(c, ch, libssh2_channel_direct_tcpip_ex(c->s, f->rhost, f->rport, "127.0.0.1", 0));
    if (!ch) {
        int rc = libssh2_session_last_errno(c->s);

        if (is_connection_error(rc)) {
            mark_lost(c, last_error(c));
        }
        close(fd);
        return;
    }
    open_stream(c, ch, fd, fd, -1, true);
}

static void
reap(struct ssh_conn *c)
{
    for (struct stream **p = &c->streams; *p;) {
        struct stream *s = *p;

        if (s->done && (s->tcp || s->abandoned)) {
            *p = s->next;
            if (s->ch) {
                libssh2_channel_free(s->ch);
            }
            free(s);
        } else {
            p = &s->next;
        }
    }
}

static void *
pump(void *arg)
{
    struct ssh_conn *c = arg;
    struct pollfd *fds = NULL;
    size_t cap = 0;
    bool blocked = false;

    for (;;) {
        size_t n = 0;
        int next = 0;

        pthread_mutex_lock(&c->mu);
        if (c->stop) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        blocked = false;
        if (!c->lost) {
            for (struct forward *f = c->forwards; f; f = f->next) {
                if (f->fd >= 0) {
                    accept_forward(c, f);
                }
            }
            for (struct stream *s = c->streams; s && !c->lost; s = s->next) {
                if (!service(c, s)) {
                    blocked = true;
                }
            }
            if (!c->lost && libssh2_keepalive_send(c->s, &next) < 0) {
                int rc = libssh2_session_last_errno(c->s);

                if (is_connection_error(rc)) {
                    mark_lost(c, last_error(c));
                }
            }
        }
        reap(c);
        /* What to wait for. */
        for (struct stream *s = c->streams; s; s = s->next) {
            n += 2;
        }
        for (struct forward *f = c->forwards; f; f = f->next) {
            n++;
        }
        n += 2;
        if (n > cap) {
            cap = n * 2;
            fds = xrealloc(fds, cap * sizeof *fds);
        }
        n = 0;
        fds[n++] = (struct pollfd) { c->wake[0], POLLIN, 0 };
        if (!c->lost) {
            int dir = libssh2_session_block_directions(c->s);

            fds[n++] = (struct pollfd) {
                c->sock, (short) (POLLIN | (blocked || (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
                                                ? POLLOUT : 0)), 0 };
            for (struct forward *f = c->forwards; f; f = f->next) {
                if (f->fd >= 0) {
                    fds[n++] = (struct pollfd) { f->fd, POLLIN, 0 };
                }
            }
            for (struct stream *s = c->streams; s; s = s->next) {
                if (s->done) {
                    continue;
                }
                if (s->from_local >= 0 && s->in_off >= s->in_len && !s->in_eof) {
                    fds[n++] = (struct pollfd) { s->from_local, POLLIN, 0 };
                }
                if (s->to_local >= 0 && s->out_off < s->out_len) {
                    fds[n++] = (struct pollfd) { s->to_local, POLLOUT, 0 };
                }
            }
        }
        pthread_mutex_unlock(&c->mu);
        /* A closing channel waits for the server's answer on the socket;
         * the short timeout covers what poll cannot see (data libssh2
         * already read into its buffers). */
        if (poll(fds, n, 50) > 0 && (fds[0].revents & POLLIN)) {
            char drain[64];

            while (read(c->wake[0], drain, sizeof drain) > 0) {
            }
        }
    }
    free(fds);
    return NULL;
}

static void
wake(struct ssh_conn *c)
{
    char one = 1;

    if (write(c->wake[1], &one, 1) < 0) {
        /* full: it is awake anyway */
    }
}

/* ---- connecting ---- */

/* Host key types in the order OpenSSH's client prefers them, so the key
 * offered is the one known_hosts most likely holds: only those this
 * libssh2 supports (1.10 copies overlapping memory when it drops an
 * unsupported one itself). */
static void
prefer_host_keys(LIBSSH2_SESSION *s)
{
    static const char *const order[] = { "ssh-ed25519", "ecdsa-sha2-nistp256",
                                         "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                         "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa" };
    const char **algs = NULL;
    struct sr_buf pref = SR_BUF_INIT;
    int n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs);

    for (size_t i = 0; i < SR_ARRAY_SIZE(order); i++) {
        for (int k = 0; k < n; k++) {
            if (!strcmp(algs[k], order[i])) {
                sr_buf_printf(&pref, "%s%s", pref.len ? "," : "", order[i]);
                break;
            }
        }
    }
    if (pref.len) {
        libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, sr_buf_cstr(&pref));
    }
    if (n > 0) {
        libssh2_free(s, (void *) algs);
    }
    sr_buf_release(&pref);
}

struct ssh_conn *
ssh_open(const struct sr_ssh_target *t, const struct ssh_auth *a, struct sr_error *err)
{
    struct ssh_conn *c;
    double timeout = a->timeout_s > 0 ? a->timeout_s : 20.0;
    char *kh = a->known_hosts ? xstrdup(a->known_hosts) : home_file(".ssh/known_hosts");
    sigset_t old;
    int rc;

    pthread_once(&init_once, lib_init);
    if (init_rc != 0) {
        free(kh);
        sr_error_set(err, SR_EIO, "libssh2 could not start (%d)", init_rc);
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->sock = -1;
    c->wake[0] = c->wake[1] = -1;
    pthread_mutex_init(&c->mu, NULL);
    snprintf(c->name, sizeof c->name, "%s@%s:%d", t->user, t->host, t->port);
    c->sock = tcp_connect(t, timeout, err);
    if (c->sock < 0) {
        goto fail;
    }
    c->s = libssh2_session_init();
    if (!c->s) {
        sr_error_set(err, SR_EIO, "libssh2 could not make a session");
        goto fail;
    }
    prefer_host_keys(c->s);
    libssh2_session_set_blocking(c->s, 1);
    libssh2_session_set_timeout(c->s, (long) (timeout * 1000));
    {
        int fl = fcntl(c->sock, F_GETFL);

        fcntl(c->sock, F_SETFL, fl & ~O_NONBLOCK);
    }
    rc = libssh2_session_handshake(c->s, c->sock);
    if (rc != 0) {
        sr_error_set(err, SR_EIO, "the SSH handshake with %s failed: %s", c->name,
                     last_error(c));
        goto fail;
    }
    if (check_host_key(c, t, kh, err) < 0 || authenticate(c, t, a, err) < 0) {
        goto fail;
    }
    c->sftp = libssh2_sftp_init(c->s);
    if (!c->sftp) {
        sr_error_set(err, SR_EIO, "%s offers no SFTP (%s): enable its sftp subsystem", c->name,
                     last_error(c));
        goto fail;
    }
    libssh2_keepalive_config(c->s, 1, 5);
    libssh2_session_set_timeout(c->s, 0);
    libssh2_session_set_blocking(c->s, 0);
    set_nonblock(c->sock);
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        sr_error_set(err, SR_EIO, "cannot make a pipe: %s", strerror(errno));
        goto fail;
    }
    /* The mover leaves signals to the main thread. */
    sr_signals_hold(&old);
    rc = pthread_create(&c->pump, NULL, pump, c);
    sr_signals_restore(&old);
    if (rc != 0) {
        sr_error_set(err, SR_EIO, "cannot start a thread: %s", strerror(rc));
        goto fail;
    }
    c->pump_on = true;
    free(kh);
    return c;

fail:
    free(kh);
    ssh_close(c);
    return NULL;
}

void
ssh_close(struct ssh_conn *c)
{
    if (!c) {
        return;
    }
    if (c->pump_on) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_mutex_unlock(&c->mu);
        wake(c);
        pthread_join(c->pump, NULL);
    }
    for (struct stream *s = c->streams, *next; s; s = next) {
        next = s->next;
        close_local(s);
        if (s->err_local >= 0) {
            close(s->err_local);
        }
        if (s->ch) {
            libssh2_channel_free(s->ch);
        }
        free(s);
    }
    for (struct forward *f = c->forwards, *next; f; f = next) {
        next = f->next;
        if (f->fd >= 0) {
            close(f->fd);
        }
        free(f);
    }
    if (c->s) {
        libssh2_session_set_blocking(c->s, 1);
        libssh2_session_set_timeout(c->s, 2000);
        if (c->sftp) {
            libssh2_sftp_shutdown(c->sftp);
        }
        if (!c->lost) {
            libssh2_session_disconnect(c->s, "simrun is done");
        }
        libssh2_session_free(c->s);
    }
    if (c->sock >= 0) {
        close(c->sock);
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *
ssh_name(const struct ssh_conn *c)
{
    return c->name;
}

bool
ssh_lost(struct ssh_conn *c, char *why, size_t size)
{
    bool lost;

    pthread_mutex_lock(&c->mu);
    lost = c->lost;
    if (lost && why) {
        snprintf(why, size, "%s", c->why);
    }
    pthread_mutex_unlock(&c->mu);
    return lost;
}

/* ---- SFTP ---- */

static int
sftp_error(struct ssh_conn *c, int rc, const char *what, const char *path, struct sr_error *err)
{
    static const char *const codes[] = {
        [LIBSSH2_FX_NO_SUCH_FILE] = "no such file or directory",
        [LIBSSH2_FX_PERMISSION_DENIED] = "permission denied",
        [LIBSSH2_FX_FAILURE] = "failed",
        [LIBSSH2_FX_FILE_ALREADY_EXISTS] = "it exists already",
        [LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM] = "no space left on the server",
        [LIBSSH2_FX_QUOTA_EXCEEDED] = "over quota",
    };
    char what_path[600];

    snprintf(what_path, sizeof what_path, "%s '%s' on %s", what, path, c->name);
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
        unsigned long code = libssh2_sftp_last_error(c->sftp);

        return sr_error_set(err, code == LIBSSH2_FX_NO_SUCH_FILE ? SR_ENOTFOUND : SR_EIO,
                            "cannot %s: %s", what_path,
                            code < SR_ARRAY_SIZE(codes) && codes[code] ? codes[code]
                                                                       : "SFTP error");
    }
    {
        char w[640];

        snprintf(w, sizeof w, "cannot %s", what_path);
        return op_error(c, rc, err, w);
    }
}

int
ssh_home(struct ssh_conn *c, char **path, struct sr_error *err)
{
    char buf[1024];
    int rc;

    op_lock(c);
    if (c->lost) {
        op_unlock(c);
        return sr_error_set(err, SR_EIO, "%s", c->why);
    }
    SSH_RETRY(c, rc, libssh2_sftp_realpath(c->sftp, ".", buf, sizeof buf - 1));
    if (rc > 0) {
        buf[rc] = '\0';
        *path = xstrdup(buf);
        rc = 0;
    } else {
        rc = sftp_error(c, rc, "find the home directory", ".", err);
    }
    op_unlock(c);
    return rc;
}

int
ssh_mkdir(struct ssh_conn *c, const char *path, int mode, bool exist_ok, struct sr_error *err)
{
    int rc;

    op_lock(c);
    if (c->lost) {
        op_unlock(c);
        return sr_error_set(err, SR_EIO, "%s", c->why);
    }
    SSH_RETRY(c, rc, libssh2_sftp_mkdir(c->sftp, path, mode));
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && exist_ok) {
        LIBSSH2_SFTP_ATTRIBUTES st;
        int src;

        SSH_RETRY(c, src, libssh2_sftp_lstat(c->sftp, path, &st));
        if (src == 0 && LIBSSH2_SFTP_S_ISDIR(st.permissions)) {
            rc = 0;
        } else {
            rc = LIBSSH2_ERROR_SFTP_PROTOCOL;
        }
    }
    if (rc != 0) {
        rc = sftp_error(c, rc, "make the directory", path, err);
    }
    op_unlock(c);
    return rc;
}

int
ssh_put(struct ssh_conn *c, const char *path, const void *data, size_t len, int mode,
        struct sr_error *err)
{
    LIBSSH2_SFTP_HANDLE *h;
    size_t off = 0;
    int rc = 0;

    op_lock(c);
    if (c->lost) {
        op_unlock(c);
        return sr_error_set(err, SR_EIO, "%s", c->why);
    }
    SSH_RETRY_PTR(c, h, libssh2_sftp_open(c->sftp, path,
                                          LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
                                              LIBSSH2_FXF_TRUNC,
                                          mode));
    if (!h) {
        rc = sftp_error(c, libssh2_session_last_errno(c->s), "write", path, err);
        op_unlock(c);
        return rc;
    }
    while (off < len) {
        ssize_t n;

        SSH_RETRY(c, n, libssh2_sftp_write(h, (const char *) data + off,
                                           len - off > 32768 ? 32768 : len - off));
        if (n < 0) {
            rc = sftp_error(c, (int) n, "write", path, err);
            break;
        }
        off += (size_t) n;
    }
    {
        int crc;

        SSH_RETRY(c, crc, libssh2_sftp_close(h));
        if (crc != 0 && rc == 0) {
            rc = sftp_error(c, crc, "write", path, err);
        }
    }
    /* The mode asked for, whatever the server's umask made of it. */
    if (rc == 0) {
        LIBSSH2_SFTP_ATTRIBUTES st = { .flags = LIBSSH2_SFTP_ATTR_PERMISSIONS,
                                       .permissions = (unsigned long) mode };

        SSH_RETRY(c, rc, libssh2_sftp_setstat(c->sftp, path, &st));
        if (rc != 0) {
            rc = sftp_error(c, rc, "set the mode of", path, err);
        }
    }
    op_unlock(c);
    return rc;
}

int
ssh_get(struct ssh_conn *c, const char *path, struct sr_buf *out, struct sr_error *err)
{
    LIBSSH2_SFTP_HANDLE *h;
    int rc = 0;

    op_lock(c);
    if (c->lost) {
        op_unlock(c);
        return sr_error_set(err, SR_EIO, "%s", c->why);
    }
    SSH_RETRY_PTR(c, h, libssh2_sftp_open(c->sftp, path, LIBSSH2_FXF_READ, 0));
    if (!h) {
        rc = sftp_error(c, libssh2_session_last_errno(c->s), "read", path, err);
        op_unlock(c);
        return rc;
    }
    for (;;) {
        char buf[32768];
        ssize_t n;

        SSH_RETRY(c, n, libssh2_sftp_read(h, buf, sizeof buf));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            rc = sftp_error(c, (int) n, "read", path, err);
            break;
        }
        sr_buf_append(out, buf, (size_t) n);
    }
    {
        int crc;

        SSH_RETRY(c, crc, libssh2_sftp_close(h));
    }
    op_unlock(c);
    return rc;
}

void
ssh_list_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++) {
        free(names[i]);
    }
    free(names);
}

int
ssh_list(struct ssh_conn *c, const char *dir, char ***names, size_t *n, struct sr_error *err)
{
    LIBSSH2_SFTP_HANDLE *h;
    size_t cap = 8;
    int rc = 0;

    *n = 0;
    *names = xcalloc(cap, sizeof **names);
    op_lock(c);
    if (c->lost) {
        op_unlock(c);
        return sr_error_set(err, SR_EIO, "%s", c->why);
    }
    SSH_RETRY_PTR(c, h, libssh2_sftp_opendir(c->sftp, dir));
    if (!h) {
        rc = sftp_error(c, libssh2_session_last_errno(c->s), "list", dir, err);
        op_unlock(c);
        return rc;
    }
    for (;;) {
        char buf[512];
        LIBSSH2_SFTP_ATTRIBUTES st;
        int got;

        SSH_RETRY(c, got, libssh2_sftp_readdir(h, buf, sizeof buf - 1, &st));
        if (got == 0) {
            break;
        }
        if (got < 0) {
            rc = sftp_error(c, got, "list", dir, err);
            break;
        }
        buf[got] = '\0';
        if (!strcmp(buf, ".") || !strcmp(buf, "..")) {
            continue;
        }
        if (*n + 2 > cap) {
            cap *= 2;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = xstrdup(buf);
        (*names)[*n] = NULL;
    }
    {
        int crc;

        SSH_RETRY(c, crc, libssh2_sftp_closedir(h));
    }
    op_unlock(c);
    return rc;
}

/* ---- commands ---- */

struct ssh_proc *
ssh_spawn(struct ssh_conn *c, const char *cmd, int *in_fd, int *out_fd, int err_fd,
          struct sr_error *err)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc;
    LIBSSH2_CHANNEL *ch;
    struct ssh_proc *p;

    if (pipe2(in, O_CLOEXEC) < 0 || (out_fd && pipe2(out, O_CLOEXEC) < 0)) {
        sr_error_set(err, SR_EIO, "cannot make a pipe: %s", strerror(errno));
        goto fail_pipes;
    }
    set_nonblock(in[0]);
    if (out_fd) {
        set_nonblock(out[1]);
    }
    op_lock(c);
    if (c->lost) {
        sr_error_set(err, SR_EIO, "%s", c->why);
        op_unlock(c);
        goto fail_pipes;
    }
    SSH_RETRY_PTR(c, ch, libssh2_channel_open_session(c->s));
    if (!ch) {
        op_error(c, libssh2_session_last_errno(c->s), err, "cannot open a channel");
        op_unlock(c);
        goto fail_pipes;
    }
    SSH_RETRY(c, rc, libssh2_channel_exec(ch, cmd));
    if (rc != 0) {
        op_error(c, rc, err, "cannot start a command on the lab server");
        libssh2_channel_free(ch);
        op_unlock(c);
        goto fail_pipes;
    }
    p = xcalloc(1, sizeof *p);
    p->c = c;
    p->s = open_stream(c, ch, in[0], out[1], err_fd, false);
    p->s->out_to_err = !out_fd;
    op_unlock(c);
    wake(c);
    *in_fd = in[1];
    if (out_fd) {
        *out_fd = out[0];
    }
    return p;

fail_pipes:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0) {
            close(in[i]);
        }
        if (out[i] >= 0) {
            close(out[i]);
        }
    }
    return NULL;
}

bool
ssh_proc_done(struct ssh_proc *p, int *status)
{
    bool done;

    pthread_mutex_lock(&p->c->mu);
    done = p->s->done;
    if (done && status) {
        *status = p->s->status;
    }
    pthread_mutex_unlock(&p->c->mu);
    return done;
}

bool
ssh_proc_wait(struct ssh_proc *p, int timeout_ms, int *status)
{
    double end = sr_now() + timeout_ms / 1000.0;

    while (!ssh_proc_done(p, status)) {
        if (sr_now() >= end) {
            return false;
        }
        usleep(20000);
    }
    return true;
}

void
ssh_proc_free(struct ssh_proc *p)
{
    if (!p) {
        return;
    }
    pthread_mutex_lock(&p->c->mu);
    p->s->abandoned = true;
    pthread_mutex_unlock(&p->c->mu);
    wake(p->c);
    free(p);
}

int
ssh_run(struct ssh_conn *c, const char *cmd, const char *input, struct sr_buf *out,
        struct sr_buf *errs, double timeout_s, struct sr_error *err)
{
    int in_fd, out_fd, efd[2], status = -1, rc = 0;
    double end = sr_now() + timeout_s;
    struct ssh_proc *p;
    bool out_open = true, err_open = true;

    if (pipe2(efd, O_CLOEXEC) < 0) {
        return sr_error_set(err, SR_EIO, "cannot make a pipe: %s", strerror(errno));
    }
    p = ssh_spawn(c, cmd, &in_fd, &out_fd, efd[1], err);
    /* The stream writes stderr into a descriptor of its own, closed at
     * the command's end: then efd[0] reads EOF. */
    close(efd[1]);
    if (!p) {
        close(efd[0]);
        return -err->code;
    }
    if (input) {
        size_t len = strlen(input), off = 0;

        while (off < len) {
            ssize_t w = write(in_fd, input + off, len - off);

            if (w <= 0) {
                break;
            }
            off += (size_t) w;
        }
    }
    close(in_fd);
    while (out_open || err_open) {
        struct pollfd fds[2] = { { out_open ? out_fd : -1, POLLIN, 0 },
                                 { err_open ? efd[0] : -1, POLLIN, 0 } };
        char buf[8192];
        ssize_t n;

        if (sr_now() > end) {
            rc = sr_error_set(err, SR_ETIMEDOUT, "a command on %s did not end within %.0f s",
                              c->name, timeout_s);
            break;
        }
        poll(fds, 2, 200);
        for (int i = 0; i < 2; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0 && (i == 0 ? out : errs)) {
                sr_buf_append(i == 0 ? out : errs, buf, (size_t) n);
            } else if (n == 0 || (n < 0 && errno != EINTR)) {
                *(i == 0 ? &out_open : &err_open) = false;
            }
        }
    }
    if (rc == 0 && !ssh_proc_wait(p, (int) ((end - sr_now()) * 1000 > 0 ? (end - sr_now()) * 1000 : 0), &status)) {
        rc = sr_error_set(err, SR_ETIMEDOUT, "a command on %s did not end within %.0f s",
                          c->name, timeout_s);
    }
    ssh_proc_free(p);
    close(out_fd);
    close(efd[0]);
    if (rc < 0) {
        return rc;
    }
    if (status < 0) {
        char why[700] = "the command's channel closed";

        ssh_lost(c, why, sizeof why);
        return sr_error_set(err, SR_EIO, "%s", why);
    }
    return status;
}

int
ssh_forward(struct ssh_conn *c, const char *rhost, int rport, int *local_port,
            struct sr_error *err)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct forward *f;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *) &a, &len) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return sr_error_set(err, SR_EIO, "cannot listen on 127.0.0.1: %s", strerror(errno));
    }
    f = xcalloc(1, sizeof *f);
    f->fd = fd;
    snprintf(f->rhost, sizeof f->rhost, "%s", rhost);
    f->rport = rport;
    *local_port = ntohs(a.sin_port);
    pthread_mutex_lock(&c->mu);
    f->next = c->forwards;
    c->forwards = f;
    pthread_mutex_unlock(&c->mu);
    wake(c);
    return 0;
}
