/* Unit tests of the packet dissector, the per-service counts and the flow
 * table (collector/packets.c), on frames built here byte by byte, with the
 * figures worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "buf.h"
#include "packets.h"
#include "util.h"

#define IP(a, b, c, d) ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (d))

/* cmocka 1.1.5 compares floats as float; these are doubles. */
#define assert_near(a, b, eps) assert_true(fabs((double) (a) - (double) (b)) <= (eps))

static const uint32_t client = IP(10, 1, 0, 1), server = IP(10, 0, 1, 1);

struct frame {
    uint8_t b[1600];
    size_t len;
};

static void
put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* An Ethernet + IPv4 + TCP (proto 6) or UDP (17) frame with 'payload'
 * bytes of data; 'vlan' adds an 802.1Q tag. */
static struct frame
ip_frame(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
         uint8_t flags, uint32_t seq, unsigned payload, bool vlan)
{
    struct frame f = { { 0 }, 0 };
    size_t off = 12, l4hdr = proto == 6 ? 20 : 8;

    memcpy(f.b, "\x02\x00\x0a\x00\x01\x01", 6);
    memcpy(f.b + 6, "\x02\x00\x0a\x01\x00\x01", 6);
    if (vlan) {
        put16(f.b + off, 0x8100);
        put16(f.b + off + 2, 7);
        off += 4;
    }
    put16(f.b + off, 0x0800);
    off += 2;
    f.b[off] = 0x45;
    put16(f.b + off + 2, (unsigned) (20 + l4hdr + payload));
    f.b[off + 8] = 64;
    f.b[off + 9] = proto;
    put32(f.b + off + 12, src);
    put32(f.b + off + 16, dst);
    off += 20;
    put16(f.b + off, sport);
    put16(f.b + off + 2, dport);
    if (proto == 6) {
        put32(f.b + off + 4, seq);
        f.b[off + 12] = 5 << 4;
        f.b[off + 13] = flags;
    } else {
        put16(f.b + off + 4, (unsigned) (8 + payload));
    }
    f.len = off + l4hdr + payload;
    return f;
}

/* 'f' (a TCP frame of ip_frame) acknowledging 'ack'. */
static struct frame
acking(struct frame f, uint32_t ack)
{
    size_t l4 = 14 + 20 + (f.b[12] == 0x81 && f.b[13] == 0x00 ? 4 : 0);

    put32(f.b + l4 + 8, ack);
    return f;
}

static struct pk_packet
dissect(const struct frame *f)
{
    struct pk_packet p;

    assert_true(pk_dissect(f->b, f->len, (uint32_t) f->len, &p));
    return p;
}

static void
test_dissect_classifies_by_port_and_ethertype(void **state)
{
    struct frame f;
    struct pk_packet p;

    (void) state;
    f = ip_frame(6, client, 40000, server, 80, PK_SYN, 100, 0, false);
    p = dissect(&f);
    assert_true(p.ipv4);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.src, client);
    assert_int_equal(p.dst, server);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 80);
    assert_int_equal(p.tcp_flags, PK_SYN);
    assert_int_equal(p.seq, 100);
    assert_int_equal(p.payload, 0);
    assert_int_equal(p.service, PK_WEB);
    assert_int_equal(p.wirelen, 54);

    /* The server's answer: the well-known port is the source. */
    f = ip_frame(6, server, 80, client, 40000, PK_ACK | PK_PSH, 7, 1000, false);
    p = dissect(&f);
    assert_int_equal(p.service, PK_WEB);
    assert_int_equal(p.payload, 1000);

    f = ip_frame(17, server, 40001, client, 5004, 0, 0, 1200, false);
    assert_int_equal(dissect(&f).service, PK_VIDEO);
    assert_int_equal(dissect(&f).payload, 1200);
    f = ip_frame(6, client, 40002, server, 554, PK_SYN, 1, 0, false);
    assert_int_equal(dissect(&f).service, PK_RTSP);
    f = ip_frame(6, client, 40003, server, 25, PK_SYN, 1, 0, false);
    assert_int_equal(dissect(&f).service, PK_MAIL);
    f = ip_frame(6, client, 5222, server, 40004, PK_ACK, 1, 10, false);
    assert_int_equal(dissect(&f).service, PK_CHAT);
    f = ip_frame(6, client, 40005, server, 6881, PK_ACK, 1, 10, false);
    assert_int_equal(dissect(&f).service, PK_P2P);
    f = ip_frame(17, client, 7777, IP(10, 255, 255, 255), 7777, 0, 0, 40, false);
    assert_int_equal(dissect(&f).service, PK_BROADCAST);
    /* UDP to port 80 is not the web, TCP to 5004 is not video. */
    f = ip_frame(17, client, 40006, server, 80, 0, 0, 10, false);
    assert_int_equal(dissect(&f).service, PK_OTHER);
    f = ip_frame(6, client, 40007, server, 5004, PK_SYN, 0, 0, false);
    assert_int_equal(dissect(&f).service, PK_OTHER);

    /* A VLAN tag in front. */
    f = ip_frame(6, client, 40000, server, 80, PK_ACK, 100, 5, true);
    p = dissect(&f);
    assert_int_equal(p.ethertype, 0x0800);
    assert_int_equal(p.service, PK_WEB);
    assert_int_equal(p.payload, 5);

    /* ARP and LLDP by ethertype. */
    f = ip_frame(6, client, 1, server, 2, 0, 0, 0, false);
    put16(f.b + 12, 0x0806);
    assert_int_equal(dissect(&f).service, PK_ARP);
    assert_false(dissect(&f).ipv4);
    put16(f.b + 12, 0x88cc);
    assert_int_equal(dissect(&f).service, PK_LLDP);
}

