/* Unit tests of the episodes' summary (collector/episodes.c) on a run
 * directory written here: one fault from 100 s to 120 s of wall time,
 * video at 1500 kbit/s before it and 600 kbit/s (stalled) during it, web
 * pages failing during it only, and one fault that hurt nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "episodes.h"
#include "util.h"

static char dir[] = "/tmp/simrun-test-episodes-XXXXXX";

/* 2026-01-01T00:00:00Z */
#define T0 1767225600.0

static void
put(FILE *f, const char *kind, int id, const char *type, double t_s)
{
    char iso[64];
    int ms = (int) (t_s * 1000.0 + 0.5) % 1000, sec = (int) t_s % 60, min = (int) t_s / 60;

    assert_true(t_s >= 0 && t_s < 3600);
    snprintf(iso, sizeof iso, "2026-01-01T00:%02d:%02d.%03dZ", min % 60, sec, ms);
    fprintf(f,
            "{\"event\":\"%s\",\"type\":\"%s\",\"id\":%d,\"target\":\"c1\",\"selector\":\"c1\","
            "\"t_s\":%.3f,\"time\":\"%s\"%s}\n",
            kind, type, id, t_s, iso,
            strcmp(kind, "inject") ? "" : ",\"cookie\":\"0x0001000000000001\",\"priority\":1234");
}

static void
kpi(FILE *f, double t_s, const char *svc, const char *metrics)
{
    fprintf(f, "{\"t\":%.2f,\"host\":\"u1h1\",\"service\":\"%s\",\"peer\":\"x\",\"metrics\":%s}\n",
            T0 + t_s, svc, metrics);
}

static int
setup(void **state)
{
    char path[128];
    FILE *f;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/faults.jsonl", dir);
    f = fopen(path, "w");
    put(f, "inject", 1, "flow_output_changed", 100.0);
    put(f, "verified", 1, "flow_output_changed", 100.5);
    put(f, "revert", 1, "flow_output_changed", 120.5);
    put(f, "reverted", 1, "flow_output_changed", 121.0);
    put(f, "inject", 2, "flows_deleted", 200.0);
    put(f, "verified", 2, "flows_deleted", 200.2);
    put(f, "partly_healed", 2, "flows_deleted", 205.0);
    put(f, "revert", 2, "flows_deleted", 210.2);
    put(f, "reverted", 2, "flows_deleted", 210.4);
    fclose(f);
    snprintf(path, sizeof path, "%s/traffic.jsonl", dir);
    f = fopen(path, "w");
    for (int t = 60; t < 240; t++) {
        bool hurt = t >= 101 && t < 120;

        kpi(f, t + 0.5, "video",
            hurt ? "{\"ok\":true,\"bitrate_kbps\":600,\"stalled\":true}"
                 : "{\"ok\":true,\"bitrate_kbps\":1500,\"stalled\":false}");
        kpi(f, t + 0.7, "web",
            hurt && t % 2 ? "{\"ok\":false,\"failures\":1}" : "{\"ok\":true,\"page_ms\":50}");
    }
    fclose(f);
    return 0;
}

static int
teardown(void **state)
{
    char path[128];

    (void) state;
    snprintf(path, sizeof path, "%s/faults.jsonl", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/traffic.jsonl", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/episodes.csv", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void
test_ep_measures_the_services_before_and_during(void **state)
{
    struct sr_error err = { 0 };
    json_t *eps = ep_summarise(dir, "r-1", &err), *a, *b;

    (void) state;
    assert_non_null(eps);
    assert_int_equal(json_array_size(eps), 2);
    a = json_array_get(eps, 0);
    b = json_array_get(eps, 1);
    assert_string_equal(json_string_value(json_object_get(a, "run")), "r-1");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "flow_output_changed");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "verified");
    assert_string_equal(json_string_value(json_object_get(a, "cookie")), "0x0001000000000001");
    /* During: verified (100.5) to revert (120.5); before: as long, before
     * the injection (80 to 100). */
    assert_true(json_real_value(json_object_get(a, "during_s")) == 20.0);
    assert_true(json_real_value(json_object_get(a, "before_s")) == 20.0);
    assert_true(json_real_value(json_object_get(a, "video_kbps_before")) == 1500.0);
    /* 101..119 at 600, 100.5's record (t=100.5) at 1500: (1500 + 19 * 600) / 20. */
    assert_true(json_real_value(json_object_get(a, "video_kbps_during")) == 645.0);
    assert_true(json_real_value(json_object_get(a, "web_fail_before")) == 0.0);
    /* Odd seconds 101..119 fail: 10 of the 20 pages from 100.7 to 119.7. */
    assert_true(json_real_value(json_object_get(a, "web_fail_during")) == 0.5);
    assert_string_equal(json_string_value(json_object_get(a, "impact")),
                        "video bitrate -57%; video stalled 95% of the time (was 0%); "
                        "web failures 50% (were 0%)");
    assert_false(json_is_true(json_object_get(a, "silent")));
    /* The second hurt nothing; its before-stretch starts after the first
     * ended (121 + 2 s), and the controller healed it in part. */
    assert_true(json_is_true(json_object_get(b, "silent")));
    assert_string_equal(json_string_value(json_object_get(b, "healed")), "partly");
    assert_true(json_real_value(json_object_get(b, "before_s")) == 10.0);
    {
        char *path = xasprintf("%s/episodes.csv", dir);

        assert_int_equal(ep_write_csv(path, eps, &err), 0);
        free(path);
    }
    json_decref(eps);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ep_measures_the_services_before_and_during),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
