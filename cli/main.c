/* simrun: the command line.  Subcommands are a table (as tmux's); each one
 * parses its own options with getopt_long.  Only this file prints results
 * and chooses exit codes: 0 success, 1 runtime failure, 2 usage or
 * scenario error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>
#include <unistd.h>

#include "cli.h"
#include "campaign.h"
#include "capture.h"
#include "capture_run.h"
#include "collector.h"
#include "dataset.h"
#include "files.h"
#include "faults.h"
#include "log.h"
#include "mininet.h"
#include "plan.h"
#include "proc.h"
#include "run.h"
#include "runtime.h"
#include "scenario.h"
#include "topology.h"
#include "trace.h"
#include "util.h"

#define EXIT_USAGE CLI_EXIT_USAGE

struct command {
    const char *name;
    const char *usage;
    const char *summary;
    int (*exec)(int argc, char **argv);
    bool plain; /* no options of its own: main answers its --help with usage and summary */
};

static int cmd_check(int argc, char **argv);
static int cmd_plan(int argc, char **argv);
static int cmd_topo(int argc, char **argv);
static int cmd_faults(int argc, char **argv);
static int cmd_up(int argc, char **argv);
static int cmd_clean(int argc, char **argv);

static const struct command commands[] = {
    { "run", "run [--out DIR] [--seed N] [--duration D] [--controller K --controller-url U] "
             "[--shard K/N] [--quiet] FILE",
      "run a scenario: network, collector, fault timeline (also: simrun FILE)", sim_cmd_run, false },
    { "check", "check FILE...", "validate scenario files, reporting every problem",
      cmd_check, true },
    { "plan", "plan [--seed N] FILE",
      "show topology, traffic mix and fault timeline without running", cmd_plan, false },
    { "topo", "topo [--format json|dot|mininet] [--seed N] [--output PATH] FILE",
      "write the scenario's topology", cmd_topo, false },
    { "up", "up [--out DIR] [--timeout SECONDS] [--of-port N] [--rest-port N] FILE",
      "bring the network up with the embedded controller and keep it up until "
      "Ctrl-C", cmd_up, false },
    { "clean", "clean [--remote ssh://USER@HOST[:PORT] [--ssh-key FILE] ...]",
      "remove what a run killed with SIGKILL (or a lost connection) left behind", cmd_clean,
      false },
    { "ctl", "ctl [--controller ryu|odl] [--url URL] [--json] switches|ports|flows|tables|links",
      "look at a controller's switches, ports, flows, tables or links", sim_cmd_ctl, false },
    { "faults", "faults", "list the fault catalogue", cmd_faults, true },
    { "replay", "replay [--diagnoser URL] [--kafka BROKERS --topic T] [--speed N|max] RUNDIR",
      "stream a recorded run to a diagnoser (and score it) or to Kafka", sim_cmd_replay, false },
    { "score", "score RUNDIR [PREDICTIONS]",
      "score a diagnoser's answers against a run's ground truth", sim_cmd_score, false },
    { "report", "report [-o FILE] [--watch [--every SECONDS]] RUNDIR",
      "write a run as one HTML page: topology, fault timeline, counters, KPIs, score",
      sim_cmd_report, false },
    { "merge", "merge [--all] OUT RUNDIR|CAMPAIGNDIR...",
      "join runs into one dataset, each row with its run", sim_cmd_merge, false },
    { "split", "split DATASET --by run|episode [--test F] [--seed N] [--out FILE]",
      "split a dataset into training and test sets by whole runs or episodes", sim_cmd_split, false },
    { "audit", "audit [--precision P] [--recall R] [--top N] [--json FILE] DATASET...",
      "list the single columns and rule shapes that give each fault type away",
      sim_cmd_audit, false },
    { "slurm", "slurm FILE --shards N [--out CAMPAIGNDIR] [--script FILE]",
      "write an sbatch job array that runs a campaign's shards on a SLURM cluster",
      sim_cmd_slurm, false },
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: simrun [--version] [--help] COMMAND [ARGS]\n"
                 "       simrun FILE\n\ncommands:\n");
    for (size_t i = 0; i < SR_ARRAY_SIZE(commands); i++) {
        fprintf(out, "  %-66s\n      %s\n", commands[i].usage, commands[i].summary);
    }
    fprintf(out, "\nExit status: 0 success, 1 runtime failure, 2 usage or scenario "
                 "error.\n");
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "simrun: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (size_t i = 0; i < SR_ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, cmd)) {
            fprintf(stderr, "usage: simrun %s\n", commands[i].usage);
        }
    }
    return EXIT_USAGE;
}

