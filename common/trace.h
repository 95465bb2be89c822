/* A protocol trace: every message that crosses a process boundary
 * (the Mininet control channel, the agents' control datagrams, the
 * embedded controller's extensions) as one JSON line {"what": KIND,
 * "msg": ...}, so a test can check real messages, from both sides,
 * against the one written definition in docs/protocols/.  Off unless a
 * trace is given (simrun: $SIMRUN_PROTOCOL_TRACE). */
#ifndef SR_TRACE_H
#define SR_TRACE_H 1

#include <jansson.h>
#include <stddef.h>

#include "error.h"

struct sr_trace;

/* Appends to the file at 'path'.  NULL with 'err' filled on failure. */
struct sr_trace *sr_trace_open(const char *path, struct sr_error *err);
void sr_trace_free(struct sr_trace *t);

/* Records 'msg' as a message of kind 'what' ("mininet.request", ...).
 * Accepts a NULL trace (then does nothing). */
void sr_trace(struct sr_trace *t, const char *what, json_t *msg);
/* The same for a message that is JSON text of 'len' bytes; text that is
 * not JSON is recorded as a string, which the check then refuses. */
void sr_trace_text(struct sr_trace *t, const char *what, const char *text, size_t len);

#endif
