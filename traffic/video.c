/* video: an RTSP server (OPTIONS, DESCRIBE with SDP, SETUP, PLAY, TEARDOWN
 * over TCP) that streams RTP over UDP at the bitrate the client asks for,
 * with a frame pattern (an I frame every 'gop' frames, four times a P
 * frame's size, 25 frames a second), and an RTSP client that measures what
 * a viewer would feel: received bitrate, RTP loss from sequence numbers,
 * interarrival jitter (RFC 3550 §6.4.1) and stalls (no packet for a
 * second).
 *
 * The stream is announced as H.264 (RFC 6184, FU-A fragments) with a real
 * sequence and picture parameter set for 320x240, so RTSP clients such as
 * ffprobe recognise it; the slice data itself is filler.
 *
 * Plan: "video": {"serve": true, "servers": ["10.0.1.1"], "bitrate_kbps": 1500} */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "services.h"
#include "util.h"

#define FPS 25
#define GOP 12
#define RTP_PAYLOAD 1200
#define CLOCK 90000

/* ---- H.264 parameter sets, written bit by bit (ITU-T H.264 §7.3.2) ---- */

struct bits {
    uint8_t b[64];
    size_t n; /* bits written */
};

static void
put_bit(struct bits *w, int v)
{
    if (v) {
        w->b[w->n / 8] |= (uint8_t) (0x80 >> (w->n % 8));
    }
    w->n++;
}

static void
put_u(struct bits *w, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        put_bit(w, (v >> i) & 1);
    }
}

/* Exp-Golomb ue(v). */
static void
put_ue(struct bits *w, unsigned v)
{
    unsigned x = v + 1;
    int len = 0;

    while ((x >> len) > 1) {
        len++;
    }
    put_u(w, 0, len);
    put_u(w, x, len + 1);
}

static void
put_se(struct bits *w, int v)
{
    put_ue(w, v <= 0 ? (unsigned) (-2 * v) : (unsigned) (2 * v - 1));
}

static size_t
finish_rbsp(struct bits *w)
{
    put_bit(w, 1); /* rbsp_stop_one_bit, then zero bits to the byte */
    while (w->n % 8) {
        put_bit(w, 0);
    }
    return w->n / 8;
}

static void
base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned) in[i] << 16 | (i + 1 < n ? (unsigned) in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);

        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* "sprop-parameter-sets": SPS (Baseline, level 1.3, 320x240) and PPS. */
static void
parameter_sets(char *out, size_t size)
{
    struct bits sps = { { 0 }, 0 }, pps = { { 0 }, 0 };
    char a[64], b[64];
    size_t n;

    put_u(&sps, 0x67, 8);   /* NAL header: nal_ref_idc 3, type 7 (SPS) */
    put_u(&sps, 66, 8);     /* profile_idc: Baseline */
    put_u(&sps, 0xC0, 8);   /* constraint_set0/1 */
    put_u(&sps, 13, 8);     /* level_idc 1.3 */
    put_ue(&sps, 0);        /* seq_parameter_set_id */
    put_ue(&sps, 0);        /* log2_max_frame_num_minus4 */
    put_ue(&sps, 2);        /* pic_order_cnt_type */
    put_ue(&sps, 1);        /* max_num_ref_frames */
    put_bit(&sps, 0);       /* gaps_in_frame_num_value_allowed_flag */
    put_ue(&sps, 320 / 16 - 1);
    put_ue(&sps, 240 / 16 - 1);
    put_bit(&sps, 1);       /* frame_mbs_only_flag */
    put_bit(&sps, 1);       /* direct_8x8_inference_flag */
    put_bit(&sps, 0);       /* frame_cropping_flag */
    put_bit(&sps, 0);       /* vui_parameters_present_flag */
    n = finish_rbsp(&sps);
    base64(sps.b, n, a);
    put_u(&pps, 0x68, 8);   /* NAL header: type 8 (PPS) */
    put_ue(&pps, 0);        /* pic_parameter_set_id */
    put_ue(&pps, 0);        /* seq_parameter_set_id */
    put_bit(&pps, 0);       /* entropy_coding_mode_flag (CAVLC) */
    put_bit(&pps, 0);       /* bottom_field_pic_order_in_frame_present_flag */
    put_ue(&pps, 0);        /* num_slice_groups_minus1 */
    put_ue(&pps, 0);        /* num_ref_idx_l0_default_active_minus1 */
    put_ue(&pps, 0);        /* num_ref_idx_l1_default_active_minus1 */
    put_bit(&pps, 0);       /* weighted_pred_flag */
    put_u(&pps, 0, 2);      /* weighted_bipred_idc */
    put_se(&pps, 0);        /* pic_init_qp_minus26 */
    put_se(&pps, 0);        /* pic_init_qs_minus26 */
    put_se(&pps, 0);        /* chroma_qp_index_offset */
    put_bit(&pps, 1);       /* deblocking_filter_control_present_flag */
    put_bit(&pps, 0);       /* constrained_intra_pred_flag */
    put_bit(&pps, 0);       /* redundant_pic_cnt_present_flag */
    n = finish_rbsp(&pps);
    base64(pps.b, n, b);
    snprintf(out, size, "%s,%s", a, b);
}

