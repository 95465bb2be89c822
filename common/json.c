#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Whether the 'n' digits at 's' exceed INT64_MAX. */
static bool
above_int64(const char *s, size_t n)
{
    static const char max[] = "9223372036854775807";

    return n > sizeof max - 1 || (n == sizeof max - 1 && memcmp(s, max, n) > 0);
}

/* Copies 'text', putting quotes around unsigned integers above INT64_MAX
 * that stand outside strings.  Returns NULL when nothing needs quoting. */
static char *
quote_big_integers(const char *text)
{
    struct sr_buf out = SR_BUF_INIT;
    const char *p = text, *copied = text;
    bool in_string = false, changed = false;

    while (*p) {
        if (in_string) {
            if (*p == '\\' && p[1]) {
                p += 2;
                continue;
            }
            in_string = *p != '"';
            p++;
            continue;
        }
        if (*p == '"') {
            in_string = true;
            p++;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *start = p;
            bool plain = *p != '-';

            while (*p && strchr("0123456789-+.eE", *p)) {
                plain = plain && *p >= '0' && *p <= '9';
                p++;
            }
            if (plain && above_int64(start, (size_t) (p - start))) {
                sr_buf_append(&out, copied, (size_t) (start - copied));
                sr_buf_putc(&out, '"');
                sr_buf_append(&out, start, (size_t) (p - start));
                sr_buf_putc(&out, '"');
                copied = p;
                changed = true;
            }
        } else {
            p++;
        }
    }
    if (!changed) {
        sr_buf_release(&out);
        return NULL;
    }
    sr_buf_puts(&out, copied);
    return sr_buf_steal(&out);
}

json_t *
sr_json_loads(const char *text, const char *what, struct sr_error *err)
{
    char *quoted = quote_big_integers(text);
    json_error_t je;
    json_t *j = json_loads(quoted ? quoted : text, JSON_ALLOW_NUL, &je);

    free(quoted);
    if (!j) {
        sr_error_set(err, SR_EINVAL, "%s: invalid JSON at line %d column %d: %s", what,
                     je.line, je.column, je.text);
    }
    return j;
}

bool
sr_json_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0) {
            return false;
        }
        *out = (uint64_t) json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        unsigned long long u;

        if (!*s || strspn(s, "0123456789") != strlen(s)) {
            return false;
        }
        errno = 0;
        u = strtoull(s, &end, 10);
        if (errno) {
            return false;
        }
        *out = u;
        return true;
    }
    return false;
}
