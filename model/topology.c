/* Topology generation with igraph for the scale-free graphs and our own
 * seeded generator (common/rng) for every other choice, so the output only
 * depends on the parameters and the seed. */
#include "topology.h"

#include <igraph.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

#define TOPO_RNG_STREAM 1
#define DPID_ROLE_SHIFT 40
#define DPID_NET_SHIFT 24

/* igraph reports errors through a handler; ours keeps the reason so it can
 * be returned as an sr_error instead of aborting. */
static char igraph_reason[256];

static void
keep_igraph_error(const char *reason, const char *file, int line,
                  igraph_error_t code)
{
    snprintf(igraph_reason, sizeof igraph_reason, "%s (%s, igraph %s:%d)", reason,
             igraph_strerror(code), file, line);
    IGRAPH_FINALLY_FREE();
}

static int
igraph_failed(struct sr_error *err, const char *what)
{
    return sr_error_set(err, SR_ELIB, "%s: %s", what, igraph_reason);
}

const char *
topo_role_name(enum topo_role r)
{
    switch (r) {
    case TOPO_ROLE_CORE: return "core";
    case TOPO_ROLE_ACCESS: return "access";
    case TOPO_ROLE_GATEWAY: return "gateway";
    case TOPO_ROLE_USER: return "user";
    case TOPO_ROLE_SERVER: return "server";
    }
    return "?";
}

const char *
topo_link_kind_name(enum topo_link_kind k)
{
    switch (k) {
    case TOPO_LINK_CORE: return "core";
    case TOPO_LINK_ACCESS: return "access";
    case TOPO_LINK_UPLINK: return "uplink";
    case TOPO_LINK_HOST: return "host";
    }
    return "?";
}

bool
topo_role_parse(const char *s, enum topo_role *out)
{
    for (int r = TOPO_ROLE_CORE; r <= TOPO_ROLE_SERVER; r++) {
        if (s && !strcmp(s, topo_role_name((enum topo_role) r))) {
            *out = (enum topo_role) r;
            return true;
        }
    }
    return false;
}

bool
topo_link_kind_parse(const char *s, enum topo_link_kind *out)
{
    for (int k = TOPO_LINK_CORE; k <= TOPO_LINK_HOST; k++) {
        if (s && !strcmp(s, topo_link_kind_name((enum topo_link_kind) k))) {
            *out = (enum topo_link_kind) k;
            return true;
        }
    }
    return false;
}

const char *
topo_node_name(const struct topology *t, int id)
{
    if (id >= 0 && (size_t) id < t->nsw) {
        return t->sw[id].name;
    }
    if (id >= 0 && (size_t) id < t->nsw + t->nhost) {
        return t->host[(size_t) id - t->nsw].name;
    }
    return "?";
}

int
topo_find_switch(const struct topology *t, const char *name)
{
    for (size_t i = 0; i < t->nsw; i++) {
        if (!strcmp(t->sw[i].name, name)) {
            return (int) i;
        }
    }
    return -1;
}

void
topo_format_ip(uint32_t ip, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
             ip & 255);
}

void
topo_format_mac(const uint8_t mac[6], char *buf, size_t size)
{
    snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
}

void
topo_format_dpid(uint64_t dpid, char *buf, size_t size)
{
    snprintf(buf, size, "%016" PRIx64, dpid);
}

void
topo_free(struct topology *t)
{
    if (!t) {
        return;
    }
    free(t->sw);
    free(t->host);
    free(t->link);
    free(t->dc_switch);
    free(t);
}

/* Builder state: growable arrays plus the link capacity. */
struct builder {
    struct topology *t;
    size_t sw_cap, host_cap, link_cap;
    struct sr_rng rng;
};

static int
add_switch(struct builder *b, enum topo_role role, int net, int index)
{
    struct topo_switch *s;
    int code = role == TOPO_ROLE_CORE ? 1 : 2;

    xgrow((void **) &b->t->sw, &b->sw_cap, b->t->nsw + 1, sizeof *b->t->sw);
    s = &b->t->sw[b->t->nsw];
    memset(s, 0, sizeof *s);
    s->role = role;
    s->net = net;
    s->index = index;
    if (role == TOPO_ROLE_CORE) {
        snprintf(s->name, sizeof s->name, "c%d", index);
    } else {
        snprintf(s->name, sizeof s->name, "a%ds%d", net, index);
    }
    /* Readable in hex: role, network, index ("0000020002000003" is a2s3). */
    s->dpid = ((uint64_t) code << DPID_ROLE_SHIFT) |
              ((uint64_t) net << DPID_NET_SHIFT) | (uint64_t) index;
    return (int) b->t->nsw++;
}