/* ---- the server ---- */

struct stream {
    struct video *v;
    int ctl_fd, rtp_fd;
    struct sockaddr_in client;  /* where RTP goes */
    char buf[4096];
    size_t len;
    unsigned session;
    uint32_t ssrc, ts;
    uint16_t seq;
    long frame;
    double kbps;
    uint64_t timer;
    bool playing;
};

struct viewer;

struct video {
    struct tr_agent *a;
    double bitrate_kbps;
    char sprop[256];
    /* The client side: every viewer of this host shares one RTP socket on
     * the video port; packets go to the viewer whose SSRC they carry. */
    int rtp_fd;
    struct viewer **viewers;
    size_t nviewers, cap;
};

static void
stream_close(struct tr_agent *a, struct stream *s)
{
    if (s->timer) {
        tr_cancel(a, s->timer);
    }
    tr_unwatch(a, s->ctl_fd);
    close(s->ctl_fd);
    if (s->rtp_fd >= 0) {
        close(s->rtp_fd);
    }
    free(s);
}

/* One frame's RTP packets (FU-A fragments of one NAL unit). */
static void
send_frame(struct tr_agent *a, void *ctx)
{
    struct stream *s = ctx;
    bool idr = s->frame % GOP == 0;
    /* Per GOP: one I frame of weight 4 and GOP-1 P frames of weight 1. */
    double gop_bytes = s->kbps * 1000.0 / 8.0 * GOP / FPS;
    size_t size = (size_t) (gop_bytes * (idr ? 4.0 : 1.0) / (GOP - 1 + 4.0));
    uint8_t pkt[12 + 2 + RTP_PAYLOAD];

    s->timer = tr_after(a, 1.0 / FPS, send_frame, s);
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off > RTP_PAYLOAD ? RTP_PAYLOAD : size - off;
        bool last = off + chunk >= size;

        pkt[0] = 0x80;                                  /* V=2 */
        pkt[1] = (uint8_t) (96 | (last ? 0x80 : 0));    /* marker on a frame's end */
        pkt[2] = (uint8_t) (s->seq >> 8);
        pkt[3] = (uint8_t) s->seq;
        pkt[4] = (uint8_t) (s->ts >> 24);
        pkt[5] = (uint8_t) (s->ts >> 16);
        pkt[6] = (uint8_t) (s->ts >> 8);
        pkt[7] = (uint8_t) s->ts;
        pkt[8] = (uint8_t) (s->ssrc >> 24);
        pkt[9] = (uint8_t) (s->ssrc >> 16);
        pkt[10] = (uint8_t) (s->ssrc >> 8);
        pkt[11] = (uint8_t) s->ssrc;
        pkt[12] = 0x7C;                                 /* FU indicator: NRI 3, type 28 */
        pkt[13] = (uint8_t) ((off == 0 ? 0x80 : 0) | (last ? 0x40 : 0) | (idr ? 5 : 1));
        memset(pkt + 14, (int) (s->frame & 0xff), chunk);
        sendto(s->rtp_fd, pkt, 14 + chunk, MSG_DONTWAIT, (struct sockaddr *) &s->client,
               sizeof s->client);
        s->seq++;
        off += chunk;
    }
    s->ts += CLOCK / FPS;
    s->frame++;
}

