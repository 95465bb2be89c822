/* A diagnoser that does no diagnosis, for benchmarks and tests of the
 * window API's client: an HTTP/1.1 server on 127.0.0.1 (keep-alive, any
 * number of connections, one epoll loop) that reads each request whole and
 * answers {"label": "normal"}, after --delay milliseconds (without holding
 * up other connections), or with --garbage an answer that is not a
 * diagnosis.  Prints its port on standard output, runs until SIGTERM.
 *
 *   echo_diagnoser [--port N] [--delay MS] [--garbage]               */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

struct conn {
    int fd;
    struct sr_buf in;
    double due;               /* when the pending answer goes out; 0: none */
    size_t want;              /* bytes of the request under way, 0 until known */
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The length of the first whole request in 'b' (headers and body), or 0. */
static size_t
request_length(const struct sr_buf *b)
{
    const char *end = b->data ? strstr(b->data, "\r\n\r\n") : NULL, *cl;
    size_t head, body = 0;

    if (!end) {
        return 0;
    }
    head = (size_t) (end - b->data) + 4;
    for (cl = b->data; cl && cl < end; cl = strstr(cl + 1, "\r\n")) {
        if (!strncasecmp(cl + 2, "Content-Length:", 15)) {
            body = strtoul(cl + 17, NULL, 10);
            break;
        }
    }
    return b->len >= head + body ? head + body : 0;
}

static void
answer(struct conn *c, bool garbage)
{
    static const char ok[] = "{\"label\":\"normal\",\"confidence\":1}";
    static const char bad[] = "this is not a diagnosis";
    const char *body = garbage ? bad : ok;
    char out[256];
    /* One send: a head and a body sent apart wait for the client's delayed
     * acknowledgement (Nagle), 40 ms each. */
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);

    if (send(c->fd, out, (size_t) n, MSG_NOSIGNAL) < 0) {
        return; /* the client went away; its close comes as an event */
    }
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { { "port", required_argument, NULL, 'p' },
                                          { "delay", required_argument, NULL, 'd' },
                                          { "garbage", no_argument, NULL, 'g' },
                                          { NULL, 0, NULL, 0 } };
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    struct conn **conns = NULL;
    size_t nconns = 0;
    double delay = 0;
    bool garbage = false;
    int64_t v;
    int lfd, ep, c, one = 1;
    struct sigaction sa;

    while ((c = getopt_long(argc, argv, "p:d:g", opts, NULL)) != -1) {
        if (c == 'p' && sr_parse_i64(optarg, 0, 65535, &v)) {
            a.sin_port = htons((uint16_t) v);
        } else if (c == 'd' && sr_parse_i64(optarg, 0, 600000, &v)) {
            delay = (double) v / 1000.0;
        } else if (c == 'g') {
            garbage = true;
        } else {
            fprintf(stderr, "usage: echo_diagnoser [--port N] [--delay MS] [--garbage]\n");
            return 2;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *) &a, sizeof a) < 0 || listen(lfd, 256) < 0 ||
        getsockname(lfd, (struct sockaddr *) &a, &alen) < 0) {
        fprintf(stderr, "echo_diagnoser: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &(struct epoll_event) { .events = EPOLLIN, .data.ptr = NULL });
    while (!stop) {
        struct epoll_event evs[64];
        double t = now(), next = t + 0.1;
        int n;

        /* Answers whose delay is over. */
        for (size_t i = 0; i < nconns; i++) {
            if (conns[i]->due > 0 && conns[i]->due <= t) {
                conns[i]->due = 0;
                answer(conns[i], garbage);
            } else if (conns[i]->due > 0 && conns[i]->due < next) {
                next = conns[i]->due;
            }
        }
        n = epoll_wait(ep, evs, 64, (int) ((next - t) * 1000.0) + 1);
        for (int i = 0; i < n; i++) {
            struct conn *cn = evs[i].data.ptr;
            char buf[65536];
            ssize_t got;

            if (!cn) {
                int fd;

                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    cn = xcalloc(1, sizeof *cn);
                    cn->fd = fd;
                    conns = xrealloc(conns, (nconns + 1) * sizeof *conns);
                    conns[nconns++] = cn;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd,
                              &(struct epoll_event) { .events = EPOLLIN, .data.ptr = cn });
                }
                continue;
            }
            while ((got = recv(cn->fd, buf, sizeof buf, 0)) > 0) {
                sr_buf_append(&cn->in, buf, (size_t) got);
            }
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                for (size_t k = 0; k < nconns; k++) {
                    if (conns[k] == cn) {
                        conns[k] = conns[--nconns];
                        break;
                    }
                }
                close(cn->fd);
                sr_buf_release(&cn->in);
                free(cn);
                continue;
            }
            /* One answer per whole request (clients here send one at a time). */
            while ((cn->want = request_length(&cn->in)) > 0) {
                memmove(cn->in.data, cn->in.data + cn->want, cn->in.len - cn->want);
                cn->in.len -= cn->want;
                cn->in.data[cn->in.len] = '\0';
                if (delay > 0) {
                    cn->due = now() + delay;
                } else {
                    answer(cn, garbage);
                }
            }
        }
    }
    for (size_t i = 0; i < nconns; i++) {
        close(conns[i]->fd);
        sr_buf_release(&conns[i]->in);
        free(conns[i]);
    }
    free(conns);
    close(lfd);
    return 0;
}
