/* Unit tests of scoring, on an example worked out by hand (below). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "score.h"

/* Two episodes: link_down c1-c2 from 10 s, flows_deleted c3 from 30 s.
 * Eleven windows; the comment says what each is. */
static const struct sc_answer answers[] = {
    { 5, "normal", NULL, "normal", "", "normal", 0 },            /* right */
    { 8, "link_down", "c1-c2", "normal", "", "normal", 0 },      /* false alarm */
    { 11, "normal", NULL, "link_down", "c1-c2", "active", 1 },   /* missed */
    { 12, "link_down", "c2-c1", "link_down", "c1-c2", "active", 1 }, /* detected after 2 s,
                                                                          right target */
    { 14, "link_down", "c3", "link_down", "c1-c2", "active", 1 },    /* wrong target */
    { 20, "normal", NULL, "normal", "", "normal", 0 },           /* right */
    { 31, "flows_deleted", "c3", "flows_deleted", "c3", "active", 2 }, /* after 1 s, right */
    { 33, "link_down", NULL, "flows_deleted", "c3", "active", 2 },     /* confused */
    { 35, NULL, NULL, "flows_deleted", "c3", "active", 2 },      /* unanswered */
    { 40, "flows_deleted", NULL, "flows_deleted", "c3", "recovery", 2 }, /* apart */
    { 45, "normal", NULL, "normal", "", "normal", 0 },           /* right */
};
static const struct sc_episode episodes[] = {
    { 1, "link_down", "c1-c2", 10 },
    { 2, "flows_deleted", "c3", 30 },
};

static double
num(const json_t *o, const char *path)
{
    char buf[128], *save = NULL;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        o = json_object_get(o, k);
    }
    assert_true(json_is_number(o));
    return json_number_value(o);
}

static void
test_sc_score_agrees_with_the_hand_worked_example(void **state)
{
    json_t *s = sc_score(answers, 11, episodes, 2, 5.0), *cm;
    static const long want_cm[3][3] = { { 3, 0, 1 }, { 0, 1, 1 }, { 1, 0, 2 } };

    (void) state;
    /* Headline: 9 answered (normal or active), 1 unanswered, 6 right. */
    assert_int_equal(num(s, "headline.answers"), 9);
    assert_int_equal(num(s, "headline.unanswered"), 1);
    assert_true(fabs(num(s, "headline.accuracy") - 0.6667) < 1e-4);
    /* normal: p 3/4 r 3/4; flows_deleted: p 1 r 1/2 f1 2/3; link_down:
     * p 2/4 r 2/3 f1 4/7; macro-F1 (0.75 + 0.6667 + 0.5714) / 3. */
    assert_true(fabs(num(s, "headline.per_label.normal.f1") - 0.75) < 1e-4);
    assert_true(fabs(num(s, "headline.per_label.flows_deleted.precision") - 1.0) < 1e-4);
    assert_true(fabs(num(s, "headline.per_label.flows_deleted.recall") - 0.5) < 1e-4);
    assert_true(fabs(num(s, "headline.per_label.link_down.precision") - 0.5) < 1e-4);
    assert_true(fabs(num(s, "headline.per_label.link_down.f1") - 0.5714) < 1e-4);
    assert_true(fabs(num(s, "headline.macro_f1") - 0.6627) < 1e-4);
    cm = json_object_get(json_object_get(s, "headline"), "confusion");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(s, "headline"), "labels"), 0)),
                        "normal");
    for (size_t r = 0; r < 3; r++) {
        for (size_t c = 0; c < 3; c++) {
            assert_int_equal(json_integer_value(json_array_get(json_array_get(cm, r), c)),
                             want_cm[r][c]);
        }
    }
    /* Detected after 2 s and 1 s. */
    assert_int_equal(num(s, "detection.detected"), 2);
    assert_true(fabs(num(s, "detection.delay_p50_s") - 1.0) < 1e-9);
    assert_true(fabs(num(s, "detection.delay_p95_s") - 2.0) < 1e-9);
    /* Targets: c2-c1 counts for c1-c2; c3 for the link does not. */
    assert_int_equal(num(s, "localisation.answers"), 3);
    assert_true(fabs(num(s, "localisation.accuracy") - 0.6667) < 1e-4);
    /* One false alarm in 4 normal windows of 5 s: 180 an hour. */
    assert_int_equal(num(s, "false_alarms.count"), 1);
    assert_true(fabs(num(s, "false_alarms.per_hour") - 180.0) < 1e-6);
    /* The recovery answer is scored apart. */
    assert_int_equal(num(s, "apart.answers"), 1);
    assert_true(fabs(num(s, "apart.accuracy") - 1.0) < 1e-9);
    json_decref(s);
}

static void
test_sc_score_of_nothing_is_empty_not_an_error(void **state)
{
    json_t *s = sc_score(NULL, 0, NULL, 0, 1.0);

    (void) state;
    assert_int_equal(num(s, "headline.answers"), 0);
    assert_true(json_is_null(json_object_get(json_object_get(s, "headline"), "accuracy")));
    json_decref(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sc_score_agrees_with_the_hand_worked_example),
        cmocka_unit_test(test_sc_score_of_nothing_is_empty_not_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
