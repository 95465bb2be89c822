/* The window API's client: a ring of the last sweeps' rows, windows built
 * from it on the collector's thread, and a thread that posts them with a
 * libcurl multi handle and writes the answers. */
#include "diagnoser.h"

#include <curl/curl.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "collector.h"
#include "files.h"
#include "proc.h"
#include "trace.h"
#include "util.h"


/* A sweep's rows, without the truth, kept as JSON text ("{...},{...}"):
 * each sweep is serialized once, however many windows it is part of. */
struct sweep {
    long k;
    double t_s;
    size_t nsamples;
    struct sr_buf samples, ports, flows;
};

/* A window waiting to be posted, or under way. */
struct item {
    long seq;
    double from_s, to_s;
    char *body;
    json_t *truth;            /* {"label", "fault_id", "target", "phase"} */
    double queued;            /* sr_now() */
    /* while under way */
    CURL *curl;
    struct curl_slist *headers;
    struct sr_buf resp;
    char errbuf[CURL_ERROR_SIZE];
    double sent;
};

struct dg_sink {
    struct dg_config cfg;
    char *url, *session, *out_path;
    /* the collector's side */
    struct sweep cur;         /* rows of the sweep being written */
    struct sweep *ring;
    size_t nring, cap_ring;
    double next_window;       /* t_s the next window is due, -inf before the first */
    long seq;
    char *topology;           /* cfg.topology as text, NULL: none */
    bool topology_sent;
    /* shared with the thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* queue changed (either way) */
    struct item **queue;
    size_t nqueue, cap_queue;
    bool stopping;
    double stop_deadline;     /* sr_now() after which what is left is given up */
    struct dg_stats st;
    double *lat;
    size_t nlat, cap_lat;
    struct sr_error werr;     /* the first failed write of diagnoses.jsonl */
    FILE *windows;            /* cfg.windows_path */
    char *windows_path;
    /* the thread's own */
    pthread_t thread;
    bool started;
    FILE *out;
    CURLM *multi;
    struct item **busy;
    size_t nbusy;
};

/* Appends 'row' without its truth columns to the text 'b'. */
static void
append_row(struct sr_buf *b, json_t *row)
{
    json_t *copy = json_copy(row);
    char *text;

    for (const char *const *c = col_label_cols; *c; c++) {
        json_object_del(copy, *c);
    }
    text = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text) {
        if (b->len) {
            sr_buf_putc(b, ',');
        }
        sr_buf_puts(b, text);
        free(text);
    }
    json_decref(copy);
}

static void
sweep_clear(struct sweep *s)
{
    sr_buf_release(&s->samples);
    sr_buf_release(&s->ports);
    sr_buf_release(&s->flows);
    memset(s, 0, sizeof *s);
}

static void
item_free(struct item *it)
{
    if (!it) {
        return;
    }
    free(it->body);
    json_decref(it->truth);
    sr_buf_release(&it->resp);
    if (it->headers) {
        curl_slist_free_all(it->headers);
    }
    if (it->curl) {
        curl_easy_cleanup(it->curl);
    }
    free(it);
}

/* ---- the collector's side ---- */

static void
dg_row(void *ctx, const char *table, json_t *row)
{
    struct dg_sink *s = ctx;

    if (!strcmp(table, "samples")) {
        append_row(&s->cur.samples, row);
        s->cur.nsamples++;
    } else if (!strcmp(table, "ports") && s->cfg.ports) {
        append_row(&s->cur.ports, row);
    } else if (!strcmp(table, "flows") && s->cfg.flows) {
        append_row(&s->cur.flows, row);
    }
}

/* Appends "[" fragments of 'table' of the ring's sweeps "]" to 'b'. */
static void
rows_of(struct dg_sink *s, struct sr_buf *b, size_t field, size_t first)
{
    bool any = false;

    sr_buf_putc(b, '[');
    for (size_t i = first; i < s->nring; i++) {
        const struct sr_buf *part = (const struct sr_buf *) ((const char *) &s->ring[i] + field);

        if (part->len) {
            if (any) {
                sr_buf_putc(b, ',');
            }
            sr_buf_append(b, part->data, part->len);
            any = true;
        }
    }
    sr_buf_putc(b, ']');
}