/* The protocol trace tests ask for with $SIMRUN_PROTOCOL_TRACE (a file to
 * append to), or none. */
int
cli_open_trace(struct sr_trace **out, struct sr_error *err)
{
    const char *path = getenv("SIMRUN_PROTOCOL_TRACE");

    *out = NULL;
    if (!path || !*path) {
        return 0;
    }
    *out = sr_trace_open(path, err);
    return *out ? 0 : -err->code;
}

static int
load_plan(const char *path, long long seed, struct scenario **scn_out,
          struct sim_plan **plan_out)
{
    struct cli_overrides ov = { .seed = seed, .duration_ms = -1 };

    return cli_load_plan(path, &ov, scn_out, plan_out);
}

bool
cli_parse_seed(const char *s, long long *out)
{
    int64_t v;

    if (!sr_parse_i64(s, 0, INT64_MAX, &v)) {
        return false;
    }
    *out = (long long) v;
    return true;
}

static int
cmd_check(int argc, char **argv)
{
    int status = 0;

    if (argc < 2) {
        return cli_usage_error("check", "%s", "check needs a scenario file");
    }
    for (int i = 1; i < argc; i++) {
        struct scenario *scn = NULL;
        struct sim_plan *plan = NULL;

        if (load_plan(argv[i], -1, &scn, &plan)) {
            status = EXIT_USAGE;
            continue;
        }
        printf("%s: ok (%zu switches, %zu hosts, %zu fault episode%s, %.0f s)\n", argv[i],
               plan->topo->nsw, plan->topo->nhost, plan->timeline.n,
               plan->timeline.n == 1 ? "" : "s", (double) plan->duration_ms / 1000.0);
        sim_plan_free(plan);
        scenario_free(scn);
    }
    return status;
}

static const struct option seed_options[] = {
    { "seed", required_argument, NULL, 's' },
    { "format", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int
cmd_plan(int argc, char **argv)
{
    struct scenario *scn = NULL;
    struct sim_plan *plan = NULL;
    long long seed = -1;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", seed_options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!cli_parse_seed(optarg, &seed)) {
                return cli_usage_error("plan", "invalid seed '%s'", optarg);
            }
            break;
        case 'h':
            printf("usage: simrun plan [--seed N] FILE\n");
            return 0;
        default:
            return cli_usage_error("plan", "%s", "invalid option");
        }
    }
    if (optind + 1 != argc) {
        return cli_usage_error("plan", "%s", "plan needs exactly one scenario file");
    }
    rc = load_plan(argv[optind], seed, &scn, &plan);
    if (rc) {
        return rc;
    }
    if (seed < 0 && scn_multi_run(scn)) {
        /* A campaign of several runs: each run's plan, then the totals. */
        uint64_t *seeds = NULL;
        size_t n = scn_run_seeds(scn, &seeds);
        size_t ntypes;
        const struct flt_type *types = flt_types(&ntypes);
        long *per_type = xcalloc(ntypes, sizeof *per_type);

        sim_plan_free(plan);
        scenario_free(scn);
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = load_plan(argv[optind], (long long) seeds[i], &scn, &plan);
            if (rc) {
                break;
            }
            printf("%s== run %zu of %zu: %s-%llu ==\n", i ? "\n" : "", i + 1, n, scn->name,
                   (unsigned long long) seeds[i]);
            sim_plan_print(plan, stdout);
            for (size_t e = 0; e < plan->timeline.n; e++) {
                per_type[plan->timeline.ep[e].type - types]++;
            }
            sim_plan_free(plan);
            scenario_free(scn);
        }
        if (rc == 0) {
            printf("\ncampaign        %zu runs; episodes per type over all runs:", n);
            for (size_t t = 0; t < ntypes; t++) {
                if (per_type[t]) {
                    printf(" %s:%ld", types[t].name, per_type[t]);
                }
            }
            printf("\n");
        }
        free(per_type);
        free(seeds);
        return rc ? rc : fflush(stdout) ? 1 : 0;
    }
    sim_plan_print(plan, stdout);
    sim_plan_free(plan);
    scenario_free(scn);
    return fflush(stdout) ? 1 : 0;
}

