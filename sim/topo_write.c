/* topology.json and topology.dot writers. */
#include <jansson.h>
#include <string.h>

#include "topology.h"
#include "util.h"

int
topo_write_json(const struct topology *t, const char *name, FILE *out,
                struct sr_error *err)
{
    json_t *root = json_object(), *sws = json_array(), *hosts = json_array();
    json_t *links = json_array(), *dcs = json_array();
    char buf[64], mac[32];
    int rc = 0;

    json_object_set_new(root, "name", json_string(name));
    json_object_set_new(root, "seed", json_integer((json_int_t) t->params.seed));
    json_object_set_new(root, "bw_mbps", t->params.bw_mbps > 0
                                             ? json_real(t->params.bw_mbps)
                                             : json_null());
    for (size_t i = 0; i < t->nsw; i++) {
        const struct topo_switch *s = &t->sw[i];

        topo_format_dpid(s->dpid, buf, sizeof buf);
        json_array_append_new(sws, json_pack("{s:s, s:s, s:s, s:i, s:i}", "name",
                                             s->name, "dpid", buf, "role",
                                             topo_role_name(s->role), "network",
                                             s->net, "ports", s->nports));
    }
    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        topo_format_ip(h->ip, buf, sizeof buf);
        topo_format_mac(h->mac, mac, sizeof mac);
        json_array_append_new(hosts,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "name",
                                        h->name, "ip", buf, "mac", mac, "role",
                                        topo_role_name(h->role), "switch",
                                        t->sw[h->sw].name, "port", h->sw_port));
    }
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        json_array_append_new(links,
                              json_pack("{s:s, s:i, s:s, s:i, s:s}", "a",
                                        topo_node_name(t, l->a), "a_port",
                                        l->a_port, "b", topo_node_name(t, l->b),
                                        "b_port", l->b_port, "kind",
                                        topo_link_kind_name(l->kind)));
    }
    for (size_t d = 0; d < t->ndc; d++) {
        snprintf(buf, sizeof buf, "d%zu", d + 1);
        json_array_append_new(dcs, json_pack("{s:s, s:s}", "name", buf, "switch",
                                             t->sw[t->dc_switch[d]].name));
    }
    json_object_set_new(root, "switches", sws);
    json_object_set_new(root, "hosts", hosts);
    json_object_set_new(root, "links", links);
    json_object_set_new(root, "datacenters", dcs);
    if (json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0 ||
        fputc('\n', out) == EOF) {
        rc = sr_error_set(err, SR_EIO, "cannot write topology JSON");
    }
    json_decref(root);
    return rc;
}

static const char *
dot_node_style(enum topo_role r)
{
    switch (r) {
    case TOPO_ROLE_CORE:
        return "shape=box, style=\"filled,bold\", fillcolor=\"#6baed6\"";
    case TOPO_ROLE_GATEWAY:
        return "shape=box, style=filled, fillcolor=\"#c6dbef\", peripheries=2";
    case TOPO_ROLE_ACCESS:
        return "shape=box, style=filled, fillcolor=\"#deebf7\"";
    case TOPO_ROLE_USER:
        return "shape=ellipse, style=filled, fillcolor=\"#fdd0a2\", fontsize=9";
    case TOPO_ROLE_SERVER:
        return "shape=cylinder, style=filled, fillcolor=\"#a1d99b\"";
    }
    return "";
}

static const char *
dot_edge_style(enum topo_link_kind k)
{
    switch (k) {
    case TOPO_LINK_CORE: return "penwidth=2.5";
    case TOPO_LINK_UPLINK: return "penwidth=1.5, style=dashed";
    case TOPO_LINK_ACCESS: return "penwidth=1.2";
    case TOPO_LINK_HOST: return "color=gray50";
    }
    return "";
}

int
topo_write_dot(const struct topology *t, const char *name, FILE *out,
               struct sr_error *err)
{
    char ip[32];
    int net = -1;

    fprintf(out, "// simrun topology '%s', seed %llu; render with: dot -Tsvg\n", name,
            (unsigned long long) t->params.seed);
    fprintf(out, "graph \"%s\" {\n  graph [overlap=false, fontname=Helvetica, "
                 "label=\"%s (seed %llu)\"];\n  node [fontname=Helvetica];\n",
            name, name, (unsigned long long) t->params.seed);
    fprintf(out, "  subgraph cluster_core {\n    label=\"core\"; color=\"#3182bd\";\n");
    for (size_t i = 0; i < t->ncore; i++) {
        fprintf(out, "    \"%s\" [%s];\n", t->sw[i].name, dot_node_style(t->sw[i].role));
    }
    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        if (h->role == TOPO_ROLE_SERVER) {
            topo_format_ip(h->ip, ip, sizeof ip);
            fprintf(out, "    \"%s\" [%s, tooltip=\"%s\"];\n", h->name,
                    dot_node_style(h->role), ip);
        }
    }
    fprintf(out, "  }\n");
    for (size_t i = t->ncore; i < t->nsw; i++) {
        const struct topo_switch *s = &t->sw[i];

        if (s->net != net) {
            if (net >= 0) {
                fprintf(out, "  }\n");
            }
            net = s->net;
            fprintf(out, "  subgraph cluster_a%d {\n    label=\"access network %d\"; "
                         "color=\"#fd8d3c\";\n",
                    net, net);
            for (size_t h = 0; h < t->nhost; h++) {
                if (t->host[h].role == TOPO_ROLE_USER && t->host[h].net == net) {
                    topo_format_ip(t->host[h].ip, ip, sizeof ip);
                    fprintf(out, "    \"%s\" [%s, tooltip=\"%s\"];\n", t->host[h].name,
                            dot_node_style(TOPO_ROLE_USER), ip);
                }
            }
        }
        fprintf(out, "    \"%s\" [%s];\n", s->name, dot_node_style(s->role));
    }
    if (net >= 0) {
        fprintf(out, "  }\n");
    }
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        fprintf(out, "  \"%s\" -- \"%s\" [%s", topo_node_name(t, l->a),
                topo_node_name(t, l->b), dot_edge_style(l->kind));
        if (l->kind != TOPO_LINK_HOST) {
            fprintf(out, ", taillabel=\"%d\", headlabel=\"%d\", fontsize=8", l->a_port,
                    l->b_port);
        }
        fprintf(out, "];\n");
    }
    fprintf(out, "}\n");
    if (ferror(out)) {
        return sr_error_set(err, SR_EIO, "cannot write topology DOT");
    }
    return 0;
}
