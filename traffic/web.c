/* web: an HTTP/1.1 server on datacenter hosts (keep-alive; "/" is a page
 * that links 11 objects, "/obj/<n>" an object of 2 to 60 KiB) and a
 * client (libcurl, driven by the agent's epoll loop through its socket and
 * timer callbacks) that fetches a page and then its objects in parallel,
 * and reports page time, status, objects, bytes and failures.
 *
 * Plan: "web": {"serve": true, "servers": ["10.0.1.1"], "per_min": 4} */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "services.h"
#include "util.h"

/* ---- the server ---- */

struct hconn {
    int fd;
    char in[4096];
    size_t inlen;
    struct sr_buf out;
    size_t sent;
    bool close_after;
};

static size_t
object_size(unsigned n)
{
    return 2048 + (size_t) ((n * 7919u) % 59u) * 1024;
}

static void
hconn_close(struct tr_agent *a, struct hconn *k)
{
    tr_unwatch(a, k->fd);
    close(k->fd);
    sr_buf_release(&k->out);
    free(k);
}

static void
respond(struct hconn *k, const char *path)
{
    struct sr_buf body = SR_BUF_INIT;
    const char *status = "200 OK", *type = "text/html";
    unsigned n;

    if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
        const unsigned count = 11;

        sr_buf_puts(&body, "<!DOCTYPE html>\n<html><head><title>simrun</title></head><body>\n");
        for (unsigned i = 1; i <= count; i++) {
            sr_buf_printf(&body, "<img src=\"/obj/%u\">\n", i);
        }
        sr_buf_puts(&body, "</body></html>\n");
    } else if (!strncmp(path, "/obj/", 5) && (n = (unsigned) strtoul(path + 5, NULL, 10)) > 0 &&
               n < 100000) {
        size_t size = object_size(n);
        char *blob = xmalloc(size);

        memset(blob, 'a' + (int) (n % 26), size);
        sr_buf_append(&body, blob, size);
        free(blob);
        type = "application/octet-stream";
    } else {
        status = "404 Not Found";
        sr_buf_puts(&body, "not found\n");
        type = "text/plain";
    }
    sr_buf_printf(&k->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                  status, type, body.len, k->close_after ? "Connection: close\r\n" : "");
    sr_buf_append(&k->out, body.data ? body.data : "", body.len);
    sr_buf_release(&body);
}

static void
hconn_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct hconn *k = ctx;
    char *end;

    if (events & EPOLLIN) {
        ssize_t n = recv(fd, k->in + k->inlen, sizeof k->in - k->inlen - 1, 0);

        if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
            hconn_close(a, k);
            return;
        }
        if (n > 0) {
            k->inlen += (size_t) n;
            k->in[k->inlen] = '\0';
        }
        while ((end = strstr(k->in, "\r\n\r\n"))) {
            size_t used = (size_t) (end - k->in) + 4;
            char path[256] = "/";
            size_t m = strcspn(k->in, " "), p;

            end[2] = '\0';
            p = strcspn(k->in + m + 1, " ");
            if (m < sizeof k->in && p < sizeof path) {
                snprintf(path, sizeof path, "%.*s", (int) p, k->in + m + 1);
            }
            k->close_after = strcasestr(k->in, "\nConnection: close") != NULL;
            respond(k, path);
            memmove(k->in, k->in + used, k->inlen - used);
            k->inlen -= used;
            k->in[k->inlen] = '\0';
        }
        if (k->inlen == sizeof k->in - 1) {
            hconn_close(a, k);
            return;
        }
    }
    if (k->sent < k->out.len) {
        ssize_t n = send(fd, k->out.data + k->sent, k->out.len - k->sent, MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN) {
            hconn_close(a, k);
            return;
        }
        k->sent += n > 0 ? (size_t) n : 0;
    }
    if (k->sent == k->out.len) {
        sr_buf_clear(&k->out);
        k->sent = 0;
        if (k->close_after) {
            hconn_close(a, k);
            return;
        }
        tr_rewatch(a, fd, EPOLLIN);
    } else {
        tr_rewatch(a, fd, EPOLLIN | EPOLLOUT);
    }
}

static void
haccept_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    (void) events;
    (void) ctx;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct hconn *k;

        if (c < 0) {
            return;
        }
        k = xcalloc(1, sizeof *k);
        k->fd = c;
        tr_watch(a, c, EPOLLIN, hconn_io, k);
    }
}

