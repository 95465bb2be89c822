/* libFuzzer target: the TOML parser on any bytes.  It must answer with a
 * tree or an error carrying a position, never crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sr_error err = { 0 };
    int line = 0, col = 0;
    struct toml_value *v = toml_parse_at((const char *) data, size, &line, &col, &err);

    if (!v && (err.code == 0 || !err.msg[0])) {
        abort(); /* a failure must say what failed */
    }
    toml_free(v);
    return 0;
}
