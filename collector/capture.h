/* Packet capture with libpcap in simrun's own process: one thread reads
 * every selected interface (handles opened inside the hosts' network
 * namespaces), counts packets per service each way (capture.csv, a row per
 * interface per sweep), joins them into bidirectional flow records
 * (pflows.csv) and writes pcap files for windows the caller opens and
 * closes (a fault episode, a normal baseline) or a continuous ring.  Rows
 * are labelled through a callback with the collector's ground truth, so
 * packets are labelled at the source, not joined by time afterwards. */
#ifndef SR_CAPTURE_H
#define SR_CAPTURE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct sr_buf;

/* One interface to capture. */
struct cap_iface {
    const char *name;        /* the interface's name: "u1h1-eth0", "c1-eth2" */
    pid_t netns_pid;         /* open it in this process's network namespace; 0: our own */
    bool by_mac;             /* direction by source MAC (a host's own interface); else two
                              * handles, one per direction (a switch's port) */
    uint8_t mac[6];          /* with by_mac: frames from this MAC are sent (tx) */
    const char *sw;          /* the switch port the interface is or faces, for labels */
    uint32_t port;
    const char *host;        /* the host whose interface it is, or NULL */
};

/* Appends the label cells (CSV, each preceded by a comma) of a row of
 * switch 'sw' port 'port' at collection time 't_s'. */
typedef void cap_label_fn(void *ctx, double t_s, const char *sw, uint32_t port,
                          struct sr_buf *cells);

struct cap_options {
    const char *dir;         /* run directory: capture.csv, pflows.csv, pcap/ */
    int snaplen;             /* bytes kept of each frame (pcaps and parsing) */
    const char *filter;      /* BPF expression, or NULL */
    double flow_idle_s;      /* a flow with no packet for that long has ended */
    double wall0;            /* wall-clock time (epoch s) of collection time 0 */
    double ring_mb;          /* > 0: a continuous ring of pcaps per interface, */
    int ring_files;          /*   'ring_files' files of ring_mb / ring_files MB each */
    bool pcaps_only;         /* no capture.csv and pflows.csv (a capture by hand) */
    const char *const *label_cols; /* the label columns' names (NULL-terminated) */
    cap_label_fn *label;
    void *label_ctx;
};

struct capture;

/* Opens every interface (a handle fails: all closed, NULL with 'err'
 * naming it), creates capture.csv and pflows.csv, and starts the capture
 * thread. */
struct capture *cap_start(const struct cap_options *o, const struct cap_iface *ifs, size_t n,
                          struct sr_error *err);

/* Starts a window: from now on every interface's packets also go to
 * pcap/<tag>-<interface>.pcap (nanosecond time stamps) until
 * cap_window_close.  'tag' is a file-name part ("f3", "n0"). */
int cap_window_open(struct capture *c, const char *tag, struct sr_error *err);
void cap_window_close(struct capture *c, const char *tag);

/* At sweep 'k', collection time 't_s': a capture.csv row per interface
 * with its counts since the previous sweep, and the flow records that
 * ended since, or are going on (pflows.csv).  A failed write of either
 * file is returned (SR_ENOSPC for a full disk), as the collector's are. */
int cap_sweep(struct capture *c, long k, double t_s, struct sr_error *err);

/* Stops the thread, writes what is left (flows still going, a last row per
 * interface at 't_s'), closes every file, and frees 'c'.  Puts what it did
 * into '*report' (a new object for the manifest: interfaces with packets
 * and drops, files with packets).  Accepts NULL.  Returns 0 or the first
 * failed write. */
int cap_finish(struct capture *c, long k, double t_s, json_t **report, struct sr_error *err);

/* Checks a BPF expression as libpcap compiles it for Ethernet: 0, or a
 * negative code with libpcap's message in 'err'. */
int cap_check_filter(const char *expr, int snaplen, struct sr_error *err);

#endif