/* Links switch 'a' to node 'b' (a switch, or a host when 'host' >= 0). */
static void
add_link(struct builder *b, int a, int other_sw, int host,
         enum topo_link_kind kind)
{
    struct topology *t = b->t;
    struct topo_link *l;

    xgrow((void **) &t->link, &b->link_cap, t->nlink + 1, sizeof *t->link);
    l = &t->link[t->nlink++];
    l->a = a;
    l->a_port = ++t->sw[a].nports;
    l->kind = kind;
    if (host >= 0) {
        /* Node ids of hosts are fixed up once all switches exist. */
        l->b = -1 - host;
        l->b_port = 0;
        t->host[host].sw = a;
        t->host[host].sw_port = l->a_port;
    } else {
        l->b = other_sw;
        l->b_port = ++t->sw[other_sw].nports;
    }
}

static void
add_host(struct builder *b, enum topo_role role, int net, int index, int sw)
{
    struct topology *t = b->t;
    struct topo_host *h;
    uint32_t ip;

    xgrow((void **) &t->host, &b->host_cap, t->nhost + 1, sizeof *t->host);
    h = &t->host[t->nhost];
    memset(h, 0, sizeof *h);
    h->role = role;
    h->net = net;
    h->index = index;
    if (role == TOPO_ROLE_SERVER) {
        snprintf(h->name, sizeof h->name, "d%dh%d", net, index);
        ip = (10u << 24) | ((uint32_t) net << 8) | (uint32_t) index;
    } else {
        snprintf(h->name, sizeof h->name, "u%dh%d", net, index);
        ip = (10u << 24) | ((uint32_t) net << 16) | (uint32_t) index;
    }
    h->ip = ip;
    /* Locally administered, derived from the address so it is unique. */
    h->mac[0] = 0x02;
    h->mac[1] = 0x00;
    h->mac[2] = (uint8_t) (ip >> 24);
    h->mac[3] = (uint8_t) (ip >> 16);
    h->mac[4] = (uint8_t) (ip >> 8);
    h->mac[5] = (uint8_t) ip;
    t->nhost++;
    add_link(b, sw, -1, (int) t->nhost - 1, TOPO_LINK_HOST);
}

/* A Barabási–Albert graph of 'n' nodes with 'm' edges per new node, as an
 * edge list of 2 * E node numbers (0-based) in '*edges' (caller frees). */
static int
ba_edges(int64_t n, int64_t m, uint64_t seed, igraph_integer_t **edges,
         size_t *nedges, struct sr_error *err)
{
    igraph_rng_t rng, *old = igraph_rng_default();
    igraph_t g;
    igraph_vector_int_t el;
    int rc = 0;

    *edges = NULL;
    *nedges = 0;
    if (n < 2) {
        return 0;
    }
    if (igraph_rng_init(&rng, &igraph_rngtype_pcg32) != IGRAPH_SUCCESS) {
        return igraph_failed(err, "cannot start igraph's random generator");
    }
    igraph_rng_seed(&rng, seed);
    igraph_rng_set_default(&rng);
    if (igraph_barabasi_game(&g, n, 1.0, m, NULL, true, 1.0, false,
                             IGRAPH_BARABASI_PSUMTREE, NULL) != IGRAPH_SUCCESS) {
        rc = igraph_failed(err, "cannot generate a Barabási–Albert graph");
        goto out;
    }
    if (igraph_vector_int_init(&el, 0) != IGRAPH_SUCCESS ||
        igraph_get_edgelist(&g, &el, false) != IGRAPH_SUCCESS) {
        igraph_destroy(&g);
        rc = igraph_failed(err, "cannot read the generated graph");
        goto out;
    }
    *nedges = (size_t) igraph_vector_int_size(&el) / 2;
    *edges = xmalloc(2 * *nedges * sizeof **edges + 1);
    for (size_t i = 0; i < 2 * *nedges; i++) {
        (*edges)[i] = VECTOR(el)[i];
    }
    igraph_vector_int_destroy(&el);
    igraph_destroy(&g);

out:
    igraph_rng_set_default(old);
    igraph_rng_destroy(&rng);
    return rc;
}

/* Picks 'k' distinct numbers in [0, n) into 'out' (k <= n). */
static void
pick_distinct(struct sr_rng *rng, int64_t n, int64_t k, int *out)
{
    if (k * 4 >= n) {
        int *all = xmalloc((size_t) n * sizeof *all);

        for (int64_t i = 0; i < n; i++) {
            all[i] = (int) i;
        }
        /* Partial Fisher-Yates: the first k places. */
        for (int64_t i = 0; i < k; i++) {
            int64_t j = i + (int64_t) sr_rng_below(rng, (uint64_t) (n - i));
            int tmp = all[i];

            all[i] = all[j];
            all[j] = tmp;
            out[i] = all[i];
        }
        free(all);
        return;
    }
    for (int64_t i = 0; i < k; i++) {
        bool dup;
        int v;

        do {
            v = (int) sr_rng_below(rng, (uint64_t) n);
            dup = false;
            for (int64_t j = 0; j < i; j++) {
                dup = dup || out[j] == v;
            }
        } while (dup);
        out[i] = v;
    }
}

