/* Packet capture with libpcap (capture.h). */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "collector.h"
#include "files.h"
#include "log.h"
#include "packets.h"
#include "proc.h"
#include "util.h"

#define MAX_WINDOWS 4        /* windows open at once (overlapping episodes) */
/* Each handle's kernel ring.  In immediate mode libpcap uses TPACKET_V2,
 * whose slots are fixed, as large as the snap length: the ring gets room
 * for BUFFER_SLOTS frames, within these bounds. */
#define BUFFER_MIN (4 << 20)
#define BUFFER_MAX (32 << 20)
#define BUFFER_SLOTS 2048
#define THREAD_NICE (-10)      /* the capture thread's: little work, but it must not wait */
#define STATS_EVERY_S 0.5
#define PFILE_BUFFER (128 << 10) /* each pcap file's stdio buffer */
/* After reading, the thread rests this long before it looks again: in
 * immediate mode the kernel would wake it for every packet; the rings hold
 * what comes meanwhile. */
#define PACE_MS 2
#define HOLD_S 0.1            /* how long a packet waits for the other direction */

/* A pcap file being written. */
struct pfile {
    char *tag;               /* the window's tag, or "ring" */
    char *rel;               /* path inside the run directory */
    pcap_dumper_t *d;
    uint64_t packets, bytes; /* bytes: the file's size, header included */
};

struct cif;

/* One libpcap handle and the direction its packets go (-1: by MAC). */
struct handle {
    pcap_t *p;
    int dir;
    struct cif *cif;
    struct pcap_stat st;
    bool broken;             /* libpcap failed on it: read no more */
};

/* A packet held back until the other direction's handle has caught up. */
struct held {
    struct pcap_pkthdr h;
    int dir;
    u_char *bytes;
};

struct cif {
    struct cap_iface spec;   /* its strings are 'own' */
    char *own[3];
    struct capture *cap;
    struct handle h[2];
    int nh;
    struct pk_counts counts; /* since the last sweep's fence */
    struct pk_counts later;  /* while a sweep drains: packets at or after its fence */
    uint64_t packets, bytes; /* in all */
    uint64_t dropped_reported;
    struct pk_table *flows;
    struct pfile win[MAX_WINDOWS];
    int nwin;
    struct pfile ring;
    char **ring_kept;        /* the ring's closed files, oldest first */
    size_t nkept;
    unsigned ring_seq;
    bool ring_failed;        /* a ring file could not be started: the ring stops */
    /* Two handles deliver each its direction on its own: their packets are
     * merged in time order (held until both handles have passed them, or
     * HOLD_S old), so flows and pcaps see them as the wire did. */
    struct held *held;
    size_t nheld, capheld;
    double seen[2];          /* the latest time stamp from each handle */
};

struct pending {
    struct pk_flow f;
    enum pk_end why;
    struct cif *cif;
};

struct capture {
    struct cap_options o;
    char *dir, *filter;
    struct cif *ifs;
    size_t n;
    pcap_t *dead;            /* the pcap files' header: Ethernet, nanoseconds */
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int opened;              /* 0 while opening, 1 done, < 0 failed */
    struct sr_error open_err;
    int wake[2];             /* a pipe: the thread stops when it is written */
    FILE *counts_f, *flows_f;
    struct sr_error werr;    /* the first failed write of a table */
    struct pending *pend;
    size_t npend, cappend;
    json_t *files;           /* closed pcap files */
    json_t *warnings;
    uint64_t flow_rows, count_rows;
    double last_stats;
    double fence;            /* a sweep's time (epoch s) while it drains; else INFINITY */
};

/* ---- pcap files ---- */

