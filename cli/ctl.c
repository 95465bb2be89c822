/* 'simrun ctl': look at a controller the way 'ovs-ofctl dump-*' looks at a
 * switch.  Part of the command line, so it prints. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json.h"
#include "runtime.h"
#include "util.h"

#define EXIT_USAGE 2

/* Switch names from the running run's topology.json, when there is one. */
struct names {
    json_t *topo;
};

static const char *
name_of(const struct names *nm, uint64_t dpid, char *buf, size_t size)
{
    size_t i;
    json_t *sw;

    json_array_foreach(json_object_get(nm->topo, "switches"), i, sw) {
        uint64_t d = strtoull(json_string_value(json_object_get(sw, "dpid")), NULL, 16);

        if (d == dpid) {
            return json_string_value(json_object_get(sw, "name"));
        }
    }
    snprintf(buf, size, "%016" PRIx64, dpid);
    return buf;
}

static bool
matches_switch(const struct names *nm, uint64_t dpid, const char *want)
{
    char buf[32];

    if (!want) {
        return true;
    }
    return !strcmp(name_of(nm, dpid, buf, sizeof buf), want) ||
           strtoull(want, NULL, 0) == dpid;
}

static const char ctl_usage[] =
    "usage: simrun ctl [--controller ryu|odl] [--url URL] [--user U]\n"
    "                  [--password-file F] [--insecure-credentials]\n"
    "                  [--api rfc8040|restconf] [--switch S] [--json]\n"
    "                  switches|ports|flows|tables|links\n"
    "Without --url, asks the controller of the running 'simrun up'.\n"
    "The password comes from --password-file (a file only you can read),\n"
    "$SIMRUN_CONTROLLER_PASSWORD, or the URL's user:password@; never from an\n"
    "option, which other users could read in ps.  Credentials go over plain\n"
    "http:// to another machine only with --insecure-credentials.\n";

static void
print_ports(const struct ctl_stats *s, const char *name)
{
    for (size_t i = 0; i < s->nports; i++) {
        const struct ctl_port *p = &s->ports[i];
        char no[16];

        if (p->port_no == CTL_PORT_LOCAL) {
            snprintf(no, sizeof no, "LOCAL");
        } else {
            snprintf(no, sizeof no, "%u", p->port_no);
        }
        printf("%-8s %-6s %-10s %-5s %12" PRIu64 " %12" PRIu64 " %14" PRIu64 " %14" PRIu64
               " %8" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n",
               name, no, p->name, !p->has_state ? "?" : p->link_down ? "down" : "up",
               p->c[CTL_RX_PACKETS], p->c[CTL_TX_PACKETS], p->c[CTL_RX_BYTES],
               p->c[CTL_TX_BYTES], p->c[CTL_RX_DROPS], p->c[CTL_TX_DROPS],
               p->c[CTL_RX_ERRORS] + p->c[CTL_TX_ERRORS]);
    }
}

