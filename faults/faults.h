/* The fault catalogue and the fault timeline.
 *
 * The catalogue describes each fault type: its stable name, its id in the
 * original system (reference/seed-system.md), its family, what it targets and
 * which parameters it takes.  The timeline turns a scenario's [[fault]]
 * entries and [campaign] into concrete episodes with absolute times and
 * targets resolved to names.  Target resolution works on a 'struct
 * flt_world' (names by role), so this module does not depend on the
 * topology code that fills it. */
#ifndef SR_FAULTS_H
#define SR_FAULTS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum flt_family {
    FLT_FAMILY_TRAFFIC,    /* raises traffic through simtraffic */
    FLT_FAMILY_NETWORK,    /* Mininet control channel */
    FLT_FAMILY_FLOW,       /* flow rules through the controller's REST API */
    FLT_FAMILY_CONTROLLER, /* the controller itself */
};

/* What a fault's 'target' names. */
enum flt_target_kind {
    FLT_TARGET_NONE,          /* the whole network ("all") */
    FLT_TARGET_SWITCH,        /* one switch */
    FLT_TARGET_SWITCH_OR_ALL, /* one switch, or "all" */
    FLT_TARGET_USER,          /* one user host */
    FLT_TARGET_SERVER,        /* one datacenter server */
    FLT_TARGET_HOST,          /* any host */
    FLT_TARGET_LINK,          /* a link between two switches */
};

/* Parameters a fault type accepts (bits). */
enum {
    FLT_P_SERVICE = 1 << 0, /* service = "video" ... */
    FLT_P_TIMEOUT = 1 << 1, /* timeout = "10s" */
    FLT_P_RATE = 1 << 2,    /* rate_kbps = 500 */
    FLT_P_STREAMS = 1 << 3, /* streams = 8 */
    FLT_P_FACTOR = 1 << 4,  /* factor = 4 */
};

struct flt_ops;

/* One fault type: an entry of the catalogue (catalog.c).  Its steps are
 * 'ops' (see faults-private.h), with the family's 'detail' (what a flow
 * fault makes of each flow, which rules a rule fault adds ...). */
struct flt_type {
    const char *name;
    int seed_id;        /* 1..11 for the original system, 0 for new ones */
    enum flt_family family;
    enum flt_target_kind target;
    const char *default_target;
    unsigned params;    /* FLT_P_* accepted */
    unsigned required;  /* FLT_P_* that must be given */
    const char *summary;
    const struct flt_ops *ops;
    const void *detail;
    /* Why Ryu cannot carry it out, or NULL. */
    const char *ryu_limit;
};

/* The catalogue, in a stable order (seed ids first). */
const struct flt_type *flt_types(size_t *n);
/* The type called 'name', or NULL. */
const struct flt_type *flt_type_find(const char *name);
const char *flt_family_name(enum flt_family f);
const char *flt_target_kind_name(enum flt_target_kind k);

/* Why 'type' cannot be done with a controller of 'kind' ("embedded",
 * "ryu", "odl"), or NULL when it can. */
const char *flt_controller_limit(const struct flt_type *type, const char *kind);

/* Whether a fault of 'type' adds rules of its own (which carry its
 * episode's cookie and priority), rather than changing the controller's. */
bool flt_adds_rules(const struct flt_type *type);
/* Whether it rewrites the flows already in the switches (and writes the
 * ones it read back on revert). */
bool flt_rewrites_flows(const struct flt_type *type);

/* Services a fault can single out (drop_service). */
bool flt_is_service(const char *name);

/* A fault as the scenario wrote it. */
struct flt_spec {
    const struct flt_type *type;
    char *target;           /* as written, or the type's default */
    int64_t at_ms;          /* from the start of the run (network ready) */
    int64_t duration_ms;
    char *service;          /* FLT_P_SERVICE */
    int64_t timeout_ms;     /* FLT_P_TIMEOUT */
    int64_t rate_kbps;      /* FLT_P_RATE */
    int64_t streams;        /* FLT_P_STREAMS */
    int64_t factor;         /* FLT_P_FACTOR */
    /* Rules the fault adds carry these, as a faulty application's rules
     * carry its own (0: FLT_COOKIE / FLT_PRIORITY). */
    uint64_t cookie;
    uint32_t priority;
};

