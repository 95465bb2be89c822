#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

static void
out_of_memory(void)
{
    fputs("simrun: out of memory\n", stderr);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void
xgrow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 8;

    if (need <= *cap) {
        return;
    }
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) {
            out_of_memory();
        }
        n *= 2;
    }
    *p = xrealloc(*p, n * elem);
    *cap = n;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        out_of_memory();
    }
    p = xmalloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
sr_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n;

    if (!size) {
        return;
    }
    n = strlen(src);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool
sr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool
sr_parse_double(const char *s, double *out)
{
    char *end;
    double v;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v)) {
        return false;
    }
    *out = v;
    return true;
}

int
sr_hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

size_t
sr_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xcalloc(lb + 1, sizeof *row);
    size_t result;

    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    result = row[lb];
    free(row);
    return result;
}

char *
sr_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        return NULL;
    }
    for (;;) {
        size_t got;

        xgrow((void **) &buf, &cap, n + 65536 + 1, 1);
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        int saved = errno;

        free(buf);
        fclose(f);
        errno = saved ? saved : EIO;
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

double
sr_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
sr_iso_time(double epoch, char *buf, size_t size)
{
    time_t s = (time_t) epoch;
    struct tm tm;
    char base[32];

    gmtime_r(&s, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%.24s.%03dZ", base, (int) ((epoch - (double) s) * 1000.0) % 1000);
}

double
sr_iso_epoch(const char *s)
{
    struct tm tm = { 0 };
    const char *rest;
    double frac = 0;

    if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))) {
        return NAN;
    }
    if (*rest == '.') {
        frac = strtod(rest, NULL);
    }
    return (double) timegm(&tm) + frac;
}

/* ---- reading what a user names ---- */

char *
sr_read_regular(const char *path, size_t max, unsigned flags, size_t *len, struct sr_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    char *buf = NULL;
    size_t n = 0;

    if (fd < 0) {
        sr_error_set(err, errno == ENOENT ? SR_ENOTFOUND : errno == EACCES ? SR_EPERM : SR_EIO,
                     "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        sr_error_set(err, SR_EIO, "cannot read '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        sr_error_set(err, SR_EINVAL, "'%s' is not a regular file (a %s)", path,
                     S_ISDIR(st.st_mode)    ? "directory"
                     : S_ISFIFO(st.st_mode) ? "FIFO"
                     : S_ISCHR(st.st_mode)  ? "character device"
                     : S_ISBLK(st.st_mode)  ? "block device"
                     : S_ISSOCK(st.st_mode) ? "socket"
                                            : "special file");
        goto fail;
    }
    if ((flags & SR_READ_PRIVATE) && (st.st_uid != geteuid() || (st.st_mode & 077))) {
        sr_error_set(err, SR_EPERM,
                     "'%s' holds a secret but %s (mode %04o, owner uid %u): make it yours "
                     "and private (chmod 600 '%s')",
                     path, st.st_uid != geteuid() ? "belongs to another user" : "others can access it",
                     (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid, path);
        goto fail;
    }
    if ((uint64_t) st.st_size > max) {
        sr_error_set(err, SR_ERANGE, "'%s' is %lld bytes, over the limit of %zu", path,
                     (long long) st.st_size, max);
        goto fail;
    }
    buf = xmalloc(max + 2);
    for (;;) {
        ssize_t got = read(fd, buf + n, max + 1 - n);

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            sr_error_set(err, SR_EIO, "cannot read '%s': %s", path, strerror(errno));
            goto fail;
        }
        if (got == 0) {
            break;
        }
        n += (size_t) got;
        if (n > max) {
            /* It grew while we read it. */
            sr_error_set(err, SR_ERANGE, "'%s' is over the limit of %zu bytes", path, max);
            goto fail;
        }
    }
    close(fd);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;

fail:
    if (buf) {
        explicit_bzero(buf, max + 2);
        free(buf);
    }
    close(fd);
    return NULL;
}