static void
warn(struct capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(struct capture *c, const char *fmt, ...)
{
    struct sr_buf b;
    va_list ap;

    sr_buf_init(&b);
    va_start(ap, fmt);
    sr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (json_array_size(c->warnings) < 20) {
        json_array_append_new(c->warnings, json_string(sr_buf_cstr(&b)));
    }
    SR_WARN("capture: %s", sr_buf_cstr(&b));
    sr_buf_release(&b);
}

static int
pfile_open(struct capture *c, struct pfile *pf, const char *tag, const char *rel)
{
    struct sr_error err = { 0 };
    char *path = xasprintf("%s/%s", c->dir, rel);
    FILE *f = sr_fopen_new(path, false, &err);

    free(path);
    memset(pf, 0, sizeof *pf);
    if (!f) {
        warn(c, "%s", err.msg);
        return -err.code;
    }
    /* Few large writes: a busy capture writes megabytes a second. */
    setvbuf(f, NULL, _IOFBF, PFILE_BUFFER);
    pf->d = pcap_dump_fopen(c->dead, f);
    if (!pf->d) {
        warn(c, "cannot start '%s': %s", rel, pcap_geterr(c->dead));
        fclose(f);
        return -SR_EIO;
    }
    pf->tag = xstrdup(tag);
    pf->rel = xstrdup(rel);
    pf->bytes = 24; /* the file header: 'bytes' is the file's size */
    return 0;
}

/* Closes 'pf' and lists it in the manifest's files ("complete": false when
 * a write of it failed). */
static void
pfile_close(struct capture *c, struct cif *ci, struct pfile *pf)
{
    bool ok;
    int e;

    if (!pf->d) {
        return;
    }
    errno = 0;
    ok = pcap_dump_flush(pf->d) == 0 && !ferror(pcap_dump_file(pf->d));
    e = errno ? errno : EIO;
    ok = fclose(pcap_dump_file(pf->d)) == 0 && ok;
    e = ok ? 0 : errno ? errno : e;
    if (!ok) {
        warn(c, "cannot write '%s' (%s): the file is incomplete", pf->rel, strerror(e));
    }
    json_array_append_new(c->files,
                          json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "file", pf->rel,
                                    "interface", ci->spec.name, "window", pf->tag, "packets",
                                    (json_int_t) pf->packets, "bytes", (json_int_t) pf->bytes,
                                    "complete", ok));
    free(pf->tag);
    free(pf->rel);
    memset(pf, 0, sizeof *pf);
}

static void
ring_rotate(struct capture *c, struct cif *ci)
{
    char *rel;

    if (ci->ring.d) {
        ci->ring_kept = xrealloc(ci->ring_kept, (ci->nkept + 1) * sizeof *ci->ring_kept);
        ci->ring_kept[ci->nkept++] = xstrdup(ci->ring.rel);
        pfile_close(c, ci, &ci->ring);
    }
    while (ci->nkept > 0 && ci->nkept + 1 > (size_t) c->o.ring_files) {
        char *path = xasprintf("%s/%s", c->dir, ci->ring_kept[0]);
        size_t nfiles = json_array_size(c->files);

        unlink(path);
        free(path);
        /* The manifest lists only what is there. */
        for (size_t i = 0; i < nfiles; i++) {
            json_t *f = json_array_get(c->files, i);

            if (!strcmp(json_string_value(json_object_get(f, "file")), ci->ring_kept[0])) {
                json_array_remove(c->files, i);
                break;
            }
        }
        free(ci->ring_kept[0]);
        memmove(ci->ring_kept, ci->ring_kept + 1, (ci->nkept - 1) * sizeof *ci->ring_kept);
        ci->nkept--;
    }
    rel = xasprintf("pcap/ring-%s-%04u.pcap", ci->spec.name, ci->ring_seq++);
    if (pfile_open(c, &ci->ring, "ring", rel) < 0) {
        /* Said once (pfile_open warned): no new file for every packet. */
        ci->ring_failed = true;
    }
    free(rel);
}

static void
pfile_write(struct pfile *pf, const struct pcap_pkthdr *h, const u_char *bytes)
{
    pcap_dump((u_char *) pf->d, h, bytes);
    pf->packets++;
    pf->bytes += 16 + h->caplen;
}

/* ---- the capture thread ---- */

static void
flow_done(const struct pk_flow *f, enum pk_end why, void *arg)
{
    struct cif *ci = arg;
    struct capture *c = ci->cap;

    if (c->npend == c->cappend) {
        c->cappend = c->cappend ? 2 * c->cappend : 64;
        c->pend = xrealloc(c->pend, c->cappend * sizeof *c->pend);
    }
    c->pend[c->npend++] = (struct pending) { *f, why, ci };
}

static double
ts_of(const struct pcap_pkthdr *h)
{
    /* Nanosecond precision: tv_usec holds nanoseconds. */
    return (double) h->ts.tv_sec + (double) h->ts.tv_usec * 1e-9;
}