static uint64_t
sub_seed(uint64_t seed, uint64_t stream)
{
    struct sr_rng r;

    sr_rng_seed(&r, seed, stream);
    return sr_rng_next(&r) >> 1; /* igraph seeds are unsigned, keep it small */
}

/* Core: BA graph, then every switch left with fewer than two links gets
 * one to a random other core switch ("trimming" in the thesis). */
static int
build_core(struct builder *b, struct sr_error *err)
{
    const struct topo_params *p = &b->t->params;
    int64_t n = p->core_switches;
    igraph_integer_t *edges = NULL;
    size_t nedges = 0;
    int *deg, *first_nb;

    for (int64_t i = 0; i < n; i++) {
        add_switch(b, TOPO_ROLE_CORE, 0, (int) i + 1);
    }
    b->t->ncore = (size_t) n;
    if (ba_edges(n, p->core_m, sub_seed(p->seed, 100), &edges, &nedges, err) < 0) {
        return -err->code;
    }
    deg = xcalloc((size_t) n, sizeof *deg);
    first_nb = xmalloc((size_t) n * sizeof *first_nb);
    for (int64_t i = 0; i < n; i++) {
        first_nb[i] = -1;
    }
    for (size_t e = 0; e < nedges; e++) {
        int u = (int) edges[2 * e], v = (int) edges[2 * e + 1];

        add_link(b, u, v, -1, TOPO_LINK_CORE);
        deg[u]++;
        deg[v]++;
        first_nb[u] = first_nb[u] < 0 ? v : first_nb[u];
        first_nb[v] = first_nb[v] < 0 ? u : first_nb[v];
    }
    for (int64_t u = 0; u < n; u++) {
        while (deg[u] < 2) {
            /* With degree below two, 'first_nb' is the only neighbour. */
            int v = (int) sr_rng_below(&b->rng, (uint64_t) n);

            if (v == (int) u || v == first_nb[u]) {
                continue;
            }
            add_link(b, (int) u, v, -1, TOPO_LINK_CORE);
            deg[u]++;
            deg[v]++;
            first_nb[u] = first_nb[u] < 0 ? v : first_nb[u];
            first_nb[v] = first_nb[v] < 0 ? (int) u : first_nb[v];
        }
    }
    free(deg);
    free(first_nb);
    free(edges);
    return 0;
}

static int
build_access(struct builder *b, struct sr_error *err)
{
    const struct topo_params *p = &b->t->params;
    int *gw = xmalloc((size_t) p->access_switches * sizeof *gw);
    int *core = xmalloc((size_t) p->uplinks * sizeof *core);

    for (int64_t k = 1; k <= p->access_networks; k++) {
        int first = (int) b->t->nsw;
        igraph_integer_t *edges = NULL;
        size_t nedges = 0;

        for (int64_t i = 0; i < p->access_switches; i++) {
            add_switch(b, TOPO_ROLE_ACCESS, (int) k, (int) i + 1);
        }
        if (ba_edges(p->access_switches, p->access_m,
                     sub_seed(p->seed, 100 + (uint64_t) k), &edges, &nedges,
                     err) < 0) {
            free(gw);
            free(core);
            return -err->code;
        }
        for (size_t e = 0; e < nedges; e++) {
            add_link(b, first + (int) edges[2 * e], first + (int) edges[2 * e + 1],
                     -1, TOPO_LINK_ACCESS);
        }
        free(edges);
        /* 'uplinks' distinct gateways to 'uplinks' distinct core switches,
         * so no single switch or link failure cuts the network off. */
        pick_distinct(&b->rng, p->access_switches, p->uplinks, gw);
        pick_distinct(&b->rng, p->core_switches, p->uplinks, core);
        for (int64_t u = 0; u < p->uplinks; u++) {
            b->t->sw[first + gw[u]].role = TOPO_ROLE_GATEWAY;
            add_link(b, first + gw[u], core[u], -1, TOPO_LINK_UPLINK);
        }
    }
    free(gw);
    free(core);
    return 0;
}

