/* topology.json and topology.dot writers. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"
#include "util.h"

int
topo_write_json(const struct topology *t, const char *name, struct sr_buf *out,
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
    {
        char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

        if (!text) {
            rc = sr_error_set(err, SR_ENOMEM, "cannot encode the topology as JSON");
        } else {
            sr_buf_puts(out, text);
            sr_buf_putc(out, '\n');
            free(text);
        }
    }
    json_decref(root);
    return rc;
}

const char *
topo_dot_node_style(enum topo_role r)
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

const char *
topo_dot_edge_style(enum topo_link_kind k)
{
    switch (k) {
    case TOPO_LINK_CORE: return "penwidth=2.5";
    case TOPO_LINK_UPLINK: return "penwidth=1.5, style=dashed";
    case TOPO_LINK_ACCESS: return "penwidth=1.2";
    case TOPO_LINK_HOST: return "color=gray50";
    }
    return "";
}

/* A node or graph name as a DOT quoted ID. */
static void
q(struct sr_buf *out, const char *s)
{
    sr_dot_quote(out, s);
}

int
topo_write_dot(const struct topology *t, const char *name, struct sr_buf *out,
               struct sr_error *err)
{
    char ip[32];
    int net = -1;
    struct sr_buf label = SR_BUF_INIT;

    (void) err;
    /* The name comes from the scenario: quoted like every other ID, and
     * never in the comment line (a newline would end it). */
    sr_buf_printf(out, "// simrun topology, seed %llu; render with: dot -Tsvg\ngraph ",
                  (unsigned long long) t->params.seed);
    q(out, name);
    sr_buf_printf(&label, "%s (seed %llu)", name, (unsigned long long) t->params.seed);
    sr_buf_puts(out, " {\n  graph [overlap=false, fontname=Helvetica, label=");
    q(out, sr_buf_cstr(&label));
    sr_buf_release(&label);
    sr_buf_puts(out, "];\n  node [fontname=Helvetica];\n");
    sr_buf_puts(out, "  subgraph cluster_core {\n    label=\"core\"; color=\"#3182bd\";\n");
    for (size_t i = 0; i < t->ncore; i++) {
        sr_buf_puts(out, "    ");
        q(out, t->sw[i].name);
        sr_buf_printf(out, " [%s];\n", topo_dot_node_style(t->sw[i].role));
    }
    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        if (h->role == TOPO_ROLE_SERVER) {
            topo_format_ip(h->ip, ip, sizeof ip);
            sr_buf_puts(out, "    ");
            q(out, h->name);
            sr_buf_printf(out, " [%s, tooltip=\"%s\"];\n", topo_dot_node_style(h->role), ip);
        }
    }
    sr_buf_puts(out, "  }\n");
    for (size_t i = t->ncore; i < t->nsw; i++) {
        const struct topo_switch *s = &t->sw[i];

        if (s->net != net) {
            if (net >= 0) {
                sr_buf_puts(out, "  }\n");
            }
            net = s->net;
            sr_buf_printf(out, "  subgraph cluster_a%d {\n    label=\"access network %d\"; "
                               "color=\"#fd8d3c\";\n",
                          net, net);
            for (size_t h = 0; h < t->nhost; h++) {
                if (t->host[h].role == TOPO_ROLE_USER && t->host[h].net == net) {
                    topo_format_ip(t->host[h].ip, ip, sizeof ip);
                    sr_buf_puts(out, "    ");
                    q(out, t->host[h].name);
                    sr_buf_printf(out, " [%s, tooltip=\"%s\"];\n",
                                  topo_dot_node_style(TOPO_ROLE_USER), ip);
                }
            }
        }
        sr_buf_puts(out, "    ");
        q(out, s->name);
        sr_buf_printf(out, " [%s];\n", topo_dot_node_style(s->role));
    }
    if (net >= 0) {
        sr_buf_puts(out, "  }\n");
    }
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        sr_buf_puts(out, "  ");
        q(out, topo_node_name(t, l->a));
        sr_buf_puts(out, " -- ");
        q(out, topo_node_name(t, l->b));
        sr_buf_printf(out, " [%s", topo_dot_edge_style(l->kind));
        if (l->kind != TOPO_LINK_HOST) {
            sr_buf_printf(out, ", taillabel=\"%d\", headlabel=\"%d\", fontsize=8", l->a_port,
                          l->b_port);
        }
        sr_buf_puts(out, "];\n");
    }
    sr_buf_puts(out, "}\n");
    return 0;
}
