/* Campaigns (campaign.h): the campaign manifest, simrun merge, split and
 * slurm. */
#include "campaign.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "files.h"
#include "rng.h"
#include "rundir.h"
#include "scenario.h"
#include "util.h"

/* ---- a run directory, summed up ---- */

const char *
cmp_run_status(const char *rundir)
{
    static const char *const known[] = { "complete", "interrupted", "failed", "running", NULL };
    struct stat st;
    struct sr_error err = { 0 };
    json_t *m;
    const char *s, *out = "unknown";

    if (stat(rundir, &st) < 0) {
        return NULL;
    }
    m = rd_manifest(rundir, &err);
    s = json_string_value(json_object_get(m, "status"));
    for (size_t i = 0; s && known[i]; i++) {
        if (!strcmp(s, known[i])) {
            out = known[i];
        }
    }
    json_decref(m);
    return out;
}

/* What the campaign manifest says of one run: its status, rows, labels
 * and episodes per type (from faults.jsonl). */
static json_t *
run_summary(const char *rundir, const char *base)
{
    struct sr_error err = { 0 };
    json_t *m = rd_manifest(rundir, &err), *events, *ev, *types = json_object(), *o;
    size_t i;
    int failed = 0;

    o = json_pack("{s:s, s:s}", "dir", base, "status", cmp_run_status(rundir));
    if (!m) {
        json_object_set_new(o, "error", json_string(err.msg));
        json_decref(types);
        return o;
    }
    json_object_set(o, "seed", json_object_get(m, "seed"));
    json_object_set(o, "rows", json_object_get(m, "rows"));
    json_object_set(o, "rows_per_label", json_object_get(m, "rows_per_label"));
    events = rd_events(rundir, &err);
    json_array_foreach(events, i, ev) {
        const char *kind = json_string_value(json_object_get(ev, "event"));
        const char *type = json_string_value(json_object_get(ev, "type"));

        if (kind && type && !strcmp(kind, "inject")) {
            json_object_set_new(types, type,
                                json_integer(json_integer_value(json_object_get(types, type)) + 1));
        }
        failed += kind && !strcmp(kind, "failed");
    }
    json_object_set_new(o, "episodes", types);
    json_object_set_new(o, "episodes_failed", json_integer(failed));
    json_decref(events);
    json_decref(m);
    return o;
}

/* Adds the integers of object 'from' into object 'to'. */
static void
add_counts(json_t *to, json_t *from)
{
    const char *k;
    json_t *v;

    json_object_foreach(from, k, v) {
        json_object_set_new(to, k, json_integer(json_integer_value(json_object_get(to, k)) +
                                                json_integer_value(v)));
    }
}

/* Writes 'doc' to 'path' whole or not at all (a temporary file renamed
 * over it). */
static int
write_json_atomic(const char *path, json_t *doc, struct sr_error *err)
{
    char *tmp = xasprintf("%s.tmp", path);
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    FILE *f = text ? sr_fopen_new(tmp, true, err) : NULL;
    int rc = -SR_EIO;

    if (f && fputs(text, f) != EOF && fputc('\n', f) != EOF &&
        sr_fclose_checked(f, tmp, err) == 0) {
        f = NULL;
        rc = rename(tmp, path) == 0 ? 0
                                    : sr_error_set(err, SR_EIO, "cannot rename '%s': %s", tmp,
                                                   strerror(errno));
    } else if (f) {
        sr_fclose_checked(f, tmp, NULL);
        if (!err->code) {
            sr_error_set(err, SR_EIO, "cannot write '%s'", tmp);
        }
        rc = -err->code;
    } else if (!err->code) {
        sr_error_set(err, SR_ENOMEM, "cannot write '%s'", path);
        rc = -err->code;
    }
    free(text);
    free(tmp);
    return rc;
}

int
cmp_write_manifest(const char *dir, const char *scenario_path, const char *name,
                   const uint64_t *seeds, size_t nseeds, int shard_k, int shard_n,
                   struct sr_error *err)
{
    json_t *doc = json_object(), *runs = json_array(), *types = json_object(),
           *labels = json_object();
    long complete = 0, failed = 0, missing = 0, rows = 0;
    int64_t lo = -1, hi = -1;
    const char *k;
    json_t *v;
    char *path;
    int rc;

