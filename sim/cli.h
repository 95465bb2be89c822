/* Subcommands that live in their own files (the command line layer: these
 * print and choose exit codes, as main does). */
#ifndef SR_CLI_H
#define SR_CLI_H 1

int sim_cmd_ctl(int argc, char **argv);

#endif