static int
cmd_topo(int argc, char **argv)
{
    struct scenario *scn = NULL;
    struct sim_plan *plan = NULL;
    struct sr_error err = { 0 };
    const char *format = "json", *output = NULL;
    long long seed = -1;
    FILE *out = stdout;
    struct sr_buf text = SR_BUF_INIT;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:f:o:h", seed_options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!cli_parse_seed(optarg, &seed)) {
                return cli_usage_error("topo", "invalid seed '%s'", optarg);
            }
            break;
        case 'f':
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            printf("usage: simrun topo [--format json|dot|mininet] [--seed N] "
                   "[--output PATH] FILE\n");
            return 0;
        default:
            return cli_usage_error("topo", "%s", "invalid option");
        }
    }
    if (strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "mininet")) {
        return cli_usage_error("topo", "unknown format '%s' (json, dot or mininet)", format);
    }
    if (optind + 1 != argc) {
        return cli_usage_error("topo", "%s", "topo needs exactly one scenario file");
    }
    rc = load_plan(argv[optind], seed, &scn, &plan);
    if (rc) {
        return rc;
    }
    if (!strcmp(format, "json")) {
        rc = topo_write_json(plan->topo, scn->name, &text, &err);
    } else if (!strcmp(format, "dot")) {
        rc = topo_write_dot(plan->topo, scn->name, &text, &err);
    } else {
        rc = mn_write_script(plan->topo, scn->name, &text, &err);
    }
    if (rc == 0 && output && !(out = fopen(output, "w"))) {
        rc = sr_error_set(&err, sr_write_code(errno), "cannot write '%s': %s", output,
                          strerror(errno));
    }
    if (rc == 0 && fwrite(text.data, 1, text.len, out) != text.len) {
        rc = sr_error_set(&err, sr_write_code(errno), "cannot write '%s': %s",
                          output ? output : "stdout", strerror(errno));
    }
    if (out != stdout) {
        if (sr_fclose_checked(out, output, rc ? NULL : &err) < 0 && !rc) {
            rc = -err.code;
        }
    } else if (fflush(out) != 0 && !rc) {
        rc = sr_error_set(&err, sr_write_code(errno), "cannot write to stdout: %s",
                          strerror(errno));
    }
    if (rc) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
    }

    sr_buf_release(&text);
    sim_plan_free(plan);
    scenario_free(scn);
    return rc;
}

static int
cmd_faults(int argc, char **argv)
{
    size_t n;
    const struct flt_type *t = flt_types(&n);

    (void) argv;
    if (argc > 1) {
        return cli_usage_error("faults", "%s", "faults takes no arguments");
    }
    printf("%-21s %4s  %-10s %-26s %-17s %s\n", "type", "seed", "family", "target",
           "default target", "what it does");
    for (size_t i = 0; i < n; i++) {
        char id[16] = "-";

        if (t[i].seed_id) {
            snprintf(id, sizeof id, "%d", t[i].seed_id);
        }
        printf("%-21s %4s  %-10s %-26s %-17s %s\n", t[i].name, id,
               flt_family_name(t[i].family), flt_target_kind_name(t[i].target),
               t[i].default_target, t[i].summary);
    }
    return 0;
}