static json_t *
stats_json(const struct ctl_stats *s, const char *name, unsigned want)
{
    json_t *o = json_pack("{s:s, s:s%}", "switch", name, "dpid", "", 0);
    json_t *arr;

    json_object_set_new(o, "dpid", json_sprintf("%016" PRIx64, s->dpid));
    if (want & CTL_WANT_PORTS) {
        arr = json_array();
        for (size_t i = 0; i < s->nports; i++) {
            const struct ctl_port *p = &s->ports[i];
            json_t *po = json_object();

            json_object_set_new(po, "port", p->port_no == CTL_PORT_LOCAL
                                                ? json_string("LOCAL")
                                                : json_integer(p->port_no));
            json_object_set_new(po, "name", json_string(p->name));
            json_object_set_new(po, "link-down", json_boolean(p->link_down));
            json_object_set_new(po, "blocked", json_boolean(p->blocked));
            json_object_set_new(po, "live", json_boolean(p->live));
            for (int k = 0; k < CTL_NCOUNTERS; k++) {
                json_object_set_new(po, ctl_counter_odl_name((enum ctl_counter) k),
                                    json_sprintf("%" PRIu64, p->c[k]));
            }
            json_object_set_new(po, "duration.second", json_integer((json_int_t) p->duration_sec));
            json_array_append_new(arr, po);
        }
        json_object_set_new(o, "ports", arr);
    }
    if (want & CTL_WANT_TABLES) {
        arr = json_array();
        for (size_t i = 0; i < s->ntables; i++) {
            json_array_append_new(arr, json_pack("{s:i, s:I, s:I, s:I}", "table",
                                                 (int) s->tables[i].table_id, "active-flows",
                                                 (json_int_t) s->tables[i].active,
                                                 "packets-looked-up",
                                                 (json_int_t) s->tables[i].lookups,
                                                 "packets-matched",
                                                 (json_int_t) s->tables[i].matched));
        }
        json_object_set_new(o, "tables", arr);
    }
    if (want & CTL_WANT_FLOWS) {
        arr = json_array();
        for (size_t i = 0; i < s->nflows; i++) {
            const struct ctl_flow *f = &s->flows[i];
            json_t *match = json_loads(f->match, 0, NULL);

            json_array_append_new(
                arr, json_pack("{s:i, s:i, s:o, s:i, s:i, s:{s:I, s:I}, s:I, s:I, s:o, s:s}",
                               "table", (int) f->table_id, "priority", (int) f->priority,
                               "cookie", json_sprintf("%" PRIu64, f->cookie), "idle-timeout",
                               (int) f->idle_timeout, "hard-timeout", (int) f->hard_timeout,
                               "duration", "second", (json_int_t) f->duration_sec,
                               "nanosecond", (json_int_t) f->duration_nsec, "packet-count",
                               (json_int_t) f->packets, "byte-count", (json_int_t) f->bytes,
                               "match", match ? match : json_null(), "actions", f->actions));
        }
        json_object_set_new(o, "flows", arr);
    }
    return o;
}