static void
test_dissect_survives_short_frames(void **state)
{
    struct frame f = ip_frame(6, client, 40000, server, 80, PK_SYN, 1, 0, false);
    struct pk_packet p;

    (void) state;
    assert_false(pk_dissect(f.b, 13, 60, &p));
    /* Every length from the Ethernet header up: never past the bytes. */
    for (size_t n = 14; n <= f.len; n++) {
        uint8_t *copy = xmalloc(n);

        memcpy(copy, f.b, n);
        assert_true(pk_dissect(copy, n, (uint32_t) f.len, &p));
        assert_int_equal(p.service, n < f.len ? PK_OTHER : PK_WEB);
        free(copy);
    }
    /* An IP header length below 20, a total length below the header. */
    f.b[14] = 0x44;
    assert_true(pk_dissect(f.b, f.len, (uint32_t) f.len, &p));
    assert_false(p.ipv4);
    f.b[14] = 0x45;
    put16(f.b + 16, 10);
    assert_true(pk_dissect(f.b, f.len, (uint32_t) f.len, &p));
    assert_false(p.ipv4);
    /* A later fragment: IPv4, no ports. */
    f = ip_frame(17, client, 40000, server, 5004, 0, 0, 100, false);
    put16(f.b + 20, 0x00b9);
    assert_true(pk_dissect(f.b, f.len, (uint32_t) f.len, &p));
    assert_true(p.ipv4);
    assert_false(p.ports);
    assert_int_equal(p.service, PK_OTHER);
}

struct seen {
    struct pk_flow flows[8];
    enum pk_end why[8];
    size_t n, total;
};

static void
remember(const struct pk_flow *f, enum pk_end why, void *arg)
{
    struct seen *s = arg;

    if (s->n < 8) {
        s->flows[s->n] = *f;
        s->why[s->n] = why;
        s->n++;
    }
    s->total++;
}

static void
add(struct pk_table *t, double time, int dir, struct frame f, struct pk_counts *c)
{
    struct pk_packet p = dissect(&f);

    pk_table_add(t, time, dir, &p, c);
}

/* A page fetch as the client's interface sees it: handshake, request,
 * two segments of answer, FIN each way, the last ACK. */
