/* Packets dissected, counted per service, and joined into bidirectional
 * flows (packets.h). */
#include "packets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "services.h"
#include "util.h"

const char *const pk_service_names[PK_NSERVICES] = {
    [PK_VIDEO] = "video", [PK_RTSP] = "rtsp", [PK_CHAT] = "chat", [PK_P2P] = "p2p",
    [PK_WEB] = "web", [PK_MAIL] = "mail", [PK_BROADCAST] = "broadcast",
    [PK_ARP] = "arp", [PK_LLDP] = "lldp", [PK_OTHER] = "other",
};

const char *const pk_end_names[] = {
    [PK_END_FIN] = "fin", [PK_END_RST] = "rst", [PK_END_IDLE] = "idle",
    [PK_END_ACTIVE] = "active", [PK_END_CLOSE] = "close",
};

static uint16_t
be16(const uint8_t *b)
{
    return (uint16_t) (b[0] << 8 | b[1]);
}

static uint32_t
be32(const uint8_t *b)
{
    return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

/* The service of a TCP or UDP packet by either of its ports: the well-known
 * one is the server's, the other an ephemeral port of the client's. */
static enum pk_service
service_of(uint8_t proto, uint16_t a, uint16_t b)
{
    static const struct {
        uint8_t proto;
        uint16_t port;
        enum pk_service service;
    } known[] = {
        { 17, SR_PORT_RTP, PK_VIDEO }, { 6, SR_PORT_RTSP, PK_RTSP },
        { 6, SR_PORT_CHAT, PK_CHAT },  { 6, SR_PORT_P2P, PK_P2P },
        { 6, SR_PORT_HTTP, PK_WEB },   { 6, SR_PORT_SMTP, PK_MAIL },
        { 17, SR_PORT_BROADCAST, PK_BROADCAST },
    };

    for (size_t i = 0; i < SR_ARRAY_SIZE(known); i++) {
        if (known[i].proto == proto && (known[i].port == a || known[i].port == b)) {
            return known[i].service;
        }
    }
    return PK_OTHER;
}

bool
pk_dissect(const uint8_t *frame, size_t caplen, uint32_t wirelen, struct pk_packet *p)
{
    size_t off = 14, ihl, l4;
    uint16_t total;

    memset(p, 0, sizeof *p);
    p->wirelen = wirelen;
    p->service = PK_OTHER;
    if (caplen < 14) {
        return false;
    }
    memcpy(p->dst_mac, frame, 6);
    memcpy(p->src_mac, frame + 6, 6);
    p->ethertype = be16(frame + 12);
    /* 802.1Q and 802.1ad tags. */
    while ((p->ethertype == 0x8100 || p->ethertype == 0x88a8) && caplen >= off + 4) {
        p->ethertype = be16(frame + off + 2);
        off += 4;
    }
    if (p->ethertype == 0x0806) {
        p->service = PK_ARP;
        return true;
    }
    if (p->ethertype == 0x88cc) {
        p->service = PK_LLDP;
        return true;
    }
    if (p->ethertype != 0x0800 || caplen < off + 20 || frame[off] >> 4 != 4) {
        return true;
    }
    ihl = (size_t) (frame[off] & 0x0f) * 4;
    total = be16(frame + off + 2);
    if (ihl < 20 || total < ihl) {
        return true;
    }
    p->ipv4 = true;
    p->proto = frame[off + 9];
    p->src = be32(frame + off + 12);
    p->dst = be32(frame + off + 16);
    l4 = off + ihl;
    /* A fragment after the first carries no transport header. */
    if ((be16(frame + off + 6) & 0x1fff) != 0) {
        return true;
    }
    if (p->proto == 6 && caplen >= l4 + 20) {
        size_t doff = (size_t) (frame[l4 + 12] >> 4) * 4;

        p->sport = be16(frame + l4);
        p->dport = be16(frame + l4 + 2);
        p->seq = be32(frame + l4 + 4);
        p->ack = be32(frame + l4 + 8);
        p->tcp_flags = frame[l4 + 13] & 0x3f;
        p->ports = true;
        p->payload = total >= ihl + doff && doff >= 20 ? (uint32_t) (total - ihl - doff) : 0;
    } else if (p->proto == 17 && caplen >= l4 + 8) {
        p->sport = be16(frame + l4);
        p->dport = be16(frame + l4 + 2);
        p->ports = true;
        p->payload = total >= ihl + 8 ? (uint32_t) (total - ihl - 8) : 0;
    } else {
        p->payload = (uint32_t) (total - ihl);
    }
    if (p->ports) {
        p->service = service_of(p->proto, p->sport, p->dport);
    }
    return true;
}

void
pk_moments_add(struct pk_moments *m, double x)
{
    double d;

    if (m->n == 0 || x < m->min) {
        m->min = x;
    }
    if (m->n == 0 || x > m->max) {
        m->max = x;
    }
    m->n++;
    d = x - m->mean;
    m->mean += d / (double) m->n;
    m->m2 += d * (x - m->mean);
}

double
pk_moments_std(const struct pk_moments *m)
{
    return m->n < 2 ? 0 : sqrt(m->m2 / (double) m->n);
}

/* ---- the flow table ---- */

struct node {
    struct node *next;
    struct pk_flow f;
};

struct pk_table {
    struct node **buckets;
    size_t nbuckets, n;
    double idle, last_sweep;
    bool swept;
    pk_flow_fn fn;
    void *arg;
};

struct pk_table *
pk_table_new(double idle, pk_flow_fn fn, void *arg)
{
    struct pk_table *t = xcalloc(1, sizeof *t);

    t->nbuckets = 256;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
    t->idle = idle;
    t->fn = fn;
    t->arg = arg;
    return t;
}

static void
drop_all(struct pk_table *t)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct node *n = t->buckets[i], *next;

        for (; n; n = next) {
            next = n->next;
            free(n);
        }
        t->buckets[i] = NULL;
    }
    t->n = 0;
}

