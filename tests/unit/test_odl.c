/* Unit tests of the OpenDaylight parsers and flow bodies, on documents
 * written from the documented shapes (reference/controller-apis.md §1):
 * both path styles, numbers and decimal strings, prefixed and unprefixed
 * roots, LOCAL ports, 64-bit cookies above 2^63. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client.h"
#include "util.h"

static char *
data(const char *name)
{
    char path[512];
    char *text;

    snprintf(path, sizeof path, "%s/controller/%s", SR_TEST_DATA, name);
    text = sr_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

static void
test_ctl_odl_parses_restconf_node_with_numbers(void **state)
{
    char *text = data("odl-node-restconf.json");
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };
    const struct ctl_port *p, *local;

    (void) state;
    assert_int_equal(ctl_odl_parse_node(text, CTL_WANT_PORTS | CTL_WANT_TABLES |
                                                  CTL_WANT_FLOWS, &s, &err), 0);
    assert_int_equal(s.nports, 2);
    p = &s.ports[0];
    local = &s.ports[1];
    assert_int_equal(p->port_no, 1);
    assert_string_equal(p->name, "s1-eth1");
    assert_true(p->has_state && !p->link_down && !p->blocked && p->live);
    assert_true(p->has_stats);
    for (int k = 0; k < CTL_NCOUNTERS; k++) {
        static const uint64_t want[] = { 10, 20, 1000, 2000, 1, 2, 3, 4, 5, 6, 7, 8 };

        assert_true(p->c[k] == want[k]);
    }
    assert_int_equal(p->duration_sec, 99);
    assert_int_equal(local->port_no, CTL_PORT_LOCAL);
    assert_true(local->link_down);
    assert_int_equal(s.ntables, 2);
    assert_int_equal(s.tables[0].table_id, 0);
    assert_int_equal(s.tables[0].active, 2);
    assert_int_equal(s.tables[0].lookups, 500);
    assert_int_equal(s.tables[0].matched, 480);
    assert_int_equal(s.nflows, 2);
    assert_true(s.flows[0].cookie == UINT64_MAX);
    assert_int_equal(s.flows[0].priority, 2);
    assert_int_equal(s.flows[0].packets, 7);
    assert_int_equal(s.flows[0].bytes, 700);
    assert_string_equal(s.flows[0].actions, "OUTPUT:2");
    assert_string_equal(s.flows[0].id, "1");
    assert_string_equal(s.flows[0].match,
                        "{\"ethernet-match\":{\"ethernet-type\":{\"type\":2048}},"
                        "\"ipv4-destination\":\"10.0.10.0/24\"}");
    assert_string_equal(s.flows[1].actions, "");
    assert_string_equal(s.flows[1].id, "#UF$TABLE*0-1");
    assert_int_equal(s.flows[0].duration_sec, 3);
    assert_int_equal(s.flows[0].duration_nsec, 1);
    ctl_stats_release(&s);
    free(text);
}

/* A flow without "match" matches everything; reading one must not leak
 * (it did, once per flow per sweep: LeakSanitizer watches this test). */
static void
test_ctl_odl_flow_without_match_is_match_all(void **state)
{
    char *text = data("odl-node-no-match.json");
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(ctl_odl_parse_node(text, CTL_WANT_FLOWS, &s, &err), 0);
    assert_int_equal(s.nflows, 1);
    assert_string_equal(s.flows[0].match, "{}");
    assert_int_equal(s.flows[0].duration_sec, 42);
    assert_int_equal(s.flows[0].duration_nsec, 500000000);
    ctl_stats_release(&s);
    free(text);
}

static void
test_ctl_odl_parses_rfc8040_node_with_strings(void **state)
{
    char *text = data("odl-node-rfc8040.json");
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(ctl_odl_parse_node(text, CTL_WANT_PORTS | CTL_WANT_TABLES |
                                                  CTL_WANT_FLOWS, &s, &err), 0);
    assert_int_equal(s.nports, 1);
    assert_int_equal(s.ports[0].port_no, 3);
    assert_true(s.ports[0].link_down && s.ports[0].blocked && !s.ports[0].live);
    assert_true(s.ports[0].c[CTL_RX_PACKETS] == UINT64_MAX);
    assert_true(s.ports[0].c[CTL_COLLISIONS] == 8);
    assert_int_equal(s.ports[0].duration_sec, 42);
    assert_true(s.tables[0].lookups == 9223372036854775808ULL);
    assert_int_equal(s.tables[0].matched, 12);
    assert_true(s.flows[0].cookie == 9223372036854775808ULL);
    assert_int_equal(s.flows[0].idle_timeout, 10);
    assert_int_equal(s.flows[0].hard_timeout, 20);
    assert_string_equal(s.flows[0].actions, "");
    assert_int_equal(s.nflows, 2);
    assert_string_equal(s.flows[1].actions, "DEC_NW_TTL,OUTPUT:4");
    ctl_stats_release(&s);
    free(text);
}

static void
test_ctl_odl_wants_only_what_is_asked(void **state)
{
    char *text = data("odl-node-restconf.json");
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(ctl_odl_parse_node(text, CTL_WANT_TABLES, &s, &err), 0);
    assert_int_equal(s.nports, 0);
    assert_int_equal(s.nflows, 0);
    assert_int_equal(s.ntables, 2);
    ctl_stats_release(&s);
    free(text);
}

