/* The controller client: requests per backend, parallel sweeps, retries. */
#include "client.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "json.h"
#include "proc.h"
#include "trace.h"
#include "util.h"

struct ctl_client {
    enum ctl_kind kind;
    enum ctl_odl_api api;
    char *base;               /* URL without a trailing slash */
    char *userpwd;            /* NULL: no authentication */
    long timeout_ms;
    int retries;
    bool batch;
    struct ctl_http *http;    /* single requests */
    CURLM *multi;             /* sweeps; its connection cache outlives them */
    struct sr_trace *trace;   /* borrowed; see ctl_config */
};

static const char *const odl_names[CTL_NCOUNTERS] = {
    "packets.received", "packets.transmitted", "bytes.received",  "bytes.transmitted",
    "receive-drops",    "transmit-drops",      "receive-errors",  "transmit-errors",
    "receive-frame-error", "receive-over-run-error", "receive-crc-error", "collision-count",
};
static const char *const columns[CTL_NCOUNTERS] = {
    "packets_received", "packets_transmitted", "bytes_received",  "bytes_transmitted",
    "receive_drops",    "transmit_drops",      "receive_errors",  "transmit_errors",
    "receive_frame_error", "receive_over_run_error", "receive_crc_error", "collision_count",
};

const char *
ctl_counter_odl_name(enum ctl_counter c)
{
    return c < CTL_NCOUNTERS ? odl_names[c] : "?";
}

const char *
ctl_counter_column(enum ctl_counter c)
{
    return c < CTL_NCOUNTERS ? columns[c] : "?";
}

const char *
ctl_kind_name(enum ctl_kind k)
{
    return k == CTL_KIND_ODL ? "odl" : "ryu";
}

struct ctl_client *
ctl_client_new(const struct ctl_config *cfg, struct sr_error *err)
{
    struct ctl_client *c;
    size_t n;

    if (!cfg->url || (strncmp(cfg->url, "http://", 7) && strncmp(cfg->url, "https://", 8))) {
        sr_error_set(err, SR_EINVAL, "controller URL '%s' must start with http:// or https://",
                     cfg->url ? cfg->url : "");
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->kind = cfg->kind;
    c->api = cfg->api;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 2000;
    c->retries = cfg->retries < 0 ? 0 : cfg->retries;
    c->batch = cfg->batch && cfg->kind == CTL_KIND_RYU;
    c->trace = cfg->trace;
    c->base = xstrdup(cfg->url);
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/') {
        c->base[--n] = '\0';
    }
    if (cfg->user) {
        c->userpwd = xasprintf("%s:%s", cfg->user, cfg->password ? cfg->password : "");
    }
    c->http = ctl_http_new(c->timeout_ms, cfg->user, cfg->password, err);
    c->multi = c->http ? curl_multi_init() : NULL;
    if (!c->multi) {
        if (c->http) {
            sr_error_set(err, SR_ELIB, "cannot create a libcurl multi handle");
        }
        ctl_client_free(c);
        return NULL;
    }
    /* Keep a connection per switch being asked, reused from sweep to sweep. */
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 64L);
    return c;
}

void
ctl_client_free(struct ctl_client *c)
{
    if (!c) {
        return;
    }
    if (c->multi) {
        curl_multi_cleanup(c->multi);
    }
    ctl_http_free(c->http);
    sr_free_secret(c->userpwd);
    free(c->base);
    free(c);
}

void
ctl_stats_release(struct ctl_stats *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nflows; i++) {
        free(s->flows[i].match);
        free(s->flows[i].actions);
        free(s->flows[i].id);
    }
    free(s->flows);
    free(s->ports);
    free(s->tables);
    memset(s, 0, sizeof *s);
}

/* ---- URLs ---- */

static char *
odl_node_url(const struct ctl_client *c, uint64_t dpid)
{
    if (c->api == CTL_ODL_RESTCONF) {
        return xasprintf("%s/restconf/operational/opendaylight-inventory:nodes/node/openflow:%llu",
                         c->base, (unsigned long long) dpid);
    }
    return xasprintf("%s/rests/data/opendaylight-inventory:nodes/node=openflow%%3A%llu"
                     "?content=nonconfig",
                     c->base, (unsigned long long) dpid);
}

