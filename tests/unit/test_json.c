/* Unit tests of the JSON helpers: 64-bit unsigned values survive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "json.h"

static void
test_sr_json_keeps_integers_above_int64(void **state)
{
    struct sr_error err = { 0 };
    json_t *j = sr_json_loads("{\"cookie\": 18446744073709551615, \"small\": 42, "
                              "\"text\": \"18446744073709551615 in a string\", "
                              "\"neg\": -9223372036854775808, \"f\": 1.5e300, "
                              "\"edge\": 9223372036854775808, \"max\": 9223372036854775807}",
                              "test", &err);
    uint64_t v = 0;

    (void) state;
    assert_non_null(j);
    assert_true(sr_json_u64(json_object_get(j, "cookie"), &v));
    assert_true(v == UINT64_MAX);
    assert_true(sr_json_u64(json_object_get(j, "edge"), &v));
    assert_true(v == 9223372036854775808ULL);
    assert_true(sr_json_u64(json_object_get(j, "max"), &v));
    assert_true(v == 9223372036854775807ULL);
    assert_true(sr_json_u64(json_object_get(j, "small"), &v));
    assert_int_equal(v, 42);
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "18446744073709551615 in a string");
    assert_true(json_integer_value(json_object_get(j, "neg")) == INT64_MIN);
    assert_false(sr_json_u64(json_object_get(j, "neg"), &v));
    assert_false(sr_json_u64(json_object_get(j, "f"), &v));
    assert_false(sr_json_u64(json_object_get(j, "text"), &v));
    json_decref(j);
}

static void
test_sr_json_reads_decimal_strings(void **state)
{
    json_t *s = json_string("18446744073709551615"), *big = json_string("18446744073709551616");
    json_t *empty = json_string(""), *sign = json_string("+1");
    uint64_t v = 7;

    (void) state;
    assert_true(sr_json_u64(s, &v));
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_false(sr_json_u64(big, &v));
    assert_false(sr_json_u64(empty, &v));
    assert_false(sr_json_u64(sign, &v));
    assert_int_equal(v, 7);
    json_decref(s);
    json_decref(big);
    json_decref(empty);
    json_decref(sign);
}

static void
test_sr_json_reports_position_of_errors(void **state)
{
    struct sr_error err = { 0 };

    (void) state;
    assert_null(sr_json_loads("{\"a\": 1,\n \"b\": }", "GET /x", &err));
    assert_int_equal(err.code, SR_EINVAL);
    assert_string_equal(err.msg, "GET /x: invalid JSON at line 2 column 7: unexpected token "
                                 "near '}'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr_json_keeps_integers_above_int64),
        cmocka_unit_test(test_sr_json_reads_decimal_strings),
        cmocka_unit_test(test_sr_json_reports_position_of_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
