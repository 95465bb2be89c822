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

#include "faults.h"
#include "log.h"
#include "mininet.h"
#include "plan.h"
#include "scenario.h"
#include "topology.h"
#include "util.h"

#define EXIT_USAGE 2

struct command {
    const char *name;
    const char *usage;
    const char *summary;
    int (*exec)(int argc, char **argv);
};

static int cmd_check(int argc, char **argv);
static int cmd_plan(int argc, char **argv);
static int cmd_topo(int argc, char **argv);
static int cmd_faults(int argc, char **argv);
static int cmd_run(int argc, char **argv);

static const struct command commands[] = {
    { "run", "run FILE", "run a scenario (also: simrun FILE)", cmd_run },
    { "check", "check FILE...", "validate scenario files, reporting every problem",
      cmd_check },
    { "plan", "plan [--seed N] FILE",
      "show topology, traffic mix and fault timeline without running", cmd_plan },
    { "topo", "topo [--format json|dot|mininet] [--seed N] [--output PATH] FILE",
      "write the scenario's topology", cmd_topo },
    { "faults", "faults", "list the fault catalogue", cmd_faults },
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

static int __attribute__((format(printf, 2, 3)))
usage_error(const char *cmd, const char *fmt, ...)
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

/* Loads the scenario at 'path' and builds its plan; prints every problem to
 * stderr.  'seed' >= 0 overrides the scenario's seed. */
static int
load_plan(const char *path, long long seed, struct scenario **scn_out,
          struct sim_plan **plan_out)
{
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct scenario *scn = scenario_load(path, &diags, &err);
    struct sim_plan *plan = NULL;
    char *text;

    if (scn) {
        if (seed >= 0) {
            scn->seed = (uint64_t) seed;
        }
        plan = sim_plan_build(scn, &diags, &err);
    }
    if (!plan) {
        if (diags.n) {
            text = scn_diags_format(&diags, path);
            fputs(text, stderr);
            free(text);
        } else {
            fprintf(stderr, "simrun: %s\n", err.msg);
        }
        fprintf(stderr, "simrun: %s: %zu problem%s\n", path, diags.n ? diags.n : 1,
                diags.n > 1 ? "s" : "");
        scn_diags_release(&diags);
        scenario_free(scn);
        return EXIT_USAGE;
    }
    scn_diags_release(&diags);
    *scn_out = scn;
    *plan_out = plan;
    return 0;
}

static bool
parse_seed(const char *s, long long *out)
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
        return usage_error("check", "%s", "check needs a scenario file");
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
            if (!parse_seed(optarg, &seed)) {
                return usage_error("plan", "invalid seed '%s'", optarg);
            }
            break;
        case 'h':
            printf("usage: simrun plan [--seed N] FILE\n");
            return 0;
        default:
            return usage_error("plan", "%s", "invalid option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("plan", "%s", "plan needs exactly one scenario file");
    }
    rc = load_plan(argv[optind], seed, &scn, &plan);
    if (rc) {
        return rc;
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
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:f:o:h", seed_options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!parse_seed(optarg, &seed)) {
                return usage_error("topo", "invalid seed '%s'", optarg);
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
            return usage_error("topo", "%s", "invalid option");
        }
    }
    if (strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "mininet")) {
        return usage_error("topo", "unknown format '%s' (json, dot or mininet)", format);
    }
    if (optind + 1 != argc) {
        return usage_error("topo", "%s", "topo needs exactly one scenario file");
    }
    rc = load_plan(argv[optind], seed, &scn, &plan);
    if (rc) {
        return rc;
    }
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "simrun: cannot write '%s': %s\n", output, strerror(errno));
        rc = 1;
        goto out;
    }
    if (!strcmp(format, "json")) {
        rc = topo_write_json(plan->topo, scn->name, out, &err);
    } else if (!strcmp(format, "dot")) {
        rc = topo_write_dot(plan->topo, scn->name, out, &err);
    } else {
        rc = mn_write_script(plan->topo, scn->name, out, &err);
    }
    if ((out != stdout ? fclose(out) : fflush(out)) != 0 && !rc) {
        rc = sr_error_set(&err, SR_EIO, "cannot write '%s': %s", output ? output : "stdout",
                          strerror(errno));
    }
    if (rc) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
    }

out:
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
        return usage_error("faults", "%s", "faults takes no arguments");
    }
    printf("%-21s %4s  %-10s %-26s %-17s %s\n", "type", "seed", "family", "target",
           "default target", "what it does");
    for (size_t i = 0; i < n; i++) {
        char id[8] = "-";

        if (t[i].seed_id) {
            snprintf(id, sizeof id, "%d", t[i].seed_id);
        }
        printf("%-21s %4s  %-10s %-26s %-17s %s\n", t[i].name, id,
               flt_family_name(t[i].family), flt_target_kind_name(t[i].target),
               t[i].default_target, t[i].summary);
    }
    return 0;
}

static int
cmd_run(int argc, char **argv)
{
    struct scenario *scn = NULL;
    struct sim_plan *plan = NULL;
    int rc;

    if (argc != 2) {
        return usage_error("run", "%s", "run needs exactly one scenario file");
    }
    rc = load_plan(argv[1], -1, &scn, &plan);
    if (rc) {
        return rc;
    }
    sim_plan_free(plan);
    scenario_free(scn);
    fprintf(stderr, "simrun: %s is valid, but running scenarios needs the emulation "
                    "runtime, which this build does not have yet; 'simrun plan %s' "
                    "shows what the run will do\n",
            argv[1], argv[1]);
    return 1;
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
            return commands[i].exec(argc - 1, argv + 1);
        }
    }
    if (strchr(name, '.') || strchr(name, '/')) {
        /* "simrun FILE" is "simrun run FILE". */
        return cmd_run(argc, argv);
    }
    fprintf(stderr, "simrun: unknown command '%s'\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
