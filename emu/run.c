/* The run executor.  The collector's sweep clock drives everything: after
 * each sweep, faults that are due are injected (and verified), faults that
 * are in effect are checked again, and faults whose time is up are
 * reverted (and verified).  Every step is an event in faults.jsonl and
 * moves the labels of the rows that follow. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "dataset.h"
#include "capture_run.h"
#include "diagnoser.h"
#include "episodes.h"
#include "kafka.h"
#include "files.h"
#include "score.h"
#include "faultenv.h"
#include "log.h"
#include "proc.h"
#include "traffic_plan.h"
#include "util.h"

/* EP_REVERTING: reverted, waiting to see it (faults seen over a window). */
enum ep_state { EP_PENDING, EP_ACTIVE, EP_REVERTING, EP_DONE };

/* How long a fault may take to show, and to go. */
#define VERIFY_S 5.0
#define VERIFY_SLOW_S 10.0
/* How soon a fault being verified is looked at again. */
#define LOOK_EVERY_S 0.05
#define REVERT_S 20.0

struct ep {
    const struct flt_episode *e;
    enum ep_state state;
    struct flt_run *run;
    bool verified, healed;
    bool partly;              /* noted that the controller began to heal it */
    bool checking;            /* verification (of the fault, or of its revert) under way */
    double check_t0;          /* when the step began (sr_now) */
    double next_look;         /* collection time of the next look */
    double next_watch;        /* of the next look for healing */
    double look_s;            /* how long the last look took */
    struct col_touch *touched;
    size_t ntouched;
};

/* A JSON-lines file of the run written a whole line at a time: after a
 * failed write it is cut back to its last whole line and written no more. */
struct line_log {
    FILE *f;                  /* NULL after a failed write, or when not opened */
    off_t good;               /* its size after the last whole line */
    const char *name;         /* "faults.jsonl" */
};

struct exec {
    const struct sim_plan *plan;
    struct sim_faultenv fe;
    struct collector *col;
    struct ep *eps;
    size_t neps;
    struct line_log log;      /* faults.jsonl */
    struct line_log changes;  /* changes.jsonl: the operator's changes */
    size_t next_change;       /* plan->apps.changes[next_change] is due next */
    unsigned char *churn;     /* per plan->churn event: 0 to come, 1 under way, 2 over */
    double wall0;
    bool progress;
    bool died;                /* a child of the runtime failed */
    struct sr_error werr;     /* the first failed write outside the collector */
    bool agents;              /* the traffic agents are running */
    struct sim_run_summary *sum;
    double interval;          /* the collector's, in seconds */
    struct col_sink *sinks;   /* the run's (diagnoser, Kafka), owned */
    size_t nsinks;
    struct sim_capture *cap;  /* [capture], or NULL */
    /* The link watch: since when no fault has been in the air, the last
     * look, and whether links were found lost (and since when). */
    double quiet_since, watch_t, lost_t;
    bool links_lost;
};

/* While no fault is in the air the controller must know every link; it is
 * asked every WATCH_EVERY_S, from WATCH_SETTLE_S after the last fault (a
 * link that a fault took down is found again within os-ken's 10-s link
 * timeout and a round of LLDP). */
#define WATCH_EVERY_S 10.0
#define WATCH_SETTLE_S 15.0

/* Writes 'o' (consumed) as a line of 'l', at once.  A failed write stops
 * the run (see 'werr'). */
static void
line_out(struct exec *x, struct line_log *l, json_t *o)
{
    if (l->f && (json_dumpf(o, l->f, JSON_COMPACT | JSON_REAL_PRECISION(10)) < 0 ||
                 fputc('\n', l->f) == EOF || fflush(l->f) != 0)) {
        int e = errno ? errno : EIO, fd = dup(fileno(l->f));

        if (!x->werr.code) {
            sr_error_set(&x->werr, sr_write_code(e), "cannot write '%s/%s': %s%s", x->sum->dir,
                         l->name, strerror(e),
                         sr_write_code(e) == SR_ENOSPC ? " (the disk is full)" : "");
        }
        /* Whole lines only: cut back to the last one written, stop writing. */
        fclose(l->f);
        l->f = NULL;
        if (fd >= 0) {
            (void) !ftruncate(fd, l->good);
            close(fd);
        }
    } else if (l->f) {
        l->good = ftello(l->f);
    }
    json_decref(o);
}

/* A line of faults.jsonl. */
static void
log_line(struct exec *x, json_t *o)
{
    line_out(x, &x->log, o);
}

/* Starts or ends churn event 'e' ('start') on its hosts' agents and
 * records it in changes.jsonl (the rows stay normal). */
static void
churn_step(struct exec *x, const struct sim_churn_event *e, bool start)
{
    const struct topology *t = x->plan->topo;
    json_t *o = sim_churn_json(e, t), *servers = json_array(), *host;
    struct sr_buf failed = SR_BUF_INIT;
    size_t i, ok = 0;
    char ip[32], iso[40];

    for (i = 0; i < t->nhost; i++) {
        if (t->host[i].role == TOPO_ROLE_SERVER) {
            topo_format_ip(t->host[i].ip, ip, sizeof ip);
            json_array_append_new(servers, json_string(ip));
        }
    }
    json_array_foreach(json_object_get(o, "hosts"), i, host) {
        struct sr_error err = { 0 };

        if (!x->fe.env.traffic) {
            sr_buf_printf(&failed, "%sthe run has no traffic agents", failed.len ? "; " : "");
            break;
        }
        if (x->fe.env.traffic(x->fe.env.ctx, json_string_value(host),
                              sim_churn_command(e, start, servers), &err) < 0) {
            sr_buf_printf(&failed, "%s%s: %s", failed.len ? "; " : "", json_string_value(host),
                          err.msg);
        } else {
            ok++;
        }
    }
    sr_iso_time(sr_wall(), iso, sizeof iso);
    json_object_set_new(o, "event", json_string(start ? "churn_start" : "churn_end"));
    json_object_set_new(o, "t_s", json_real(round(col_now_s(x->col) * 1000) / 1000));
    json_object_set_new(o, "time", json_string(iso));
    json_object_set_new(o, "ok", json_boolean(failed.len == 0));
    json_object_set_new(o, "agents", json_integer((json_int_t) ok));
    if (failed.len) {
        SR_WARN("%s %s: %s", json_string_value(json_object_get(o, "churn")),
                start ? "start" : "end", sr_buf_cstr(&failed));
        json_object_set_new(o, "error", json_string(sr_buf_cstr(&failed)));
    }
    sr_buf_release(&failed);
    json_decref(servers);
    line_out(x, &x->changes, o);
}

