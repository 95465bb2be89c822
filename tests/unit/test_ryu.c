/* Unit tests of the Ryu API parsers, on responses in Ryu's documented
 * shapes (reference/controller-apis.md §2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ryu.h"

static void
test_ctl_ryu_parses_switch_list(void **state)
{
    struct sr_error err = { 0 };
    uint64_t *dpids = NULL;
    size_t n = 0;

    (void) state;
    assert_int_equal(ctl_ryu_parse_switches("[1, 1099511627781, 18446744073709551615]",
                                            &dpids, &n, &err),
                     0);
    assert_int_equal(n, 3);
    assert_true(dpids[0] == 1);
    assert_true(dpids[1] == 0x10000000005ULL);
    assert_true(dpids[2] == UINT64_MAX);
    free(dpids);
    assert_int_equal(ctl_ryu_parse_switches("[]", &dpids, &n, &err), 0);
    assert_int_equal(n, 0);
    free(dpids);
}

static void
test_ctl_ryu_rejects_bad_switch_lists(void **state)
{
    struct sr_error err = { 0 };
    uint64_t *dpids = NULL;
    size_t n = 0;

    (void) state;
    assert_int_equal(ctl_ryu_parse_switches("{\"1\": []}", &dpids, &n, &err), -SR_EINVAL);
    assert_string_equal(err.msg, "/stats/switches: expected an array");
    assert_int_equal(ctl_ryu_parse_switches("[1, -2]", &dpids, &n, &err), -SR_EINVAL);
    assert_string_equal(err.msg, "/stats/switches: entry 1 is not a DPID");
    assert_int_equal(ctl_ryu_parse_switches("[1,", &dpids, &n, &err), -SR_EINVAL);
    assert_string_equal(err.msg, "/stats/switches: invalid JSON at line 1 column 3: "
                                 "']' expected near end of file");
}

static void
test_ctl_ryu_parses_topology_links(void **state)
{
    const char *json =
        "[{\"src\": {\"hw_addr\": \"aa:bb:cc:dd:ee:01\", \"name\": \"c1-eth2\", "
        "\"port_no\": \"00000002\", \"dpid\": \"0000010000000001\"}, "
        "\"dst\": {\"hw_addr\": \"aa:bb:cc:dd:ee:02\", \"name\": \"c3-eth1\", "
        "\"port_no\": \"0000000a\", \"dpid\": \"0000010000000003\"}}]";
    struct sr_error err = { 0 };
    struct ctl_link *links = NULL;
    size_t n = 0;

    (void) state;
    assert_int_equal(ctl_ryu_parse_links(json, &links, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(links[0].src_dpid == 0x10000000001ULL);
    assert_int_equal(links[0].src_port, 2);
    assert_true(links[0].dst_dpid == 0x10000000003ULL);
    assert_int_equal(links[0].dst_port, 10);
    free(links);
    assert_int_equal(ctl_ryu_parse_links("[{\"src\": {\"dpid\": \"1\"}}]", &links, &n, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "/v1.0/topology/links: entry 0 lacks src/dst dpid and "
                                 "port_no");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_ryu_parses_switch_list),
        cmocka_unit_test(test_ctl_ryu_rejects_bad_switch_lists),
        cmocka_unit_test(test_ctl_ryu_parses_topology_links),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