static void
process(struct cif *ci, int dir, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = ci->cap;
    struct pk_packet p;

    if (!pk_dissect(bytes, h->caplen, h->len, &p)) {
        memset(&p, 0, sizeof p);
        p.wirelen = h->len;
        p.service = PK_OTHER;
    }
    if (dir < 0) {
        dir = memcmp(p.src_mac, ci->spec.mac, 6) == 0 ? 1 : 0;
    }
    ci->packets++;
    ci->bytes += h->len;
    /* A row counts the packets stamped before its sweep: what a sweep's
     * drain reads that is stamped after goes to the next row. */
    pk_table_add(ci->flows, ts_of(h), dir, &p, ts_of(h) < c->fence ? &ci->counts : &ci->later);
    for (int i = 0; i < ci->nwin; i++) {
        pfile_write(&ci->win[i], h, bytes);
    }
    if (c->o.ring_mb > 0 && !ci->ring_failed) {
        double limit = c->o.ring_mb * 1048576.0 / c->o.ring_files;

        if (!ci->ring.d || (double) ci->ring.bytes + 16 + h->caplen > limit) {
            ring_rotate(c, ci);
        }
        if (ci->ring.d) {
            pfile_write(&ci->ring, h, bytes);
        }
    }
}

/* Holds a packet of a two-handle interface, in time order. */
static void
hold(struct cif *ci, int dir, const struct pcap_pkthdr *h, const u_char *bytes)
{
    double t = ts_of(h);
    size_t at = ci->nheld;

    if (ci->nheld == ci->capheld) {
        ci->capheld = ci->capheld ? 2 * ci->capheld : 64;
        ci->held = xrealloc(ci->held, ci->capheld * sizeof *ci->held);
    }
    while (at > 0 && ts_of(&ci->held[at - 1].h) > t) {
        at--;
    }
    memmove(ci->held + at + 1, ci->held + at, (ci->nheld - at) * sizeof *ci->held);
    ci->held[at] = (struct held) { *h, dir, xmalloc(h->caplen ? h->caplen : 1) };
    memcpy(ci->held[at].bytes, bytes, h->caplen);
    ci->nheld++;
    if (t > ci->seen[dir]) {
        ci->seen[dir] = t;
    }
}

/* Processes the held packets both handles have passed, those older than
 * HOLD_S at wall-clock time 'now', and those stamped before 'until' (both
 * handles drained up to it). */
static void
release_held(struct cif *ci, double now, double until)
{
    double mark = fmax(fmax(fmin(ci->seen[0], ci->seen[1]), now - HOLD_S), until);
    size_t k = 0;

    while (k < ci->nheld && (ts_of(&ci->held[k].h) <= mark || isinf(now))) {
        process(ci, ci->held[k].dir, &ci->held[k].h, ci->held[k].bytes);
        free(ci->held[k].bytes);
        k++;
    }
    memmove(ci->held, ci->held + k, (ci->nheld - k) * sizeof *ci->held);
    ci->nheld -= k;
}

static void
on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct handle *hd = (struct handle *) user;

    if (hd->dir < 0) {
        process(hd->cif, -1, h, bytes);
    } else {
        hold(hd->cif, hd->dir, h, bytes);
    }
}

static void
read_stats(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (int k = 0; k < c->ifs[i].nh; k++) {
            struct pcap_stat st;

            if (pcap_stats(c->ifs[i].h[k].p, &st) == 0) {
                c->ifs[i].h[k].st = st;
            }
        }
    }
    c->last_stats = sr_now();
}