/* Carries out the operator's change 'c' through the controller and
 * records it, done or not, in changes.jsonl (the rows stay normal). */
static void
operator_change(struct exec *x, const struct sim_change *c)
{
    json_t *req = sim_change_json(c, x->plan->topo), *answer = NULL, *o;
    struct sr_error err = { 0 };
    double t0 = sr_now();
    char iso[40];
    int rc = ctl_client_operator(x->fe.env.ctl, req, &answer, &err);

    sr_iso_time(sr_wall(), iso, sizeof iso);
    o = json_deep_copy(req);
    json_object_set_new(o, "event", json_string("change"));
    json_object_set_new(o, "t_s", json_real(round(col_now_s(x->col) * 1000) / 1000));
    json_object_set_new(o, "time", json_string(iso));
    json_object_set_new(o, "at_s", json_real((double) c->at_ms / 1000.0));
    json_object_set_new(o, "took_ms", json_real(round((sr_now() - t0) * 10000) / 10));
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc == 0) {
        json_object_set_new(o, "answer", answer);
    } else {
        SR_WARN("operator change %s: %s", sim_change_kind_name(c->kind), err.msg);
        json_object_set_new(o, "error", json_string(err.msg));
    }
    json_decref(req);
    line_out(x, &x->changes, o);
}

/* One line of faults.jsonl: every event carries type, id, target, times. */
static void
event(struct exec *x, const struct ep *p, const char *kind, double took_ms, const char *seen)
{
    char iso[40];
    json_t *o;

    sr_iso_time(sr_wall(), iso, sizeof iso);
    o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:f, s:s, s:f, s:f}", "event", kind, "type",
                  p->e->type->name, "id", p->e->id, "target", p->e->target, "selector",
                  p->e->selector ? p->e->selector : p->e->target, "t_s",
                  round(col_now_s(x->col) * 1000) / 1000, "time", iso, "at_s",
                  (double) p->e->at_ms / 1000.0, "duration_s",
                  (double) p->e->duration_ms / 1000.0);
    if (p->e->spec.service && (p->e->type->params & FLT_P_SERVICE)) {
        json_object_set_new(o, "service", json_string(p->e->spec.service));
    }
    if (!strcmp(kind, "inject")) {
        /* What was drawn for the episode: its parameters, and the marks
         * its rules carry (how simrun finds them again). */
        const struct flt_spec *sp = &p->e->spec;
        unsigned prm = p->e->type->params;

        if (prm & FLT_P_TIMEOUT) {
            json_object_set_new(o, "timeout_s", json_real((double) sp->timeout_ms / 1000.0));
        }
        if (prm & FLT_P_RATE) {
            json_object_set_new(o, "rate_kbps", json_integer(sp->rate_kbps));
        }
        if (prm & FLT_P_STREAMS) {
            json_object_set_new(o, "streams", json_integer(sp->streams));
        }
        if (prm & FLT_P_FACTOR) {
            json_object_set_new(o, "factor", json_integer(sp->factor));
        }
        if (flt_adds_rules(p->e->type)) {
            json_object_set_new(o, "cookie", json_sprintf("0x%016llx",
                                                          (unsigned long long) sp->cookie));
            json_object_set_new(o, "priority", json_integer(sp->priority));
        }
    }
    if (took_ms >= 0) {
        json_object_set_new(o, "took_ms", json_real(round(took_ms * 10) / 10));
    }
    if (seen) {
        json_object_set_new(o, strcmp(kind, "failed") ? "seen" : "reason", json_string(seen));
    }
    col_fault_record(x->col, o);
    log_line(x, o);
}

/* A line of faults.jsonl for what happened that no fault of the plan
 * did ("event": "unplanned" and "unplanned_over"). */
static void
unplanned(struct exec *x, const char *kind, const char *what, const char *seen)
{
    char iso[40];

    json_t *o;

    sr_iso_time(sr_wall(), iso, sizeof iso);
    o = json_pack("{s:s, s:s, s:f, s:s, s:s}", "event", kind, "what", what, "t_s",
                  round(col_now_s(x->col) * 1000) / 1000, "time", iso, "seen", seen);
    col_fault_record(x->col, o);
    log_line(x, o);
}

/* Asks the controller for its links when it is time (see WATCH_EVERY_S);
 * links it lost with no fault in the air make an 'unplanned' event and a
 * manifest warning: rows labelled normal then are not. */
static void
watch_links(struct exec *x, bool quiet)
{
    double now = col_now_s(x->col);
    struct sr_buf missing = SR_BUF_INIT;
    struct sr_error err = { 0 };
    size_t expected = 0;
    int n;

    if (!quiet) {
        x->quiet_since = -1;
        return;
    }
    if (x->quiet_since < 0) {
        x->quiet_since = now;
    }
    if (now - x->quiet_since < WATCH_SETTLE_S || now - x->watch_t < WATCH_EVERY_S) {
        return;
    }
    x->watch_t = now;
    n = sim_runtime_missing_links(x->fe.rt, &missing, &err);
    if (n < 0) {
        /* The controller did not answer: the sweeps record that as gaps. */
        sr_buf_release(&missing);
        return;
    }
    for (size_t i = 0; i < x->plan->topo->nlink; i++) {
        expected += 2 * (x->plan->topo->link[i].kind != TOPO_LINK_HOST);
    }
    if (n > 0 && !x->links_lost) {
        char *seen = xasprintf("the controller does not know %d of the %zu links: %s%s", n,
                               expected, sr_buf_cstr(&missing), n > 10 ? ", ..." : "");

        x->links_lost = true;
        x->lost_t = now;
        x->sum->links_lost++;
        SR_WARN("t=%.1f s, no fault in the air: %s", now, seen);
        unplanned(x, "unplanned", "links", seen);
        free(seen);
    } else if (n == 0 && x->links_lost) {
        char *msg = xasprintf("with no fault in the air the controller lost links between "
                              "%.0f s and %.0f s (see the 'unplanned' events in faults.jsonl)",
                              x->lost_t, now);

        x->links_lost = false;
        SR_INFO("t=%.1f s: the controller knows every link again", now);
        unplanned(x, "unplanned_over", "links", "the controller knows every link again");
        col_warn(x->col, msg);
        free(msg);
    }
    sr_buf_release(&missing);
}

