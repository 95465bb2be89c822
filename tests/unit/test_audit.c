/* Unit tests of the shortcut audit (collector/audit.c) on hand-made run
 * directories written here: 40 normal sweeps and 10 of a fault, two
 * switches each.  In the planted one a column (ports_down) and a rule
 * shape (a drop rule matching only the ethertype) give the fault away; in
 * the clean one the fault's sweeps look like the normal ones everywhere
 * but in a column whose values overlap (rx_pps). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "util.h"

#define NORMAL 40
#define FAULTY 10

/* Writes a run of NORMAL + FAULTY sweeps into a new directory; with
 * 'planted', the fault's sweeps carry the two shortcuts. */
static char *
write_run(bool planted)
{
    char tmpl[] = "/tmp/simrun-test-audit-XXXXXX", path[160];
    char *dir = xstrdup(mkdtemp(tmpl));
    FILE *s, *f;

    snprintf(path, sizeof path, "%s/samples.csv", dir);
    s = fopen(path, "w");
    snprintf(path, sizeof path, "%s/flows.csv", dir);
    f = fopen(path, "w");
    assert_non_null(s);
    assert_non_null(f);
    fprintf(s, "t_s,sweep,switch,rx_pps,ports_down,flows,label,fault_phase,run\n");
    fprintf(f, "sweep,switch,table,priority,cookie,idle_timeout,hard_timeout,match,actions,"
               "label,fault_phase,run\n");
    for (int k = 0; k < NORMAL + FAULTY; k++) {
        bool fault = k >= NORMAL;
        const char *label = fault ? "lldp_drop" : "normal", *phase = fault ? "active" : "normal";

        for (int sw = 1; sw <= 2; sw++) {
            /* rx_pps: the same spread in both (k % 7 repeats every week). */
            fprintf(s, "%d,%d,s%d,%d,%d,3,%s,%s,r-1\n", k, k, sw, 100 + (k % 7) * 10,
                    planted && fault && sw == 1, label, phase);
            fprintf(f, "%d,s%d,0,10,6052837899185946624,0,0,\"{\"\"dl_dst\"\":\"\"02:00:00:00:00:0%d\"\"}\","
                       "OUTPUT:%d,%s,%s,r-1\n",
                    k, sw, sw, sw, label, phase);
            if (planted && fault && sw == 1) {
                fprintf(f, "%d,s1,0,61000,12345,0,0,\"{\"\"dl_type\"\":35020}\",,%s,%s,r-1\n", k,
                        label, phase);
            }
        }
    }
    assert_int_equal(fclose(s), 0);
    assert_int_equal(fclose(f), 0);
    return dir;
}

static void
remove_run(char *dir)
{
    char path[160];

    snprintf(path, sizeof path, "%s/samples.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/flows.csv", dir);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static json_t *
audit(const char *dir)
{
    struct au_audit *a = au_new();
    struct sr_error err = { 0 };
    json_t *res;

    assert_int_equal(au_add_run(a, dir, &err), 0);
    res = au_result(a, 0.99, 0.9, 100);
    au_free(a);
    return res;
}

/* Whether the audit's list for 'type' names 'feature' with 'test'. */
static bool
lists(json_t *res, const char *type, const char *feature, const char *test)
{
    json_t *list = json_object_get(json_object_get(res, "shortcuts"), type), *f;
    size_t i;

    json_array_foreach(list, i, f) {
        if (!strcmp(json_string_value(json_object_get(f, "feature")), feature) &&
            !strcmp(json_string_value(json_object_get(f, "test")), test)) {
            return true;
        }
    }
    return false;
}

static void
test_au_finds_a_planted_column_and_rule_shape(void **state)
{
    char *dir = write_run(true);
    json_t *res = audit(dir), *sweeps = json_object_get(res, "sweeps");

    (void) state;
    assert_int_equal(json_integer_value(json_object_get(sweeps, "normal")), NORMAL);
    assert_int_equal(json_integer_value(json_object_get(sweeps, "lldp_drop")), FAULTY);
    assert_true(lists(res, "lldp_drop", "samples.ports_down (max)", ">="));
    assert_true(lists(res, "lldp_drop", "flows: dl_type -> drop", "present"));
    assert_true(lists(res, "lldp_drop", "flows: match dl_type=35020", "present"));
    assert_true(lists(res, "lldp_drop", "flows: actions drop", "present"));
    /* Every sweep has one flow more in the fault: a count, not a shape. */
    assert_true(lists(res, "lldp_drop", "flows: all", ">="));
    /* The cookie's top 16 bits: 0x5400... for the forwarding flows, 0 for
     * the planted rule (12345). */
    assert_true(lists(res, "lldp_drop", "flows: cookie application 0x0000", "present"));
    assert_false(lists(res, "lldp_drop", "samples.rx_pps (max)", ">="));
    assert_false(lists(res, "lldp_drop", "samples.rx_pps (max)", "<="));
    assert_false(lists(res, "lldp_drop", "flows: cookie application 0x5400", ">="));
    json_decref(res);
    remove_run(dir);
}

static void
test_au_finds_nothing_in_a_clean_run(void **state)
{
    char *dir = write_run(false);
    json_t *res = audit(dir);

    (void) state;
    assert_int_equal(json_array_size(json_object_get(json_object_get(res, "shortcuts"),
                                                     "lldp_drop")),
                     0);
    json_decref(res);
    remove_run(dir);
}

static void
test_au_leaves_out_recovery_sweeps(void **state)
{
    char tmpl[] = "/tmp/simrun-test-audit-XXXXXX", path[160];
    char *dir = xstrdup(mkdtemp(tmpl));
    FILE *s;
    json_t *res;

    (void) state;
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    s = fopen(path, "w");
    assert_non_null(s);
    fprintf(s, "sweep,switch,flows,label,fault_phase,run\n"
               "0,s1,3,normal,normal,r\n1,s1,3,link_down,recovery,r\n"
               "2,s1,1,link_down,active,r\n");
    assert_int_equal(fclose(s), 0);
    res = audit(dir);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "sweeps"), "normal")),
                     1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(res, "sweeps"), "link_down")), 1);
    json_decref(res);
    unlink(path);
    remove_run(dir);
}

static void
test_au_refuses_a_directory_without_samples(void **state)
{
    char tmpl[] = "/tmp/simrun-test-audit-XXXXXX";
    char *dir = xstrdup(mkdtemp(tmpl));
    struct au_audit *a = au_new();
    struct sr_error err = { 0 };

    (void) state;
    assert_true(au_add_run(a, dir, &err) < 0);
    assert_int_equal(err.code, SR_ENOTFOUND);
    assert_non_null(strstr(err.msg, dir));
    au_free(a);
    remove_run(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_au_finds_a_planted_column_and_rule_shape),
        cmocka_unit_test(test_au_finds_nothing_in_a_clean_run),
        cmocka_unit_test(test_au_leaves_out_recovery_sweeps),
        cmocka_unit_test(test_au_refuses_a_directory_without_samples),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