static const char *
header(const char *req, const char *name, char *out, size_t size)
{
    const char *p = req;
    size_t n = strlen(name);

    while ((p = strchr(p, '\n'))) {
        p++;
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            size_t len;

            p += n + 1;
            while (*p == ' ') {
                p++;
            }
            len = strcspn(p, "\r\n");
            if (len >= size) {
                len = size - 1; /* a longer header is cut to what fits */
            }
            memcpy(out, p, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static void
reply(struct stream *s, const char *cseq, const char *extra, const char *body)
{
    struct sr_buf b = SR_BUF_INIT;

    sr_buf_printf(&b, "RTSP/1.0 200 OK\r\nCSeq: %s\r\n%s", cseq, extra ? extra : "");
    if (body) {
        sr_buf_printf(&b, "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                      strlen(body), body);
    } else {
        sr_buf_puts(&b, "\r\n");
    }
    send(s->ctl_fd, b.data, b.len, MSG_NOSIGNAL);
    sr_buf_release(&b);
}

static void
handle_request(struct tr_agent *a, struct stream *s, char *req)
{
    char method[16] = "", url[256] = "", cseq[16] = "0", transport[256], extra[512], sdp[1024];
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    const char *q;

    {
        size_t m = strcspn(req, " ");
        size_t u;

        snprintf(method, sizeof method, "%.*s", (int) (m < sizeof method ? m : sizeof method - 1), req);
        u = strcspn(req + m + 1, " ");
        snprintf(url, sizeof url, "%.*s", (int) (u < sizeof url ? u : sizeof url - 1), req + m + 1);
    }
    header(req, "CSeq", cseq, sizeof cseq);
    if ((q = strstr(url, "kbps="))) {
        double k = strtod(q + 5, NULL);

        if (k > 0 && k < 1e6) {
            s->kbps = k;
        }
    }
    if (!strcmp(method, "OPTIONS")) {
        reply(s, cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n", NULL);
    } else if (!strcmp(method, "DESCRIBE")) {
        getsockname(s->ctl_fd, (struct sockaddr *) &me, &len);
        snprintf(sdp, sizeof sdp,
                 "v=0\r\no=- %u 1 IN IP4 %s\r\ns=simrun video\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                 "b=AS:%d\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                 "a=fmtp:96 packetization-mode=1;profile-level-id=42C00D;"
                 "sprop-parameter-sets=%s\r\na=framerate:%d\r\na=control:track1\r\n",
                 s->session, inet_ntoa(me.sin_addr), (int) s->kbps, s->v->sprop, FPS);
        snprintf(extra, sizeof extra, "Content-Base: %s/\r\n", url);
        reply(s, cseq, extra, sdp);
    } else if (!strcmp(method, "SETUP")) {
        unsigned lo = 0, hi = 0;
        char *after;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;

        if (!header(req, "Transport", transport, sizeof transport) ||
            !(q = strstr(transport, "client_port="))) {
            send(s->ctl_fd, "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 0\r\n\r\n", 47,
                 MSG_NOSIGNAL);
            return;
        }
        lo = (unsigned) strtoul(q + 12, &after, 10);
        hi = *after == '-' ? (unsigned) strtoul(after + 1, NULL, 10) : lo + 1;
        getpeername(s->ctl_fd, (struct sockaddr *) &peer, &plen);
        s->client = peer;
        s->client.sin_port = htons((uint16_t) lo);
        if (s->rtp_fd < 0) {
            s->rtp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        }
        snprintf(extra, sizeof extra,
                 "Transport: RTP/AVP;unicast;client_port=%u-%u;server_port=%d-%d;ssrc=%08X\r\n"
                 "Session: %u;timeout=60\r\n",
                 lo, hi, SR_PORT_RTP + 2, SR_PORT_RTP + 3, s->ssrc, s->session);
        reply(s, cseq, extra, NULL);
    } else if (!strcmp(method, "PLAY")) {
        snprintf(extra, sizeof extra, "Session: %u\r\nRange: npt=0.000-\r\nRTP-Info: url=%s;"
                                      "seq=%u;rtptime=%u\r\n",
                 s->session, url, s->seq, s->ts);
        reply(s, cseq, extra, NULL);
        if (!s->playing && s->rtp_fd >= 0) {
            s->playing = true;
            send_frame(a, s);
        }
    } else if (!strcmp(method, "TEARDOWN")) {
        snprintf(extra, sizeof extra, "Session: %u\r\n", s->session);
        reply(s, cseq, extra, NULL);
        if (s->timer) {
            tr_cancel(a, s->timer);
            s->timer = 0;
        }
        s->playing = false;
    } else {
        snprintf(extra, sizeof extra, "RTSP/1.0 501 Not Implemented\r\nCSeq: %s\r\n\r\n", cseq);
        send(s->ctl_fd, extra, strlen(extra), MSG_NOSIGNAL);
    }
}

static void
stream_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct stream *s = ctx;
    ssize_t n = recv(fd, s->buf + s->len, sizeof s->buf - s->len - 1, 0);
    char *end;

    (void) events;
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        stream_close(a, s);
        return;
    }
    s->len += (size_t) n;
    s->buf[s->len] = '\0';
    while ((end = strstr(s->buf, "\r\n\r\n"))) {
        size_t used = (size_t) (end - s->buf) + 4;

        end[2] = '\0';
        handle_request(a, s, s->buf);
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
        s->buf[s->len] = '\0';
    }
    if (s->len == sizeof s->buf - 1) {
        stream_close(a, s); /* a request that never ends */
    }
}

static void
accept_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct video *v = ctx;

    (void) events;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct stream *s;

        if (c < 0) {
            return;
        }
        s = xcalloc(1, sizeof *s);
        s->v = v;
        s->ctl_fd = c;
        s->rtp_fd = -1;
        s->kbps = v->bitrate_kbps > 0 ? v->bitrate_kbps : 1500;
        s->session = (unsigned) sr_rng_below(tr_rng(a), 90000000) + 10000000;
        s->ssrc = (uint32_t) sr_rng_next(tr_rng(a));
        s->seq = (uint16_t) sr_rng_next(tr_rng(a));
        s->ts = (uint32_t) sr_rng_next(tr_rng(a));
        tr_watch(a, c, EPOLLIN, stream_io, s);
    }
}

/* ---- the client ---- */

struct viewer {
    struct video *v;
    char server[64];
    bool extra;               /* raised by a traffic fault, not in the plan */
    int ctl_fd;
    int step;                 /* requests sent: OPTIONS, DESCRIBE, SETUP, PLAY */
    char buf[4096], session[64];
    size_t len;
    bool playing;
    uint32_t ssrc;            /* the stream's, from the SETUP answer */
    bool have_ssrc;
    /* This second's counts. */
    uint64_t bytes, packets;
    /* Loss: highest sequence number seen (extended) and expected/received. */
    bool have_seq;
    uint32_t max_seq, base_seq, received;
    uint32_t prev_expected, prev_received;
    /* RFC 3550 jitter, in timestamp units. */
    double jitter, last_transit;
    bool have_transit;
    double last_packet, stall_since;
    long stalls;
    double stalled_s;
    uint64_t retry, report;   /* timers */
};

static void viewer_connect(struct tr_agent *a, void *ctx);

static void
viewer_send(struct viewer *w, const char *method, const char *extra)
{
    struct sr_buf req = SR_BUF_INIT;

    sr_buf_printf(&req, "%s rtsp://%s:%d/stream%s?kbps=%g RTSP/1.0\r\nCSeq: %d\r\n"
                        "User-Agent: simtraffic\r\n%s%s%s",
                  method, w->server, SR_PORT_RTSP, strcmp(method, "SETUP") ? "" : "/track1",
                  w->v->bitrate_kbps, w->step + 1, w->session[0] ? "Session: " : "",
                  w->session, w->session[0] ? "\r\n" : "");
    if (extra) {
        sr_buf_printf(&req, "%s\r\n", extra);
    }
    sr_buf_puts(&req, "\r\n");
    send(w->ctl_fd, req.data, req.len, MSG_NOSIGNAL);
    sr_buf_release(&req);
    w->step++;
}

static void
viewer_close(struct tr_agent *a, struct viewer *w)
{
    if (w->ctl_fd >= 0) {
        tr_unwatch(a, w->ctl_fd);
        close(w->ctl_fd);
        w->ctl_fd = -1;
    }
    w->playing = false;
    w->have_ssrc = false;
}

static void
viewer_fail(struct tr_agent *a, struct viewer *w, const char *why)
{
    tr_kpi(a, "video", w->server,
           w->extra ? json_pack("{s:b, s:s, s:b}", "ok", 0, "error", why, "extra", 1)
                    : json_pack("{s:b, s:s}", "ok", 0, "error", why));
    viewer_close(a, w);
    w->retry = tr_after(a, 2.0, viewer_connect, w);
}

/* One RTP packet of 'w''s stream. */
static void
viewer_packet(struct viewer *w, const uint8_t *pkt, size_t n)
{
    uint16_t seq = (uint16_t) (pkt[2] << 8 | pkt[3]);
    uint32_t ts = (uint32_t) pkt[4] << 24 | (uint32_t) pkt[5] << 16 | (uint32_t) pkt[6] << 8 |
                  pkt[7];
    double now = tr_mono(), transit = now * CLOCK - ts;

    w->bytes += n - 12;
    w->packets++;
    w->received++;
    if (!w->have_seq) {
        w->have_seq = true;
        w->base_seq = w->max_seq = seq;
    } else {
        uint16_t delta = (uint16_t) (seq - (uint16_t) w->max_seq);

        if (delta < 0x8000) {
            w->max_seq += delta; /* extended with wrap-arounds */
        }
    }
    if (w->have_transit) {
        double d = fabs(transit - w->last_transit);

        w->jitter += (d - w->jitter) / 16.0;
    }
    w->last_transit = transit;
    w->have_transit = true;
    if (w->stall_since > 0) {
        w->stalled_s += now - w->stall_since;
        w->stall_since = 0;
    }
    w->last_packet = now;
}

static void
rtp_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct video *v = ctx;
    uint8_t pkt[2048];
    ssize_t n;

    (void) a;
    (void) events;
    while ((n = recv(fd, pkt, sizeof pkt, 0)) >= 12) {
        uint32_t ssrc = (uint32_t) pkt[8] << 24 | (uint32_t) pkt[9] << 16 |
                        (uint32_t) pkt[10] << 8 | pkt[11];
        struct viewer *w = NULL;

        for (size_t i = 0; i < v->nviewers && !w; i++) {
            if (v->viewers[i]->have_ssrc && v->viewers[i]->ssrc == ssrc) {
                w = v->viewers[i];
            }
        }
        if (w) {
            viewer_packet(w, pkt, (size_t) n);
        }
        /* Otherwise a stream that was torn down and still drains. */
    }
}