/* Opens one handle of 'ci' in the thread's current namespace. */
static int
open_handle(struct capture *c, struct cif *ci, int dir, struct sr_error *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(ci->spec.name, eb);
    struct bpf_program prog;
    int rc;

    if (!p) {
        return sr_error_set(err, SR_EIO, "cannot capture on '%s': %s", ci->spec.name, eb);
    }
    pcap_set_snaplen(p, c->o.snaplen);
    pcap_set_promisc(p, !ci->spec.by_mac);
    pcap_set_immediate_mode(p, 1);
    {
        long want = (long) BUFFER_SLOTS * (c->o.snaplen + 128);

        pcap_set_buffer_size(p, (int) (want < BUFFER_MIN   ? BUFFER_MIN
                                       : want > BUFFER_MAX ? BUFFER_MAX
                                                           : want));
    }
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    rc = pcap_activate(p);
    if (rc < 0) {
        sr_error_set(err, SR_EIO, "cannot capture on '%s': %s", ci->spec.name,
                     rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
        pcap_close(p);
        return -SR_EIO;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        sr_error_set(err, SR_EIO, "cannot capture on '%s': not an Ethernet interface",
                     ci->spec.name);
        pcap_close(p);
        return -SR_EIO;
    }
    if ((dir >= 0 && pcap_setdirection(p, dir ? PCAP_D_OUT : PCAP_D_IN) < 0) ||
        pcap_setnonblock(p, 1, eb) < 0) {
        sr_error_set(err, SR_EIO, "cannot capture on '%s': %s", ci->spec.name,
                     *eb ? eb : pcap_geterr(p));
        pcap_close(p);
        return -SR_EIO;
    }
    if (c->filter) {
        if (pcap_compile(p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(p, &prog) < 0) {
            sr_error_set(err, SR_EINVAL, "capture filter '%s': %s", c->filter, pcap_geterr(p));
            pcap_close(p);
            return -SR_EINVAL;
        }
        pcap_freecode(&prog);
    }
    ci->h[ci->nh++] = (struct handle) { p, dir, ci, { 0 }, false };
    return 0;
}

/* Opens every interface, each inside its namespace: libpcap has no
 * namespace support, but a socket stays in the namespace it was made in,
 * so this thread enters the namespace, activates, and comes back. */
static int
open_all(struct capture *c, struct sr_error *err)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (self < 0) {
        return sr_error_set(err, SR_EIO, "cannot open this thread's network namespace: %s",
                            strerror(errno));
    }
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        struct cif *ci = &c->ifs[i];
        int ns = -1;

        if (ci->spec.netns_pid > 0) {
            char path[64];

            snprintf(path, sizeof path, "/proc/%d/ns/net", (int) ci->spec.netns_pid);
            ns = open(path, O_RDONLY | O_CLOEXEC);
            if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
                rc = sr_error_set(err, SR_EIO, "cannot enter the network namespace of '%s' "
                                  "(process %d): %s", ci->spec.host ? ci->spec.host : ci->spec.name,
                                  (int) ci->spec.netns_pid, strerror(errno));
                if (ns >= 0) {
                    close(ns);
                }
                break;
            }
        }
        if (ci->spec.by_mac) {
            rc = open_handle(c, ci, -1, err);
        } else {
            rc = open_handle(c, ci, 0, err);
            if (rc == 0) {
                rc = open_handle(c, ci, 1, err);
            }
        }
        if (ns >= 0) {
            close(ns);
            if (setns(self, CLONE_NEWNET) < 0) {
                /* Not where it started: nothing more may be opened here. */
                rc = sr_error_set(err, SR_EIO, "cannot return to simrun's network namespace: %s",
                                  strerror(errno));
            }
        }
    }
    close(self);
    return rc;
}

/* Reads every handle that has packets ('fds' from poll), or every handle
 * ('fds' NULL); 'final': release everything held (the capture ends). */
static void
dispatch_all(struct capture *c, struct pollfd *fds, bool final)
{
    size_t k = 0;
    double now = final ? INFINITY : sr_wall(), until = isinf(c->fence) ? 0 : c->fence;

    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];

        for (int j = 0; j < ci->nh; j++, k++) {
            struct handle *hd = &ci->h[j];

            if (!hd->broken && (!fds || fds[k].revents) &&
                pcap_dispatch(hd->p, -1, on_packet, (u_char *) hd) == PCAP_ERROR) {
                /* Not a passing state (an interface down and up again
                 * keeps its handle): the interface is gone. */
                hd->broken = true;
                warn(c, "capture on '%s' stopped: %s", ci->spec.name, pcap_geterr(hd->p));
            }
            if (fds && hd->broken) {
                fds[k].fd = -1;
            }
        }
        if (ci->nheld) {
            release_held(ci, now, until);
        }
    }
}