/* Puts 'it' on the queue; a full queue drops its oldest window, or, with
 * 'block', waits for room. */
static void
enqueue(struct dg_sink *s, struct item *it)
{
    pthread_mutex_lock(&s->mu);
    while (s->cfg.block && s->nqueue >= (size_t) s->cfg.queue_max && !s->stopping) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    if (s->nqueue >= (size_t) s->cfg.queue_max) {
        item_free(s->queue[0]);
        memmove(s->queue, s->queue + 1, (s->nqueue - 1) * sizeof *s->queue);
        s->nqueue--;
        s->st.dropped++;
    }
    xgrow((void **) &s->queue, &s->cap_queue, s->nqueue + 1, sizeof *s->queue);
    s->queue[s->nqueue++] = it;
    s->st.windows++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Writes the window and its truth to the windows file (for training). */
static void
dump_window(struct dg_sink *s, const struct item *it)
{
    char *truth = json_dumps(it->truth, JSON_COMPACT);

    if (!s->werr.code &&
        (fprintf(s->windows, "{\"truth\":%s,\"window\":%s}\n", truth ? truth : "null",
                 it->body) < 0 ||
         fflush(s->windows) != 0)) {
        int e = errno ? errno : EIO;

        sr_error_set(&s->werr, sr_write_code(e), "cannot write '%s': %s", s->windows_path,
                     strerror(e));
    }
    free(truth);
}

static void
build_window(struct dg_sink *s, double t_s, const struct col_truth *truth)
{
    struct item *it = xcalloc(1, sizeof *it);
    struct sr_buf body = SR_BUF_INIT;

    it->seq = ++s->seq;
    it->from_s = s->nring ? s->ring[0].t_s : t_s;
    it->to_s = t_s;
    /* The body is composed from the sweeps' text: no row is serialized
     * twice.  Its shape is docs/protocols/diagnoser-window.schema.json. */
    sr_buf_puts(&body, "{\"api\":\"simrun.window/1\",\"session\":");
    {
        json_t *str = json_string(s->session);
        char *q = json_dumps(str, JSON_ENCODE_ANY);

        sr_buf_puts(&body, q ? q : "\"\"");
        free(q);
        json_decref(str);
    }
    sr_buf_printf(&body, ",\"seq\":%ld,\"from_s\":%.3f,\"to_s\":%.3f,\"interval_s\":%.3f", it->seq,
                  it->from_s, it->to_s, s->cfg.interval_s);
    if (!s->topology_sent && s->topology) {
        sr_buf_puts(&body, ",\"topology\":");
        sr_buf_puts(&body, s->topology);
        s->topology_sent = true;
    }
    sr_buf_puts(&body, ",\"sweeps\":[");
    for (size_t i = 0; i < s->nring; i++) {
        sr_buf_printf(&body, "%s{\"sweep\":%ld,\"t_s\":%.3f,\"rows\":%zu}", i ? "," : "",
                      s->ring[i].k, s->ring[i].t_s, s->ring[i].nsamples);
    }
    sr_buf_puts(&body, "],\"samples\":");
    rows_of(s, &body, offsetof(struct sweep, samples), 0);
    if (s->cfg.ports) {
        sr_buf_puts(&body, ",\"ports\":");
        rows_of(s, &body, offsetof(struct sweep, ports), 0);
    }
    if (s->cfg.flows) {
        sr_buf_puts(&body, ",\"flows\":");
        rows_of(s, &body, offsetof(struct sweep, flows), s->nring ? s->nring - 1 : 0);
    }
    sr_buf_putc(&body, '}');
    if (s->cfg.trace) {
        sr_trace_text(s->cfg.trace, "diagnoser.window", body.data, body.len);
    }
    it->body = sr_buf_steal(&body);
    it->truth = json_pack("{s:s, s:i, s:s, s:s}", "label", truth->label, "fault_id",
                          truth->fault_id, "target", truth->target, "phase", truth->phase);
    it->queued = sr_now();
    if (s->windows) {
        dump_window(s, it);
    }
    if (s->cfg.url) {
        enqueue(s, it);
    } else {
        s->st.windows++;
        item_free(it);
    }
}

static void
dg_sweep(void *ctx, long k, double t_s, const struct col_truth *truth)
{
    struct dg_sink *s = ctx;
    size_t old = 0;
    double half = s->cfg.interval_s > 0 ? s->cfg.interval_s / 2 : 1e-6;

    s->cur.k = k;
    s->cur.t_s = t_s;
    xgrow((void **) &s->ring, &s->cap_ring, s->nring + 1, sizeof *s->ring);
    s->ring[s->nring++] = s->cur;
    memset(&s->cur, 0, sizeof s->cur);
    /* The window holds the sweeps of the last window_s seconds: with sweeps
     * a little early or late, half an interval decides, so a 10-s window of
     * 1-s sweeps always holds ten. */
    while (old < s->nring && s->ring[old].t_s <= t_s - s->cfg.window_s + half) {
        sweep_clear(&s->ring[old++]);
    }
    memmove(s->ring, s->ring + old, (s->nring - old) * sizeof *s->ring);
    s->nring -= old;
    /* One window every every_s seconds, on a grid that a sweep's jitter
     * does not move. */
    if (t_s >= s->next_window - half) {
        s->next_window = isfinite(s->next_window) ? s->next_window + s->cfg.every_s
                                                  : t_s + s->cfg.every_s;
        if (s->next_window < t_s + half) {
            s->next_window = t_s + s->cfg.every_s; /* after a gap */
        }
        build_window(s, t_s, truth);
    }
}

/* ---- the thread ---- */

static size_t
on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct item *it = ctx;

    if (it->resp.len + size * n > 1024 * 1024) {
        return 0; /* an answer is a few hundred bytes: refuse a flood */
    }
    sr_buf_append(&it->resp, data, size * n);
    return size * n;
}