/* Every second: what the viewer got. */
static void
viewer_report(struct tr_agent *a, void *ctx)
{
    struct viewer *w = ctx;
    double now = tr_mono();
    uint32_t expected = w->have_seq ? w->max_seq - w->base_seq + 1 : 0;
    uint32_t exp_int = expected - w->prev_expected, rec_int = w->received - w->prev_received;
    double loss = exp_int > 0 && exp_int > rec_int ? (double) (exp_int - rec_int) / exp_int : 0;
    bool stalled = w->playing && w->last_packet > 0 && now - w->last_packet > 1.0;

    w->report = tr_after(a, 1.0, viewer_report, w);
    if (stalled && w->stall_since == 0) {
        w->stall_since = w->last_packet;
        w->stalls++;
    }
    if (w->playing || w->packets) {
        json_t *m = json_pack("{s:b, s:f, s:I, s:f, s:f, s:b, s:I}", "ok", 1, "bitrate_kbps",
                              (double) w->bytes * 8.0 / 1000.0, "packets",
                              (json_int_t) w->packets, "loss", loss, "jitter_ms",
                              w->jitter / CLOCK * 1000.0, "stalled", stalled, "stalls",
                              (json_int_t) w->stalls);

        if (w->extra) {
            json_object_set_new(m, "extra", json_true());
        }
        tr_kpi(a, "video", w->server, m);
    }
    w->prev_expected = expected;
    w->prev_received = w->received;
    w->bytes = w->packets = 0;
}

