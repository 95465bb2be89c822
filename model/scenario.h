/* The scenario model: a TOML scenario file read, checked and completed with
 * defaults (DESIGN.md §3).  Every mistake in a file is reported, each as
 * "FILE:LINE:COL: message", not only the first. */
#ifndef SR_SCENARIO_H
#define SR_SCENARIO_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "faults.h"

enum scn_controller_kind { SCN_CTL_EMBEDDED, SCN_CTL_RYU, SCN_CTL_ODL };
enum scn_odl_api { SCN_API_RFC8040, SCN_API_RESTCONF };

/* The embedded controller's forwarding application (model/apps.h). */
enum scn_forwarding { SCN_FWD_PROACTIVE, SCN_FWD_LEARNING, SCN_FWD_N };
/* Its policy applications, as bits of scn_controller.policy. */
enum scn_policy {
    SCN_POLICY_ACL,           /* drop rules for blocked services and a quarantined subnet */
    SCN_POLICY_LLDP_EDGE,     /* LLDP dropped on host-facing ports */
    SCN_POLICY_GUEST_METER,   /* meters rate-limiting a guest access network's hosts */
    SCN_POLICY_DEC_TTL,       /* routing between subnets at the datacenters' gateways */
    SCN_POLICY_ADMISSION,     /* temporary admission rules with hard time-outs */
    SCN_POLICY_N
};
/* "proactive", "acl", ...: the names scenarios use. */
const char *scn_forwarding_name(enum scn_forwarding f);
const char *scn_policy_name(enum scn_policy p);

/* A value written as a [lo, hi] range is drawn once per run from the seed
 * (scn_draw_traffic); 'hi' is 0 when the value was written as one number. */
struct scn_draw {
    double lo, hi;
};

struct scn_service {
    bool enabled;
    double per_min;       /* sessions per minute per client (chat ... mail) */
    struct scn_draw per_min_range;
};

struct scn_video {
    bool enabled;
    double clients;       /* fraction of user hosts that stream, 0..1 */
    int64_t bitrate_kbps;
    struct scn_draw clients_range, bitrate_range;
};

struct scn_p2p {
    bool enabled;
    double file_mb_min, file_mb_max; /* each transfer draws its size from these */
    double per_min;
    struct scn_draw per_min_range;
};

struct scn_broadcast {
    bool enabled;
    int64_t every_ms;
};

struct scn_topology {
    int64_t core_switches, core_m;
    int64_t access_networks, access_switches, access_m, uplinks, hosts;
    int64_t datacenters;
    double link_bw_mbps;  /* 0: no shaping */
};

struct scn_controller {
    enum scn_controller_kind kind;
    char *url;            /* ryu and odl only */
    char *user;
    char *password;       /* never logged */
    char *password_file;
    enum scn_odl_api api;
    int64_t timeout_ms;   /* per REST request */
    /* The embedded controller's applications; values written as ranges
     * or lists are drawn per run (model/apps.h). */
    unsigned forwarding;      /* bits (1 << SCN_FWD_*) to draw from */
    int64_t idle_lo_ms, idle_hi_ms; /* learning flows' idle time-out */
    int64_t hard_lo_ms, hard_hi_ms; /* and the hard one of 'hard_share' of them */
    double hard_share;
    unsigned policy;          /* bits (1 << SCN_POLICY_*) */
    double changes_per_h;     /* operator changes per hour of run */
    /* Set from the command line only (--insecure-credentials), never from a
     * scenario: send credentials over plain http:// to a host that is not
     * this machine. */
    bool insecure_auth;
};

struct scn_collector {
    int64_t interval_ms;
    bool csv, jsonl, flows;
};

/* [diagnoser]: a diagnoser's window API fed during the run. */
struct scn_diagnoser {
    char *url;                /* NULL: none */
    int64_t window_ms, every_ms; /* every 0: the collector's interval */
    int64_t timeout_ms;
    int64_t concurrency, queue;
    bool ports, flows;
};

/* A place in the scenario file. */
struct scn_pos {
    int line, col;
};

/* [capture]: packet capture with libpcap (collector/capture.h). */
struct scn_capture {
    bool present;
    char **on;                /* selectors: "hosts", "servers", "users", "target", a host,
                               * or a switch port "c1-eth2" */
    struct scn_pos *on_pos;
    size_t non;
    int64_t snaplen;
    char *filter;             /* BPF, NULL for none */
    struct scn_pos filter_pos;
    bool episodes;            /* a pcap per fault episode (and baselines) */
    int64_t before_ms, after_ms, baseline_ms;
    int64_t flow_idle_ms;
    double max_mb;            /* > 0: a continuous ring of 'files' pcaps per interface */
    int64_t files;
    int line, col;
};

/* Whether 's' is an interface selector [capture] 'on' takes (its form;
 * the plan checks that it names something). */
bool scn_capture_selector_valid(const char *s);

/* [emulation]: where the network runs. */
struct scn_emulation {
    char *remote;             /* ssh://USER@HOST[:PORT] of a lab server; NULL: here */
    struct scn_pos remote_pos;
};

