/* Unit tests of what a plan draws for the embedded controller's
 * applications (model/apps.c) and for the traffic's churn
 * (model/churn.c): ranges, the same draw for the same seed, and what the
 * operator and the churn keep out of (faults whose revert or whose agents
 * they would disturb). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plan.h"
#include "scenario.h"
#include "util.h"

#define NET "[topology]\ncore = { switches = 6, m = 2 }\n" \
            "access = { networks = 3, switches = 3, m = 1, uplinks = 2, hosts = 4 }\n" \
            "datacenters = 1\n"

static struct sim_plan *
plan_of(const char *text, struct scenario **scn)
{
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct sim_plan *p;

    *scn = scenario_parse("test.toml", text, strlen(text), &d, &err);
    assert_non_null(*scn);
    scn_draw_traffic(*scn);
    p = sim_plan_build(*scn, &d, &err);
    if (!p) {
        char *msg = scn_diags_format(&d, "test.toml");

        fail_msg("no plan:\n%s", msg);
    }
    scn_diags_release(&d);
    return p;
}

static void
done(struct sim_plan *p, struct scenario *s)
{
    sim_plan_free(p);
    scenario_free(s);
}

static void
test_apps_default_is_proactive_without_policy(void **state)
{
    struct scenario *s;
    struct sim_plan *p = plan_of("seed = 1\nduration = \"100s\"\n" NET, &s);

    (void) state;
    assert_true(p->apps.embedded);
    assert_int_equal(p->apps.forwarding, SCN_FWD_PROACTIVE);
    assert_int_equal(p->apps.priority[0], 10);
    assert_int_equal(p->apps.policy, 0);
    assert_int_equal(p->apps.nchanges, 0);
    assert_false(sim_apps_dynamic(&p->apps));
    assert_int_equal(p->churn.n, 0);
    assert_true(p->churn.curve_amp == 0);
    done(p, s);
}

static void
test_apps_draws_in_range_and_the_same_for_a_seed(void **state)
{
    static const char text[] =
        "seed = 9\nduration = \"600s\"\n" NET
        "[controller]\nforwarding = [\"proactive\", \"learning\"]\nidle_timeout = [\"10s\", \"20s\"]\n"
        "hard_timeout = \"45s\"\npolicy = [\"acl\", \"lldp_edge\", \"guest_meter\", \"dec_ttl\", "
        "\"admission\"]\nchanges = 60\n";
    struct scenario *s1, *s2;
    struct sim_plan *a = plan_of(text, &s1), *b = plan_of(text, &s2);
    json_t *ja = sim_apps_json(&a->apps, a->topo, true), *jb = sim_apps_json(&b->apps, b->topo, true);

    (void) state;
    assert_true(json_equal(ja, jb));
    assert_in_range(a->apps.idle_s, 10, 20);
    assert_int_equal(a->apps.hard_s, 45);
    assert_in_range(a->apps.priority[1 + SCN_POLICY_ACL], 1000, 59999);
    assert_in_range(a->apps.priority[1 + SCN_POLICY_LLDP_EDGE], 60001, 65534);
    for (int k = SCN_POLICY_GUEST_METER; k <= SCN_POLICY_ADMISSION; k++) {
        /* Below the fault rules' band: a fault's rule outranks them. */
        assert_in_range(a->apps.priority[1 + k], 100, 999);
    }
    for (size_t i = 0; i < SIM_APPS_N; i++) {
        assert_true(a->apps.cookie[i] >> 48 != 0x5300 && a->apps.cookie[i] >> 48 != 0);
    }
    assert_in_range(a->apps.nblocked, 2, 4);
    assert_in_range(a->apps.guest_net, 1, 3);
    assert_in_range(a->apps.guest_kbps, 4000, 40000);
    /* About 60 an hour over the 585 s after the warm-up and before the end. */
    assert_in_range(a->apps.nchanges, 5, 20);
    for (size_t i = 1; i < a->apps.nchanges; i++) {
        assert_true(a->apps.changes[i - 1].at_ms <= a->apps.changes[i].at_ms);
    }
    assert_true(sim_apps_dynamic(&a->apps));
    json_decref(ja);
    json_decref(jb);
    done(a, s1);
    done(b, s2);
}

static void
test_apps_forwarding_list_draws_both_over_seeds(void **state)
{
    int seen[SCN_FWD_N] = { 0 };

    (void) state;
    for (int seed = 1; seed <= 12; seed++) {
        char text[512];
        struct scenario *s;
        struct sim_plan *p;

        snprintf(text, sizeof text,
                 "seed = %d\nduration = \"60s\"\n" NET
                 "[controller]\nforwarding = [\"proactive\", \"learning\"]\n",
                 seed);
        p = plan_of(text, &s);
        seen[p->apps.forwarding]++;
        done(p, s);
    }
    assert_true(seen[SCN_FWD_PROACTIVE] > 0 && seen[SCN_FWD_LEARNING] > 0);
}

