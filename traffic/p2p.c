/* p2p: every user serves chunks of files on SR_PORT_P2P ("GET <file>
 * <offset> <length>\n" answered with exactly <length> bytes whose values
 * follow from the file and the offset); users fetch files of the planned
 * sizes in 256 KiB chunks from up to three random peers at once, check
 * every byte, and report bytes, seconds, throughput and completion.
 *
 * Plan: "p2p": {"listen": true, "per_min": 1, "size_mb": [1, 8],
 *               "peers": ["10.1.0.2", ...]} */
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

#define CHUNK (256 * 1024)
#define STALL_S 10.0

static uint8_t
byte_at(uint32_t file, uint64_t pos)
{
    return (uint8_t) (file * 31u + pos * 7u + (pos >> 9));
}

/* ---- the server ---- */

struct seed {
    int fd;
    char in[256];
    size_t inlen;
    uint32_t file;
    uint64_t pos, end;        /* what is left to send */
};

static void
seed_close(struct tr_agent *a, struct seed *s)
{
    tr_unwatch(a, s->fd);
    close(s->fd);
    free(s);
}

static void
seed_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct seed *s = ctx;

    if ((events & EPOLLIN) && s->pos == s->end) {
        ssize_t n = recv(fd, s->in + s->inlen, sizeof s->in - s->inlen - 1, 0);
        char *nl;

        if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
            seed_close(a, s);
            return;
        }
        s->inlen += n > 0 ? (size_t) n : 0;
        s->in[s->inlen] = '\0';
        if ((nl = strchr(s->in, '\n'))) {
            unsigned long f;
            unsigned long long off, len;
            char *p = s->in + 4, *q;

            *nl = '\0';
            if (strncmp(s->in, "GET ", 4) || (f = strtoul(p, &q, 10), *q != ' ') ||
                (off = strtoull(q + 1, &p, 10), *p != ' ') ||
                (len = strtoull(p + 1, &q, 10), *q) || len > 16 * CHUNK) {
                seed_close(a, s);
                return;
            }
            s->file = (uint32_t) f;
            s->pos = off;
            s->end = off + len;
            s->inlen = 0;
            tr_rewatch(a, fd, EPOLLOUT);
        }
    }
    while (s->pos < s->end) {
        uint8_t buf[16384];
        size_t n = s->end - s->pos < sizeof buf ? (size_t) (s->end - s->pos) : sizeof buf;
        ssize_t w;

        for (size_t i = 0; i < n; i++) {
            buf[i] = byte_at(s->file, s->pos + i);
        }
        w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN) {
                seed_close(a, s);
            }
            return;
        }
        s->pos += (uint64_t) w;
    }
    tr_rewatch(a, fd, EPOLLIN);
}

static void
seed_accept(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    (void) events;
    (void) ctx;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct seed *s;

        if (c < 0) {
            return;
        }
        s = xcalloc(1, sizeof *s);
        s->fd = c;
        tr_watch(a, c, EPOLLIN, seed_io, s);
    }
}

/* ---- the client ---- */

struct p2p {
    double mean_s, min_mb, max_mb;
    char **peers;
    size_t npeers;
    uint32_t next_file;
};

struct transfer;

struct leech {
    struct transfer *t;
    int fd;
    char peer[64];
    long chunk;               /* the chunk being fetched, -1 when idle */
    uint64_t got;             /* bytes of it so far */
    bool connected, dead;
};

struct transfer {
    struct p2p *p;
    uint32_t file;
    uint64_t size;
    long nchunks, next, done;
    long *requeue;
    size_t nrequeue;
    struct leech legs[3];
    size_t nlegs;
    uint64_t bytes;
    bool corrupt;
    double t0, last_progress;
    uint64_t watchdog;
    char peers_used[200];
};

static void transfer_end(struct tr_agent *a, struct transfer *t, const char *error);

static uint64_t
chunk_len(const struct transfer *t, long c)
{
    uint64_t off = (uint64_t) c * CHUNK;

    return t->size - off < CHUNK ? t->size - off : CHUNK;
}

/* Gives an idle leg its next chunk, or nothing when none is left. */
static void
ask(struct tr_agent *a, struct leech *l)
{
    struct transfer *t = l->t;
    char req[96];
    long c;

    if (t->nrequeue) {
        c = t->requeue[--t->nrequeue];
    } else if (t->next < t->nchunks) {
        c = t->next++;
    } else {
        l->chunk = -1;
        return;
    }
    l->chunk = c;
    l->got = 0;
    snprintf(req, sizeof req, "GET %u %llu %llu\n", t->file,
             (unsigned long long) ((uint64_t) c * CHUNK), (unsigned long long) chunk_len(t, c));
    send(l->fd, req, strlen(req), MSG_NOSIGNAL);
    tr_rewatch(a, l->fd, EPOLLIN);
}

static void
leg_fail(struct tr_agent *a, struct leech *l)
{
    struct transfer *t = l->t;
    bool any = false;

    if (l->chunk >= 0) {
        t->requeue = xrealloc(t->requeue, (t->nrequeue + 1) * sizeof *t->requeue);
        t->requeue[t->nrequeue++] = l->chunk;
        l->chunk = -1;
    }
    tr_unwatch(a, l->fd);
    close(l->fd);
    l->dead = true;
    /* The other legs take over what this one had. */
    for (size_t i = 0; i < t->nlegs; i++) {
        if (!t->legs[i].dead) {
            any = true;
            if (t->legs[i].connected && t->legs[i].chunk < 0) {
                ask(a, &t->legs[i]);
            }
        }
    }
    if (!any) {
        transfer_end(a, t, "no peer left to fetch from");
    }
}