/* Percent-encodes what may not stand in a path segment (RFC 3986). */
static void
put_segment(struct sr_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char) *s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            sr_buf_putc(b, (char) ch);
        } else {
            sr_buf_printf(b, "%%%02X", ch);
        }
    }
}

static char *
odl_config_url(const struct ctl_client *c, uint64_t dpid, const char *what, uint32_t table,
               const char *id)
{
    struct sr_buf b = SR_BUF_INIT;

    if (c->api == CTL_ODL_RESTCONF) {
        sr_buf_printf(&b, "%s/restconf/config/opendaylight-inventory:nodes/node/openflow:%llu",
                      c->base, (unsigned long long) dpid);
        if (!strcmp(what, "flow")) {
            sr_buf_printf(&b, "/table/%u/flow/", table);
        } else {
            sr_buf_puts(&b, "/meter/");
        }
    } else {
        sr_buf_printf(&b, "%s/rests/data/opendaylight-inventory:nodes/node=openflow%%3A%llu",
                      c->base, (unsigned long long) dpid);
        if (!strcmp(what, "flow")) {
            sr_buf_printf(&b, "/flow-node-inventory:table=%u/flow=", table);
        } else {
            sr_buf_puts(&b, "/flow-node-inventory:meter=");
        }
    }
    put_segment(&b, id);
    return sr_buf_steal(&b);
}

/* ---- single requests with retries ---- */

static int
request(struct ctl_client *c, const char *method, const char *url, const char *body,
        struct sr_buf *resp, struct sr_error *err)
{
    for (int attempt = 0;; attempt++) {
        int rc = ctl_http_request(c->http, method, url, body, resp, true, err);

        /* Retry what may pass: no answer, or a server error. */
        if (rc >= 0 || attempt >= c->retries || err->code == SR_ENOTFOUND ||
            (err->code == SR_EIO && strstr(err->msg, ": HTTP 4"))) {
            return rc < 0 ? rc : 0;
        }
        if (sr_signals_sleep(100 << (attempt < 6 ? attempt : 6))) {
            return rc;
        }
    }
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}

int
ctl_client_switches(struct ctl_client *c, uint64_t **dpids, size_t *n, struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    char *url = c->kind == CTL_KIND_RYU
                    ? xasprintf("%s/stats/switches", c->base)
                : c->api == CTL_ODL_RESTCONF
                    ? xasprintf("%s/restconf/operational/opendaylight-inventory:nodes", c->base)
                    : xasprintf("%s/rests/data/opendaylight-inventory:nodes?content=nonconfig",
                                c->base);
    int rc = request(c, "GET", url, NULL, &body, err);

    if (rc == 0) {
        rc = c->kind == CTL_KIND_RYU ? ctl_ryu_parse_switches(sr_buf_cstr(&body), dpids, n, err)
                                     : ctl_odl_parse_nodes(sr_buf_cstr(&body), dpids, n, err);
    }
    if (rc == 0 && *n) {
        qsort(*dpids, *n, sizeof **dpids, cmp_u64);
    }
    free(url);
    sr_buf_release(&body);
    return rc;
}

int
ctl_client_links(struct ctl_client *c, struct ctl_link **links, size_t *n,
                 struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    char *url = c->kind == CTL_KIND_RYU
                    ? xasprintf("%s/v1.0/topology/links", c->base)
                : c->api == CTL_ODL_RESTCONF
                    ? xasprintf("%s/restconf/operational/network-topology:network-topology/"
                                "topology/flow:1",
                                c->base)
                    : xasprintf("%s/rests/data/network-topology:network-topology/"
                                "topology=flow%%3A1?content=nonconfig",
                                c->base);
    int rc = request(c, "GET", url, NULL, &body, err);

    if (rc == 0) {
        rc = c->kind == CTL_KIND_RYU ? ctl_ryu_parse_links(sr_buf_cstr(&body), links, n, err)
                                     : ctl_odl_parse_links(sr_buf_cstr(&body), links, n, err);
    }
    free(url);
    sr_buf_release(&body);
    return rc;
}

/* ---- flows and meters ---- */

