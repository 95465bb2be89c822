/* simrun report: a run directory as report.html, once or again and again
 * while the run goes on (--watch). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "proc.h"
#include "report.h"
#include "rundir.h"
#include "util.h"

static const char report_usage[] =
    "usage: simrun report [-o FILE] [--watch [--every SECONDS]] RUNDIR\n"
    "Writes RUNDIR as one self-contained HTML page (RUNDIR/report.html unless -o names\n"
    "another file): the scenario and its timings, the topology with each fault's target\n"
    "marked, the fault timeline, the touched switches' counters and the services' KPIs\n"
    "over time with the fault windows shaded, labels, gaps, warnings, and the\n"
    "diagnoser's score when RUNDIR has a score.json.  No script, nothing fetched; the\n"
    "same run directory gives the same bytes.\n"
    "  -o, --output FILE   where to write the page\n"
    "  --watch             render again every few seconds while the run goes on (the\n"
    "                      page reloads itself), until the run ends or Ctrl-C\n"
    "  --every SECONDS     how often --watch renders (default 5)\n";

/* Renders 'dir' into 'out' through a fresh file renamed over it, so a
 * browser never reads half a page. */
/* Whether 'out' lies in the run directory 'dir' (then the page links the
 * run's pcap files by their relative paths). */
static bool
in_rundir(const char *dir, const char *out)
{
    char *d = realpath(dir, NULL), *od, *slash = strrchr(out, '/');
    char *parent = slash ? xstrndup(out, (size_t) (slash - out)) : xstrdup(".");
    bool same;

    od = realpath(*parent ? parent : "/", NULL);
    same = d && od && !strcmp(d, od);
    free(d);
    free(od);
    free(parent);
    return same;
}

static int
render_to(const char *dir, const char *out, int refresh_s, struct sr_error *err)
{
    struct report_opts o = { .refresh_s = refresh_s, .links = in_rundir(dir, out) };
    struct sr_buf html = SR_BUF_INIT;
    char *tmp = xasprintf("%s.tmp-%ld", out, (long) getpid());
    int rc = report_render(dir, &o, &html, err);

    if (rc == 0) {
        unlink(tmp);
        rc = sr_file_new(tmp, sr_buf_cstr(&html), html.len, 0644, err);
        if (rc == 0 && rename(tmp, out) < 0) {
            rc = sr_error_set(err, sr_write_code(errno), "cannot rename %s to %s: %s", tmp, out,
                              strerror(errno));
        }
        if (rc < 0) {
            unlink(tmp);
        }
    }
    sr_buf_release(&html);
    free(tmp);
    return rc;
}

/* The run's status from its manifest ("running", "complete", ...), or
 * NULL while there is no manifest yet. */
static char *
run_status(const char *dir)
{
    struct sr_error err = { 0 };
    json_t *m = rd_manifest(dir, &err);
    char *s = m ? xstrdup(json_string_value(json_object_get(m, "status")) ?
                          json_string_value(json_object_get(m, "status")) : "")
                : NULL;

    json_decref(m);
    return s;
}

static int
watch(const char *dir, const char *out, int every)
{
    struct sr_error err = { 0 };
    bool told = false, waited = false;
    int rc = 0;

    if (sr_signals_install(&err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        return 1;
    }
    for (;;) {
        char *status = run_status(dir);
        bool live = status && !strcmp(status, "running");

        if (!status) {
            if (!waited) {
                fprintf(stderr, "simrun: waiting for %s/manifest.json\n", dir);
                waited = true;
            }
        } else {
            err = (struct sr_error) { 0 };
            /* The last page, once the run has ended, stops reloading. */
            rc = render_to(dir, out, live && !sr_signals_pending() ? every : 0, &err);
            if (rc < 0) {
                fprintf(stderr, "simrun: %s\n", err.msg);
            } else if (!told || !live) {
                fprintf(stderr, "simrun: %s %s\n", live ? "watching, writing" : "wrote", out);
                told = true;
            }
        }
        free(status);
        if ((status && !live) || sr_signals_pending() || sr_signals_sleep(every * 1000) != 0) {
            break;
        }
    }
    return rc < 0 ? 1 : 0;
}

int
sim_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "watch", no_argument, NULL, 'w' },
        { "every", required_argument, NULL, 'e' },  { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL;
    char *def = NULL;
    bool watching = false;
    int64_t every = 5;
    int c, rc;
    struct sr_error err = { 0 };

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'w':
            watching = true;
            break;
        case 'e':
            if (!sr_parse_i64(optarg, 1, 3600, &every)) {
                return cli_usage_error("report", "--every takes whole seconds, 1 to 3600");
            }
            break;
        case 'h':
            fputs(report_usage, stdout);
            return 0;
        default:
            fputs(report_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fputs(report_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (!out) {
        out = def = xasprintf("%s/report.html", argv[optind]);
    }
    if (watching) {
        rc = watch(argv[optind], out, (int) every);
    } else if (render_to(argv[optind], out, 0, &err) < 0) {
        struct sr_buf msg = SR_BUF_INIT;

        sr_term_clean(&msg, err.msg);
        fprintf(stderr, "simrun: %s\n", sr_buf_cstr(&msg));
        sr_buf_release(&msg);
        rc = 1;
    } else {
        printf("report in %s\n", out);
        rc = 0;
    }
    free(def);
    return rc;
}
