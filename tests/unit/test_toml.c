/* Unit tests of the TOML parser's API: positions, lookups, exact messages.
 * The grammar itself is covered document by document by toml_suite.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "buf.h"
#include "toml.h"

static struct toml_value *
parse(const char *text, struct sr_error *err)
{
    return toml_parse(text, strlen(text), err);
}

static void
assert_error(const char *text, const char *expected)
{
    struct sr_error err = { 0 };
    struct toml_value *v = parse(text, &err);

    assert_null(v);
    assert_int_equal(err.code, SR_EINVAL);
    assert_string_equal(err.msg, expected);
}

static void
test_toml_records_positions_of_keys_and_values(void **state)
{
    struct sr_error err = { 0 };
    struct toml_value *root = parse("# c\n[t]\n  key =   \"v\"\n", &err);
    const struct toml_value *t;
    const struct toml_kv *kv;

    (void) state;
    assert_non_null(root);
    t = toml_get(root, "t");
    assert_non_null(t);
    assert_int_equal(t->line, 2);
    assert_int_equal(t->col, 1);
    kv = toml_get_kv(t, "key");
    assert_non_null(kv);
    assert_int_equal(kv->line, 3);
    assert_int_equal(kv->col, 3);
    assert_int_equal(kv->val->line, 3);
    assert_int_equal(kv->val->col, 11);
    toml_free(root);
}

static void
test_toml_counts_columns_in_characters(void **state)
{
    /* "é" is two bytes but one column. */
    (void) state;
    assert_error("a = \"é\" x\n", "1:9: expected end of line after value, found 'x'");
}

static void
test_toml_keeps_nul_in_strings_and_keys(void **state)
{
    struct sr_error err = { 0 };
    struct toml_value *root = parse("\"k\\u0000x\" = \"a\\u0000b\"\n", &err);

    (void) state;
    assert_non_null(root);
    assert_int_equal(root->u.t.n, 1);
    assert_int_equal(root->u.t.items[0].key_len, 3);
    assert_memory_equal(root->u.t.items[0].key, "k\0x", 3);
    assert_int_equal(root->u.t.items[0].val->u.s.len, 3);
    assert_memory_equal(root->u.t.items[0].val->u.s.ptr, "a\0b", 3);
    toml_free(root);
}