static bool
start_one(struct dg_sink *s, struct item *it)
{
    it->curl = curl_easy_init();
    if (!it->curl) {
        return false;
    }
    it->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip before each window. */
    it->headers = curl_slist_append(it->headers, "Expect:");
    curl_easy_setopt(it->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(it->curl, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(it->curl, CURLOPT_HTTPHEADER, it->headers);
    curl_easy_setopt(it->curl, CURLOPT_TIMEOUT_MS, s->cfg.timeout_ms);
    curl_easy_setopt(it->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(it->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(it->curl, CURLOPT_WRITEDATA, it);
    curl_easy_setopt(it->curl, CURLOPT_ERRORBUFFER, it->errbuf);
    curl_easy_setopt(it->curl, CURLOPT_PRIVATE, it);
    /* The diagnoser is HTTP only, no redirects elsewhere. */
    curl_easy_setopt(it->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    it->sent = sr_now();
    curl_multi_add_handle(s->multi, it->curl);
    return true;
}

/* What an answer says, or why it is not an answer: fills 'rec'. */
static bool
read_answer(struct dg_sink *s, struct item *it, CURLcode rc, json_t *rec)
{
    long status = 0;
    json_t *ans, *label, *target, *conf;
    bool ok = false;

    curl_easy_getinfo(it->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        json_object_set_new(rec, "error", json_sprintf("%s", it->errbuf[0] ? it->errbuf
                                                                          : curl_easy_strerror(rc)));
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            s->st.timeouts++;
        }
        return false;
    }
    sr_trace_text(s->cfg.trace, "diagnoser.answer", it->resp.data ? it->resp.data : "",
                  it->resp.len);
    if (status < 200 || status > 299) {
        json_object_set_new(rec, "error", json_sprintf("HTTP %ld", status));
        return false;
    }
    ans = json_loadb(it->resp.data ? it->resp.data : "", it->resp.len, 0, NULL);
    label = json_object_get(ans, "label");
    target = json_object_get(ans, "target");
    conf = json_object_get(ans, "confidence");
    if (!json_is_string(label) || !json_string_length(label) ||
        (target && !json_is_string(target) && !json_is_null(target)) ||
        (conf && !json_is_null(conf) &&
         (!json_is_number(conf) || json_number_value(conf) < 0 || json_number_value(conf) > 1))) {
        json_object_set_new(rec, "error", json_string("the answer is not a diagnosis "
                                                      "({\"label\": string, \"target\"?: "
                                                      "string, \"confidence\"?: 0..1})"));
    } else {
        json_object_set(rec, "label", label);
        json_object_set(rec, "target", json_is_string(target) ? target : json_null());
        json_object_set(rec, "confidence", conf && json_is_number(conf) ? conf : json_null());
        ok = true;
    }
    json_decref(ans);
    return ok;
}

static void
write_record(struct dg_sink *s, json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(10));

    if (!s->werr.code && s->out &&
        (!text || fputs(text, s->out) == EOF || fputc('\n', s->out) == EOF ||
         fflush(s->out) != 0)) {
        int e = errno ? errno : EIO;

        sr_error_set(&s->werr, sr_write_code(e), "cannot write '%s': %s", s->out_path,
                     strerror(e));
    }
    free(text);
}

static void
finish_one(struct dg_sink *s, struct item *it, CURLcode rc)
{
    double latency = (sr_now() - it->sent) * 1000.0;
    json_t *rec = json_pack("{s:I, s:f, s:f, s:f, s:o}", "seq", (json_int_t) it->seq, "from_s",
                            it->from_s, "to_s", it->to_s, "latency_ms",
                            round(latency * 10) / 10, "truth", json_incref(it->truth));
    bool ok = read_answer(s, it, rc, rec);

    pthread_mutex_lock(&s->mu);
    if (ok) {
        s->st.answers++;
        xgrow((void **) &s->lat, &s->cap_lat, s->nlat + 1, sizeof *s->lat);
        s->lat[s->nlat++] = latency;
    } else {
        s->st.errors++;
    }
    pthread_mutex_unlock(&s->mu);
    write_record(s, rec);
    json_decref(rec);
}

/* Records a window that was never answered. */
static void
give_up(struct dg_sink *s, struct item *it, const char *why)
{
    json_t *rec = json_pack("{s:I, s:f, s:f, s:n, s:s, s:O}", "seq", (json_int_t) it->seq,
                            "from_s", it->from_s, "to_s", it->to_s, "latency_ms", "error", why,
                            "truth", it->truth);

    pthread_mutex_lock(&s->mu);
    s->st.errors++;
    pthread_mutex_unlock(&s->mu);
    write_record(s, rec);
    json_decref(rec);
}

static void *
worker(void *arg)
{
    struct dg_sink *s = arg;

    for (;;) {
        CURLMsg *m;
        int left, running = 0;
        bool stop, late;

        pthread_mutex_lock(&s->mu);
        while (!s->stopping && !s->nqueue && !s->nbusy) {
            pthread_cond_wait(&s->cv, &s->mu);
        }
        stop = s->stopping;
        late = stop && sr_now() > s->stop_deadline;
        while (!late && s->nqueue && s->nbusy < (size_t) s->cfg.concurrency) {
            struct item *it = s->queue[0];

            memmove(s->queue, s->queue + 1, (s->nqueue - 1) * sizeof *s->queue);
            s->nqueue--;
            s->busy[s->nbusy++] = it;
            s->st.sent++;
            pthread_cond_broadcast(&s->cv); /* room in the queue */
            pthread_mutex_unlock(&s->mu);
            if (!start_one(s, it)) {
                give_up(s, it, "cannot start a request");
                pthread_mutex_lock(&s->mu);
                s->nbusy--;
                pthread_mutex_unlock(&s->mu);
                item_free(it);
            }
            pthread_mutex_lock(&s->mu);
        }
        if (late || (stop && !s->nqueue && !s->nbusy)) {
            /* What is still there at the deadline is given up. */
            while (s->nqueue) {
                struct item *it = s->queue[--s->nqueue];

                pthread_mutex_unlock(&s->mu);
                give_up(s, it, "not sent: the run ended first");
                item_free(it);
                pthread_mutex_lock(&s->mu);
            }
            while (s->nbusy) {
                struct item *it = s->busy[--s->nbusy];

                pthread_mutex_unlock(&s->mu);
                curl_multi_remove_handle(s->multi, it->curl);
                give_up(s, it, "no answer before the run ended");
                item_free(it);
                pthread_mutex_lock(&s->mu);
            }
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        pthread_mutex_unlock(&s->mu);
        curl_multi_perform(s->multi, &running);
        while ((m = curl_multi_info_read(s->multi, &left))) {
            struct item *it = NULL;

            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &it);
            finish_one(s, it, m->data.result);
            curl_multi_remove_handle(s->multi, it->curl);
            pthread_mutex_lock(&s->mu);
            for (size_t i = 0; i < s->nbusy; i++) {
                if (s->busy[i] == it) {
                    s->busy[i] = s->busy[--s->nbusy];
                    break;
                }
            }
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            item_free(it);
        }
        if (running) {
            curl_multi_poll(s->multi, NULL, 0, 50, NULL);
        }
    }
}

/* ---- life cycle ---- */

struct dg_sink *
dg_sink_new(const struct dg_config *cfg, struct sr_error *err)
{
    struct dg_sink *s = xcalloc(1, sizeof *s);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(s);
        sr_error_set(err, SR_ELIB, "cannot initialise libcurl");
        return NULL;
    }
    s->cfg = *cfg;
    s->cfg.concurrency = cfg->concurrency > 0 ? cfg->concurrency : 1;
    s->cfg.queue_max = cfg->queue_max > 0 ? cfg->queue_max : 8;
    s->cfg.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 2000;
    s->url = cfg->url ? xstrdup(cfg->url) : NULL;
    s->session = xstrdup(cfg->session ? cfg->session : "");
    s->out_path = cfg->out_path ? xstrdup(cfg->out_path) : NULL;
    s->windows_path = cfg->windows_path ? xstrdup(cfg->windows_path) : NULL;
    /* The caller's topology may go once this returns: its text is kept. */
    s->topology = cfg->topology ? json_dumps(cfg->topology, JSON_COMPACT | JSON_PRESERVE_ORDER)
                                : NULL;
    s->cfg.topology = NULL;
    s->cfg.url = s->url;
    s->cfg.session = s->session;
    s->cfg.out_path = s->out_path;
    s->next_window = -INFINITY;
    s->busy = xcalloc((size_t) s->cfg.concurrency + 1, sizeof *s->busy);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (s->windows_path && !(s->windows = sr_fopen_new(s->windows_path, false, err))) {
        dg_sink_ops.free(s);
        return NULL;
    }
    if (!s->url) {
        return s; /* windows to a file only */
    }
    s->out = sr_fopen_new(s->out_path, false, err);
    s->multi = s->out ? curl_multi_init() : NULL;
    if (s->multi) {
        sigset_t old;

        /* The sender leaves the run's signals to the main thread. */
        sr_signals_hold(&old);
        s->started = pthread_create(&s->thread, NULL, worker, s) == 0;
        sr_signals_restore(&old);
    }
    if (!s->started) {
        if (s->out && !err->code) {
            sr_error_set(err, SR_ELIB, "cannot start the diagnoser's sender");
        }
        dg_sink_ops.free(s);
        return NULL;
    }
    return s;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

void
dg_sink_stats(struct dg_sink *s, struct dg_stats *out)
{
    double *copy;

    pthread_mutex_lock(&s->mu);
    *out = s->st;
    copy = xmalloc((s->nlat + 1) * sizeof *copy);
    memcpy(copy, s->lat, s->nlat * sizeof *copy);
    pthread_mutex_unlock(&s->mu);
    if (s->nlat) {
        qsort(copy, s->nlat, sizeof *copy, cmp_double);
    }
    out->p50_ms = s->nlat ? copy[(s->nlat - 1) / 2] : NAN;
    out->p95_ms = s->nlat ? copy[(size_t) ceil(0.95 * (double) s->nlat) - 1] : NAN;
    out->p99_ms = s->nlat ? copy[(size_t) ceil(0.99 * (double) s->nlat) - 1] : NAN;
    free(copy);
}

static json_t *
ms_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 10) / 10);
}

