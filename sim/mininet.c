#include "mininet.h"

#include <stddef.h>

extern const char mn_runtime_py[];
extern const size_t mn_runtime_py_size;

int
mn_write_script(const struct topology *t, const char *name, FILE *out,
                struct sr_error *err)
{
    char ip[32], mac[32], dpid[32];

    /* Names are generated (letters and digits only), so they need no
     * escaping inside Python string literals. */
    fprintf(out, "#!/usr/bin/python3\n"
                 "# Mininet script for simrun scenario '%s', seed %llu.\n"
                 "# Written by simrun %s for each run; run by simrun, which "
                 "drives it over stdin/stdout.\n\n",
            name, (unsigned long long) t->params.seed, SIMRUN_VERSION);
    fprintf(out, "TOPOLOGY = {\n    'name': '%s',\n    'seed': %llu,\n", name,
            (unsigned long long) t->params.seed);
    if (t->params.bw_mbps > 0) {
        fprintf(out, "    'bw_mbps': %g,\n", t->params.bw_mbps);
    } else {
        fprintf(out, "    'bw_mbps': None,\n");
    }
    fprintf(out, "    'switches': [\n");
    for (size_t i = 0; i < t->nsw; i++) {
        topo_format_dpid(t->sw[i].dpid, dpid, sizeof dpid);
        fprintf(out, "        ('%s', '%s'),\n", t->sw[i].name, dpid);
    }
    fprintf(out, "    ],\n    'hosts': [\n");
    for (size_t i = 0; i < t->nhost; i++) {
        const struct topo_host *h = &t->host[i];

        topo_format_ip(h->ip, ip, sizeof ip);
        topo_format_mac(h->mac, mac, sizeof mac);
        fprintf(out, "        ('%s', '%s/8', '%s', '%s'),\n", h->name, ip, mac,
                topo_role_name(h->role));
    }
    fprintf(out, "    ],\n    'links': [\n");
    for (size_t i = 0; i < t->nlink; i++) {
        const struct topo_link *l = &t->link[i];

        fprintf(out, "        ('%s', %d, '%s', %d, '%s'),\n", topo_node_name(t, l->a),
                l->a_port, topo_node_name(t, l->b), l->b_port,
                topo_link_kind_name(l->kind));
    }
    fprintf(out, "    ],\n}\n\n");
    fwrite(mn_runtime_py, 1, mn_runtime_py_size, out);
    if (ferror(out)) {
        return sr_error_set(err, SR_EIO, "cannot write the Mininet script");
    }
    return 0;
}
