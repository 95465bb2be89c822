/* What the switches themselves show ('ovs-ofctl dump-flows'), beside
 * what the controller says: a flow fault is verified in both. */
#include "faults-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"

/* ---- the switch itself: ovs-ofctl dump-flows ---- */

/* One line of 'ovs-ofctl dump-flows' without its counters and age (as
 * --no-stats prints it), its duration in '*age'. */
char *
flt_flow_line(const char *line, double *age)
{
    static const char *const stats[] = { "duration=", "table=", "n_packets=", "n_bytes=",
                                         "idle_age=", "hard_age=" };
    struct sr_buf b = SR_BUF_INIT;

    *age = 0;
    while (*line == ' ') {
        line++;
    }
    while (*line) {
        size_t n = strcspn(line, " ");
        bool drop = false;

        for (size_t i = 0; i < SR_ARRAY_SIZE(stats) && !drop; i++) {
            drop = !strncmp(line, stats[i], strlen(stats[i]));
        }
        if (!strncmp(line, "duration=", 9)) {
            *age = strtod(line + 9, NULL);
        }
        if (!drop) {
            sr_buf_printf(&b, "%s%.*s", b.len ? " " : "", (int) n, line);
        }
        line += n;
        while (*line == ' ') {
            line++;
        }
    }
    return sr_buf_steal(&b);
}

/* The flow lines of the 'n' switches 'sws' without counters, one malloc'd
 * string each ("sw\tline"), appended to '*lines', with their ages in
 * '*ages'; or -1. */
static int
switch_lines(const struct flt_env *env, const char *const *sws, size_t n, char ***lines,
             double **ages, size_t *nlines, struct sr_error *err)
{
    struct sr_buf *outs = xcalloc(n + 1, sizeof *outs);
    int rc = n ? env->dump_flows(env->ctx, sws, n, outs, err) : 0;

    for (size_t i = 0; i < n; i++) {
        for (char *save = NULL, *l = rc == 0 ? strtok_r(outs[i].data, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save)) {
            double age;
            char *flow;

            if (!strstr(l, "actions=")) {
                continue;
            }
            flow = flt_flow_line(l, &age);
            *lines = xrealloc(*lines, (*nlines + 1) * sizeof **lines);
            *ages = xrealloc(*ages, (*nlines + 1) * sizeof **ages);
            (*lines)[*nlines] = xasprintf("%s\t%s", sws[i], flow);
            (*ages)[(*nlines)++] = age;
            free(flow);
        }
        sr_buf_release(&outs[i]);
    }
    free(outs);
    return rc < 0 ? rc : 0;
}

static void
free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lines[i]);
    }
    free(lines);
}

/* The lines a flow fault changes, as the switch shows them (see
 * flt_rewrite_changes). */
static bool
changed_line(const struct flt_run *r, const char *line)
{
    const char *p = strstr(line, "actions="), *idle = strstr(line, "idle_timeout=");
    const char *hard = strstr(line, "hard_timeout=");
    struct flt_flow_kind k = {
        .table_miss = strstr(line, "priority=0 ") || strstr(line, "priority=0,"),
        .lldp = strstr(line, "dl_type=0x88cc") != NULL,
        /* ovs-ofctl writes a time-out only when there is one. */
        .idle = idle ? (uint32_t) strtoul(idle + 13, NULL, 10) : 0,
        .hard = hard ? (uint32_t) strtoul(hard + 13, NULL, 10) : 0,
    };

    /* ovs-ofctl writes "output:3", or a bare "3", for a port. */
    for (p = p ? p + 8 : ""; *p && !k.outputs; p += strcspn(p, ","), p += *p == ',') {
        k.outputs = (!strncmp(p, "output:", 7) && p[7] >= '0' && p[7] <= '9') ||
                    (*p >= '0' && *p <= '9');
    }
    return flt_rewrite_changes(r, &k);
}

/* Keeps the lines of switches 'sws' the fault will change.  Read before
 * the controller's snapshot: a flow the controller's applications add in
 * between is then in the snapshot (and changed) rather than only here
 * (and seen unchanged). */
