/* Campaigns of many runs: the campaign's manifest, and joining, splitting
 * and sharding runs (simrun merge, split, slurm). */
#ifndef SR_CAMPAIGN_H
#define SR_CAMPAIGN_H 1

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The status a run directory's manifest gives ("complete", "interrupted",
 * "failed", "running"), "unknown" without a readable manifest, or NULL
 * when there is no such directory. */
const char *cmp_run_status(const char *rundir);

/* Writes the campaign's manifest in 'dir' (campaign.json, or
 * shard-K-of-N.json for a shard): the runs of 'seeds' found there with
 * their status, rows and episodes, episodes per fault type over the
 * complete runs and how balanced they are, rows per label. */
int cmp_write_manifest(const char *dir, const char *scenario_path, const char *name,
                       const uint64_t *seeds, size_t nseeds, int shard_k, int shard_n,
                       struct sr_error *err);

/* Audits the complete runs of campaign directory 'dir' for shortcuts
 * (collector/audit.h) and adds the findings to its campaign.json as
 * "audit": per fault type how many single features give it away and the
 * first few.  Returns how many fault types have one, or -1 with 'err'. */
int cmp_add_audit(const char *dir, struct sr_error *err);

int sim_cmd_merge(int argc, char **argv);
int sim_cmd_split(int argc, char **argv);
int sim_cmd_slurm(int argc, char **argv);
int sim_cmd_audit(int argc, char **argv);

#endif
