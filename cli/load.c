/* Reading scenario files named on the command line: the one place their
 * bytes come in from the file system (the model parses text only). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "util.h"

struct scenario *
scenario_load(const char *path, struct scn_diags *diags, struct sr_error *err)
{
    size_t len = 0;
    char *text = sr_read_regular(path, SCN_FILE_MAX, 0, &len, err);
    struct scenario *s;

    if (!text) {
        return NULL;
    }
    s = scenario_parse(path, text, len, diags, err);
    free(text);
    /* The capture filter as libpcap compiles it (the model links no
     * libpcap). */
    if (s && s->capture.filter) {
        struct sr_error ferr = { 0 };

        if (cap_check_filter(s->capture.filter, (int) s->capture.snaplen, &ferr) < 0) {
            scn_diag_add(diags, s->capture.filter_pos.line, s->capture.filter_pos.col,
                         "'filter' in [capture] is not a BPF expression libpcap accepts: %s",
                         ferr.msg);
            sr_error_set(err, SR_EINVAL, "%s: 1 problem found", path);
            scenario_free(s);
            return NULL;
        }
    }
    return s;
}

/* Applies what the command line changes in 'scn'.  False (with a message in
 * 'diags') when the combination makes no sense. */
static bool
apply_overrides(struct scenario *scn, const struct cli_overrides *ov, struct scn_diags *diags)
{
    struct scn_controller *c = &scn->controller;

    if (ov->seed >= 0) {
        scn->seed = (uint64_t) ov->seed;
    }
    if (ov->duration_ms > 0) {
        scn->duration_ms = ov->duration_ms;
        scn->duration_set = true;
    }
    if (ov->controller) {
        c->kind = !strcmp(ov->controller, "ryu")   ? SCN_CTL_RYU
                  : !strcmp(ov->controller, "odl") ? SCN_CTL_ODL
                                                   : SCN_CTL_EMBEDDED;
    }
    if (ov->url) {
        free(c->url);
        c->url = xstrdup(ov->url);
        if (!ov->controller && c->kind == SCN_CTL_EMBEDDED) {
            c->kind = SCN_CTL_RYU;
        }
    }
    if (c->kind == SCN_CTL_EMBEDDED && ov->url) {
        scn_diag_add(diags, 0, 0, "--controller-url is for an external controller "
                                  "(--controller ryu or odl); the embedded one is started by "
                                  "simrun");
        return false;
    }
    if (c->kind != SCN_CTL_EMBEDDED && !c->url) {
        scn_diag_add(diags, 0, 0, "the %s controller needs a URL: --controller-url (for "
                                  "example http://127.0.0.1:%s) or url in [controller]",
                     scn_controller_kind_name(c->kind), c->kind == SCN_CTL_ODL ? "8181" : "8080");
        return false;
    }
    if (ov->controller && c->kind == SCN_CTL_EMBEDDED) {
        free(c->url);
        c->url = NULL;
    }
    if (ov->insecure_auth) {
        c->insecure_auth = true;
    }
    return true;
}

int
cli_load_plan(const char *path, const struct cli_overrides *ov, struct scenario **scn_out,
              struct sim_plan **plan_out)
{
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct scenario *scn = scenario_load(path, &diags, &err);
    struct sim_plan *plan = NULL;
    struct sr_buf shown = SR_BUF_INIT;
    char *text;

    /* Options change what the plan checks (a fault after the end, a fault
     * the controller cannot do), so they apply before it is built. */
    if (scn && (!ov || apply_overrides(scn, ov, &diags))) {
        scn_draw_traffic(scn); /* with the final seed */
        plan = sim_plan_build(scn, &diags, &err);
    }
    /* The path goes to a terminal: whatever bytes its name holds. */
    sr_term_clean(&shown, path);
    if (!plan) {
        if (diags.n) {
            text = scn_diags_format(&diags, sr_buf_cstr(&shown));
            fputs(text, stderr);
            free(text);
        } else {
            struct sr_buf msg = SR_BUF_INIT;

            sr_term_clean(&msg, err.msg);
            fprintf(stderr, "simrun: %s\n", sr_buf_cstr(&msg));
            sr_buf_release(&msg);
        }
        fprintf(stderr, "simrun: %s: %zu problem%s\n", sr_buf_cstr(&shown),
                diags.n ? diags.n : 1, diags.n > 1 ? "s" : "");
        sr_buf_release(&shown);
        scn_diags_release(&diags);
        scenario_free(scn);
        return CLI_EXIT_USAGE;
    }
    sr_buf_release(&shown);
    scn_diags_release(&diags);
    *scn_out = scn;
    *plan_out = plan;
    return 0;
}
