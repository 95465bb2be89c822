/* Memory helpers that abort on exhaustion, so every remaining error path in
 * the project is a real one (as tmux's xmalloc), and small string helpers. */
#ifndef SR_UTIL_H
#define SR_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

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

/* The value of hex digit 'c', or -1. */
int sr_hex_value(char c);

/* Levenshtein distance between 'a' and 'b' (for "did you mean"). */
size_t sr_edit_distance(const char *a, const char *b);

/* Reads the whole file at 'path' into a malloc'd NUL-terminated buffer.
 * Returns NULL with errno set on failure.  For files simrun wrote itself;
 * anything a user names goes through sr_read_regular(). */
char *sr_read_file(const char *path, size_t *len);

struct sr_error;

/* How sr_read_regular() treats the file. */
enum {
    SR_READ_PRIVATE = 1, /* a secret: owned by us, no access for group or others
                            (as ssh refuses a key others can read) */
};

/* Reads the regular file at 'path' whole, refusing anything else (a FIFO,
 * a device such as /dev/zero, a directory) and any file over 'max' bytes,
 * without blocking on either.  Returns a malloc'd NUL-terminated buffer
 * ('*len' its size, may be NULL) or NULL with 'err' naming the file and
 * the limit. */
char *sr_read_regular(const char *path, size_t max, unsigned flags, size_t *len,
                      struct sr_error *err);

/* The first line of a private file (a password file): sr_read_regular()
 * with SR_READ_PRIVATE and a 4 KiB limit, without the newline. */
char *sr_read_secret_line(const char *path, struct sr_error *err);

/* Overwrites 'n' bytes at 'p' in a way the compiler keeps, then frees it
 * (secrets: passwords).  Accepts NULL. */
void sr_free_secret(char *p);

/* ---- URLs ---- */

/* Appends 'url' without its "user:password@" part, if any: the form of a
 * URL that may be stored or printed. */
void sr_url_redact(struct sr_buf *b, const char *url);
/* Splits the credentials out of 'url': returns the URL without them
 * (malloc'd) and sets '*user' and '*password' (malloc'd, percent-decoded;
 * NULL when absent).  The password is a secret: free it with
 * sr_free_secret(). */
char *sr_url_split_userinfo(const char *url, char **user, char **password);
/* Whether 'url' is http:// (not https://) to a host other than this
 * machine (localhost, 127.0.0.0/8, ::1). */
bool sr_url_is_plain_remote(const char *url);

/* ---- escaping: one function per language simrun writes ---- */

/* 's' as a Python string literal (with its quotes): printable ASCII as
 * itself except backslash and quote, everything else as \xNN or \uNNNN
 * escapes, so no byte of 's' can end the literal or the line. */
void sr_py_quote(struct sr_buf *b, const char *s);
/* 's' as a Graphviz DOT quoted ID (with its quotes), or an HTML-like label
 * never: quotes and backslashes escaped, control characters dropped. */
void sr_dot_quote(struct sr_buf *b, const char *s);
/* 's' as HTML or XML text or a quoted attribute value: & < > " ' as
 * character references, control characters other than tab and newline
 * dropped (they are not allowed in XML), other bytes as they are. */
void sr_html_escape(struct sr_buf *b, const char *s);
/* 's' as one POSIX shell word in single quotes ('\'' for a quote). */
void sr_sh_quote(struct sr_buf *b, const char *s);
/* 's' for a terminal: control characters (escape sequences, CR, DEL) and
 * invalid bytes shown as '?' so text from a file cannot drive the
 * terminal. */
void sr_term_clean(struct sr_buf *b, const char *s);

/* Seconds since the epoch (the wall clock, for records' times). */
double sr_wall(void);
/* 'epoch' as UTC ISO 8601 with milliseconds: 2026-11-22T01:02:03.456Z. */
void sr_iso_time(double epoch, char *buf, size_t size);
/* Seconds since the epoch of an ISO 8601 UTC time such as
 * "2026-12-02T16:01:11.314Z"; NAN when 's' is NULL or not one. */
double sr_iso_epoch(const char *s);

/* A lab server's address, "ssh://USER@HOST[:PORT]": USER and HOST of
 * ordinary characters (letters, digits, '.', '_', '-'; HOST may be an
 * [IPv6] literal), PORT 1..65535 (22 when left out). */
struct sr_ssh_target {
    char user[64];
    char host[256];
    int port;
};
int sr_ssh_url_parse(const char *url, struct sr_ssh_target *t, struct sr_error *err);

#endif
