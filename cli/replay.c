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
#include "proc.h"
#include "rundir.h"
#include "score.h"
#include "util.h"

static const char replay_usage[] =
    "usage: simrun replay [--diagnoser URL] [--speed N|max] [--concurrency C]\n"
    "                     [--window D] [--every D] [--timeout D] [--ports] [--flows]\n"
    "                     [--out FILE] [--windows FILE] RUNDIR\n"
    "Streams RUNDIR's windows to the diagnoser's window API (docs/diagnosers.md) at N\n"
    "times the run's pace (default 1) or as fast as it answers (max), prints windows\n"
    "per second, latency and errors, and scores the answers.  --out names the\n"
    "answers' file (default replay-<run>-<UTC time>.jsonl here; the score goes beside\n"
    "it as .score.json); --windows also writes every window with its truth (what a\n"
    "diagnoser is trained on).  Needs no root and no network.\n";

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

/* Feeds the sink the rows of sweep 'k'; the samples' first row is kept in
 * '*first' (a new reference) for the truth. */
static void
feed(struct table *t, long k, void *sink, json_t **first)
{
    while (t->next && json_integer_value(json_object_get(t->next, "sweep")) <= k) {
        if (json_integer_value(json_object_get(t->next, "sweep")) == k) {
            dg_sink_ops.row(sink, t->name, t->next);
            if (first && !*first) {
                *first = json_incref(t->next);
            }
        }
        json_decref(t->next);
        t->next = rd_rows_next(t->rows);
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
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    struct dg_config cfg = { .window_s = 10, .timeout_ms = 2000, .concurrency = 4,
                             .block = true };
    struct sr_error err = { 0 };
    struct table samples = { 0 }, ports = { 0 }, flows = { 0 };
    struct dg_sink *sink = NULL;
    struct dg_stats st;
    json_t *m = NULL, *topo = NULL, *part = NULL, *score = NULL;
    const char *dir, *out = NULL;
    char *out_own = NULL, *topo_path = NULL;
    double speed = 1, timeout_s, t0, elapsed;
    int64_t v;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:s:c:w:e:t:PFo:W:h", opts, NULL)) != -1) {
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
        case 'h': fputs(replay_usage, stdout); return 0;
        default: fputs(replay_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || (!cfg.url && !cfg.windows_path)) {
        fprintf(stderr, "simrun: replay needs a run directory and --diagnoser or --windows\n%s",
                replay_usage);
        return CLI_EXIT_USAGE;
    }
    if (cfg.url && strncmp(cfg.url, "http://", 7) && strncmp(cfg.url, "https://", 8)) {
        fprintf(stderr, "simrun: the diagnoser's URL must start with http:// or https://\n");
        return CLI_EXIT_USAGE;
    }
    dir = argv[optind];
    m = rd_manifest(dir, &err);
    if (!m) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        return 1;
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
    if (table_open(&samples, dir, "samples", &err) < 0 ||
        (cfg.ports && table_open(&ports, dir, "ports", &err) < 0) ||
        (cfg.flows && table_open(&flows, dir, "flows", &err) < 0) ||
        !(sink = dg_sink_new(&cfg, &err))) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
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
        }
        feed(&samples, k, sink, &first);
        if (cfg.ports) {
            feed(&ports, k, sink, NULL);
        }
        if (cfg.flows) {
            feed(&flows, k, sink, NULL);
        }
        truth = (struct col_truth) {
            json_string_value(json_object_get(first, "label")),
            (int) json_integer_value(json_object_get(first, "fault_id")),
            json_string_value(json_object_get(first, "fault_target")),
            json_string_value(json_object_get(first, "fault_phase")) };
        truth.label = truth.label ? truth.label : "normal";
        truth.target = truth.target ? truth.target : "";
        truth.phase = truth.phase ? truth.phase : "normal";
        dg_sink_ops.sweep(sink, k, t, &truth);
        json_decref(first);
    }
    if (rd_rows_error(samples.rows)) {
        fprintf(stderr, "simrun: %s\n", rd_rows_error(samples.rows)->msg);
        rc = 1;
    }
    part = json_object();
    if (dg_sink_ops.finish(sink, part, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
    }
    elapsed = sr_now() - t0;
    dg_sink_stats(sink, &st);
    printf("%ld windows in %.2f s: %.0f windows/s; %ld answered, %ld errors (%ld timed out), "
           "%ld dropped\n",
           st.windows, elapsed, elapsed > 0 ? (double) st.windows / elapsed : 0.0, st.answers,
           st.errors, st.timeouts, st.dropped);
    if (cfg.url) {
        printf("latency ms: p50 %.1f, p95 %.1f, p99 %.1f\n", st.p50_ms, st.p95_ms, st.p99_ms);
        score = sc_score_run(dir, out, &err);
        if (!score) {
            fprintf(stderr, "simrun: cannot score: %s\n", err.msg);
            rc = 1;
        } else {
            char *sp = score_path(out);

            json_object_set_new(score, "replay",
                                json_pack("{s:I, s:f, s:I, s:I, s:I}", "windows",
                                          (json_int_t) st.windows, "windows_per_s",
                                          elapsed > 0 ? (double) st.windows / elapsed : 0.0,
                                          "answers", (json_int_t) st.answers, "errors",
                                          (json_int_t) st.errors, "dropped",
                                          (json_int_t) st.dropped));
            sc_print(score, stdout);
            if (write_score(sp, score) < 0) {
                rc = 1;
            }
            printf("answers in %s, score in %s\n", out, sp);
            free(sp);
        }
    }

out:
    if (sink) {
        dg_sink_ops.free(sink);
    }
    json_decref(samples.next);
    json_decref(ports.next);
    json_decref(flows.next);
    rd_rows_close(samples.rows);
    rd_rows_close(ports.rows);
    rd_rows_close(flows.rows);
    json_decref(part);
    json_decref(score);
    json_decref(topo);
    json_decref(m);
    free(topo_path);
    free(out_own);
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
