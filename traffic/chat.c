/* chat: every user listens on SR_PORT_CHAT and answers each line it gets
 * with the same line; every user sends short messages at exponential
 * intervals to random peers, one TCP session per message, and records the
 * round-trip time or the failure.
 *
 * Plan: "chat": {"listen": true, "per_min": 6, "peers": ["10.1.0.2", ...],
 *                "timeout_s": 2} */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "services.h"
#include "util.h"

struct chat {
    double mean_s;
    double timeout_s;
    char **peers;
    size_t npeers;
    long seq;
};

/* One message on its way: connect, send, wait for the echo. */
struct session {
    struct chat *chat;
    int fd;
    char peer[64];
    char line[256];
    size_t len, sent, got;
    double t0, t_sent;
    uint64_t timer;
    bool connected;
};

/* A connection accepted by the server side. */
struct conn {
    int fd;
    char buf[1024];
    size_t len;
};

static void send_next(struct tr_agent *a, void *ctx);

static void
session_end(struct tr_agent *a, struct session *s, const char *error)
{
    json_t *m;

    if (error) {
        m = json_pack("{s:b, s:s}", "ok", 0, "error", error);
    } else {
        m = json_pack("{s:b, s:f, s:i}", "ok", 1, "rtt_ms",
                      (tr_mono() - s->t_sent) * 1000.0, "bytes", (int) s->len);
    }
    tr_kpi(a, "chat", s->peer, m);
    if (s->timer) {
        tr_cancel(a, s->timer);
    }
    tr_unwatch(a, s->fd);
    close(s->fd);
    free(s);
}

static void
session_timeout(struct tr_agent *a, void *ctx)
{
    struct session *s = ctx;

    s->timer = 0;
    session_end(a, s, s->connected ? "no answer in time" : "no connection in time");
}

static void
session_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct session *s = ctx;
    char buf[512];
    ssize_t n;

    if (!s->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int soerr = 0;
        socklen_t len = sizeof soerr;

        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr) {
            session_end(a, s, strerror(soerr));
            return;
        }
        s->connected = true;
    }
    if (s->connected && s->sent < s->len && (events & EPOLLOUT)) {
        n = send(fd, s->line + s->sent, s->len - s->sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            session_end(a, s, strerror(errno));
            return;
        }
        if (n > 0) {
            if (s->sent == 0) {
                s->t_sent = tr_mono();
            }
            s->sent += (size_t) n;
        }
        if (s->sent == s->len) {
            tr_rewatch(a, fd, EPOLLIN);
        }
    }
    if (events & EPOLLIN) {
        n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            session_end(a, s, n == 0 ? "closed by the peer" : strerror(errno));
            return;
        }
        s->got += (size_t) n;
        if (s->got >= s->len) {
            session_end(a, s, NULL);
        }
    }
}

static void
send_next(struct tr_agent *a, void *ctx)
{
    struct chat *c = ctx;
    struct session *s = xcalloc(1, sizeof *s);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(SR_PORT_CHAT) };
    size_t words = 3 + (size_t) sr_rng_below(tr_rng(a), 20);

    tr_after(a, tr_exp(a, TR_CHAT, c->mean_s), send_next, c);
    s->chat = c;
    snprintf(s->peer, sizeof s->peer, "%s", c->peers[sr_rng_below(tr_rng(a), c->npeers)]);
    s->len = (size_t) snprintf(s->line, sizeof s->line, "msg %s %ld", tr_host(a), ++c->seq);
    for (size_t i = 0; i < words && s->len + 6 < sizeof s->line; i++) {
        s->len += (size_t) snprintf(s->line + s->len, sizeof s->line - s->len, " w%02d",
                                    (int) sr_rng_below(tr_rng(a), 100));
    }
    s->line[s->len++] = '\n';
    s->t0 = tr_mono();
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || inet_pton(AF_INET, s->peer, &to.sin_addr) != 1) {
        tr_kpi(a, "chat", s->peer, json_pack("{s:b, s:s}", "ok", 0, "error", "bad peer"));
        if (s->fd >= 0) {
            close(s->fd);
        }
        free(s);
        return;
    }
    if (connect(s->fd, (struct sockaddr *) &to, sizeof to) < 0 && errno != EINPROGRESS) {
        int e = errno;

        tr_watch(a, s->fd, 0, session_io, s);
        session_end(a, s, strerror(e));
        return;
    }
    tr_watch(a, s->fd, EPOLLOUT, session_io, s);
    s->timer = tr_after(a, c->timeout_s, session_timeout, s);
}

/* ---- the server side: echo every line ---- */

static void
conn_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct conn *k = ctx;
    ssize_t n = recv(fd, k->buf + k->len, sizeof k->buf - k->len, 0);
    char *nl;

    (void) events;
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        tr_unwatch(a, fd);
        close(fd);
        free(k);
        return;
    }
    k->len += (size_t) n;
    while ((nl = memchr(k->buf, '\n', k->len))) {
        size_t line = (size_t) (nl - k->buf) + 1;

        /* Short lines fit the socket buffer; a reply that does not is
         * dropped with the connection. */
        if (send(fd, k->buf, line, MSG_NOSIGNAL) != (ssize_t) line) {
            tr_unwatch(a, fd);
            close(fd);
            free(k);
            return;
        }
        memmove(k->buf, k->buf + line, k->len - line);
        k->len -= line;
    }
    if (k->len == sizeof k->buf) {
        k->len = 0; /* a line longer than any message: drop it */
    }
}

static void
accept_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    (void) events;
    (void) ctx;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *k;

        if (c < 0) {
            return;
        }
        k = xcalloc(1, sizeof *k);
        k->fd = c;
        tr_watch(a, c, EPOLLIN, conn_io, k);
    }
}

int
tr_chat_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    (void) err;
    struct chat *c = xcalloc(1, sizeof *c);
    json_t *peers = json_object_get(plan, "peers"), *v;
    double per_min = json_number_value(json_object_get(plan, "per_min"));
    size_t i;

    c->timeout_s = json_is_number(json_object_get(plan, "timeout_s"))
                       ? json_number_value(json_object_get(plan, "timeout_s")) : 2.0;
    if (json_is_true(json_object_get(plan, "listen"))) {
        struct sr_error lerr = { 0 };

        /* Without the listener the host still sends its messages. */
        if (tr_listen(a, SR_PORT_CHAT, "chat", accept_io, c, &lerr) < 0) {
            tr_warn(a, "chat", "%s; sending only", lerr.msg);
        }
    }
    json_array_foreach(peers, i, v) {
        if (json_is_string(v)) {
            c->peers = xrealloc(c->peers, (c->npeers + 1) * sizeof *c->peers);
            c->peers[c->npeers++] = xstrdup(json_string_value(v));
        }
    }
    if (per_min > 0 && c->npeers) {
        c->mean_s = 60.0 / per_min;
        tr_after(a, tr_exp(a, TR_CHAT, c->mean_s), send_next, c);
    } else if (per_min > 0) {
        tr_warn(a, "chat", "no peers to send to; only answering");
    }
    return 0;
}
