/* simrun run: one scenario, or a campaign of runs (one per seed of
 * [campaign] seeds/runs) into one campaign directory, with resume and
 * shards. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "campaign.h"
#include "client.h"
#include "files.h"
#include "log.h"
#include "plan.h"
#include "proc.h"
#include "run.h"
#include "scenario.h"
#include "trace.h"
#include "util.h"

static const struct option run_options[] = {
    { "insecure-credentials", no_argument, NULL, 'I' },
    { "controller", required_argument, NULL, 'C' },
    { "controller-url", required_argument, NULL, 'U' },
    { "of-port", required_argument, NULL, 'p' },
    { "out", required_argument, NULL, 'o' },
    { "seed", required_argument, NULL, 's' },
    { "duration", required_argument, NULL, 'd' },
    { "timeout", required_argument, NULL, 't' },
    { "shard", required_argument, NULL, 'k' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    CLI_REMOTE_OPTIONS,
    { NULL, 0, NULL, 0 },
};

static const char run_usage[] =
    "usage: simrun [run] [--out DIR] [--seed N] [--duration D] [--timeout S]\n"
    "                    [--controller embedded|ryu|odl] [--controller-url URL]\n"
    "                    [--of-port N] [--shard K/N] [--quiet] [--insecure-credentials]\n"
    "                    [--remote ssh://USER@HOST[:PORT] [--ssh-key FILE]\n"
    "                     [--ssh-known-hosts FILE] [--ssh-password-file FILE]] FILE\n"
    "\n"
    "--controller and --controller-url override [controller]: with ryu or odl\n"
    "the switches connect to that controller (OpenFlow on the URL's host,\n"
    "port --of-port, 6653 by default) and simrun reads and writes through its\n"
    "REST API.  The password comes from [controller] password_file (a file\n"
    "only you can read), the URL's user:password@, or\n"
    "$SIMRUN_CONTROLLER_PASSWORD; it goes over plain http:// to another\n"
    "machine only with --insecure-credentials.\n"
    "\n"
    "A campaign with 'seeds' or 'runs' runs once per seed into one campaign\n"
    "directory (--out, default runs/<name>-campaign): <name>-<seed>/ per run and\n"
    "campaign.json.  Runs already complete there are skipped, so the same command\n"
    "resumes a campaign; a run that fails is recorded and the next one starts.\n"
    "--shard K/N runs the K-th of N shares of the runs (K from 1), for several\n"
    "machines; --seed N runs only that seed.\n"
    "\n" CLI_REMOTE_USAGE;

/* Runs the plan once and prints its summary.  Returns the exit code; sets
 * '*status' ("complete", "interrupted", "failed", or "not started"). */
static int
run_plan(struct scenario *scn, struct sim_plan *plan, struct sim_run_opts *opts,
         const char **status)
{
    struct sim_run_summary sum = { 0 };
    struct sr_error err = { 0 };
    struct ctl_config ext_cfg;
    struct sim_credentials cred = { 0 };
    struct sim_remote_opts cli_remote = opts->runtime.remote;
    int rc, ext;

    *status = "not started";
    rc = cli_remote_resolve(scn, &opts->runtime.remote);
    if (rc) {
        opts->runtime.remote = cli_remote;
        return rc;
    }
    ext = sim_external_controller(scn, &ext_cfg, &cred, &err);
    if (ext < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        sim_credentials_release(&cred);
        return 1;
    }
    opts->runtime.external = ext ? &ext_cfg : NULL;
    rc = sim_run(plan, opts, &sum, &err);
    opts->runtime.external = NULL;
    opts->runtime.remote = cli_remote;
    if (rc < 0 && !sum.dir) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        sim_credentials_release(&cred);
        return 1;
    }
    *status = sum.status;
    printf("%s: %s\n", scn->name, sum.status);
    printf("  ready in       %.1f s\n", sum.ready_s);
    printf("  sweeps         %ld (%ld samples rows, %ld gap%s)\n", sum.sweeps, sum.rows,
           sum.gaps, sum.gaps == 1 ? "" : "s");
    printf("  rows per label %s\n", sum.labels[0] ? sum.labels : "-");
    printf("  faults         %d injected, %d verified, %d reverted, %d failed; the controller "
           "healed %d, %d in part\n",
           sum.injected, sum.verified, sum.reverted, sum.failed, sum.healed, sum.partly_healed);
    if (sum.diagnoser[0]) {
        printf("  diagnoser      %s (score.json)\n", sum.diagnoser);
    }
    if (sum.kafka[0]) {
        printf("  kafka          %s\n", sum.kafka);
    }
    if (sum.links_lost) {
        printf("  unplanned      the controller lost links %d time%s with no fault in the air "
               "(see faults.jsonl)\n",
               sum.links_lost, sum.links_lost == 1 ? "" : "s");
    }
    printf("  run directory  %s\n", sum.dir);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
    }
    sim_run_summary_release(&sum);
    sim_credentials_release(&cred);
    return rc == 0 ? 0 : 1;
}