char *
sr_read_secret_line(const char *path, struct sr_error *err)
{
    char *text = sr_read_regular(path, 4096, SR_READ_PRIVATE, NULL, err);

    if (text) {
        text[strcspn(text, "\r\n")] = '\0';
    }
    return text;
}

void
sr_free_secret(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

/* ---- URLs ---- */

/* Where the authority of 'url' starts and how long its userinfo is
 * (including the '@'), 0 when there is none. */
static size_t
userinfo_span(const char *url, const char **authority)
{
    const char *p = strstr(url, "://"), *at;
    size_t end;

    p = p ? p + 3 : url;
    *authority = p;
    end = strcspn(p, "/?#");
    at = memchr(p, '@', end);
    /* The last '@' of the authority ends the userinfo. */
    while (at && memchr(at + 1, '@', end - (size_t) (at + 1 - p))) {
        at = memchr(at + 1, '@', end - (size_t) (at + 1 - p));
    }
    return at ? (size_t) (at + 1 - p) : 0;
}

void
sr_url_redact(struct sr_buf *b, const char *url)
{
    const char *auth;
    size_t n = userinfo_span(url, &auth);

    sr_buf_append(b, url, (size_t) (auth - url));
    sr_buf_puts(b, auth + n);
}

static char *
percent_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (s[i] == '%' && i + 2 < n && (hi = sr_hex_value(s[i + 1])) >= 0 &&
            (lo = sr_hex_value(s[i + 2])) >= 0) {
            *o++ = (char) (hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

char *
sr_url_split_userinfo(const char *url, char **user, char **password)
{
    const char *auth;
    size_t n = userinfo_span(url, &auth);
    struct sr_buf b = SR_BUF_INIT;

    *user = *password = NULL;
    if (n) {
        const char *colon = memchr(auth, ':', n - 1);

        if (colon) {
            *user = percent_decode(auth, (size_t) (colon - auth));
            *password = percent_decode(colon + 1, (size_t) (auth + n - 1 - colon - 1));
        } else {
            *user = percent_decode(auth, n - 1);
        }
    }
    sr_url_redact(&b, url);
    return sr_buf_steal(&b);
}

bool
sr_url_is_plain_remote(const char *url)
{
    const char *auth;
    char host[256];
    size_t n, len;
    struct in_addr v4;

    if (strncmp(url, "http://", 7)) {
        return false;
    }
    n = userinfo_span(url, &auth);
    auth += n;
    len = *auth == '[' ? strcspn(auth, "]") + 1 : strcspn(auth, ":/?#");
    if (len >= sizeof host) {
        return true;
    }
    memcpy(host, auth, len);
    host[len] = '\0';
    /* This machine by its address, not by how a name begins: a name such
     * as 127.attacker.example is anyone's. */
    if (!strcmp(host, "localhost") || !strcmp(host, "[::1]")) {
        return false;
    }
    return !(inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

/* ---- escaping ---- */

void
sr_py_quote(struct sr_buf *b, const char *s)
{
    sr_buf_putc(b, '\'');
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '\\' || *p == '\'') {
            sr_buf_putc(b, '\\');
            sr_buf_putc(b, (char) *p);
        } else if (*p >= 0x20 && *p < 0x7f) {
            sr_buf_putc(b, (char) *p);
        } else {
            /* Bytes as Latin-1 code points: the literal is pure ASCII. */
            sr_buf_printf(b, "\\x%02x", *p);
        }
    }
    sr_buf_putc(b, '\'');
}

void
sr_dot_quote(struct sr_buf *b, const char *s)
{
    sr_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            sr_buf_putc(b, '\\');
            sr_buf_putc(b, (char) *p);
        } else if (*p >= 0x20 && *p != 0x7f) {
            sr_buf_putc(b, (char) *p);
        }
    }
    sr_buf_putc(b, '"');
}

void
sr_html_escape(struct sr_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        switch (*p) {
        case '&': sr_buf_puts(b, "&amp;"); break;
        case '<': sr_buf_puts(b, "&lt;"); break;
        case '>': sr_buf_puts(b, "&gt;"); break;
        case '"': sr_buf_puts(b, "&quot;"); break;
        case '\'': sr_buf_puts(b, "&#39;"); break;
        default:
            if (*p >= 0x20 || *p == '\t' || *p == '\n') {
                if (*p != 0x7f) {
                    sr_buf_putc(b, (char) *p);
                }
            }
        }
    }
}

