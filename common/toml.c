/* TOML 1.0 parser.  One pass over the bytes, no tokenizer: each production of
 * the grammar is a function that advances 'ps->p'.  Tables remember how they
 * were created (header, implicitly by a header, dotted keys, inline) so the
 * rules against redefinition can be checked as the document is read. */
#include "toml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

enum {
    TF_IMPLICIT = 1 << 0, /* table made as an intermediate of a [header] */
    TF_DEFINED = 1 << 1,  /* table made by [header] or [[header]] */
    TF_DOTTED = 1 << 2,   /* table made by a dotted key */
    TF_INLINE = 1 << 3,   /* inline table or anything inside one: frozen */
    AF_AOT = 1 << 4,      /* array made by [[header]] */
    AF_STATIC = 1 << 5,   /* array value: frozen */
};

/* Deeper nesting (arrays and inline tables inside each other, or parts of
 * a dotted key) is refused: every real document stays far below, and it
 * bounds the recursion of the parser and of toml_free(). */
#define TOML_MAX_DEPTH 64

struct parser {
    const char *start, *p, *end;
    int depth;              /* arrays and inline tables open at 'p' */
    int line;               /* line of 'p' */
    const char *line_start; /* first byte of that line */
    struct sr_error *err;
    int err_line, err_col;
    bool failed;
};

struct key_part {
    char *s;
    size_t len;
    int line, col;
};

struct key {
    struct key_part *parts;
    size_t n, cap;
};