/* What a fault will touch, for labels, from its resolved target. */
static void
touched_of(struct exec *x, struct ep *p)
{
    const struct flt_env *env = &x->fe.env;
    const char *target = p->e->target;
    struct flt_link_info l;
    struct flt_host_info h;
    uint64_t dpid;

    p->touched = xcalloc(2, sizeof *p->touched);
    if (env->link_of(env->ctx, target, &l)) {
        p->touched[0] = (struct col_touch) { l.a, l.a_port };
        p->touched[1] = (struct col_touch) { l.b, l.b_port };
        p->ntouched = 2;
    } else if (env->host_of(env->ctx, target, &h)) {
        p->touched[0] = (struct col_touch) { h.sw, h.sw_port };
        p->ntouched = 1;
    } else if (env->dpid_of(env->ctx, target, &dpid)) {
        p->touched[0] = (struct col_touch) { target, 0 };
        p->ntouched = 1;
    }
}

static void
verified(struct exec *x, struct ep *p, double took_ms, const char *seen)
{
    p->verified = true;
    event(x, p, "verified", took_ms, seen);
    col_fault_event(x->col, p->e->id, COL_VERIFIED, col_now_s(x->col));
    x->sum->verified++;
}

static void
reverted(struct exec *x, struct ep *p, double took_ms, const char *seen)
{
    event(x, p, "reverted", took_ms, seen);
    col_fault_event(x->col, p->e->id, COL_REVERTED, col_now_s(x->col));
    sim_capture_fault(x->cap, p->e->id, COL_REVERTED, col_now_s(x->col));
    x->sum->reverted++;
}

static void
failed(struct exec *x, struct ep *p, double took_ms, const char *why, bool injecting)
{
    SR_WARN("%s%s on %s: %s", injecting ? "" : "reverting ", p->e->type->name, p->e->target, why);
    event(x, p, "failed", took_ms, why);
    if (injecting) {
        col_fault_event(x->col, p->e->id, COL_FAILED, col_now_s(x->col));
    } else {
        /* Its capture window ends as a restored fault's would. */
        sim_capture_fault(x->cap, p->e->id, COL_REVERTED, col_now_s(x->col));
    }
    x->sum->failed++;
}

/* The time a look at a fault may take, before it is known (then the
 * last look's). */
#define LOOK_GUESS_S 0.2
/* How often a verified fault is looked at for healing. */
#define WATCH_EVERY_S_FAULT 2.0

static void
inject(struct exec *x, struct ep *p)
{
    struct sr_error err = { 0 };
    double t0 = sr_now(), t = col_now_s(x->col);

    SR_INFO("t=%.1f s: injecting %s on %s", t, p->e->type->name, p->e->target);
    event(x, p, "inject", -1, NULL);
    col_fault_event(x->col, p->e->id, COL_INJECT, t);
    p->state = EP_ACTIVE;
    x->sum->injected++;
    if (flt_inject(&x->fe.env, p->e, &p->run, &err) < 0) {
        failed(x, p, (sr_now() - t0) * 1000.0, err.msg, true);
        return;
    }
    /* Verified by looks between sweeps (see idle): never in the way of
     * one. */
    p->checking = true;
    p->check_t0 = t0;
    p->next_look = 0;
}

/* One look at a fault being verified (or, reverting, at its undoing):
 * verified (or reverted) once it shows, failed when it has not shown
 * within the time allowed. */
static void
look(struct exec *x, struct ep *p)
{
    struct sr_error err = { 0 };
    struct sr_buf seen = SR_BUF_INIT;
    bool back = p->state == EP_REVERTING;
    double t0 = sr_now(), took = t0 - p->check_t0;
    double limit = back ? REVERT_S : flt_run_slow(p->run, false) ? VERIFY_SLOW_S : VERIFY_S;
    int ok = flt_look(&x->fe.env, p->run, back, &seen, &err);

    p->look_s = sr_now() - t0;
    took = sr_now() - p->check_t0;
    if (ok == 1) {
        p->checking = false;
        if (back) {
            p->state = EP_DONE;
            reverted(x, p, took * 1000.0, sr_buf_cstr(&seen));
        } else {
            verified(x, p, took * 1000.0, sr_buf_cstr(&seen));
        }
    } else if (took > limit) {
        char *why = xasprintf("%s not %s within %.0f s: %s", p->e->type->name,
                              back ? "reverted" : "in effect", limit,
                              ok < 0 ? err.msg : sr_buf_cstr(&seen));

        p->checking = false;
        if (back) {
            p->state = EP_DONE;
        }
        failed(x, p, took * 1000.0, why, !back);
        free(why);
    }
    sr_buf_release(&seen);
}

static void
revert(struct exec *x, struct ep *p, const char *why)
{
    struct sr_error err = { 0 };
    double t0 = sr_now();

    SR_INFO("t=%.1f s: reverting %s on %s%s", col_now_s(x->col), p->e->type->name, p->e->target,
            why ? why : "");
    event(x, p, "revert", -1, why);
    col_fault_event(x->col, p->e->id, COL_REVERT, col_now_s(x->col));
    p->state = EP_DONE;
    if (!p->run) {
        return;
    }
    if (p->checking) {
        failed(x, p, (sr_now() - p->check_t0) * 1000.0,
               "the fault had not shown when its time was up", true);
        p->checking = false;
    }
    if (flt_revert(&x->fe.env, p->run, &err) < 0) {
        failed(x, p, (sr_now() - t0) * 1000.0, err.msg, false);
        return;
    }
    p->state = EP_REVERTING;
    p->checking = true;
    p->check_t0 = t0;
    p->next_look = 0;
}