/* ---- the client: libcurl on the agent's loop ---- */

struct web {
    struct tr_agent *a;
    struct tr_curl *curl;
    char **servers;
    size_t nservers;
    double mean_s;
};

struct page {
    struct web *w;
    char server[64];
    double t0;
    int pending, objects, failures;
    long status;
    uint64_t bytes;
    struct sr_buf html;
};

struct fetch {
    struct page *page;
    bool is_page;
};


static size_t
on_body(char *data, size_t size, size_t n, void *userp)
{
    struct fetch *f = userp;

    f->page->bytes += size * n;
    if (f->is_page) {
        sr_buf_append(&f->page->html, data, size * n);
    }
    return size * n;
}

static void
add_fetch(struct web *w, struct page *p, const char *path, bool is_page)
{
    CURL *e = curl_easy_init();
    struct fetch *f = xcalloc(1, sizeof *f);
    char url[256];

    f->page = p;
    f->is_page = is_page;
    snprintf(url, sizeof url, "http://%s:%d%s", p->server, SR_PORT_HTTP, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "simtraffic");
    p->pending++;
    tr_curl_add(w->curl, e);
}

static void
page_done(struct web *w, struct page *p)
{
    bool ok = p->status == 200 && p->failures == 0;

    tr_kpi(w->a, "web", p->server,
           ok ? json_pack("{s:b, s:f, s:i, s:i, s:I}", "ok", 1, "page_ms",
                          (tr_mono() - p->t0) * 1000.0, "status", (int) p->status, "objects",
                          p->objects, "bytes", (json_int_t) p->bytes)
              : json_pack("{s:b, s:i, s:i, s:i, s:f}", "ok", 0, "status", (int) p->status,
                          "objects", p->objects, "failures", p->failures, "page_ms",
                          (tr_mono() - p->t0) * 1000.0));
    sr_buf_release(&p->html);
    free(p);
}

/* A transfer ended: a page fetches what it links; the last one reports. */
static void
fetched(void *ctx, void *easy, int result)
{
    struct web *w = ctx;
    struct fetch *f = NULL;
    struct page *p;
    long code = 0;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &f);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    p = f->page;
    if (result != CURLE_OK || code != 200) {
        p->failures++;
    }
    if (f->is_page) {
        p->status = result == CURLE_OK ? code : 0;
        if (p->status == 200) {
            for (const char *s = strstr(sr_buf_cstr(&p->html), "src=\""); s;
                 s = strstr(s + 5, "src=\"")) {
                char path[128];
                size_t n = strcspn(s + 5, "\"");

                if (n < sizeof path) {
                    snprintf(path, sizeof path, "%.*s", (int) n, s + 5);
                    add_fetch(w, p, path, false);
                    p->objects++;
                }
            }
        }
    }
    curl_easy_cleanup(easy);
    free(f);
    if (--p->pending == 0) {
        page_done(w, p);
    }
}

static void
next_page(struct tr_agent *a, void *ctx)
{
    struct web *w = ctx;
    struct page *p = xcalloc(1, sizeof *p);

    tr_after(a, tr_exp(a, TR_WEB, w->mean_s), next_page, w);
    p->w = w;
    p->t0 = tr_mono();
    snprintf(p->server, sizeof p->server, "%s", w->servers[sr_rng_below(tr_rng(a), w->nservers)]);
    add_fetch(w, p, "/", true);
}

int
tr_web_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    struct web *w = xcalloc(1, sizeof *w);
    json_t *servers = json_object_get(plan, "servers"), *v;
    double per_min = json_number_value(json_object_get(plan, "per_min"));
    size_t i;

    w->a = a;
    if (json_is_true(json_object_get(plan, "serve"))) {
        if (tr_listen(a, SR_PORT_HTTP, "HTTP", haccept_io, w, err) < 0) {
            return -SR_EIO;
        }
    }
    json_array_foreach(servers, i, v) {
        if (json_is_string(v)) {
            w->servers = xrealloc(w->servers, (w->nservers + 1) * sizeof *w->servers);
            w->servers[w->nservers++] = xstrdup(json_string_value(v));
        }
    }
    if (per_min > 0 && w->nservers) {
        w->curl = tr_curl_new(a, fetched, w, err);
        if (!w->curl) {
            return -SR_ELIB;
        }
        w->mean_s = 60.0 / per_min;
        tr_after(a, tr_exp(a, TR_WEB, w->mean_s), next_page, w);
    }
    return 0;
}
