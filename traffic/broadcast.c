/* broadcast: announcements sent by UDP broadcast at a fixed interval;
 * receivers count them per sender and report the counts every interval.
 *
 * Plan: "broadcast": {"every_s": 5, "address": "10.255.255.255",
 *                     "send": true, "receive": true} */
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

struct sender_count {
    char ip[64];
    long received;
};

struct bcast {
    double every_s;
    int send_fd, recv_fd;
    struct sockaddr_in to;
    long seq;
    struct sender_count *counts;
    size_t ncounts;
};

static void
announce(struct tr_agent *a, void *ctx)
{
    struct bcast *b = ctx;
    char msg[128];
    int n = snprintf(msg, sizeof msg, "announce %s %ld", tr_host(a), ++b->seq);

    tr_after(a, b->every_s / tr_load(a), announce, b);
    if (sendto(b->send_fd, msg, (size_t) n, 0, (struct sockaddr *) &b->to, sizeof b->to) < 0) {
        tr_kpi(a, "broadcast", "", json_pack("{s:s, s:b, s:s}", "role", "sender", "ok", 0,
                                             "error", strerror(errno)));
    }
}

static void
receive_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct bcast *b = ctx;
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    char buf[256], ip[64];

    (void) events;
    while (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len) > 0) {
        size_t i;

        inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
        for (i = 0; i < b->ncounts && strcmp(b->counts[i].ip, ip); i++) {
        }
        if (i == b->ncounts) {
            b->counts = xrealloc(b->counts, (b->ncounts + 1) * sizeof *b->counts);
            memset(&b->counts[i], 0, sizeof b->counts[i]);
            snprintf(b->counts[i].ip, sizeof b->counts[i].ip, "%s", ip);
            b->ncounts++;
        }
        b->counts[i].received++;
        len = sizeof from;
    }
    (void) a;
}

/* Every interval: how many announcements came from each sender. */
static void
report(struct tr_agent *a, void *ctx)
{
    struct bcast *b = ctx;

    tr_after(a, b->every_s, report, b);
    for (size_t i = 0; i < b->ncounts; i++) {
        tr_kpi(a, "broadcast", b->counts[i].ip,
               json_pack("{s:s, s:I, s:f}", "role", "receiver", "received",
                         (json_int_t) b->counts[i].received, "interval_s", b->every_s));
        b->counts[i].received = 0;
    }
}

int
tr_broadcast_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    struct bcast *b = xcalloc(1, sizeof *b);
    const char *addr = json_string_value(json_object_get(plan, "address"));
    int one = 1;

    b->every_s = json_is_number(json_object_get(plan, "every_s"))
                     ? json_number_value(json_object_get(plan, "every_s")) : 5.0;
    b->send_fd = b->recv_fd = -1;
    if (b->every_s <= 0) {
        free(b);
        return sr_error_set(err, SR_EINVAL, "'every_s' must be positive");
    }
    if (!json_is_false(json_object_get(plan, "send"))) {
        b->to = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(SR_PORT_BROADCAST) };
        if (!addr || inet_pton(AF_INET, addr, &b->to.sin_addr) != 1) {
            free(b);
            return sr_error_set(err, SR_EINVAL, "invalid broadcast address '%s'",
                                addr ? addr : "");
        }
        b->send_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (b->send_fd < 0 ||
            setsockopt(b->send_fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
            free(b);
            return sr_error_set(err, SR_EIO, "cannot open a broadcast socket: %s",
                                strerror(errno));
        }
        tr_after(a, sr_rng_uniform(tr_rng(a), 0, b->every_s), announce, b);
    }
    if (!json_is_false(json_object_get(plan, "receive"))) {
        struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(SR_PORT_BROADCAST) };

        b->recv_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(b->recv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(b->recv_fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
        if (b->recv_fd < 0 || bind(b->recv_fd, (struct sockaddr *) &at, sizeof at) < 0) {
            return sr_error_set(err, SR_EIO, "cannot listen on UDP port %d: %s",
                                SR_PORT_BROADCAST, strerror(errno));
        }
        tr_watch(a, b->recv_fd, EPOLLIN, receive_io, b);
        tr_after(a, b->every_s, report, b);
    }
    return 0;
}