static void *
capture_thread(void *arg)
{
    struct capture *c = arg;
    struct pollfd *fds;
    size_t nfd = 0;
    struct sr_error err = { 0 };
    int rc;

    /* Reading the rings in time matters more than the little CPU it takes:
     * a kernel ring that fills drops packets (root may raise a thread's
     * priority; if it cannot, it reads at the process's). */
    if (setpriority(PRIO_PROCESS, (id_t) gettid(), THREAD_NICE) < 0) {
        SR_DEBUG("capture: cannot raise the capture thread's priority: %s", strerror(errno));
    }
    rc = open_all(c, &err);

    pthread_mutex_lock(&c->mu);
    c->opened = rc < 0 ? rc : 1;
    c->open_err = err;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++) {
        nfd += (size_t) c->ifs[i].nh;
    }
    fds = xcalloc(nfd + 1, sizeof *fds);
    for (size_t i = 0, k = 0; i < c->n; i++) {
        for (int j = 0; j < c->ifs[i].nh; j++, k++) {
            fds[k].fd = pcap_get_selectable_fd(c->ifs[i].h[j].p);
            fds[k].events = POLLIN;
        }
    }
    fds[nfd].fd = c->wake[0];
    fds[nfd].events = POLLIN;
    for (;;) {
        bool holding = false;
        int n;

        for (size_t i = 0; i < c->n; i++) {
            holding = holding || c->ifs[i].nheld > 0;
        }
        n = poll(fds, nfd + 1, holding ? 50 : 200);
        if (n <= 0) {
            for (size_t i = 0; i <= nfd; i++) {
                fds[i].revents = 0;
            }
        }

        if (n < 0 && errno != EINTR) {
            break;
        }
        pthread_mutex_lock(&c->mu);
        dispatch_all(c, fds, false);
        if (sr_now() - c->last_stats >= STATS_EVERY_S) {
            read_stats(c);
        }
        pthread_mutex_unlock(&c->mu);
        if (n > 0 && fds[nfd].revents) {
            break;
        }
        if (n > 0 && poll(&fds[nfd], 1, PACE_MS) > 0) {
            break; /* told to stop while resting */
        }
    }
    /* What the kernel holds still. */
    pthread_mutex_lock(&c->mu);
    dispatch_all(c, NULL, true);
    read_stats(c);
    pthread_mutex_unlock(&c->mu);
    free(fds);
    return NULL;
}

/* ---- the tables ---- */

static const char *const count_head[] = { "time", "t_s", "sweep", "interface", "host", "switch",
                                          "port", NULL };

static void
write_header(FILE *f, const char *const *first, const char *const *middle,
             const char *const *extra, const char *const *labels, bool services)
{
    struct sr_buf b;
    const char *sep = "";

    sr_buf_init(&b);
    for (const char *const *p = first; *p; p++, sep = ",") {
        sr_buf_printf(&b, "%s%s", sep, *p);
    }
    if (services) {
        for (int s = 0; s < PK_NSERVICES; s++) {
            for (int d = 0; d < 2; d++) {
                sr_buf_printf(&b, ",%s_%s_packets,%s_%s_bytes", pk_service_names[s],
                              d ? "tx" : "rx", pk_service_names[s], d ? "tx" : "rx");
            }
        }
    }
    for (const char *const *p = middle; p && *p; p++) {
        sr_buf_printf(&b, ",%s", *p);
    }
    for (const char *const *p = extra; p && *p; p++) {
        sr_buf_printf(&b, ",%s", *p);
    }
    for (const char *const *p = labels; p && *p; p++) {
        sr_buf_printf(&b, ",%s", *p);
    }
    sr_buf_puts(&b, "\r\n");
    fwrite(sr_buf_cstr(&b), 1, b.len, f);
    sr_buf_release(&b);
}

static void
put_where(struct sr_buf *b, const struct cif *ci)
{
    sr_buf_putc(b, ',');
    col_csv_field(b, ci->spec.name);
    sr_buf_putc(b, ',');
    col_csv_field(b, ci->spec.host ? ci->spec.host : "");
    sr_buf_putc(b, ',');
    col_csv_field(b, ci->spec.sw ? ci->spec.sw : "");
    sr_buf_printf(b, ",%u", ci->spec.port);
}

static void
put_time(struct sr_buf *b, double epoch, double t_s, long k)
{
    char iso[40];

    sr_iso_time(epoch, iso, sizeof iso);
    sr_buf_printf(b, "%s,%.3f,%ld", iso, t_s, k);
}

static int
flush_table(struct capture *c, FILE *f, const char *name, struct sr_buf *b)
{
    if (b->len && fwrite(sr_buf_cstr(b), 1, b->len, f) != b->len) {
        goto failed;
    }
    if (fflush(f) != 0) {
        goto failed;
    }
    return 0;
failed:
    if (!c->werr.code) {
        int code = sr_write_code(errno);

        sr_error_set(&c->werr, code, "cannot write '%s/%s': %s%s", c->dir, name,
                     strerror(errno), code == SR_ENOSPC ? " (the disk is full)" : "");
    }
    return -c->werr.code;
}

