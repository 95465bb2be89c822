/* The one error type of the project: a code and a human message.
 *
 * A function that can fail returns int (0 on success, a negative code on
 * failure) or a pointer (NULL on failure) and takes 'struct sr_error *err'
 * last.  It fills 'err' on failure only.  Messages are lower case, name what
 * failed first, and quote the subject: "cannot open 'x.toml': No such file". */
#ifndef SR_ERROR_H
#define SR_ERROR_H 1

#include <stdarg.h>

enum sr_code {
    SR_OK = 0,
    SR_EINVAL = 1,    /* bad input: scenario, argument, document */
    SR_ENOMEM = 2,    /* out of memory (only from code that cannot abort) */
    SR_EIO = 3,       /* a file or system call failed */
    SR_ENOTFOUND = 4, /* a name, file or object does not exist */
    SR_ELIB = 5,      /* an outside library reported an error */
    SR_ETIMEDOUT = 6, /* something did not happen in time */
    SR_ERANGE = 7,    /* a number out of its range */
    SR_EINTR = 8,     /* a signal (Ctrl-C, SIGTERM) stopped it */
    SR_EPERM = 9,     /* not allowed: needs root, or unsafe ownership/modes */
    SR_EBUSY = 10,    /* something else holds it (another run owns the network) */
    SR_ENOSPC = 11,   /* the disk is full */
};

struct sr_error {
    int code;      /* enum sr_code, 0 when nothing failed */
    char msg[512]; /* NUL-terminated message */
};

/* Fills 'err' (which may be NULL) with 'code' and the formatted message.
 * Returns -code, so "return sr_error_set(err, ...);" reads naturally. */
int sr_error_set(struct sr_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sr_error_vset(struct sr_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "'prefix': " style context to an existing message in 'err'. */
void sr_error_prefix(struct sr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets 'err' to "no error". */
void sr_error_clear(struct sr_error *err);

/* A short name for 'code', for logs ("invalid input", "timed out"). */
const char *sr_code_name(int code);

#endif
