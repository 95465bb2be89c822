/* Memory helpers that abort on exhaustion, so every remaining error path in
 * the project is a real one (as tmux's xmalloc), and small string helpers. */
#ifndef SR_UTIL_H
#define SR_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SR_ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grows '*p' (an array of 'elem'-byte items with capacity '*cap') so it can
 * hold at least 'need' items. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a malloc'd string formatted as printf would. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies 'src' into 'dst' of 'size' bytes, always terminating. */
void sr_strlcpy(char *dst, const char *src, size_t size);

/* Parses all of 's' as a decimal integer in [min, max].  Returns false (and
 * leaves '*out' alone) on any junk, empty input or overflow. */
bool sr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses all of 's' as a finite double. */
bool sr_parse_double(const char *s, double *out);

/* Levenshtein distance between 'a' and 'b' (for "did you mean"). */
size_t sr_edit_distance(const char *a, const char *b);

/* Reads the whole file at 'path' into a malloc'd NUL-terminated buffer.
 * Returns NULL with errno set on failure. */
char *sr_read_file(const char *path, size_t *len);

/* The first line of a file (a password file), without its newline;
 * malloc'd, or NULL with errno set. */
char *sr_read_first_line(const char *path);

/* Seconds since the epoch (the wall clock, for records' times). */
double sr_wall(void);
/* 'epoch' as UTC ISO 8601 with milliseconds: 2026-11-22T01:02:03.456Z. */
void sr_iso_time(double epoch, char *buf, size_t size);

#endif
