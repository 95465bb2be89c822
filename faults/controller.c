/* controller_down: the embedded controller is killed (as a crash: no
 * goodbye to the switches), or the switches are cut off from an external
 * one; then started again or reconnected. */
#include "faults-private.h"

#include <stdlib.h>

#include "util.h"

static int
inject_controller(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    for (size_t i = 0; i < env->nswitches; i++) {
        flt_touch(r, env->switches[i], 0);
    }
    return env->controller(env->ctx, false, err);
}

static int
revert_controller(const struct flt_env *env, struct flt_run *r, struct sr_error *err)
{
    (void) r;
    return env->controller(env->ctx, true, err);
}


/* Cut off: no switch holds a connection to the controller.  Back: every
 * switch holds one and the controller lists every switch (a connection is
 * up before the OpenFlow handshake is done). */
static int
check_controller(const struct flt_env *env, struct flt_run *r, bool want_fault,
                 struct sr_buf *seen, struct sr_error *err)
{
    uint64_t *dpids = NULL;
    size_t n = 0, known = 0, ndp = 0;

    (void) r;
    if (env->connected(env->ctx, &n, err) < 0) {
        return -err->code;
    }
    sr_buf_printf(seen, "%zu of %zu switches connected to the controller", n, env->nswitches);
    if (want_fault || n != env->nswitches) {
        return want_fault ? n == 0 : 0;
    }
    if (ctl_client_switches(env->ctl, &dpids, &ndp, err) < 0) {
        return -err->code;
    }
    for (size_t i = 0; i < env->nswitches; i++) {
        uint64_t dpid;

        for (size_t j = 0; env->dpid_of(env->ctx, env->switches[i], &dpid) && j < ndp; j++) {
            if (dpids[j] == dpid) {
                known++;
                break;
            }
        }
    }
    free(dpids);
    sr_buf_printf(seen, ", %zu of them known to it", known);
    return known == env->nswitches;
}

/* Cutting the switches off shows at once; they come back after Open
 * vSwitch's reconnection backoff. */
const struct flt_ops flt_controller_down_ops = { inject_controller, check_controller,
                                                 revert_controller, false, true, false };
