/* Unit tests of the fault catalogue and timeline on a hand-made world. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "faults.h"
#include "inject.h"
#include "rng.h"
#include "util.h"

static const char *core[] = { "c1", "c2", "c3" };
static const char *access_sw[] = { "a1s2" };
static const char *gateway[] = { "a1s1", "a1s3" };
static const char *users[] = { "u1h1", "u1h2" };
static const char *servers[] = { "d1h1", "d1h2", "d1h3" };
static const char *core_links[] = { "c1-c2", "c2-c3", "c1-c3" };
static const char *uplinks[] = { "a1s1-c1", "a1s3-c2" };
static const char *access_links[] = { "a1s1-a1s2", "a1s2-a1s3" };

static struct flt_world
world(void)
{
    struct flt_world w = { 0 };

    w.core = core, w.ncore = 3;
    w.access = access_sw, w.naccess = 1;
    w.gateway = gateway, w.ngateway = 2;
    w.users = users, w.nusers = 2;
    w.servers = servers, w.nservers = 3;
    w.core_links = core_links, w.ncore_links = 3;
    w.uplinks = uplinks, w.nuplinks = 2;
    w.access_links = access_links, w.naccess_links = 2;
    w.busiest_core = "c2";
    return w;
}

static bool
in_list(const char *s, const char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(s, list[i])) {
            return true;
        }
    }
    return false;
}

static void
test_flt_catalogue_keeps_seed_ids(void **state)
{
    size_t n;
    const struct flt_type *t = flt_types(&n);
    static const char *const seed[] = { "heavy_streaming_host", "congestion",
                                        "link_down", "switch_down", "server_down",
                                        "flow_output_changed", "flow_inport_changed",
                                        "flow_idle_timeout", "flow_hard_timeout",
                                        "flows_deleted", "lldp_drop" };

    (void) state;
    assert_int_equal(n, 16);
    for (size_t i = 0; i < SR_ARRAY_SIZE(seed); i++) {
        assert_string_equal(t[i].name, seed[i]);
        assert_int_equal(t[i].seed_id, (int) i + 1);
        assert_ptr_equal(flt_type_find(seed[i]), &t[i]);
    }
    assert_null(flt_type_find("link_dwn"));
}

static void
test_flt_selectors_resolve_within_their_pool(void **state)
{
    struct flt_world w = world();
    struct sr_error err = { 0 };
    struct sr_rng rng;

    (void) state;
    sr_rng_seed(&rng, 5, 0);
    for (int i = 0; i < 50; i++) {
        char *a = flt_resolve_target(flt_type_find("switch_down"), "core:random", &w, &rng, &err);
        char *b = flt_resolve_target(flt_type_find("link_down"), "link:uplink-random", &w, &rng, &err);
        char *c = flt_resolve_target(flt_type_find("blackhole_host"), "host:random", &w, &rng, &err);
        char *d = flt_resolve_target(flt_type_find("lldp_drop"), "access:random", &w, &rng, &err);

        assert_true(in_list(a, core, 3));
        assert_true(in_list(b, uplinks, 2));
        assert_true(in_list(c, users, 2) || in_list(c, servers, 3));
        assert_true(in_list(d, access_sw, 1) || in_list(d, gateway, 2));
        free(a);
        free(b);
        free(c);
        free(d);
    }
}

static void
test_flt_resolves_names_and_special_targets(void **state)
{
    struct flt_world w = world();
    struct sr_error err = { 0 };
    struct sr_rng rng;
    char *s;

    (void) state;
    sr_rng_seed(&rng, 1, 0);
    s = flt_resolve_target(flt_type_find("flows_deleted"), "core:busiest", &w, &rng, &err);
    assert_string_equal(s, "c2");
    free(s);
    s = flt_resolve_target(flt_type_find("link_down"), "c3-c2", &w, &rng, &err);
    assert_string_equal(s, "c2-c3");
    free(s);
    s = flt_resolve_target(flt_type_find("flow_idle_timeout"), "all", &w, &rng, &err);
    assert_string_equal(s, "all");
    free(s);
    w.busiest_core = NULL;
    assert_null(flt_resolve_target(flt_type_find("flows_deleted"), "core:busiest", &w,
                                   &rng, &err));
}

static void
test_flt_check_target_explains_what_fits(void **state)
{
    struct flt_world w = world();
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(flt_check_target(flt_type_find("switch_down"), "a1s2", &w, &err), 0);
    assert_int_equal(flt_check_target(flt_type_find("server_down"), "u1h1", &w, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "unknown target 'u1h1' for fault type 'server_down', "
                                 "which needs a datacenter server: give an existing "
                                 "name (did you mean 'd1h1'?) or one of server:random");
    assert_int_equal(flt_check_target(flt_type_find("controller_down"), "c1", &w, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "fault type 'controller_down' acts on the whole "
                                 "network: its target can only be 'all', not 'c1'");
    w.nuplinks = 0;
    assert_int_equal(flt_check_target(flt_type_find("link_down"), "link:uplink-random",
                                      &w, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "target 'link:uplink-random' of fault type 'link_down' "
                                 "has nothing to choose from in this topology");
}

static struct flt_campaign
campaign(const struct flt_type **types, size_t n, int episodes)
{
    struct flt_campaign c = { .types = types, .ntypes = n, .episodes = episodes,
                              .length_min_ms = 20000, .length_max_ms = 40000,
                              .gap_min_ms = 10000, .gap_max_ms = 30000 };

    return c;
}

/* A campaign puts a switch fault on switches of every role, not on the
 * busiest one, unless told where. */