/* Position of 'at' (which must lie on the current line or before it). */
static void
position_of(const struct parser *ps, const char *at, int *line, int *col)
{
    int l = 1, c = 1;

    for (const char *q = ps->start; q < at && q < ps->end; q++) {
        if (*q == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char) *q & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void
current_position(const struct parser *ps, int *line, int *col)
{
    int c = 1;

    for (const char *q = ps->line_start; q < ps->p; q++) {
        if (((unsigned char) *q & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = ps->line;
    *col = c;
}

static int __attribute__((format(printf, 3, 4)))
fail_at(struct parser *ps, const char *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    if (ps->failed) {
        return -SR_EINVAL;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    position_of(ps, at, &ps->err_line, &ps->err_col);
    sr_error_set(ps->err, SR_EINVAL, "%d:%d: %s", ps->err_line, ps->err_col,
                 msg);
    ps->failed = true;
    return -SR_EINVAL;
}

#define FAIL(ps, ...) fail_at((ps), (ps)->p, __VA_ARGS__)

static bool
at_end(const struct parser *ps)
{
    return ps->p >= ps->end;
}

static int
peek(const struct parser *ps, size_t ahead)
{
    return ps->p + ahead < ps->end ? (unsigned char) ps->p[ahead] : -1;
}

static bool
looking_at(const struct parser *ps, const char *s)
{
    size_t n = strlen(s);

    return (size_t) (ps->end - ps->p) >= n && !memcmp(ps->p, s, n);
}

/* Describes the character at 'p' for messages. */
static const char *
describe_char(const struct parser *ps, char *buf, size_t size)
{
    int c = peek(ps, 0);

    if (c < 0) {
        return "end of file";
    }
    if (c == '\n' || (c == '\r' && peek(ps, 1) == '\n')) {
        return "end of line";
    }
    if (c == '\r') {
        return "a carriage return not followed by a line feed";
    }
    if (c < 0x20 || c == 0x7F) {
        snprintf(buf, size, "control character U+%04X", c);
    } else if (c >= 0x80) {
        return "a non-ASCII character";
    } else {
        snprintf(buf, size, "'%c'", c);
    }
    return buf;
}

static void
newline_consumed(struct parser *ps)
{
    ps->line++;
    ps->line_start = ps->p;
}

/* Consumes a newline (LF or CRLF) if one is next. */
static bool
eat_newline(struct parser *ps)
{
    if (peek(ps, 0) == '\n') {
        ps->p++;
    } else if (peek(ps, 0) == '\r' && peek(ps, 1) == '\n') {
        ps->p += 2;
    } else {
        return false;
    }
    newline_consumed(ps);
    return true;
}

static void
skip_ws(struct parser *ps)
{
    while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t')) {
        ps->p++;
    }
}

/* Checks one character of a comment or string body: tab is allowed, other
 * control characters are not. */
static bool
is_forbidden_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

static int
skip_comment(struct parser *ps)
{
    if (peek(ps, 0) != '#') {
        return 0;
    }
    ps->p++;
    while (!at_end(ps) && *ps->p != '\n') {
        if (*ps->p == '\r' && peek(ps, 1) == '\n') {
            break;
        }
        if (is_forbidden_control((unsigned char) *ps->p)) {
            return FAIL(ps, "control character U+%04X in comment",
                        (unsigned char) *ps->p);
        }
        ps->p++;
    }
    return 0;
}

/* Skips whitespace, comments and newlines (inside arrays). */
static int
skip_ws_nl_comments(struct parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (skip_comment(ps) < 0) {
            return -SR_EINVAL;
        }
        if (!eat_newline(ps)) {
            if (peek(ps, 0) == '\r') {
                return FAIL(ps, "carriage return not followed by line feed");
            }
            return 0;
        }
    }
}

/* After a key/value pair or a header: whitespace, a comment, then a newline
 * or the end of the document. */
static int
expect_line_end(struct parser *ps, const char *what)
{
    char buf[40];

    skip_ws(ps);
    if (skip_comment(ps) < 0) {
        return -SR_EINVAL;
    }
    if (at_end(ps) || eat_newline(ps)) {
        return 0;
    }
    return FAIL(ps, "expected end of line after %s, found %s", what,
                describe_char(ps, buf, sizeof buf));
}

/* ---- values ---- */

static struct toml_value *
value_new(enum toml_type type, int line, int col)
{
    struct toml_value *v = xcalloc(1, sizeof *v);

    v->type = type;
    v->line = line;
    v->col = col;
    return v;
}

void
toml_free(struct toml_value *v)
{
    if (!v) {
        return;
    }
    switch (v->type) {
    case TOML_STRING:
        free(v->u.s.ptr);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.a.n; i++) {
            toml_free(v->u.a.items[i]);
        }
        free(v->u.a.items);
        break;
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.t.n; i++) {
            free(v->u.t.items[i].key);
            toml_free(v->u.t.items[i].val);
        }
        free(v->u.t.items);
        break;
    default:
        break;
    }
    free(v);
}

static struct toml_kv *
table_find(const struct toml_value *t, const char *key, size_t len)
{
    for (size_t i = 0; i < t->u.t.n; i++) {
        struct toml_kv *kv = &t->u.t.items[i];

        if (kv->key_len == len && !memcmp(kv->key, key, len)) {
            return kv;
        }
    }
    return NULL;
}

/* Adds 'val' under a copy of 'part' to table 't' (the key must be new). */
static void
table_add(struct toml_value *t, const struct key_part *part,
          struct toml_value *val)
{
    struct toml_kv *kv;

    xgrow((void **) &t->u.t.items, &t->u.t.cap, t->u.t.n + 1,
          sizeof *t->u.t.items);
    kv = &t->u.t.items[t->u.t.n++];
    kv->key = xstrndup(part->s, part->len);
    kv->key_len = part->len;
    kv->line = part->line;
    kv->col = part->col;
    kv->val = val;
}

static void
array_push(struct toml_value *a, struct toml_value *v)
{
    xgrow((void **) &a->u.a.items, &a->u.a.cap, a->u.a.n + 1,
          sizeof *a->u.a.items);
    a->u.a.items[a->u.a.n++] = v;
}

const struct toml_kv *
toml_get_kv(const struct toml_value *t, const char *key)
{
    if (!t || t->type != TOML_TABLE) {
        return NULL;
    }
    return table_find(t, key, strlen(key));
}

const struct toml_value *
toml_get(const struct toml_value *t, const char *key)
{
    const struct toml_kv *kv = toml_get_kv(t, key);

    return kv ? kv->val : NULL;
}

const char *
toml_type_name(enum toml_type type)
{
    switch (type) {
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOL: return "boolean";
    case TOML_DATETIME: return "offset date-time";
    case TOML_DATETIME_LOCAL: return "local date-time";
    case TOML_DATE_LOCAL: return "local date";
    case TOML_TIME_LOCAL: return "local time";
    case TOML_ARRAY: return "array";
    case TOML_TABLE: return "table";
    }
    return "value";
}

/* ---- strings ---- */

static void
put_utf8(struct sr_buf *b, uint32_t cp)
{
    char out[4];
    size_t n;

    if (cp < 0x80) {
        out[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        n = 4;
    }
    sr_buf_append(b, out, n);
}

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -SR_EINVAL;
}

/* Reads an escape sequence; 'ps->p' is on the backslash. */
static int
parse_escape(struct parser *ps, struct sr_buf *out)
{
    const char *esc = ps->p;
    int c = peek(ps, 1);
    int digits = 0;
    uint32_t cp = 0;

    switch (c) {
    case 'b': sr_buf_putc(out, '\b'); break;
    case 't': sr_buf_putc(out, '\t'); break;
    case 'n': sr_buf_putc(out, '\n'); break;
    case 'f': sr_buf_putc(out, '\f'); break;
    case 'r': sr_buf_putc(out, '\r'); break;
    case '"': sr_buf_putc(out, '"'); break;
    case '\\': sr_buf_putc(out, '\\'); break;
    case 'u': digits = 4; break;
    case 'U': digits = 8; break;
    default:
        if (c < 0) {
            return FAIL(ps, "unterminated string");
        }
        if (c >= 0x21 && c < 0x7F) {
            return fail_at(ps, esc, "invalid escape sequence '\\%c'", c);
        }
        return fail_at(ps, esc, "invalid escape sequence");
    }
    ps->p += 2;
    for (int i = 0; i < digits; i++) {
        int h = hex_value(peek(ps, 0));

        if (h < 0) {
            return fail_at(ps, esc, "'\\%c' needs %d hexadecimal digits", c,
                           digits);
        }
        cp = (cp << 4) | (uint32_t) h;
        ps->p++;
    }
    if (digits) {
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail_at(ps, esc,
                           "escape '\\%c' is not a Unicode scalar value "
                           "(U+%04X)",
                           c, (unsigned) cp);
        }
        put_utf8(out, cp);
    }
    return 0;
}

/* Copies one UTF-8 character (already validated) or fails on a forbidden
 * control character. */
static int
copy_char(struct parser *ps, struct sr_buf *out, const char *kind)
{
    int c = peek(ps, 0);
    size_t n = 1;

    if (is_forbidden_control(c)) {
        return FAIL(ps, "control character U+%04X in %s", c, kind);
    }
    if (c >= 0xF0) {
        n = 4;
    } else if (c >= 0xE0) {
        n = 3;
    } else if (c >= 0xC0) {
        n = 2;
    }
    sr_buf_append(out, ps->p, n);
    ps->p += n;
    return 0;
}

static int
parse_basic_string(struct parser *ps, struct sr_buf *out)
{
    const char *open = ps->p;

    ps->p++;
    for (;;) {
        int c = peek(ps, 0);

        if (c < 0 || c == '\n' || (c == '\r' && peek(ps, 1) == '\n')) {
            return fail_at(ps, open, "unterminated string");
        }
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c == '\\') {
            if (parse_escape(ps, out) < 0) {
                return -SR_EINVAL;
            }
        } else if (copy_char(ps, out, "string") < 0) {
            return -SR_EINVAL;
        }
    }
}

