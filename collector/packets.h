/* Packets as the capture sees them: one Ethernet frame dissected into what
 * the capture's tables need (service, addresses, ports, TCP flags and
 * sequence), per-service counts each way with TCP retransmissions and
 * resets, and bidirectional flow records with the statistics CICFlowMeter
 * computes.  Pure: no libpcap, no files, no clock; the capture feeds it
 * frames and time stamps, so the unit tests feed it the same. */
#ifndef SR_PACKETS_H
#define SR_PACKETS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a frame carries, by simtraffic's ports (common/services.h). */
enum pk_service {
    PK_VIDEO,     /* RTP, UDP 5004 */
    PK_RTSP,      /* TCP 554 */
    PK_CHAT,      /* TCP 5222 */
    PK_P2P,       /* TCP 6881 */
    PK_WEB,       /* TCP 80 */
    PK_MAIL,      /* TCP 25 */
    PK_BROADCAST, /* UDP 7777 */
    PK_ARP,
    PK_LLDP,
    PK_OTHER,
    PK_NSERVICES
};

/* The services' names as the capture's columns write them. */
extern const char *const pk_service_names[PK_NSERVICES];

/* TCP flags as in the header's 13th byte. */
#define PK_FIN 0x01
#define PK_SYN 0x02
#define PK_RST 0x04
#define PK_PSH 0x08
#define PK_ACK 0x10
#define PK_URG 0x20

struct pk_packet {
    uint32_t wirelen;         /* the frame's length on the wire */
    uint16_t ethertype;       /* after any 802.1Q tags */
    uint8_t src_mac[6], dst_mac[6];
    bool ipv4;                /* the fields below are set */
    uint8_t proto;            /* 6 TCP, 17 UDP, 1 ICMP, ... */
    uint32_t src, dst;        /* host byte order */
    uint16_t sport, dport;    /* 0 for protocols without ports */
    bool ports;               /* TCP or UDP header present */
    uint8_t tcp_flags;
    uint32_t seq;             /* TCP sequence number */
    uint32_t ack;             /* TCP acknowledgment number */
    uint32_t payload;         /* transport payload bytes (from the IP length) */
    enum pk_service service;
};

/* Dissects the first 'caplen' bytes of a frame 'wirelen' long.  A frame
 * too short for a header it announces is still classified as far as it
 * goes (PK_OTHER at worst); returns false only when not even the Ethernet
 * header is there. */
bool pk_dissect(const uint8_t *frame, size_t caplen, uint32_t wirelen, struct pk_packet *p);

/* Counts per service each way (rx: towards the interface's side, tx: from
 * it), plus TCP retransmissions and resets, over one sweep. */
struct pk_counts {
    uint64_t packets[PK_NSERVICES][2]; /* [service][0 rx, 1 tx] */
    uint64_t bytes[PK_NSERVICES][2];
    uint64_t retransmissions;
    uint64_t resets;
};

/* Statistics of one direction of a flow, or of both. */
struct pk_moments {
    uint64_t n;
    double min, max, mean, m2; /* m2: sum of squared deviations (Welford) */
};
void pk_moments_add(struct pk_moments *m, double x);
double pk_moments_std(const struct pk_moments *m); /* population std, 0 for n < 2 */

/* One bidirectional flow, the first packet's sender being forward. */
struct pk_flow {
    uint8_t proto;
    uint32_t fwd_ip, bwd_ip;
    uint16_t fwd_port, bwd_port;
    enum pk_service service;
    double first, last;                    /* time stamps, s */
    uint64_t packets[2], bytes[2];         /* [0 forward, 1 backward], bytes on the wire */
    uint64_t payload[2];
    struct pk_moments size[2];             /* frame sizes per direction */
    struct pk_moments iat, iat_dir[2];     /* inter-arrival times, s: the flow's, per direction */
    double last_dir[2];                    /* last packet per direction, for iat_dir */
    uint32_t flag_count[6];                /* FIN SYN RST PSH ACK URG, both directions */
    uint64_t retransmissions[2];
    uint32_t next_seq[2];                  /* highest sequence end seen per direction */
    bool seq_known[2];
    bool fin[2], rst;                      /* for the end of a TCP flow */
    uint32_t fin_end[2];                   /* sequence number just past each FIN */
    bool fin_acked[2];                     /* each FIN acknowledged by the other side */
};

/* Why a flow record is written. */
enum pk_end { PK_END_FIN, PK_END_RST, PK_END_IDLE, PK_END_ACTIVE, PK_END_CLOSE };
extern const char *const pk_end_names[];

typedef void (*pk_flow_fn)(const struct pk_flow *f, enum pk_end why, void *arg);

/* The flow table of one interface (or one direction of a link). */
struct pk_table;

/* 'idle' (s): a flow with no packet for that long has ended. */
struct pk_table *pk_table_new(double idle, pk_flow_fn fn, void *arg);
void pk_table_free(struct pk_table *t);

/* Adds packet 'p' seen at time 't' ('dir': 0 rx, 1 tx of the interface) to
 * the table and to 'counts' (may be NULL).  Flows of IPv4 packets only;
 * a TCP flow ends (and is reported) when the FIN of each side has been
 * acknowledged by the other, or at a RST. */
void pk_table_add(struct pk_table *t, double time, int dir, const struct pk_packet *p,
                  struct pk_counts *counts);

/* At a sweep at time 'now': reports and forgets the flows idle for longer
 * than the table's limit, and reports the others that are still going as
 * PK_END_ACTIVE (they stay). */
void pk_table_sweep(struct pk_table *t, double now);

/* Reports every flow still in the table as PK_END_CLOSE and empties it. */
void pk_table_close(struct pk_table *t);

/* The columns pk_flow_csv writes, NULL-terminated (docs/capture.md names
 * the CICFlowMeter feature each corresponds to). */
extern const char *const pk_flow_columns[];

/* Appends the flow's cells, comma-separated, without a line end; its start
 * as seconds since 't0'. */
struct sr_buf;
void pk_flow_csv(struct sr_buf *b, const struct pk_flow *f, enum pk_end why, double t0);

/* Flows in the table. */
size_t pk_table_size(const struct pk_table *t);

#endif