static void
test_flt_campaign_targets_vary_over_roles(void **state)
{
    const struct flt_type *types[] = { flt_type_find("flows_deleted"),
                                       flt_type_find("link_down") };
    char *only[] = { "c1-c2" };
    struct flt_campaign_targets tg = { flt_type_find("link_down"), only, 1 };
    struct flt_campaign c = campaign(types, 2, 40);
    struct flt_world w = world();
    struct flt_timeline tl;
    struct sr_error err = { 0 };
    bool core_hit = false, edge_hit = false;
    const char *first = NULL;
    bool several = false;

    (void) state;
    c.targets = &tg;
    c.ntargets = 1;
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 0, &w, 7, &tl, &err), 0);
    for (size_t i = 0; i < tl.n; i++) {
        const char *t = tl.ep[i].target;

        if (tl.ep[i].type == types[1]) {
            assert_string_equal(t, "c1-c2"); /* as told */
            continue;
        }
        core_hit = core_hit || in_list(t, core, 3);
        edge_hit = edge_hit || in_list(t, access_sw, 1) || in_list(t, gateway, 2);
        several = several || (first && strcmp(first, t));
        first = first ? first : t;
    }
    assert_true(core_hit && edge_hit && several);
    flt_timeline_release(&tl);
}

/* Parameters are drawn per episode in their ranges; every rule set gets
 * its own cookie and priority, none of them simrun's old constant. */
static void
test_flt_campaign_draws_parameters_and_marks(void **state)
{
    const struct flt_type *types[] = { flt_type_find("flow_idle_timeout"),
                                       flt_type_find("heavy_streaming_host"),
                                       flt_type_find("congestion"),
                                       flt_type_find("lldp_drop"),
                                       flt_type_find("drop_service") };
    char *svc[] = { "web", "mail" };
    struct flt_campaign c = campaign(types, 5, 50);
    struct flt_world w = world();
    struct flt_timeline tl;
    struct sr_error err = { 0 };
    int64_t seen_timeout[32] = { 0 };
    int distinct_timeouts = 0;

    (void) state;
    c.timeout_min_ms = 2000, c.timeout_max_ms = 20000;
    c.streams_min = 4, c.streams_max = 16;
    c.factor_min = 2, c.factor_max = 6;
    c.services = svc, c.nservices = 2;
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 0, &w, 11, &tl, &err), 0);
    for (size_t i = 0; i < tl.n; i++) {
        const struct flt_spec *sp = &tl.ep[i].spec;

        assert_true(sp->timeout_ms >= 2000 && sp->timeout_ms <= 20000 &&
                    sp->timeout_ms % 1000 == 0);
        assert_true(sp->streams >= 4 && sp->streams <= 16);
        assert_true(sp->factor >= 2 && sp->factor <= 6);
        if (tl.ep[i].type == types[0] && !seen_timeout[sp->timeout_ms / 1000]++) {
            distinct_timeouts++;
        }
        if (tl.ep[i].type == types[4]) {
            assert_true(!strcmp(sp->service, "web") || !strcmp(sp->service, "mail"));
        }
        assert_true(sp->cookie >> 48 != 0x5300 && sp->cookie >> 48 != 0x5346 &&
                    sp->cookie >> 48 != 0);
        if (tl.ep[i].type == types[3]) {
            assert_true(sp->priority > 60000 && sp->priority < 65535);
        } else {
            assert_true(sp->priority >= 1000 && sp->priority < 60000);
        }
        for (size_t k = 0; k < i; k++) {
            assert_true(tl.ep[k].spec.cookie != sp->cookie);
        }
    }
    assert_true(distinct_timeouts >= 3);
    flt_timeline_release(&tl);
}

static void
test_flt_campaign_is_balanced_and_spaced(void **state)
{
    const struct flt_type *types[] = { flt_type_find("link_down"),
                                       flt_type_find("switch_down"),
                                       flt_type_find("flows_deleted") };
    struct flt_campaign c = campaign(types, 3, 11);
    struct flt_world w = world();
    struct flt_timeline tl;
    struct sr_error err = { 0 };
    int count[3] = { 0 };

    (void) state;
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 15000, &w, 9, &tl, &err), 0);
    assert_int_equal(tl.n, 11);
    for (size_t i = 0; i < tl.n; i++) {
        for (int k = 0; k < 3; k++) {
            count[k] += tl.ep[i].type == types[k];
        }
        assert_int_equal(tl.ep[i].id, (int) i + 1);
        assert_int_equal(tl.ep[i].source, -1);
        assert_true(tl.ep[i].duration_ms >= 20000 && tl.ep[i].duration_ms <= 40000);
        if (i > 0) {
            int64_t gap = tl.ep[i].at_ms - (tl.ep[i - 1].at_ms + tl.ep[i - 1].duration_ms);

            assert_true(gap >= 10000 && gap <= 30000);
        } else {
            assert_true(tl.ep[0].at_ms >= 25000 && tl.ep[0].at_ms <= 45000);
        }
    }
    assert_int_equal(count[0] + count[1] + count[2], 11);
    for (int k = 0; k < 3; k++) {
        assert_true(count[k] == 3 || count[k] == 4);
    }
    flt_timeline_release(&tl);
}