static void
test_flow_of_a_page_fetch(void **state)
{
    struct seen s = { 0 };
    struct pk_counts c = { 0 };
    struct pk_table *t = pk_table_new(60, remember, &s);
    struct sr_buf b;

    (void) state;
    add(t, 10.0, 1, ip_frame(6, client, 40000, server, 80, PK_SYN, 1000, 0, false), &c);
    add(t, 10.1, 0, ip_frame(6, server, 80, client, 40000, PK_SYN | PK_ACK, 5000, 0, false), &c);
    add(t, 10.2, 1, ip_frame(6, client, 40000, server, 80, PK_ACK, 1001, 0, false), &c);
    add(t, 10.3, 1, ip_frame(6, client, 40000, server, 80, PK_ACK | PK_PSH, 1001, 100, false), &c);
    add(t, 10.5, 0, ip_frame(6, server, 80, client, 40000, PK_ACK, 5001, 1000, false), &c);
    add(t, 10.6, 0, ip_frame(6, server, 80, client, 40000, PK_ACK | PK_PSH, 6001, 500, false), &c);
    add(t, 10.7, 1, ip_frame(6, client, 40000, server, 80, PK_ACK | PK_FIN, 1101, 0, false), &c);
    add(t, 10.8, 0,
        acking(ip_frame(6, server, 80, client, 40000, PK_ACK | PK_FIN, 6501, 0, false), 1102),
        &c);
    assert_int_equal(s.n, 0);
    assert_int_equal(pk_table_size(t), 1);
    add(t, 10.9, 1, acking(ip_frame(6, client, 40000, server, 80, PK_ACK, 1102, 0, false), 6502),
        &c);
    assert_int_equal(s.n, 1);
    assert_int_equal(pk_table_size(t), 0);

    const struct pk_flow *f = &s.flows[0];
    assert_int_equal(s.why[0], PK_END_FIN);
    assert_int_equal(f->fwd_ip, client);
    assert_int_equal(f->fwd_port, 40000);
    assert_int_equal(f->service, PK_WEB);
    assert_int_equal(f->packets[0], 5);
    assert_int_equal(f->packets[1], 4);
    /* 54-byte frames without data: forward 4 × 54 + 154, backward
     * 54 + 1054 + 554 + 54. */
    assert_int_equal(f->bytes[0], 4 * 54 + 154);
    assert_int_equal(f->bytes[1], 54 + 1054 + 554 + 54);
    assert_int_equal(f->payload[0], 100);
    assert_int_equal(f->payload[1], 1500);
    assert_near(f->last - f->first, 0.9, 1e-9);
    assert_near(f->size[1].min, 54, 1e-9);
    assert_near(f->size[1].max, 1054, 1e-9);
    assert_near(f->size[1].mean, (54 + 1054 + 554 + 54) / 4.0, 1e-9);
    /* Inter-arrival: nine packets 0.1 s apart but one gap of 0.2 s. */
    assert_int_equal(f->iat.n, 8);
    assert_near(f->iat.min, 0.1, 1e-9);
    assert_near(f->iat.max, 0.2, 1e-9);
    assert_near(f->iat.mean, 0.9 / 8, 1e-9);
    /* Forward packets at 10.0, 10.2, 10.3, 10.7, 10.9. */
    assert_int_equal(f->iat_dir[0].n, 4);
    assert_near(f->iat_dir[0].max, 0.4, 1e-9);
    assert_int_equal(f->flag_count[1], 2); /* SYN */
    assert_int_equal(f->flag_count[0], 2); /* FIN */
    assert_int_equal(f->flag_count[4], 8); /* ACK */
    assert_int_equal(f->flag_count[3], 2); /* PSH */
    assert_int_equal(f->retransmissions[0] + f->retransmissions[1], 0);

    assert_int_equal(c.packets[PK_WEB][1], 5);
    assert_int_equal(c.packets[PK_WEB][0], 4);
    assert_int_equal(c.bytes[PK_WEB][0], 54 + 1054 + 554 + 54);
    assert_int_equal(c.retransmissions, 0);

    /* The row: as many cells as columns, the figures above in it. */
    sr_buf_init(&b);
    pk_flow_csv(&b, f, s.why[0], 0);
    size_t cells = 1, columns = 0;
    for (const char *p = sr_buf_cstr(&b); *p; p++) {
        cells += *p == ',';
    }
    while (pk_flow_columns[columns]) {
        columns++;
    }
    assert_int_equal(cells, columns);
    assert_non_null(strstr(sr_buf_cstr(&b),
                           "10.1.0.1,40000,10.0.1.1,80,6,web,10.000000,0.900000,fin,5,4,370,"
                           "1716,100,1500,"));
    sr_buf_release(&b);
    pk_table_free(t);
}

/* A close whose second FIN is lost on its way (seen on a busy machine, at
 * the server's interface): the client's FIN, the server's FIN acking it,
 * the client's FIN again (it missed the server's), the server's ACK of it
 * -- which is not the ACK of the second FIN --, the server's FIN again and
 * at last the client's ACK of it.  One flow, ended by that last ACK; before
 * it, the flow goes on, and the two packets after the server's ACK are not
 * a flow of their own. */
