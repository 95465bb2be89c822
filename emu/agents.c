/* The traffic agents: started on every host by the Mininet script,
 * driven through their control sockets. */
#include "runtime-private.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "files.h"
#include "log.h"
#include "proc.h"
#include "services.h"
#include "trace.h"
#include "util.h"

/* ---- traffic agents ---- */

/* Removes AGENTS_DIR and the sockets in it (agents that were killed leave
 * theirs behind). */
void
rt_remove_agent_sockets(void)
{
    DIR *d = opendir(AGENTS_DIR);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.') {
            char *path = xasprintf("%s/%s", AGENTS_DIR, e->d_name);

            unlink(path);
            free(path);
        }
    }
    if (d) {
        closedir(d);
        rmdir(AGENTS_DIR);
    }
}

int
sim_runtime_agents_start(struct sim_runtime *rt, const char *program, const char *dir,
                         struct sr_error *err)
{
    json_t *answer = NULL;
    int n;

    if (rt->remote) {
        return rt_remote_agents_start(rt, program, dir, err);
    }
    rt_remove_agent_sockets();
    /* Mode 0700: only root may send the agents commands. */
    if (rt_state_dir(AGENTS_DIR, err) < 0) {
        return -err->code;
    }
    if (sim_runtime_command(rt, json_pack("{s:s, s:s, s:s, s:s}", "cmd", "agents", "program",
                                          program, "dir", dir, "control", AGENTS_DIR),
                            60, &answer, err) < 0) {
        return -SR_EIO;
    }
    n = (int) json_integer_value(json_object_get(answer, "agents"));
    json_decref(answer);
    return n;
}

int
sim_runtime_agents_stop(struct sim_runtime *rt, struct sr_error *err)
{
    json_t *answer = NULL, *failed, *v;
    const char *host;
    /* Part of the end, also of an interrupted run: not cut short by the
     * signal that ended it, so the agents flush their KPIs. */
    int rc = rt_command(rt, json_pack("{s:s}", "cmd", "agents_stop"), 30, false, &answer, err);

    rt_remove_agent_sockets();
    if (rt->remote) {
        /* Their KPI files and logs, from the lab server into the run
         * directory, whatever the stop said. */
        char *dir = xasprintf("%s/traffic", rt->dir);
        struct sr_error e = { 0 };

        if (rt_remote_agents_fetch(rt, dir, &e) < 0) {
            SR_WARN("the traffic agents' files did not come back from the lab server: %s",
                    e.msg);
            if (rc == 0) {
                *err = e;
                rc = -e.code;
            }
        }
        free(dir);
    }
    if (rc < 0) {
        json_decref(answer);
        return rc;
    }
    failed = json_object_get(answer, "failed");
    json_object_foreach(failed, host, v) {
        rc = rt_agent_exit_error(rt, host, (int) json_integer_value(v), err);
        break; /* the first one is enough to say why */
    }
    json_decref(answer);
    return rc;
}

int
rt_agent_exit_error(struct sim_runtime *rt, const char *host, int status, struct sr_error *err)
{
    return sr_error_set(err, status == SR_AGENT_EXIT_DISK_FULL ? SR_ENOSPC : SR_EIO,
                        "the traffic agent of %s %s (see %s/traffic/%s.log)", host,
                        status == SR_AGENT_EXIT_DISK_FULL
                            ? "could not write its KPI records: the disk is full"
                        : status == SR_AGENT_EXIT_WRITE ? "could not write its KPI records"
                                                        : "exited before its time",
                        rt->dir, host);
}

int
sim_runtime_agent_control(struct sim_runtime *rt, const char *host, json_t *cmd,
                          struct sr_error *err)
{
    struct sockaddr_un to = { .sun_family = AF_UNIX };
    char *text = json_dumps(cmd, JSON_COMPACT);
    int fd, rc = 0;

    sr_trace(rt->trace, "agent.control", cmd);
    if (rt->remote) {
        free(text);
        return rt_remote_agent_control(rt, host, cmd, err);
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(to.sun_path, sizeof to.sun_path, "%s/%s.ctl", AGENTS_DIR, host);
    if (fd < 0 || sendto(fd, text, strlen(text), 0, (struct sockaddr *) &to, sizeof to) < 0) {
        rc = sr_error_set(err, SR_EIO, "cannot reach the traffic agent of %s (%s): %s", host,
                          to.sun_path,
                          errno == ENOENT || errno == ECONNREFUSED
                              ? "no agent is running there" : strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    free(text);
    json_decref(cmd);
    return rc;
}