static const char up_help[] =
    "commands, one per line on standard input:\n"
    "  link A B down|up      take the link between switches A and B down or up\n"
    "  switch S stop|start   stop or restart switch S\n"
    "  host H down|up        take host H's interface down or up\n"
    "  run H COMMAND...      run a command on host H and show its output\n"
    "  capture start SEL...  capture packets into RUNDIR/pcap/ on the interfaces SEL\n"
    "                        names (hosts, servers, users, a host, a switch, c1-eth2)\n"
    "  capture stop          stop it; lists the pcap files and their packets\n"
    "  help, quit\n";

/* What 'simrun up' does between sweeps or waits: watch the children, take
 * commands from standard input. */
struct up_loop {
    struct sim_runtime *rt;
    const struct ctl_config *external; /* NULL: the embedded controller */
    struct sr_trace *trace;
    struct sr_buf line;
    bool stdin_open;
    bool quit;
    int rc;
    const struct sim_plan *plan;
    struct capture *cap;      /* a capture started by hand, or NULL */
    int captures;             /* started so far (they are numbered) */
};

/* Stops the capture started by hand, and says what it wrote. */
static void
up_capture_stop(struct up_loop *u)
{
    json_t *report = NULL, *f;
    struct sr_error err = { 0 };
    size_t i;

    if (cap_finish(u->cap, 0, 0, &report, &err) < 0) {
        printf("error: %s\n", err.msg);
    }
    u->cap = NULL;
    json_array_foreach(json_object_get(report, "files"), i, f) {
        printf("%s/%s: %lld packets\n", sim_runtime_dir(u->rt),
               json_string_value(json_object_get(f, "file")),
               (long long) json_integer_value(json_object_get(f, "packets")));
    }
    json_array_foreach(json_object_get(report, "interfaces"), i, f) {
        json_int_t lost = json_integer_value(json_object_get(f, "dropped")) +
                          json_integer_value(json_object_get(f, "if_dropped"));

        if (lost) {
            printf("%s: the kernel dropped %lld packets\n",
                   json_string_value(json_object_get(f, "name")), (long long) lost);
        }
    }
    json_decref(report);
}

/* "capture start SEL..." and "capture stop". */
static void
up_capture(struct up_loop *u, char **words, size_t n)
{
    struct sr_error err = { 0 };
    char tag[32];

    if (n >= 3 && !strcmp(words[1], "start")) {
        if (u->cap) {
            printf("error: a capture is running; 'capture stop' first\n");
            return;
        }
        if (sim_runtime_is_remote(u->rt)) {
            printf("error: the network runs on a lab server; packet capture reads "
                   "interfaces on this machine\n");
            return;
        }
        snprintf(tag, sizeof tag, "lab%d", u->captures + 1);
        u->cap = sim_capture_by_hand(u->plan, u->rt, (const char *const *) words + 2, n - 2, tag,
                                     &err);
        if (!u->cap) {
            printf("error: %s\n", err.msg);
            return;
        }
        u->captures++;
        printf("capturing into %s/pcap/%s-*.pcap\n", sim_runtime_dir(u->rt), tag);
    } else if (n == 2 && !strcmp(words[1], "stop")) {
        if (!u->cap) {
            printf("error: no capture is running\n");
            return;
        }
        up_capture_stop(u);
    } else {
        fputs(up_help, stdout);
    }
}

