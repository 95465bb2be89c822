/* Unit tests of the scenario model and of the checks the plan adds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plan.h"
#include "cli.h"
#include "scenario.h"
#include "util.h"

static struct scenario *
parse_ok(const char *text)
{
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct scenario *s = scenario_parse("test.toml", text, strlen(text), &d, &err);

    if (!s) {
        char *msg = scn_diags_format(&d, "test.toml");

        fail_msg("unexpected problems:\n%s", msg);
    }
    assert_int_equal(d.n, 0);
    scn_diags_release(&d);
    return s;
}

/* Parses 'text' expecting problems; returns them formatted. */
static char *
parse_bad(const char *text)
{
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct scenario *s = scenario_parse("test.toml", text, strlen(text), &d, &err);
    char *msg;

    assert_null(s);
    assert_int_equal(err.code, SR_EINVAL);
    msg = scn_diags_format(&d, "test.toml");
    scn_diags_release(&d);
    return msg;
}

static void
test_scn_empty_file_gives_defaults(void **state)
{
    struct scenario *s = parse_ok("");

    (void) state;
    assert_string_equal(s->name, "test");
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->duration_ms, 120000);
    assert_false(s->duration_set);
    assert_int_equal(s->warmup_ms, 10000);
    assert_int_equal(s->topo.core_switches, 8);
    assert_int_equal(s->topo.core_m, 2);
    assert_int_equal(s->topo.access_networks, 3);
    assert_int_equal(s->topo.access_switches, 4);
    assert_int_equal(s->topo.uplinks, 2);
    assert_int_equal(s->topo.hosts, 6);
    assert_int_equal(s->topo.datacenters, 2);
    assert_true(s->topo.link_bw_mbps == 0);
    assert_int_equal(s->controller.kind, SCN_CTL_EMBEDDED);
    assert_int_equal(s->controller.timeout_ms, 2000);
    assert_true(s->traffic.video.enabled);
    assert_true(s->traffic.video.clients == 0.5);
    assert_int_equal(s->traffic.video.bitrate_kbps, 1500);
    assert_true(s->traffic.p2p.file_mb_min == 1 && s->traffic.p2p.file_mb_max == 8);
    assert_int_equal(s->traffic.broadcast.every_ms, 5000);
    assert_int_equal(s->collector.interval_ms, 1000);
    assert_true(s->collector.csv);
    assert_false(s->collector.jsonl);
    assert_int_equal(s->nfaults, 0);
    assert_false(s->campaign.present);
    scenario_free(s);
}

static void
test_scn_reads_video_drop(void **state)
{
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct scenario *s = scenario_load(SR_SOURCE_DIR "/scenarios/video_drop.toml", &d, &err);

    (void) state;
    assert_non_null(s);
    assert_string_equal(s->name, "video_drop");
    assert_int_equal(s->seed, 7);
    assert_int_equal(s->duration_ms, 150000);
    assert_int_equal(s->warmup_ms, 20000);
    assert_true(s->topo.link_bw_mbps == 100);
    assert_int_equal(s->nfaults, 1);
    assert_string_equal(s->faults[0].type->name, "drop_service");
    assert_string_equal(s->faults[0].service, "video");
    assert_string_equal(s->faults[0].target, "core:busiest");
    assert_int_equal(s->faults[0].at_ms, 60000);
    assert_int_equal(s->faults[0].duration_ms, 45000);
    assert_int_equal(s->fault_pos[0].line, 31);
    scenario_free(s);
}

static void
test_scn_parses_durations(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = { { "250ms", 250 }, { "45s", 45000 }, { "2m", 120000 },
                 { "1h", 3600000 }, { "1.5s", 1500 }, { "0s", 0 } };
    static const char *const bad[] = { "", "45", "s", "1.s", ".5s", "-1s", "1 s",
                                       "1sec", "1m30s", "1e3s" };
    int64_t ms;

    (void) state;
    for (size_t i = 0; i < SR_ARRAY_SIZE(good); i++) {
        assert_true(scn_parse_duration(good[i].text, &ms));
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < SR_ARRAY_SIZE(bad); i++) {
        ms = -42;
        assert_false(scn_parse_duration(bad[i], &ms));
        assert_int_equal(ms, -42);
    }
}

