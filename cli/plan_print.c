/* 'simrun plan': the plan as text people read (the command layer prints;
 * the model only builds). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "traffic_plan.h"
#include "util.h"

/* ---- printing ---- */

static int
compare_ints(const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;

    return (x > y) - (x < y);
}

static void
print_degrees(const struct topology *t, FILE *out)
{
    int *deg = xcalloc(t->ncore ? t->ncore : 1, sizeof *deg);
    size_t shown = 0;
    double sum = 0;

    topo_core_degrees(t, deg);
    qsort(deg, t->ncore, sizeof *deg, compare_ints);
    for (size_t i = 0; i < t->ncore; i++) {
        sum += deg[i];
    }
    fprintf(out, "  core degree     min %d, median %d, mean %.2f, max %d\n", deg[0],
            deg[t->ncore / 2], sum / (double) t->ncore, deg[t->ncore - 1]);
    fprintf(out, "  degree count   ");
    for (size_t i = 0; i < t->ncore;) {
        size_t j = i;

        while (j < t->ncore && deg[j] == deg[i]) {
            j++;
        }
        if (shown == 12) {
            fprintf(out, " ... up to %d", deg[t->ncore - 1]);
            break;
        }
        fprintf(out, " %d:%zu", deg[i], j - i);
        shown++;
        i = j;
    }
    fputc('\n', out);
    free(deg);
}

static void
print_topology(const struct sim_plan *p, FILE *out)
{
    const struct topology *t = p->topo;
    size_t role_sw[3] = { 0 }, role_host[2] = { 0 }, kinds[4] = { 0 };

    for (size_t i = 0; i < t->nsw; i++) {
        role_sw[t->sw[i].role]++;
    }
    for (size_t i = 0; i < t->nhost; i++) {
        role_host[t->host[i].role == TOPO_ROLE_SERVER]++;
    }
    for (size_t i = 0; i < t->nlink; i++) {
        kinds[t->link[i].kind]++;
    }
    fprintf(out, "topology        %zu switches, %zu hosts, %zu links\n", t->nsw, t->nhost,
            t->nlink);
    fprintf(out, "  switches        core %zu, gateway %zu, access %zu\n", role_sw[0],
            role_sw[2], role_sw[1]);
    fprintf(out, "  hosts           user %zu, server %zu\n", role_host[0], role_host[1]);
    fprintf(out, "  links           core %zu, uplink %zu, access %zu, host %zu\n",
            kinds[TOPO_LINK_CORE], kinds[TOPO_LINK_UPLINK], kinds[TOPO_LINK_ACCESS],
            kinds[TOPO_LINK_HOST]);
    print_degrees(t, out);
    fprintf(out, "  access          %lld networks x %lld switches (BA m=%lld), %lld "
                 "users each, %lld uplinks each\n",
            (long long) t->params.access_networks, (long long) t->params.access_switches,
            (long long) t->params.access_m, (long long) t->params.hosts,
            (long long) t->params.uplinks);
    if (t->ndc) {
        fprintf(out, "  datacenters    ");
        for (size_t d = 0; d < t->ndc && d < 16; d++) {
            fprintf(out, " d%zu@%s", d + 1, t->sw[t->dc_switch[d]].name);
        }
        fprintf(out, "%s (3 servers each)\n", t->ndc > 16 ? " ..." : "");
    }
    if (p->busiest >= 0) {
        fprintf(out, "  busiest core    %s (most host-to-host shortest paths)\n",
                t->sw[p->busiest].name);
    }
    if (t->params.bw_mbps > 0) {
        fprintf(out, "  shaping         %g Mbit/s on every link\n", t->params.bw_mbps);
    }
}

/* " (drawn from lo-hi for this run)" after a value written as a range. */
static const char *
drawn(const struct scn_draw *r, char *buf, size_t size)
{
    if (r->hi <= r->lo) {
        return "";
    }
    snprintf(buf, size, " (drawn from %g-%g for this run)", r->lo, r->hi);
    return buf;
}