static void
test_ctl_odl_parses_node_list_and_links(void **state)
{
    char *nodes = data("odl-nodes-rfc8040.json"), *topo = data("odl-topology-restconf.json");
    struct sr_error err = { 0 };
    uint64_t *dpids = NULL;
    struct ctl_link *links = NULL;
    size_t n = 0;

    (void) state;
    assert_int_equal(ctl_odl_parse_nodes(nodes, &dpids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(dpids[0] == 1 && dpids[1] == UINT64_MAX);
    assert_int_equal(ctl_odl_parse_links(topo, &links, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_true(links[0].src_dpid == 1 && links[0].src_port == 2);
    assert_true(links[0].dst_dpid == 2 && links[0].dst_port == 1);
    free(dpids);
    free(links);
    free(nodes);
    free(topo);
}

static void
test_ctl_odl_rejects_documents_without_a_node(void **state)
{
    struct ctl_stats s = { 0 };
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(ctl_odl_parse_node("{\"errors\": {}}", CTL_WANT_PORTS, &s, &err),
                     -SR_EINVAL);
    assert_string_equal(err.msg, "inventory node: no 'node' in the answer");
    assert_int_equal(ctl_odl_parse_node("<html>", CTL_WANT_PORTS, &s, &err), -SR_EINVAL);
}

static void
test_ctl_odl_writes_flow_bodies(void **state)
{
    json_t *match = json_pack("{s:i, s:s, s:i, s:i, s:i}", "eth_type", 2048, "ipv4_dst",
                              "10.0.1.1", "ip_proto", 17, "udp_dst", 554, "in_port", 3);
    json_t *actions = json_pack("[{s:s, s:i}]", "type", "OUTPUT", "port", 2);
    struct ctl_flow_mod f = { .dpid = 1, .table_id = 0, .priority = 65000,
                              .cookie = UINT64_MAX, .match = match, .actions = actions,
                              .id = "simrun-1" };
    struct sr_error err = { 0 };
    json_t *body = ctl_odl_flow_body(&f, &err), *drop;
    char *text;

    (void) state;
    assert_non_null(body);
    text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
        "{\"flow-node-inventory:flow\":[{\"cookie\":\"18446744073709551615\",\"hard-timeout\":0,"
        "\"id\":\"simrun-1\",\"idle-timeout\":0,\"instructions\":{\"instruction\":[{"
        "\"apply-actions\":{\"action\":[{\"order\":0,\"output-action\":{\"max-length\":65535,"
        "\"output-node-connector\":\"2\"}}]},\"order\":0}]},\"match\":{\"ethernet-match\":{"
        "\"ethernet-type\":{\"type\":2048}},\"in-port\":\"openflow:1:3\",\"ip-match\":{"
        "\"ip-protocol\":17},\"ipv4-destination\":\"10.0.1.1/32\",\"udp-destination-port\":554},"
        "\"priority\":65000,\"table_id\":0}]}");
    free(text);
    json_decref(body);
    json_array_clear(actions);
    body = ctl_odl_flow_body(&f, &err);
    drop = json_object_get(json_array_get(json_object_get(json_object_get(json_array_get(
        json_object_get(json_object_get(json_array_get(json_object_get(body,
        "flow-node-inventory:flow"), 0), "instructions"), "instruction"), 0), "apply-actions"),
        "action"), 0), "drop-action");
    assert_non_null(drop);
    json_decref(body);
    /* forwarding_loop's actions: the TTL goes down before the packet goes out. */
    json_array_append_new(actions, json_pack("{s:s}", "type", "DEC_NW_TTL"));
    json_array_append_new(actions, json_pack("{s:s, s:i}", "type", "OUTPUT", "port", 4));
    body = ctl_odl_flow_body(&f, &err);
    text = json_dumps(json_object_get(json_object_get(json_array_get(json_object_get(json_object_get(
                          json_array_get(json_object_get(body, "flow-node-inventory:flow"), 0),
                          "instructions"), "instruction"), 0), "apply-actions"), "action"),
                      JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "[{\"dec-nw-ttl\":{},\"order\":0},{\"order\":1,\"output-action\":"
                              "{\"max-length\":65535,\"output-node-connector\":\"4\"}}]");
    free(text);
    json_decref(body);
    json_array_clear(actions);
    json_object_set_new(match, "vlan_vid", json_integer(10));
    assert_null(ctl_odl_flow_body(&f, &err));
    assert_string_equal(err.msg, "match field 'vlan_vid' cannot be written for OpenDaylight");
    f.id = NULL;
    json_object_del(match, "vlan_vid");
    assert_null(ctl_odl_flow_body(&f, &err));
    assert_string_equal(err.msg, "OpenDaylight flows need an id");
    json_decref(match);
    json_decref(actions);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_odl_parses_restconf_node_with_numbers),
        cmocka_unit_test(test_ctl_odl_flow_without_match_is_match_all),
        cmocka_unit_test(test_ctl_odl_parses_rfc8040_node_with_strings),
        cmocka_unit_test(test_ctl_odl_wants_only_what_is_asked),
        cmocka_unit_test(test_ctl_odl_parses_node_list_and_links),
        cmocka_unit_test(test_ctl_odl_rejects_documents_without_a_node),
        cmocka_unit_test(test_ctl_odl_writes_flow_bodies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
