/* Unit tests of the topology generator: the rules of DESIGN.md §4, checked
 * over many seeds and sizes, plus determinism of every output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mininet.h"
#include "topology.h"
#include "util.h"

static struct topo_params
params(int64_t core, int64_t m, int64_t nets, int64_t sw, int64_t up, int64_t hosts,
       int64_t dcs, uint64_t seed)
{
    struct topo_params p = { .core_switches = core, .core_m = m, .access_networks = nets,
                             .access_switches = sw, .access_m = 1, .uplinks = up,
                             .hosts = hosts, .datacenters = dcs, .seed = seed };
    return p;
}

static struct topology *
build(const struct topo_params *p)
{
    struct sr_error err = { 0 };
    struct topology *t = topo_build(p, &err);

    if (!t) {
        fail_msg("topo_build: %s", err.msg);
    }
    return t;
}

static void
check_rules(const struct topology *t)
{
    const struct topo_params *p = &t->params;
    int *deg = xcalloc(t->ncore, sizeof *deg);
    char name[32];

    assert_int_equal(t->ncore, p->core_switches);
    assert_int_equal(t->nsw, p->core_switches + p->access_networks * p->access_switches);
    assert_int_equal(t->nhost, 3 * p->datacenters + p->access_networks * p->hosts);
    /* Core: trimmed to degree >= 2, no loops, no parallel links. */
    topo_core_degrees(t, deg);
    for (size_t i = 0; i < t->ncore; i++) {
        assert_true(deg[i] >= 2);
        snprintf(name, sizeof name, "c%zu", i + 1);
        assert_string_equal(t->sw[i].name, name);
    }
    for (size_t i = 0; i < t->nlink; i++) {
        assert_int_not_equal(t->link[i].a, t->link[i].b);
        for (size_t j = i + 1; j < t->nlink && t->nlink < 2000; j++) {
            int same = (t->link[i].a == t->link[j].a && t->link[i].b == t->link[j].b) ||
                       (t->link[i].a == t->link[j].b && t->link[i].b == t->link[j].a);
            assert_false(same);
        }
    }
    /* Ports of each switch are exactly 1..nports, each used once. */
    for (size_t s = 0; s < t->nsw; s++) {
        int *used = xcalloc((size_t) t->sw[s].nports + 1, sizeof *used);

        for (size_t i = 0; i < t->nlink; i++) {
            if (t->link[i].a == (int) s) {
                used[t->link[i].a_port]++;
            }
            if (t->link[i].b == (int) s) {
                used[t->link[i].b_port]++;
            }
        }
        for (int k = 1; k <= t->sw[s].nports; k++) {
            assert_int_equal(used[k], 1);
        }
        free(used);
    }
    /* Gateways: 'uplinks' per access network, to distinct core switches. */
    for (int64_t net = 1; net <= p->access_networks; net++) {
        int ups = 0, gws = 0;
        int *core_end = xcalloc(t->ncore, sizeof *core_end);

        for (size_t i = 0; i < t->nlink; i++) {
            const struct topo_link *l = &t->link[i];

            if (l->kind == TOPO_LINK_UPLINK && t->sw[l->a].net == net) {
                assert_int_equal(t->sw[l->a].role, TOPO_ROLE_GATEWAY);
                assert_int_equal(t->sw[l->b].role, TOPO_ROLE_CORE);
                assert_int_equal(core_end[l->b]++, 0);
                ups++;
            }
        }
        for (size_t s = t->ncore; s < t->nsw; s++) {
            gws += t->sw[s].net == net && t->sw[s].role == TOPO_ROLE_GATEWAY;
        }
        assert_int_equal(ups, p->uplinks);
        assert_int_equal(gws, p->uplinks);
        free(core_end);
    }
    /* Datacenters: three servers each, on distinct core switches. */
    for (size_t d = 0; d < t->ndc; d++) {
        int servers = 0;

        for (size_t h = 0; h < t->nhost; h++) {
            if (t->host[h].role == TOPO_ROLE_SERVER && t->host[h].net == (int) d + 1) {
                assert_int_equal(t->host[h].sw, t->dc_switch[d]);
                servers++;
            }
        }
        assert_int_equal(servers, 3);
        assert_true(t->dc_switch[d] < (int) t->ncore);
        for (size_t e = 0; e < d && t->ndc <= t->ncore; e++) {
            assert_int_not_equal(t->dc_switch[d], t->dc_switch[e]);
        }
    }
    /* Names, DPIDs, addresses: unique.  Each host has one link, on its switch. */
    for (size_t i = 0; i < t->nsw && t->nsw < 3000; i++) {
        assert_true(t->sw[i].dpid != 0);
        for (size_t j = i + 1; j < t->nsw; j++) {
            assert_true(t->sw[i].dpid != t->sw[j].dpid);
            assert_string_not_equal(t->sw[i].name, t->sw[j].name);
        }
    }
    for (size_t i = 0; i < t->nhost && t->nhost < 3000; i++) {
        int links = 0;

        for (size_t j = i + 1; j < t->nhost; j++) {
            assert_true(t->host[i].ip != t->host[j].ip);
            assert_memory_not_equal(t->host[i].mac, t->host[j].mac, 6);
            assert_string_not_equal(t->host[i].name, t->host[j].name);
        }
        for (size_t l = 0; l < t->nlink; l++) {
            if (t->link[l].b == (int) (t->nsw + i)) {
                assert_int_equal(t->link[l].kind, TOPO_LINK_HOST);
                assert_int_equal(t->link[l].a, t->host[i].sw);
                assert_int_equal(t->link[l].a_port, t->host[i].sw_port);
                links++;
            }
        }
        assert_int_equal(links, 1);
    }
    free(deg);
}

