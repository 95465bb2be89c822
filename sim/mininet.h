/* The Mininet script of a run: the topology as Python data followed by the
 * runtime in sim/mininet_runtime.py (carried inside simrun). */
#ifndef SR_MININET_H
#define SR_MININET_H 1

#include <stdio.h>

#include "error.h"
#include "topology.h"

/* Writes the script for 't' to 'out'.  'name' is the scenario's name. */
int mn_write_script(const struct topology *t, const char *name, FILE *out,
                    struct sr_error *err);

#endif
