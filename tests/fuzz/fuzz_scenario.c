/* libFuzzer target: the scenario loader and the plan behind 'simrun check'
 * on any bytes: a scenario or problems with positions, never a crash, a
 * hang or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "plan.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct scenario *s = scenario_parse("fuzz.toml", (const char *) data, size, &diags, &err);
    struct sim_plan *p = NULL;
    char *text;

    if (s) {
        p = sim_plan_build(s, &diags, &err);
    }
    if ((!s || !p) && diags.n == 0 && !err.msg[0]) {
        abort(); /* refused without saying why */
    }
    text = scn_diags_format(&diags, "fuzz.toml");
    free(text);
    sim_plan_free(p);
    scenario_free(s);
    scn_diags_release(&diags);
    return 0;
}