void
pk_table_free(struct pk_table *t)
{
    if (t) {
        drop_all(t);
        free(t->buckets);
        free(t);
    }
}

size_t
pk_table_size(const struct pk_table *t)
{
    return t->n;
}

/* The same for both directions of a flow. */
static size_t
hash_of(uint8_t proto, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
    uint64_t x = (uint64_t) a * 0x9e3779b97f4a7c15ULL ^ (uint64_t) ap << 17;
    uint64_t y = (uint64_t) b * 0x9e3779b97f4a7c15ULL ^ (uint64_t) bp << 17;
    uint64_t h = (x ^ y) + (uint64_t) proto * 0xff51afd7ed558ccdULL;

    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return (size_t) h;
}

static void
grow(struct pk_table *t)
{
    size_t nb = t->nbuckets * 2;
    struct node **b = xcalloc(nb, sizeof *b);

    for (size_t i = 0; i < t->nbuckets; i++) {
        struct node *n = t->buckets[i], *next;

        for (; n; n = next) {
            size_t h = hash_of(n->f.proto, n->f.fwd_ip, n->f.fwd_port, n->f.bwd_ip,
                               n->f.bwd_port) & (nb - 1);

            next = n->next;
            n->next = b[h];
            b[h] = n;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

/* The flow of 'p' and the packet's direction in it (0 forward). */
static struct pk_flow *
find(struct pk_table *t, const struct pk_packet *p, int *fdir, struct node ***slot)
{
    size_t h = hash_of(p->proto, p->src, p->sport, p->dst, p->dport) & (t->nbuckets - 1);
    struct node **pp = &t->buckets[h];

    for (; *pp; pp = &(*pp)->next) {
        struct pk_flow *f = &(*pp)->f;

        if (f->proto != p->proto) {
            continue;
        }
        if (f->fwd_ip == p->src && f->fwd_port == p->sport && f->bwd_ip == p->dst &&
            f->bwd_port == p->dport) {
            *fdir = 0;
            *slot = pp;
            return f;
        }
        if (f->fwd_ip == p->dst && f->fwd_port == p->dport && f->bwd_ip == p->src &&
            f->bwd_port == p->sport) {
            *fdir = 1;
            *slot = pp;
            return f;
        }
    }
    *slot = &t->buckets[h];
    return NULL;
}

static void
unlink_node(struct pk_table *t, struct node **slot)
{
    struct node *n = *slot;

    *slot = n->next;
    free(n);
    t->n--;
}

/* True when a TCP segment carries only sequence space already seen in its
 * direction: a retransmission (as Wireshark's analysis calls one, without
 * its finer kinds). */
static bool
tcp_track(struct pk_flow *f, int d, const struct pk_packet *p)
{
    uint32_t len = p->payload + ((p->tcp_flags & (PK_SYN | PK_FIN)) ? 1 : 0);
    uint32_t end = p->seq + len;
    bool again = false;

    if (len == 0) {
        return false;
    }
    if (f->seq_known[d] && (int32_t) (end - f->next_seq[d]) <= 0) {
        again = true;
    }
    if (!f->seq_known[d] || (int32_t) (end - f->next_seq[d]) > 0) {
        f->next_seq[d] = end;
        f->seq_known[d] = true;
    }
    return again;
}

void
pk_table_add(struct pk_table *t, double time, int dir, const struct pk_packet *p,
             struct pk_counts *counts)
{
    struct pk_flow *f;
    struct node **slot;
    int d = 0;

    if (counts) {
        counts->packets[p->service][dir ? 1 : 0]++;
        counts->bytes[p->service][dir ? 1 : 0] += p->wirelen;
        if (p->ipv4 && p->proto == 6 && p->ports && (p->tcp_flags & PK_RST)) {
            counts->resets++;
        }
    }
    if (!p->ipv4) {
        return;
    }
    f = find(t, p, &d, &slot);
    if (!f) {
        struct node *n = xcalloc(1, sizeof *n);

        if (t->n + 1 > t->nbuckets) {
            grow(t);
            find(t, p, &d, &slot);
        }
        n->next = *slot;
        *slot = n;
        t->n++;
        f = &n->f;
        f->proto = p->proto;
        f->fwd_ip = p->src;
        f->fwd_port = p->sport;
        f->bwd_ip = p->dst;
        f->bwd_port = p->dport;
        f->service = p->service;
        f->first = time;
        d = 0;
    } else {
        pk_moments_add(&f->iat, time - f->last);
    }
    if (f->packets[d] > 0) {
        pk_moments_add(&f->iat_dir[d], time - f->last_dir[d]);
    }
    f->last = time;
    f->last_dir[d] = time;
    f->packets[d]++;
    f->bytes[d] += p->wirelen;
    f->payload[d] += p->payload;
    pk_moments_add(&f->size[d], p->wirelen);
    if (p->proto == 6 && p->ports) {
        for (int i = 0; i < 6; i++) {
            if (p->tcp_flags & (1u << i)) {
                f->flag_count[i]++;
            }
        }
        if (tcp_track(f, d, p)) {
            f->retransmissions[d]++;
            if (counts) {
                counts->retransmissions++;
            }
        }
        if (p->tcp_flags & PK_FIN) {
            f->fin[d] = true;
            f->fin_end[d] = p->seq + p->payload + 1;
        }
        /* A FIN is acknowledged by the other side's ACK past it.  Only
         * then is the connection over: a FIN sent again because its ACK
         * was lost, and that ACK, still belong to it. */
        if ((p->tcp_flags & PK_ACK) && f->fin[!d] &&
            (int32_t) (p->ack - f->fin_end[!d]) >= 0) {
            f->fin_acked[!d] = true;
        }
        if (p->tcp_flags & PK_RST) {
            f->rst = true;
        }
        if (f->rst || (f->fin_acked[0] && f->fin_acked[1])) {
            /* Ended: by a reset, or by the ACK of the second FIN. */
            t->fn(f, f->rst ? PK_END_RST : PK_END_FIN, t->arg);
            find(t, p, &d, &slot);
            unlink_node(t, slot);
        }
    }
}

void
pk_table_sweep(struct pk_table *t, double now)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct node **pp = &t->buckets[i];

        while (*pp) {
            struct pk_flow *f = &(*pp)->f;

            if (now - f->last > t->idle) {
                t->fn(f, PK_END_IDLE, t->arg);
                unlink_node(t, pp);
                continue;
            }
            /* A flow that was already going at the previous sweep and has
             * had packets since: an interim row. */
            if (t->swept && f->first < t->last_sweep && f->last >= t->last_sweep) {
                t->fn(f, PK_END_ACTIVE, t->arg);
            }
            pp = &(*pp)->next;
        }
    }
    t->last_sweep = now;
    t->swept = true;
}

void
pk_table_close(struct pk_table *t)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (struct node *n = t->buckets[i]; n; n = n->next) {
            t->fn(&n->f, PK_END_CLOSE, t->arg);
        }
    }
    drop_all(t);
}