static json_t *
u64_value(uint64_t v)
{
    /* Ryu reads these with int(str(x), 0): a decimal string carries values
     * above 2^63-1 that a JSON integer here cannot. */
    return v <= INT64_MAX ? json_integer((json_int_t) v)
                          : json_sprintf("%llu", (unsigned long long) v);
}

static const char *const ryu_flow_cmds[] = { "add", "modify_strict", "delete_strict" };

/* A /stats/flowentry/<cmd> body. */
static json_t *
ryu_flow_body(const struct ctl_flow_mod *f)
{
    return json_pack("{s:o, s:i, s:i, s:o, s:i, s:i, s:O, s:O}", "dpid", u64_value(f->dpid),
                     "table_id", (int) f->table_id, "priority", (int) f->priority, "cookie",
                     u64_value(f->cookie), "idle_timeout", (int) f->idle_timeout,
                     "hard_timeout", (int) f->hard_timeout, "match",
                     f->match ? f->match : json_object(), "actions",
                     f->actions ? f->actions : json_array());
}

/* The method, URL and body (NULL: none) that carry out 'cmd' for 'f'. */
static int
flow_request(struct ctl_client *c, enum ctl_flow_cmd cmd, const struct ctl_flow_mod *f,
             const char **method, char **url, char **text, struct sr_error *err)
{
    json_t *body;

    *url = *text = NULL;
    if (c->kind == CTL_KIND_RYU) {
        body = ryu_flow_body(f);
        *method = "POST";
        *url = xasprintf("%s/stats/flowentry/%s", c->base, ryu_flow_cmds[cmd]);
        *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        return 0;
    }
    if (!f->id) {
        return sr_error_set(err, SR_EINVAL, "OpenDaylight flows need an id");
    }
    *url = odl_config_url(c, f->dpid, "flow", f->table_id, f->id);
    *method = cmd == CTL_FLOW_DELETE ? "DELETE" : "PUT";
    if (cmd != CTL_FLOW_DELETE) {
        body = ctl_odl_flow_body(f, err);
        if (!body) {
            free(*url);
            *url = NULL;
            return -SR_EINVAL;
        }
        *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
    }
    return 0;
}

int
ctl_client_flow(struct ctl_client *c, enum ctl_flow_cmd cmd, const struct ctl_flow_mod *f,
                struct sr_error *err)
{
    struct sr_buf resp = SR_BUF_INIT;
    const char *method;
    char *url, *text;
    int rc = flow_request(c, cmd, f, &method, &url, &text, err);

    if (rc == 0) {
        rc = request(c, method, url, text, &resp, err);
    }
    free(text);
    free(url);
    sr_buf_release(&resp);
    return rc;
}

int
ctl_client_meter(struct ctl_client *c, bool add, uint64_t dpid, uint32_t meter_id,
                 uint32_t rate_kbps, struct sr_error *err)
{
    struct sr_buf resp = SR_BUF_INIT;
    char *url, *text = NULL, id[16];
    json_t *body = NULL;
    int rc;

    if (c->kind == CTL_KIND_RYU) {
        body = add ? json_pack("{s:o, s:s, s:i, s:[{s:s, s:i}]}", "dpid", u64_value(dpid),
                               "flags", "KBPS", "meter_id", (int) meter_id, "bands", "type",
                               "DROP", "rate", (int) rate_kbps)
                   : json_pack("{s:o, s:i}", "dpid", u64_value(dpid), "meter_id",
                               (int) meter_id);
        url = xasprintf("%s/stats/meterentry/%s", c->base, add ? "add" : "delete");
        text = json_dumps(body, JSON_COMPACT);
        rc = request(c, "POST", url, text, &resp, err);
    } else {
        snprintf(id, sizeof id, "%u", meter_id);
        url = odl_config_url(c, dpid, "meter", 0, id);
        if (add) {
            body = json_pack("{s:[{s:i, s:s, s:{s:[{s:i, s:i, s:i, s:{s:s}}]}}]}",
                             "flow-node-inventory:meter", "meter-id", (int) meter_id, "flags",
                             "meter-kbps", "meter-band-headers", "meter-band-header", "band-id",
                             0, "drop-rate", (int) rate_kbps, "drop-burst-size", 0,
                             "meter-band-types", "flags", "ofpmbt-drop");
            text = json_dumps(body, JSON_COMPACT);
            rc = request(c, "PUT", url, text, &resp, err);
        } else {
            rc = request(c, "DELETE", url, NULL, &resp, err);
        }
    }
    json_decref(body);
    free(text);
    free(url);
    sr_buf_release(&resp);
    return rc;
}