/* Whether a verified fault is still in effect: the controller may heal it. */
static void
recheck(struct exec *x, struct ep *p)
{
    struct sr_error err = { 0 };
    struct sr_buf seen = SR_BUF_INIT;
    size_t left = 0, of = 0;
    bool counted;
    double t0 = sr_now();
    int rc;

    rc = flt_check(&x->fe.env, p->run, &seen, &err);
    p->look_s = sr_now() - t0;
    counted = rc >= 0 && flt_run_effect(p->run, &left, &of);
    if (counted) {
        col_fault_effect(x->col, p->e->id, col_now_s(x->col), (double) left / (double) of);
    }
    if (rc == 0) {
        if (counted && left == of) {
            /* Every changed flow is still as the fault made it; what the
             * look missed is not the fault's doing. */
        } else if (counted && left > 0) {
            /* The controller put some of the flows back, not all: still in
             * effect.  Noted once, when it starts. */
            if (!p->partly) {
                p->partly = true;
                x->sum->partly_healed++;
                SR_INFO("%s on %s is partly healed: %s", p->e->type->name, p->e->target,
                        sr_buf_cstr(&seen));
                event(x, p, "partly_healed", -1, sr_buf_cstr(&seen));
            }
        } else {
            p->healed = true;
            x->sum->healed++;
            SR_INFO("%s on %s is no longer in effect: %s", p->e->type->name, p->e->target,
                    sr_buf_cstr(&seen));
            event(x, p, "healed", -1, sr_buf_cstr(&seen));
            col_fault_event(x->col, p->e->id, COL_HEALED, col_now_s(x->col));
        }
    }
    sr_buf_release(&seen);
}

/* The fault steps that are due, in the time between sweeps: injections and
 * reverts when their time has come, looks that verify them, and the watch
 * for healing.  A look starts only when it fits before the next sweep
 * (judged by the last look's length), so the sweeps keep their clock.
 * Returns how soon it wants to be called again (seconds). */
static double
idle(void *ctx, struct collector *c, double next_sweep_s)
{
    struct exec *x = ctx;
    double again = sim_capture_windows(x->cap, col_now_s(x->col));

    (void) c;
    for (size_t i = 0; i < x->plan->churn.n; i++) {
        const struct sim_churn_event *e = &x->plan->churn.ev[i];
        double at = (double) e->at_ms / 1000.0, end = at + (double) e->duration_ms / 1000.0;
        double now = col_now_s(x->col);

        if (x->churn[i] == 0 && now >= at) {
            churn_step(x, e, true);
            x->churn[i] = 1;
        } else if (x->churn[i] == 1 && now >= end) {
            churn_step(x, e, false);
            x->churn[i] = 2;
        }
        if (x->churn[i] < 2) {
            again = fmin(again, (x->churn[i] ? end : at) - now);
        }
    }
    while (x->next_change < x->plan->apps.nchanges) {
        const struct sim_change *ch = &x->plan->apps.changes[x->next_change];
        double at = (double) ch->at_ms / 1000.0;

        if (col_now_s(x->col) < at) {
            again = fmin(again, at - col_now_s(x->col));
            break;
        }
        operator_change(x, ch);
        x->next_change++;
    }
    for (size_t i = 0; i < x->neps; i++) {
        struct ep *p = &x->eps[i];
        double now = col_now_s(x->col), room = next_sweep_s - now;
        double at = (double) p->e->at_ms / 1000.0, end = at + (double) p->e->duration_ms / 1000.0;
        double cost = p->look_s > 0 ? p->look_s : LOOK_GUESS_S;

        if (p->state == EP_PENDING && now >= at) {
            inject(x, p);
            again = 0;
        } else if (p->state == EP_ACTIVE && now >= end) {
            revert(x, p, NULL);
            again = 0;
        } else if (p->checking && now >= p->next_look) {
            if (cost < room || room > x->interval * 0.9) {
                look(x, p);
                p->next_look = col_now_s(x->col) + LOOK_EVERY_S;
                again = p->checking ? fmin(again, LOOK_EVERY_S) : 0;
            } else {
                again = fmin(again, room + 0.01); /* after the sweep */
            }
        } else if (p->checking) {
            again = fmin(again, p->next_look - now);
        } else if (p->state == EP_ACTIVE && p->verified && !p->healed && p->run &&
                   now >= p->next_watch) {
            if (cost < room) {
                recheck(x, p);
                p->next_watch = col_now_s(x->col) + WATCH_EVERY_S_FAULT;
            }
            again = fmin(again, fmax(p->next_watch - col_now_s(x->col), room + 0.01));
        } else if (p->state == EP_PENDING) {
            again = fmin(again, at - now);
        } else if (p->state == EP_ACTIVE) {
            again = fmin(again, end - now);
        }
    }
    return again > 0 ? again : 0;
}

