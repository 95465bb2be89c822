/* The command layer: subcommands that live in their own files, and what
 * they share.  Only this layer reads the files named on the command line,
 * prints results and chooses exit codes: 0 success, 1 runtime failure,
 * 2 usage or scenario error. */
#ifndef SR_CLI_H
#define SR_CLI_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plan.h"
#include "scenario.h"

#define CLI_EXIT_USAGE 2

/* The largest scenario file simrun reads (bytes): the biggest network
 * that fits a machine is a few hundred lines. */
#define SCN_FILE_MAX (1024 * 1024)

/* Reads the scenario file at 'path' (a regular file of at most
 * SCN_FILE_MAX bytes, see sr_read_regular) and parses it. */
struct scenario *scenario_load(const char *path, struct scn_diags *diags, struct sr_error *err);

/* What the command line changes in a scenario. */
struct cli_overrides {
    long long seed;           /* -1: the scenario's */
    int64_t duration_ms;      /* -1: the scenario's */
    const char *controller;   /* "embedded", "ryu", "odl", or NULL */
    const char *url;          /* the controller's URL, or NULL */
    bool insecure_auth;       /* --insecure-credentials */
};

/* Loads the scenario at 'path', applies 'ov' (may be NULL) and builds its
 * plan.  Prints every problem to stderr and returns CLI_EXIT_USAGE, or 0
 * with '*scn_out' and '*plan_out' set (the caller frees both). */
int cli_load_plan(const char *path, const struct cli_overrides *ov, struct scenario **scn_out,
                  struct sim_plan **plan_out);

/* Writes the readable plan: topology summary, traffic mix, fault timeline. */
void sim_plan_print(const struct sim_plan *p, FILE *out);

struct sr_trace;
/* The protocol trace the tests ask for with $SIMRUN_PROTOCOL_TRACE (a file
 * to append to), or NULL; <0 (with 'err') if it cannot be opened. */
int cli_open_trace(struct sr_trace **out, struct sr_error *err);

/* Prints "simrun: MESSAGE" and the usage of command 'cmd' to stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a seed (an integer of 0 or more). */
bool cli_parse_seed(const char *s, long long *out);

/* The options of a network on a lab server, for run, up and clean:
 * --remote ssh://USER@HOST[:PORT], --ssh-key FILE, --ssh-known-hosts FILE,
 * --ssh-password-file FILE (getopt_long entries; their codes are above
 * any short option's). */
#define CLI_REMOTE_OPTIONS                                                                   \
    { "remote", required_argument, NULL, CLI_OPT_REMOTE },                                   \
    { "ssh-key", required_argument, NULL, CLI_OPT_SSH_KEY },                                 \
    { "ssh-known-hosts", required_argument, NULL, CLI_OPT_SSH_KNOWN_HOSTS },                 \
    { "ssh-password-file", required_argument, NULL, CLI_OPT_SSH_PASSWORD_FILE }
enum { CLI_OPT_REMOTE = 1001, CLI_OPT_SSH_KEY, CLI_OPT_SSH_KNOWN_HOSTS, CLI_OPT_SSH_PASSWORD_FILE };
#define CLI_REMOTE_USAGE                                                                     \
    "--remote ssh://USER@HOST[:PORT] runs the network on that lab server (root, or\n"        \
    "sudo without a password; Open vSwitch, Mininet, os-ken) and writes the run\n"           \
    "directory here; [emulation] remote in the scenario says the same.  The\n"               \
    "server's host key must be in ~/.ssh/known_hosts (or --ssh-known-hosts FILE).\n"        \
    "--ssh-key FILE names the key (default: the ssh-agent, then ~/.ssh/id_*);\n"            \
    "--ssh-password-file FILE logs in with the password on its first line instead.\n"

struct sim_remote_opts;
/* Takes option 'c' (with 'arg') if it is one of CLI_REMOTE_OPTIONS: 1 when
 * taken, 0 when not one of them, CLI_EXIT_USAGE (printed) when wrong. */
int cli_remote_option(const char *cmd, int c, const char *arg, struct sim_remote_opts *r);
/* The lab server of a run: the command line's, else the scenario's
 * [emulation] remote.  Refuses what a remote run cannot do (printed;
 * CLI_EXIT_USAGE). */
int cli_remote_resolve(const struct scenario *scn, struct sim_remote_opts *r);

int sim_cmd_run(int argc, char **argv);
int sim_cmd_ctl(int argc, char **argv);
int sim_cmd_replay(int argc, char **argv);
int sim_cmd_score(int argc, char **argv);
int sim_cmd_report(int argc, char **argv);

#endif
