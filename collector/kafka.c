/* The Kafka sink (kafka.h): librdkafka's idempotent producer, one message
 * per row keyed by switch, fault events on <topic>.faults. */
#include "kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "log.h"
#include "proc.h"
#include "util.h"

struct kf_sink {
    rd_kafka_t *rk;
    char *brokers, *topic;
    char *topic_ports, *topic_flows, *topic_faults;
    bool labels;
    long flush_ms;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    bool stop;                /* under mu */
    struct kf_stats st;       /* under mu */
    char last_error[256];     /* under mu: librdkafka's last error, for the end */
    int last_logged;          /* under mu: the last error code logged (one line per kind) */
};


static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kf_sink *s = opaque;

    (void) rk;
    pthread_mutex_lock(&s->mu);
    if (m->err) {
        s->st.failed++;
        snprintf(s->last_error, sizeof s->last_error, "%s", rd_kafka_err2str(m->err));
    } else {
        s->st.delivered++;
    }
    pthread_mutex_unlock(&s->mu);
}

/* librdkafka's errors (a broker down, a refused topic): kept for the end
 * and logged once per kind, as it retries on its own. */
static void
on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    struct kf_sink *s = opaque;
    bool log = false;

    (void) rk;
    pthread_mutex_lock(&s->mu);
    snprintf(s->last_error, sizeof s->last_error, "%s", reason);
    if (s->last_logged != code) {
        s->last_logged = code;
        log = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (log) {
        SR_WARN("kafka: %s (retrying)", reason);
    }
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void) rk;
    SR_DEBUG("kafka: %d %s: %s", level, fac, buf);
}

static void *
poller(void *arg)
{
    struct kf_sink *s = arg;

    for (;;) {
        bool stop;

        pthread_mutex_lock(&s->mu);
        stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            return NULL;
        }
        rd_kafka_poll(s->rk, 100);
    }
}

static int
conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct sr_error *err)
{
    char why[256];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        return sr_error_set(err, SR_EINVAL, "kafka: %s: %s", name, why);
    }
    return 0;
}

struct kf_sink *
kf_sink_new(const struct kf_config *cfg, struct sr_error *err)
{
    struct kf_sink *s = xcalloc(1, sizeof *s);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    sigset_t old;

    pthread_mutex_init(&s->mu, NULL);
    s->brokers = xstrdup(cfg->brokers);
    s->topic = xstrdup(cfg->topic);
    s->topic_ports = xasprintf("%s.ports", cfg->topic);
    s->topic_flows = xasprintf("%s.flows", cfg->topic);
    s->topic_faults = xasprintf("%s.faults", cfg->topic);
    s->labels = cfg->labels;
    s->flush_ms = cfg->flush_ms > 0 ? cfg->flush_ms : 15000;
    /* Idempotent: a retried batch is neither duplicated nor reordered, so
     * one switch's rows reach its partition in the order they were
     * written.  The local queue holds minutes of a large network's rows. */
    if (conf_set(conf, "bootstrap.servers", cfg->brokers, err) < 0 ||
        conf_set(conf, "client.id", "simrun", err) < 0 ||
        conf_set(conf, "enable.idempotence", "true", err) < 0 ||
        conf_set(conf, "linger.ms", "20", err) < 0 ||
        conf_set(conf, "queue.buffering.max.messages", "2000000", err) < 0 ||
        conf_set(conf, "queue.buffering.max.kbytes", "1048576", err) < 0 ||
        conf_set(conf, "message.timeout.ms", "300000", err) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    sr_signals_hold(&old);
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!s->rk) {
        sr_signals_restore(&old);
        rd_kafka_conf_destroy(conf);
        sr_error_set(err, SR_EINVAL, "kafka: cannot start a producer: %s", why);
        goto fail;
    }
    s->thread_started = pthread_create(&s->thread, NULL, poller, s) == 0;
    sr_signals_restore(&old);
    if (!s->thread_started) {
        sr_error_set(err, SR_ENOMEM, "kafka: cannot start a thread");
        goto fail;
    }
    return s;

fail:
    kf_sink_ops.free(s);
    return NULL;
}