/* The operator neither drains a link a fault targets, nor changes
 * anything while a flow-rewriting fault or the controller's absence lasts. */
static void
test_apps_operator_keeps_out_of_faults(void **state)
{
    (void) state;
    for (int seed = 1; seed <= 6; seed++) {
        char text[1024];
        struct scenario *s;
        struct sim_plan *p;

        snprintf(text, sizeof text,
                 "seed = %d\nwarmup = \"10s\"\n" NET
                 "[controller]\npolicy = [\"acl\", \"guest_meter\"]\nchanges = 600\n"
                 "[campaign]\ntypes = [\"link_down\", \"flows_deleted\", \"controller_down\", "
                 "\"flow_idle_timeout\"]\nepisodes = 8\nlength = \"20s\"\ngap = \"20s\"\n",
                 seed);
        p = plan_of(text, &s);
        assert_true(p->apps.nchanges > 10);
        for (size_t i = 0; i < p->apps.nchanges; i++) {
            const struct sim_change *c = &p->apps.changes[i];

            assert_true(c->at_ms < p->duration_ms - 2000);
            for (size_t e = 0; e < p->timeline.n; e++) {
                const struct flt_episode *ep = &p->timeline.ep[e];
                bool down = !strcmp(ep->type->name, "controller_down");

                if (down || flt_rewrites_flows(ep->type)) {
                    assert_false(c->at_ms >= ep->at_ms - 3000 &&
                                 c->at_ms < ep->at_ms + ep->duration_ms + (down ? 15000 : 3000));
                }
                if (c->kind == SIM_CHANGE_DRAIN) {
                    const struct topo_link *l = &p->topo->link[c->link];
                    char name[80];

                    assert_int_equal(l->kind, TOPO_LINK_CORE);
                    snprintf(name, sizeof name, "%s-%s", p->topo->sw[l->a].name,
                             p->topo->sw[l->b].name);
                    assert_string_not_equal(ep->target, name);
                }
            }
        }
        done(p, s);
    }
}

/* Churn: durations and factors in range, on access networks that exist,
 * never while a traffic fault lasts, and two never on one network at once. */
static void
test_churn_keeps_out_of_traffic_faults(void **state)
{
    (void) state;
    for (int seed = 1; seed <= 6; seed++) {
        char text[1024];
        struct scenario *s;
        struct sim_plan *p;

        snprintf(text, sizeof text,
                 "seed = %d\nwarmup = \"10s\"\n" NET
                 "[traffic]\nchurn = { curve = 0.6, flash_crowds = 120, departures = 120 }\n"
                 "[campaign]\ntypes = [\"congestion\", \"heavy_streaming_host\", \"link_down\"]\n"
                 "episodes = 6\nlength = \"30s\"\ngap = \"30s\"\n",
                 seed);
        p = plan_of(text, &s);
        assert_true(p->churn.n > 2);
        /* Half a cycle to a whole one over the run. */
        assert_true(p->churn.curve_amp == 0.6);
        assert_true(p->churn.curve_period_s >= (double) p->duration_ms / 1000.0 &&
                    p->churn.curve_period_s <= 2.0 * (double) p->duration_ms / 1000.0);
        assert_true(p->churn.curve_phase >= 0 && p->churn.curve_phase < 2 * 3.14159266);
        for (size_t i = 0; i < p->churn.n; i++) {
            const struct sim_churn_event *c = &p->churn.ev[i];

            assert_true(i == 0 || p->churn.ev[i - 1].at_ms <= c->at_ms);
            if (c->kind == SIM_CHURN_FLASH) {
                assert_in_range(c->duration_ms, 5000, 90000);
                assert_in_range(c->net, 1, 3);
                assert_in_range(c->factor, 3, 10);
                assert_in_range(c->streams, 2, 4);
            } else {
                assert_in_range(c->duration_ms, 5000, 180000);
                assert_int_equal(p->topo->host[c->host].role, TOPO_ROLE_USER);
            }
            for (size_t e = 0; e < p->timeline.n; e++) {
                const struct flt_episode *ep = &p->timeline.ep[e];

                if (strcmp(ep->type->name, "link_down")) {
                    assert_false(c->at_ms < ep->at_ms + ep->duration_ms + 5000 &&
                                 c->at_ms + c->duration_ms > ep->at_ms - 3000);
                }
            }
        }
        done(p, s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apps_default_is_proactive_without_policy),
        cmocka_unit_test(test_apps_draws_in_range_and_the_same_for_a_seed),
        cmocka_unit_test(test_apps_forwarding_list_draws_both_over_seeds),
        cmocka_unit_test(test_apps_operator_keeps_out_of_faults),
        cmocka_unit_test(test_churn_keeps_out_of_traffic_faults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
