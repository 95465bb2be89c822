#include "mininet.h"

#include <stddef.h>

#include "util.h"

extern const char mn_runtime_py[];
extern const size_t mn_runtime_py_size;

/* A Python tuple item: every string through sr_py_quote, so nothing from
 * a scenario can end a literal (names are validated too, but the script
 * runs as root: the escaping does not rely on that). */
static void
item(struct sr_buf *out, const char *s)
{
    sr_py_quote(out, s);
    sr_buf_puts(out, ", ");
}

int
mn_write_script(const struct topology *t, const char *name, struct sr_buf *out,
                struct sr_error *err)
{
    char ip[40], mac[32], dpid[32];

    (void) err;
    /* Nothing from the scenario in comments: a newline would end them. */
    sr_buf_printf(out, "#!/usr/bin/python3\n"
                       "# Mininet script for a simrun scenario (its name is TOPOLOGY['name']),\n"
                       "# seed %llu.  Written by simrun %s for each run; run by simrun, which\n"
                       "# drives it over stdin/stdout.\n\n",
                  (unsigned long long) t->params.seed, SIMRUN_VERSION);
    sr_buf_puts(out, "TOPOLOGY = {\n    'name': ");
    sr_py_quote(out, name);
    sr_buf_printf(out, ",\n    'seed': %llu,\n", (unsigned long long) t->params.seed);
    if (t->params.bw_mbps > 0) {
        sr_buf_printf(out, "    'bw_mbps': %.17g,\n", t->params.bw_mbps);
    } else {
        sr_buf_puts(out, "    'bw_mbps': None,\n");
    }
    sr_buf_puts(out, "    'switches': [\n");
    for (size_t i = 0; i < t->nsw; i++) {
        topo_format_dpid(t->sw[i].dpid, dpid, sizeof dpid);
        sr_buf_puts(out, "        (");
        item(out, t->sw[i].name);
        item(out, dpid);
        sr_buf_puts(out, "),\n");
    }
    sr_buf_puts(out, "    ],\n    'hosts': [\n");
    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        topo_format_ip(h->ip, ip, sizeof ip - 3);
        sr_buf_puts(out, "        (");
        item(out, h->name);
        sr_buf_puts(out, "'");
        sr_buf_puts(out, ip);
        sr_buf_puts(out, "/8', ");
        topo_format_mac(h->mac, mac, sizeof mac);
        item(out, mac);
        item(out, topo_role_name(h->role));
        sr_buf_puts(out, "),\n");
    }
    sr_buf_puts(out, "    ],\n    'links': [\n");
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        sr_buf_puts(out, "        (");
        item(out, topo_node_name(t, l->a));
        sr_buf_printf(out, "%d, ", l->a_port);
        item(out, topo_node_name(t, l->b));
        sr_buf_printf(out, "%d, ", l->b_port);
        item(out, topo_link_kind_name(l->kind));
        sr_buf_puts(out, "),\n");
    }
    sr_buf_puts(out, "    ],\n}\n\n");
    sr_buf_append(out, mn_runtime_py, mn_runtime_py_size);
    return 0;
}
