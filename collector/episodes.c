/* Episodes and their effect on the services (episodes.h). */
#include "episodes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "collector.h"
#include "files.h"
#include "rundir.h"
#include "util.h"

const char *const ep_columns[] = {
    "run", "id", "type", "target", "selector", "service", "timeout_s", "streams", "factor",
    "rate_kbps", "cookie", "priority", "inject_s", "verified_s", "revert_s", "reverted_s",
    "status", "healed", "before_s", "during_s",
    "video_kbps_before", "video_kbps_during", "video_stalled_before", "video_stalled_during",
    "web_fail_before", "web_fail_during", "web_ms_before", "web_ms_during",
    "chat_fail_before", "chat_fail_during", "chat_rtt_ms_before", "chat_rtt_ms_during",
    "mail_fail_before", "mail_fail_during", "p2p_fail_before", "p2p_fail_during",
    "p2p_mbps_before", "p2p_mbps_during", "impact", "silent", NULL,
};

bool
ep_kpi_of(json_t *r, struct ep_kpi *k)
{
    const char *svc = json_string_value(json_object_get(r, "service"));
    json_t *m = json_object_get(r, "metrics");
    const char *role = json_string_value(json_object_get(m, "role"));
    json_t *v;

    if (!svc || !json_is_object(m)) {
        return false;
    }
    k->t = json_number_value(json_object_get(r, "t"));
    k->ok = json_is_true(json_object_get(m, "ok"));
    k->stalled = json_is_true(json_object_get(m, "stalled"));
    k->value = NAN;
    if (!strcmp(svc, "video")) {
        k->kind = EP_VIDEO;
        v = json_object_get(m, "bitrate_kbps");
    } else if (!strcmp(svc, "web")) {
        k->kind = EP_WEB;
        v = json_object_get(m, "page_ms");
    } else if (!strcmp(svc, "chat")) {
        k->kind = EP_CHAT;
        v = json_object_get(m, "rtt_ms");
    } else if (!strcmp(svc, "mail") && role && !strcmp(role, "sender")) {
        k->kind = EP_MAIL;
        v = json_object_get(m, "session_ms");
    } else if (!strcmp(svc, "p2p")) {
        k->kind = EP_P2P;
        v = json_object_get(m, "throughput_mbps");
    } else {
        return false;
    }
    if (json_is_number(v) && (k->ok || k->kind == EP_VIDEO)) {
        k->value = json_number_value(v);
    }
    return true;
}

struct stats {
    long n[EP_NSERVICES], fail[EP_NSERVICES], stalled, nval[EP_NSERVICES];
    double sum[EP_NSERVICES];
};

static void
stats_over(const struct ep_kpi *ks, size_t n, double from, double to, struct stats *st)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        if (ks[i].t < from || ks[i].t >= to) {
            continue;
        }
        st->n[ks[i].kind]++;
        st->fail[ks[i].kind] += !ks[i].ok;
        st->stalled += ks[i].kind == EP_VIDEO && ks[i].stalled;
        if (!isnan(ks[i].value)) {
            st->sum[ks[i].kind] += ks[i].value;
            st->nval[ks[i].kind]++;
        }
    }
}

static json_t *
num(double v, int decimals)
{
    double p = pow(10, decimals);

    return isfinite(v) ? json_real(round(v * p) / p) : json_null();
}

static double
mean(const struct stats *s, int k)
{
    return s->nval[k] ? s->sum[k] / (double) s->nval[k] : NAN;
}

static double
fail_share(const struct stats *s, int k)
{
    return s->n[k] ? (double) s->fail[k] / (double) s->n[k] : NAN;
}

/* What the episode did to the services, in words, and whether anything at
 * all: video bitrate down by more than 15 %, or stalled records up by more
 * than 5 points; failures up by more than 5 points (two failures at
 * least); page, chat or mail times doubled, or p2p throughput halved, over
 * five records at least on each side (fewer are noise). */