static void
test_toml_parses_every_scalar_type(void **state)
{
    struct sr_error err = { 0 };
    struct toml_value *root = parse("i = -0x0\nf = 1e3\nb = false\n"
                                    "d = 2024-02-29T23:59:59.5+01:30\n"
                                    "n = -nan\nmin = -9223372036854775808\n",
                                    &err);
    const struct toml_value *d;
    char buf[64];

    (void) state;
    /* "-0x0" is not allowed: a sign before a prefix. */
    assert_null(root);
    assert_string_equal(err.msg, "1:5: invalid number '-0x0'");
    root = parse("i = 0x10\nf = 1e3\nb = false\n"
                 "d = 2024-02-29T23:59:59.5+01:30\n"
                 "n = -nan\nmin = -9223372036854775808\n",
                 &err);
    assert_non_null(root);
    assert_int_equal(toml_get(root, "i")->type, TOML_INTEGER);
    assert_int_equal(toml_get(root, "i")->u.i, 16);
    assert_true(toml_get(root, "f")->u.f == 1000.0);
    assert_false(toml_get(root, "b")->u.b);
    d = toml_get(root, "d");
    assert_int_equal(d->type, TOML_DATETIME);
    assert_int_equal(d->u.dt.offset_minutes, 90);
    assert_string_equal(d->u.dt.frac, "5");
    toml_datetime_format(&d->u.dt, d->type, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T23:59:59.5+01:30");
    assert_true(isnan(toml_get(root, "n")->u.f));
    assert_true(toml_get(root, "min")->u.i == INT64_MIN);
    toml_free(root);
}

/* Nesting past the limit is an error at the level that crosses it, not a
 * stack overflow (23 000 levels crashed the parser before). */
static void
test_toml_refuses_deep_nesting(void **state)
{
    static const char *const opens[] = { "[", "{ a = " };

    (void) state;
    for (size_t k = 0; k < 2; k++) {
        struct sr_buf b = SR_BUF_INIT;
        char want[128];

        sr_buf_puts(&b, "x = ");
        for (int i = 0; i < 100000; i++) {
            sr_buf_puts(&b, opens[k]);
        }
        snprintf(want, sizeof want,
                 "1:%zu: arrays and inline tables nested deeper than 64 levels",
                 strlen("x = ") + 64 * strlen(opens[k]) + 1);
        assert_error(sr_buf_cstr(&b), want);
        sr_buf_release(&b);
    }
}

/* 64 levels parse; freezing them walks each value once. */
static void
test_toml_accepts_nesting_up_to_the_limit(void **state)
{
    struct sr_buf b = SR_BUF_INIT;
    struct sr_error err = { 0 };
    struct toml_value *v;

    (void) state;
    sr_buf_puts(&b, "x = ");
    for (int i = 0; i < 64; i++) {
        sr_buf_puts(&b, "[");
    }
    for (int i = 0; i < 64; i++) {
        sr_buf_puts(&b, "]");
    }
    sr_buf_puts(&b, "\n");
    v = parse(sr_buf_cstr(&b), &err);
    assert_non_null(v);
    toml_free(v);
    sr_buf_release(&b);
}

static void
test_toml_refuses_long_dotted_keys(void **state)
{
    struct sr_buf b = SR_BUF_INIT;

    (void) state;
    sr_buf_puts(&b, "a");
    for (int i = 0; i < 70; i++) {
        sr_buf_puts(&b, ".a");
    }
    sr_buf_puts(&b, " = 1\n");
    assert_error(sr_buf_cstr(&b), "1:129: a dotted key of more than 64 parts");
    sr_buf_release(&b);
}

static void
test_toml_names_a_bare_carriage_return(void **state)
{
    (void) state;
    assert_error("a = 1\rb = 2\n",
                 "1:6: expected end of line after value, found a carriage return not "
                 "followed by a line feed");
}

static void
test_toml_reports_duplicate_key_at_second_definition(void **state)
{
    (void) state;
    assert_error("a = 1\n  a = 2\n", "2:3: duplicate key 'a' (first defined at line 1)");
}

static void
test_toml_reports_table_redefinition(void **state)
{
    (void) state;
    assert_error("[x]\n[y]\n[x]\n",
                 "3:1: cannot define table 'x': it is already defined (line 1)");
    assert_error("a = [1]\n[[a]]\n",
                 "2:1: cannot define array of tables 'a': it is already an array "
                 "(line 1)");
}

static void
test_toml_reports_unterminated_string_at_its_start(void **state)
{
    (void) state;
    assert_error("a = 1\nb = \"open\n", "2:5: unterminated string");
    assert_error("a = '''\nnever closed\n", "1:5: unterminated multi-line string");
}

static void
test_toml_reports_bad_utf8_position(void **state)
{
    (void) state;
    assert_error("a = 1\nb = \"\xff\"\n", "2:6: invalid UTF-8 byte 0xFF");
}

static void
test_toml_get_returns_null_for_missing_and_non_tables(void **state)
{
    struct sr_error err = { 0 };
    struct toml_value *root = parse("a = 1\n", &err);

    (void) state;
    assert_non_null(root);
    assert_null(toml_get(root, "b"));
    assert_null(toml_get(toml_get(root, "a"), "x"));
    assert_null(toml_get(NULL, "a"));
    toml_free(root);
    toml_free(NULL);
}

static void
test_toml_array_of_tables_keeps_order(void **state)
{
    struct sr_error err = { 0 };
    struct toml_value *root = parse("[[f]]\nn = 1\n[[f]]\nn = 2\n[[f]]\nn = 3\n", &err);
    const struct toml_value *f;

    (void) state;
    assert_non_null(root);
    f = toml_get(root, "f");
    assert_int_equal(f->type, TOML_ARRAY);
    assert_int_equal(f->u.a.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(toml_get(f->u.a.items[i], "n")->u.i, (int64_t) i + 1);
        assert_int_equal(f->u.a.items[i]->line, (int) (2 * i + 1));
    }
    toml_free(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toml_records_positions_of_keys_and_values),
        cmocka_unit_test(test_toml_counts_columns_in_characters),
        cmocka_unit_test(test_toml_keeps_nul_in_strings_and_keys),
        cmocka_unit_test(test_toml_parses_every_scalar_type),
        cmocka_unit_test(test_toml_refuses_deep_nesting),
        cmocka_unit_test(test_toml_accepts_nesting_up_to_the_limit),
        cmocka_unit_test(test_toml_refuses_long_dotted_keys),
        cmocka_unit_test(test_toml_names_a_bare_carriage_return),
        cmocka_unit_test(test_toml_reports_duplicate_key_at_second_definition),
        cmocka_unit_test(test_toml_reports_table_redefinition),
        cmocka_unit_test(test_toml_reports_unterminated_string_at_its_start),
        cmocka_unit_test(test_toml_reports_bad_utf8_position),
        cmocka_unit_test(test_toml_get_returns_null_for_missing_and_non_tables),
        cmocka_unit_test(test_toml_array_of_tables_keeps_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
