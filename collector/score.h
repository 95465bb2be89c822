/* Scoring a diagnoser's answers against the ground truth (simrun score).
 *
 * Each answer covers a window; its truth is the label of the window's end.
 * The headline figures count answers whose truth is 'normal' or a fault in
 * its 'active' phase; answers given while a fault was 'healed' by the
 * controller, in 'recovery' after its revert, or 'failed' to show are
 * scored apart.  Per label (normal and each fault type): precision,
 * recall, F1; accuracy; macro-F1 (the mean F1 over the labels in the
 * truth or the answers, as scikit-learn's f1_score(average='macro')); the
 * confusion matrix; per fault episode the detection delay (from its
 * injection to the end of the first window answered with its type) and
 * p50/p95 over the detected ones; localisation accuracy (answers of the
 * right fault type that name a target: how many name the right one); and
 * false alarms per hour of normal time. */
#ifndef SR_SCORE_H
#define SR_SCORE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct sc_answer {
    double to_s;              /* the window's end (collection time) */
    const char *label;        /* the answer; NULL when none came */
    const char *target;       /* may be NULL */
    const char *truth;        /* the truth's label */
    const char *truth_target; /* "" when normal */
    const char *phase;        /* the truth's phase */
    int fault_id;             /* the truth's episode, 0 when normal */
};

struct sc_episode {
    int id;
    const char *type;
    const char *target;
    double inject_s;
};

/* Scores 'n' answers ('every_s': the time between windows, for the normal
 * time; 0: taken from the answers) against 'nep' episodes.  Returns the
 * score as JSON (a new reference; see score.h for its fields). */
json_t *sc_score(const struct sc_answer *ans, size_t n, const struct sc_episode *eps,
                 size_t nep, double every_s);

/* Writes the score as tables people read. */
void sc_print(const json_t *score, FILE *out);

/* Reads a run's answers from 'path': diagnoses.jsonl (answers with their
 * truth), or a CSV 'time,label[,target]' (time in seconds of collection or
 * ISO 8601), whose truth comes from RUNDIR's samples.csv labels.  Also
 * reads the episodes from RUNDIR/faults.jsonl.  Scores them and returns
 * the score (NULL with 'err' filled). */
json_t *sc_score_run(const char *rundir, const char *path, struct sr_error *err);

#endif