static void
impact(json_t *o, const struct stats *b, const struct stats *d)
{
    struct sr_buf w = SR_BUF_INIT;
    static const char *const names[] = { "video", "web", "chat", "mail", "p2p" };
    double vb = mean(b, EP_VIDEO), vd = mean(d, EP_VIDEO);
    double sb = b->n[EP_VIDEO] ? (double) b->stalled / (double) b->n[EP_VIDEO] : NAN;
    double sd = d->n[EP_VIDEO] ? (double) d->stalled / (double) d->n[EP_VIDEO] : NAN;

    if (vb > 0 && vd < 0.85 * vb) {
        sr_buf_printf(&w, "%svideo bitrate %+.0f%%", w.len ? "; " : "", 100.0 * (vd / vb - 1));
    }
    if (sd > sb + 0.05) {
        sr_buf_printf(&w, "%svideo stalled %.0f%% of the time (was %.0f%%)", w.len ? "; " : "",
                      100.0 * sd, 100.0 * sb);
    }
    for (int k = EP_WEB; k <= EP_P2P; k++) {
        double fb = fail_share(b, k), fd = fail_share(d, k), mb = mean(b, k), md = mean(d, k);

        bool enough = b->nval[k] >= 5 && d->nval[k] >= 5;

        if (d->fail[k] >= 2 && fd > (isnan(fb) ? 0 : fb) + 0.05) {
            sr_buf_printf(&w, "%s%s failures %.0f%% (were %.0f%%)", w.len ? "; " : "", names[k],
                          100.0 * fd, isnan(fb) ? 0.0 : 100.0 * fb);
        }
        if (enough && k != EP_P2P && mb > 0 && md > 2.0 * mb) {
            sr_buf_printf(&w, "%s%s time %+.0f%%", w.len ? "; " : "", names[k],
                          100.0 * (md / mb - 1));
        }
        if (enough && k == EP_P2P && mb > 0 && md < 0.5 * mb) {
            sr_buf_printf(&w, "%sp2p throughput %+.0f%%", w.len ? "; " : "", 100.0 * (md / mb - 1));
        }
    }
    json_object_set_new(o, "impact", json_string(w.len ? sr_buf_cstr(&w) : ""));
    json_object_set_new(o, "silent", json_boolean(w.len == 0));
    sr_buf_release(&w);
}