int
sim_cmd_ctl(int argc, char **argv)
{
    static const struct option opts[] = {
        { "controller", required_argument, NULL, 'c' },
        { "url", required_argument, NULL, 'u' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'F' },
        /* Named so that getopt does not take it for --password-file: a
         * password in argv is readable by every user in ps. */
        { "password", required_argument, NULL, 'X' },
        { "insecure-credentials", no_argument, NULL, 'I' },
        { "api", required_argument, NULL, 'a' },
        { "switch", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl_config cfg = { .kind = CTL_KIND_RYU, .api = CTL_ODL_RFC8040, .retries = 2 };
    struct names nm = { NULL };
    struct sr_error err = { 0 };
    struct ctl_client *c = NULL;
    const char *what, *only = NULL;
    char *password = NULL, *url = NULL, *url_user = NULL, *url_password = NULL, *bare = NULL;
    bool as_json = false, insecure = false;
    int opt, rc = 0;
    uint64_t *dpids = NULL;
    size_t n = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:u:U:F:Ia:s:jhX:", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (strcmp(optarg, "ryu") && strcmp(optarg, "odl")) {
                fprintf(stderr, "simrun: --controller is ryu or odl, not '%s'\n%s", optarg,
                        ctl_usage);
                return EXIT_USAGE;
            }
            cfg.kind = strcmp(optarg, "odl") ? CTL_KIND_RYU : CTL_KIND_ODL;
            break;
        case 'u': free(url); url = xstrdup(optarg); break;
        case 'U': cfg.user = optarg; break;
        case 'I': insecure = true; break;
        case 'X':
            fprintf(stderr, "simrun: there is no --password option: other users can read a "
                            "command line in ps; use --password-file or "
                            "$SIMRUN_CONTROLLER_PASSWORD\n");
            free(url);
            sr_free_secret(password);
            return EXIT_USAGE;
        case 'F':
            sr_free_secret(password);
            password = sr_read_secret_line(optarg, &err);
            if (!password) {
                fprintf(stderr, "simrun: the password file: %s\n", err.msg);
                free(url);
                return 1;
            }
            break;
        case 'a':
            if (strcmp(optarg, "rfc8040") && strcmp(optarg, "restconf")) {
                fprintf(stderr, "simrun: --api is rfc8040 or restconf\n%s", ctl_usage);
                return EXIT_USAGE;
            }
            cfg.api = strcmp(optarg, "restconf") ? CTL_ODL_RFC8040 : CTL_ODL_RESTCONF;
            break;
        case 's': only = optarg; break;
        case 'j': as_json = true; break;
        case 'h': fputs(ctl_usage, stdout); return 0;
        default: fputs(ctl_usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "simrun: ctl needs one of switches, ports, flows, tables, links\n%s",
                ctl_usage);
        free(url);
        sr_free_secret(password);
        return EXIT_USAGE;
    }
    what = argv[optind];
    if (!password && getenv("SIMRUN_CONTROLLER_PASSWORD")) {
        password = xstrdup(getenv("SIMRUN_CONTROLLER_PASSWORD"));
    }
    unsetenv("SIMRUN_CONTROLLER_PASSWORD");
    if (!url) {
        json_t *state = json_load_file(SIM_STATE_DIR "/state.json", JSON_REJECT_DUPLICATES, NULL);
        const char *dir = json_string_value(json_object_get(state, "dir"));

        if (json_string_value(json_object_get(state, "rest_url"))) {
            char *path = xasprintf("%s/topology.json", dir ? dir : ".");

            url = xstrdup(json_string_value(json_object_get(state, "rest_url")));
            nm.topo = json_load_file(path, 0, NULL);
            free(path);
        }
        json_decref(state);
        if (!url) {
            fprintf(stderr, "simrun: no --url, and no 'simrun up' is running\n");
            sr_free_secret(password);
            return EXIT_USAGE;
        }
    }
    /* Credentials in the URL go into the request, never into messages. */
    bare = sr_url_split_userinfo(url, &url_user, &url_password);
    if (url_user && !cfg.user) {
        cfg.user = url_user;
    }
    if (url_password && !password) {
        password = url_password;
        url_password = NULL;
    }
    if ((cfg.user || password) && sr_url_is_plain_remote(bare) && !insecure) {
        fprintf(stderr, "simrun: refusing to send credentials over plain http:// to '%s', "
                        "which is not this machine (use https://, or "
                        "--insecure-credentials)\n", bare);
        rc = EXIT_USAGE;
        goto out;
    }
    cfg.url = bare;
    cfg.password = password;
    c = ctl_client_new(&cfg, &err);
    if (!c || ctl_client_switches(c, &dpids, &n, &err) < 0) {
        fprintf(stderr, "simrun: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (!strcmp(what, "switches")) {
        json_t *arr = json_array();
        char buf[32];

        if (!as_json) {
            printf("%-10s %-16s %s\n", "switch", "dpid", "dpid (decimal)");
        }
        for (size_t i = 0; i < n; i++) {
            const char *name = name_of(&nm, dpids[i], buf, sizeof buf);

            if (as_json) {
                json_array_append_new(arr, json_pack("{s:s, s:o}", "switch", name, "dpid",
                                                     json_sprintf("%016" PRIx64, dpids[i])));
            } else {
                printf("%-10s %016" PRIx64 " %" PRIu64 "\n", name, dpids[i], dpids[i]);
            }
        }
        if (as_json) {
            json_dumpf(arr, stdout, JSON_INDENT(1));
            putchar('\n');
        }
        json_decref(arr);
    } else if (!strcmp(what, "links")) {
        struct ctl_link *links = NULL;
        size_t nl = 0;
        char a[32], b[32];
        json_t *arr = json_array();

        if (ctl_client_links(c, &links, &nl, &err) < 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
            goto out;
        }
        for (size_t i = 0; i < nl; i++) {
            const char *sa = name_of(&nm, links[i].src_dpid, a, sizeof a);
            const char *sb = name_of(&nm, links[i].dst_dpid, b, sizeof b);

            if (as_json) {
                json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:i}", "src", sa,
                                                     "src_port", (int) links[i].src_port, "dst",
                                                     sb, "dst_port", (int) links[i].dst_port));
            } else {
                printf("%s:%u -> %s:%u\n", sa, links[i].src_port, sb, links[i].dst_port);
            }
        }
        if (as_json) {
            json_dumpf(arr, stdout, JSON_INDENT(1));
            putchar('\n');
        }
        json_decref(arr);
        free(links);
    } else if (!strcmp(what, "ports") || !strcmp(what, "flows") || !strcmp(what, "tables")) {
        unsigned want = what[0] == 'p' ? CTL_WANT_PORTS
                        : what[0] == 'f' ? CTL_WANT_FLOWS : CTL_WANT_TABLES;
        struct ctl_stats *st = xcalloc(n + 1, sizeof *st);
        uint64_t *sel = xcalloc(n + 1, sizeof *sel);
        size_t ns = 0;
        json_t *arr = json_array();
        char buf[32];

        for (size_t i = 0; i < n; i++) {
            if (matches_switch(&nm, dpids[i], only)) {
                sel[ns++] = dpids[i];
            }
        }
        if (ctl_client_sweep(c, sel, ns, want, st, &err) > 0) {
            fprintf(stderr, "simrun: %s\n", err.msg);
            rc = 1;
        }
        if (!as_json && want == CTL_WANT_PORTS) {
            printf("%-8s %-6s %-10s %-5s %12s %12s %14s %14s %8s %8s %7s\n", "switch", "port",
                   "name", "link", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
                   "rx_drop", "tx_drop", "errors");
        } else if (!as_json && want == CTL_WANT_TABLES) {
            printf("%-8s %5s %8s %14s %14s\n", "switch", "table", "active", "looked_up",
                   "matched");
        }
        for (size_t i = 0; i < ns; i++) {
            const char *name = name_of(&nm, st[i].dpid, buf, sizeof buf);

            if (st[i].status != 0) {
                continue;
            }
            if (as_json) {
                json_array_append_new(arr, stats_json(&st[i], name, want));
            } else if (want == CTL_WANT_PORTS) {
                print_ports(&st[i], name);
            } else if (want == CTL_WANT_TABLES) {
                for (size_t k = 0; k < st[i].ntables; k++) {
                    printf("%-8s %5u %8" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", name,
                           st[i].tables[k].table_id, st[i].tables[k].active,
                           st[i].tables[k].lookups, st[i].tables[k].matched);
                }
            } else {
                printf("%s (%016" PRIx64 "): %zu flows\n", name, st[i].dpid, st[i].nflows);
                for (size_t k = 0; k < st[i].nflows; k++) {
                    const struct ctl_flow *f = &st[i].flows[k];

                    /* The age as ovs-ofctl dump-flows shows it. */
                    printf("  table=%u priority=%u cookie=0x%" PRIx64 " duration=%" PRIu64
                           ".%03us packets=%" PRIu64 " bytes=%" PRIu64
                           " idle=%u hard=%u match=%s actions=%s\n",
                           f->table_id, f->priority, f->cookie, f->duration_sec,
                           (unsigned) (f->duration_nsec / 1000000u), f->packets, f->bytes,
                           f->idle_timeout, f->hard_timeout, f->match,
                           f->actions[0] ? f->actions : "drop");
                }
            }
            ctl_stats_release(&st[i]);
        }
        if (as_json) {
            json_dumpf(arr, stdout, JSON_INDENT(1));
            putchar('\n');
        }
        json_decref(arr);
        free(st);
        free(sel);
    } else {
        fprintf(stderr, "simrun: unknown ctl view '%s'\n%s", what, ctl_usage);
        rc = EXIT_USAGE;
    }

out:
    free(dpids);
    ctl_client_free(c);
    json_decref(nm.topo);
    free(url);
    free(bare);
    free(url_user);
    sr_free_secret(url_password);
    sr_free_secret(password);
    return rc;
}