static bool
tick(void *ctx, struct collector *c, long k, double t_s)
{
    struct exec *x = ctx;
    struct sr_error err = { 0 };
    const char *active = NULL;
    int rc;

    (void) c;
    for (size_t i = 0; i < x->neps; i++) {
        if (x->eps[i].state == EP_ACTIVE || x->eps[i].state == EP_REVERTING) {
            active = x->eps[i].e->type->name;
        }
    }
    watch_links(x, active == NULL);
    x->sum->sweeps = k + 1;
    if (x->progress) {
        double total = (double) x->plan->duration_ms / 1000.0;
        const char *next = NULL;
        double next_at = 0;

        for (size_t i = 0; i < x->neps && !next; i++) {
            if (x->eps[i].state == EP_PENDING) {
                next = x->eps[i].e->type->name;
                next_at = (double) x->eps[i].e->at_ms / 1000.0;
            }
        }
        fprintf(stderr, "\r  %s %5.0f / %.0f s  sweep %-5ld rows %-7ld fault %-20s next %s",
                t_s < (double) x->plan->scn->warmup_ms / 1000.0 ? "warm-up" : "running", t_s,
                total, k + 1, (k + 1) * (long) x->plan->topo->nsw, active ? active : "-",
                next ? next : "-");
        if (next) {
            fprintf(stderr, " at %.0f s  ", next_at);
        }
        fflush(stderr);
    }
    if (sim_capture_sweep(x->cap, k, t_s, &err) < 0) {
        /* capture.csv and pflows.csv are the dataset too. */
        x->werr = err;
        return false;
    }
    rc = sim_runtime_watch(x->fe.rt, 0, &err);
    if (rc < 0 && err.code == SR_ENOSPC) {
        /* An agent could not write its records: as a failed write of ours. */
        x->werr = err;
        return false;
    }
    if (rc < 0) {
        SR_ERR("%s", err.msg);
        x->died = true;
        return false;
    }
    return rc == 0 && !x->werr.code;
}

/* simtraffic lives beside simrun. */
static char *
agent_path(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;

    if (n <= 0) {
        return NULL;
    }
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash) {
        return NULL;
    }
    *slash = '\0';
    return xasprintf("%s/simtraffic", self);
}

/* Writes every host's plan and starts the agents (traffic starts with the
 * warm-up).  Without the agent, the run goes on without traffic and the
 * manifest says why. */
static void
start_agents(struct exec *x, const struct sim_plan *plan, struct sim_runtime *rt,
             const char *dir)
{
    char *program = agent_path(), *folder = xasprintf("%s/traffic", dir);
    struct sr_error err = { 0 };
    int n;

    if (!program || access(program, X_OK) < 0) {
        col_manifest_set(x->col, "traffic",
                         json_pack("{s:b, s:s}", "generated", 0, "why",
                                   "simtraffic was not found beside simrun"));
        SR_WARN("no traffic: simtraffic was not found beside simrun");
    } else if (mkdir(folder, 0755) < 0 && errno != EEXIST) {
        SR_WARN("no traffic: cannot create '%s': %s", folder, strerror(errno));
    } else if (sim_write_traffic_plans(plan, folder, &err) < 0 ||
               (n = sim_runtime_agents_start(rt, program, folder, &err)) < 0) {
        SR_WARN("no traffic: %s", err.msg);
        col_manifest_set(x->col, "traffic", json_pack("{s:b, s:s}", "generated", 0, "why",
                                                      err.msg));
    } else {
        SR_INFO("traffic: %d agents started", n);
        x->agents = true;
    }
    free(program);
    free(folder);
}

/* Stops the agents and joins their KPIs into traffic.jsonl. */
static void
stop_agents(struct exec *x, const struct sim_plan *plan, struct sim_runtime *rt,
            const char *dir)
{
    char *folder = xasprintf("%s/traffic", dir), *out = xasprintf("%s/traffic.jsonl", dir);
    struct sr_error err = { 0 };
    json_t *counts = json_object();
    long n;

    if (x->agents && x->werr.code == SR_ENOSPC) {
        /* A full disk would fail the join too: the agents' files stay
         * under traffic/, each whole up to its last record. */
        sim_runtime_agents_stop(rt, &err);
        col_manifest_set(x->col, "traffic",
                         json_pack("{s:b, s:s, s:s}", "generated", 1, "files", "traffic/",
                                   "why", "the disk was full: traffic.jsonl was not joined"));
    } else if (x->agents) {
        if (sim_runtime_agents_stop(rt, &err) < 0) {
            /* An agent that could not write its KPI records says so by
             * its exit status: the records are incomplete. */
            SR_WARN("stopping the traffic agents: %s", err.msg);
            if (!x->werr.code && (err.code == SR_ENOSPC || err.code == SR_EIO)) {
                x->werr = err;
            }
        }
        sr_error_clear(&err);
        n = sim_gather_kpis(plan, folder, out, counts, &err);
        if (n < 0) {
            SR_WARN("%s", err.msg);
            if (!x->werr.code) {
                x->werr = err;
            }
        }
        col_manifest_set(x->col, "traffic", json_pack("{s:b, s:I, s:O, s:s}", "generated", 1,
                                                      "records", (json_int_t) (n > 0 ? n : 0),
                                                      "records_per_service", counts, "file",
                                                      "traffic.jsonl"));
    }
    json_decref(counts);
    free(folder);
    free(out);
}

/* episodes.csv, and the same in the manifest: what each episode did. */
static void
write_episodes(struct exec *x, const char *dir, const char *run)
{
    struct sr_error err = { 0 };
    char *path = xasprintf("%s/episodes.csv", dir);
    json_t *eps;

    if (x->log.f) {
        fflush(x->log.f); /* faults.jsonl whole on disk before it is read */
    }
    eps = ep_summarise(dir, run, &err);
    if (!eps) {
        SR_WARN("cannot summarise the episodes: %s", err.msg);
    } else if (ep_write_csv(path, eps, &err) < 0) {
        SR_WARN("%s", err.msg);
        if (err.code == SR_ENOSPC) {
            x->werr = err;
        }
    } else {
        col_manifest_set(x->col, "episodes", json_incref(eps));
    }
    json_decref(eps);
    free(path);
}

void
sim_credentials_release(struct sim_credentials *c)
{
    free(c->url);
    free(c->user);
    sr_free_secret(c->password);
    memset(c, 0, sizeof *c);
}

int
sim_external_controller(const struct scenario *scn, struct ctl_config *cfg,
                        struct sim_credentials *cred, struct sr_error *err)
{
    const struct scn_controller *c = &scn->controller;
    char *url_user = NULL, *url_password = NULL;
    char *env = getenv("SIMRUN_CONTROLLER_PASSWORD");

