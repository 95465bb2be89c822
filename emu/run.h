/* A whole run: bring the network up, collect on the collector's clock, run
 * the fault timeline (inject, verify, keep checking, revert, verify) with
 * its events in faults.jsonl and its labels in the dataset, tear down. */
#ifndef SR_RUN_H
#define SR_RUN_H 1

#include <stdbool.h>

#include "error.h"
#include "plan.h"
#include "runtime.h"

struct sim_run_opts {
    struct sim_runtime_opts runtime;
    bool quiet;               /* no progress line */
};

struct scenario;
struct ctl_config;

/* What an external controller's configuration owns: its URL without
 * credentials, the user and the password (a secret, wiped on release). */
struct sim_credentials {
    char *url;
    char *user;
    char *password;
};
void sim_credentials_release(struct sim_credentials *c);

/* The scenario's external controller ([controller] kind = "ryu" or "odl")
 * as a client configuration: returns 1 and fills 'cfg' (its strings owned
 * by 'cred', which the caller releases), 0 for the embedded controller, or
 * a negative code.  The password comes from 'password_file' (a private
 * regular file, see sr_read_secret_line), the URL's userinfo, the scenario,
 * or $SIMRUN_CONTROLLER_PASSWORD, which is then cleared.  Credentials over
 * plain http:// to another machine are refused unless the command line
 * said --insecure-credentials (SR_EPERM). */
int sim_external_controller(const struct scenario *scn, struct ctl_config *cfg,
                            struct sim_credentials *cred, struct sr_error *err);

/* What a run reports at its end. */
struct sim_run_summary {
    char *dir;                /* the run directory (release the summary) */
    double ready_s;
    long sweeps, rows, gaps;
    char labels[256];         /* "normal 2100, drop_service 900" */
    int injected, verified, reverted, failed, healed, partly_healed;
    int links_lost;           /* times the controller lost links, no fault in the air */
    char diagnoser[384];      /* the diagnoser's counts and score in a line, "" without one */
    char kafka[256];          /* the Kafka sink's counts in a line, "" without one */
    const char *status;       /* "complete", "interrupted", "failed" */
};

/* Runs 'plan'.  Returns 0 when the run completed, the signal number when a
 * signal ended it (files stay valid), or a negative code with 'err' filled:
 * SR_ENOSPC when a write of the dataset failed on a full disk (the run
 * stops, reverts its fault and tears down; status "failed").  '*sum' is
 * filled in every case where the network came up (sum->dir set); release
 * it with sim_run_summary_release(). */
void sim_run_summary_release(struct sim_run_summary *sum);
int sim_run(const struct sim_plan *plan, const struct sim_run_opts *o,
            struct sim_run_summary *sum, struct sr_error *err);

#endif
