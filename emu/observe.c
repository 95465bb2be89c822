/* What the machine that runs the network shows: the switches' OpenFlow
 * connections and their flow tables, read here or, for a network on a lab
 * server, through the Mininet script's control channel there. */
#include "runtime-private.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

static bool
hex_is(const char *text, unsigned long want)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 16);
    return end != text && *end == '\0' && errno == 0 && v == want;
}

/* How many OpenFlow connections the switches hold to the controller: TCP
 * connections in the kernel's table (/proc/net/tcp and tcp6, where Open
 * vSwitch's userspace datapath and the controller both live) that are
 * established toward the controller's OpenFlow port.  The kernel closes
 * them the moment either end goes, where Open vSwitch's 'is_connected'
 * column is refreshed only every few seconds. */
static int
connected_here(unsigned of_port, size_t *n, struct sr_error *err)
{
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };

    *n = 0;
    for (size_t i = 0; i < 2; i++) {
        FILE *f = fopen(tables[i], "r");
        char line[512];

        if (!f) {
            if (i == 0) {
                return sr_error_set(err, SR_EIO, "cannot read %s: %s", tables[i],
                                    strerror(errno));
            }
            continue;
        }
        /* "  sl  local_address rem_address   st ...": addresses as HEX:PORT,
         * the state in hex (01: established).  The heading line has no
         * hex port and is passed over. */
        while (fgets(line, sizeof line, f)) {
            char *save = NULL, *field[4];
            size_t k = 0;

            for (char *w = strtok_r(line, " \t\n", &save); w && k < 4;
                 w = strtok_r(NULL, " \t\n", &save)) {
                field[k++] = w;
            }
            if (k == 4 && hex_is(field[3], 0x01)) {
                const char *colon = strrchr(field[2], ':');

                *n += colon && hex_is(colon + 1, of_port);
            }
        }
        fclose(f);
    }
    return 0;
}

/* 'ovs-ofctl dump-flows' of 'n' switches at once, one process each. */
static int
dump_flows_here(const char *const *sws, size_t n, struct sr_buf *outs, struct sr_error *err)
{
    char *ofctl = sr_which("ovs-ofctl");
    struct sr_proc *p = xcalloc(n + 1, sizeof *p);
    struct sr_fd_spec pipe_spec = { SR_FD_PIPE, NULL }, null = { SR_FD_NULL, NULL };
    double end = sr_now() + 15.0;
    size_t open = 0;
    int rc = 0;

    if (!ofctl) {
        free(p);
        return sr_error_set(err, SR_ENOTFOUND, "no ovs-ofctl");
    }
    for (size_t i = 0; i < n; i++) {
        const char *argv[] = { ofctl, "-O", "OpenFlow13", "--no-names", "dump-flows", sws[i],
                               NULL };

        /* An entry never spawned has no pipe: -1, never fd 0 (simrun's
         * stdin), which the loop below would read and close. */
        p[i] = (struct sr_proc) { .pid = -1, .in_fd = -1, .out_fd = -1 };
        if (rc == 0 && sr_spawn(argv, NULL, null, pipe_spec, null, &p[i], err) < 0) {
            rc = -err->code;
        }
        open += p[i].pid > 0;
    }
    while (open && sr_now() < end) {
        struct pollfd *fds = xcalloc(n + 1, sizeof *fds);

        for (size_t i = 0; i < n; i++) {
            fds[i] = (struct pollfd) { .fd = p[i].out_fd, .events = POLLIN };
        }
        poll(fds, n, 200);
        for (size_t i = 0; i < n; i++) {
            char chunk[4096];
            ssize_t got;

            if (p[i].out_fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            got = read(p[i].out_fd, chunk, sizeof chunk);
            if (got > 0) {
                sr_buf_append(&outs[i], chunk, (size_t) got);
            } else if (got == 0 || errno != EINTR) {
                close(p[i].out_fd);
                p[i].out_fd = -1;
                open--;
            }
        }
        free(fds);
    }
    for (size_t i = 0; i < n; i++) {
        int status = 0;

        if (p[i].pid > 0 && (!sr_proc_wait(p[i].pid, 2000, &status) || status != 0) &&
            rc == 0) {
            rc = sr_error_set(err, SR_EIO, "ovs-ofctl dump-flows %s failed", sws[i]);
        }
        if (p[i].pid > 0) {
            sr_proc_stop(&p[i], 0);
        }
    }
    free(p);
    free(ofctl);
    return rc;
}

int
sim_runtime_connected(struct sim_runtime *rt, size_t *n, struct sr_error *err)
{
    json_t *answer = NULL;

    if (!rt->remote) {
        return connected_here((unsigned) rt->of_port, n, err);
    }
    if (sim_runtime_command(rt, json_pack("{s:s, s:i}", "cmd", "connected", "port", rt->of_port),
                            10, &answer, err) < 0) {
        return -err->code;
    }
    *n = (size_t) json_integer_value(json_object_get(answer, "connected"));
    json_decref(answer);
    return 0;
}

int
sim_runtime_dump_flows(struct sim_runtime *rt, const char *const *sws, size_t n,
                       struct sr_buf *outs, struct sr_error *err)
{
    json_t *answer = NULL, *names, *flows;

    if (!rt->remote) {
        return dump_flows_here(sws, n, outs, err);
    }
    names = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(names, json_string(sws[i]));
    }
    if (sim_runtime_command(rt, json_pack("{s:s, s:o}", "cmd", "dump_flows", "switches", names),
                            30, &answer, err) < 0) {
        return -err->code;
    }
    flows = json_object_get(answer, "flows");
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(flows, i));

        if (text) {
            sr_buf_puts(&outs[i], text);
        }
    }
    json_decref(answer);
    return 0;
}

bool
sim_runtime_is_remote(const struct sim_runtime *rt)
{
    return rt->remote != NULL;
}

const char *
sim_runtime_lab_server(const struct sim_runtime *rt)
{
    return rt->remote ? rt_remote_name(rt) : NULL;
}
