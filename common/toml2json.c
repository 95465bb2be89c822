/* toml2json: reads TOML on stdin, prints the tagged JSON encoding of the
 * toml-test suite on stdout (every scalar as {"type": ..., "value": ...}).
 * Exit 0 on success; exit 1 with "toml2json: LINE:COL: message" on stderr for
 * invalid TOML. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "util.h"

/* Shortest decimal form of 'd' that reads back as the same double. */
static void
format_float(double d, char *buf, size_t size)
{
    if (isnan(d)) {
        snprintf(buf, size, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, size, d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    /* Keep it recognisably a float. */
    if (!strpbrk(buf, ".eEn")) {
        size_t n = strlen(buf);

        if (n + 2 < size) {
            memcpy(buf + n, ".0", 3);
        }
    }
}

static json_t *
tagged(const char *type, const char *value)
{
    return json_pack("{s:s, s:s}", "type", type, "value", value);
}

static json_t *
encode(const struct toml_value *v)
{
    char buf[64];
    json_t *j;

    switch (v->type) {
    case TOML_STRING:
        return json_pack("{s:s, s:s%}", "type", "string", "value", v->u.s.ptr,
                         v->u.s.len);
    case TOML_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long) v->u.i);
        return tagged("integer", buf);
    case TOML_FLOAT:
        format_float(v->u.f, buf, sizeof buf);
        return tagged("float", buf);
    case TOML_BOOL:
        return tagged("bool", v->u.b ? "true" : "false");
    case TOML_DATETIME:
    case TOML_DATETIME_LOCAL:
    case TOML_DATE_LOCAL:
    case TOML_TIME_LOCAL:
        toml_datetime_format(&v->u.dt, v->type, buf, sizeof buf);
        return tagged(v->type == TOML_DATETIME ? "datetime"
                      : v->type == TOML_DATETIME_LOCAL ? "datetime-local"
                      : v->type == TOML_DATE_LOCAL ? "date-local"
                                                   : "time-local",
                      buf);
    case TOML_ARRAY:
        j = json_array();
        for (size_t i = 0; i < v->u.a.n; i++) {
            json_array_append_new(j, encode(v->u.a.items[i]));
        }
        return j;
    case TOML_TABLE:
        j = json_object();
        for (size_t i = 0; i < v->u.t.n; i++) {
            json_object_setn_new(j, v->u.t.items[i].key, v->u.t.items[i].key_len,
                                 encode(v->u.t.items[i].val));
        }
        return j;
    }
    return json_null();
}

int
main(int argc, char **argv)
{
    struct sr_error err = { 0 };
    struct toml_value *root;
    char *text;
    size_t len = 0;
    json_t *out;

    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            puts("usage: toml2json < FILE.toml\n"
                 "Prints the toml-test tagged JSON encoding of a TOML "
                 "document; exit 1 if it is invalid.");
            return 0;
        }
        fprintf(stderr, "usage: toml2json < FILE.toml\n");
        return 2;
    }
    text = sr_read_file("/dev/stdin", &len);
    if (!text) {
        perror("toml2json: cannot read standard input");
        return 1;
    }
    root = toml_parse(text, len, &err);
    free(text);
    if (!root) {
        fprintf(stderr, "toml2json: %s\n", err.msg);
        return 1;
    }
    out = encode(root);
    toml_free(root);
    if (json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                    JSON_ENSURE_ASCII) < 0) {
        json_decref(out);
        return 1;
    }
    putchar('\n');
    json_decref(out);
    return 0;
}
