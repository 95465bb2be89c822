/* Unit tests of the collector's pieces: deltas and counter resets, labels
 * at fault boundaries, CSV quoting, and the Ryu shapes it reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "collector.h"
#include "util.h"

static void
test_col_delta_between_readings(void **state)
{
    struct col_prev prev = { true, 1.0, 100, 500 }, none = { false, 0, 0, 0 };
    uint64_t d = 7;
    bool reset = true;

    (void) state;
    assert_true(col_delta(&prev, 650, 101, &d, &reset));
    assert_int_equal(d, 150);
    assert_false(reset);
    assert_true(col_delta(&prev, 500, 101, &d, &reset));
    assert_int_equal(d, 0);
    d = 7;
    assert_false(col_delta(&none, 650, 101, &d, &reset));
    assert_int_equal(d, 7);
}

static void
test_col_delta_counts_from_a_reset(void **state)
{
    struct col_prev prev = { true, 1.0, 100, 500 };
    uint64_t d = 0;
    bool reset = false;

    (void) state;
    /* The counter went down: the switch restarted and counted 40 since. */
    assert_true(col_delta(&prev, 40, 2, &d, &reset));
    assert_int_equal(d, 40);
    assert_true(reset);
    /* The counter is higher but the port is younger: also a reset. */
    assert_true(col_delta(&prev, 900, 3, &d, &reset));
    assert_int_equal(d, 900);
    assert_true(reset);
}

static char tmpdir[] = "/tmp/simrun-col-XXXXXX";
/* Each collector writes into a folder of its own (the collector creates
 * its files afresh and refuses to write over any). */
static char coldir[sizeof tmpdir + 16];

static struct collector *
new_collector(const struct col_fault *faults, size_t n)
{
    static const struct col_switch sws[] = { { 1, "c1", "core" }, { 2, "c2", "core" } };
    static int count;
    struct col_options o = { .dir = coldir, .interval_s = 1.0, .csv = true };
    struct sr_error err = { 0 };
    struct collector *c;

    snprintf(coldir, sizeof coldir, "%s/%d", tmpdir, ++count);
    assert_int_equal(mkdir(coldir, 0700), 0);
    c = col_new(&o, sws, 2, faults, n, NULL, &err);
    if (!c) {
        fail_msg("col_new: %s", err.msg);
    }
    return c;
}

static void
test_col_labels_at_fault_boundaries(void **state)
{
    static const struct col_touch link[] = { { "c1", 3 }, { "c2", 1 } };
    struct col_fault f = { 1, "link_down", "c1-c2", link, 2, false };
    struct collector *c = new_collector(&f, 1);
    struct col_label l;

    (void) state;
    col_label_at(c, 5.0, "c1", 0, &l);
    assert_string_equal(l.label, "normal");
    assert_int_equal(l.fault_id, 0);
    assert_string_equal(l.phase, "normal");
    assert_true(l.since_onset_s < 0);
    assert_int_equal(l.stretch, 0);
    col_fault_event(c, 1, COL_INJECT, 10.0);
    col_label_at(c, 9.999, "c1", 0, &l);
    assert_string_equal(l.label, "normal");
    col_label_at(c, 10.0, "c1", 0, &l);
    assert_string_equal(l.label, "link_down");
    assert_int_equal(l.fault_id, 1);
    assert_string_equal(l.target, "c1-c2");
    assert_string_equal(l.phase, "active");
    assert_true(l.since_onset_s == 0.0);
    assert_true(l.on_target);
    col_label_at(c, 12.5, "c1", 3, &l);
    assert_true(l.on_target);
    assert_true(l.since_onset_s == 2.5);
    col_label_at(c, 12.5, "c1", 4, &l);
    assert_false(l.on_target);
    assert_string_equal(l.label, "link_down");
    col_label_at(c, 12.5, "c9", 0, &l);
    assert_false(l.on_target);
    col_fault_event(c, 1, COL_REVERT, 20.0);
    col_fault_event(c, 1, COL_REVERTED, 21.0);
    col_label_at(c, 19.9, "c2", 0, &l);
    assert_string_equal(l.phase, "active");
    col_label_at(c, 20.0, "c2", 0, &l);
    assert_string_equal(l.phase, "recovery");
    assert_string_equal(l.label, "link_down");
    col_label_at(c, 21.0, "c2", 0, &l);
    assert_string_equal(l.label, "normal");
    assert_int_equal(l.stretch, 1); /* the normal stretch after the first fault */
    col_finish(c, "complete");
}

