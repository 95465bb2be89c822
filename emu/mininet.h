/* The Mininet script of a run: the topology as Python data followed by the
 * runtime in emu/mininet_runtime.py (carried inside simrun). */
#ifndef SR_MININET_H
#define SR_MININET_H 1

#include "buf.h"
#include "error.h"
#include "topology.h"

/* Appends the script for 't' to 'out'.  'name' is the scenario's; every
 * string is written as an escaped Python literal (sr_py_quote). */
int mn_write_script(const struct topology *t, const char *name, struct sr_buf *out,
                    struct sr_error *err);

#endif