static int
parse_literal_string(struct parser *ps, struct sr_buf *out)
{
    const char *open = ps->p;

    ps->p++;
    for (;;) {
        int c = peek(ps, 0);

        if (c < 0 || c == '\n' || (c == '\r' && peek(ps, 1) == '\n')) {
            return fail_at(ps, open, "unterminated string");
        }
        if (c == '\'') {
            ps->p++;
            return 0;
        }
        if (copy_char(ps, out, "string") < 0) {
            return -SR_EINVAL;
        }
    }
}

/* Multi-line strings, basic (""") or literal (''').  Up to two quotes may
 * stand right before the closing delimiter. */
static int
parse_multiline_string(struct parser *ps, struct sr_buf *out, char quote)
{
    const char *open = ps->p;
    bool basic = quote == '"';

    ps->p += 3;
    eat_newline(ps); /* a newline right after the opening is trimmed */
    for (;;) {
        int c = peek(ps, 0);

        if (c < 0) {
            return fail_at(ps, open, "unterminated multi-line string");
        }
        if (c == quote) {
            size_t q = 0;

            while (peek(ps, q) == quote) {
                q++;
            }
            if (q >= 3) {
                if (q > 5) {
                    return fail_at(ps, ps->p + 5,
                                   "too many quotes at the end of a "
                                   "multi-line string");
                }
                sr_buf_append(out, ps->p, q - 3);
                ps->p += q;
                return 0;
            }
            sr_buf_append(out, ps->p, q);
            ps->p += q;
        } else if (c == '\n' || c == '\r') {
            if (!eat_newline(ps)) {
                return FAIL(ps, "carriage return not followed by line feed");
            }
            sr_buf_putc(out, '\n');
        } else if (c == '\\' && basic) {
            /* A backslash that ends a line swallows all whitespace and
             * newlines up to the next other character. */
            size_t k = 1;

            while (peek(ps, k) == ' ' || peek(ps, k) == '\t') {
                k++;
            }
            if (peek(ps, k) == '\n' ||
                (peek(ps, k) == '\r' && peek(ps, k + 1) == '\n')) {
                ps->p += k;
                for (;;) {
                    skip_ws(ps);
                    if (!eat_newline(ps)) {
                        break;
                    }
                }
            } else if (parse_escape(ps, out) < 0) {
                return -SR_EINVAL;
            }
        } else if (copy_char(ps, out, "string") < 0) {
            return -SR_EINVAL;
        }
    }
}

/* ---- keys ---- */

static bool
is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void
key_release(struct key *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->parts[i].s);
    }
    free(k->parts);
    k->parts = NULL;
    k->n = k->cap = 0;
}

static int
parse_simple_key(struct parser *ps, struct key *k)
{
    struct sr_buf b = SR_BUF_INIT;
    struct key_part *part;
    int line, col;
    int c = peek(ps, 0);
    char buf[40];

    current_position(ps, &line, &col);
    if (c == '"') {
        if (looking_at(ps, "\"\"\"")) {
            return FAIL(ps, "multi-line strings cannot be keys");
        }
        if (parse_basic_string(ps, &b) < 0) {
            goto fail;
        }
    } else if (c == '\'') {
        if (looking_at(ps, "'''")) {
            return FAIL(ps, "multi-line strings cannot be keys");
        }
        if (parse_literal_string(ps, &b) < 0) {
            goto fail;
        }
    } else if (is_bare_key_char(c)) {
        const char *s = ps->p;

        while (is_bare_key_char(peek(ps, 0))) {
            ps->p++;
        }
        sr_buf_append(&b, s, (size_t) (ps->p - s));
    } else {
        FAIL(ps, "expected a key, found %s", describe_char(ps, buf, sizeof buf));
        goto fail;
    }
    xgrow((void **) &k->parts, &k->cap, k->n + 1, sizeof *k->parts);
    part = &k->parts[k->n++];
    part->len = b.len;
    part->s = sr_buf_steal(&b);
    part->line = line;
    part->col = col;
    return 0;

fail:
    sr_buf_release(&b);
    return -SR_EINVAL;
}

/* key = simple-key *( ws "." ws simple-key ) */
static int
parse_key(struct parser *ps, struct key *k)
{
    if (parse_simple_key(ps, k) < 0) {
        return -SR_EINVAL;
    }
    for (;;) {
        const char *save = ps->p;

        skip_ws(ps);
        if (peek(ps, 0) != '.') {
            ps->p = save;
            return 0;
        }
        ps->p++;
        skip_ws(ps);
        if (k->n >= TOML_MAX_DEPTH) {
            return FAIL(ps, "a dotted key of more than %d parts", TOML_MAX_DEPTH);
        }
        if (parse_simple_key(ps, k) < 0) {
            return -SR_EINVAL;
        }
    }
}

/* Renders key parts 0..upto (inclusive) as a dotted name for messages. */
static const char *
key_name(const struct key *k, size_t upto, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i <= upto && i < k->n; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? "." : "",
                         k->parts[i].s);

        if (n < 0 || (size_t) n >= size - used) {
            break;
        }
        used += (size_t) n;
    }
    return buf;
}

