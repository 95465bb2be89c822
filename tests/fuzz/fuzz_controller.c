/* libFuzzer target: every parser of a controller's answers (Ryu's
 * ofctl_rest, the embedded controller's sweep, OpenDaylight's inventory
 * and topology) on any bytes.  The first byte picks the parser, the rest
 * is the answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ryu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t dpids[] = { 1, 2, 0x10, UINT64_MAX };
    struct sr_error err = { 0 };
    struct ctl_stats st[4];
    struct ctl_link *links = NULL;
    uint64_t *ids = NULL;
    size_t n = 0;
    char *text;
    unsigned which;

    if (size < 1) {
        return 0;
    }
    which = data[0] % 11;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    memset(st, 0, sizeof st);
    switch (which) {
    case 0: ctl_ryu_parse_port_stats(text, &st[0], &err); break;
    case 1: ctl_ryu_parse_port_desc(text, &st[0], &err); break;
    case 2: ctl_ryu_parse_tables(text, &st[0], &err); break;
    case 3: ctl_ryu_parse_flows(text, &st[0], &err); break;
    case 4:
        ctl_ryu_parse_sweep(text, dpids, 4, CTL_WANT_PORTS | CTL_WANT_TABLES | CTL_WANT_FLOWS,
                            st, &err);
        break;
    case 5: ctl_ryu_parse_switches(text, &ids, &n, &err); break;
    case 6: ctl_ryu_parse_links(text, &links, &n, &err); break;
    case 7:
        ctl_odl_parse_node(text, CTL_WANT_PORTS | CTL_WANT_TABLES | CTL_WANT_FLOWS, &st[0],
                           &err);
        break;
    case 8: ctl_odl_parse_nodes(text, &ids, &n, &err); break;
    case 9: ctl_odl_parse_links(text, &links, &n, &err); break;
    default:
        /* Two answers for one switch, as a sweep merges them. */
        if (ctl_ryu_parse_port_stats(text, &st[0], &err) == 0) {
            ctl_ryu_parse_port_desc(text, &st[0], &err);
        }
        break;
    }
    for (size_t i = 0; i < 4; i++) {
        ctl_stats_release(&st[i]);
    }
    free(links);
    free(ids);
    free(text);
    return 0;
}
