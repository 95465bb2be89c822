/* mail: an SMTP server (RFC 5321: EHLO/HELO, MAIL FROM, RCPT TO, DATA,
 * RSET, NOOP, QUIT) on every host, and a client (libcurl's SMTP) sending
 * mails of 0.2 to 2 KB at exponential intervals to random recipients: users
 * send to servers, servers to users.  Both sides record the content's
 * FNV-1a digest, so a delivered mail can be matched with the one sent.
 *
 * Plan: "mail": {"listen": true, "per_min": 1, "to": ["10.0.1.1"]} */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "services.h"
#include "util.h"

static uint64_t
fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char) p[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* ---- the server ---- */

struct smtp {
    int fd;
    struct sr_buf in, data, from;
    bool in_data;
    int rcpts;
    char peer[64];
};

static void
say(struct smtp *s, const char *line)
{
    send(s->fd, line, strlen(line), MSG_NOSIGNAL);
}

static void
smtp_close(struct tr_agent *a, struct smtp *s)
{
    tr_unwatch(a, s->fd);
    close(s->fd);
    sr_buf_release(&s->in);
    sr_buf_release(&s->data);
    sr_buf_release(&s->from);
    free(s);
}

/* One line of the DATA part: "." alone ends it; a leading dot is
 * unstuffed (RFC 5321 §4.5.2). */
static bool
data_line(struct tr_agent *a, struct smtp *s, const char *line, size_t n)
{
    char reply[96];
    uint64_t digest;

    if (n == 3 && !memcmp(line, ".\r\n", 3)) {
        digest = fnv1a(s->data.data ? s->data.data : "", s->data.len);
        tr_kpi(a, "mail", s->peer,
               json_pack("{s:s, s:b, s:I, s:s%, s:o}", "role", "receiver", "ok", 1, "bytes",
                         (json_int_t) s->data.len, "from", sr_buf_cstr(&s->from), s->from.len,
                         "digest", json_sprintf("%016llx", (unsigned long long) digest)));
        snprintf(reply, sizeof reply, "250 OK queued as %016llx\r\n", (unsigned long long) digest);
        say(s, reply);
        s->in_data = false;
        sr_buf_clear(&s->data);
        return true;
    }
    if (line[0] == '.') {
        line++;
        n--;
    }
    sr_buf_append(&s->data, line, n);
    return true;
}

static bool
command(struct tr_agent *a, struct smtp *s, const char *line)
{
    char reply[160];

    if (!strncasecmp(line, "EHLO", 4)) {
        snprintf(reply, sizeof reply, "250-%s\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
                 tr_host(a));
        say(s, reply);
    } else if (!strncasecmp(line, "HELO", 4)) {
        snprintf(reply, sizeof reply, "250 %s\r\n", tr_host(a));
        say(s, reply);
    } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
        sr_buf_clear(&s->from);
        sr_buf_append(&s->from, line + 10, strcspn(line + 10, "\r\n"));
        s->rcpts = 0;
        say(s, "250 OK\r\n");
    } else if (!strncasecmp(line, "RCPT TO:", 8)) {
        s->rcpts++;
        say(s, "250 OK\r\n");
    } else if (!strncasecmp(line, "DATA", 4)) {
        if (!s->rcpts) {
            say(s, "503 need RCPT first\r\n");
        } else {
            s->in_data = true;
            say(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
        }
    } else if (!strncasecmp(line, "RSET", 4) || !strncasecmp(line, "NOOP", 4)) {
        say(s, "250 OK\r\n");
    } else if (!strncasecmp(line, "QUIT", 4)) {
        say(s, "221 Bye\r\n");
        return false;
    } else {
        say(s, "502 command not implemented\r\n");
    }
    return true;
}

static void
smtp_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct smtp *s = ctx;
    char buf[4096], *nl;
    ssize_t n = recv(fd, buf, sizeof buf, 0);

    (void) events;
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        smtp_close(a, s);
        return;
    }
    sr_buf_append(&s->in, buf, (size_t) n);
    while (s->in.len && (nl = memchr(s->in.data, '\n', s->in.len))) {
        size_t len = (size_t) (nl - s->in.data) + 1;
        char *line = xstrndup(s->in.data, len);
        bool go_on = s->in_data ? data_line(a, s, line, len) : command(a, s, line);

        free(line);
        memmove(s->in.data, s->in.data + len, s->in.len - len);
        s->in.len -= len;
        s->in.data[s->in.len] = '\0';
        if (!go_on) {
            smtp_close(a, s);
            return;
        }
    }
    if (s->in.len > 65536) {
        smtp_close(a, s); /* a line that never ends */
    }
}

static void
smtp_accept(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    (void) events;
    (void) ctx;
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        int c = accept4(fd, (struct sockaddr *) &from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct smtp *s;
        char greet[128];

        if (c < 0) {
            return;
        }
        s = xcalloc(1, sizeof *s);
        s->fd = c;
        inet_ntop(AF_INET, &from.sin_addr, s->peer, sizeof s->peer);
        snprintf(greet, sizeof greet, "220 %s ESMTP simtraffic\r\n", tr_host(a));
        say(s, greet);
        tr_watch(a, c, EPOLLIN, smtp_io, s);
    }
}

