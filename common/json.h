/* JSON helpers on top of jansson.
 *
 * jansson's integers are signed 64-bit: an unquoted integer above 2^63-1
 * (an OpenFlow cookie or DPID can reach 2^64-1) makes json_loads() fail.
 * sr_json_loads() quotes such integers before jansson reads the text, and
 * sr_json_u64() reads an unsigned value from an integer or a decimal
 * string, so no value is lost. */
#ifndef SR_JSON_H
#define SR_JSON_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Parses 'text'; 'what' names it in messages ("LINE:COL" and jansson's
 * words follow).  Returns a new reference or NULL with 'err' filled. */
json_t *sr_json_loads(const char *text, const char *what, struct sr_error *err);

/* Reads an unsigned 64-bit value from a non-negative integer or a string
 * of decimal digits.  Returns false (leaving '*out') for anything else. */
bool sr_json_u64(const json_t *v, uint64_t *out);

#endif