void
sr_sh_quote(struct sr_buf *b, const char *s)
{
    sr_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            sr_buf_puts(b, "'\\''");
        } else {
            sr_buf_putc(b, *p);
        }
    }
    sr_buf_putc(b, '\'');
}

void
sr_term_clean(struct sr_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        sr_buf_putc(b, *p < 0x20 || *p == 0x7f ? '?' : (char) *p);
    }
}

/* ---- ssh:// addresses ---- */

static bool
plain_chars(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];

        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            !strchr(extra, ch)) {
            return false;
        }
    }
    return n > 0;
}

int
sr_ssh_url_parse(const char *url, struct sr_ssh_target *t, struct sr_error *err)
{
    const char *p, *at, *host, *end;
    size_t ulen, hlen;

    memset(t, 0, sizeof *t);
    t->port = 22;
    if (strncmp(url, "ssh://", 6) != 0) {
        return sr_error_set(err, SR_EINVAL,
                            "a remote is written ssh://USER@HOST[:PORT], not '%.80s'", url);
    }
    p = url + 6;
    at = strchr(p, '@');
    if (!at) {
        return sr_error_set(err, SR_EINVAL,
                            "the remote '%.80s' names no user: write ssh://USER@HOST[:PORT]",
                            url);
    }
    ulen = (size_t) (at - p);
    if (ulen >= sizeof t->user || !plain_chars(p, ulen, "._-") || p[0] == '-') {
        return sr_error_set(err, SR_EINVAL,
                            "the user in the remote '%.80s' is not a plain user name "
                            "(letters, digits, '.', '_', '-')",
                            url);
    }
    memcpy(t->user, p, ulen);
    host = at + 1;
    if (*host == '[') {
        end = strchr(host, ']');
        if (!end) {
            return sr_error_set(err, SR_EINVAL, "the remote '%.80s' has an unclosed '['", url);
        }
        host++;
        hlen = (size_t) (end - host);
        end++;
        if (hlen >= sizeof t->host || !plain_chars(host, hlen, ":.%") ||
            !memchr(host, ':', hlen)) {
            return sr_error_set(err, SR_EINVAL, "the host in the remote '%.80s' is not an "
                                "IPv6 address", url);
        }
    } else {
        hlen = strcspn(host, ":/");
        end = host + hlen;
        if (hlen >= sizeof t->host || !plain_chars(host, hlen, ".-") || host[0] == '-') {
            return sr_error_set(err, SR_EINVAL,
                                "the host in the remote '%.80s' is not a host name or "
                                "address",
                                url);
        }
    }
    memcpy(t->host, host, hlen);
    if (*end == ':') {
        char *stop;
        long port;

        errno = 0;
        port = strtol(end + 1, &stop, 10);
        if (stop == end + 1 || errno || port < 1 || port > 65535 ||
            (*stop && strcmp(stop, "/"))) {
            return sr_error_set(err, SR_EINVAL, "the port in the remote '%.80s' is not a "
                                "number from 1 to 65535", url);
        }
        t->port = (int) port;
    } else if (*end && strcmp(end, "/")) {
        return sr_error_set(err, SR_EINVAL,
                            "the remote '%.80s' has something after its host: write "
                            "ssh://USER@HOST[:PORT]",
                            url);
    }
    return 0;
}