    memset(cred, 0, sizeof *cred);
    if (c->kind == SCN_CTL_EMBEDDED) {
        return 0;
    }
    memset(cfg, 0, sizeof *cfg);
    /* Credentials written into the URL are taken out of it: the URL is
     * stored and printed, they must not be. */
    cred->url = sr_url_split_userinfo(c->url, &url_user, &url_password);
    cred->user = url_user ? url_user : c->user ? xstrdup(c->user) : NULL;
    if (url_user && c->user) {
        free(url_user);
        cred->user = xstrdup(c->user);
    }
    if (c->password_file) {
        cred->password = sr_read_secret_line(c->password_file, err);
        if (!cred->password) {
            sr_free_secret(url_password);
            sr_error_prefix(err, "the controller's password file");
            sim_credentials_release(cred);
            return -err->code;
        }
        sr_free_secret(url_password);
    } else if (url_password) {
        cred->password = url_password;
    } else if (c->password) {
        cred->password = xstrdup(c->password);
    } else if (env) {
        cred->password = xstrdup(env);
    }
    /* Read once; no child of simrun inherits it (see sr_spawn). */
    if (env) {
        explicit_bzero(env, strlen(env));
        unsetenv("SIMRUN_CONTROLLER_PASSWORD");
    }
    if ((cred->user || cred->password) && sr_url_is_plain_remote(cred->url) &&
        !c->insecure_auth) {
        int rc = sr_error_set(err, SR_EPERM,
                              "refusing to send the controller's credentials over plain "
                              "http:// to '%s', which is not this machine: anyone on the way "
                              "can read them.  Use https://, or say --insecure-credentials "
                              "if you accept that",
                              cred->url);

        sim_credentials_release(cred);
        return rc;
    }
    cfg->kind = c->kind == SCN_CTL_ODL ? CTL_KIND_ODL : CTL_KIND_RYU;
    cfg->url = cred->url;
    cfg->user = cred->user;
    cfg->password = cred->password;
    cfg->api = c->api == SCN_API_RESTCONF ? CTL_ODL_RESTCONF : CTL_ODL_RFC8040;
    cfg->timeout_ms = c->timeout_ms > 0 ? (long) c->timeout_ms : 2000;
    return 1;
}

/* The sinks the scenario asks for, added to the collector. */
static int
add_sinks(struct exec *x, const struct sim_plan *plan, struct sim_runtime *rt,
          const struct sim_run_opts *o, struct sr_error *err)
{
    const struct scenario *scn = plan->scn;

    if (scn->diagnoser.url) {
        char *out = xasprintf("%s/diagnoses.jsonl", x->sum->dir);
        struct sr_buf topo = SR_BUF_INIT;
        json_t *summary = NULL;
        struct dg_config cfg = {
            .url = scn->diagnoser.url,
            .window_s = (double) scn->diagnoser.window_ms / 1000.0,
            .every_s = scn->diagnoser.every_ms ? (double) scn->diagnoser.every_ms / 1000.0
                                               : x->interval,
            .interval_s = x->interval,
            .timeout_ms = (long) scn->diagnoser.timeout_ms,
            .concurrency = (int) scn->diagnoser.concurrency,
            .queue_max = (int) scn->diagnoser.queue,
            .ports = scn->diagnoser.ports,
            .flows = scn->diagnoser.flows,
            .session = sim_runtime_run_id(rt),
            .out_path = out,
            .trace = o->runtime.trace,
        };
        struct dg_sink *dg;

        if (topo_write_json(plan->topo, scn->name, &topo, err) == 0) {
            summary = json_loads(sr_buf_cstr(&topo), 0, NULL);
        }
        cfg.topology = summary;
        dg = dg_sink_new(&cfg, err);
        json_decref(summary);
        sr_buf_release(&topo);
        free(out);
        if (!dg) {
            return -err->code;
        }
        x->sinks = xrealloc(x->sinks, (x->nsinks + 1) * sizeof *x->sinks);
        x->sinks[x->nsinks++] = (struct col_sink) { &dg_sink_ops, dg };
        col_add_sink(x->col, &x->sinks[x->nsinks - 1]);
        SR_INFO("diagnoser: a window of %.0f s every %.1f s to %s", cfg.window_s, cfg.every_s,
                cfg.url);
    }
    if (scn->sink.kafka_brokers) {
        struct kf_config cfg = { .brokers = scn->sink.kafka_brokers,
                                 .topic = scn->sink.kafka_topic,
                                 .labels = scn->sink.kafka_labels };
        struct kf_sink *kf = kf_sink_new(&cfg, err);

        if (!kf) {
            return -err->code;
        }
        x->sinks = xrealloc(x->sinks, (x->nsinks + 1) * sizeof *x->sinks);
        x->sinks[x->nsinks++] = (struct col_sink) { &kf_sink_ops, kf };
        col_add_sink(x->col, &x->sinks[x->nsinks - 1]);
        SR_INFO("kafka: rows to '%s' (and .ports, .flows), fault events to '%s.faults' at %s",
                cfg.topic, cfg.topic, cfg.brokers);
    }
    return 0;
}

