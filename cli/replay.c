/* 'simrun replay': a recorded run's windows to a diagnoser, at N times
 * real time or as fast as it answers, with no network and no root; and
 * 'simrun score': the answers against the ground truth. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diagnoser.h"
#include "files.h"
#include "kafka.h"
#include "proc.h"
#include "rundir.h"
#include "score.h"
#include "trace.h"
#include "util.h"

static const char replay_usage[] =
    "usage: simrun replay [--diagnoser URL] [--kafka BROKERS --topic T [--labels]]\n"
    "                     [--speed N|max] [--concurrency C] [--window D] [--every D]\n"
    "                     [--timeout D] [--ports] [--flows] [--out FILE] [--windows FILE]\n"
    "                     RUNDIR\n"
    "Streams a recorded run as it happened, at N times its pace (default 1) or as fast\n"
    "as the receivers take it (max): its windows to a diagnoser's window API\n"
    "(docs/diagnosers.md), its rows and fault events to Kafka (BROKERS host:port,...;\n"
    "rows to T, T.ports, T.flows, events to T.faults; --labels keeps the label columns),\n"
    "or every window with its truth to a file (--windows: what a diagnoser is trained\n"
    "on).  Prints windows per second, latency, errors and the diagnoser's score.\n"
    "--out names the answers' file (default replay-<run>-<UTC time>.jsonl here; the\n"
    "score goes beside it as .score.json).  Needs no root and no network.\n";

/* One table's rows, read a sweep at a time. */
struct table {
    const char *name;
    struct rd_rows *rows;
    json_t *next;             /* the first row of the next sweep */
};

static int
table_open(struct table *t, const char *dir, const char *name, struct sr_error *err)
{
    t->name = name;
    t->rows = rd_rows_open(dir, name, err);
    if (!t->rows) {
        return -err->code;
    }
    t->next = rd_rows_next(t->rows);
    return 0;
}

/* Where the replay sends what it reads. */
struct sinks {
    struct col_sink s[2];
    size_t n;
};

static void
sinks_row(const struct sinks *ks, const char *table, json_t *row)
{
    for (size_t i = 0; i < ks->n; i++) {
        ks->s[i].ops->row(ks->s[i].ctx, table, row);
    }
}

/* Feeds the sinks the rows of sweep 'k'; the samples' first row is kept in
 * '*first' (a new reference) for the truth. */
static void
feed(struct table *t, long k, const struct sinks *ks, json_t **first)
{
    while (t->next && json_integer_value(json_object_get(t->next, "sweep")) <= k) {
        if (json_integer_value(json_object_get(t->next, "sweep")) == k) {
            sinks_row(ks, t->name, t->next);
            if (first && !*first) {
                *first = json_incref(t->next);
            }
        }
        json_decref(t->next);
        t->next = rd_rows_next(t->rows);
    }
}

/* Sends the fault events from '*next' on that happened by 't_s'. */
static void
feed_events(json_t *events, size_t *next, double t_s, const struct sinks *ks)
{
    for (; *next < json_array_size(events); (*next)++) {
        json_t *ev = json_array_get(events, *next);

        if (json_number_value(json_object_get(ev, "t_s")) > t_s) {
            return;
        }
        for (size_t i = 0; i < ks->n; i++) {
            if (ks->s[i].ops->event) {
                ks->s[i].ops->event(ks->s[i].ctx, ev);
            }
        }
    }
}

static bool
parse_dur(const char *s, double *out)
{
    int64_t ms;

    if (!scn_parse_duration(s, &ms) || ms <= 0) {
        return false;
    }
    *out = (double) ms / 1000.0;
    return true;
}

/* The replay's own score file: 'out' with .score.json for .jsonl. */
static char *
score_path(const char *out)
{
    size_t n = strlen(out);

    return n > 6 && !strcmp(out + n - 6, ".jsonl") ? xasprintf("%.*s.score.json", (int) (n - 6), out)
                                                  : xasprintf("%s.score.json", out);
}