    for (size_t i = 0; i < nseeds; i++) {
        char *base = xasprintf("%s-%llu", name, (unsigned long long) seeds[i]);
        char *rundir = xasprintf("%s/%s", dir, base);
        const char *status;
        json_t *r;

        if (shard_n > 1 && (int) (i % (size_t) shard_n) != shard_k - 1) {
            free(base);
            free(rundir);
            continue;
        }
        status = cmp_run_status(rundir);
        if (!status) {
            r = json_pack("{s:s, s:I, s:s}", "dir", base, "seed", (json_int_t) seeds[i],
                          "status", "not run");
            missing++;
        } else {
            r = run_summary(rundir, base);
            if (!strcmp(status, "complete")) {
                complete++;
                add_counts(types, json_object_get(r, "episodes"));
                add_counts(labels, json_object_get(r, "rows_per_label"));
                rows += (long) json_integer_value(
                    json_object_get(json_object_get(r, "rows"), "samples"));
            } else {
                failed++;
            }
        }
        json_array_append_new(runs, r);
        free(base);
        free(rundir);
    }
    json_object_foreach(types, k, v) {
        int64_t n = json_integer_value(v);

        lo = lo < 0 || n < lo ? n : lo;
        hi = n > hi ? n : hi;
    }
    json_object_set_new(doc, "campaign", json_string(name));
    json_object_set_new(doc, "scenario", json_string(scenario_path));
    if (shard_n > 1) {
        json_object_set_new(doc, "shard", json_pack("{s:i, s:i}", "k", shard_k, "n", shard_n));
    }
    json_object_set_new(doc, "runs", runs);
    json_object_set_new(doc, "runs_complete", json_integer(complete));
    json_object_set_new(doc, "runs_failed", json_integer(failed));
    json_object_set_new(doc, "runs_not_run", json_integer(missing));
    json_object_set_new(doc, "samples_rows", json_integer(rows));
    json_object_set_new(doc, "rows_per_label", labels);
    json_object_set_new(doc, "episodes_per_type", types);
    json_object_set_new(doc, "balance",
                        json_pack("{s:I, s:I}", "fewest_episodes_of_a_type",
                                  (json_int_t) (lo < 0 ? 0 : lo), "most_episodes_of_a_type",
                                  (json_int_t) (hi < 0 ? 0 : hi)));
    path = shard_n > 1 ? xasprintf("%s/shard-%d-of-%d.json", dir, shard_k, shard_n)
                       : xasprintf("%s/campaign.json", dir);
    rc = write_json_atomic(path, doc, err);
    free(path);
    json_decref(doc);
    return rc;
}

/* ---- finding runs ---- */

static bool
is_run_dir(const char *path)
{
    char *m = xasprintf("%s/manifest.json", path);
    bool yes = access(m, R_OK) == 0;

    free(m);
    return yes;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Appends to 'out' the run directories 'arg' names: itself when it is a
 * run, else the runs in it (a campaign directory), by name, without those
 * set aside as incomplete; with 'all' false, complete runs only. */
static int
collect_runs(const char *arg, bool all, char ***out, size_t *n, struct sr_error *err)
{
    DIR *d;
    struct dirent *e;
    char **found = NULL;
    size_t nfound = 0, cap = 0;

    if (is_run_dir(arg)) {
        found = xcalloc(1, sizeof *found);
        found[nfound++] = xstrdup(arg);
    } else if ((d = opendir(arg)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char *p;

            if (e->d_name[0] == '.' || strstr(e->d_name, ".incomplete-")) {
                continue;
            }
            p = xasprintf("%s/%s", arg, e->d_name);
            if (is_run_dir(p)) {
                xgrow((void **) &found, &cap, nfound + 1, sizeof *found);
                found[nfound++] = p;
            } else {
                free(p);
            }
        }
        closedir(d);
        if (nfound) {
            qsort(found, nfound, sizeof *found, by_name);
        }
    } else {
        return sr_error_set(err, SR_ENOTFOUND, "'%s' is neither a run directory nor a campaign "
                            "directory", arg);
    }
    if (!nfound) {
        free(found);
        return sr_error_set(err, SR_ENOTFOUND, "no run in '%s'", arg);
    }
    for (size_t i = 0; i < nfound; i++) {
        const char *st = cmp_run_status(found[i]);

        if (!all && strcmp(st, "complete")) {
            fprintf(stderr, "simrun: %s is %s: left out (--all takes it)\n", found[i], st);
            free(found[i]);
            continue;
        }
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = found[i];
    }
    free(found);
    return 0;
}

/* Appends to 'out' the runs dataset 'arg' stands for: itself when it has
 * rows of its own (a run, a merged dataset), else a campaign's complete
 * runs. */
static int
dataset_runs(const char *arg, char ***out, size_t *n, struct sr_error *err)
{
    if (!rd_rows_exist(arg, "samples")) {
        return collect_runs(arg, false, out, n, err);
    }
    *out = xrealloc(*out, (*n + 1) * sizeof **out);
    (*out)[(*n)++] = xstrdup(arg);
    return 0;
}

/* The run id a run's rows carry ("<scenario>-<seed>"), from its manifest. */
static char *
run_id_of(const char *rundir)
{
    struct sr_error err = { 0 };
    json_t *m = rd_manifest(rundir, &err);
    const char *name = json_string_value(json_object_get(json_object_get(m, "scenario"), "name"));
    char *id = NULL;

    if (name && json_is_integer(json_object_get(m, "seed"))) {
        id = xasprintf("%s-%lld", name, (long long) json_integer_value(json_object_get(m, "seed")));
    }
    json_decref(m);
    return id;
}

/* ---- simrun merge ---- */

/* Appends 'src' to 'out' without its first line when 'skip_header' (the
 * header, which the caller compared), byte for byte. */
static int
append_file(FILE *out, const char *outpath, const char *src, bool skip_header,
            const char *header_want, struct sr_error *err)
{
    FILE *in = fopen(src, "r");
    char buf[65536];
    size_t got;

    if (!in) {
        return sr_error_set(err, SR_EIO, "cannot read '%s': %s", src, strerror(errno));
    }
    if (skip_header) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, in);

        if (n < 0 || (header_want && strcmp(line, header_want))) {
            free(line);
            fclose(in);
            return sr_error_set(err, SR_EINVAL,
                                "'%s' has other columns than the first run's: merge runs of "
                                "one simrun version", src);
        }
        free(line);
    }
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, got, out) != got) {
            int e = errno;

            fclose(in);
            return sr_error_set(err, sr_write_code(e), "cannot write '%s': %s", outpath,
                                strerror(e));
        }
    }
    if (ferror(in)) {
        fclose(in);
        return sr_error_set(err, SR_EIO, "cannot read '%s'", src);
    }
    fclose(in);
    return 0;
}