static void
test_scn_rejects_unknown_key_with_suggestion(void **state)
{
    char *msg = parse_bad("[traffic.video]\nbitrate_kpbs = 100\n");

    (void) state;
    assert_string_equal(msg, "test.toml:2:1: unknown key 'bitrate_kpbs' in "
                             "[traffic.video] (did you mean 'bitrate_kbps'?)\n");
    free(msg);
}

static void
test_scn_reports_every_problem_sorted_by_position(void **state)
{
    char *msg = parse_bad("[collector]\ninterval = \"1 s\"\n[topology]\ndatacenters = 999\n"
                          "seeed = 1\n");

    (void) state;
    assert_string_equal(msg,
                        "test.toml:2:12: 'interval' in [collector]: invalid duration "
                        "\"1 s\" (use a number and a unit: ms, s, m or h, as in "
                        "\"45s\")\n"
                        "test.toml:4:15: 'datacenters' in [topology] is 999, out of "
                        "range 0..250\n"
                        "test.toml:5:1: unknown key 'seeed' in [topology] (known keys: "
                        "core, access, datacenters, link)\n");
    free(msg);
}

static void
test_scn_campaign_without_duration_fits_the_run(void **state)
{
    struct scenario *s = parse_ok("warmup = \"10s\"\n[campaign]\n"
                                  "types = [\"link_down\", \"switch_down\", \"lldp_drop\"]\n"
                                  "episodes = 7\nlength = \"20s\"\ngap = \"10s\"\n");
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct sim_plan *p = sim_plan_build(s, &d, &err);

    (void) state;
    assert_non_null(p);
    assert_int_equal(p->timeline.n, 7);
    /* 10 s warm-up + 7 x (10 s gap + 20 s fault) + a final 10 s gap. */
    assert_int_equal(p->duration_ms, 10000 + 7 * 30000 + 10000);
    assert_int_equal(p->timeline.ep[0].at_ms, 20000);
    assert_int_equal(p->timeline.ep[6].at_ms + p->timeline.ep[6].duration_ms, 220000);
    sim_plan_free(p);
    scenario_free(s);
}

static void
test_scn_allows_overlap_when_asked(void **state)
{
    const char *text = "allow_overlapping_faults = true\n"
                       "[[fault]]\ntype = \"link_down\"\nat = \"20s\"\nduration = \"30s\"\n"
                       "[[fault]]\ntype = \"lldp_drop\"\nat = \"30s\"\nduration = \"30s\"\n";
    struct scenario *s = parse_ok(text);
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };
    struct sim_plan *p = sim_plan_build(s, &d, &err);

    (void) state;
    assert_non_null(p);
    assert_int_equal(p->timeline.n, 2);
    sim_plan_free(p);
    scenario_free(s);
}

/* Every file in tests/data/scenarios is a bad scenario; its .err file holds
 * exactly what must be reported. */
static void
test_scn_bad_files_report_expected_problems(void **state)
{
    char dirpath[512];
    struct dirent **list = NULL;
    int n, checked = 0;

    (void) state;
    snprintf(dirpath, sizeof dirpath, "%s/scenarios", SR_TEST_DATA);
    n = scandir(dirpath, &list, NULL, alphasort);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char *path, *errpath, *name, *base;
        struct scn_diags d = { 0 };
        struct sr_error err = { 0 };
        struct scenario *s;
        struct sim_plan *p = NULL;
        char *expected, *actual;
        size_t len = strlen(list[i]->d_name);

        if (len < 6 || strcmp(list[i]->d_name + len - 5, ".toml")) {
            free(list[i]);
            continue;
        }
        base = xasprintf("%.*s", (int) (len - 5), list[i]->d_name);
        free(list[i]);
        checked++;
        path = xasprintf("%s/%s.toml", dirpath, base);
        errpath = xasprintf("%s/%s.err", dirpath, base);
        name = xasprintf("%s.toml", base);
        s = scenario_load(path, &d, &err);
        if (s) {
            p = sim_plan_build(s, &d, &err);
        }
        assert_null(p);
        assert_int_equal(err.code, SR_EINVAL);
        expected = sr_read_file(errpath, NULL);
        assert_non_null(expected);
        actual = scn_diags_format(&d, name);
        if (strcmp(expected, actual)) {
            fail_msg("%s:\nexpected:\n%s\nactual:\n%s", base, expected, actual);
        }
        free(expected);
        free(actual);
        free(path);
        free(errpath);
        free(name);
        free(base);
        scn_diags_release(&d);
        scenario_free(s);
    }
    free(list);
    assert_true(checked >= 20); /* the folder was read */
}

