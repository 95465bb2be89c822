/* A growable byte buffer that is always NUL-terminated (as curl's dynbuf).
 * Allocation failure aborts (see util.h), so appends cannot fail. */
#ifndef SR_BUF_H
#define SR_BUF_H 1

#include <stdarg.h>
#include <stddef.h>

struct sr_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
};

#define SR_BUF_INIT { NULL, 0, 0 }

void sr_buf_init(struct sr_buf *b);
void sr_buf_release(struct sr_buf *b);
void sr_buf_clear(struct sr_buf *b); /* keeps the allocation, empties it */
void sr_buf_append(struct sr_buf *b, const void *data, size_t n);
void sr_buf_puts(struct sr_buf *b, const char *s);
void sr_buf_putc(struct sr_buf *b, char c);
void sr_buf_printf(struct sr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sr_buf_vprintf(struct sr_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Returns the contents (never NULL, "" when empty) and gives up ownership:
 * the caller frees it and 'b' is empty afterwards. */
char *sr_buf_steal(struct sr_buf *b);
/* The contents, "" when empty; owned by 'b'. */
const char *sr_buf_cstr(const struct sr_buf *b);

#endif