static void
print_traffic(const struct sim_plan *p, FILE *out)
{
    char d1[64], d2[64];
    const struct scenario *s = p->scn;
    size_t users = p->world.nusers, servers = p->world.nservers;
    long clients = lround(s->traffic.video.clients * (double) users);
    char every[32];

    fprintf(out, "traffic         (per user host; servers are the %zu datacenter hosts)\n",
            servers);
    if (s->traffic.video.enabled) {
        fprintf(out, "  video         %ld of %zu users%s stream %lld kbit/s%s (RTSP + RTP, "
                     "I/P frames) from servers\n",
                clients, users, drawn(&s->traffic.video.clients_range, d1, sizeof d1),
                (long long) s->traffic.video.bitrate_kbps,
                drawn(&s->traffic.video.bitrate_range, d2, sizeof d2));
    } else {
        fprintf(out, "  video         off\n");
    }
    if (s->traffic.chat.enabled) {
        fprintf(out, "  chat          %.3g messages/min%s to random users, each answered\n",
                s->traffic.chat.per_min, drawn(&s->traffic.chat.per_min_range, d1, sizeof d1));
    } else {
        fprintf(out, "  chat          off\n");
    }
    if (s->traffic.p2p.enabled) {
        fprintf(out, "  p2p           %.3g transfers/min%s, files of %g-%g MB from several "
                     "peers\n",
                s->traffic.p2p.per_min, drawn(&s->traffic.p2p.per_min_range, d1, sizeof d1),
                s->traffic.p2p.file_mb_min, s->traffic.p2p.file_mb_max);
    } else {
        fprintf(out, "  p2p           off\n");
    }
    if (s->traffic.web.enabled) {
        fprintf(out, "  web           %.3g pages/min%s (HTTP/1.1, page + objects) from "
                     "servers\n",
                s->traffic.web.per_min, drawn(&s->traffic.web.per_min_range, d1, sizeof d1));
    } else {
        fprintf(out, "  web           off\n");
    }
    if (s->traffic.mail.enabled) {
        fprintf(out, "  mail          %.3g mails/min%s (SMTP) to servers; servers send to "
                     "users too\n",
                s->traffic.mail.per_min, drawn(&s->traffic.mail.per_min_range, d1, sizeof d1));
    } else {
        fprintf(out, "  mail          off\n");
    }
    if (s->traffic.broadcast.enabled) {
        scn_format_duration(s->traffic.broadcast.every_ms, every, sizeof every);
        fprintf(out, "  broadcast     one UDP announcement every %s\n", every);
    } else {
        fprintf(out, "  broadcast     off\n");
    }
    if (s->traffic.video.enabled && clients > 0) {
        fprintf(out, "  video load    %.1f Mbit/s in total\n",
                (double) clients * (double) s->traffic.video.bitrate_kbps / 1000.0);
    }
    if (p->churn.curve_amp > 0) {
        fprintf(out, "  load curve    sessions x(1 %+.2f sin(2 pi t / %.0f s %+.2f)), t from the "
                     "agents' start\n",
                p->churn.curve_amp, p->churn.curve_period_s, p->churn.curve_phase);
    }
    if (s->traffic.churn.flash_per_h > 0 || s->traffic.churn.depart_per_h > 0) {
        fprintf(out, "  churn         %zu event%s (flash crowds %.3g an hour, departures %.3g an "
                     "hour), labelled normal%s\n",
                p->churn.n, p->churn.n == 1 ? "" : "s", s->traffic.churn.flash_per_h,
                s->traffic.churn.depart_per_h, p->churn.n ? ":" : "");
    }
    for (size_t i = 0; i < p->churn.n; i++) {
        const struct sim_churn_event *e = &p->churn.ev[i];
        char at[32], dur[32];

        scn_format_duration(e->at_ms, at, sizeof at);
        scn_format_duration(e->duration_ms, dur, sizeof dur);
        if (e->kind == SIM_CHURN_FLASH && !strcmp(e->service, "video")) {
            fprintf(out, "    %-11s flash crowd for %s: %d more video streams on each user of "
                         "access network %d\n",
                    at, dur, e->streams, e->net);
        } else if (e->kind == SIM_CHURN_FLASH) {
            fprintf(out, "    %-11s flash crowd for %s: %s x%d on the users of access network "
                         "%d\n",
                    at, dur, e->service, e->factor, e->net);
        } else {
            fprintf(out, "    %-11s %s leaves for %s (no new session)\n", at,
                    p->topo->host[e->host].name, dur);
        }
    }
}