/* Writes the rows of sweep 'k' from what was taken under the lock. */
static int
write_rows(struct capture *c, long k, double t_s, const struct pk_counts *counts,
           const uint64_t *dropped, struct pending *pend, size_t npend)
{
    struct sr_buf b, lab;
    int rc;

    if (!c->counts_f) {
        return 0; /* pcaps only */
    }
    sr_buf_init(&b);
    sr_buf_init(&lab);
    for (size_t i = 0; i < c->n; i++) {
        const struct pk_counts *pc = &counts[i];

        put_time(&b, c->o.wall0 + t_s, t_s, k);
        put_where(&b, &c->ifs[i]);
        for (int s = 0; s < PK_NSERVICES; s++) {
            for (int d = 0; d < 2; d++) {
                sr_buf_printf(&b, ",%llu,%llu", (unsigned long long) pc->packets[s][d],
                              (unsigned long long) pc->bytes[s][d]);
            }
        }
        sr_buf_printf(&b, ",%llu,%llu,%llu", (unsigned long long) pc->retransmissions,
                      (unsigned long long) pc->resets, (unsigned long long) dropped[i]);
        if (c->o.label) {
            c->o.label(c->o.label_ctx, t_s, c->ifs[i].spec.sw, c->ifs[i].spec.port, &b);
        }
        sr_buf_puts(&b, "\r\n");
        c->count_rows++;
    }
    rc = flush_table(c, c->counts_f, "capture.csv", &b);
    sr_buf_clear(&b);
    for (size_t i = 0; i < npend; i++) {
        const struct pending *p = &pend[i];
        double last = p->f.last - c->o.wall0, first = p->f.first - c->o.wall0;
        const char *cells, *comma;

        put_time(&b, p->f.last, last, k);
        put_where(&b, p->cif);
        sr_buf_putc(&b, ',');
        pk_flow_csv(&b, &p->f, p->why, c->o.wall0);
        /* The label when the flow began, then the full labels of its last
         * packet. */
        sr_buf_clear(&lab);
        if (c->o.label) {
            c->o.label(c->o.label_ctx, first, p->cif->spec.sw, p->cif->spec.port, &lab);
        }
        cells = sr_buf_cstr(&lab);
        cells += *cells == ',';
        comma = strchr(cells, ',');
        sr_buf_putc(&b, ',');
        sr_buf_append(&b, cells, comma ? (size_t) (comma - cells) : strlen(cells));
        if (c->o.label) {
            c->o.label(c->o.label_ctx, last, p->cif->spec.sw, p->cif->spec.port, &b);
        }
        sr_buf_puts(&b, "\r\n");
        c->flow_rows++;
    }
    if (rc == 0) {
        rc = flush_table(c, c->flows_f, "pflows.csv", &b);
    }
    sr_buf_release(&b);
    sr_buf_release(&lab);
    return rc;
}

/* Takes, under the lock, the counts since the last sweep, the drops, and
 * the flow records due ('close': every flow, the capture ending). */
static int
sweep_locked(struct capture *c, long k, double t_s, bool close)
{
    struct pk_counts *counts = xcalloc(c->n, sizeof *counts);
    uint64_t *dropped = xcalloc(c->n, sizeof *dropped);
    struct pending *pend;
    size_t npend;
    int rc;

    pthread_mutex_lock(&c->mu);
    /* Everything stamped before the sweep, read now (the handles are used
     * only under the lock, by whichever thread holds it). */
    c->fence = c->o.wall0 + t_s;
    if (c->running) {
        dispatch_all(c, NULL, false);
    }
    c->fence = INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];
        uint64_t drops = 0;

        counts[i] = ci->counts;
        ci->counts = ci->later;
        memset(&ci->later, 0, sizeof ci->later);
        for (int h = 0; h < ci->nh; h++) {
            drops += ci->h[h].st.ps_drop + ci->h[h].st.ps_ifdrop;
        }
        dropped[i] = drops - ci->dropped_reported;
        ci->dropped_reported = drops;
        if (close) {
            pk_table_close(ci->flows);
        } else {
            pk_table_sweep(ci->flows, c->o.wall0 + t_s);
        }
    }
    pend = c->pend;
    npend = c->npend;
    c->pend = NULL;
    c->npend = c->cappend = 0;
    pthread_mutex_unlock(&c->mu);
    rc = write_rows(c, k, t_s, counts, dropped, pend, npend);
    free(pend);
    free(counts);
    free(dropped);
    return rc;
}

