#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

char *
sr_read_first_line(const char *path)
{
    char *text = sr_read_file(path, NULL);

    if (text) {
        text[strcspn(text, "\r\n")] = '\0';
    }
    return text;
}
