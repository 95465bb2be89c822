/* simtraffic's event loop, timers, KPI writer and main. */
#include "agent.h"

#include "services.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

struct watch {
    tr_io_fn *fn;
    void *ctx;
    bool used;
};

struct timer {
    double due;               /* tr_mono() time */
    uint64_t id;
    tr_timer_fn *fn;
    void *ctx;
};

struct tr_agent {
    int ep;
    struct watch *watches;    /* indexed by fd */
    size_t nwatches;
    struct timer *heap;       /* min-heap on 'due' */
    size_t ntimers, cap;
    uint64_t next_id;
    char *host;
    char *ip;
    struct sr_rng rng;
    FILE *kpi, *log;
    double load;              /* rate multiplier set through --control */
    double svc_load[TR_NSERVICES]; /* each service's own (a flash crowd) */
    double quiet_until;       /* tr_mono() before which no session starts */
    double curve_amp, curve_period, curve_phase, t0; /* the plan's load curve; tr_mono at start */
    struct video *video;      /* video.c's state */
    int control_fd;
    int kpi_errno;            /* the first failed KPI write (the agent stops) */
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
    stop_signal = sig;
}

double
tr_wall(void)
{
    return sr_wall();
}

double
tr_mono(void)
{
    return sr_now();
}

struct sr_rng *
tr_rng(struct tr_agent *a)
{
    return &a->rng;
}

const char *
tr_host(const struct tr_agent *a)
{
    return a->host;
}

const char *
tr_ip(const struct tr_agent *a)
{
    return a->ip;
}

double
tr_load(const struct tr_agent *a)
{
    return a->load;
}

struct video **
tr_video_slot(struct tr_agent *a)
{
    return &a->video;
}

double
tr_exp(struct tr_agent *a, enum tr_service svc, double mean_s)
{
    double u = sr_rng_double(&a->rng), now = tr_mono(), quiet = a->quiet_until - now;
    double curve = a->curve_period > 0
                       ? 1 + a->curve_amp * sin(2 * M_PI * (now - a->t0) / a->curve_period +
                                                a->curve_phase)
                       : 1;

    return (quiet > 0 ? quiet : 0) -
           mean_s / (a->load * a->svc_load[svc] * curve) * log(1.0 - u);
}

int
tr_watch(struct tr_agent *a, int fd, uint32_t events, tr_io_fn *fn, void *ctx)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };

    if ((size_t) fd >= a->nwatches) {
        size_t n = (size_t) fd + 64;

        a->watches = xrealloc(a->watches, n * sizeof *a->watches);
        memset(a->watches + a->nwatches, 0, (n - a->nwatches) * sizeof *a->watches);
        a->nwatches = n;
    }
    if (epoll_ctl(a->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        return -errno;
    }
    a->watches[fd] = (struct watch) { fn, ctx, true };
    return 0;
}

int
tr_rewatch(struct tr_agent *a, int fd, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };

    return epoll_ctl(a->ep, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void
tr_unwatch(struct tr_agent *a, int fd)
{
    if (fd >= 0 && (size_t) fd < a->nwatches && a->watches[fd].used) {
        epoll_ctl(a->ep, EPOLL_CTL_DEL, fd, NULL);
        a->watches[fd].used = false;
    }
}

int
tr_listen(struct tr_agent *a, int port, const char *what, tr_io_fn *fn, void *ctx,
          struct sr_error *err)
{
    struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *) &at, sizeof at) < 0 || listen(fd, 128) < 0) {
        int e = errno;

        if (fd >= 0) {
            close(fd);
        }
        return sr_error_set(err, SR_EIO, "cannot listen on %s port %d: %s", what, port,
                            strerror(e));
    }
    return tr_watch(a, fd, EPOLLIN, fn, ctx);
}

static void
heap_swap(struct tr_agent *a, size_t i, size_t j)
{
    struct timer t = a->heap[i];

    a->heap[i] = a->heap[j];
    a->heap[j] = t;
}