static void
test_topo_follows_rules_over_many_seeds(void **state)
{
    (void) state;
    for (uint64_t seed = 0; seed < 40; seed++) {
        struct topo_params p = params(3 + (int64_t) seed % 20, 1 + (int64_t) seed % 2,
                                      (int64_t) seed % 4, 1 + (int64_t) seed % 5, 1,
                                      (int64_t) seed % 7, (int64_t) seed % 4, seed);
        struct topology *t;

        p.uplinks = p.access_switches < 2 ? 1 : 2;
        t = build(&p);
        check_rules(t);
        topo_free(t);
    }
}

static void
test_topo_trims_tree_core_to_degree_two(void **state)
{
    /* m = 1 makes a tree: half its nodes are leaves before trimming. */
    struct topo_params p = params(200, 1, 0, 1, 1, 0, 0, 11);
    struct topology *t = build(&p);

    (void) state;
    check_rules(t);
    topo_free(t);
}

static char *
render(const struct topology *t, int format)
{
    struct sr_error err = { 0 };
    struct sr_buf b = SR_BUF_INIT;
    int rc = format == 0   ? topo_write_json(t, "x", &b, &err)
             : format == 1 ? topo_write_dot(t, "x", &b, &err)
                           : mn_write_script(t, "x", &b, &err);

    assert_int_equal(rc, 0);
    return sr_buf_steal(&b);
}

static void
test_topo_same_seed_gives_identical_output(void **state)
{
    struct topo_params p = params(8, 2, 3, 4, 2, 6, 2, 7);

    (void) state;
    for (int format = 0; format < 3; format++) {
        struct topology *a = build(&p), *b = build(&p);
        char *ra = render(a, format), *rb = render(b, format);

        assert_string_equal(ra, rb);
        free(ra);
        free(rb);
        topo_free(a);
        topo_free(b);
    }
}

static void
test_topo_other_seed_gives_other_graph(void **state)
{
    struct topo_params p = params(30, 2, 3, 6, 2, 6, 2, 7), q = p;
    struct topology *a, *b;
    char *ra, *rb;

    (void) state;
    q.seed = 8;
    a = build(&p);
    b = build(&q);
    ra = render(a, 0);
    rb = render(b, 0);
    assert_string_not_equal(ra, rb);
    free(ra);
    free(rb);
    topo_free(a);
    topo_free(b);
}

