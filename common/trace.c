#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct sr_trace {
    FILE *f;
};

struct sr_trace *
sr_trace_open(const char *path, struct sr_error *err)
{
    struct sr_trace *t = xcalloc(1, sizeof *t);

    t->f = fopen(path, "ae");
    if (!t->f) {
        sr_error_set(err, SR_EIO, "cannot open the protocol trace '%s': %s", path,
                     strerror(errno));
        free(t);
        return NULL;
    }
    return t;
}

void
sr_trace_free(struct sr_trace *t)
{
    if (t) {
        fclose(t->f);
        free(t);
    }
}

void
sr_trace(struct sr_trace *t, const char *what, json_t *msg)
{
    json_t *line;

    if (!t) {
        return;
    }
    line = json_pack("{s:s, s:O}", "what", what, "msg", msg ? msg : json_null());
    json_dumpf(line, t->f, JSON_COMPACT);
    fputc('\n', t->f);
    fflush(t->f);
    json_decref(line);
}

void
sr_trace_text(struct sr_trace *t, const char *what, const char *text, size_t len)
{
    json_t *msg;

    if (!t) {
        return;
    }
    msg = json_loadb(text, len, 0, NULL);
    if (!msg) {
        /* An integer above 2^63-1 (a 64-bit cookie) is beyond jansson's
         * integers: read as a real, so the message's shape is still
         * checked (draft 7 counts 1.7e19 as an integer). */
        msg = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, NULL);
    }
    if (!msg) {
        msg = json_stringn(text, len);
    }
    sr_trace(t, what, msg);
    json_decref(msg);
}