/* Handles one line typed at 'simrun up'.  Returns false on "quit". */
static bool
up_command(struct up_loop *u, char *line)
{
    struct sim_runtime *rt = u->rt;
    char *words[64];
    size_t n = 0;
    struct sr_error err = { 0 };
    json_t *cmd = NULL, *answer = NULL;
    char *save = NULL;

    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < SR_ARRAY_SIZE(words);
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        words[n++] = tok;
    }
    if (n == 0) {
        return true;
    }
    if (!strcmp(words[0], "quit") || !strcmp(words[0], "exit")) {
        return false;
    }
    if (n == 4 && !strcmp(words[0], "link")) {
        cmd = json_pack("{s:s, s:s, s:s, s:s}", "cmd", "link", "a", words[1], "b", words[2],
                        "state", words[3]);
    } else if (n == 3 && (!strcmp(words[0], "switch") || !strcmp(words[0], "host"))) {
        cmd = json_pack("{s:s, s:s, s:s}", "cmd", words[0], "name", words[1], "state",
                        words[2]);
    } else if (n >= 2 && !strcmp(words[0], "capture")) {
        up_capture(u, words, n);
        fflush(stdout);
        return true;
    } else if (n >= 3 && !strcmp(words[0], "run")) {
        json_t *argv = json_array();

        for (size_t i = 2; i < n; i++) {
            json_array_append_new(argv, json_string(words[i]));
        }
        cmd = json_pack("{s:s, s:s, s:o}", "cmd", "run", "host", words[1], "argv", argv);
    } else {
        fputs(up_help, stdout);
        fflush(stdout);
        return true;
    }
    if (sim_runtime_command(rt, cmd, 60, &answer, &err) < 0) {
        printf("error: %s\n", err.msg);
    } else {
        const char *out = json_string_value(json_object_get(answer, "stdout"));
        const char *errs = json_string_value(json_object_get(answer, "stderr"));

        fputs(out ? out : "", stdout);
        fputs(errs ? errs : "", stdout);
        if (json_object_get(answer, "status")) {
            printf("exit status %lld\n",
                   (long long) json_integer_value(json_object_get(answer, "status")));
        } else {
            printf("ok\n");
        }
        json_decref(answer);
    }
    fflush(stdout);
    return true;
}

static const struct option up_options[] = {
    { "out", required_argument, NULL, 'o' },
    { "timeout", required_argument, NULL, 't' },
    { "of-port", required_argument, NULL, 'p' },
    { "rest-port", required_argument, NULL, 'r' },
    { "collect", no_argument, NULL, 'c' },
    { "insecure-credentials", no_argument, NULL, 'I' },
    { "help", no_argument, NULL, 'h' },
    CLI_REMOTE_OPTIONS,
    { NULL, 0, NULL, 0 },
};


/* One round of the loop, waiting at most 'ms'.  Returns false to stop. */
static bool
up_step(struct up_loop *u, int ms)
{
    struct sr_error err = { 0 };
    int w = sim_runtime_watch(u->rt, ms, &err);

    if (w > 0) {
        SR_INFO("signal %d: tearing the network down", w);
        return false;
    }
    if (w < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        u->rc = 1;
        return false;
    }
    while (u->stdin_open) {
        struct pollfd pfd = { 0, POLLIN, 0 };
        char buf[1024], *nl;
        ssize_t n;

        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP))) {
            break;
        }
        n = read(0, buf, sizeof buf);
        if (n <= 0) {
            u->stdin_open = false; /* stay up until a signal */
            break;
        }
        sr_buf_append(&u->line, buf, (size_t) n);
        while ((nl = memchr(u->line.data, '\n', u->line.len))) {
            size_t len = (size_t) (nl - u->line.data);
            char *cmdline = xstrndup(u->line.data, len);
            bool go_on = up_command(u, cmdline);

            free(cmdline);
            memmove(u->line.data, nl + 1, u->line.len - len - 1);
            u->line.len -= len + 1;
            if (!go_on) {
                u->quit = true;
                return false;
            }
        }
    }
    return true;
}

static bool
up_tick(void *ctx, struct collector *c, long k, double t_s)
{
    (void) c;
    (void) k;
    (void) t_s;
    return up_step(ctx, 0);
}

