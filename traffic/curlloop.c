/* libcurl on the agent's epoll loop: a multi handle whose sockets and
 * timer are the loop's, shared by the services whose clients are libcurl
 * (web, mail). */
#include <curl/curl.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "agent.h"
#include "util.h"

struct tr_curl {
    struct tr_agent *a;
    CURLM *multi;
    uint64_t timer;
    tr_curl_done_fn *done;
    void *ctx;
};

static void
drain(struct tr_curl *c)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left))) {
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_multi_remove_handle(c->multi, e);
        c->done(c->ctx, e, rc);
    }
}

static void
sock_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct tr_curl *c = ctx;
    int running, flags = 0;

    (void) a;
    flags |= events & EPOLLIN ? CURL_CSELECT_IN : 0;
    flags |= events & EPOLLOUT ? CURL_CSELECT_OUT : 0;
    flags |= events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    drain(c);
}

static int
on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct tr_curl *c = userp;
    uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

    (void) e;
    if (what == CURL_POLL_REMOVE) {
        tr_unwatch(c->a, s);
        curl_multi_assign(c->multi, s, NULL);
    } else if (!socketp) {
        tr_watch(c->a, s, ev, sock_io, c);
        curl_multi_assign(c->multi, s, c);
    } else {
        tr_rewatch(c->a, s, ev);
    }
    return 0;
}

static void
on_due(struct tr_agent *a, void *ctx)
{
    struct tr_curl *c = ctx;
    int running;

    (void) a;
    c->timer = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(c);
}

static int
on_timer(CURLM *m, long timeout_ms, void *userp)
{
    struct tr_curl *c = userp;

    (void) m;
    if (c->timer) {
        tr_cancel(c->a, c->timer);
        c->timer = 0;
    }
    if (timeout_ms >= 0) {
        c->timer = tr_after(c->a, (double) timeout_ms / 1000.0, on_due, c);
    }
    return 0;
}

struct tr_curl *
tr_curl_new(struct tr_agent *a, tr_curl_done_fn *done, void *ctx, struct sr_error *err)
{
    struct tr_curl *c;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        sr_error_set(err, SR_ELIB, "cannot start libcurl");
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->a = a;
    c->done = done;
    c->ctx = ctx;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        sr_error_set(err, SR_ELIB, "cannot create a libcurl multi handle");
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void
tr_curl_add(struct tr_curl *c, void *easy)
{
    curl_multi_add_handle(c->multi, easy);
}