static void
build_hosts(struct builder *b)
{
    const struct topo_params *p = &b->t->params;
    struct topology *t = b->t;
    int64_t ndc = p->datacenters;

    t->ndc = (size_t) ndc;
    t->dc_switch = xcalloc((size_t) (ndc ? ndc : 1), sizeof *t->dc_switch);
    if (ndc <= p->core_switches) {
        pick_distinct(&b->rng, p->core_switches, ndc, t->dc_switch);
    } else {
        pick_distinct(&b->rng, p->core_switches, p->core_switches, t->dc_switch);
        for (int64_t d = p->core_switches; d < ndc; d++) {
            t->dc_switch[d] = (int) sr_rng_below(&b->rng, (uint64_t) p->core_switches);
        }
    }
    for (int64_t d = 0; d < ndc; d++) {
        for (int h = 1; h <= 3; h++) {
            add_host(b, TOPO_ROLE_SERVER, (int) d + 1, h, t->dc_switch[d]);
        }
    }
    /* Users spread round-robin over the switches of their network. */
    for (int64_t k = 1; k <= p->access_networks; k++) {
        int first = (int) (t->ncore + (size_t) ((k - 1) * p->access_switches));

        for (int64_t j = 1; j <= p->hosts; j++) {
            add_host(b, TOPO_ROLE_USER, (int) k, (int) j,
                     first + (int) ((j - 1) % p->access_switches));
        }
    }
    for (size_t i = 0; i < t->nlink; i++) {
        if (t->link[i].b < 0) {
            t->link[i].b = (int) t->nsw + (-1 - t->link[i].b);
        }
    }
}

struct topology *
topo_build(const struct topo_params *p, struct sr_error *err)
{
    struct builder b = { 0 };
    igraph_error_handler_t *old = igraph_set_error_handler(keep_igraph_error);

    if (p->core_switches < 3 || p->core_m < 1 || p->core_m >= p->core_switches ||
        p->access_networks < 0 || p->access_networks > 250 ||
        (p->access_networks > 0 &&
         (p->access_switches < 1 || p->access_m < 1 || p->uplinks < 1 ||
          p->uplinks > p->access_switches || p->uplinks > p->core_switches)) ||
        p->hosts < 0 || p->hosts > 60000 || p->datacenters < 0 ||
        p->datacenters > 250) {
        igraph_set_error_handler(old);
        sr_error_set(err, SR_EINVAL, "invalid topology parameters");
        return NULL;
    }
    b.t = xcalloc(1, sizeof *b.t);
    b.t->params = *p;
    sr_rng_seed(&b.rng, p->seed, TOPO_RNG_STREAM);
    if (build_core(&b, err) < 0 || build_access(&b, err) < 0) {
        topo_free(b.t);
        igraph_set_error_handler(old);
        return NULL;
    }
    build_hosts(&b);
    igraph_set_error_handler(old);
    return b.t;
}

void
topo_core_degrees(const struct topology *t, int *deg)
{
    memset(deg, 0, t->ncore * sizeof *deg);
    for (size_t i = 0; i < t->nlink; i++) {
        if (t->link[i].kind == TOPO_LINK_CORE) {
            deg[t->link[i].a]++;
            deg[t->link[i].b]++;
        }
    }
}

int
topo_busiest_core(const struct topology *t, struct sr_error *err)
{
    igraph_error_handler_t *old = igraph_set_error_handler(keep_igraph_error);
    igraph_vector_int_t el;
    igraph_vector_t bw;
    igraph_t g;
    int best = -1;

    if (!t->ncore) {
        igraph_set_error_handler(old);
        return sr_error_set(err, SR_EINVAL, "the topology has no core switches");
    }
    if (igraph_vector_int_init(&el, (igraph_integer_t) (2 * t->nlink)) != IGRAPH_SUCCESS) {
        igraph_set_error_handler(old);
        return igraph_failed(err, "cannot compute betweenness");
    }
    for (size_t i = 0; i < t->nlink; i++) {
        VECTOR(el)[2 * i] = t->link[i].a;
        VECTOR(el)[2 * i + 1] = t->link[i].b;
    }
    if (igraph_create(&g, &el, (igraph_integer_t) (t->nsw + t->nhost), false) !=
        IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&el);
        igraph_set_error_handler(old);
        return igraph_failed(err, "cannot compute betweenness");
    }
    igraph_vector_int_destroy(&el);
    if (igraph_vector_init(&bw, 0) != IGRAPH_SUCCESS ||
        igraph_betweenness(&g, &bw, igraph_vss_range(0, (igraph_integer_t) t->ncore),
                           false, NULL) != IGRAPH_SUCCESS) {
        igraph_destroy(&g);
        igraph_set_error_handler(old);
        return igraph_failed(err, "cannot compute betweenness");
    }
    for (size_t i = 0; i < t->ncore; i++) {
        /* A small tolerance so float noise never decides a tie. */
        if (best < 0 || VECTOR(bw)[i] > VECTOR(bw)[best] + 1e-9) {
            best = (int) i;
        }
    }
    igraph_vector_destroy(&bw);
    igraph_destroy(&g);
    igraph_set_error_handler(old);
    return best;
}
