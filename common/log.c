#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum sr_log_level log_level = SR_LOG_INFO;

void
sr_log_set_level(enum sr_log_level level)
{
    log_level = level;
}

enum sr_log_level
sr_log_get_level(void)
{
    return log_level;
}

void
sr_log(enum sr_log_level level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    va_list ap;

    if (level > log_level) {
        return;
    }
    fprintf(stderr, "simrun: %s: ", names[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