/* The SSRC the server announced in its SETUP answer ("...;ssrc=1A2B3C4D"). */
static void
take_ssrc(struct viewer *w, const char *answer)
{
    char transport[256];
    const char *q;

    if (header(answer, "Transport", transport, sizeof transport) &&
        (q = strstr(transport, "ssrc="))) {
        w->ssrc = (uint32_t) strtoul(q + 5, NULL, 16);
        w->have_ssrc = true;
    }
}

static void
viewer_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    struct viewer *w = ctx;
    ssize_t n;
    char *end;

    if (w->step == 0) {
        int soerr = 0;
        socklen_t len = sizeof soerr;

        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr || (events & (EPOLLERR | EPOLLHUP))) {
            viewer_fail(a, w, soerr ? strerror(soerr) : "connection failed");
            return;
        }
        tr_rewatch(a, fd, EPOLLIN);
        viewer_send(w, "OPTIONS", NULL);
        return;
    }
    n = recv(fd, w->buf + w->len, sizeof w->buf - w->len - 1, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        viewer_fail(a, w, "the RTSP connection closed");
        return;
    }
    w->len += (size_t) n;
    w->buf[w->len] = '\0';
    while ((end = strstr(w->buf, "\r\n\r\n"))) {
        char clen[16], sess[64];
        size_t head = (size_t) (end - w->buf) + 4, body = 0;

        end[2] = '\0';
        if (header(w->buf, "Content-Length", clen, sizeof clen)) {
            body = strtoul(clen, NULL, 10);
        }
        if (w->len < head + body) {
            end[2] = '\r';
            return; /* the SDP is still coming */
        }
        if (strncmp(w->buf, "RTSP/1.0 200", 12)) {
            viewer_fail(a, w, "the server refused a request");
            return;
        }
        if (header(w->buf, "Session", sess, sizeof sess)) {
            sess[strcspn(sess, ";")] = '\0';
            snprintf(w->session, sizeof w->session, "%s", sess);
        }
        if (w->step == 3) {
            take_ssrc(w, w->buf);
        }
        memmove(w->buf, w->buf + head + body, w->len - head - body);
        w->len -= head + body;
        w->buf[w->len] = '\0';
        if (w->step == 1) {
            viewer_send(w, "DESCRIBE", "Accept: application/sdp");
        } else if (w->step == 2) {
            char t[96];

            snprintf(t, sizeof t, "Transport: RTP/AVP;unicast;client_port=%d-%d", SR_PORT_RTP,
                     SR_PORT_RTP + 1);
            viewer_send(w, "SETUP", t);
        } else if (w->step == 3) {
            if (!w->have_ssrc) {
                viewer_fail(a, w, "the server did not say which SSRC the stream has");
                return;
            }
            viewer_send(w, "PLAY", "Range: npt=0.000-");
        } else if (w->step == 4) {
            w->playing = true;
            w->last_packet = tr_mono();
        }
    }
}