/* The embedded controller's applications as drawn for this run. */
static void
print_apps(const struct sim_plan *p, FILE *out)
{
    const struct sim_apps *a = &p->apps;
    const struct scn_controller *c = &p->scn->controller;
    char ip[32];

    if (!a->embedded) {
        return;
    }
    if (a->forwarding == SCN_FWD_LEARNING) {
        fprintf(out, "  forwarding    learning (reactive: a flow on %s as packets arrive), idle "
                     "time-out %d s, hard %d s on %.0f %% of flows",
                sim_learn_matches[a->learn_match], a->idle_s, a->hard_s, 100.0 * a->hard_share);
    } else {
        fprintf(out, "  forwarding    proactive (a flow per host on every switch, shortest "
                     "paths)");
    }
    fprintf(out, "%s; cookie 0x%016llx, priority %u\n",
            c->forwarding != (1u << a->forwarding) ? " (drawn for this run)" : "",
            (unsigned long long) a->cookie[0], a->priority[0]);
    for (int k = 0; k < SCN_POLICY_N; k++) {
        if (!(a->policy & (1u << k))) {
            continue;
        }
        fprintf(out, "  %-13s ", scn_policy_name((enum scn_policy) k));
        switch ((enum scn_policy) k) {
        case SCN_POLICY_ACL:
            fprintf(out, "TCP");
            for (size_t i = 0; i < a->nblocked; i++) {
                fprintf(out, "%s %d", i ? "," : "", a->blocked[i]);
            }
            topo_format_ip(a->quarantine_net, ip, sizeof ip);
            fprintf(out, " dropped at access switches, %s/24 quarantined, device "
                         "%02x:%02x:%02x:%02x:%02x:%02x banned",
                    ip, a->banned_mac[0], a->banned_mac[1], a->banned_mac[2], a->banned_mac[3],
                    a->banned_mac[4], a->banned_mac[5]);
            if (a->p2p_blocked_net) {
                fprintf(out, ", p2p blocked in access network %d", a->p2p_blocked_net);
            }
            break;
        case SCN_POLICY_LLDP_EDGE:
            fprintf(out, "LLDP dropped on host-facing ports");
            break;
        case SCN_POLICY_GUEST_METER:
            if (a->guest_net) {
                fprintf(out, "access network %d is for guests: each host metered to %lld kbit/s",
                        a->guest_net, (long long) a->guest_kbps);
            } else {
                fprintf(out, "no access network to meter");
            }
            break;
        case SCN_POLICY_DEC_TTL:
            fprintf(out, "TTL decremented toward servers at the datacenters' core switches%s",
                    a->dec_per_port ? ", a rule per ingress port" : "");
            break;
        case SCN_POLICY_ADMISSION:
            fprintf(out, "a user host admitted every %d s by a rule with a %d s hard time-out",
                    a->admit_every_s, a->admit_hard_s);
            break;
        default:
            break;
        }
        fprintf(out, "; cookie 0x%016llx, priority %u\n", (unsigned long long) a->cookie[1 + k],
                a->priority[1 + k]);
    }
    if (c->changes_per_h > 0) {
        fprintf(out, "  changes       %zu operator change%s (%.3g an hour)%s\n", a->nchanges,
                a->nchanges == 1 ? "" : "s", c->changes_per_h, a->nchanges ? ":" : "");
    }
    for (size_t i = 0; i < a->nchanges; i++) {
        const struct sim_change *ch = &a->changes[i];
        char at[32];

        scn_format_duration(ch->at_ms, at, sizeof at);
        fprintf(out, "    %-11s %s", at, sim_change_kind_name(ch->kind));
        if (ch->kind == SIM_CHANGE_ACL_BLOCK || ch->kind == SIM_CHANGE_ACL_UNBLOCK) {
            fprintf(out, " TCP %d", ch->port);
        } else if (ch->kind == SIM_CHANGE_DRAIN || ch->kind == SIM_CHANGE_UNDRAIN) {
            const struct topo_link *l = &p->topo->link[ch->link];

            fprintf(out, " %s-%s", p->topo->sw[l->a].name, p->topo->sw[l->b].name);
        } else if (ch->kind == SIM_CHANGE_METER) {
            fprintf(out, " %lld kbit/s", (long long) ch->rate_kbps);
        }
        fputc('\n', out);
    }
}

static void
print_params(const struct flt_episode *e, struct sr_buf *b)
{
    const struct flt_spec *f = &e->spec;
    unsigned pm = e->type->params;

    if (pm & FLT_P_SERVICE) {
        sr_buf_printf(b, "service=%s ", f->service ? f->service : "?");
    }
    if (pm & FLT_P_TIMEOUT) {
        sr_buf_printf(b, "timeout=%.0fs ", (double) f->timeout_ms / 1000.0);
    }
    if (pm & FLT_P_RATE) {
        sr_buf_printf(b, "rate=%lldkbit/s ", (long long) f->rate_kbps);
    }
    if (pm & FLT_P_STREAMS) {
        sr_buf_printf(b, "streams=%lld ", (long long) f->streams);
    }
    if (pm & FLT_P_FACTOR) {
        sr_buf_printf(b, "factor=%lldx ", (long long) f->factor);
    }
    if (flt_adds_rules(e->type)) {
        sr_buf_printf(b, "priority=%u cookie=0x%016llx ", f->priority,
                      (unsigned long long) f->cookie);
    }
    if (b->len) {
        b->data[--b->len] = '\0'; /* the last space */
    }
}