static void
test_col_effect_follows_the_looks(void **state)
{
    struct col_fault f = { 1, "flows_deleted", "c4", (const struct col_touch[]) { { "c4", 0 } },
                           1, false };
    struct collector *c = new_collector(&f, 1);
    struct col_label l;

    (void) state;
    col_fault_event(c, 1, COL_INJECT, 10.0);
    col_label_at(c, 11.0, "c4", 0, &l);
    assert_true(l.effect < 0); /* not looked at yet */
    col_fault_effect(c, 1, 11.5, 1.0);
    col_label_at(c, 11.4, "c4", 0, &l);
    assert_true(l.effect < 0); /* a look counts from when it was made */
    col_label_at(c, 12.0, "c4", 0, &l);
    assert_true(l.effect == 1.0);
    col_fault_effect(c, 1, 12.5, 23.0 / 26.0);
    col_label_at(c, 13.0, "c9", 0, &l);
    assert_true(l.effect == 23.0 / 26.0); /* the fault's, on every row it labels */
    col_fault_event(c, 1, COL_REVERT, 20.0);
    col_label_at(c, 20.0, "c4", 0, &l);
    assert_string_equal(l.phase, "recovery");
    assert_true(l.effect < 0); /* being restored: no longer what was measured */
    col_fault_event(c, 1, COL_REVERTED, 21.0);
    col_label_at(c, 21.0, "c4", 0, &l);
    assert_string_equal(l.label, "normal");
    assert_true(l.effect < 0);
    col_finish(c, "complete");
}

static void
test_col_labels_prefer_the_latest_onset(void **state)
{
    struct col_fault f[2] = { { 1, "congestion", "all", NULL, 0, true },
                              { 2, "switch_down", "c2", (const struct col_touch[]) { { "c2", 0 } },
                                1, false } };
    struct collector *c = new_collector(f, 2);
    struct col_label l;

    (void) state;
    col_fault_event(c, 1, COL_INJECT, 10.0);
    col_fault_event(c, 2, COL_INJECT, 15.0);
    col_label_at(c, 16.0, "c1", 0, &l);
    assert_string_equal(l.label, "switch_down");
    assert_false(l.on_target);
    col_fault_event(c, 2, COL_REVERTED, 18.0);
    col_label_at(c, 18.0, "c1", 0, &l);
    assert_string_equal(l.label, "congestion");
    assert_true(l.on_target); /* a fault on the whole network touches every switch */
    /* The controller undid fault 1 by itself: still its label, phase healed. */
    col_label_at(c, 18.5, "c1", 0, &l);
    assert_string_equal(l.phase, "active");
    col_fault_event(c, 1, COL_HEALED, 18.7);
    col_label_at(c, 18.5, "c1", 0, &l);
    assert_string_equal(l.phase, "active");
    col_label_at(c, 18.8, "c1", 0, &l);
    assert_string_equal(l.label, "congestion");
    assert_string_equal(l.phase, "healed");
    col_fault_event(c, 1, COL_FAILED, 19.0);
    col_label_at(c, 19.0, "c1", 0, &l);
    assert_string_equal(l.phase, "failed");
    col_finish(c, "complete");
}

static void
test_col_csv_quotes_what_needs_it(void **state)
{
    struct sr_buf b = SR_BUF_INIT;

    (void) state;
    col_csv_field(&b, "plain");
    sr_buf_putc(&b, '|');
    col_csv_field(&b, "{\"dl_type\":2048,\"nw_dst\":\"10.0.1.1\"}");
    sr_buf_putc(&b, '|');
    col_csv_field(&b, "OUTPUT:2,OUTPUT:3");
    sr_buf_putc(&b, '|');
    col_csv_field(&b, "two\r\nlines");
    sr_buf_putc(&b, '|');
    col_csv_field(&b, "");
    assert_string_equal(sr_buf_cstr(&b),
                        "plain|\"{\"\"dl_type\"\":2048,\"\"nw_dst\"\":\"\"10.0.1.1\"\"}\"|"
                        "\"OUTPUT:2,OUTPUT:3\"|\"two\r\nlines\"|");
    sr_buf_release(&b);
}

static void
test_col_files_have_headers_and_a_manifest(void **state)
{
    struct collector *c = new_collector(NULL, 0);
    char path[256], *text;

    (void) state;
    col_warn(c, "the controller lost links between 15 s and 45 s");
    col_finish(c, "interrupted");
    snprintf(path, sizeof path, "%s/samples.csv", coldir);
    text = sr_read_file(path, NULL);
    assert_non_null(text);
    assert_true(!strncmp(text, "time,t_s,sweep,late_ms,dt_s,switch,dpid,role,ports,ports_down,"
                               "packets_received,", 66));
    assert_non_null(strstr(text, ",label,fault_id,fault_target,fault_phase,since_onset_s,"
                                 "on_target,fault_effect,run,episode\r\n"));
    free(text);
    snprintf(path, sizeof path, "%s/manifest.json", coldir);
    text = sr_read_file(path, NULL);
    assert_non_null(strstr(text, "\"status\": \"interrupted\""));
    assert_non_null(strstr(text, "\"samples\": 0"));
    free(text);
    {
        json_t *m = json_load_file(path, 0, NULL), *w = json_object_get(m, "warnings");

        assert_int_equal(json_array_size(w), 1);
        assert_string_equal(json_string_value(json_array_get(w, 0)),
                            "the controller lost links between 15 s and 45 s");
        json_decref(m);
    }
}