json_t *
ep_summarise(const char *rundir, const char *run, struct sr_error *err)
{
    json_t *events = rd_events(rundir, err), *out, *ev;
    char *tpath = xasprintf("%s/traffic.jsonl", rundir);
    FILE *tf = fopen(tpath, "r");
    struct ep_kpi *ks = NULL;
    size_t nk = 0, cap = 0, i;
    char *line = NULL;
    size_t lcap = 0;
    double prev_end = -INFINITY;  /* epoch the previous episode was reverted */
    json_t *eps = json_object();  /* id -> object, as events come */
    json_t *order = json_array();

    free(tpath);
    if (!events) {
        if (tf) {
            fclose(tf);
        }
        json_decref(eps);
        json_decref(order);
        return NULL;
    }
    while (tf && getline(&line, &lcap, tf) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        struct ep_kpi k;

        if (json_is_object(r) && ep_kpi_of(r, &k)) {
            xgrow((void **) &ks, &cap, nk + 1, sizeof *ks);
            ks[nk++] = k;
        }
        json_decref(r);
    }
    free(line);
    /* Events: one object per episode, with the epoch of each step. */
    json_array_foreach(events, i, ev) {
        const char *kind = json_string_value(json_object_get(ev, "event"));
        json_int_t id = json_integer_value(json_object_get(ev, "id"));
        char key[32];
        json_t *o;

        if (!kind || !json_is_integer(json_object_get(ev, "id"))) {
            continue; /* unplanned events */
        }
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, id);
        o = json_object_get(eps, key);
        if (!o) {
            o = json_object();
            json_object_set_new(o, "run", json_string(run ? run : ""));
            json_object_set_new(o, "id", json_integer(id));
            json_object_set(o, "type", json_object_get(ev, "type"));
            json_object_set(o, "target", json_object_get(ev, "target"));
            json_object_set(o, "selector", json_object_get(ev, "selector"));
            json_object_set_new(o, "status", json_string("injected"));
            json_object_set_new(o, "healed", json_string("no"));
            json_object_set_new(eps, key, o);
            json_array_append(order, o);
        }
        if (!strcmp(kind, "inject")) {
            static const char *const copy[] = { "service", "timeout_s", "streams", "factor",
                                                "rate_kbps", "cookie", "priority", NULL };

            for (size_t c = 0; copy[c]; c++) {
                if (json_object_get(ev, copy[c])) {
                    json_object_set(o, copy[c], json_object_get(ev, copy[c]));
                }
            }
        }
        if (!strcmp(kind, "inject") || !strcmp(kind, "verified") || !strcmp(kind, "revert") ||
            !strcmp(kind, "reverted")) {
            char col[32];

            snprintf(col, sizeof col, "%s_s", kind);
            json_object_set(o, col, json_object_get(ev, "t_s"));
            snprintf(col, sizeof col, "_%s_epoch", kind);
            json_object_set_new(o, col, json_real(sr_iso_epoch(json_string_value(
                                            json_object_get(ev, "time")))));
        }
        if (!strcmp(kind, "verified")) {
            json_object_set_new(o, "status", json_string("verified"));
        } else if (!strcmp(kind, "failed")) {
            json_object_set_new(o, "status", json_string("failed"));
        } else if (!strcmp(kind, "healed")) {
            json_object_set_new(o, "healed", json_string("fully"));
        } else if (!strcmp(kind, "partly_healed") &&
                   strcmp(json_string_value(json_object_get(o, "healed")), "fully")) {
            json_object_set_new(o, "healed", json_string("partly"));
        }
    }
    out = json_array();
    json_array_foreach(order, i, ev) {
        double inj = json_number_value(json_object_get(ev, "_inject_epoch"));
        double ver = json_number_value(json_object_get(ev, "_verified_epoch"));
        double rev = json_number_value(json_object_get(ev, "_revert_epoch"));
        double done = json_number_value(json_object_get(ev, "_reverted_epoch"));
        double from = json_object_get(ev, "_verified_epoch") ? ver : inj;
        double len, bfrom;
        struct stats b, d;

        /* While it was in place (verified to revert), against as long a
         * stretch before it, after the previous episode's end. */
        if (!json_object_get(ev, "_revert_epoch") || !(rev > from)) {
            rev = from;
        }
        len = rev - from;
        bfrom = inj - len;
        if (bfrom < prev_end + 2.0) {
            bfrom = prev_end + 2.0;
        }
        json_object_set_new(ev, "during_s", num(len, 1));
        json_object_set_new(ev, "before_s", num(inj - bfrom > 0 ? inj - bfrom : 0, 1));
        if (tf && len > 0 && inj - bfrom > 0) {
            stats_over(ks, nk, bfrom, inj, &b);
            stats_over(ks, nk, from, rev, &d);
            json_object_set_new(ev, "video_kbps_before", num(mean(&b, EP_VIDEO), 1));
            json_object_set_new(ev, "video_kbps_during", num(mean(&d, EP_VIDEO), 1));
            json_object_set_new(ev, "video_stalled_before",
                                num(b.n[EP_VIDEO] ? (double) b.stalled / (double) b.n[EP_VIDEO] : NAN,
                                    3));
            json_object_set_new(ev, "video_stalled_during",
                                num(d.n[EP_VIDEO] ? (double) d.stalled / (double) d.n[EP_VIDEO] : NAN,
                                    3));
            json_object_set_new(ev, "web_fail_before", num(fail_share(&b, EP_WEB), 3));
            json_object_set_new(ev, "web_fail_during", num(fail_share(&d, EP_WEB), 3));
            json_object_set_new(ev, "web_ms_before", num(mean(&b, EP_WEB), 1));
            json_object_set_new(ev, "web_ms_during", num(mean(&d, EP_WEB), 1));
            json_object_set_new(ev, "chat_fail_before", num(fail_share(&b, EP_CHAT), 3));
            json_object_set_new(ev, "chat_fail_during", num(fail_share(&d, EP_CHAT), 3));
            json_object_set_new(ev, "chat_rtt_ms_before", num(mean(&b, EP_CHAT), 2));
            json_object_set_new(ev, "chat_rtt_ms_during", num(mean(&d, EP_CHAT), 2));
            json_object_set_new(ev, "mail_fail_before", num(fail_share(&b, EP_MAIL), 3));
            json_object_set_new(ev, "mail_fail_during", num(fail_share(&d, EP_MAIL), 3));
            json_object_set_new(ev, "p2p_fail_before", num(fail_share(&b, EP_P2P), 3));
            json_object_set_new(ev, "p2p_fail_during", num(fail_share(&d, EP_P2P), 3));
            json_object_set_new(ev, "p2p_mbps_before", num(mean(&b, EP_P2P), 1));
            json_object_set_new(ev, "p2p_mbps_during", num(mean(&d, EP_P2P), 1));
            impact(ev, &b, &d);
        }
        if (isfinite(done)) {
            prev_end = done;
        }
        json_object_del(ev, "_inject_epoch");
        json_object_del(ev, "_verified_epoch");
        json_object_del(ev, "_revert_epoch");
        json_object_del(ev, "_reverted_epoch");
        json_array_append(out, ev);
    }
    if (tf) {
        fclose(tf);
    }
    free(ks);
    json_decref(eps);
    json_decref(order);
    json_decref(events);
    return out;
}

int
ep_write_csv(const char *path, json_t *episodes, struct sr_error *err)
{
    struct sr_buf b = SR_BUF_INIT;
    size_t i;
    json_t *o;
    int rc;

    for (size_t c = 0; ep_columns[c]; c++) {
        sr_buf_printf(&b, "%s%s", c ? "," : "", ep_columns[c]);
    }
    sr_buf_puts(&b, "\r\n");
    json_array_foreach(episodes, i, o) {
        for (size_t c = 0; ep_columns[c]; c++) {
            json_t *v = json_object_get(o, ep_columns[c]);

            if (c) {
                sr_buf_putc(&b, ',');
            }
            if (json_is_string(v)) {
                col_csv_field(&b, json_string_value(v));
            } else if (json_is_integer(v)) {
                sr_buf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            } else if (json_is_real(v)) {
                sr_buf_printf(&b, "%.10g", json_real_value(v));
            } else if (json_is_boolean(v)) {
                sr_buf_putc(&b, json_is_true(v) ? '1' : '0');
            }
        }
        sr_buf_puts(&b, "\r\n");
    }
    rc = sr_file_new(path, b.data, b.len, 0644, err);
    sr_buf_release(&b);
    return rc;
}