static void
test_flow_ends_when_both_fins_are_acknowledged(void **state)
{
    struct seen s = { 0 };
    struct pk_table *t = pk_table_new(60, remember, &s);

    (void) state;
    add(t, 1.0, 0, acking(ip_frame(6, client, 54930, server, 80, PK_ACK, 78, 0, false), 27731),
        NULL);
    add(t, 16.30, 0,
        acking(ip_frame(6, client, 54930, server, 80, PK_ACK | PK_FIN, 78, 0, false), 27731),
        NULL);
    add(t, 16.31, 1,
        acking(ip_frame(6, server, 80, client, 54930, PK_ACK | PK_FIN, 27731, 0, false), 79),
        NULL);
    add(t, 16.50, 0,
        acking(ip_frame(6, client, 54930, server, 80, PK_ACK | PK_FIN, 78, 0, false), 27731),
        NULL);
    add(t, 16.51, 1, acking(ip_frame(6, server, 80, client, 54930, PK_ACK, 27732, 0, false), 79),
        NULL);
    assert_int_equal(s.n, 0);
    assert_int_equal(pk_table_size(t), 1);
    add(t, 16.52, 1,
        acking(ip_frame(6, server, 80, client, 54930, PK_ACK | PK_FIN, 27731, 0, false), 79),
        NULL);
    assert_int_equal(s.n, 0);
    add(t, 16.53, 0, acking(ip_frame(6, client, 54930, server, 80, PK_ACK, 79, 0, false), 27732),
        NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(pk_table_size(t), 0);
    assert_int_equal(s.why[0], PK_END_FIN);
    assert_int_equal(s.flows[0].packets[0], 4);
    assert_int_equal(s.flows[0].packets[1], 3);
    /* The FINs sent again are retransmissions, one each way. */
    assert_int_equal(s.flows[0].retransmissions[0], 1);
    assert_int_equal(s.flows[0].retransmissions[1], 1);
    /* A FIN each way but no ACK of the second: not over until idle. */
    add(t, 20.0, 0, acking(ip_frame(6, client, 41000, server, 80, PK_ACK | PK_FIN, 5, 0, false), 9),
        NULL);
    add(t, 20.1, 1, acking(ip_frame(6, server, 80, client, 41000, PK_ACK | PK_FIN, 9, 0, false), 6),
        NULL);
    add(t, 20.2, 0, acking(ip_frame(6, client, 41000, server, 80, PK_ACK, 6, 0, false), 9), NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(pk_table_size(t), 1);
    add(t, 20.3, 0, acking(ip_frame(6, client, 41000, server, 80, PK_ACK, 6, 0, false), 10), NULL);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.why[1], PK_END_FIN);
    pk_table_free(t);
}

static void
test_retransmissions_and_resets(void **state)
{
    struct seen s = { 0 };
    struct pk_counts c = { 0 };
    struct pk_table *t = pk_table_new(60, remember, &s);

    (void) state;
    add(t, 1.0, 1, ip_frame(6, client, 40000, server, 6881, PK_ACK, 100, 500, false), &c);
    add(t, 1.1, 1, ip_frame(6, client, 40000, server, 6881, PK_ACK, 600, 500, false), &c);
    /* The first segment again, and part of the second: both seen before. */
    add(t, 1.5, 1, ip_frame(6, client, 40000, server, 6881, PK_ACK, 100, 500, false), &c);
    add(t, 1.6, 1, ip_frame(6, client, 40000, server, 6881, PK_ACK, 700, 400, false), &c);
    /* New data, and an empty ACK (never a retransmission). */
    add(t, 1.7, 1, ip_frame(6, client, 40000, server, 6881, PK_ACK, 1100, 500, false), &c);
    add(t, 1.8, 0, ip_frame(6, server, 6881, client, 40000, PK_ACK, 9, 0, false), &c);
    add(t, 1.9, 0, ip_frame(6, server, 6881, client, 40000, PK_ACK, 9, 0, false), &c);
    assert_int_equal(c.retransmissions, 2);
    assert_int_equal(s.n, 0);
    /* Sequence numbers that wrap are new data, not old. */
    add(t, 2.0, 1, ip_frame(6, client, 40001, server, 80, PK_ACK, 0xfffffe00u, 0x100, false), &c);
    add(t, 2.1, 1, ip_frame(6, client, 40001, server, 80, PK_ACK, 0xffffff00u, 0x200, false), &c);
    assert_int_equal(c.retransmissions, 2);
    /* A reset ends the flow at once. */
    add(t, 2.0, 0, ip_frame(6, server, 6881, client, 40000, PK_RST, 9, 0, false), &c);
    assert_int_equal(c.resets, 1);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.why[0], PK_END_RST);
    assert_int_equal(s.flows[0].retransmissions[0], 2);
    assert_int_equal(s.flows[0].flag_count[2], 1);
    assert_int_equal(pk_table_size(t), 1);
    pk_table_free(t);
}