int
flt_witness_before(const struct flt_env *env, struct flt_run *r, const char *const *sws,
                   size_t nsws, struct sr_error *err)
{
    char **lines = NULL;
    double *ages = NULL;
    size_t n = 0;
    int rc;

    rc = switch_lines(env, sws, nsws, &lines, &ages, &n, err);
    r->orig_t = sr_now();
    for (size_t i = 0; i < n; i++) {
        if (changed_line(r, strchr(lines[i], '\t') + 1)) {
            r->orig = xrealloc(r->orig, (r->norig + 1) * sizeof *r->orig);
            r->orig_age = xrealloc(r->orig_age, (r->norig + 1) * sizeof *r->orig_age);
            r->orig_age[r->norig] = ages[i];
            r->orig[r->norig++] = lines[i];
            lines[i] = NULL;
        }
    }
    free_lines(lines, n);
    free(ages);
    return rc;
}

/* What the switches themselves show.  Rule faults: the fault's cookie on
 * as many flows as rules were added (none once reverted).  Flow faults:
 * none of the changed flows as they were (all of them again once
 * reverted).  1, 0 with 'seen' saying what differs, or -1. */
int
flt_witness(const struct flt_env *env, struct flt_run *r, bool want_fault, struct sr_buf *seen,
            struct sr_error *err)
{
    size_t nsw = r->nrules ? env->nswitches : r->nsnaps, bad = 0, ours = 0, nwant = 0, back = 0;
    const char **want = xcalloc(nsw + 1, sizeof *want);
    const char *example = NULL;
    double *ages = NULL, elapsed = sr_now() - r->orig_t;
    char **all = NULL;
    size_t nall = 0;
    int rc;

    for (size_t i = 0; i < nsw; i++) {
        const char *sw = r->nrules ? env->switches[i] : r->snaps[i].sw;
        bool wanted = !r->nrules;

        for (size_t k = 0; k < r->nrules && !wanted; k++) {
            uint64_t dpid;

            wanted = env->dpid_of(env->ctx, sw, &dpid) && dpid == r->rules[k].dpid;
        }
        if (wanted) {
            want[nwant++] = sw;
        }
    }
    rc = switch_lines(env, want, nwant, &all, &ages, &nall, err);
    free(want);
    if (rc < 0) {
        free_lines(all, nall);
        free(ages);
        return -err->code;
    }
    {
        /* ovs-ofctl writes cookies as "cookie=0x..." in lower-case hex. */
        char mark[40];

        snprintf(mark, sizeof mark, "cookie=0x%llx,", (unsigned long long) r->spec.cookie);
        for (size_t k = 0; k < nall; k++) {
            ours += strstr(all[k], mark) != NULL;
        }
    }
    if (r->nrules) {
        rc = want_fault ? ours >= r->nrules : ours == 0;
        sr_buf_printf(seen, "; in the switches: %zu flow%s with the fault's cookie", ours,
                      ours == 1 ? "" : "s");
    } else {
        for (size_t i = 0; i < r->norig; i++) {
            bool present = false, younger = false;

            for (size_t k = 0; k < nall && !present; k++) {
                present = !strcmp(all[k], r->orig[i]);
                /* The same flow again, but put there after the fault. */
                younger = present && ages[k] + 0.5 < r->orig_age[i] + elapsed;
            }
            if (want_fault && present && younger && !r->verified) {
                back++;
            } else if (!want_fault && !present && env->dynamic_flows &&
                       (strstr(r->orig[i], "idle_timeout=") ||
                        strstr(r->orig[i], "hard_timeout="))) {
                /* Expired on its own since: the application's time-out. */
            } else if (present == want_fault) {
                bad++;
                example = example ? example : r->orig[i];
            }
        }
        rc = bad == 0;
        if (bad) {
            sr_buf_printf(seen, "; in the switch: %zu of %zu flows %s, e.g. %s", bad, r->norig,
                          want_fault ? "unchanged" : "not back", example);
        } else {
            sr_buf_printf(seen, "; in the switch: %zu flow%s %s", r->norig,
                          r->norig == 1 ? "" : "s", want_fault ? "changed" : "as before");
            if (back) {
                sr_buf_printf(seen, ", %zu of them put back since by the controller", back);
            }
        }
    }
    free_lines(all, nall);
    free(ages);
    return rc;
}