static void
heap_up(struct tr_agent *a, size_t i)
{
    while (i > 0 && a->heap[(i - 1) / 2].due > a->heap[i].due) {
        heap_swap(a, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void
heap_down(struct tr_agent *a, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < a->ntimers && a->heap[l].due < a->heap[m].due) {
            m = l;
        }
        if (r < a->ntimers && a->heap[r].due < a->heap[m].due) {
            m = r;
        }
        if (m == i) {
            return;
        }
        heap_swap(a, i, m);
        i = m;
    }
}

uint64_t
tr_after(struct tr_agent *a, double delay_s, tr_timer_fn *fn, void *ctx)
{
    xgrow((void **) &a->heap, &a->cap, a->ntimers + 1, sizeof *a->heap);
    a->heap[a->ntimers] = (struct timer) { tr_mono() + delay_s, ++a->next_id, fn, ctx };
    heap_up(a, a->ntimers++);
    return a->next_id;
}

void
tr_cancel(struct tr_agent *a, uint64_t id)
{
    for (size_t i = 0; i < a->ntimers; i++) {
        if (a->heap[i].id == id) {
            a->heap[i] = a->heap[--a->ntimers];
            if (i < a->ntimers) {
                heap_down(a, i);
                heap_up(a, i);
            }
            return;
        }
    }
}

void
tr_kpi(struct tr_agent *a, const char *service, const char *peer, json_t *metrics)
{
    json_t *rec = json_pack("{s:f, s:s, s:s, s:s, s:o}", "t", round(tr_wall() * 1000) / 1000,
                            "host", a->host, "service", service, "peer", peer ? peer : "",
                            "metrics", metrics);

    if (!a->kpi_errno &&
        (json_dumpf(rec, a->kpi, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) <
             0 ||
         fputc('\n', a->kpi) == EOF || fflush(a->kpi) != 0)) {
        /* Records that cannot be kept make the traffic untrue to its KPIs:
         * the agent stops (see SR_AGENT_EXIT_*). */
        a->kpi_errno = errno ? errno : EIO;
        tr_warn(a, "agent", "cannot write KPI records: %s; stopping", strerror(a->kpi_errno));
        stop_signal = SIGTERM;
    }
    json_decref(rec);
}

void
tr_warn(struct tr_agent *a, const char *service, const char *fmt, ...)
{
    va_list ap;

    fprintf(a->log, "simtraffic %s: %s: ", a->host, service);
    va_start(ap, fmt);
    vfprintf(a->log, fmt, ap);
    va_end(ap);
    fputc('\n', a->log);
    fflush(a->log);
}

/* One command on the control socket (a datagram holding a JSON object,
 * docs/protocols/agent-control.schema.json):
 *   {"load": 4, "extra_streams": 8, "servers": ["10.0.1.1"], "by": "fault 3"}
 * sets the rate multiplier of every role and the extra video streams this
 * host pulls (see tr_video_extra); {"load": 1, "extra_streams": 0} is
 * normal again.  With "service": "web" the load is that service's alone
 * and the rest stays as it was (a flash crowd); with "quiet_s": N the host
 * starts no new session for N seconds (it left the network).  Each
 * command is recorded as an "agent" KPI record. */
/* The index of service 'name' among the roles tr_exp serves, or -1. */
static int
service_index(const char *name)
{
    static const char *const names[TR_NSERVICES] = { "chat", "p2p", "web", "mail" };

    for (int i = 0; i < TR_NSERVICES; i++) {
        if (!strcmp(name, names[i])) {
            return i;
        }
    }
    return -1;
}

static void
control_io(struct tr_agent *a, int fd, uint32_t events, void *ctx)
{
    char msg[4096];
    ssize_t n;

    (void) events;
    (void) ctx;
    while ((n = recv(fd, msg, sizeof msg - 1, 0)) > 0) {
        json_t *cmd, *servers, *rec;
        json_int_t streams;
        double load, quiet;
        const char *svc;
        int k;
        struct sr_error err = { 0 };
        int extra;

        msg[n] = '\0';
        cmd = json_loads(msg, 0, NULL);
        load = json_number_value(json_object_get(cmd, "load"));
        streams = json_integer_value(json_object_get(cmd, "extra_streams"));
        servers = json_object_get(cmd, "servers");
        if (!json_is_object(cmd) || load < 1 || load > 100 || streams < 0 || streams > 1000) {
            tr_warn(a, "control", "ignored a command that is not {\"load\": 1..100, "
                                  "\"extra_streams\": 0..1000, ...}: %.200s", msg);
            json_decref(cmd);
            continue;
        }
        svc = json_string_value(json_object_get(cmd, "service"));
        quiet = json_number_value(json_object_get(cmd, "quiet_s"));
        k = svc ? service_index(svc) : -1;
        if ((svc && k < 0) || quiet < 0 || quiet > 86400) {
            tr_warn(a, "control", "ignored a command with an unknown service or a quiet time "
                                  "out of 0..86400 s: %.200s", msg);
            json_decref(cmd);
            continue;
        }
        if (k >= 0) {
            a->svc_load[k] = load;
            extra = 0;
        } else {
            a->load = load;
            extra = tr_video_extra(a, (size_t) streams, servers, load, &err);
            if (extra < 0) {
                tr_warn(a, "control", "%s", err.msg);
            }
        }
        if (json_object_get(cmd, "quiet_s")) {
            a->quiet_until = tr_mono() + quiet;
        }
        rec = json_pack("{s:f, s:I, s:i, s:s}", "load", load, "extra_streams_asked",
                        (json_int_t) streams, "extra_streams", extra < 0 ? 0 : extra, "by",
                        json_is_string(json_object_get(cmd, "by"))
                            ? json_string_value(json_object_get(cmd, "by")) : "");
        if (svc) {
            json_object_set_new(rec, "service", json_string(svc));
        }
        if (json_object_get(cmd, "quiet_s")) {
            json_object_set_new(rec, "quiet_s", json_real(quiet));
        }
        tr_kpi(a, "agent", "", rec);
        json_decref(cmd);
    }
}

static int
control_open(struct tr_agent *a, const char *path)
{
    struct sockaddr_un at = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof at.sun_path) {
        fprintf(stderr, "simtraffic: control socket path too long: %s\n", path);
        return -1;
    }
    snprintf(at.sun_path, sizeof at.sun_path, "%s", path);
    unlink(path);
    a->control_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* Only root (simrun) may send commands: the mode does not depend on
     * the umask the agent was started with. */
    if (a->control_fd < 0 || bind(a->control_fd, (struct sockaddr *) &at, sizeof at) < 0 ||
        chmod(path, 0600) < 0 || tr_watch(a, a->control_fd, EPOLLIN, control_io, NULL) < 0) {
        fprintf(stderr, "simtraffic: cannot open the control socket %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static void
run_loop(struct tr_agent *a, double duration_s)
{
    double end = duration_s > 0 ? tr_mono() + duration_s : INFINITY;
    struct epoll_event evs[64];

    while (!stop_signal && tr_mono() < end) {
        double now = tr_mono(), wait = end - now;
        int n;

        while (a->ntimers && a->heap[0].due <= now) {
            struct timer t = a->heap[0];

            a->heap[0] = a->heap[--a->ntimers];
            heap_down(a, 0);
            t.fn(a, t.ctx);
            now = tr_mono();
        }
        if (a->ntimers && a->heap[0].due - now < wait) {
            wait = a->heap[0].due - now;
        }
        n = epoll_wait(a->ep, evs, (int) SR_ARRAY_SIZE(evs),
                       isinf(wait) ? 1000 : (int) ceil(wait * 1000.0));
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;

            if ((size_t) fd < a->nwatches && a->watches[fd].used) {
                a->watches[fd].fn(a, fd, evs[i].events, a->watches[fd].ctx);
            }
        }
    }
}

static const char usage[] =
    "usage: simtraffic --plan FILE [--kpi FILE] [--log FILE] [--duration SECONDS]\n"
    "                  [--control SOCKET]\n"
    "Plays a host's traffic roles from its plan (JSON) and writes KPI records\n"
    "as JSON Lines to --kpi (default standard output).  With --control, takes\n"
    "commands that raise its traffic (a rate multiplier, extra video streams)\n"
    "as JSON datagrams on that Unix socket.\n";

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "plan", required_argument, NULL, 'p' }, { "kpi", required_argument, NULL, 'k' },
        { "log", required_argument, NULL, 'l' },  { "duration", required_argument, NULL, 'd' },
        { "control", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    const char *plan_path = NULL, *kpi_path = NULL, *log_path = NULL, *control_path = NULL;
    double duration = 0;
    struct tr_agent a = { .ep = -1, .load = 1, .svc_load = { 1, 1, 1, 1 }, .control_fd = -1 };
    struct sigaction sa;
    json_error_t je;
    json_t *plan, *roles;
    int c, started = 0;
    struct {
        const char *name;
        int (*start)(struct tr_agent *, json_t *, struct sr_error *);
    } services[] = { { "chat", tr_chat_start },
                     { "broadcast", tr_broadcast_start },
                     { "video", tr_video_start },
                     { "web", tr_web_start },
                     { "mail", tr_mail_start },
                     { "p2p", tr_p2p_start } };

    while ((c = getopt_long(argc, argv, "p:k:l:d:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': plan_path = optarg; break;
        case 'k': kpi_path = optarg; break;
        case 'l': log_path = optarg; break;
        case 'c': control_path = optarg; break;
        case 'd':
            if (!sr_parse_double(optarg, &duration) || duration < 0) {
                fprintf(stderr, "simtraffic: invalid duration '%s'\n%s", optarg, usage);
                return 2;
            }
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (!plan_path || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    plan = json_load_file(plan_path, 0, &je);
    if (!plan || !json_is_string(json_object_get(plan, "host")) ||
        !json_is_object(json_object_get(plan, "roles"))) {
        if (plan) {
            fprintf(stderr, "simtraffic: %s: the plan needs \"host\" (a string) and "
                            "\"roles\" (an object)\n", plan_path);
        } else if (je.line > 0) {
            fprintf(stderr, "simtraffic: %s:%d:%d: %s\n", plan_path, je.line, je.column, je.text);
        } else {
            fprintf(stderr, "simtraffic: %s\n", je.text);
        }
        json_decref(plan);
        return 2;
    }
    a.host = xstrdup(json_string_value(json_object_get(plan, "host")));
    if (json_is_string(json_object_get(plan, "ip"))) {
        a.ip = xstrdup(json_string_value(json_object_get(plan, "ip")));
    }
    sr_rng_seed(&a.rng, (uint64_t) json_integer_value(json_object_get(plan, "seed")), 5);
    a.t0 = tr_mono();
    {
        json_t *curve = json_object_get(plan, "curve");
        double amp = json_number_value(json_object_get(curve, "amplitude"));
        double period = json_number_value(json_object_get(curve, "period_s"));

        /* 0.9 at most: the rate never falls to nothing. */
        if (curve && amp >= 0 && amp <= 0.9 && period > 0) {
            a.curve_amp = amp;
            a.curve_period = period;
            a.curve_phase = json_number_value(json_object_get(curve, "phase"));
        }
    }
    a.kpi = kpi_path ? fopen(kpi_path, "a") : stdout;
    a.log = log_path ? fopen(log_path, "a") : stderr;
    a.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!a.kpi || !a.log || a.ep < 0) {
        fprintf(stderr, "simtraffic: cannot open its files: %s\n", strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    roles = json_object_get(plan, "roles");
    for (size_t i = 0; i < SR_ARRAY_SIZE(services); i++) {
        json_t *part = json_object_get(roles, services[i].name);
        struct sr_error err = { 0 };

        if (!part) {
            continue;
        }
        /* A role that cannot start is logged; the others go on. */
        if (services[i].start(&a, part, &err) < 0) {
            tr_warn(&a, services[i].name, "%s", err.msg);
        } else {
            started++;
        }
    }
    if (!started) {
        tr_warn(&a, "agent", "no role could start");
    }
    if (control_path && control_open(&a, control_path) < 0) {
        return 1;
    }
    run_loop(&a, duration);
    if (control_path) {
        unlink(control_path);
    }
    if (!a.kpi_errno && (fflush(a.kpi) != 0 || (a.kpi != stdout && fclose(a.kpi) != 0))) {
        a.kpi_errno = errno ? errno : EIO;
        tr_warn(&a, "agent", "cannot write KPI records: %s", strerror(a.kpi_errno));
    }
    json_decref(plan);
    if (a.kpi_errno) {
        return a.kpi_errno == ENOSPC || a.kpi_errno == EDQUOT ? SR_AGENT_EXIT_DISK_FULL
                                                              : SR_AGENT_EXIT_WRITE;
    }
    return 0;
}