static void
test_sweeps_report_long_flows_and_end_idle_ones(void **state)
{
    struct seen s = { 0 };
    struct pk_table *t = pk_table_new(5, remember, &s);

    (void) state;
    /* A video stream over 20 s, and a broadcast at 1 s only. */
    add(t, 1.0, 0, ip_frame(17, client, 7777, IP(10, 255, 255, 255), 7777, 0, 0, 40, false),
        NULL);
    for (int i = 0; i <= 20; i++) {
        add(t, 0.5 + i, 0, ip_frame(17, server, 40000, client, 5004, 0, 0, 1000, false), NULL);
        if (i == 1 || i == 2 || i == 10) {
            pk_table_sweep(t, 1.0 + i);
        }
    }
    /* The sweep at 2 only sets the mark.  At 3 the stream (begun before 2,
     * with packets since) is reported as still going; the broadcast, silent
     * since 1, is not. */
    assert_int_equal(s.why[0], PK_END_ACTIVE);
    assert_int_equal(s.flows[0].service, PK_VIDEO);
    assert_int_equal(s.flows[0].packets[0], 3);
    /* At 11 the broadcast has been idle for 10 s > 5 and ends; the stream
     * is reported again (in the table's order). */
    assert_int_equal(s.n, 3);
    int idle = s.flows[1].service == PK_BROADCAST ? 1 : 2;
    assert_int_equal(s.why[idle], PK_END_IDLE);
    assert_int_equal(s.flows[idle].service, PK_BROADCAST);
    assert_int_equal(s.why[3 - idle], PK_END_ACTIVE);
    assert_int_equal(s.flows[3 - idle].packets[0], 11);
    assert_int_equal(pk_table_size(t), 1);
    pk_table_close(t);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.why[3], PK_END_CLOSE);
    assert_int_equal(s.flows[3].packets[0], 21);
    assert_int_equal(pk_table_size(t), 0);
    pk_table_free(t);
}

static void
test_many_flows(void **state)
{
    struct seen s = { 0 };
    struct pk_table *t = pk_table_new(60, remember, &s);

    (void) state;
    for (unsigned i = 0; i < 20000; i++) {
        add(t, 1.0, 1, ip_frame(17, client + i % 200, (uint16_t) (1024 + i / 200), server, 5004,
                                0, 0, 10, false), NULL);
    }
    assert_int_equal(pk_table_size(t), 20000);
    /* The answers join their flows rather than making new ones. */
    for (unsigned i = 0; i < 20000; i += 7) {
        add(t, 2.0, 0, ip_frame(17, server, 5004, client + i % 200, (uint16_t) (1024 + i / 200),
                                0, 0, 10, false), NULL);
    }
    assert_int_equal(pk_table_size(t), 20000);
    pk_table_close(t);
    assert_int_equal(s.total, 20000);
    pk_table_free(t);
}

static void
test_moments(void **state)
{
    struct pk_moments m = { 0 };
    const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

    (void) state;
    assert_near(pk_moments_std(&m), 0, 0);
    for (size_t i = 0; i < SR_ARRAY_SIZE(x); i++) {
        pk_moments_add(&m, x[i]);
    }
    assert_near(m.mean, 5, 1e-12);
    assert_near(pk_moments_std(&m), 2, 1e-12);
    assert_near(m.min, 2, 0);
    assert_near(m.max, 9, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dissect_classifies_by_port_and_ethertype),
        cmocka_unit_test(test_dissect_survives_short_frames),
        cmocka_unit_test(test_flow_of_a_page_fetch),
        cmocka_unit_test(test_flow_ends_when_both_fins_are_acknowledged),
        cmocka_unit_test(test_retransmissions_and_resets),
        cmocka_unit_test(test_sweeps_report_long_flows_and_end_idle_ones),
        cmocka_unit_test(test_many_flows),
        cmocka_unit_test(test_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