/* Collects statistics into the run directory until the loop stops. */
static void
up_collect(struct up_loop *u, const struct sim_plan *plan)
{
    const struct scenario *scn = plan->scn;
    struct ctl_config cfg = { .kind = CTL_KIND_RYU, .url = sim_runtime_rest_url(u->rt),
                              .retries = 0, .batch = true };
    struct col_options o = { .dir = sim_runtime_dir(u->rt),
                             .interval_s = (double) scn->collector.interval_ms / 1000.0,
                             .csv = scn->collector.csv, .jsonl = scn->collector.jsonl,
                             .flows = scn->collector.flows };
    struct col_switch *sws = sim_col_switches(plan);
    struct sr_error err = { 0 };
    struct ctl_client *client;
    struct collector *c = NULL;
    int sig;

    /* A sweep must end before the next one is due. */
    if (u->external) {
        cfg = *u->external;
        cfg.batch = false;
    }
    cfg.trace = u->trace;
    cfg.timeout_ms = (long) (o.interval_s * 800.0);
    cfg.timeout_ms = cfg.timeout_ms > 2000 ? 2000 : cfg.timeout_ms;
    o.manifest = sim_manifest_base(plan, sim_runtime_controller_kind(u->rt), cfg.url);
    client = ctl_client_new(&cfg, &err);
    if (client) {
        c = col_new(&o, sws, plan->topo->nsw, NULL, 0, client, &err);
    }
    if (!c) {
        fprintf(stderr, "simrun: cannot collect: %s\n", err.msg);
        u->rc = 1;
    } else {
        SR_INFO("collecting every %.1f s into %s", o.interval_s, o.dir);
        sig = col_run(c, 1e12, up_tick, NULL, u);
        col_finish(c, sig || u->quit ? "interrupted" : u->rc ? "failed" : "complete");
    }
    ctl_client_free(client);
    json_decref(o.manifest);
    free(sws);
}