/* Names the timeline can pick targets from, all owned by the caller. */
struct flt_world {
    const char **core, **access, **gateway, **users, **servers;
    size_t ncore, naccess, ngateway, nusers, nservers;
    /* Switch-to-switch links as "a-b" with their kind. */
    const char **core_links, **uplinks, **access_links;
    size_t ncore_links, nuplinks, naccess_links;
    const char *busiest_core; /* may be NULL when not computed */
};

/* One planned episode. */
struct flt_episode {
    int id;                   /* 1-based, in time order */
    int source;               /* index of the hand-placed spec, -1: campaign */
    const struct flt_type *type;
    char *target;             /* resolved name ("all" for whole network) */
    char *selector;           /* as written ("core:busiest"), or NULL */
    int64_t at_ms, duration_ms;
    struct flt_spec spec;     /* parameters (target/service copied) */
};

struct flt_timeline {
    struct flt_episode *ep;
    size_t n;
};

/* Checks that 'target' is valid for 'type' in 'world': a selector of the
 * right kind or an existing name.  On failure fills 'err' with a message
 * that lists what would be accepted. */
int flt_check_target(const struct flt_type *type, const char *target,
                     const struct flt_world *world, struct sr_error *err);

struct sr_rng;
/* Resolves 'target' for 'type' to one name, drawing random choices from
 * 'rng_state' (seeded by the caller).  Returns a malloc'd name or NULL. */
char *flt_resolve_target(const struct flt_type *type, const char *target,
                         const struct flt_world *world, struct sr_rng *rng,
                         struct sr_error *err);

/* Where a campaign puts the episodes of one type: one of 'choices'
 * (selectors or names, as a [[fault]] target) drawn per episode. */
struct flt_campaign_targets {
    const struct flt_type *type;
    char **choices;
    size_t n;
};

/* Campaign parameters (scenario [campaign]).  A parameter range whose
 * bounds are both 0 takes the catalogue's fixed default. */
struct flt_campaign {
    const struct flt_type **types;
    size_t ntypes;
    int episodes;
    int64_t length_min_ms, length_max_ms;
    int64_t gap_min_ms, gap_max_ms;
    /* Per type, where its episodes go (others: flt_campaign_default_targets). */
    struct flt_campaign_targets *targets;
    size_t ntargets;
    /* Parameters drawn per episode, uniformly in [min, max]. */
    int64_t timeout_min_ms, timeout_max_ms;
    int64_t streams_min, streams_max;
    int64_t factor_min, factor_max;
    int64_t rate_min_kbps, rate_max_kbps;
    char **services;          /* drop_service's choices; NULL: every service */
    size_t nservices;
};

/* Where a campaign puts episodes of 'type' unless told: every switch of
 * every role for switch faults (not the busiest one), every link, every
 * host of the kind; for faults that may take the whole network, that or
 * one switch.  Sets '*n'; the strings are static. */
const char *const *flt_campaign_default_targets(const struct flt_type *type, size_t *n);

/* The cookie and priority drawn for an episode's rules, as an ordinary
 * application's: 'cookie' random with its top 16 bits an application
 * number, 'priority' above what the rule must outrank (the controller's
 * LLDP rule for lldp_drop, its forwarding rules for the others). */
void flt_draw_marks(const struct flt_type *type, struct sr_rng *rng, uint64_t *cookie,
                    uint32_t *priority);

/* Builds the timeline from hand-placed 'specs' and, when 'campaign' is not
 * NULL, a campaign starting at 'start_ms'.  Same inputs and 'seed', same
 * timeline.  The caller releases it with flt_timeline_release(). */
int flt_timeline_build(const struct flt_spec *specs, size_t nspecs,
                       const struct flt_campaign *campaign, int64_t start_ms,
                       const struct flt_world *world, uint64_t seed,
                       struct flt_timeline *out, struct sr_error *err);
void flt_timeline_release(struct flt_timeline *tl);
/* End of the last episode plus, for a campaign, its trailing gap. */
int64_t flt_timeline_end_ms(const struct flt_timeline *tl);

#endif