static void
produce(struct kf_sink *s, const char *topic, const char *key, char *value)
{
    rd_kafka_resp_err_t e;

    e = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(topic),
                          RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                          RD_KAFKA_V_VALUE(value, strlen(value)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
    pthread_mutex_lock(&s->mu);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->st.produced++;
    } else {
        /* The queue is full (the cluster has been away for minutes) or the
         * message cannot be sent at all: counted, never waited for. */
        s->st.dropped++;
        snprintf(s->last_error, sizeof s->last_error, "%s", rd_kafka_err2str(e));
        free(value);
    }
    pthread_mutex_unlock(&s->mu);
}

static void
kf_row(void *ctx, const char *table, json_t *row)
{
    struct kf_sink *s = ctx;
    const char *topic = !strcmp(table, "ports")   ? s->topic_ports
                        : !strcmp(table, "flows") ? s->topic_flows
                                                  : s->topic;
    json_t *msg = row;
    char *value;

    if (!s->labels) {
        msg = json_copy(row);
        for (size_t i = 0; col_label_cols[i]; i++) {
            json_object_del(msg, col_label_cols[i]);
        }
    }
    value = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (msg != row) {
        json_decref(msg);
    }
    if (value) {
        produce(s, topic, json_string_value(json_object_get(row, "switch")), value);
    }
}

static void
kf_sweep(void *ctx, long k, double t_s, const struct col_truth *truth)
{
    (void) ctx, (void) k, (void) t_s, (void) truth; /* rows leave as they come */
}

static void
kf_event(void *ctx, json_t *event)
{
    struct kf_sink *s = ctx;
    char key[32];
    char *value = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));

    snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(event, "id")));
    if (value) {
        produce(s, s->topic_faults, key, value);
    }
}

void
kf_sink_stats(struct kf_sink *s, struct kf_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->pending = s->st.produced - s->st.delivered - s->st.failed;
    pthread_mutex_unlock(&s->mu);
}

static int
kf_finish(void *ctx, json_t *manifest, struct sr_error *err)
{
    struct kf_sink *s = ctx;
    struct kf_stats st;
    char last[256];
    json_t *part;

    /* Our poller stops; the flush serves the last delivery reports. */
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->thread_started = false;
    }
    rd_kafka_flush(s->rk, (int) s->flush_ms);
    kf_sink_stats(s, &st);
    pthread_mutex_lock(&s->mu);
    memcpy(last, s->last_error, sizeof last);
    pthread_mutex_unlock(&s->mu);
    part = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "brokers", s->brokers, "topic",
                     s->topic, "labels", s->labels, "produced", (json_int_t) st.produced,
                     "delivered", (json_int_t) st.delivered, "failed", (json_int_t) st.failed,
                     "dropped", (json_int_t) st.dropped, "undelivered", (json_int_t) st.pending);
    if (last[0]) {
        json_object_set_new(part, "last_error", json_string(last));
    }
    json_object_update(manifest, part);
    json_decref(part);
    if (st.failed || st.dropped || st.pending) {
        return sr_error_set(err, SR_EIO,
                            "kafka: %ld of %ld messages not delivered (%ld failed, %ld dropped, "
                            "%ld still queued after %.0f s)%s%s",
                            st.failed + st.dropped + st.pending, st.produced + st.dropped,
                            st.failed, st.dropped, st.pending, (double) s->flush_ms / 1000.0,
                            last[0] ? ": " : "", last);
    }
    return 0;
}

static void
kf_free(void *ctx)
{
    struct kf_sink *s = ctx;

    if (!s) {
        return;
    }
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->rk) {
        rd_kafka_destroy(s->rk);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->brokers);
    free(s->topic);
    free(s->topic_ports);
    free(s->topic_flows);
    free(s->topic_faults);
    free(s);
}

const struct col_sink_ops kf_sink_ops = {
    .name = "kafka",
    .row = kf_row,
    .sweep = kf_sweep,
    .event = kf_event,
    .finish = kf_finish,
    .free = kf_free,
};