const char *const pk_flow_columns[] = {
    "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "service", "start_s", "duration_s",
    "end", "fwd_packets", "bwd_packets", "fwd_bytes", "bwd_bytes", "fwd_payload",
    "bwd_payload", "fwd_size_min", "fwd_size_mean", "fwd_size_max", "fwd_size_std",
    "bwd_size_min", "bwd_size_mean", "bwd_size_max", "bwd_size_std", "iat_min", "iat_mean",
    "iat_max", "iat_std", "fwd_iat_min", "fwd_iat_mean", "fwd_iat_max", "fwd_iat_std",
    "bwd_iat_min", "bwd_iat_mean", "bwd_iat_max", "bwd_iat_std", "fin", "syn", "rst", "psh",
    "ack", "urg", "fwd_retransmissions", "bwd_retransmissions", "bytes_per_s",
    "packets_per_s", NULL,
};

static void
put_ip(struct sr_buf *b, uint32_t a)
{
    sr_buf_printf(b, "%u.%u.%u.%u,", a >> 24, a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
}

/* min, mean, max, std; empty cells when there is nothing to describe. */
static void
put_moments(struct sr_buf *b, const struct pk_moments *m, int decimals)
{
    if (m->n == 0) {
        sr_buf_puts(b, ",,,,");
        return;
    }
    sr_buf_printf(b, "%.*f,%.*f,%.*f,%.*f,", decimals, m->min, decimals, m->mean, decimals,
                  m->max, decimals, pk_moments_std(m));
}

void
pk_flow_csv(struct sr_buf *b, const struct pk_flow *f, enum pk_end why, double t0)
{
    double duration = f->last - f->first;
    uint64_t packets = f->packets[0] + f->packets[1], bytes = f->bytes[0] + f->bytes[1];

    put_ip(b, f->fwd_ip);
    sr_buf_printf(b, "%u,", f->fwd_port);
    put_ip(b, f->bwd_ip);
    sr_buf_printf(b, "%u,%u,%s,%.6f,%.6f,%s,", f->bwd_port, f->proto,
                  pk_service_names[f->service], f->first - t0, duration, pk_end_names[why]);
    sr_buf_printf(b, "%llu,%llu,%llu,%llu,%llu,%llu,", (unsigned long long) f->packets[0],
                  (unsigned long long) f->packets[1], (unsigned long long) f->bytes[0],
                  (unsigned long long) f->bytes[1], (unsigned long long) f->payload[0],
                  (unsigned long long) f->payload[1]);
    put_moments(b, &f->size[0], 1);
    put_moments(b, &f->size[1], 1);
    put_moments(b, &f->iat, 6);
    put_moments(b, &f->iat_dir[0], 6);
    put_moments(b, &f->iat_dir[1], 6);
    for (int i = 0; i < 6; i++) {
        sr_buf_printf(b, "%u,", f->flag_count[i]);
    }
    sr_buf_printf(b, "%llu,%llu,", (unsigned long long) f->retransmissions[0],
                  (unsigned long long) f->retransmissions[1]);
    if (duration > 0) {
        sr_buf_printf(b, "%.1f,%.3f", (double) bytes / duration, (double) packets / duration);
    } else {
        sr_buf_putc(b, ',');
    }
}
