#include "error.h"

#include <stdio.h>
#include <string.h>

int
sr_error_vset(struct sr_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -code;
}

int
sr_error_set(struct sr_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sr_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -code;
}

void
sr_error_prefix(struct sr_error *err, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    size_t n, rest;
    va_list ap;

    if (!err) {
        return;
    }
    /* Long messages are cut at the end: the prefix names what failed. */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n = strlen(msg);
    if (n + 2 < sizeof msg) {
        memcpy(msg + n, ": ", 3);
        n += 2;
    }
    rest = strnlen(err->msg, sizeof err->msg);
    if (rest > sizeof msg - 1 - n) {
        rest = sizeof msg - 1 - n;
    }
    memcpy(msg + n, err->msg, rest);
    msg[n + rest] = '\0';
    memcpy(err->msg, msg, sizeof msg);
}

void
sr_error_clear(struct sr_error *err)
{
    if (err) {
        err->code = SR_OK;
        err->msg[0] = '\0';
    }
}

const char *
sr_code_name(int code)
{
    switch (code < 0 ? -code : code) {
    case SR_OK: return "success";
    case SR_EINVAL: return "invalid input";
    case SR_ENOMEM: return "out of memory";
    case SR_EIO: return "input/output error";
    case SR_ENOTFOUND: return "not found";
    case SR_ELIB: return "library error";
    case SR_ETIMEDOUT: return "timed out";
    case SR_ERANGE: return "out of range";
    case SR_EINTR: return "interrupted";
    case SR_EPERM: return "not permitted";
    case SR_EBUSY: return "busy";
    case SR_ENOSPC: return "disk full";
    default: return "unknown error";
    }
}