static char *
first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;

    if (!f) {
        return NULL;
    }
    if (getline(&line, &cap, f) < 0) {
        free(line);
        line = NULL;
    }
    fclose(f);
    return line;
}

/* Joins file 'file' of every run into OUT/'file' when every run has it;
 * CSV files keep one header (all must be the same). */
static int
merge_table(const char *out, char *const *runs, size_t n, const char *file, bool csv,
            bool *written, struct sr_error *err)
{
    char *dst, *header = NULL;
    FILE *f;
    int rc = 0;

    *written = false;
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/%s", runs[i], file);
        bool have = access(p, R_OK) == 0;

        free(p);
        if (!have) {
            return 0; /* not in every run: not merged */
        }
    }
    dst = xasprintf("%s/%s", out, file);
    f = sr_fopen_new(dst, false, err);
    if (!f) {
        free(dst);
        return -err->code;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *src = xasprintf("%s/%s", runs[i], file);

        if (csv && i == 0) {
            header = first_line(src);
        }
        rc = append_file(f, dst, src, csv && i > 0, header, err);
        free(src);
    }
    if (sr_fclose_checked(f, dst, rc ? NULL : err) < 0 && rc == 0) {
        rc = -err->code;
    }
    *written = rc == 0;
    free(header);
    free(dst);
    return rc;
}

/* Joins the JSON Lines file 'file' of every run, each line with "run". */
static int
merge_jsonl_with_run(const char *out, char *const *runs, char *const *ids, size_t n,
                     const char *file, struct sr_error *err)
{
    char *dst = xasprintf("%s/%s", out, file);
    FILE *f = sr_fopen_new(dst, false, err);
    int rc = 0;

    if (!f) {
        free(dst);
        return -err->code;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *src = xasprintf("%s/%s", runs[i], file);
        FILE *in = fopen(src, "r");
        char *line = NULL;
        size_t cap = 0;

        while (in && getline(&line, &cap, in) > 0 && rc == 0) {
            json_t *o = json_loads(line, 0, NULL);
            char *text;

            if (!json_is_object(o)) {
                json_decref(o);
                continue; /* a line cut by a crash: left out */
            }
            json_object_set_new(o, "run", json_string(ids[i]));
            text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
            if (!text || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
                rc = sr_error_set(err, sr_write_code(errno), "cannot write '%s'", dst);
            }
            free(text);
            json_decref(o);
        }
        free(line);
        if (in) {
            fclose(in);
        }
        free(src);
    }
    if (sr_fclose_checked(f, dst, rc ? NULL : err) < 0 && rc == 0) {
        rc = -err->code;
    }
    free(dst);
    return rc;
}

static const char merge_usage[] =
    "usage: simrun merge [--all] OUT RUNDIR|CAMPAIGNDIR...\n"
    "Joins runs into one dataset in the new directory OUT: samples, ports, flows and\n"
    "episodes (CSV and JSON Lines, each when every run has it; rows carry their\n"
    "'run' and 'episode'), faults.jsonl and traffic.jsonl with a \"run\" member, the\n"
    "topology of each run in OUT/topology/<run>.json, and a manifest listing the runs.\n"
    "A campaign directory stands for its runs.  Only complete runs, unless --all.\n";