/* ---- numbers and dates ---- */

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Copies the digits of 'tok' (length 'n') for 'radix' into 'out' without
 * underscores, checking that each underscore sits between two digits. */
static bool
strip_underscores(const char *tok, size_t n, int radix, char *out,
                  size_t outsize)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = tok[i];

        if (c == '_') {
            if (i == 0 || i + 1 == n || hex_value(tok[i - 1]) < 0 ||
                hex_value(tok[i + 1]) < 0 || hex_value(tok[i - 1]) >= radix ||
                hex_value(tok[i + 1]) >= radix) {
                return false;
            }
            continue;
        }
        if (o + 1 >= outsize) {
            return false;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static int
parse_radix_integer(struct parser *ps, const char *tok, size_t n,
                    struct toml_value *v)
{
    int radix = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
    char digits[160];
    uint64_t acc = 0;

    if (n < 3 || !strip_underscores(tok + 2, n - 2, radix, digits,
                                    sizeof digits)) {
        return fail_at(ps, tok, "invalid %s integer '%.*s'",
                       radix == 16 ? "hexadecimal"
                       : radix == 8 ? "octal" : "binary",
                       (int) n, tok);
    }
    for (const char *d = digits; *d; d++) {
        int h = hex_value(*d);

        if (h < 0 || h >= radix) {
            return fail_at(ps, tok, "invalid digit '%c' in integer '%.*s'",
                           *d, (int) n, tok);
        }
        if (acc > (UINT64_MAX - (uint64_t) h) / (uint64_t) radix) {
            acc = UINT64_MAX;
            break;
        }
        acc = acc * (uint64_t) radix + (uint64_t) h;
    }
    if (acc > INT64_MAX) {
        return fail_at(ps, tok, "integer '%.*s' is out of the 64-bit range",
                       (int) n, tok);
    }
    v->type = TOML_INTEGER;
    v->u.i = (int64_t) acc;
    return 0;
}

/* Decimal integers and floats, including inf and nan. */
static int
parse_decimal(struct parser *ps, const char *tok, size_t n,
              struct toml_value *v)
{
    const char *q = tok, *e = tok + n;
    const char *int_start, *int_end;
    bool is_float = false;
    char clean[256];

    if (q < e && (*q == '+' || *q == '-')) {
        q++;
    }
    if ((size_t) (e - q) == 3 && (!memcmp(q, "inf", 3) || !memcmp(q, "nan", 3))) {
        v->type = TOML_FLOAT;
        if (q[0] == 'i') {
            v->u.f = tok[0] == '-' ? -INFINITY : INFINITY;
        } else {
            v->u.f = tok[0] == '-' ? -NAN : NAN;
        }
        return 0;
    }
    /* integer part */
    int_start = q;
    while (q < e && (is_digit(*q) || *q == '_')) {
        q++;
    }
    int_end = q;
    if (int_start == int_end) {
        return fail_at(ps, tok, "invalid number '%.*s'", (int) n, tok);
    }
    if (*int_start == '0' && int_end - int_start > 1) {
        return fail_at(ps, tok, "leading zeros are not allowed in '%.*s'",
                       (int) n, tok);
    }
    if (q < e && *q == '.') {
        const char *f = ++q;

        while (q < e && (is_digit(*q) || *q == '_')) {
            q++;
        }
        if (f == q || !is_digit(*f)) {
            return fail_at(ps, tok,
                           "a decimal point must be followed by digits in "
                           "'%.*s'",
                           (int) n, tok);
        }
        is_float = true;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        const char *x;

        q++;
        if (q < e && (*q == '+' || *q == '-')) {
            q++;
        }
        x = q;
        while (q < e && (is_digit(*q) || *q == '_')) {
            q++;
        }
        if (x == q || !is_digit(*x)) {
            return fail_at(ps, tok, "an exponent needs digits in '%.*s'",
                           (int) n, tok);
        }
        is_float = true;
    }
    if (q != e) {
        return fail_at(ps, tok, "invalid number '%.*s'", (int) n, tok);
    }
    /* Underscores: each between two digits.  The pieces around '.', 'e' and
     * the sign are checked by requiring digits on both sides. */
    for (size_t i = 0; i < n; i++) {
        if (tok[i] == '_' &&
            (i == 0 || i + 1 == n || !is_digit(tok[i - 1]) ||
             !is_digit(tok[i + 1]))) {
            return fail_at(ps, tok,
                           "an underscore must stand between digits in "
                           "'%.*s'",
                           (int) n, tok);
        }
    }
    if (!strip_underscores(tok, n, 16, clean, sizeof clean)) {
        /* Only reached for tokens too long for 'clean'. */
        return fail_at(ps, tok, "number '%.*s' is too long", (int) n, tok);
    }
    errno = 0;
    if (is_float) {
        double d = strtod(clean, NULL);

        if (errno == ERANGE && isinf(d)) {
            return fail_at(ps, tok, "float '%.*s' is out of range", (int) n,
                           tok);
        }
        v->type = TOML_FLOAT;
        v->u.f = d;
    } else {
        long long i = strtoll(clean, NULL, 10);

        if (errno == ERANGE) {
            return fail_at(ps, tok,
                           "integer '%.*s' is out of the 64-bit range",
                           (int) n, tok);
        }
        v->type = TOML_INTEGER;
        v->u.i = i;
    }
    return 0;
}

static bool
digits_at(const char *s, const char *end, size_t n)
{
    if ((size_t) (end - s) < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

static int
two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool
is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* HH:MM:SS[.frac] at 'ps->p'. */
static int
parse_time_part(struct parser *ps, struct toml_datetime *dt, const char *tok)
{
    const char *s = ps->p;

    if (!digits_at(s, ps->end, 2) || peek(ps, 2) != ':' ||
        !digits_at(s + 3, ps->end, 2) || peek(ps, 5) != ':' ||
        !digits_at(s + 6, ps->end, 2)) {
        return fail_at(ps, tok, "invalid time: expected HH:MM:SS");
    }
    dt->hour = two_digits(s);
    dt->minute = two_digits(s + 3);
    dt->second = two_digits(s + 6);
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60) {
        return fail_at(ps, tok, "invalid time %02d:%02d:%02d", dt->hour,
                       dt->minute, dt->second);
    }
    ps->p += 8;
    if (peek(ps, 0) == '.') {
        size_t k = 0;

        ps->p++;
        while (is_digit(peek(ps, 0))) {
            if (k + 1 < sizeof dt->frac) {
                dt->frac[k++] = *ps->p;
            }
            ps->p++;
        }
        dt->frac[k] = '\0';
        if (k == 0) {
            return fail_at(ps, tok, "a fraction of a second needs digits");
        }
    }
    return 0;
}

static int
parse_datetime(struct parser *ps, struct toml_value *v)
{
    const char *tok = ps->p;
    struct toml_datetime *dt = &v->u.dt;

    memset(dt, 0, sizeof *dt);
    if (digits_at(tok, ps->end, 2) && peek(ps, 2) == ':') {
        if (parse_time_part(ps, dt, tok) < 0) {
            return -SR_EINVAL;
        }
        v->type = TOML_TIME_LOCAL;
        return 0;
    }
    /* YYYY-MM-DD */
    if (!digits_at(tok, ps->end, 4) || peek(ps, 4) != '-' ||
        !digits_at(tok + 5, ps->end, 2) || peek(ps, 7) != '-' ||
        !digits_at(tok + 8, ps->end, 2)) {
        return fail_at(ps, tok, "invalid date: expected YYYY-MM-DD");
    }
    dt->year = (tok[0] - '0') * 1000 + (tok[1] - '0') * 100 + two_digits(tok + 2);
    dt->month = two_digits(tok + 5);
    dt->day = two_digits(tok + 8);
    if (dt->month < 1 || dt->month > 12 || dt->day < 1 ||
        dt->day > days_in_month(dt->year, dt->month)) {
        return fail_at(ps, tok, "invalid date %04d-%02d-%02d", dt->year,
                       dt->month, dt->day);
    }
    ps->p += 10;
    v->type = TOML_DATE_LOCAL;
    /* The time follows 'T', 't', or one space when a time really follows. */
    if (peek(ps, 0) == 'T' || peek(ps, 0) == 't' ||
        (peek(ps, 0) == ' ' && is_digit(peek(ps, 1)) && is_digit(peek(ps, 2)) &&
         peek(ps, 3) == ':')) {
        ps->p++;
        if (parse_time_part(ps, dt, tok) < 0) {
            return -SR_EINVAL;
        }
        v->type = TOML_DATETIME_LOCAL;
        if (peek(ps, 0) == 'Z' || peek(ps, 0) == 'z') {
            ps->p++;
            dt->has_offset = true;
            dt->offset_z = true;
            v->type = TOML_DATETIME;
        } else if (peek(ps, 0) == '+' || peek(ps, 0) == '-') {
            const char *o = ps->p + 1;
            int h, m;

            if (!digits_at(o, ps->end, 2) || peek(ps, 3) != ':' ||
                !digits_at(o + 3, ps->end, 2)) {
                return fail_at(ps, tok, "invalid time offset: expected "
                                        "+HH:MM or -HH:MM");
            }
            h = two_digits(o);
            m = two_digits(o + 3);
            if (h > 23 || m > 59) {
                return fail_at(ps, tok, "invalid time offset %c%02d:%02d",
                               *ps->p, h, m);
            }
            dt->has_offset = true;
            dt->offset_minutes = (*ps->p == '-' ? -1 : 1) * (h * 60 + m);
            ps->p += 6;
            v->type = TOML_DATETIME;
        }
    }
    return 0;
}

void
toml_datetime_format(const struct toml_datetime *dt, enum toml_type type,
                     char *buf, size_t size)
{
    char date[64] = "", time[96] = "", off[48] = "";

    if (type != TOML_TIME_LOCAL) {
        snprintf(date, sizeof date, "%04d-%02d-%02d", dt->year, dt->month,
                 dt->day);
    }
    if (type != TOML_DATE_LOCAL) {
        snprintf(time, sizeof time, "%02d:%02d:%02d%s%s", dt->hour,
                 dt->minute, dt->second, dt->frac[0] ? "." : "", dt->frac);
    }
    if (type == TOML_DATETIME) {
        int m = dt->offset_minutes < 0 ? -dt->offset_minutes : dt->offset_minutes;

        if (dt->offset_z) {
            snprintf(off, sizeof off, "Z");
        } else {
            snprintf(off, sizeof off, "%c%02d:%02d",
                     dt->offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
        }
    }
    snprintf(buf, size, "%s%s%s%s", date,
             date[0] && time[0] ? "T" : "", time, off);
}

static bool
is_value_end(int c)
{
    return c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == ',' || c == ']' || c == '}' || c == '#';
}

static int
parse_number_or_date(struct parser *ps, struct toml_value *v)
{
    const char *tok = ps->p;
    size_t n;

    if ((digits_at(tok, ps->end, 4) && peek(ps, 4) == '-') ||
        (digits_at(tok, ps->end, 2) && peek(ps, 2) == ':')) {
        return parse_datetime(ps, v);
    }
    while (!at_end(ps) && (is_bare_key_char(*ps->p) || *ps->p == '.' ||
                           *ps->p == '+')) {
        ps->p++;
    }
    n = (size_t) (ps->p - tok);
    if (n >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b')) {
        return parse_radix_integer(ps, tok, n, v);
    }
    return parse_decimal(ps, tok, n, v);
}

/* ---- arrays, inline tables, key/value pairs ---- */

static struct toml_value *parse_value(struct parser *ps);
static int parse_keyval(struct parser *ps, struct toml_value *table);

/* Marks a finished array or inline table, and what it holds, as frozen.
 * Arrays and inline tables inside it froze when they finished, so the walk
 * stops at them: each value is visited once, however deep the nesting
 * (only the tables of dotted keys inside an inline table are new here). */
static void
freeze(struct toml_value *v)
{
    if (v->type == TOML_TABLE) {
        v->flags |= TF_INLINE;
        for (size_t i = 0; i < v->u.t.n; i++) {
            struct toml_value *c = v->u.t.items[i].val;

            if (!(c->flags & (TF_INLINE | AF_STATIC))) {
                freeze(c);
            }
        }
    } else if (v->type == TOML_ARRAY) {
        v->flags |= AF_STATIC;
        for (size_t i = 0; i < v->u.a.n; i++) {
            struct toml_value *c = v->u.a.items[i];

            if (!(c->flags & (TF_INLINE | AF_STATIC))) {
                freeze(c);
            }
        }
    }
}

/* Enters an array or inline table; fails past TOML_MAX_DEPTH. */
static int
enter(struct parser *ps)
{
    if (++ps->depth > TOML_MAX_DEPTH) {
        return FAIL(ps, "arrays and inline tables nested deeper than %d levels",
                    TOML_MAX_DEPTH);
    }
    return 0;
}

static int
parse_array(struct parser *ps, struct toml_value *arr)
{
    char buf[40];

    arr->type = TOML_ARRAY;
    if (enter(ps) < 0) {
        return -SR_EINVAL;
    }
    ps->p++; /* '[' */
    for (;;) {
        struct toml_value *item;

        if (skip_ws_nl_comments(ps) < 0) {
            return -SR_EINVAL;
        }
        if (peek(ps, 0) == ']') {
            ps->p++;
            break;
        }
        item = parse_value(ps);
        if (!item) {
            return -SR_EINVAL;
        }
        array_push(arr, item);
        if (skip_ws_nl_comments(ps) < 0) {
            return -SR_EINVAL;
        }
        if (peek(ps, 0) == ',') {
            ps->p++;
        } else if (peek(ps, 0) == ']') {
            ps->p++;
            break;
        } else {
            return FAIL(ps, "expected ',' or ']' in array, found %s",
                        describe_char(ps, buf, sizeof buf));
        }
    }
    ps->depth--;
    freeze(arr);
    return 0;
}

static int
parse_inline_table(struct parser *ps, struct toml_value *tab)
{
    char buf[40];

    tab->type = TOML_TABLE;
    if (enter(ps) < 0) {
        return -SR_EINVAL;
    }
    ps->p++; /* '{' */
    skip_ws(ps);
    if (peek(ps, 0) == '}') {
        ps->p++;
        ps->depth--;
        freeze(tab);
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (parse_keyval(ps, tab) < 0) {
            return -SR_EINVAL;
        }
        skip_ws(ps);
        if (peek(ps, 0) == ',') {
            ps->p++;
            skip_ws(ps);
            if (peek(ps, 0) == '}') {
                return FAIL(ps, "trailing comma in inline table");
            }
            if (peek(ps, 0) == '\n' || peek(ps, 0) == '\r') {
                return FAIL(ps, "newline in inline table (an inline table must "
                                "stay on one line)");
            }
        } else if (peek(ps, 0) == '}') {
            ps->p++;
            break;
        } else if (peek(ps, 0) == '\n' || peek(ps, 0) == '\r') {
            return FAIL(ps, "newline in inline table (an inline table must "
                            "stay on one line)");
        } else {
            return FAIL(ps, "expected ',' or '}' in inline table, found %s",
                        describe_char(ps, buf, sizeof buf));
        }
    }
    ps->depth--;
    freeze(tab);
    return 0;
}

static bool
word_at(const struct parser *ps, const char *w)
{
    size_t n = strlen(w);

    return looking_at(ps, w) && is_value_end(peek(ps, n));
}

static struct toml_value *
parse_value(struct parser *ps)
{
    struct toml_value *v;
    struct sr_buf b = SR_BUF_INIT;
    int line, col, c = peek(ps, 0), rc = 0;
    char buf[40];

    current_position(ps, &line, &col);
    v = value_new(TOML_BOOL, line, col);
    if (c == '"' || c == '\'') {
        if (looking_at(ps, c == '"' ? "\"\"\"" : "'''")) {
            rc = parse_multiline_string(ps, &b, (char) c);
        } else if (c == '"') {
            rc = parse_basic_string(ps, &b);
        } else {
            rc = parse_literal_string(ps, &b);
        }
        v->type = TOML_STRING;
        v->u.s.len = b.len;
        v->u.s.ptr = sr_buf_steal(&b);
    } else if (word_at(ps, "true") || word_at(ps, "false")) {
        v->u.b = c == 't';
        ps->p += v->u.b ? 4 : 5;
    } else if (c == '[') {
        rc = parse_array(ps, v);
    } else if (c == '{') {
        rc = parse_inline_table(ps, v);
    } else if (is_digit(c) || c == '+' || c == '-' || word_at(ps, "inf") ||
               word_at(ps, "nan")) {
        v->type = TOML_INTEGER;
        rc = parse_number_or_date(ps, v);
    } else {
        if (c < 0 || c == '\n' || c == '\r' || c == '#') {
            FAIL(ps, "expected a value, found %s",
                 describe_char(ps, buf, sizeof buf));
        } else {
            const char *s = ps->p;
            size_t n = 0;

            while (s + n < ps->end && !is_value_end((unsigned char) s[n]) &&
                   n < 30) {
                n++;
            }
            FAIL(ps, "invalid value '%.*s' (strings need quotes)", (int) n, s);
        }
        rc = -1;
    }
    if (rc == 0 && v->type != TOML_ARRAY && v->type != TOML_TABLE &&
        !is_value_end(peek(ps, 0))) {
        rc = FAIL(ps, "unexpected %s after value",
                  describe_char(ps, buf, sizeof buf));
    }
    if (rc < 0) {
        if (v->type == TOML_STRING && !v->u.s.ptr) {
            v->type = TOML_BOOL;
        }
        toml_free(v);
        return NULL;
    }
    return v;
}

/* The byte where key part 'part' starts (from its line and column). */
static const char *
key_at(const struct parser *ps, const struct key_part *part)
{
    const char *q = ps->start;
    int line = 1, col = 1;

    while (q < ps->end && line < part->line) {
        if (*q++ == '\n') {
            line++;
        }
    }
    while (q < ps->end && col < part->col) {
        q++;
        while (q < ps->end && ((unsigned char) *q & 0xC0) == 0x80) {
            q++;
        }
        col++;
    }
    return q;
}

/* key ws "=" ws value, inserted into 'table' following the dotted-key
 * rules. */
static int
parse_keyval(struct parser *ps, struct toml_value *table)
{
    struct key k = { 0 };
    struct toml_value *t = table, *val = NULL;
    char name[256], buf[40];
    int rc = -1;

    if (parse_key(ps, &k) < 0) {
        goto out;
    }
    skip_ws(ps);
    if (peek(ps, 0) != '=') {
        FAIL(ps, "expected '=' after key '%s', found %s",
             key_name(&k, k.n, name, sizeof name),
             describe_char(ps, buf, sizeof buf));
        goto out;
    }
    ps->p++;
    skip_ws(ps);
    val = parse_value(ps);
    if (!val) {
        goto out;
    }
    for (size_t i = 0; i + 1 < k.n; i++) {
        struct key_part *part = &k.parts[i];
        struct toml_kv *kv = table_find(t, part->s, part->len);

        if (!kv) {
            struct toml_value *sub = value_new(TOML_TABLE, part->line, part->col);

            sub->flags = TF_DOTTED;
            table_add(t, part, sub);
            t = sub;
            continue;
        }
        if (kv->val->type != TOML_TABLE) {
            fail_at(ps, key_at(ps, part), "cannot use dotted key '%s': '%s' is already "
                               "defined as %s %s (line %d)",
                    key_name(&k, k.n, name, sizeof name), kv->key,
                    kv->val->type == TOML_INTEGER ? "an" : "a",
                    toml_type_name(kv->val->type), kv->line);
            goto out;
        }
        if (kv->val->flags & TF_INLINE) {
            fail_at(ps, key_at(ps, part), "cannot add '%s' to inline table '%s' "
                               "(line %d): inline tables are complete",
                    key_name(&k, k.n, name, sizeof name), kv->key, kv->line);
            goto out;
        }
        if (!(kv->val->flags & TF_DOTTED)) {
            fail_at(ps, key_at(ps, part), "cannot add '%s' with a dotted key: table '%s' "
                               "is defined by a header (line %d)",
                    key_name(&k, k.n, name, sizeof name), kv->key, kv->line);
            goto out;
        }
        t = kv->val;
    }
    {
        struct key_part *last = &k.parts[k.n - 1];
        struct toml_kv *kv = table_find(t, last->s, last->len);

        if (kv) {
            ps->err_line = last->line;
            ps->err_col = last->col;
            sr_error_set(ps->err, SR_EINVAL,
                         "%d:%d: duplicate key '%s' (first defined at line %d)",
                         last->line, last->col,
                         key_name(&k, k.n, name, sizeof name), kv->line);
            ps->failed = true;
            goto out;
        }
        table_add(t, last, val);
        val = NULL;
    }
    rc = 0;

out:
    toml_free(val);
    key_release(&k);
    return rc;
}

/* [key] or [[key]]: returns the table that following pairs go into. */
static struct toml_value *
parse_header(struct parser *ps, struct toml_value *root)
{
    struct key k = { 0 };
    struct toml_value *t = root, *result = NULL;
    bool aot = peek(ps, 1) == '[';
    char name[256], buf[40];
    const char *open = ps->p;
    int line, col;

    current_position(ps, &line, &col);
    ps->p += aot ? 2 : 1;
    skip_ws(ps);
    if (parse_key(ps, &k) < 0) {
        goto out;
    }
    skip_ws(ps);
    if (aot ? !looking_at(ps, "]]") : peek(ps, 0) != ']') {
        FAIL(ps, "expected '%s' to close the table header, found %s",
             aot ? "]]" : "]", describe_char(ps, buf, sizeof buf));
        goto out;
    }
    ps->p += aot ? 2 : 1;
    for (size_t i = 0; i + 1 < k.n; i++) {
        struct key_part *part = &k.parts[i];
        struct toml_kv *kv = table_find(t, part->s, part->len);

        if (!kv) {
            struct toml_value *sub = value_new(TOML_TABLE, part->line, part->col);

            sub->flags = TF_IMPLICIT;
            table_add(t, part, sub);
            t = sub;
        } else if (kv->val->type == TOML_TABLE) {
            if (kv->val->flags & TF_INLINE) {
                fail_at(ps, open, "cannot extend inline table '%s' (line %d) "
                                  "with a header",
                        key_name(&k, i, name, sizeof name), kv->line);
                goto out;
            }
            t = kv->val;
        } else if (kv->val->type == TOML_ARRAY && (kv->val->flags & AF_AOT)) {
            t = kv->val->u.a.items[kv->val->u.a.n - 1];
        } else {
            fail_at(ps, open, "'%s' is already defined as %s (line %d), not "
                              "a table",
                    key_name(&k, i, name, sizeof name),
                    toml_type_name(kv->val->type), kv->line);
            goto out;
        }
    }
    {
        struct key_part *last = &k.parts[k.n - 1];
        struct toml_kv *kv = table_find(t, last->s, last->len);

        key_name(&k, k.n, name, sizeof name);
        if (aot) {
            struct toml_value *elem = value_new(TOML_TABLE, line, col);

            elem->flags = TF_DEFINED;
            if (!kv) {
                struct toml_value *arr = value_new(TOML_ARRAY, line, col);

                arr->flags = AF_AOT;
                table_add(t, last, arr);
                array_push(arr, elem);
            } else if (kv->val->type == TOML_ARRAY &&
                       (kv->val->flags & AF_AOT)) {
                array_push(kv->val, elem);
            } else {
                toml_free(elem);
                fail_at(ps, open, "cannot define array of tables '%s': it is "
                                  "already %s %s (line %d)",
                        name, kv->val->type == TOML_ARRAY ? "an" : "a",
                        kv->val->type == TOML_ARRAY ? "array"
                                                    : toml_type_name(kv->val->type),
                        kv->line);
                goto out;
            }
            result = elem;
        } else if (!kv) {
            struct toml_value *tab = value_new(TOML_TABLE, line, col);

            tab->flags = TF_DEFINED;
            table_add(t, last, tab);
            result = tab;
        } else if (kv->val->type == TOML_TABLE &&
                   !(kv->val->flags & (TF_DEFINED | TF_DOTTED | TF_INLINE))) {
            kv->val->flags = (kv->val->flags & ~(unsigned) TF_IMPLICIT) | TF_DEFINED;
            result = kv->val;
        } else {
            const char *why = "is already defined";

            if (kv->val->type == TOML_TABLE && (kv->val->flags & TF_DOTTED)) {
                why = "was already defined with dotted keys";
            } else if (kv->val->type == TOML_TABLE &&
                       (kv->val->flags & TF_INLINE)) {
                why = "is an inline table";
            } else if (kv->val->type == TOML_ARRAY) {
                why = "is already an array";
            } else if (kv->val->type != TOML_TABLE) {
                why = "is already a value";
            }
            fail_at(ps, open, "cannot define table '%s': it %s (line %d)", name,
                    why, kv->line);
            goto out;
        }
    }

out:
    key_release(&k);
    return result;
}

/* Checks that all of the input is UTF-8 with no overlong forms or
 * surrogates. */
static int
check_utf8(struct parser *ps)
{
    const unsigned char *s = (const unsigned char *) ps->start;
    size_t n = (size_t) (ps->end - ps->start);

    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return fail_at(ps, (const char *) s + i, "invalid UTF-8 byte 0x%02X", c);
        }
        if (i + len > n) {
            return fail_at(ps, (const char *) s + i, "truncated UTF-8 sequence");
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return fail_at(ps, (const char *) s + i, "invalid UTF-8 sequence");
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail_at(ps, (const char *) s + i, "invalid UTF-8 sequence");
        }
        i += len;
    }
    return 0;
}

struct toml_value *
toml_parse_at(const char *text, size_t len, int *err_line, int *err_col,
              struct sr_error *err)
{
    struct parser ps = { 0 };
    struct toml_value *root, *cur;

    ps.start = ps.p = ps.line_start = text;
    ps.end = text + len;
    ps.line = 1;
    ps.err = err;
    root = value_new(TOML_TABLE, 1, 1);
    root->flags = TF_DEFINED;
    cur = root;
    if (check_utf8(&ps) < 0) {
        goto fail;
    }
    /* A byte order mark at the start is allowed and ignored. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        ps.p += 3;
        ps.line_start = ps.p;
    }
    while (!at_end(&ps)) {
        int c;

        skip_ws(&ps);
        c = peek(&ps, 0);
        if (c < 0) {
            break;
        }
        if (c == '#') {
            if (expect_line_end(&ps, "comment") < 0) {
                goto fail;
            }
        } else if (eat_newline(&ps)) {
            continue;
        } else if (c == '\r') {
            FAIL(&ps, "carriage return not followed by line feed");
            goto fail;
        } else if (c == '[') {
            cur = parse_header(&ps, root);
            if (!cur || expect_line_end(&ps, "table header") < 0) {
                goto fail;
            }
        } else {
            if (parse_keyval(&ps, cur) < 0 ||
                expect_line_end(&ps, "value") < 0) {
                goto fail;
            }
        }
    }
    return root;

fail:
    if (err_line) {
        *err_line = ps.err_line;
    }
    if (err_col) {
        *err_col = ps.err_col;
    }
    toml_free(root);
    return NULL;
}

struct toml_value *
toml_parse(const char *text, size_t len, struct sr_error *err)
{
    return toml_parse_at(text, len, NULL, NULL, err);
}