/* ---- sweeps ---- */

enum req_kind { REQ_PORTS, REQ_PORTDESC, REQ_TABLES, REQ_FLOWS, REQ_NODE };

struct req {
    size_t sw;                /* index into the sweep's switches */
    enum req_kind kind;
    const char *method;       /* NULL: GET */
    char *url;
    char *send;               /* the request's body, or NULL */
    CURL *easy;
    struct curl_slist *headers;
    struct sr_buf body;
    char errbuf[CURL_ERROR_SIZE];
    int attempt;
    double retry_at;          /* 0: not waiting for a retry */
    bool done, ok;
    struct sr_error err;
};

static void
start_req(struct ctl_client *c, struct req *r)
{
    if (!r->easy) {
        r->easy = curl_easy_init();
    } else {
        curl_easy_reset(r->easy);
    }
    if (r->headers) {
        curl_slist_free_all(r->headers);
        r->headers = NULL;
    }
    sr_buf_clear(&r->body);
    ctl_http_setup(r->easy, r->method ? r->method : "GET", r->url, r->send, c->timeout_ms,
                   c->userpwd, &r->body, r->errbuf, &r->headers);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_multi_add_handle(c->multi, r->easy);
}

static void
finish_req(struct ctl_client *c, struct req *r, CURLcode rc)
{
    long status = 0;
    bool retryable;

    curl_multi_remove_handle(c->multi, r->easy);
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status <= 299) {
        r->ok = r->done = true;
        return;
    }
    ctl_http_failure(r->method ? r->method : "GET", r->url, rc, r->errbuf, status, &r->body,
                     &r->err);
    retryable = rc != CURLE_OK || status >= 500;
    if (retryable && r->attempt < c->retries) {
        r->retry_at = sr_now() + 0.1 * (double) (1 << (r->attempt < 6 ? r->attempt : 6));
        r->attempt++;
        return;
    }
    r->done = true;
}

/* Runs the requests that are not done yet at once on the multi handle,
 * each retried with backoff as single requests are. */
static void
run_reqs(struct ctl_client *c, struct req *reqs, size_t nreq)
{
    size_t pending;

    pending = 0;
    for (size_t k = 0; k < nreq; k++) {
        if (!reqs[k].done) { /* done already: could not even be written */
            start_req(c, &reqs[k]);
            pending++;
        }
    }
    while (pending) {
        int running = 0, left;
        CURLMsg *msg;
        double now;

        curl_multi_perform(c->multi, &running);
        while ((msg = curl_multi_info_read(c->multi, &left))) {
            struct req *r = NULL;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
            finish_req(c, r, msg->data.result);
            if (r->done) {
                pending--;
            }
        }
        now = sr_now();
        for (size_t k = 0; k < nreq; k++) {
            if (!reqs[k].done && reqs[k].retry_at > 0 && reqs[k].retry_at <= now) {
                reqs[k].retry_at = 0;
                start_req(c, &reqs[k]);
            }
        }
        if (pending) {
            curl_multi_poll(c->multi, NULL, 0, running ? 50 : 10, NULL);
        }
    }
}

static void
release_req(struct req *r)
{
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    sr_buf_release(&r->body);
    free(r->url);
    free(r->send);
}

static int
parse_req(struct ctl_client *c, struct req *r, unsigned want, struct ctl_stats *s,
          struct sr_error *err)
{
    const char *text = sr_buf_cstr(&r->body);

    (void) c;
    switch (r->kind) {
    case REQ_PORTS: return ctl_ryu_parse_port_stats(text, s, err);
    case REQ_PORTDESC: return ctl_ryu_parse_port_desc(text, s, err);
    case REQ_TABLES: return ctl_ryu_parse_tables(text, s, err);
    case REQ_FLOWS: return ctl_ryu_parse_flows(text, s, err);
    case REQ_NODE: return ctl_odl_parse_node(text, want, s, err);
    }
    return 0;
}