static void
test_flt_timeline_is_reproducible_from_seed(void **state)
{
    const struct flt_type *types[] = { flt_type_find("link_down"),
                                       flt_type_find("switch_down"),
                                       flt_type_find("server_down"),
                                       flt_type_find("lldp_drop") };
    struct flt_campaign c = campaign(types, 4, 20);
    struct flt_world w = world();
    struct flt_timeline a, b, other;
    struct sr_error err = { 0 };
    bool differs = false;

    (void) state;
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 0, &w, 3, &a, &err), 0);
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 0, &w, 3, &b, &err), 0);
    assert_int_equal(flt_timeline_build(NULL, 0, &c, 0, &w, 4, &other, &err), 0);
    for (size_t i = 0; i < a.n; i++) {
        assert_ptr_equal(a.ep[i].type, b.ep[i].type);
        assert_string_equal(a.ep[i].target, b.ep[i].target);
        assert_int_equal(a.ep[i].at_ms, b.ep[i].at_ms);
        assert_int_equal(a.ep[i].duration_ms, b.ep[i].duration_ms);
        differs = differs || a.ep[i].type != other.ep[i].type ||
                  a.ep[i].at_ms != other.ep[i].at_ms ||
                  strcmp(a.ep[i].target, other.ep[i].target);
    }
    assert_true(differs);
    flt_timeline_release(&a);
    flt_timeline_release(&b);
    flt_timeline_release(&other);
}

static void
test_flt_hand_placed_faults_are_sorted_and_keep_source(void **state)
{
    struct flt_spec specs[2] = {
        { .type = flt_type_find("link_down"), .target = "c1-c2", .at_ms = 50000,
          .duration_ms = 5000 },
        { .type = flt_type_find("drop_service"), .target = "core:busiest",
          .service = "video", .at_ms = 20000, .duration_ms = 5000 },
    };
    struct flt_world w = world();
    struct flt_timeline tl;
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(flt_timeline_build(specs, 2, NULL, 0, &w, 1, &tl, &err), 0);
    assert_int_equal(tl.n, 2);
    assert_string_equal(tl.ep[0].type->name, "drop_service");
    assert_int_equal(tl.ep[0].source, 1);
    assert_string_equal(tl.ep[0].target, "c2");
    assert_string_equal(tl.ep[0].selector, "core:busiest");
    assert_string_equal(tl.ep[0].spec.service, "video");
    assert_int_equal(tl.ep[1].source, 0);
    assert_null(tl.ep[1].selector);
    assert_int_equal(flt_timeline_end_ms(&tl), 55000);
    flt_timeline_release(&tl);
}

/* A dump-flows line loses its counters and age, keeps what defines the
 * flow (its timeouts too), and gives its age. */
static void
test_flt_flow_line_strips_counters(void **state)
{
    double age = -1;
    char *l = flt_flow_line(" cookie=0x5300000000000000, duration=1453.009s, table=0, "
                            "n_packets=3617, n_bytes=217020, idle_timeout=5, idle_age=3, "
                            "priority=10,dl_dst=02:00:0a:00:02:01 actions=output:4", &age);

    (void) state;
    assert_string_equal(l, "cookie=0x5300000000000000, idle_timeout=5, "
                           "priority=10,dl_dst=02:00:0a:00:02:01 actions=output:4");
    assert_true(age > 1453.0 && age < 1453.01);
    free(l);
    l = flt_flow_line(" cookie=0x0, priority=0 actions=CONTROLLER:65535", &age);
    assert_string_equal(l, "cookie=0x0, priority=0 actions=CONTROLLER:65535");
    assert_true(age == 0);
    free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flt_catalogue_keeps_seed_ids),
        cmocka_unit_test(test_flt_selectors_resolve_within_their_pool),
        cmocka_unit_test(test_flt_resolves_names_and_special_targets),
        cmocka_unit_test(test_flt_check_target_explains_what_fits),
        cmocka_unit_test(test_flt_campaign_is_balanced_and_spaced),
        cmocka_unit_test(test_flt_campaign_targets_vary_over_roles),
        cmocka_unit_test(test_flt_campaign_draws_parameters_and_marks),
        cmocka_unit_test(test_flt_timeline_is_reproducible_from_seed),
        cmocka_unit_test(test_flt_hand_placed_faults_are_sorted_and_keep_source),
        cmocka_unit_test(test_flt_flow_line_strips_counters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