static void
viewer_connect(struct tr_agent *a, void *ctx)
{
    struct viewer *w = ctx;
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(SR_PORT_RTSP) };

    w->retry = 0;
    w->step = 0;
    w->len = 0;
    w->session[0] = '\0';
    w->ctl_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, w->server, &to.sin_addr);
    if (connect(w->ctl_fd, (struct sockaddr *) &to, sizeof to) < 0 && errno != EINPROGRESS) {
        int e = errno;

        close(w->ctl_fd);
        w->ctl_fd = -1;
        viewer_fail(a, w, strerror(e));
        return;
    }
    tr_watch(a, w->ctl_fd, EPOLLOUT, viewer_io, w);
}

/* The host's video state, made on first use (a host that only serves, or
 * that watches nothing until a fault raises its traffic). */
static struct video *
video_of(struct tr_agent *a, double kbps)
{
    struct video **slot = tr_video_slot(a);

    if (!*slot) {
        *slot = xcalloc(1, sizeof **slot);
        (*slot)->a = a;
        (*slot)->rtp_fd = -1;
        (*slot)->bitrate_kbps = kbps > 0 ? kbps : 1500;
        parameter_sets((*slot)->sprop, sizeof (*slot)->sprop);
    }
    return *slot;
}

/* Opens the shared RTP socket on the video port. */
static int
rtp_open(struct tr_agent *a, struct video *v, struct sr_error *err)
{
    struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(SR_PORT_RTP) };
    int one = 1;

    if (v->rtp_fd >= 0) {
        return 0;
    }
    v->rtp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (v->rtp_fd >= 0) {
        setsockopt(v->rtp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (v->rtp_fd < 0 || bind(v->rtp_fd, (struct sockaddr *) &at, sizeof at) < 0) {
        int e = errno;

        if (v->rtp_fd >= 0) {
            close(v->rtp_fd);
        }
        v->rtp_fd = -1;
        return sr_error_set(err, SR_EIO, "cannot receive RTP on UDP port %d: %s", SR_PORT_RTP,
                            strerror(e));
    }
    return tr_watch(a, v->rtp_fd, EPOLLIN, rtp_io, v);
}

static void
viewer_add(struct tr_agent *a, struct video *v, const char *server, bool extra)
{
    struct viewer *w = xcalloc(1, sizeof *w);

    w->v = v;
    w->ctl_fd = -1;
    w->extra = extra;
    snprintf(w->server, sizeof w->server, "%s", server);
    xgrow((void **) &v->viewers, &v->cap, v->nviewers + 1, sizeof *v->viewers);
    v->viewers[v->nviewers++] = w;
    w->retry = tr_after(a, sr_rng_uniform(tr_rng(a), 0, 0.5), viewer_connect, w);
    w->report = tr_after(a, 1.0, viewer_report, w);
}

static void
viewer_free(struct tr_agent *a, struct viewer *w)
{
    viewer_close(a, w); /* the server stops the stream when the connection goes */
    tr_cancel(a, w->retry);
    tr_cancel(a, w->report);
    free(w);
}

int
tr_video_extra(struct tr_agent *a, size_t streams, json_t *servers, double load,
               struct sr_error *err)
{
    struct video *v = video_of(a, 0);
    size_t kept = 0, regular, nservers = json_array_size(servers), want;
    const char **to;

    /* Drop the extra viewers of the previous command. */
    for (size_t i = 0; i < v->nviewers; i++) {
        if (v->viewers[i]->extra) {
            viewer_free(a, v->viewers[i]);
        } else {
            v->viewers[kept++] = v->viewers[i];
        }
    }
    v->nviewers = regular = kept;
    /* 'streams' more from 'servers' round-robin, and with a load of L each
     * viewer of the plan watches L streams in all from its server. */
    want = (load > 1 ? (size_t) lround((load - 1) * (double) regular) : 0);
    to = xcalloc(streams + want + 1, sizeof *to);
    for (size_t i = 0; i < streams && nservers; i++) {
        to[i] = json_string_value(json_array_get(servers, i % nservers));
    }
    for (size_t i = 0; i < want; i++) {
        to[streams + i] = v->viewers[i % regular]->server;
    }
    want += nservers ? streams : 0;
    if (want && rtp_open(a, v, err) < 0) {
        free(to);
        return -SR_EIO;
    }
    for (size_t i = 0; i < want; i++) {
        if (to[i]) {
            viewer_add(a, v, to[i], true);
        }
    }
    free(to);
    return (int) (v->nviewers - regular);
}

int
tr_video_start(struct tr_agent *a, json_t *plan, struct sr_error *err)
{
    struct video *v;
    json_t *servers = json_object_get(plan, "servers"), *s;
    size_t i;

    v = video_of(a, json_is_number(json_object_get(plan, "bitrate_kbps"))
                        ? json_number_value(json_object_get(plan, "bitrate_kbps")) : 1500);
    if (json_is_true(json_object_get(plan, "serve"))) {
        if (tr_listen(a, SR_PORT_RTSP, "RTSP", accept_io, v, err) < 0) {
            return -SR_EIO;
        }
    }
    json_array_foreach(servers, i, s) {
        if (!json_is_string(s)) {
            continue;
        }
        if (rtp_open(a, v, err) < 0) {
            return -SR_EIO;
        }
        /* The plan's viewer: one stream per host. */
        viewer_add(a, v, json_string_value(s), false);
        break;
    }
    return 0;
}