static void
test_col_ryu_shapes(void **state)
{
    const char *ports = "{\"1\": [{\"port_no\": \"LOCAL\", \"rx_packets\": 1, \"tx_packets\": 2,"
                        " \"rx_bytes\": 3, \"tx_bytes\": 4, \"rx_dropped\": 5, \"tx_dropped\": 6,"
                        " \"rx_errors\": 7, \"tx_errors\": 8, \"rx_frame_err\": 9, "
                        "\"rx_over_err\": 10, \"rx_crc_err\": 11, \"collisions\": 12, "
                        "\"duration_sec\": 13, \"duration_nsec\": 14}]}";
    const char *desc = "{\"1\": [{\"port_no\": \"LOCAL\", \"hw_addr\": \"aa:bb:cc:dd:ee:ff\","
                       " \"name\": \"c1\", \"config\": 1, \"state\": 5}]}";
    const char *flows = "{\"1\": [{\"priority\": 65000, \"cookie\": 18446744073709551615, "
                        "\"idle_timeout\": 0, \"hard_timeout\": 30, \"byte_count\": 10, "
                        "\"packet_count\": 1, \"duration_sec\": 2, \"duration_nsec\": 3, "
                        "\"length\": 80, \"flags\": 0, \"table_id\": 0, "
                        "\"match\": {\"dl_type\": 2048, \"nw_dst\": \"10.0.1.1\"}, "
                        "\"actions\": []}]}";
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(ctl_ryu_parse_port_stats(ports, &s, &err), 0);
    assert_int_equal(ctl_ryu_parse_port_desc(desc, &s, &err), 0);
    assert_int_equal(ctl_ryu_parse_flows(flows, &s, &err), 0);
    assert_int_equal(s.nports, 1);
    assert_int_equal(s.ports[0].port_no, CTL_PORT_LOCAL);
    assert_true(s.ports[0].link_down && !s.ports[0].blocked && s.ports[0].live);
    for (int k = 0; k < CTL_NCOUNTERS; k++) {
        assert_true(s.ports[0].c[k] == (uint64_t) k + 1);
    }
    assert_string_equal(s.ports[0].name, "c1");
    assert_true(s.flows[0].cookie == UINT64_MAX);
    assert_string_equal(s.flows[0].actions, "");
    assert_string_equal(s.flows[0].match, "{\"dl_type\":2048,\"nw_dst\":\"10.0.1.1\"}");
    assert_int_equal(s.flows[0].hard_timeout, 30);
    ctl_stats_release(&s);
    assert_int_equal(ctl_ryu_parse_port_stats("{\"1\": [{\"port_no\": 1}]}", &s, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "/stats/port: port 1 lacks a counter or has a bad one");
    ctl_stats_release(&s);
}

static void
test_col_ryu_batch_sweep_marks_missing_switches(void **state)
{
    const char *text = "{\"1\": {\"port\": [], \"portdesc\": [], \"table\": [{\"table_id\": 0, "
                       "\"active_count\": 3, \"lookup_count\": 9, \"matched_count\": 8}]}}";
    uint64_t dpids[2] = { 1, 2 };
    struct ctl_stats s[2];
    struct sr_error err = { 0 };

    (void) state;
    memset(s, 0, sizeof s);
    assert_int_equal(ctl_ryu_parse_sweep(text, dpids, 2, CTL_WANT_PORTS | CTL_WANT_TABLES, s,
                                         &err),
                     1);
    assert_int_equal(s[0].status, 0);
    assert_int_equal(s[0].tables[0].active, 3);
    assert_int_equal(s[1].status, -SR_ENOTFOUND);
    assert_string_equal(s[1].error, "switch 0000000000000002 is not connected");
    ctl_stats_release(&s[0]);
    ctl_stats_release(&s[1]);
}

static int
setup(void **state)
{
    (void) state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void) state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_col_delta_between_readings),
        cmocka_unit_test(test_col_delta_counts_from_a_reset),
        cmocka_unit_test(test_col_labels_at_fault_boundaries),
        cmocka_unit_test(test_col_labels_prefer_the_latest_onset),
        cmocka_unit_test(test_col_csv_quotes_what_needs_it),
        cmocka_unit_test(test_col_files_have_headers_and_a_manifest),
        cmocka_unit_test(test_col_effect_follows_the_looks),
        cmocka_unit_test(test_col_ryu_shapes),
        cmocka_unit_test(test_col_ryu_batch_sweep_marks_missing_switches),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