/* [sink]: where records go besides the run's files. */
struct scn_sink {
    char *kafka_brokers;      /* NULL: no Kafka */
    char *kafka_topic;        /* samples; <topic>.ports, <topic>.flows, <topic>.faults */
    bool kafka_labels;        /* rows keep their label columns */
};

/* Whether 'list' is a Kafka bootstrap list (host:port,... with host a
 * name, an IPv4 address or [IPv6]); if not, says why in 'why'. */
bool scn_brokers_valid(const char *list, char *why, size_t n);
/* Whether 'url' is a diagnoser's URL simrun posts to: http(s), printable
 * ASCII, a host, no credentials; if not, says why in 'why'. */
bool scn_diagnoser_url_valid(const char *url, char *why, size_t n);
/* Whether 'topic' is a Kafka topic name (1 to 200 of [A-Za-z0-9._-]). */
bool scn_topic_valid(const char *topic);


/* The most runs a campaign may have. */
#define SCN_MAX_RUNS 1000

struct scn_campaign {
    bool present;
    struct flt_campaign c;
    int line, col;
    struct scn_pos **target_pos; /* [i][k]: where c.targets[i].choices[k] was written */
    /* Runs: one per seed ('seeds'), or 'runs' seeds from the scenario's;
     * neither: one run, of the scenario's seed. */
    uint64_t *seeds;
    size_t nseeds;
    int runs;
};

/* Positions in the file, for messages about a fault (0: not written). */
struct scn_fault_pos {
    int line, col;               /* the [[fault]] header */
    int target_line, target_col;
    int at_line, at_col;
    int duration_line, duration_col;
};

struct scenario {
    char *path;           /* as given */
    char *name;
    char *description;
    uint64_t seed;
    int64_t duration_ms;  /* after the network is ready */
    bool duration_set;
    int64_t warmup_ms;
    bool allow_overlap;   /* allow_overlapping_faults */
    struct scn_topology topo;
    struct scn_controller controller;
    struct {
        struct scn_video video;
        struct scn_service chat, web, mail;
        struct scn_p2p p2p;
        struct scn_broadcast broadcast;
        struct {
            double flash_per_h;   /* flash crowds an hour (model/churn.h) */
            double depart_per_h;  /* departures an hour */
            double curve;         /* the load curve's amplitude, 0..0.9 */
        } churn;
    } traffic;
    struct scn_collector collector;
    struct scn_diagnoser diagnoser;
    struct scn_sink sink;
    struct scn_capture capture;
    struct scn_emulation emulation;
    struct flt_spec *faults;
    size_t nfaults;
    struct scn_fault_pos *fault_pos; /* where each [[fault]] was written */
    struct scn_campaign campaign;
};

/* One message about a scenario file. */
struct scn_diag {
    int line, col;        /* 0 when the message is about the whole file */
    char *msg;
};

struct scn_diags {
    struct scn_diag *items;
    size_t n, cap;
};

/* Reads a scenario from 'text' ('len' bytes); 'path' is only used in
 * messages and recorded.  Returns it (free with scenario_free()), or NULL
 * with every problem found in 'diags' (and 'err' summarising).  Reading
 * the file is the command layer's job (cli/load.c): the model does no
 * I/O. */
struct scenario *scenario_parse(const char *path, const char *text, size_t len,
                                struct scn_diags *diags, struct sr_error *err);
void scenario_free(struct scenario *s);

/* What one machine runs, and what simrun accepts. */
#define SCN_MAX_SWITCHES 1000
#define SCN_MAX_HOSTS 2000
#define SCN_MAX_EPISODES 10000
#define SCN_MAX_DURATION_H 1000
/* scn_diags_format() shows this many messages, then how many more. */
#define SCN_DIAGS_SHOWN 200

/* Appends a message; 'line' 0 means no position. */
void scn_diag_add(struct scn_diags *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void scn_diags_release(struct scn_diags *d);
/* Sorts by position; writes "PATH:LINE:COL: msg\n" for each into a malloc'd
 * string. */
char *scn_diags_format(struct scn_diags *d, const char *path);

/* Parses "250ms", "45s", "2m", "1h", "1.5s" into milliseconds.  Returns
 * false for anything else. */
bool scn_parse_duration(const char *s, int64_t *ms);
/* Writes 'ms' as "150 s", "2.5 s", "250 ms" into 'buf'. */
void scn_format_duration(int64_t ms, char *buf, size_t size);

const char *scn_controller_kind_name(enum scn_controller_kind k);

/* Draws the traffic values written as ranges ([lo, hi]) from the
 * scenario's seed: once per run, so the runs of a campaign differ in their
 * traffic mix too. */
void scn_draw_traffic(struct scenario *s);

/* Whether the scenario is a campaign of several runs ([campaign] seeds or
 * runs). */
bool scn_multi_run(const struct scenario *s);
/* The seeds of its runs (malloc'd into '*out'): [campaign] 'seeds', or
 * 'runs' seeds from the scenario's seed on, or the scenario's seed alone.
 * Returns how many. */
size_t scn_run_seeds(const struct scenario *s, uint64_t **out);

#endif