int
cap_sweep(struct capture *c, long k, double t_s, struct sr_error *err)
{
    int rc;

    if (c->werr.code) {
        *err = c->werr;
        return -c->werr.code;
    }
    rc = sweep_locked(c, k, t_s, false);
    if (rc < 0) {
        *err = c->werr;
    }
    return rc;
}

/* ---- windows ---- */

int
cap_window_open(struct capture *c, const char *tag, struct sr_error *err)
{
    int rc = 0;

    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];
        char *rel;

        if (ci->nwin == MAX_WINDOWS) {
            rc = sr_error_set(err, SR_EBUSY, "capture: more than %d windows at once on '%s'",
                              MAX_WINDOWS, ci->spec.name);
            break;
        }
        rel = xasprintf("pcap/%s-%s.pcap", tag, ci->spec.name);
        if (pfile_open(c, &ci->win[ci->nwin], tag, rel) == 0) {
            ci->nwin++;
        }
        free(rel);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void
cap_window_close(struct capture *c, const char *tag)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];

        for (int w = 0; w < ci->nwin; w++) {
            if (!strcmp(ci->win[w].tag, tag)) {
                pfile_close(c, ci, &ci->win[w]);
                ci->win[w] = ci->win[--ci->nwin];
                memset(&ci->win[ci->nwin], 0, sizeof ci->win[ci->nwin]);
                break;
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- start and finish ---- */

static void
free_ifaces(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];

        for (int h = 0; h < ci->nh; h++) {
            pcap_close(ci->h[h].p);
        }
        pk_table_free(ci->flows);
        for (size_t k = 0; k < ci->nheld; k++) {
            free(ci->held[k].bytes);
        }
        free(ci->held);
        for (size_t k = 0; k < ci->nkept; k++) {
            free(ci->ring_kept[k]);
        }
        free(ci->ring_kept);
        for (int k = 0; k < 3; k++) {
            free(ci->own[k]);
        }
    }
    free(c->ifs);
}