static int
write_score(const char *path, json_t *score)
{
    struct sr_error err = { 0 };
    char *text = json_dumps(score, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    int rc = text ? sr_file_new(path, text, strlen(text), 0644, &err) : -SR_ENOMEM;

    if (rc < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
    }
    free(text);
    return rc;
}

int
sim_cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        { "diagnoser", required_argument, NULL, 'd' }, { "speed", required_argument, NULL, 's' },
        { "concurrency", required_argument, NULL, 'c' }, { "window", required_argument, NULL, 'w' },
        { "every", required_argument, NULL, 'e' }, { "timeout", required_argument, NULL, 't' },
        { "ports", no_argument, NULL, 'P' }, { "flows", no_argument, NULL, 'F' },
        { "out", required_argument, NULL, 'o' }, { "windows", required_argument, NULL, 'W' },
        { "kafka", required_argument, NULL, 'k' }, { "topic", required_argument, NULL, 'T' },
        { "labels", no_argument, NULL, 'L' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct dg_config cfg = { .window_s = 10, .timeout_ms = 2000, .concurrency = 4,
                             .block = true };
    struct kf_config kcfg = { 0 };
    struct sr_error err = { 0 };
    struct table samples = { 0 }, ports = { 0 }, flows = { 0 };
    struct sinks ks = { 0 };
    struct dg_sink *sink = NULL;
    struct kf_sink *ksink = NULL;
    struct dg_stats st;
    json_t *m = NULL, *topo = NULL, *score = NULL, *events = NULL;
    const char *dir, *out = NULL;
    char *out_own = NULL, *topo_path = NULL, why[160];
    double speed = 1, timeout_s, t0, elapsed, last_t = 0;
    size_t next_event = 0;
    int64_t v;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:s:c:w:e:t:PFo:W:k:T:Lh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cfg.url = optarg; break;
        case 's':
            if (!strcmp(optarg, "max")) {
                speed = INFINITY;
            } else if (!sr_parse_double(optarg, &speed) || speed <= 0 || speed > 1e6) {
                fprintf(stderr, "simrun: --speed is a factor above 0 or 'max'\n%s", replay_usage);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            if (!sr_parse_i64(optarg, 1, 256, &v)) {
                fprintf(stderr, "simrun: --concurrency is 1 to 256\n%s", replay_usage);
                return CLI_EXIT_USAGE;
            }
            cfg.concurrency = (int) v;
            break;
        case 'w':
        case 'e':
        case 't':
            if (!parse_dur(optarg, c == 'w' ? &cfg.window_s : c == 'e' ? &cfg.every_s : &timeout_s)) {
                fprintf(stderr, "simrun: invalid duration '%s' (as in \"10s\")\n%s", optarg,
                        replay_usage);
                return CLI_EXIT_USAGE;
            }
            if (c == 't') {
                cfg.timeout_ms = (long) (timeout_s * 1000.0);
            }
            break;
        case 'P': cfg.ports = true; break;
        case 'F': cfg.flows = true; break;
        case 'o': out = optarg; break;
        case 'W': cfg.windows_path = optarg; break;
        case 'k': kcfg.brokers = optarg; break;
        case 'T': kcfg.topic = optarg; break;
        case 'L': kcfg.labels = true; break;
        case 'h': fputs(replay_usage, stdout); return 0;
        default: fputs(replay_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || (!cfg.url && !cfg.windows_path && !kcfg.brokers)) {
        fprintf(stderr, "simrun: replay needs a run directory and --diagnoser, --kafka or "
                        "--windows\n%s",
                replay_usage);
        return CLI_EXIT_USAGE;
    }
    if (cfg.url && !scn_diagnoser_url_valid(cfg.url, why, sizeof why)) {
        fprintf(stderr, "simrun: --diagnoser: %s\n", why);
        return CLI_EXIT_USAGE;
    }
    if (kcfg.brokers && !scn_brokers_valid(kcfg.brokers, why, sizeof why)) {
        fprintf(stderr, "simrun: --kafka: %s\n", why);
        return CLI_EXIT_USAGE;
    }
    if (!!kcfg.brokers != !!kcfg.topic || (kcfg.topic && !scn_topic_valid(kcfg.topic))) {
        fprintf(stderr, "simrun: --kafka needs --topic: 1 to 200 letters, digits, '.', '_' or "
                        "'-'\n");
        return CLI_EXIT_USAGE;
    }
    dir = argv[optind];
    if (sr_signals_install(&err) < 0 || cli_open_trace(&cfg.trace, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        return 1;
    }
    m = rd_manifest(dir, &err);
    events = m ? rd_events(dir, &err) : NULL;
    if (!events) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    cfg.interval_s = json_number_value(json_object_get(m, "interval_s"));
    if (cfg.every_s <= 0) {
        cfg.every_s = cfg.interval_s > 0 ? cfg.interval_s : 1;
    }
    cfg.queue_max = 2 * cfg.concurrency + 4;
    topo_path = xasprintf("%s/topology.json", dir);
    topo = json_load_file(topo_path, 0, NULL);
    cfg.topology = topo;
    cfg.session = json_string_value(json_object_get(json_object_get(m, "scenario"), "name"));
    if (cfg.url && !out) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        out = out_own = xasprintf("replay-%s-%s.jsonl", cfg.session ? cfg.session : "run", stamp);
    }
    cfg.out_path = out;
    /* Kafka takes every table the run has; a diagnoser what it asks for. */
    if (table_open(&samples, dir, "samples", &err) < 0 ||
        ((cfg.ports || (kcfg.brokers && rd_rows_exist(dir, "ports"))) &&
         table_open(&ports, dir, "ports", &err) < 0) ||
        ((cfg.flows || (kcfg.brokers && rd_rows_exist(dir, "flows"))) &&
         table_open(&flows, dir, "flows", &err) < 0) ||
        ((cfg.url || cfg.windows_path) && !(sink = dg_sink_new(&cfg, &err))) ||
        (kcfg.brokers && !(ksink = kf_sink_new(&kcfg, &err)))) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (sink) {
        ks.s[ks.n++] = (struct col_sink) { &dg_sink_ops, sink };
    }
    if (ksink) {
        ks.s[ks.n++] = (struct col_sink) { &kf_sink_ops, ksink };
    }
    t0 = sr_now();
    while (samples.next) {
        long k = (long) json_integer_value(json_object_get(samples.next, "sweep"));
        double t = json_number_value(json_object_get(samples.next, "t_s"));
        json_t *first = NULL;
        struct col_truth truth;

        if (isfinite(speed)) {
            double wait = t0 + t / speed - sr_now();

            if (wait > 0 && sr_signals_sleep((int) (wait * 1000.0))) {
                break;
            }
        } else if (sr_signals_pending()) {
            break;
        }
        feed_events(events, &next_event, t, &ks);
        feed(&samples, k, &ks, &first);
        if (ports.rows) {
            feed(&ports, k, &ks, NULL);
        }
        if (flows.rows) {
            feed(&flows, k, &ks, NULL);
        }
        truth = (struct col_truth) {
            json_string_value(json_object_get(first, "label")),
            (int) json_integer_value(json_object_get(first, "fault_id")),
            json_string_value(json_object_get(first, "fault_target")),
            json_string_value(json_object_get(first, "fault_phase")) };
        truth.label = truth.label ? truth.label : "normal";
        truth.target = truth.target ? truth.target : "";
        truth.phase = truth.phase ? truth.phase : "normal";
        for (size_t i = 0; i < ks.n; i++) {
            ks.s[i].ops->sweep(ks.s[i].ctx, k, t, &truth);
        }
        json_decref(first);
        last_t = t;
    }
    if (!sr_signals_pending()) {
        feed_events(events, &next_event, INFINITY, &ks); /* those after the last sweep */
    }
    for (struct table *tb = &samples; tb; tb = tb == &samples ? &ports : tb == &ports ? &flows : NULL) {
        if (tb->rows && rd_rows_error(tb->rows)) {
            fprintf(stderr, "simrun: %s\n", rd_rows_error(tb->rows)->msg);
            rc = 1;
        }
    }
    for (size_t i = 0; i < ks.n; i++) {
        json_t *part = json_object();

        if (ks.s[i].ops->finish(ks.s[i].ctx, part, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
        }
        json_decref(part);
    }
    elapsed = sr_now() - t0;
    printf("replayed %.1f s of the run in %.2f s (%.1fx)\n", last_t, elapsed,
           elapsed > 0 ? last_t / elapsed : 0.0);
    if (ksink) {
        struct kf_stats kst;

        kf_sink_stats(ksink, &kst);
        printf("kafka: %ld messages delivered of %ld (%.0f/s), %ld failed, %ld dropped, "
               "%ld undelivered\n",
               kst.delivered, kst.produced + kst.dropped,
               elapsed > 0 ? (double) kst.delivered / elapsed : 0.0, kst.failed, kst.dropped,
               kst.pending);
    }
    if (sink) {
        dg_sink_stats(sink, &st);
        printf("%ld windows: %.0f windows/s; %ld answered, %ld errors (%ld timed out), "
               "%ld dropped\n",
               st.windows, elapsed > 0 ? (double) st.windows / elapsed : 0.0, st.answers,
               st.errors, st.timeouts, st.dropped);
    }
    if (sink && cfg.url) {
        printf("latency ms: p50 %.1f, p95 %.1f, p99 %.1f\n", st.p50_ms, st.p95_ms, st.p99_ms);
        score = sc_score_run(dir, out, &err);
        if (!score) {
            fprintf(stderr, "simrun: cannot score: %s\n", err.msg);
            rc = 1;
        } else {
            char *sp = score_path(out);

            json_object_set_new(score, "replay",
                                json_pack("{s:I, s:f, s:I, s:I, s:I, s:f, s:f, s:f}", "windows",
                                          (json_int_t) st.windows, "windows_per_s",
                                          elapsed > 0 ? (double) st.windows / elapsed : 0.0,
                                          "answers", (json_int_t) st.answers, "errors",
                                          (json_int_t) st.errors, "dropped",
                                          (json_int_t) st.dropped, "latency_p50_ms", st.p50_ms,
                                          "latency_p95_ms", st.p95_ms, "latency_p99_ms",
                                          st.p99_ms));
            sc_print(score, stdout);
            if (write_score(sp, score) < 0) {
                rc = 1;
            }
            printf("answers in %s, score in %s\n", out, sp);
            free(sp);
        }
    }
    if (sr_signals_pending()) {
        fprintf(stderr, "simrun: replay interrupted\n");
        rc = 1;
    }

out:
    for (size_t i = 0; i < ks.n; i++) {
        ks.s[i].ops->free(ks.s[i].ctx);
    }
    if (!ks.n) {
        if (sink) {
            dg_sink_ops.free(sink);
        }
        if (ksink) {
            kf_sink_ops.free(ksink);
        }
    }
    json_decref(samples.next);
    json_decref(ports.next);
    json_decref(flows.next);
    rd_rows_close(samples.rows);
    rd_rows_close(ports.rows);
    rd_rows_close(flows.rows);
    json_decref(score);
    json_decref(events);
    json_decref(topo);
    json_decref(m);
    free(topo_path);
    free(out_own);
    sr_trace_free(cfg.trace);
    return rc;
}

static const char score_usage[] =
    "usage: simrun score RUNDIR [PREDICTIONS]\n"
    "Scores a diagnoser's answers against RUNDIR's ground truth: PREDICTIONS is\n"
    "RUNDIR/diagnoses.jsonl by default, a JSON Lines file as 'replay' writes, or a CSV\n"
    "of time,label[,target] (time in seconds of the run, or ISO 8601).  Prints the\n"
    "tables and writes the score as JSON to RUNDIR/score.json (beside PREDICTIONS\n"
    "when one is given).\n";

int
sim_cmd_score(int argc, char **argv)
{
    struct sr_error err = { 0 };
    char *def = NULL, *sp;
    const char *pred;
    json_t *score;
    int rc;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(score_usage, stdout);
        return 0;
    }
    if (argc < 2 || argc > 3 || argv[1][0] == '-') {
        fputs(score_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    pred = argc == 3 ? argv[2] : (def = xasprintf("%s/diagnoses.jsonl", argv[1]));
    score = sc_score_run(argv[1], pred, &err);
    if (!score) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        free(def);
        return err.code == SR_EINVAL ? CLI_EXIT_USAGE : 1;
    }
    sc_print(score, stdout);
    sp = argc == 3 ? score_path(pred) : xasprintf("%s/score.json", argv[1]);
    /* A score written before is replaced: it is derived, not recorded. */
    unlink(sp);
    rc = write_score(sp, score) < 0 ? 1 : 0;
    if (rc == 0) {
        printf("score in %s\n", sp);
    }
    free(sp);
    free(def);
    json_decref(score);
    return rc;
}