static void
leg_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct leech *l = ctx;
    struct transfer *t = l->t;
    uint8_t buf[65536];
    ssize_t n;

    if (!l->connected) {
        int soerr = 0;
        socklen_t len = sizeof soerr;

        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr || (events & (EPOLLERR | EPOLLHUP))) {
            leg_fail(a, l);
            return;
        }
        l->connected = true;
        ask(a, l);
        return;
    }
    n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || l->chunk < 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        leg_fail(a, l); /* closed, or data nobody asked for */
        return;
    }
    for (ssize_t i = 0; i < n && !t->corrupt; i++) {
        t->corrupt = buf[i] != byte_at(t->file, (uint64_t) l->chunk * CHUNK + l->got + (uint64_t) i);
    }
    l->got += (uint64_t) n;
    t->bytes += (uint64_t) n;
    t->last_progress = tr_mono();
    if (l->got >= chunk_len(t, l->chunk)) {
        t->done++;
        if (t->done == t->nchunks) {
            transfer_end(a, t, t->corrupt ? "content differs from the file" : NULL);
            return;
        }
        ask(a, l);
    }
}

static void
watchdog(struct tr_agent *a, void *ctx)
{
    struct transfer *t = ctx;

    t->watchdog = 0;
    if (tr_mono() - t->last_progress > STALL_S) {
        transfer_end(a, t, "no progress for 10 s");
        return;
    }
    t->watchdog = tr_after(a, 1.0, watchdog, t);
}

static void
transfer_end(struct tr_agent *a, struct transfer *t, const char *error)
{
    double secs = tr_mono() - t->t0;

    if (error) {
        tr_kpi(a, "p2p", t->peers_used,
               json_pack("{s:b, s:s, s:I, s:I, s:b}", "ok", 0, "error", error, "bytes",
                         (json_int_t) t->bytes, "size", (json_int_t) t->size, "complete", 0));
    } else {
        tr_kpi(a, "p2p", t->peers_used,
               json_pack("{s:b, s:b, s:I, s:I, s:f, s:f, s:i}", "ok", 1, "complete", 1, "bytes",
                         (json_int_t) t->bytes, "size", (json_int_t) t->size, "seconds", secs,
                         "throughput_mbps", (double) t->bytes * 8.0 / 1e6 / secs, "peers",
                         (int) t->nlegs));
    }
    for (size_t i = 0; i < t->nlegs; i++) {
        if (!t->legs[i].dead) {
            tr_unwatch(a, t->legs[i].fd);
            close(t->legs[i].fd);
        }
    }
    if (t->watchdog) {
        tr_cancel(a, t->watchdog);
    }
    free(t->requeue);
    free(t);
}

static void
next_transfer(struct tr_agent *a, void *ctx)
{
    struct p2p *p = ctx;
    struct transfer *t = xcalloc(1, sizeof *t);
    size_t want = p->npeers < 3 ? p->npeers : 3;
    size_t *pick = xcalloc(p->npeers, sizeof *pick);

    tr_after(a, tr_exp(a, TR_P2P, p->mean_s), next_transfer, p);
    t->p = p;
    t->file = ++p->next_file;
    t->size = (uint64_t) (sr_rng_uniform(tr_rng(a), p->min_mb, p->max_mb) * 1e6);
    t->nchunks = (long) ((t->size + CHUNK - 1) / CHUNK);
    t->t0 = t->last_progress = tr_mono();
    for (size_t i = 0; i < p->npeers; i++) {
        pick[i] = i;
    }
    sr_rng_shuffle(tr_rng(a), pick, p->npeers, sizeof *pick);
    for (size_t i = 0; i < want; i++) {
        struct leech *l = &t->legs[t->nlegs];
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(SR_PORT_P2P) };
        size_t used = strlen(t->peers_used);

        l->t = t;
        l->chunk = -1;
        snprintf(l->peer, sizeof l->peer, "%s", p->peers[pick[i]]);
        snprintf(t->peers_used + used, sizeof t->peers_used - used, "%s%s", used ? "," : "",
                 l->peer);
        l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        inet_pton(AF_INET, l->peer, &to.sin_addr);
        t->nlegs++;
        if (l->fd < 0 ||
            (connect(l->fd, (struct sockaddr *) &to, sizeof to) < 0 && errno != EINPROGRESS)) {
            if (l->fd >= 0) {
                close(l->fd);
            }
            l->dead = true;
            continue;
        }
        tr_watch(a, l->fd, EPOLLOUT, leg_io, l);
    }
    free(pick);
    t->watchdog = tr_after(a, 1.0, watchdog, t);
}

int
tr_p2p_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    struct p2p *p = xcalloc(1, sizeof *p);
    json_t *peers = json_object_get(plan, "peers"), *size = json_object_get(plan, "size_mb"), *v;
    double per_min = json_number_value(json_object_get(plan, "per_min"));
    size_t i;

    p->min_mb = json_number_value(json_array_get(size, 0));
    p->max_mb = json_number_value(json_array_get(size, 1));
    if (p->min_mb <= 0 || p->max_mb < p->min_mb) {
        p->min_mb = p->max_mb = 1;
    }
    if (json_is_true(json_object_get(plan, "listen"))) {
        if (tr_listen(a, SR_PORT_P2P, "p2p", seed_accept, p, err) < 0) {
            return -SR_EIO;
        }
    }
    json_array_foreach(peers, i, v) {
        if (json_is_string(v)) {
            p->peers = xrealloc(p->peers, (p->npeers + 1) * sizeof *p->peers);
            p->peers[p->npeers++] = xstrdup(json_string_value(v));
        }
    }
    if (per_min > 0 && p->npeers) {
        p->mean_s = 60.0 / per_min;
        tr_after(a, tr_exp(a, TR_P2P, p->mean_s), next_transfer, p);
    }
    return 0;
}