/* Scores the diagnoser's answers (score.json) for the summary. */
static void
score_diagnoses(struct sim_run_summary *sum)
{
    struct sr_error err = { 0 };
    char *path = xasprintf("%s/diagnoses.jsonl", sum->dir);
    char *out = xasprintf("%s/score.json", sum->dir);
    json_t *score = sc_score_run(sum->dir, path, &err), *h;
    struct sr_buf line = SR_BUF_INIT;

    if (!score) {
        SR_WARN("cannot score the diagnoser's answers: %s", err.msg);
    } else {
        char *text = json_dumps(score, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

        if (!text || sr_file_new(out, text, strlen(text), 0644, &err) < 0) {
            SR_WARN("cannot write score.json: %s", err.msg);
        }
        free(text);
        h = json_object_get(score, "headline");
        sr_buf_printf(&line, "%s; accuracy %.4f, macro-F1 %.4f; %lld of %lld episodes detected",
                      sum->diagnoser, json_number_value(json_object_get(h, "accuracy")),
                      json_number_value(json_object_get(h, "macro_f1")),
                      (long long) json_integer_value(
                          json_object_get(json_object_get(score, "detection"), "detected")),
                      (long long) json_integer_value(
                          json_object_get(json_object_get(score, "detection"), "episodes")));
        sr_strlcpy(sum->diagnoser, sr_buf_cstr(&line), sizeof sum->diagnoser);
        sr_buf_release(&line);
        json_decref(score);
    }
    free(path);
    free(out);
}

void
sim_run_summary_release(struct sim_run_summary *sum)
{
    free(sum->dir);
    sum->dir = NULL;
}

/* Fills the summary's counts from the manifest the collector wrote last. */
static void
summary_from_manifest(struct sim_run_summary *sum)
{
    char *mpath = xasprintf("%s/manifest.json", sum->dir);
    json_t *m = json_load_file(mpath, 0, NULL), *v;
    const char *label;
    size_t used = 0;

    sum->rows = (long) json_integer_value(json_object_get(json_object_get(m, "rows"), "samples"));
    json_object_foreach(json_object_get(m, "rows_per_label"), label, v) {
        int w = snprintf(sum->labels + used, sizeof sum->labels - used, "%s%s %lld",
                         used ? ", " : "", label, (long long) json_integer_value(v));

        if (w < 0 || (size_t) w >= sizeof sum->labels - used) {
            break;
        }
        used += (size_t) w;
    }
    sum->gaps = (long) json_array_size(json_object_get(m, "gaps"));
    if ((v = json_object_get(m, "diagnoser")) != NULL) {
        snprintf(sum->diagnoser, sizeof sum->diagnoser,
                 "%lld windows: %lld answered, %lld errors (%lld timed out), %lld dropped",
                 (long long) json_integer_value(json_object_get(v, "windows")),
                 (long long) json_integer_value(json_object_get(v, "answers")),
                 (long long) json_integer_value(json_object_get(v, "errors")),
                 (long long) json_integer_value(json_object_get(v, "timeouts")),
                 (long long) json_integer_value(json_object_get(v, "dropped")));
    }
    if ((v = json_object_get(m, "kafka")) != NULL) {
        snprintf(sum->kafka, sizeof sum->kafka,
                 "%lld messages delivered of %lld to '%s' (%lld failed, %lld dropped, %lld "
                 "undelivered)",
                 (long long) json_integer_value(json_object_get(v, "delivered")),
                 (long long) (json_integer_value(json_object_get(v, "produced")) +
                              json_integer_value(json_object_get(v, "dropped"))),
                 json_is_string(json_object_get(v, "topic"))
                     ? json_string_value(json_object_get(v, "topic"))
                     : "",
                 (long long) json_integer_value(json_object_get(v, "failed")),
                 (long long) json_integer_value(json_object_get(v, "dropped")),
                 (long long) json_integer_value(json_object_get(v, "undelivered")));
    }
    json_decref(m);
    free(mpath);
}

int
sim_run(const struct sim_plan *plan, const struct sim_run_opts *o, struct sim_run_summary *sum,
        struct sr_error *err)
{
    const struct scenario *scn = plan->scn;
    struct sim_runtime *rt;
    struct ctl_client *ctl = NULL;
    struct ctl_config cfg = { .kind = CTL_KIND_RYU, .retries = 0, .batch = true };
    char *run_name = xasprintf("%s-%llu", scn->name, (unsigned long long) scn->seed);
    struct col_options co = { .interval_s = (double) scn->collector.interval_ms / 1000.0,
                              .csv = scn->collector.csv, .jsonl = scn->collector.jsonl,
                              .flows = scn->collector.flows, .run = run_name };
    struct exec x = { .plan = plan, .sum = sum, .watch_t = -WATCH_EVERY_S,
                      .interval = (double) scn->collector.interval_ms / 1000.0 };
    struct col_switch *sws = NULL;
    struct col_fault *faults = NULL;
    char *path;
    int rc = 0, sig = 0, crc;

    memset(sum, 0, sizeof *sum);
    sum->status = "failed";
    rt = sim_runtime_up(plan, &o->runtime, err);
    if (!rt) {
        return -err->code;
    }
    sum->dir = xstrdup(sim_runtime_dir(rt));
    sum->ready_s = sim_runtime_ready_s(rt);
    SR_INFO("ready in %.1f s", sum->ready_s);
    if (o->runtime.external) {
        cfg = *o->runtime.external;
        cfg.batch = false;     /* the sweep extension is the embedded controller's */
    }
    cfg.url = sim_runtime_rest_url(rt);
    cfg.trace = o->runtime.trace;
    cfg.timeout_ms = (long) (co.interval_s * 800.0);
    cfg.timeout_ms = cfg.timeout_ms > 2000 ? 2000 : cfg.timeout_ms;
    ctl = ctl_client_new(&cfg, err);
    if (!ctl) {
        sim_runtime_down(rt);
        return -err->code;
    }
    sim_faultenv_init(&x.fe, rt, ctl);
    /* Fault writes are few and must not be lost: their own retries. */
    {
        struct ctl_config fcfg = cfg;

        fcfg.timeout_ms = 3000;
        fcfg.retries = 2;
        x.fe.env.ctl = ctl_client_new(&fcfg, err);
    }
    x.neps = plan->timeline.n;
    x.eps = xcalloc(x.neps + 1, sizeof *x.eps);
    faults = xcalloc(x.neps + 1, sizeof *faults);
    for (size_t i = 0; i < x.neps; i++) {
        struct ep *p = &x.eps[i];

        p->e = &plan->timeline.ep[i];
        touched_of(&x, p);
        faults[i] = (struct col_fault) { p->e->id, p->e->type->name, p->e->target, p->touched,
                                         p->ntouched, !strcmp(p->e->target, "all") };
    }
    co.dir = sum->dir;
    co.manifest = sim_manifest_base(plan, sim_runtime_controller_kind(rt),
                                    sim_runtime_public_url(rt));
    json_object_set_new(co.manifest, "traffic", json_pack("{s:b}", "generated", 0));
    json_object_set_new(co.manifest, "ready_s", json_real(round(sum->ready_s * 10) / 10));
    /* Where the network ran: a lab server ("USER@HOST:PORT"), or null for
     * this machine. */
    json_object_set_new(co.manifest, "lab_server",
                        sim_runtime_lab_server(rt) ? json_string(sim_runtime_lab_server(rt))
                                                   : json_null());
    sws = sim_col_switches(plan);
    x.col = x.fe.env.ctl ? col_new(&co, sws, plan->topo->nsw, faults, x.neps, ctl, err) : NULL;
    if (!x.col) {
        rc = -err->code;
        goto out;
    }
    path = xasprintf("%s/faults.jsonl", sum->dir);
    x.log = (struct line_log) { sr_fopen_new(path, false, err), 0, "faults.jsonl" };
    free(path);
    if (!x.log.f) {
        rc = -err->code;
        goto out;
    }
    x.churn = xcalloc(plan->churn.n + 1, 1);
    if (plan->apps.nchanges || plan->churn.n) {
        path = xasprintf("%s/changes.jsonl", sum->dir);
        x.changes = (struct line_log) { sr_fopen_new(path, false, err), 0, "changes.jsonl" };
        free(path);
        if (!x.changes.f) {
            rc = -err->code;
            goto out;
        }
    }
    if (add_sinks(&x, plan, rt, o, err) < 0) {
        rc = -err->code;
        goto out;
    }
    if (scn->capture.present) {
        x.cap = sim_capture_start(plan, rt, x.col, err);
        if (!x.cap) {
            rc = -err->code;
            goto out;
        }
    }
    x.progress = !o->quiet && isatty(2);
    start_agents(&x, plan, rt, sum->dir);
    SR_INFO("running for %.0f s (warm-up %.0f s, %zu fault episode%s)",
            (double) plan->duration_ms / 1000.0, (double) scn->warmup_ms / 1000.0, x.neps,
            x.neps == 1 ? "" : "s");
    crc = col_run(x.col, (double) plan->duration_ms / 1000.0, tick, idle, &x);
    sig = crc > 0 ? crc : 0;
    if (crc < 0 && !x.werr.code) {
        x.werr = *col_write_error(x.col);
    }
    if (x.progress) {
        fputc('\n', stderr);
    }
    if (x.werr.code) {
        SR_ERR("%s: stopping the run", x.werr.msg);
        /* Room for what still must be written: the revert's events and
         * the last manifest. */
        col_release_reserve(x.col);
    }
    if (x.links_lost) {
        char *msg = xasprintf("with no fault in the air the controller lost links at %.0f s "
                              "and still did not know them at its last look (see the "
                              "'unplanned' event in faults.jsonl)",
                              x.lost_t);

        col_warn(x.col, msg);
        free(msg);
    }
    /* A run cut short still restores what it broke before it tears down. */
    for (size_t i = 0; i < x.neps; i++) {
        if (x.eps[i].state == EP_ACTIVE) {
            revert(&x, &x.eps[i], sig              ? " (the run was interrupted)"
                                  : x.werr.code ? " (the run stopped: a write failed)"
                                                : " (the run ended)");
        }
    }
    /* Slow faults: wait until they are gone, or their time is up. */
    for (size_t i = 0; i < x.neps; i++) {
        while (x.eps[i].state == EP_REVERTING) {
            look(&x, &x.eps[i]);
            if (x.eps[i].state == EP_REVERTING) {
                poll(NULL, 0, 50);
            }
        }
    }
    if (!sig && sr_signals_pending()) {
        sig = sr_signals_pending();
    }
    stop_agents(&x, plan, rt, sum->dir);
    {
        struct sr_error cerr = { 0 };

        if (sim_capture_finish(x.cap, (long) sum->sweeps, col_now_s(x.col), &cerr) < 0 &&
            !x.werr.code) {
            x.werr = cerr;
        }
        x.cap = NULL;
    }
    if (!x.werr.code) {
        write_episodes(&x, sum->dir, run_name);
    }
    if (x.werr.code) {
        col_set_failure(x.col, x.werr.msg);
        sum->status = "failed";
        rc = sr_error_set(err, x.werr.code, "%s", x.werr.msg);
    } else {
        sum->status = sig ? "interrupted" : x.died ? "failed" : "complete";
        rc = sig ? sig : x.died ? -SR_EIO : 0;
        if (rc < 0) {
            sr_error_set(err, SR_EIO, "the network failed during the run (see the log above)");
        }
    }

out:
    if (x.cap) {
        sim_capture_finish(x.cap, (long) sum->sweeps, col_now_s(x.col), NULL);
    }
    if (x.col) {
        col_finish(x.col, sum->status);
        summary_from_manifest(sum);
    }
    for (size_t i = 0; i < x.nsinks; i++) {
        x.sinks[i].ops->free(x.sinks[i].ctx);
    }
    free(x.sinks);
    if (x.col && scn->diagnoser.url) {
        score_diagnoses(sum);
    }
    for (size_t i = 0; i < 2; i++) {
        struct line_log *l = i ? &x.changes : &x.log;

        if (l->f && sr_fclose_checked(l->f, l->name, NULL) < 0 && rc >= 0) {
            /* Closing flushes nothing new (every line was flushed): an
             * error here is the file system's. */
            rc = sr_error_set(err, SR_EIO, "cannot write '%s/%s'", sum->dir, l->name);
            sum->status = "failed";
        }
    }
    for (size_t i = 0; i < x.neps; i++) {
        flt_run_free(x.eps[i].run);
        free(x.eps[i].touched);
    }
    free(x.eps);
    free(x.churn);
    free(faults);
    free(sws);
    free(run_name);
    json_decref(co.manifest);
    ctl_client_free(x.fe.env.ctl);
    sim_faultenv_release(&x.fe);
    ctl_client_free(ctl);
    sim_runtime_down(rt);
    return rc;
}