/* One request for the whole sweep (the embedded controller's extension). */
static int
batch_sweep(struct ctl_client *c, const uint64_t *dpids, size_t n, unsigned want,
            struct ctl_stats *stats, struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT, u = SR_BUF_INIT;
    char *url;
    int rc;

    sr_buf_printf(&u, "%s/simrun/v1/sweep?want=%s%s%s&dpid=", c->base,
                  want & CTL_WANT_PORTS ? "port," : "", want & CTL_WANT_TABLES ? "table," : "",
                  want & CTL_WANT_FLOWS ? "flow" : "");
    for (size_t i = 0; i < n; i++) {
        sr_buf_printf(&u, "%s%llu", i ? "," : "", (unsigned long long) dpids[i]);
    }
    url = sr_buf_steal(&u);
    rc = request(c, "GET", url, NULL, &body, err);
    if (rc < 0) {
        /* The message names the URL, which lists every DPID: the cause in
         * words instead (what follows the URL). */
        char cause[sizeof err->msg];
        size_t ul = strlen(url);
        const char *after = !strncmp(err->msg, "GET ", 4) && !strncmp(err->msg + 4, url, ul) &&
                                    !strncmp(err->msg + 4 + ul, ": ", 2)
                                ? err->msg + 4 + ul + 2
                                : err->msg;

        sr_strlcpy(cause, after, sizeof cause);
        sr_error_set(err, err->code, "the controller's sweep of %zu switches failed: %s", n,
                     cause);
    }
    if (rc == 0) {
        sr_trace_text(c->trace, "controller.sweep", body.data ? body.data : "", body.len);
        rc = ctl_ryu_parse_sweep(sr_buf_cstr(&body), dpids, n, want, stats, err);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            stats[i].status = rc;
            sr_strlcpy(stats[i].error, err->msg, sizeof stats[i].error);
        }
        rc = (int) n;
    }
    free(url);
    sr_buf_release(&body);
    return rc;
}

int
ctl_client_sweep(struct ctl_client *c, const uint64_t *dpids, size_t n, unsigned want,
                 struct ctl_stats *stats, struct sr_error *err)
{
    struct req *reqs = xcalloc(n * 4 + 1, sizeof *reqs);
    size_t nreq = 0;
    int failed = 0;

    for (size_t i = 0; i < n; i++) {
        memset(&stats[i], 0, sizeof stats[i]);
        stats[i].dpid = dpids[i];
    }
    if (c->batch) {
        free(reqs);
        return batch_sweep(c, dpids, n, want, stats, err);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned long long d = (unsigned long long) dpids[i];

        if (c->kind == CTL_KIND_ODL) {
            reqs[nreq] = (struct req) { .sw = i, .kind = REQ_NODE, .url = odl_node_url(c, dpids[i]) };
            nreq++;
            continue;
        }
        if (want & CTL_WANT_PORTS) {
            reqs[nreq++] = (struct req) { .sw = i, .kind = REQ_PORTS,
                                          .url = xasprintf("%s/stats/port/%llu", c->base, d) };
            reqs[nreq++] = (struct req) { .sw = i, .kind = REQ_PORTDESC,
                                          .url = xasprintf("%s/stats/portdesc/%llu", c->base, d) };
        }
        if (want & CTL_WANT_TABLES) {
            reqs[nreq++] = (struct req) { .sw = i, .kind = REQ_TABLES,
                                          .url = xasprintf("%s/stats/table/%llu", c->base, d) };
        }
        if (want & CTL_WANT_FLOWS) {
            reqs[nreq++] = (struct req) { .sw = i, .kind = REQ_FLOWS,
                                          .url = xasprintf("%s/stats/flow/%llu", c->base, d) };
        }
    }
    run_reqs(c, reqs, nreq);
    for (size_t k = 0; k < nreq; k++) {
        struct req *r = &reqs[k];
        struct ctl_stats *s = &stats[r->sw];
        struct sr_error perr = { 0 };

        if (s->status == 0 && !r->ok) {
            s->status = -r->err.code;
            sr_strlcpy(s->error, r->err.msg, sizeof s->error);
        } else if (s->status == 0 && parse_req(c, r, want, s, &perr) < 0) {
            s->status = -perr.code;
            sr_error_prefix(&perr, "%s", r->url);
            sr_strlcpy(s->error, perr.msg, sizeof s->error);
        }
        release_req(r);
    }
    for (size_t i = 0; i < n; i++) {
        if (stats[i].status != 0 && failed++ == 0) {
            sr_error_set(err, -stats[i].status, "%s", stats[i].error);
        }
    }
    free(reqs);
    return failed;
}