int
sim_cmd_merge(int argc, char **argv)
{
    static const char *const tables[] = { "samples", "ports", "flows", "episodes", NULL };
    struct sr_error err = { 0 };
    char **runs = NULL, **ids = NULL, *topodir = NULL;
    size_t n = 0;
    bool all = false;
    json_t *man = json_object(), *list = json_array(), *rows = json_object(),
           *labels = json_object(), *files = json_array();
    int rc = 0, argi = 1;

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(merge_usage, stdout);
        json_decref(man);
        json_decref(list);
        json_decref(rows);
        json_decref(labels);
        json_decref(files);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--all")) {
        all = true;
        argi++;
    }
    if (argc - argi < 2 || argv[argi][0] == '-') {
        fputs(merge_usage, stderr);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    for (int i = argi + 1; i < argc; i++) {
        if (collect_runs(argv[i], all, &runs, &n, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
            goto out;
        }
    }
    if (!n) {
        fprintf(stderr, "simrun: no run to merge\n");
        rc = 1;
        goto out;
    }
    ids = xcalloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ids[i] = run_id_of(runs[i]);
        if (!ids[i]) {
            fprintf(stderr, "simrun: %s: its manifest names no scenario and seed\n", runs[i]);
            rc = 1;
            goto out;
        }
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(ids[k], ids[i])) {
                fprintf(stderr, "simrun: %s and %s are both run %s: their rows could not be "
                                "told apart\n", runs[k], runs[i], ids[i]);
                rc = 1;
                goto out;
            }
        }
    }
    topodir = xasprintf("%s/topology", argv[argi]);
    if (sr_dir_fresh(argv[argi], &err) < 0 || sr_dir_fresh(topodir, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    for (size_t t = 0; tables[t] && rc == 0; t++) {
        for (int csv = 1; csv >= 0 && rc == 0; csv--) {
            char *file = xasprintf("%s.%s", tables[t], csv ? "csv" : "jsonl");
            bool written;

            if (merge_table(argv[argi], runs, n, file, csv, &written, &err) < 0) {
                fprintf(stderr, "simrun: %s\n", err.msg);
                rc = 1;
            } else if (written) {
                json_array_append_new(files, json_string(file));
            }
            free(file);
        }
    }
    if (rc == 0 && (merge_jsonl_with_run(argv[argi], runs, ids, n, "faults.jsonl", &err) < 0 ||
                    merge_jsonl_with_run(argv[argi], runs, ids, n, "traffic.jsonl", &err) < 0)) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *src = xasprintf("%s/topology.json", runs[i]);
        char *dst = xasprintf("%s/%s.json", topodir, ids[i]);
        size_t len = 0;
        char *text = sr_read_file(src, &len);

        if (!text || sr_file_new(dst, text, len, 0644, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", text ? err.msg : "cannot read a topology.json");
            rc = 1;
        }
        free(text);
        free(src);
        free(dst);
    }
    for (size_t i = 0; i < n; i++) {
        char *base = strrchr(runs[i], '/');
        json_t *r = run_summary(runs[i], base ? base + 1 : runs[i]);

        json_object_set_new(r, "run", json_string(ids[i]));
        json_object_set_new(r, "path", json_string(runs[i]));
        add_counts(rows, json_object_get(r, "rows"));
        add_counts(labels, json_object_get(r, "rows_per_label"));
        json_array_append_new(list, r);
    }
    json_object_set_new(man, "status", json_string(rc == 0 ? "complete" : "failed"));
    json_object_set_new(man, "merged", json_integer((json_int_t) n));
    json_object_set_new(man, "runs", json_incref(list));
    json_object_set_new(man, "rows", json_incref(rows));
    json_object_set_new(man, "rows_per_label", json_incref(labels));
    json_object_set_new(man, "files", json_incref(files));
    if (rc == 0) {
        char *mpath = xasprintf("%s/manifest.json", argv[argi]);

        if (write_json_atomic(mpath, man, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
        }
        free(mpath);
    }
    if (rc == 0) {
        printf("merged %zu run%s into %s: %lld samples rows\n", n, n == 1 ? "" : "s", argv[argi],
               (long long) json_integer_value(json_object_get(rows, "samples")));
    }

out:
    for (size_t i = 0; i < n; i++) {
        free(runs[i]);
        free(ids ? ids[i] : NULL);
    }
    free(runs);
    free(ids);
    free(topodir);
    json_decref(man);
    json_decref(list);
    json_decref(rows);
    json_decref(labels);
    json_decref(files);
    return rc;
}

/* ---- simrun split ---- */

struct group {
    char *key;
    long rows;
    json_t *labels;           /* label -> rows */
    bool test;
};

static struct group *
group_of(struct group **gs, size_t *n, size_t *cap, const char *key)
{
    for (size_t i = *n; i > 0; i--) {
        if (!strcmp((*gs)[i - 1].key, key)) {
            return &(*gs)[i - 1]; /* rows come grouped: the last is the likely one */
        }
    }
    xgrow((void **) gs, cap, *n + 1, sizeof **gs);
    (*gs)[*n] = (struct group) { xstrdup(key), 0, json_object(), false };
    return &(*gs)[(*n)++];
}

/* What a group is, for a stratified split: by episode, the fault type of
 * an episode ("f..." groups' most frequent label other than normal) or
 * "normal"; by run, all alike. */
static const char *
group_kind(const struct group *g, const char *by)
{
    const char *best = "normal", *k;
    json_int_t most = 0;
    json_t *v;

    if (!strcmp(by, "run")) {
        return "run";
    }
    json_object_foreach(g->labels, k, v) {
        if (strcmp(k, "normal") && json_integer_value(v) > most) {
            most = json_integer_value(v);
            best = k;
        }
    }
    return best;
}

static const char split_usage[] =
    "usage: simrun split DATASET --by run|episode [--test FRACTION] [--seed N] [--out FILE]\n"
    "Splits DATASET (a run, a campaign or a merged directory) into training and test\n"
    "sets by whole runs or whole episodes (a fault episode, or a normal stretch\n"
    "between two), never by rows: neighbouring sweeps are near-copies, so a random\n"
    "split of rows leaks.  --test is the share of rows for testing (default 0.3),\n"
    "taken from each kind of episode alike (each fault type, normal stretches);\n"
    "groups are drawn with --seed (default 1).  Writes the two lists of groups as\n"
    "JSON (default DATASET/split-<by>.json) and prints rows per label on each side.\n";

int
sim_cmd_split(int argc, char **argv)
{
    static const struct option opts[] = { { "by", required_argument, NULL, 'b' },
                                          { "test", required_argument, NULL, 't' },
                                          { "seed", required_argument, NULL, 's' },
                                          { "out", required_argument, NULL, 'o' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *by = NULL, *outpath = NULL;
    double frac = 0.3;
    long long seed = 1;
    struct group *gs = NULL;
    size_t ng = 0, cap = 0, nruns = 0;
    char **runs = NULL, *def = NULL;
    struct sr_error err = { 0 };
    struct sr_rng rng;
    size_t *order = NULL;
    long total = 0, test_rows = 0;
    json_t *doc = NULL, *tr = NULL, *te = NULL, *lab_tr = json_object(), *lab_te = json_object();
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "b:t:s:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': by = optarg; break;
        case 't':
            if (!sr_parse_double(optarg, &frac) || frac <= 0 || frac >= 1) {
                fprintf(stderr, "simrun: --test is a share between 0 and 1, as 0.3\n");
                rc = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case 's':
            if (!cli_parse_seed(optarg, &seed)) {
                fprintf(stderr, "simrun: invalid seed '%s'\n", optarg);
                rc = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case 'o': outpath = optarg; break;
        case 'h': fputs(split_usage, stdout); goto out;
        default: fputs(split_usage, stderr); rc = CLI_EXIT_USAGE; goto out;
        }
    }
    if (optind + 1 != argc || !by || (strcmp(by, "run") && strcmp(by, "episode"))) {
        fprintf(stderr, "simrun: split needs a dataset and --by run or --by episode\n%s",
                split_usage);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (dataset_runs(argv[optind], &runs, &nruns, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        struct rd_rows *rr = rd_rows_open(runs[i], "samples", &err);
        json_t *row;

        if (!rr) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
            break;
        }
        while ((row = rd_rows_next(rr)) != NULL) {
            const char *run = json_string_value(json_object_get(row, "run"));
            const char *ep = json_string_value(json_object_get(row, "episode"));
            const char *label = json_string_value(json_object_get(row, "label"));
            struct group *g;

            if (!run || !*run || !ep || !label) {
                fprintf(stderr, "simrun: %s: rows without 'run' and 'episode' (made by an older "
                                "simrun): cannot split them honestly\n", runs[i]);
                rc = 1;
                json_decref(row);
                break;
            }
            if (!strcmp(by, "run")) {
                g = group_of(&gs, &ng, &cap, run);
            } else {
                char *key = xasprintf("%s/%s", run, ep);

                g = group_of(&gs, &ng, &cap, key);
                free(key);
            }
            g->rows++;
            json_object_set_new(g->labels, label,
                                json_integer(json_integer_value(json_object_get(g->labels, label)) +
                                             1));
            total++;
            json_decref(row);
        }
        if (rd_rows_error(rr)) {
            fprintf(stderr, "simrun: %s\n", rd_rows_error(rr)->msg);
            rc = 1;
        }
        rd_rows_close(rr);
    }
    if (rc) {
        goto out;
    }
    if (ng < 2) {
        fprintf(stderr, "simrun: %s has %zu %s: nothing to split (a campaign with several "
                        "seeds splits by run)\n", argv[optind], ng, by);
        rc = 1;
        goto out;
    }
    order = xcalloc(ng, sizeof *order);
    for (size_t i = 0; i < ng; i++) {
        order[i] = i;
    }
    sr_rng_seed(&rng, (uint64_t) seed, 0);
    sr_rng_shuffle(&rng, order, ng, sizeof *order);
    /* Stratified: groups of each kind (an episode's fault type, or normal;
     * runs are all of one kind) go to the test side until it holds that
     * kind's share of the rows, one group at least on each side when the
     * kind has two. */
    for (size_t i = 0; i < ng; i++) {
        const char *kind = group_kind(&gs[order[i]], by);
        long kind_rows = 0, kind_test = 0;
        size_t kind_groups = 0, kind_test_groups = 0;

        for (size_t k = 0; k < ng; k++) {
            if (!strcmp(group_kind(&gs[k], by), kind)) {
                kind_rows += gs[k].rows;
                kind_groups++;
                kind_test += gs[k].test ? gs[k].rows : 0;
                kind_test_groups += gs[k].test;
            }
        }
        if (kind_groups >= 2 && kind_test_groups + 1 < kind_groups &&
            (double) kind_test < frac * (double) kind_rows) {
            gs[order[i]].test = true;
            test_rows += gs[order[i]].rows;
        }
    }
    tr = json_array();
    te = json_array();
    for (size_t i = 0; i < ng; i++) {
        json_array_append_new(gs[i].test ? te : tr, json_string(gs[i].key));
        add_counts(gs[i].test ? lab_te : lab_tr, gs[i].labels);
    }
    doc = json_pack("{s:s, s:f, s:I, s:I, s:I, s:O, s:O, s:O, s:O}", "by", by, "test_fraction",
                    frac, "seed", (json_int_t) seed, "train_rows", (json_int_t) (total - test_rows),
                    "test_rows", (json_int_t) test_rows, "train", tr, "test", te,
                    "train_rows_per_label", lab_tr, "test_rows_per_label", lab_te);
    if (!outpath) {
        outpath = def = xasprintf("%s/split-%s.json", argv[optind], by);
    }
    if (write_json_atomic(outpath, doc, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    printf("split by %s: %zu groups, %zu for training (%ld rows), %zu for testing (%ld rows)\n",
           by, ng, json_array_size(tr), total - test_rows, json_array_size(te), test_rows);
    {
        const char *k;
        json_t *v;
        json_t *both = json_deep_copy(lab_tr);

        add_counts(both, lab_te);
        printf("  %-24s %10s %10s\n", "label", "train", "test");
        json_object_foreach(both, k, v) {
            long a = (long) json_integer_value(json_object_get(lab_tr, k));
            long b = (long) json_integer_value(json_object_get(lab_te, k));

            printf("  %-24s %10ld %10ld%s\n", k, a, b,
                   !a || !b ? "   (on one side only)" : "");
        }
        json_decref(both);
    }
    printf("groups in %s\n", outpath);

out:
    for (size_t i = 0; i < ng; i++) {
        free(gs[i].key);
        json_decref(gs[i].labels);
    }
    free(gs);
    for (size_t i = 0; i < nruns; i++) {
        free(runs[i]);
    }
    free(runs);
    free(order);
    free(def);
    json_decref(doc);
    json_decref(tr);
    json_decref(te);
    json_decref(lab_tr);
    json_decref(lab_te);
    return rc;
}

/* ---- simrun slurm ---- */

/* A path or value for an #SBATCH line or the script: printable, no
 * newline (an #SBATCH line is not parsed by the shell, so it is checked
 * rather than quoted). */
static bool
plain_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return *s != '\0';
}

static const char slurm_usage[] =
    "usage: simrun slurm SCENARIO --shards N [--out CAMPAIGNDIR] [--script FILE]\n"
    "                    [--simrun PATH] [--partition P] [--time LIMIT]\n"
    "Writes an sbatch script that runs SCENARIO's campaign as a SLURM job array:\n"
    "task K runs 'simrun run --shard K/N' on a node of its own (--exclusive: each\n"
    "simrun owns its node's Open vSwitch), all into CAMPAIGNDIR (default\n"
    "runs/<name>-campaign; give a folder every node sees).  Submit it with\n"
    "'sbatch --wait FILE', then join the runs with 'simrun merge OUT CAMPAIGNDIR'.\n";

int
sim_cmd_slurm(int argc, char **argv)
{
    static const struct option opts[] = { { "shards", required_argument, NULL, 'n' },
                                          { "out", required_argument, NULL, 'o' },
                                          { "script", required_argument, NULL, 'S' },
                                          { "simrun", required_argument, NULL, 'x' },
                                          { "partition", required_argument, NULL, 'p' },
                                          { "time", required_argument, NULL, 't' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    struct scn_diags diags = { 0 };
    struct sr_error err = { 0 };
    struct scenario *scn;
    const char *out = NULL, *script = NULL, *exe = NULL, *part = NULL, *tlimit = NULL;
    char *abs_scn = NULL, *abs_out = NULL, *abs_exe = NULL, *def_out = NULL, *def_script = NULL;
    struct sr_buf b = SR_BUF_INIT;
    int64_t shards = 0;
    uint64_t *seeds = NULL;
    size_t nseeds;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "n:o:S:x:p:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!sr_parse_i64(optarg, 1, SCN_MAX_RUNS, &shards)) {
                return cli_usage_error("slurm", "--shards is 1 to %d", SCN_MAX_RUNS);
            }
            break;
        case 'o': out = optarg; break;
        case 'S': script = optarg; break;
        case 'x': exe = optarg; break;
        case 'p': part = optarg; break;
        case 't': tlimit = optarg; break;
        case 'h': fputs(slurm_usage, stdout); return 0;
        default: fputs(slurm_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || shards <= 0) {
        fputs(slurm_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    scn = scenario_load(argv[optind], &diags, &err);
    if (!scn) {
        char *msg = scn_diags_format(&diags, argv[optind]);

        fprintf(stderr, "%s%s%s\n", msg ? msg : "", diags.n ? "" : "simrun: ",
                diags.n ? "" : err.msg);
        free(msg);
        scn_diags_release(&diags);
        return CLI_EXIT_USAGE;
    }
    nseeds = scn_run_seeds(scn, &seeds);
    if (!scn_multi_run(scn) || (size_t) shards > nseeds) {
        fprintf(stderr, "simrun: %s has %zu run%s; --shards must not exceed that (give "
                        "[campaign] seeds or runs)\n", argv[optind], nseeds, nseeds == 1 ? "" : "s");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    def_out = xasprintf("runs/%s-campaign", scn->name);
    def_script = xasprintf("%s.sbatch", scn->name);
    out = out ? out : def_out;
    script = script ? script : def_script;
    abs_scn = realpath(argv[optind], NULL);
    abs_exe = realpath(exe ? exe : "/proc/self/exe", NULL);
    if (sr_dir_ours(out, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    abs_out = realpath(out, NULL);
    if (!abs_scn || !abs_exe || !abs_out || !plain_text(abs_scn) || !plain_text(abs_exe) ||
        !plain_text(abs_out) || (part && !plain_text(part)) || (tlimit && !plain_text(tlimit)) ||
        strchr(abs_out, '%')) {
        fprintf(stderr, "simrun: the scenario, the campaign folder, simrun and the options must "
                        "be existing paths and plain text (no control character, no '%%')\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    sr_buf_puts(&b, "#!/bin/sh\n");
    sr_buf_printf(&b, "# Written by simrun slurm: the campaign of %s in %lld shards.\n",
                  scn->name, (long long) shards);
    sr_buf_puts(&b, "# Submit:  sbatch --wait THIS_FILE\n# Then:    simrun merge OUT ");
    sr_sh_quote(&b, abs_out);
    sr_buf_puts(&b, "\n#SBATCH --job-name=simrun-");
    sr_buf_puts(&b, scn->name); /* a scenario name is [A-Za-z0-9_.-] */
    sr_buf_printf(&b, "\n#SBATCH --array=1-%lld\n", (long long) shards);
    sr_buf_puts(&b, "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --exclusive\n");
    sr_buf_printf(&b, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", abs_out);
    if (part) {
        sr_buf_printf(&b, "#SBATCH --partition=%s\n", part);
    }
    if (tlimit) {
        sr_buf_printf(&b, "#SBATCH --time=%s\n", tlimit);
    }
    sr_buf_puts(&b, "set -eu\nexec ");
    sr_sh_quote(&b, abs_exe);
    sr_buf_printf(&b, " run --quiet --shard \"${SLURM_ARRAY_TASK_ID}/%lld\" --out ",
                  (long long) shards);
    sr_sh_quote(&b, abs_out);
    sr_buf_putc(&b, ' ');
    sr_sh_quote(&b, abs_scn);
    sr_buf_putc(&b, '\n');
    if (sr_file_new(script, b.data, b.len, 0755, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    printf("wrote %s: %zu runs of %s in %lld shards into %s\n", script, nseeds, scn->name,
           (long long) shards, abs_out);
    printf("submit with: sbatch --wait %s\nthen:        simrun merge OUT %s\n", script, abs_out);

out:
    sr_buf_release(&b);
    free(abs_scn);
    free(abs_out);
    free(abs_exe);
    free(def_out);
    free(def_script);
    free(seeds);
    scenario_free(scn);
    scn_diags_release(&diags);
    return rc;
}

/* ---- the campaign's own audit ---- */

int
cmp_add_audit(const char *dir, struct sr_error *err)
{
    char **runs = NULL, *path = xasprintf("%s/campaign.json", dir);
    size_t nruns = 0;
    struct au_audit *au = au_new();
    json_t *res = NULL, *doc = NULL, *summary = json_object(), *list;
    const char *type;
    int rc = 0, given_away = 0;

    if (collect_runs(dir, false, &runs, &nruns, err) < 0) {
        rc = -err->code;
    }
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        rc = au_add_run(au, runs[i], err);
    }
    if (rc == 0) {
        json_error_t je;

        doc = json_load_file(path, 0, &je);
        if (!json_is_object(doc)) {
            rc = sr_error_set(err, SR_EINVAL, "cannot read '%s': %s", path, je.text);
        }
    }
    if (rc == 0) {
        res = au_result(au, 0.99, 0.9, 5);
        json_object_foreach(json_object_get(res, "shortcuts"), type, list) {
            given_away += json_array_size(list) > 0;
        }
        json_object_set_new(summary, "runs", json_integer((json_int_t) nruns));
        json_object_set_new(summary, "sweeps", json_incref(json_object_get(res, "sweeps")));
        json_object_set_new(summary, "types_given_away", json_integer(given_away));
        json_object_set_new(summary, "shortcuts", json_incref(json_object_get(res, "shortcuts")));
        json_object_set_new(summary, "note",
                            json_string("the first 5 per type; 'simrun audit' lists them all"));
        json_object_set_new(doc, "audit", summary);
        summary = NULL;
        rc = write_json_atomic(path, doc, err);
    }
    for (size_t i = 0; i < nruns; i++) {
        free(runs[i]);
    }
    free(runs);
    free(path);
    json_decref(summary);
    json_decref(res);
    json_decref(doc);
    au_free(au);
    return rc < 0 ? rc : given_away;
}

/* ---- simrun audit ---- */

static const char audit_usage[] =
    "usage: simrun audit [--precision P] [--recall R] [--top N] [--json FILE] DATASET...\n"
    "Lists, for each fault type, every single column of samples and ports, and every\n"
    "rule shape of flows (match fields, actions, time-outs, cookie, priority, table),\n"
    "that tells the type's sweeps from normal ones on its own: one threshold or one\n"
    "value with precision >= P (default 0.99) and recall >= R (default 0.9).  A\n"
    "diagnoser can score well on such a dataset by reading that shortcut instead of\n"
    "the fault.  DATASET is a run, a merged dataset or a campaign directory (its\n"
    "complete runs).  --top shows at most N per type (default 5; the JSON has all).\n";

int
sim_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = { { "precision", required_argument, NULL, 'p' },
                                          { "recall", required_argument, NULL, 'r' },
                                          { "top", required_argument, NULL, 'n' },
                                          { "json", required_argument, NULL, 'j' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    double minp = 0.99, minr = 0.9;
    int64_t top = 5;
    const char *json_path = NULL;
    char **runs = NULL;
    size_t nruns = 0;
    struct sr_error err = { 0 };
    struct au_audit *au = NULL;
    json_t *res = NULL, *list;
    const char *type;
    int c, rc = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:r:n:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
        case 'r':
            if (!sr_parse_double(optarg, c == 'p' ? &minp : &minr) ||
                (c == 'p' ? minp : minr) <= 0 || (c == 'p' ? minp : minr) > 1) {
                fprintf(stderr, "simrun: --%s is a share above 0 and at most 1, as 0.9\n",
                        c == 'p' ? "precision" : "recall");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'n':
            if (!sr_parse_i64(optarg, 1, 100000, &top)) {
                fprintf(stderr, "simrun: --top is a number from 1 on\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'j': json_path = optarg; break;
        case 'h': fputs(audit_usage, stdout); return 0;
        default: fputs(audit_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "simrun: audit needs a dataset\n%s", audit_usage);
        return CLI_EXIT_USAGE;
    }
    for (int i = optind; i < argc && rc == 0; i++) {
        rc = dataset_runs(argv[i], &runs, &nruns, &err) < 0 ? 1 : 0;
    }
    au = au_new();
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        rc = au_add_run(au, runs[i], &err) < 0 ? 1 : 0;
    }
    if (rc) {
        struct sr_buf msg = SR_BUF_INIT;

        sr_term_clean(&msg, err.msg);
        fprintf(stderr, "simrun: %s\n", sr_buf_cstr(&msg));
        sr_buf_release(&msg);
        goto out;
    }
    res = au_result(au, minp, minr, (size_t) -1);
    json_object_set_new(res, "datasets", json_integer((json_int_t) nruns));
    if (json_path) {
        char *text = json_dumps(res, JSON_INDENT(1) | JSON_SORT_KEYS);

        if (!text || sr_file_new(json_path, text, strlen(text), 0644, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
        }
        free(text);
    }
    printf("%zu run%s: %lld features; a shortcut tells a fault type's sweeps from normal ones "
           "alone with precision >= %g and recall >= %g\n",
           nruns, nruns == 1 ? "" : "s",
           (long long) json_integer_value(json_object_get(res, "features")), minp, minr);
    printf("sweeps:");
    json_object_foreach(json_object_get(res, "sweeps"), type, list) {
        printf(" %s %lld", type, (long long) json_integer_value(list));
    }
    printf("\n");
    json_object_foreach(json_object_get(res, "shortcuts"), type, list) {
        size_t i;
        json_t *f;

        printf("\n%-22s %zu shortcut%s\n", type, json_array_size(list),
               json_array_size(list) == 1 ? "" : "s");
        json_array_foreach(list, i, f) {
            struct sr_buf name = SR_BUF_INIT;

            if ((int64_t) i >= top) {
                printf("  ... %zu more (--top, --json)\n", json_array_size(list) - i);
                break;
            }
            /* Names come from the files: printed cleaned. */
            sr_term_clean(&name, json_string_value(json_object_get(f, "feature")));
            printf("  %-10s %-52s %s %-8g precision %.3f recall %.3f\n",
                   json_string_value(json_object_get(f, "kind")), sr_buf_cstr(&name),
                   json_string_value(json_object_get(f, "test")),
                   json_number_value(json_object_get(f, "value")),
                   json_number_value(json_object_get(f, "precision")),
                   json_number_value(json_object_get(f, "recall")));
            sr_buf_release(&name);
        }
    }
    if (fflush(stdout) != 0) {
        rc = 1;
    }

out:
    for (size_t i = 0; i < nruns; i++) {
        free(runs[i]);
    }
    free(runs);
    json_decref(res);
    au_free(au);
    return rc;
}
