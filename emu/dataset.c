#include "dataset.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"

/* Versions of the Debian packages a run depends on, from dpkg. */
static json_t *
versions(void)
{
    static const char *const argv[] = { "dpkg-query", "-W", "-f=${Package} ${Version}\\n",
                                        "openvswitch-switch", "mininet", "python3-os-ken",
                                        NULL };
    const char *args[SR_ARRAY_SIZE(argv)];
    char *dpkg = sr_which("dpkg-query");
    struct sr_buf out = SR_BUF_INIT;
    json_t *v = json_pack("{s:s}", "simrun", SIMRUN_VERSION);

    memcpy(args, argv, sizeof args);
    args[0] = dpkg;
    if (dpkg && sr_run(args, 10000, &out, NULL) >= 0) {
        for (const char *p = sr_buf_cstr(&out); *p;) {
            size_t n = strcspn(p, "\n"), sp = strcspn(p, " ");

            if (sp < n) {
                char *name = xstrndup(p, sp);

                json_object_set_new(v, name, json_stringn(p + sp + 1, n - sp - 1));
                free(name);
            }
            p += n + (p[n] == '\n');
        }
    }
    free(dpkg);
    sr_buf_release(&out);
    return v;
}

/* Hex SHA-256 of the file at 'path', or NULL. */
static char *
file_sha256(const char *path)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t n = 0;
    char *text = sr_read_file(path, &n), *hex;

    if (!text) {
        return NULL;
    }
    if (!EVP_Digest(text, n, md, &len, EVP_sha256(), NULL)) {
        free(text);
        return NULL;
    }
    free(text);
    hex = xmalloc(2 * len + 1);
    for (unsigned int i = 0; i < len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return hex;
}

json_t *
sim_manifest_base(const struct sim_plan *plan, const char *controller_kind,
                  const char *controller_url)
{
    const struct scenario *s = plan->scn;
    const struct topology *t = plan->topo;
    char *hash = file_sha256(s->path);
    size_t users = 0;
    json_t *m;

    for (size_t i = 0; i < t->nhost; i++) {
        users += t->host[i].role == TOPO_ROLE_USER;
    }
    m = json_pack("{s:s, s:o, s:{s:s, s:s, s:o}, s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:s, s:o}}",
                  "simrun_version", SIMRUN_VERSION, "versions", versions(), "scenario", "name", s->name, "path",
                  s->path, "sha256", hash ? json_string(hash) : json_null(), "seed",
                  (json_int_t) s->seed, "topology", "switches", (int) t->nsw, "core",
                  (int) t->ncore, "hosts", (int) t->nhost, "users", (int) users, "links",
                  (int) t->nlink, "controller", "kind", controller_kind, "url",
                  controller_url ? json_string(controller_url) : json_null());
    if (plan->apps.embedded) {
        /* What the embedded controller's applications were in this run. */
        json_object_set_new(json_object_get(m, "controller"), "apps",
                            sim_apps_json(&plan->apps, t, false));
    }
    if (plan->churn.n) {
        /* The benign churn drawn for the run (changes.jsonl says what was done). */
        json_t *churn = json_array();

        for (size_t i = 0; i < plan->churn.n; i++) {
            json_array_append_new(churn, sim_churn_json(&plan->churn.ev[i], t));
        }
        json_object_set_new(m, "churn", churn);
    }
    if (plan->churn.curve_amp > 0) {
        json_object_set_new(m, "load_curve",
                            json_pack("{s:f, s:f, s:f}", "amplitude", plan->churn.curve_amp,
                                      "period_s", plan->churn.curve_period_s, "phase",
                                      plan->churn.curve_phase));
    }
    free(hash);
    return m;
}

struct col_switch *
sim_col_switches(const struct sim_plan *plan)
{
    const struct topology *t = plan->topo;
    struct col_switch *sws = xcalloc(t->nsw + 1, sizeof *sws);

    for (size_t i = 0; i < t->nsw; i++) {
        sws[i].dpid = t->sw[i].dpid;
        sws[i].name = t->sw[i].name;
        sws[i].role = topo_role_name(t->sw[i].role);
    }
    return sws;
}