int
ctl_client_operator(struct ctl_client *c, json_t *change, json_t **answer, struct sr_error *err)
{
    struct sr_buf resp = SR_BUF_INIT;
    char *url = xasprintf("%s/simrun/v1/operator", c->base);
    char *text = json_dumps(change, JSON_COMPACT);
    json_t *got = NULL;
    int rc;

    sr_trace(c->trace, "controller.operator", change);
    rc = request(c, "POST", url, text, &resp, err);
    if (rc == 0) {
        sr_trace_text(c->trace, "controller.operator_answer", resp.data ? resp.data : "",
                      resp.len);
        got = json_loads(sr_buf_cstr(&resp), 0, NULL);
        if (!json_is_object(got)) {
            rc = sr_error_set(err, SR_EIO, "POST %s: not a JSON object: %.200s", url,
                              sr_buf_cstr(&resp));
        }
    }
    if (rc == 0 && answer) {
        *answer = got;
        got = NULL;
    }
    json_decref(got);
    sr_buf_release(&resp);
    free(text);
    free(url);
    return rc;
}

/* All of them in one request (the embedded controller's extension). */
static int
batch_flows(struct ctl_client *c, const enum ctl_flow_cmd *cmds, const struct ctl_flow_mod *mods,
            size_t n, struct sr_error *err)
{
    json_t *list = json_array(), *answer = NULL, *failed;
    struct sr_buf resp = SR_BUF_INIT;
    char *url = xasprintf("%s/simrun/v1/flowentries", c->base), *text;
    int rc;

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_pack("{s:s, s:o}", "cmd", ryu_flow_cmds[cmds[i]],
                                              "flow", ryu_flow_body(&mods[i])));
    }
    text = json_dumps(list, JSON_COMPACT);
    sr_trace(c->trace, "controller.flowentries", list);
    rc = request(c, "POST", url, text, &resp, err);
    if (rc == 0) {
        sr_trace_text(c->trace, "controller.flowentries_answer", resp.data ? resp.data : "",
                      resp.len);
        answer = json_loads(sr_buf_cstr(&resp), 0, NULL);
        failed = json_object_get(answer, "failed");
        if (!json_is_array(failed)) {
            rc = sr_error_set(err, SR_EIO, "POST %s: an answer without 'failed': %.200s", url,
                              sr_buf_cstr(&resp));
        } else if (json_array_size(failed)) {
            json_t *first = json_array_get(failed, 0);

            sr_error_set(err, SR_EIO, "POST %s: change %lld: %s", url,
                         (long long) json_integer_value(json_object_get(first, "index")),
                         json_string_value(json_object_get(first, "error")));
            rc = (int) json_array_size(failed);
        }
    } else {
        rc = (int) n;
    }
    json_decref(answer);
    json_decref(list);
    sr_buf_release(&resp);
    free(text);
    free(url);
    return rc;
}

int
ctl_client_flows(struct ctl_client *c, const enum ctl_flow_cmd *cmds,
                 const struct ctl_flow_mod *mods, size_t n, struct sr_error *err)
{
    struct req *reqs;
    int failed = 0;

    if (c->batch && c->kind == CTL_KIND_RYU) {
        return n ? batch_flows(c, cmds, mods, n, err) : 0;
    }
    reqs = xcalloc(n + 1, sizeof *reqs);

    for (size_t i = 0; i < n; i++) {
        if (flow_request(c, cmds[i], &mods[i], &reqs[i].method, &reqs[i].url, &reqs[i].send,
                         &reqs[i].err) < 0) {
            reqs[i].done = true;
        }
    }
    run_reqs(c, reqs, n);
    for (size_t i = 0; i < n; i++) {
        if (!reqs[i].ok && failed++ == 0) {
            sr_error_set(err, reqs[i].err.code ? reqs[i].err.code : SR_EIO, "%s",
                         reqs[i].err.msg);
        }
        release_req(&reqs[i]);
    }
    free(reqs);
    return failed;
}
