/* The environment faults act through (faults/inject.h), for a network that
 * simrun brought up: the Mininet control channel, the embedded controller's
 * process, Open vSwitch on this machine, and the plan's topology. */
#ifndef SR_FAULTENV_H
#define SR_FAULTENV_H 1

#include "inject.h"
#include "runtime.h"

struct sim_faultenv {
    struct flt_env env;
    struct sim_runtime *rt;
    const char **switches;
    const char **users, **servers;
};

/* Fills 'fe' for 'rt', acting through 'ctl'.  Release with
 * sim_faultenv_release(). */
void sim_faultenv_init(struct sim_faultenv *fe, struct sim_runtime *rt, struct ctl_client *ctl);
void sim_faultenv_release(struct sim_faultenv *fe);

#endif