static int
cmd_up(int argc, char **argv)
{
    struct sim_runtime_opts opts = { 0 };
    struct scenario *scn = NULL;
    struct sim_plan *plan = NULL;
    struct sim_runtime *rt;
    struct sr_error err = { 0 };
    struct up_loop u = { .stdin_open = true };
    struct ctl_config ext_cfg;
    struct sim_credentials cred = { 0 };
    struct cli_overrides ov = { .seed = -1, .duration_ms = -1 };
    bool collect = false;
    int64_t v;
    double timeout;
    int c, rc = 0, ext;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:p:r:chI", up_options, NULL)) != -1) {
        switch (c) {
        case 'I':
            ov.insecure_auth = true;
            break;
        case 'c':
            collect = true;
            break;
        case 'o':
            opts.out_dir = optarg;
            break;
        case 't':
            if (!sr_parse_double(optarg, &timeout) || timeout <= 0 || timeout > 3600) {
                return cli_usage_error("up", "invalid timeout '%s' (seconds, up to 3600)", optarg);
            }
            opts.ready_timeout_s = timeout;
            break;
        case 'p':
        case 'r':
            if (!sr_parse_i64(optarg, 1, 65535, &v)) {
                return cli_usage_error("up", "invalid port '%s'", optarg);
            }
            *(c == 'p' ? &opts.of_port : &opts.rest_port) = (int) v;
            break;
        case 'h':
            printf("usage: simrun up [--out DIR] [--timeout SECONDS] [--of-port N] "
                   "[--rest-port N] [--collect]\n"
                   "                 [--insecure-credentials] [--remote ssh://USER@HOST[:PORT]\n"
                   "                 [--ssh-key FILE] [--ssh-known-hosts FILE]\n"
                   "                 [--ssh-password-file FILE]] FILE\n\n"
                   "--collect writes the controller's statistics to the run directory\n"
                   "(samples.csv, ports.csv, manifest.json) while the network is up.\n\n%s\n%s",
                   CLI_REMOTE_USAGE, up_help);
            return 0;
        default:
            rc = cli_remote_option("up", c, optarg, &opts.remote);
            if (rc == 1) {
                rc = 0;
                break;
            }
            return rc ? rc : cli_usage_error("up", "%s", "invalid option");
        }
    }
    if (optind + 1 != argc) {
        return cli_usage_error("up", "%s", "up needs exactly one scenario file");
    }
    rc = cli_load_plan(argv[optind], &ov, &scn, &plan);
    if (rc == 0) {
        rc = cli_remote_resolve(scn, &opts.remote);
    }
    if (rc) {
        sim_plan_free(plan);
        scenario_free(scn);
        return rc;
    }
    ext = sim_external_controller(scn, &ext_cfg, &cred, &err);
    if (ext < 0 || sr_signals_install(&err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    opts.external = u.external = ext ? &ext_cfg : NULL;
    if (cli_open_trace(&opts.trace, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    u.trace = opts.trace;
    rt = sim_runtime_up(plan, &opts, &err);
    if (!rt) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    printf("ready in %.1f s\n", sim_runtime_ready_s(rt));
    fflush(stdout);
    fprintf(stderr, "simrun: %s controller %s (OpenFlow port %d); run directory %s\n"
                    "simrun: Ctrl-C tears the network down; 'help' on standard input "
                    "lists commands\n",
            sim_runtime_controller_kind(rt), sim_runtime_rest_url(rt), sim_runtime_of_port(rt),
            sim_runtime_dir(rt));
    u.rt = rt;
    u.plan = plan;
    if (collect) {
        up_collect(&u, plan);
    } else {
        while (up_step(&u, 100)) {
        }
    }
    rc = u.rc;
    if (u.cap) {
        up_capture_stop(&u);
    }
    sim_runtime_down(rt);
    SR_INFO("network torn down");

out:
    sr_trace_free(opts.trace);
    sim_credentials_release(&cred);
    sr_buf_release(&u.line);
    sim_plan_free(plan);
    scenario_free(scn);
    return rc;
}

static const struct option clean_options[] = {
    { "help", no_argument, NULL, 'h' },
    CLI_REMOTE_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static int
cmd_clean(int argc, char **argv)
{
    struct sr_buf report = SR_BUF_INIT;
    struct sr_error err = { 0 };
    struct sim_remote_opts remote = { 0 };
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", clean_options, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: simrun clean [--remote ssh://USER@HOST[:PORT] [--ssh-key FILE]\n"
                   "                    [--ssh-known-hosts FILE] [--ssh-password-file FILE]]\n\n"
                   "Removes what a run killed with SIGKILL left behind: its processes, Open\n"
                   "vSwitch bridges, network devices and state file.  With --remote, what a\n"
                   "run on that lab server left there (also after a lost connection), and\n"
                   "the run directories simrun made there.  Refuses while a run is active.\n\n%s",
                   CLI_REMOTE_USAGE);
            return 0;
        }
        rc = cli_remote_option("clean", c, optarg, &remote);
        if (rc != 1) {
            return rc ? rc : cli_usage_error("clean", "%s", "invalid option");
        }
    }
    if (optind != argc) {
        return cli_usage_error("clean", "%s", "clean takes no file");
    }
    if (!remote.url && (remote.key_file || remote.known_hosts || remote.password_file)) {
        return cli_usage_error("clean", "%s", "--ssh-* options go with --remote");
    }
    if ((remote.url ? sim_clean_remote(&remote, &report, &err) : sim_clean(&report, &err)) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        sr_buf_release(&report);
        return 1;
    }
    if (report.len) {
        printf("removed:\n");
        for (const char *p = sr_buf_cstr(&report); *p;) {
            size_t n = strcspn(p, "\n");

            printf("  %.*s\n", (int) n, p);
            p += n + (p[n] == '\n');
        }
    } else {
        printf("nothing to clean\n");
    }
    sr_buf_release(&report);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *name;

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        printf("simrun %s\n", SIMRUN_VERSION);
        return 0;
    }
    for (size_t i = 0; i < SR_ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            if (commands[i].plain && argc == 3 &&
                (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
                printf("usage: simrun %s\n%s\n", commands[i].usage, commands[i].summary);
                return 0;
            }
            return commands[i].exec(argc - 1, argv + 1);
        }
    }
    if (strchr(name, '.') || strchr(name, '/')) {
        /* "simrun FILE" is "simrun run FILE". */
        return sim_cmd_run(argc, argv);
    }
    fprintf(stderr, "simrun: unknown command '%s'\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