static void
test_topo_gives_readable_names_and_addresses(void **state)
{
    struct topo_params p = params(5, 2, 2, 3, 2, 2, 1, 3);
    struct topology *t = build(&p);
    char ip[32], mac[32], dpid[32];

    (void) state;
    assert_string_equal(t->sw[5].name, "a1s1");
    assert_string_equal(t->sw[10].name, "a2s3");
    topo_format_dpid(t->sw[10].dpid, dpid, sizeof dpid);
    assert_string_equal(dpid, "0000020002000003");
    topo_format_dpid(t->sw[2].dpid, dpid, sizeof dpid);
    assert_string_equal(dpid, "0000010000000003");
    assert_string_equal(t->host[0].name, "d1h1");
    assert_string_equal(t->host[3].name, "u1h1");
    assert_string_equal(t->host[6].name, "u2h2");
    topo_format_ip(t->host[6].ip, ip, sizeof ip);
    topo_format_mac(t->host[6].mac, mac, sizeof mac);
    assert_string_equal(ip, "10.2.0.2");
    assert_string_equal(mac, "02:00:0a:02:00:02");
    topo_format_ip(t->host[2].ip, ip, sizeof ip);
    assert_string_equal(ip, "10.0.1.3");
    /* Users go round-robin over their network's switches. */
    assert_string_equal(t->sw[t->host[3].sw].name, "a1s1");
    assert_string_equal(t->sw[t->host[4].sw].name, "a1s2");
    topo_free(t);
}

/* Betweenness by brute force: BFS from every node gives distances and path
 * counts; v lies on sigma(s,v) * sigma(v,t) of the sigma(s,t) shortest s-t
 * paths when d(s,v) + d(v,t) = d(s,t). */
static void
brute_betweenness(const struct topology *t, double *bw)
{
    size_t n = t->nsw + t->nhost;
    int *dist = xmalloc(n * n * sizeof *dist);
    double *sigma = xcalloc(n * n, sizeof *sigma);
    int *queue = xmalloc(n * sizeof *queue);

    for (size_t s = 0; s < n; s++) {
        size_t head = 0, tail = 0;

        for (size_t v = 0; v < n; v++) {
            dist[s * n + v] = -1;
        }
        dist[s * n + s] = 0;
        sigma[s * n + s] = 1;
        queue[tail++] = (int) s;
        while (head < tail) {
            int u = queue[head++];

            for (size_t l = 0; l < t->nlink; l++) {
                int w = t->link[l].a == u ? t->link[l].b
                        : t->link[l].b == u ? t->link[l].a : -1;

                if (w < 0) {
                    continue;
                }
                if (dist[s * n + (size_t) w] < 0) {
                    dist[s * n + (size_t) w] = dist[s * n + (size_t) u] + 1;
                    queue[tail++] = w;
                }
                if (dist[s * n + (size_t) w] == dist[s * n + (size_t) u] + 1) {
                    sigma[s * n + (size_t) w] += sigma[s * n + (size_t) u];
                }
            }
        }
    }
    for (size_t v = 0; v < n; v++) {
        bw[v] = 0;
        for (size_t s = 0; s < n; s++) {
            for (size_t u = s + 1; u < n; u++) {
                if (s == v || u == v) {
                    continue;
                }
                if (dist[s * n + v] + dist[v * n + u] == dist[s * n + u]) {
                    bw[v] += sigma[s * n + v] * sigma[v * n + u] / sigma[s * n + u];
                }
            }
        }
    }
    free(dist);
    free(sigma);
    free(queue);
}

static void
test_topo_busiest_core_has_highest_betweenness(void **state)
{
    (void) state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct topo_params p = params(8, 2, 3, 4, 2, 6, 2, seed);
        struct topology *t = build(&p);
        double *bw = xcalloc(t->nsw + t->nhost, sizeof *bw);
        struct sr_error err = { 0 };
        int best = 0, got = topo_busiest_core(t, &err);

        brute_betweenness(t, bw);
        for (size_t i = 1; i < t->ncore; i++) {
            if (bw[i] > bw[best] + 1e-9) {
                best = (int) i;
            }
        }
        assert_int_equal(got, best);
        free(bw);
        topo_free(t);
    }
}

static void
test_topo_rejects_impossible_parameters(void **state)
{
    struct topo_params p = params(2, 1, 0, 1, 1, 0, 0, 1);
    struct sr_error err = { 0 };

    (void) state;
    assert_null(topo_build(&p, &err));
    assert_int_equal(err.code, SR_EINVAL);
    p = params(8, 2, 1, 2, 3, 1, 1, 1);
    assert_null(topo_build(&p, &err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topo_follows_rules_over_many_seeds),
        cmocka_unit_test(test_topo_trims_tree_core_to_degree_two),
        cmocka_unit_test(test_topo_same_seed_gives_identical_output),
        cmocka_unit_test(test_topo_other_seed_gives_other_graph),
        cmocka_unit_test(test_topo_gives_readable_names_and_addresses),
        cmocka_unit_test(test_topo_busiest_core_has_highest_betweenness),
        cmocka_unit_test(test_topo_rejects_impossible_parameters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