static void
release(struct capture *c)
{
    free_ifaces(c);
    if (c->dead) {
        pcap_close(c->dead);
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    if (c->counts_f) {
        fclose(c->counts_f);
    }
    if (c->flows_f) {
        fclose(c->flows_f);
    }
    json_decref(c->files);
    json_decref(c->warnings);
    free(c->pend);
    free(c->dir);
    free(c->filter);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static FILE *
open_table(struct capture *c, const char *name, struct sr_error *err)
{
    char *path = xasprintf("%s/%s", c->dir, name);
    FILE *f = sr_fopen_new(path, false, err);

    free(path);
    return f;
}

static const char *const flow_head[] = { "time", "t_s", "sweep", "interface", "host", "switch",
                                         "port", NULL };
static const char *const count_tail[] = { "retransmissions", "resets", "dropped", NULL };
static const char *const flow_tail[] = { "start_label", NULL };

struct capture *
cap_start(const struct cap_options *o, const struct cap_iface *ifs, size_t n,
          struct sr_error *err)
{
    struct capture *c = xcalloc(1, sizeof *c);
    char *pdir;
    c->o = *o;
    c->dir = xstrdup(o->dir);
    c->filter = o->filter && *o->filter ? xstrdup(o->filter) : NULL;
    c->o.filter = c->filter;
    c->o.dir = c->dir;
    if (c->o.snaplen <= 0) {
        c->o.snaplen = 2048;
    }
    if (c->o.flow_idle_s <= 0) {
        c->o.flow_idle_s = 60;
    }
    if (c->o.ring_files <= 0) {
        c->o.ring_files = 1;
    }
    c->wake[0] = c->wake[1] = -1;
    c->fence = INFINITY;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->files = json_array();
    c->warnings = json_array();
    c->ifs = xcalloc(n ? n : 1, sizeof *c->ifs);
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        struct cif *ci = &c->ifs[i];

        ci->spec = ifs[i];
        ci->spec.name = ci->own[0] = xstrdup(ifs[i].name);
        ci->spec.sw = ci->own[1] = ifs[i].sw ? xstrdup(ifs[i].sw) : NULL;
        ci->spec.host = ci->own[2] = ifs[i].host ? xstrdup(ifs[i].host) : NULL;
        ci->cap = c;
        ci->flows = pk_table_new(c->o.flow_idle_s, flow_done, ci);
    }
    c->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, c->o.snaplen,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    pdir = xasprintf("%s/pcap", c->dir);
    if (!c->dead) {
        sr_error_set(err, SR_ENOMEM, "capture: libpcap cannot make a file header");
        goto fail;
    }
    if (mkdir(pdir, 0755) < 0 && errno != EEXIST) {
        sr_error_set(err, SR_EIO, "cannot create '%s': %s", pdir, strerror(errno));
        goto fail;
    }
    if (!o->pcaps_only) {
        if (!(c->counts_f = open_table(c, "capture.csv", err)) ||
            !(c->flows_f = open_table(c, "pflows.csv", err))) {
            goto fail;
        }
        write_header(c->counts_f, count_head, NULL, count_tail, o->label_cols, true);
        write_header(c->flows_f, flow_head, pk_flow_columns, flow_tail, o->label_cols, false);
    }
    if (pipe2(c->wake, O_CLOEXEC) < 0) {
        sr_error_set(err, SR_EIO, "capture: pipe: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&c->thread, NULL, capture_thread, c) != 0) {
        sr_error_set(err, SR_EIO, "capture: cannot start its thread");
        goto fail;
    }
    pthread_mutex_lock(&c->mu);
    while (c->opened == 0) {
        pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    if (c->opened < 0) {
        pthread_join(c->thread, NULL);
        *err = c->open_err;
        goto fail;
    }
    c->running = true;
    free(pdir);
    return c;
fail:
    free(pdir);
    release(c);
    return NULL;
}

int
cap_finish(struct capture *c, long k, double t_s, json_t **report, struct sr_error *err)
{
    json_t *ifaces;
    int rc;

    *report = NULL;
    if (!c) {
        return 0;
    }
    if (c->running) {
        ssize_t w = write(c->wake[1], "x", 1);

        (void) w;
        pthread_join(c->thread, NULL);
        c->running = false;
    }
    rc = sweep_locked(c, k, t_s, true);
    ifaces = json_array();
    for (size_t i = 0; i < c->n; i++) {
        struct cif *ci = &c->ifs[i];
        uint64_t drop = 0, ifdrop = 0;

        for (int w = 0; w < ci->nwin; w++) {
            pfile_close(c, ci, &ci->win[w]);
        }
        ci->nwin = 0;
        pfile_close(c, ci, &ci->ring);
        for (int h = 0; h < ci->nh; h++) {
            drop += ci->h[h].st.ps_drop;
            ifdrop += ci->h[h].st.ps_ifdrop;
        }
        json_array_append_new(ifaces, json_pack(
            "{s:s, s:s?, s:s?, s:i, s:s, s:I, s:I, s:I, s:I}", "name", ci->spec.name, "host",
            ci->spec.host, "switch", ci->spec.sw, "port", (int) ci->spec.port, "namespace",
            ci->spec.netns_pid > 0 ? "host" : "root", "packets", (json_int_t) ci->packets,
            "bytes", (json_int_t) ci->bytes, "dropped", (json_int_t) drop, "if_dropped",
            (json_int_t) ifdrop));
    }
    for (int t = 0; t < 2; t++) {
        struct sr_error e = { 0 };
        char *path = xasprintf("%s/%s", c->dir, t ? "pflows.csv" : "capture.csv");

        if (sr_fclose_checked(t ? c->flows_f : c->counts_f, path, &e) < 0 && !c->werr.code) {
            c->werr = e;
        }
        free(path);
    }
    c->counts_f = c->flows_f = NULL;
    rc = c->werr.code ? -c->werr.code : 0;
    *report = json_pack("{s:o, s:O, s:I, s:I, s:i, s:s?, s:O}", "interfaces", ifaces, "files",
                        c->files, "rows", (json_int_t) c->count_rows, "flow_rows",
                        (json_int_t) c->flow_rows, "snaplen", c->o.snaplen, "filter",
                        c->filter, "warnings", c->warnings);
    if (rc < 0 && err) {
        *err = c->werr;
    }
    release(c);
    return rc;
}

int
cap_check_filter(const char *expr, int snaplen, struct sr_error *err)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, snaplen > 0 ? snaplen : 262144);
    struct bpf_program prog;
    int rc = 0;

    if (!p) {
        return sr_error_set(err, SR_ENOMEM, "libpcap cannot check the filter");
    }
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        rc = sr_error_set(err, SR_EINVAL, "%s", pcap_geterr(p));
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(p);
    return rc;
}