static void
print_faults(const struct sim_plan *p, FILE *out)
{
    const struct flt_timeline *tl = &p->timeline;
    size_t n;
    const struct flt_type *types = flt_types(&n);

    fprintf(out, "faults          %zu episode%s%s\n", tl->n, tl->n == 1 ? "" : "s",
            p->scn->campaign.present ? " (campaign)" : "");
    if (!tl->n) {
        return;
    }
    fprintf(out, "  %-4s %9s %9s  %-21s %-22s %s\n", "id", "start", "end", "type", "target",
            "parameters");
    for (size_t i = 0; i < tl->n; i++) {
        const struct flt_episode *e = &tl->ep[i];
        struct sr_buf target = SR_BUF_INIT, params = SR_BUF_INIT;

        sr_buf_puts(&target, e->target);
        if (e->selector) {
            sr_buf_printf(&target, " (%s)", e->selector);
        }
        print_params(e, &params);
        fprintf(out, "  %-4d %8.1fs %8.1fs  %-21s %-22s %s\n", e->id,
                (double) e->at_ms / 1000.0, (double) (e->at_ms + e->duration_ms) / 1000.0,
                e->type->name, sr_buf_cstr(&target), sr_buf_cstr(&params));
        sr_buf_release(&target);
        sr_buf_release(&params);
    }
    if (p->scn->campaign.present) {
        fprintf(out, "  episodes/type  ");
        for (size_t k = 0; k < n; k++) {
            size_t count = 0;

            for (size_t i = 0; i < tl->n; i++) {
                count += tl->ep[i].type == &types[k];
            }
            if (count) {
                fprintf(out, " %s:%zu", types[k].name, count);
            }
        }
        fputc('\n', out);
    }
}

void
sim_plan_print(const struct sim_plan *p, FILE *out)
{
    const struct scenario *s = p->scn;
    char dur[32], warm[32], iv[32];

    scn_format_duration(p->duration_ms, dur, sizeof dur);
    scn_format_duration(s->warmup_ms, warm, sizeof warm);
    scn_format_duration(s->collector.interval_ms, iv, sizeof iv);
    {
        struct sr_buf path = SR_BUF_INIT;

        sr_term_clean(&path, s->path);
        fprintf(out, "scenario        %s (%s)\n", s->name, sr_buf_cstr(&path));
        sr_buf_release(&path);
    }
    if (s->description[0]) {
        /* Text from the file: its control characters cannot drive the
         * terminal (escape sequences are shown as '?'). */
        struct sr_buf d = SR_BUF_INIT;

        sr_term_clean(&d, s->description);
        fprintf(out, "                %s\n", sr_buf_cstr(&d));
        sr_buf_release(&d);
    }
    fprintf(out, "seed            %llu\n", (unsigned long long) s->seed);
    fprintf(out, "run             %s after the network is ready; warm-up %s (traffic "
                 "only)\n",
            dur, warm);
    fprintf(out, "collector       a sweep every %s (%lld sweeps), %s%s%s%s\n", iv,
            (long long) (p->duration_ms / s->collector.interval_ms),
            s->collector.csv ? "csv" : "", s->collector.csv && s->collector.jsonl ? " + " : "",
            s->collector.jsonl ? "jsonl" : "", s->collector.flows ? ", with flows" : "");
    if (s->controller.kind == SCN_CTL_EMBEDDED) {
        fprintf(out, "controller      embedded (os-ken app started by simrun, Ryu REST "
                     "API)\n");
        print_apps(p, out);
    } else {
        fprintf(out, "controller      %s at %s%s\n", scn_controller_kind_name(s->controller.kind),
                s->controller.url,
                s->controller.kind == SCN_CTL_ODL
                    ? (s->controller.api == SCN_API_RFC8040 ? " (RFC 8040)" : " (RESTCONF)")
                    : "");
    }
    fputc('\n', out);
    print_topology(p, out);
    fputc('\n', out);
    print_traffic(p, out);
    fputc('\n', out);
    print_faults(p, out);
}