static int
dg_finish(void *ctx, json_t *manifest, struct sr_error *err)
{
    struct dg_sink *s = ctx;
    struct dg_stats st;
    struct sr_buf url = SR_BUF_INIT;

    if (s->started) {
        /* Live, the run is over: what is under way or queued gets one
         * time-out more, then it is given up.  A replay waits for its
         * whole queue, each round of requests within its time-out. */
        double rounds;

        pthread_mutex_lock(&s->mu);
        rounds = s->cfg.block ? (double) (s->nqueue / (size_t) s->cfg.concurrency + 2) : 1.0;
        s->stopping = true;
        s->stop_deadline = sr_now() + rounds * (double) s->cfg.timeout_ms / 1000.0 + 0.5;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->started = false;
    }
    if (s->out) {
        if (sr_fclose_checked(s->out, s->out_path, s->werr.code ? NULL : &s->werr) < 0 &&
            !s->werr.code) {
            sr_error_set(&s->werr, SR_EIO, "cannot write '%s'", s->out_path);
        }
        s->out = NULL;
    }
    if (s->windows) {
        if (sr_fclose_checked(s->windows, s->windows_path, s->werr.code ? NULL : &s->werr) < 0 &&
            !s->werr.code) {
            sr_error_set(&s->werr, SR_EIO, "cannot write '%s'", s->windows_path);
        }
        s->windows = NULL;
    }
    dg_sink_stats(s, &st);
    sr_url_redact(&url, s->url ? s->url : "");
    json_object_set_new(manifest, "url", json_string(sr_buf_cstr(&url)));
    json_object_set_new(manifest, "file", json_string("diagnoses.jsonl"));
    json_object_set_new(manifest, "window_s", json_real(s->cfg.window_s));
    json_object_set_new(manifest, "every_s", json_real(s->cfg.every_s));
    json_object_set_new(manifest, "timeout_ms", json_integer(s->cfg.timeout_ms));
    json_object_set_new(manifest, "concurrency", json_integer(s->cfg.concurrency));
    json_object_set_new(manifest, "queue", json_integer(s->cfg.queue_max));
    json_object_set_new(manifest, "ports", json_boolean(s->cfg.ports));
    json_object_set_new(manifest, "flows", json_boolean(s->cfg.flows));
    json_object_set_new(manifest, "windows", json_integer(st.windows));
    json_object_set_new(manifest, "sent", json_integer(st.sent));
    json_object_set_new(manifest, "answers", json_integer(st.answers));
    json_object_set_new(manifest, "errors", json_integer(st.errors));
    json_object_set_new(manifest, "timeouts", json_integer(st.timeouts));
    json_object_set_new(manifest, "dropped", json_integer(st.dropped));
    json_object_set_new(manifest, "latency_ms",
                        json_pack("{s:o, s:o, s:o}", "p50", ms_or_null(st.p50_ms), "p95",
                                  ms_or_null(st.p95_ms), "p99", ms_or_null(st.p99_ms)));
    sr_buf_release(&url);
    if (s->werr.code) {
        *err = s->werr;
        return -err->code;
    }
    return 0;
}

static void
dg_free(void *ctx)
{
    struct dg_sink *s = ctx;

    if (!s) {
        return;
    }
    if (s->started) {
        struct sr_error e = { 0 };
        json_t *m = json_object();

        dg_finish(s, m, &e);
        json_decref(m);
    }
    if (s->out) {
        fclose(s->out);
    }
    if (s->windows) {
        fclose(s->windows);
    }
    for (size_t i = 0; i < s->nring; i++) {
        sweep_clear(&s->ring[i]);
    }
    sweep_clear(&s->cur);
    for (size_t i = 0; i < s->nqueue; i++) {
        item_free(s->queue[i]);
    }
    if (s->multi) {
        curl_multi_cleanup(s->multi);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->ring);
    free(s->queue);
    free(s->busy);
    free(s->lat);
    free(s->url);
    free(s->session);
    free(s->topology);
    free(s->out_path);
    free(s->windows_path);
    free(s);
}

const struct col_sink_ops dg_sink_ops = {
    .name = "diagnoser",
    .row = dg_row,
    .sweep = dg_sweep,
    .event = NULL,
    .finish = dg_finish,
    .free = dg_free,
};