/* A file with tens of thousands of mistakes is sorted stably and shown
 * with a limit. */
static void
test_scn_many_problems_are_sorted_and_capped(void **state)
{
    struct sr_buf text = SR_BUF_INIT;
    char *msg, *last;
    size_t lines = 0;

    (void) state;
    for (int i = 0; i < 60000; i++) {
        sr_buf_printf(&text, "k%d = 1\n", 59999 - i);
    }
    msg = parse_bad(sr_buf_cstr(&text));
    for (const char *p = msg; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, SCN_DIAGS_SHOWN + 1);
    assert_memory_equal(msg, "test.toml:1:1: unknown key 'k59999' in the scenario's top level",
                        strlen("test.toml:1:1: unknown key 'k59999' in the scenario's top level"));
    assert_non_null(strstr(msg, "\ntest.toml:2:1: unknown key 'k59998' "));
    last = strstr(msg, "test.toml: ... and ");
    assert_non_null(last);
    assert_string_equal(last, "test.toml: ... and 59800 more problems\n");
    free(msg);
    sr_buf_release(&text);
}

/* The name taken from a file name is checked like one written in it: no
 * quote, newline or shell character reaches the generated script. */
static void
test_scn_rejects_unsafe_names_from_file_names(void **state)
{
    static const char *const paths[] = {
        "x'+__import__('os').system('id')+'.toml",
        "evil\nimport os; os.system('id')\n.toml",
        "$(touch pwned).toml",
        "-rf.toml",
        "..toml",
    };

    (void) state;
    for (size_t i = 0; i < SR_ARRAY_SIZE(paths); i++) {
        struct scn_diags d = { 0 };
        struct sr_error err = { 0 };
        struct scenario *s = scenario_parse(paths[i], "", 0, &d, &err);
        char *msg;

        assert_null(s);
        assert_int_equal(d.n, 1);
        msg = scn_diags_format(&d, "f");
        assert_non_null(strstr(msg, "cannot name the run"));
        /* One line: a newline in the name is shown as '?', not kept. */
        assert_ptr_equal(strchr(msg, '\n'), msg + strlen(msg) - 1);
        free(msg);
        scn_diags_release(&d);
    }
}

static void
test_scn_missing_file_is_an_error(void **state)
{
    struct scn_diags d = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_null(scenario_load("/nonexistent/x.toml", &d, &err));
    assert_int_equal(err.code, SR_ENOTFOUND);
    assert_string_equal(err.msg,
                        "cannot read '/nonexistent/x.toml': No such file or directory");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scn_empty_file_gives_defaults),
        cmocka_unit_test(test_scn_reads_video_drop),
        cmocka_unit_test(test_scn_parses_durations),
        cmocka_unit_test(test_scn_rejects_unknown_key_with_suggestion),
        cmocka_unit_test(test_scn_reports_every_problem_sorted_by_position),
        cmocka_unit_test(test_scn_campaign_without_duration_fits_the_run),
        cmocka_unit_test(test_scn_allows_overlap_when_asked),
        cmocka_unit_test(test_scn_bad_files_report_expected_problems),
        cmocka_unit_test(test_scn_many_problems_are_sorted_and_capped),
        cmocka_unit_test(test_scn_rejects_unsafe_names_from_file_names),
        cmocka_unit_test(test_scn_missing_file_is_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
