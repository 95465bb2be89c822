/* Drives the capture engine (collector/capture.c) on interfaces a test
 * made, with no network of simrun's: for the engine's own integration test.
 *
 *   capture_driver DIR SECONDS [--ring MB FILES] IFACE...
 *
 * IFACE is NAME (in this namespace, one handle per direction), or
 * NAME@PID=MAC (inside PID's network namespace, direction by MAC).  One
 * window "w" is open for the whole time (with --ring, a ring of FILES pcaps
 * of MB / FILES megabytes each instead); a sweep every second.  Prints the
 * capture's report (the manifest's "capture") as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "proc.h"
#include "util.h"

static void
labels(void *ctx, double t_s, const char *sw, uint32_t port, struct sr_buf *cells)
{
    (void) ctx;
    (void) sw;
    (void) port;
    sr_buf_printf(cells, ",%s", t_s < 0 ? "before" : "normal");
}

int
main(int argc, char **argv)
{
    static const char *const cols[] = { "label", NULL };
    struct cap_iface ifs[16];
    size_t n = 0;
    struct cap_options o = { 0 };
    struct sr_error err = { 0 };
    struct capture *c;
    json_t *report;
    double seconds;
    int rc, first;

    if (argc < 4 || argc - 3 > 16) {
        fprintf(stderr, "usage: capture_driver DIR SECONDS IFACE...\n");
        return 2;
    }
    seconds = strtod(argv[2], NULL);
    first = 3;
    if (!strcmp(argv[3], "--ring") && argc >= 7) {
        o.ring_mb = strtod(argv[4], NULL);
        o.ring_files = (int) strtol(argv[5], NULL, 10);
        first = 6;
    }
    for (int i = first; i < argc; i++) {
        char *at = strchr(argv[i], '@'), *eq = strchr(argv[i], '=');
        struct cap_iface *f = &ifs[n++];

        memset(f, 0, sizeof *f);
        f->name = argv[i];
        f->sw = "s1";
        f->port = (uint32_t) i;
        if (at && eq) {
            char *p;

            *at = *eq = '\0';
            f->netns_pid = (pid_t) strtol(at + 1, NULL, 10);
            f->by_mac = true;
            f->host = argv[i];
            p = eq + 1;
            for (int k = 0; k < 6; k++) {
                char *end;
                unsigned long b = strtoul(p, &end, 16);

                if (end == p || b > 255 || (k < 5 ? *end != ':' : *end != '\0')) {
                    fprintf(stderr, "bad MAC '%s'\n", eq + 1);
                    return 2;
                }
                f->mac[k] = (uint8_t) b;
                p = end + 1;
            }
        }
    }
    o.dir = argv[1];
    o.wall0 = sr_wall();
    o.label_cols = cols;
    o.label = labels;
    o.flow_idle_s = 30;
    c = cap_start(&o, ifs, n, &err);
    if (!c) {
        fprintf(stderr, "capture_driver: %s\n", err.msg);
        return 1;
    }
    if (o.ring_mb <= 0 && cap_window_open(c, "w", &err) < 0) {
        fprintf(stderr, "capture_driver: %s\n", err.msg);
    }
    printf("capturing\n");
    fflush(stdout);
    for (long k = 0; k < (long) seconds; k++) {
        sleep(1);
        if (cap_sweep(c, k, sr_wall() - o.wall0, &err) < 0) {
            fprintf(stderr, "capture_driver: %s\n", err.msg);
        }
    }
    cap_window_close(c, "w");
    rc = cap_finish(c, (long) seconds, sr_wall() - o.wall0, &report, &err);
    if (rc < 0) {
        fprintf(stderr, "capture_driver: %s\n", err.msg);
    }
    json_dumpf(report, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
    printf("\n");
    json_decref(report);
    return rc < 0;
}
