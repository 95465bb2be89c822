/* A TOML 1.0 parser (https://toml.io/en/v1.0.0).
 *
 * toml_parse() reads a whole document into a tree of 'struct toml_value'.
 * Every value and key keeps the line and column (1-based, columns counted
 * in characters) where it starts, so callers can point users at mistakes.
 * Strings and keys may hold NUL bytes ("\u0000"), so they carry a length;
 * they are also NUL-terminated for convenience. */
#ifndef SR_TOML_H
#define SR_TOML_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum toml_type {
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,       /* offset date-time */
    TOML_DATETIME_LOCAL, /* local date-time */
    TOML_DATE_LOCAL,
    TOML_TIME_LOCAL,
    TOML_ARRAY,
    TOML_TABLE,
};

/* A date, a time, or both, with the fields the type uses filled. */
struct toml_datetime {
    int year, month, day;         /* date part */
    int hour, minute, second;     /* time part */
    char frac[24];                /* fraction digits as written, "" if none */
    bool has_offset;              /* TOML_DATETIME only */
    int offset_minutes;           /* east of UTC; 'Z' is 0 */
    bool offset_z;                /* written as 'Z' */
};

struct toml_kv;

struct toml_value {
    enum toml_type type;
    int line, col;                /* where the value starts */
    union {
        struct {
            char *ptr;            /* NUL-terminated */
            size_t len;           /* bytes, NULs inside count */
        } s;
        int64_t i;
        double f;
        bool b;
        struct toml_datetime dt;
        struct {
            struct toml_value **items;
            size_t n, cap;
        } a;
        struct {
            struct toml_kv *items; /* in document order */
            size_t n, cap;
        } t;
    } u;
    /* How a table or array came to be, for the rules against redefinition. */
    unsigned flags;
};

struct toml_kv {
    char *key;                    /* NUL-terminated */
    size_t key_len;
    int line, col;                /* where the key was first written */
    struct toml_value *val;
};

/* Parses 'len' bytes of 'text'.  Returns the root table, owned by the
 * caller (free with toml_free()), or NULL with 'err' holding
 * "LINE:COL: message". */
struct toml_value *toml_parse(const char *text, size_t len,
                              struct sr_error *err);

/* Like toml_parse(), but 'err' also carries the position as numbers. */
struct toml_value *toml_parse_at(const char *text, size_t len, int *err_line,
                                 int *err_col, struct sr_error *err);

void toml_free(struct toml_value *v);

/* The value at 'key' in table 't', or NULL. */
const struct toml_value *toml_get(const struct toml_value *t, const char *key);
/* The entry for 'key' in table 't' (to reach the key's position), or NULL. */
const struct toml_kv *toml_get_kv(const struct toml_value *t, const char *key);

/* "string", "integer", "float", "boolean", "offset date-time", ... */
const char *toml_type_name(enum toml_type type);

/* Writes 'dt' of type 'type' in RFC 3339 form ('T' and 'Z' upper case) into
 * 'buf' of 'size' bytes. */
void toml_datetime_format(const struct toml_datetime *dt, enum toml_type type,
                          char *buf, size_t size);

#endif