/* ---- the client ---- */

struct mail {
    struct tr_agent *a;
    struct tr_curl *curl;
    char **to;
    size_t nto;
    double mean_s;
    long seq;
};

struct outgoing {
    struct mail *m;
    char peer[64];
    struct sr_buf msg;
    size_t sent;
    struct curl_slist *rcpt;
    double t0;
};

static size_t
read_msg(char *buf, size_t size, size_t n, void *userp)
{
    struct outgoing *o = userp;
    size_t left = o->msg.len - o->sent, take = size * n < left ? size * n : left;

    memcpy(buf, o->msg.data + o->sent, take);
    o->sent += take;
    return take;
}

static void
sent(void *ctx, void *easy, int result)
{
    struct mail *m = ctx;
    struct outgoing *o = NULL;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &o);
    if (result == CURLE_OK) {
        tr_kpi(m->a, "mail", o->peer,
               json_pack("{s:s, s:b, s:f, s:I, s:o}", "role", "sender", "ok", 1, "session_ms",
                         (tr_mono() - o->t0) * 1000.0, "bytes", (json_int_t) o->msg.len,
                         "digest", json_sprintf("%016llx", (unsigned long long) fnv1a(o->msg.data, o->msg.len))));
    } else {
        tr_kpi(m->a, "mail", o->peer,
               json_pack("{s:s, s:b, s:s}", "role", "sender", "ok", 0, "error",
                         curl_easy_strerror((CURLcode) result)));
    }
    curl_easy_cleanup(easy);
    curl_slist_free_all(o->rcpt);
    sr_buf_release(&o->msg);
    free(o);
}

static void
next_mail(struct tr_agent *a, void *ctx)
{
    struct mail *m = ctx;
    struct outgoing *o = xcalloc(1, sizeof *o);
    CURL *e = curl_easy_init();
    char url[128], from[128], rcpt[128];
    size_t words = 30 + (size_t) sr_rng_below(tr_rng(a), 270);

    tr_after(a, tr_exp(a, TR_MAIL, m->mean_s), next_mail, m);
    o->m = m;
    o->t0 = tr_mono();
    snprintf(o->peer, sizeof o->peer, "%s", m->to[sr_rng_below(tr_rng(a), m->nto)]);
    snprintf(from, sizeof from, "<%s@simrun.test>", tr_host(a));
    snprintf(rcpt, sizeof rcpt, "<postmaster@[%s]>", o->peer);
    m->seq++;
    sr_buf_printf(&o->msg, "From: %s\r\nTo: %s\r\nSubject: simrun mail %ld\r\n"
                           "Message-ID: <%s.%ld@simrun.test>\r\n\r\n",
                  from, rcpt, m->seq, tr_host(a), m->seq);
    for (size_t i = 0; i < words; i++) {
        sr_buf_printf(&o->msg, "word%03d%s", (int) sr_rng_below(tr_rng(a), 1000),
                      i % 12 == 11 ? "\r\n" : " ");
    }
    sr_buf_puts(&o->msg, "\r\n");
    o->rcpt = curl_slist_append(NULL, rcpt);
    snprintf(url, sizeof url, "smtp://%s:%d/%s", o->peer, SR_PORT_SMTP, tr_host(a));
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, o->rcpt);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(e, CURLOPT_READDATA, o);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, o);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    tr_curl_add(m->curl, e);
}

int
tr_mail_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    struct mail *m = xcalloc(1, sizeof *m);
    json_t *to = json_object_get(plan, "to"), *v;
    double per_min = json_number_value(json_object_get(plan, "per_min"));
    const char *self = tr_ip(a);
    size_t i;

    m->a = a;
    if (json_is_true(json_object_get(plan, "listen"))) {
        if (tr_listen(a, SR_PORT_SMTP, "SMTP", smtp_accept, m, err) < 0) {
            return -SR_EIO;
        }
    }
    json_array_foreach(to, i, v) {
        /* libcurl's SMTP client waits for the reply to the end of DATA in a
         * blocking call: mailing this very agent would deadlock its loop
         * until curl's timeout, so its own address is skipped. */
        if (json_is_string(v) && (!self || strcmp(json_string_value(v), self))) {
            m->to = xrealloc(m->to, (m->nto + 1) * sizeof *m->to);
            m->to[m->nto++] = xstrdup(json_string_value(v));
        }
    }
    if (per_min > 0 && m->nto) {
        m->curl = tr_curl_new(a, sent, m, err);
        if (!m->curl) {
            return -SR_ELIB;
        }
        m->mean_s = 60.0 / per_min;
        tr_after(a, tr_exp(a, TR_MAIL, m->mean_s), next_mail, m);
    }
    return 0;
}
