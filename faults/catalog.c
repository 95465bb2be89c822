/* The fault catalogue: the original system's eleven faults under stable
 * names, then the ones simrun adds.  Each entry points at its operations
 * (inject, verify and watch, revert), which live beside this table, one
 * file per family (see faults-private.h). */
#include "faults-private.h"

#include <string.h>

#include "util.h"

static const struct flt_type types[] = {
    { "heavy_streaming_host", 1, FLT_FAMILY_TRAFFIC, FLT_TARGET_USER,
      "user:random", FLT_P_STREAMS, 0,
      "one host pulls many video streams", &flt_traffic_ops, &flt_traffic_heavy, NULL },
    { "congestion", 2, FLT_FAMILY_TRAFFIC, FLT_TARGET_NONE, "all",
      FLT_P_FACTOR, 0, "every host raises every service", &flt_traffic_ops,
      &flt_traffic_congestion, NULL },
    { "link_down", 3, FLT_FAMILY_NETWORK, FLT_TARGET_LINK, "link:core-random",
      0, 0, "a link between two switches fails", &flt_link_down_ops, NULL, NULL },
    { "switch_down", 4, FLT_FAMILY_NETWORK, FLT_TARGET_SWITCH, "core:random",
      0, 0, "a switch stops", &flt_switch_down_ops, NULL, NULL },
    { "server_down", 5, FLT_FAMILY_NETWORK, FLT_TARGET_SERVER, "server:random",
      0, 0, "a datacenter server goes down", &flt_host_down_ops, NULL, NULL },
    { "flow_output_changed", 6, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH,
      "core:busiest", 0, 0,
      "every flow of a switch has its output port rewritten", &flt_flow_ops,
      &flt_rw_output, NULL },
    { "flow_inport_changed", 7, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH,
      "core:busiest", 0, 0,
      "every flow of a switch has its in-port match rewritten", &flt_flow_ops,
      &flt_rw_inport, NULL },
    { "flow_idle_timeout", 8, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH_OR_ALL, "all",
      FLT_P_TIMEOUT, 0, "an idle timeout is added to the flows", &flt_flow_ops, &flt_rw_idle,
      NULL },
    { "flow_hard_timeout", 9, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH_OR_ALL, "all",
      FLT_P_TIMEOUT, 0, "a hard timeout is added to the flows", &flt_flow_ops, &flt_rw_hard,
      NULL },
    { "flows_deleted", 10, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH, "core:busiest",
      0, 0, "every flow of a switch but the table-miss entry is deleted", &flt_flow_ops,
      &flt_rw_deleted, NULL },
    { "lldp_drop", 11, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH, "core:busiest", 0,
      0, "a switch drops every LLDP packet (ethertype 0x88cc)", &flt_rule_ops, &flt_rules_lldp,
      "Ryu's link discovery (ryu.topology.switches) installs its own LLDP rule at the "
      "highest priority, 65535, so no drop rule can outrank it (simrun's embedded "
      "controller turns that rule off)" },
    { "drop_service", 0, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH, "core:busiest",
      FLT_P_SERVICE, FLT_P_SERVICE,
      "a high-priority rule drops one service's traffic", &flt_rule_ops, &flt_rules_service,
      NULL },
    { "blackhole_host", 0, FLT_FAMILY_FLOW, FLT_TARGET_HOST, "server:random",
      0, 0, "everything sent to one host is dropped at its switch", &flt_rule_ops,
      &flt_rules_blackhole, NULL },
    { "rate_limit", 0, FLT_FAMILY_FLOW, FLT_TARGET_SWITCH, "core:busiest",
      FLT_P_RATE, 0, "an OpenFlow meter limits a switch's traffic", &flt_flow_ops,
      &flt_rw_meter, NULL },
    { "forwarding_loop", 0, FLT_FAMILY_FLOW, FLT_TARGET_LINK,
      "link:core-random", 0, 0,
      "rules bounce traffic between the two switches of a link", &flt_rule_ops, &flt_rules_loop,
      NULL },
    { "controller_down", 0, FLT_FAMILY_CONTROLLER, FLT_TARGET_NONE, "all", 0,
      0, "the controller stops or loses its switches", &flt_controller_down_ops, NULL, NULL },
};

bool
flt_adds_rules(const struct flt_type *type)
{
    return type->ops == &flt_rule_ops;
}

bool
flt_rewrites_flows(const struct flt_type *type)
{
    return type->ops == &flt_flow_ops;
}

const struct flt_type *
flt_types(size_t *n)
{
    *n = SR_ARRAY_SIZE(types);
    return types;
}

const struct flt_type *
flt_type_find(const char *name)
{
    for (size_t i = 0; i < SR_ARRAY_SIZE(types); i++) {
        if (!strcmp(types[i].name, name)) {
            return &types[i];
        }
    }
    return NULL;
}

const char *
flt_family_name(enum flt_family f)
{
    switch (f) {
    case FLT_FAMILY_TRAFFIC: return "traffic";
    case FLT_FAMILY_NETWORK: return "network";
    case FLT_FAMILY_FLOW: return "flow";
    case FLT_FAMILY_CONTROLLER: return "controller";
    }
    return "?";
}

const char *
flt_target_kind_name(enum flt_target_kind k)
{
    switch (k) {
    case FLT_TARGET_NONE: return "the whole network";
    case FLT_TARGET_SWITCH: return "a switch";
    case FLT_TARGET_SWITCH_OR_ALL: return "a switch or all switches";
    case FLT_TARGET_USER: return "a user host";
    case FLT_TARGET_SERVER: return "a datacenter server";
    case FLT_TARGET_HOST: return "a host";
    case FLT_TARGET_LINK: return "a link between two switches";
    }
    return "?";
}

bool
flt_is_service(const char *name)
{
    static const char *const services[] = { "video", "chat", "p2p",
                                            "web",   "mail", "broadcast" };

    for (size_t i = 0; i < SR_ARRAY_SIZE(services); i++) {
        if (!strcmp(services[i], name)) {
            return true;
        }
    }
    return false;
}

const char *
flt_controller_limit(const struct flt_type *type, const char *kind)
{
    return !strcmp(kind, "ryu") ? type->ryu_limit : NULL;
}