/* A run directory left by a run that did not complete is kept, renamed
 * out of the way, so a resumed campaign starts that run afresh and loses
 * nothing. */
static int
set_aside(const char *dir)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    char *to;
    int rc;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    to = xasprintf("%s.incomplete-%s", dir, stamp);
    rc = rename(dir, to);
    if (rc == 0) {
        SR_INFO("%s did not complete before: kept as %s, run again", dir, to);
    } else {
        fprintf(stderr, "simrun: cannot move '%s' aside: %s\n", dir, strerror(errno));
    }
    free(to);
    return rc;
}

static int
run_campaign(const char *path, const struct scenario *first, struct cli_overrides *ov,
             struct sim_run_opts *opts, const char *out, int shard_k, int shard_n)
{
    uint64_t *seeds = NULL;
    size_t nseeds = scn_run_seeds(first, &seeds);
    char *dir = out ? xstrdup(out) : xasprintf("runs/%s-campaign", first->name);
    char *name = xstrdup(first->name);
    struct sr_error err = { 0 };
    int failed = 0, done = 0, skipped = 0, rc = 0;
    bool stopped = false;

    if (sr_dir_ours(dir, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        free(dir);
        free(name);
        free(seeds);
        return 1;
    }
    printf("campaign %s: %zu run%s%s into %s\n", name, nseeds, nseeds == 1 ? "" : "s",
           shard_n > 1 ? " (this shard's share of them)" : "", dir);
    for (size_t i = 0; i < nseeds && !stopped; i++) {
        struct scenario *scn = NULL;
        struct sim_plan *plan = NULL;
        char *rundir;
        const char *status;
        int one;

        if (shard_n > 1 && (int) (i % (size_t) shard_n) != shard_k - 1) {
            continue;
        }
        rundir = xasprintf("%s/%s-%llu", dir, name, (unsigned long long) seeds[i]);
        status = cmp_run_status(rundir);
        if (status && !strcmp(status, "complete")) {
            printf("%s-%llu: complete already, skipped\n", name, (unsigned long long) seeds[i]);
            skipped++;
            free(rundir);
            continue;
        }
        if (status && set_aside(rundir) < 0) {
            failed++;
            free(rundir);
            continue;
        }
        ov->seed = (long long) seeds[i];
        one = cli_load_plan(path, ov, &scn, &plan);
        if (one == 0) {
            opts->runtime.out_dir = rundir;
            one = run_plan(scn, plan, opts, &status);
            stopped = sr_signals_pending() != 0 || !strcmp(status, "interrupted");
        }
        done += one == 0;
        failed += one != 0 && !stopped;
        sim_plan_free(plan);
        scenario_free(scn);
        free(rundir);
        /* The campaign's manifest after every run: a crash loses none. */
        if (cmp_write_manifest(dir, path, name, seeds, nseeds, shard_k, shard_n, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
        }
    }
    if (!stopped && shard_n <= 1 && done + skipped > 0) {
        /* What a diagnoser could learn instead of the faults (simrun audit). */
        int n = cmp_add_audit(dir, &err);

        if (n < 0) {
            fprintf(stderr, "simrun: auditing the campaign: %s\n", err.msg);
        } else {
            printf("campaign %s: %d fault type%s given away by a single column or rule shape "
                   "(campaign.json 'audit'; simrun audit %s lists them)\n",
                   name, n, n == 1 ? " is" : "s are", dir);
        }
    }
    printf("campaign %s: %d run%s done, %d skipped (complete before), %d failed%s; %s/%s\n",
           name, done, done == 1 ? "" : "s", skipped, failed, stopped ? ", interrupted" : "",
           dir, shard_n > 1 ? "shard-*.json" : "campaign.json");
    free(dir);
    free(name);
    free(seeds);
    return stopped || failed || rc ? 1 : 0;
}

int
sim_cmd_run(int argc, char **argv)
{
    struct sim_run_opts opts = { 0 };
    struct scenario *scn = NULL;
    struct sim_plan *plan = NULL;
    struct sr_error err = { 0 };
    struct cli_overrides ov = { 0 };
    struct scn_diags diags = { 0 };
    long long seed = -1;
    int64_t duration_ms = -1, v, k = 1, n = 1;
    double timeout;
    const char *out = NULL, *status;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:d:t:qhC:U:p:Ik:", run_options, NULL)) != -1) {
        switch (c) {
        case 'I':
            ov.insecure_auth = true;
            break;
        case 'C':
            if (strcmp(optarg, "embedded") && strcmp(optarg, "ryu") && strcmp(optarg, "odl")) {
                return cli_usage_error("run", "unknown controller '%s' (embedded, ryu or odl)",
                                       optarg);
            }
            ov.controller = optarg;
            break;
        case 'U':
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
                return cli_usage_error("run", "the controller URL '%s' must start with http:// "
                                       "or https://", optarg);
            }
            ov.url = optarg;
            break;
        case 'p':
            if (!sr_parse_i64(optarg, 1, 65535, &v)) {
                return cli_usage_error("run", "invalid port '%s'", optarg);
            }
            opts.runtime.of_port = (int) v;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            if (!cli_parse_seed(optarg, &seed)) {
                return cli_usage_error("run", "invalid seed '%s'", optarg);
            }
            break;
        case 'd':
            if (!scn_parse_duration(optarg, &duration_ms) || duration_ms < 1000) {
                return cli_usage_error("run", "invalid duration '%s' (as in \"90s\" or \"5m\")",
                                       optarg);
            }
            break;
        case 't':
            if (!sr_parse_double(optarg, &timeout) || timeout <= 0 || timeout > 3600) {
                return cli_usage_error("run", "invalid timeout '%s'", optarg);
            }
            opts.runtime.ready_timeout_s = timeout;
            break;
        case 'k': {
            const char *slash = strchr(optarg, '/');
            char kbuf[16];

            if (!slash || (size_t) (slash - optarg) >= sizeof kbuf) {
                return cli_usage_error("run", "--shard is K/N, as in 2/8");
            }
            memcpy(kbuf, optarg, (size_t) (slash - optarg));
            kbuf[slash - optarg] = '\0';
            if (!sr_parse_i64(slash + 1, 1, SCN_MAX_RUNS, &n) || !sr_parse_i64(kbuf, 1, n, &k)) {
                return cli_usage_error("run", "--shard is K/N with 1 <= K <= N <= %d, not '%s'",
                                       SCN_MAX_RUNS, optarg);
            }
            break;
        }
        case 'q':
            opts.quiet = true;
            sr_log_set_level(SR_LOG_WARN);
            break;
        case 'h':
            fputs(run_usage, stdout);
            return 0;
        default:
            rc = cli_remote_option("run", c, optarg, &opts.runtime.remote);
            if (rc == 1) {
                break;
            }
            return rc ? rc : cli_usage_error("run", "%s", "invalid option");
        }
    }
    if (optind + 1 != argc) {
        return cli_usage_error("run", "%s", "run needs exactly one scenario file");
    }
    ov.seed = seed;
    ov.duration_ms = duration_ms;
    if (cli_open_trace(&opts.runtime.trace, &err) < 0 || sr_signals_install(&err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        sr_trace_free(opts.runtime.trace);
        return 1;
    }
    /* A campaign of several runs, unless one seed is asked for. */
    scn = scenario_load(argv[optind], &diags, &err);
    if (scn && seed < 0 && scn_multi_run(scn)) {
        rc = run_campaign(argv[optind], scn, &ov, &opts, out, (int) k, (int) n);
        scenario_free(scn);
        scn_diags_release(&diags);
        sr_trace_free(opts.runtime.trace);
        return rc;
    }
    scenario_free(scn);
    scn = NULL;
    scn_diags_release(&diags);
    if (n > 1) {
        sr_trace_free(opts.runtime.trace);
        return cli_usage_error("run", "--shard is for a campaign with 'seeds' or 'runs'");
    }
    rc = cli_load_plan(argv[optind], &ov, &scn, &plan);
    if (rc == 0) {
        opts.runtime.out_dir = out;
        rc = run_plan(scn, plan, &opts, &status);
    }
    sr_trace_free(opts.runtime.trace);
    sim_plan_free(plan);
    scenario_free(scn);
    return rc;
}

int
cli_remote_option(const char *cmd, int c, const char *arg, struct sim_remote_opts *r)
{
    struct sr_ssh_target t;
    struct sr_error err = { 0 };

    switch (c) {
    case CLI_OPT_REMOTE:
        if (sr_ssh_url_parse(arg, &t, &err) < 0) {
            return cli_usage_error(cmd, "%s", err.msg);
        }
        r->url = arg;
        return 1;
    case CLI_OPT_SSH_KEY:
        r->key_file = arg;
        return 1;
    case CLI_OPT_SSH_KNOWN_HOSTS:
        r->known_hosts = arg;
        return 1;
    case CLI_OPT_SSH_PASSWORD_FILE:
        r->password_file = arg;
        return 1;
    default:
        return 0;
    }
}

int
cli_remote_resolve(const struct scenario *scn, struct sim_remote_opts *r)
{
    if (!r->url) {
        r->url = scn->emulation.remote;
    }
    if (!r->url && (r->key_file || r->known_hosts || r->password_file)) {
        fprintf(stderr, "simrun: --ssh-key, --ssh-known-hosts and --ssh-password-file are for "
                        "a network on a lab server (--remote, or [emulation] remote)\n");
        return CLI_EXIT_USAGE;
    }
    if (r->url && scn->capture.present) {
        fprintf(stderr, "simrun: %s:%d:%d: packet capture reads the network's interfaces on "
                        "this machine; a network on a lab server (%s) cannot be captured "
                        "yet: remove [capture] or run here\n",
                scn->path, scn->capture.line, scn->capture.col, r->url);
        return CLI_EXIT_USAGE;
    }
    return 0;
}
