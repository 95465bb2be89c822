#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
sr_buf_init(struct sr_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
sr_buf_release(struct sr_buf *b)
{
    if (b) {
        free(b->data);
        sr_buf_init(b);
    }
}

void
sr_buf_clear(struct sr_buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

void
sr_buf_append(struct sr_buf *b, const void *data, size_t n)
{
    xgrow((void **) &b->data, &b->cap, b->len + n + 1, 1);
    if (n) {
        memcpy(b->data + b->len, data, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

void
sr_buf_puts(struct sr_buf *b, const char *s)
{
    sr_buf_append(b, s, strlen(s));
}

void
sr_buf_putc(struct sr_buf *b, char c)
{
    sr_buf_append(b, &c, 1);
}

void
sr_buf_vprintf(struct sr_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n > 0) {
        xgrow((void **) &b->data, &b->cap, b->len + (size_t) n + 1, 1);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, again);
        b->len += (size_t) n;
    }
    va_end(again);
}

void
sr_buf_printf(struct sr_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *
sr_buf_steal(struct sr_buf *b)
{
    char *p = b->data ? b->data : xstrdup("");

    sr_buf_init(b);
    return p;
}

const char *
sr_buf_cstr(const struct sr_buf *b)
{
    return b->data ? b->data : "";
}
