/* simtraffic: the per-host traffic agent.  One process per host plays all
 * of that host's roles from a plan file, in one event loop (epoll and a
 * timer heap; no thread per connection), and writes what a user of each
 * service would feel as KPI records (JSON Lines).
 *
 * Services live one per file (chat.c, broadcast.c, ...) and share this
 * header: the loop, timers, the seeded random generator, and the KPI
 * writer. */
#ifndef SR_AGENT_H
#define SR_AGENT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"

struct tr_agent;

/* Called when 'fd' is ready ('events' are EPOLL* bits). */
typedef void tr_io_fn(struct tr_agent *a, int fd, uint32_t events, void *ctx);
/* Called when a timer is due. */
typedef void tr_timer_fn(struct tr_agent *a, void *ctx);

int tr_watch(struct tr_agent *a, int fd, uint32_t events, tr_io_fn *fn, void *ctx);
int tr_rewatch(struct tr_agent *a, int fd, uint32_t events);
void tr_unwatch(struct tr_agent *a, int fd);

/* Listens on TCP 'port' (all addresses) and calls 'fn' when connections
 * wait to be accepted.  Fills 'err' ("cannot listen on <what> port N: ...")
 * on failure. */
int tr_listen(struct tr_agent *a, int port, const char *what, tr_io_fn *fn, void *ctx,
              struct sr_error *err);

/* Calls 'fn' after 'delay_s' seconds; returns a timer id (> 0). */
uint64_t tr_after(struct tr_agent *a, double delay_s, tr_timer_fn *fn, void *ctx);
void tr_cancel(struct tr_agent *a, uint64_t id);

/* Seconds since the epoch (wall clock, for KPI times) and a monotonic
 * clock for intervals. */
double tr_wall(void);
double tr_mono(void);

struct sr_rng *tr_rng(struct tr_agent *a);
const char *tr_host(const struct tr_agent *a);
/* The host's address from the plan ("ip"), or NULL. */
const char *tr_ip(const struct tr_agent *a);

/* Writes one KPI record: time, host, service, peer and 'metrics' (an
 * object, consumed). */
void tr_kpi(struct tr_agent *a, const char *service, const char *peer, json_t *metrics);

/* Logs a problem of one role; the agent goes on with its other roles. */
void tr_warn(struct tr_agent *a, const char *service, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The roles whose sessions come at random (tr_exp). */
enum tr_service { TR_CHAT, TR_P2P, TR_WEB, TR_MAIL, TR_NSERVICES };

/* An exponentially distributed interval with mean 'mean_s' divided by the
 * agent's load and the service's own (a flash crowd): every role draws its
 * next event with it, so a load of 4 (a traffic fault) makes every role
 * four times as busy.  While the host is quiet (it left the network for a
 * while), the interval starts when the quiet ends. */
double tr_exp(struct tr_agent *a, enum tr_service svc, double mean_s);
/* The rate multiplier (1 normally; set through the control socket). */
double tr_load(const struct tr_agent *a);

/* The video service's state, kept by the agent for the control socket. */
struct video;
struct video **tr_video_slot(struct tr_agent *a);
/* Replaces the extra video streams a traffic fault asked for: 'streams'
 * viewers of 'servers' (round-robin), plus, with 'load' L > 1, L - 1 more
 * streams for each viewer of the plan from its own server.  Extra viewers
 * report like the others, with "extra": true.  Returns how many extra
 * viewers there now are. */
int tr_video_extra(struct tr_agent *a, size_t streams, json_t *servers, double load,
                   struct sr_error *err);

/* libcurl on the loop (curlloop.c): 'done' gets each finished transfer
 * (the easy handle, removed from the multi handle; the callee cleans it). */
struct tr_curl;
typedef void tr_curl_done_fn(void *ctx, void *easy, int result);
struct tr_curl *tr_curl_new(struct tr_agent *a, tr_curl_done_fn *done, void *ctx,
                            struct sr_error *err);
void tr_curl_add(struct tr_curl *c, void *easy);

/* Services: each starts its roles from its part of the plan. */
int tr_chat_start(struct tr_agent *a, json_t *plan, struct sr_error *err);
int tr_broadcast_start(struct tr_agent *a, json_t *plan, struct sr_error *err);
int tr_video_start(struct tr_agent *a, json_t *plan, struct sr_error *err);
int tr_web_start(struct tr_agent *a, json_t *plan, struct sr_error *err);
int tr_mail_start(struct tr_agent *a, json_t *plan, struct sr_error *err);
int tr_p2p_start(struct tr_agent *a, json_t *plan, struct sr_error *err);

#endif
