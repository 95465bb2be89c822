#include "ryu.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

static json_t *
load(const char *text, const char *what, struct sr_error *err)
{
    return sr_json_loads(text, what, err);
}

int
ctl_ryu_parse_switches(const char *text, uint64_t **dpids, size_t *n,
                       struct sr_error *err)
{
    json_t *j = load(text, "/stats/switches", err);
    uint64_t *out;
    size_t i;
    json_t *v;

    if (!j) {
        return -SR_EINVAL;
    }
    if (!json_is_array(j)) {
        json_decref(j);
        return sr_error_set(err, SR_EINVAL, "/stats/switches: expected an array");
    }
    out = xcalloc(json_array_size(j) + 1, sizeof *out);
    json_array_foreach(j, i, v) {
        if (!sr_json_u64(v, &out[i])) {
            free(out);
            json_decref(j);
            return sr_error_set(err, SR_EINVAL,
                                "/stats/switches: entry %zu is not a DPID", i);
        }
    }
    *n = json_array_size(j);
    *dpids = out;
    json_decref(j);
    return 0;
}

/* Ryu writes DPIDs and ports in topology records as hex strings. */
static bool
hex_field(json_t *obj, const char *key, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *out = strtoull(s, &end, 16);
    return !errno && !*end;
}

int
ctl_ryu_parse_links(const char *text, struct ctl_link **links, size_t *n,
                    struct sr_error *err)
{
    json_t *j = load(text, "/v1.0/topology/links", err);
    struct ctl_link *out;
    size_t i;
    json_t *v;

    if (!j) {
        return -SR_EINVAL;
    }
    if (!json_is_array(j)) {
        json_decref(j);
        return sr_error_set(err, SR_EINVAL, "/v1.0/topology/links: expected an array");
    }
    out = xcalloc(json_array_size(j) + 1, sizeof *out);
    json_array_foreach(j, i, v) {
        json_t *src = json_object_get(v, "src"), *dst = json_object_get(v, "dst");
        uint64_t sp, dp;

        if (!hex_field(src, "dpid", &out[i].src_dpid) || !hex_field(src, "port_no", &sp) ||
            !hex_field(dst, "dpid", &out[i].dst_dpid) || !hex_field(dst, "port_no", &dp)) {
            free(out);
            json_decref(j);
            return sr_error_set(err, SR_EINVAL,
                                "/v1.0/topology/links: entry %zu lacks src/dst dpid "
                                "and port_no",
                                i);
        }
        out[i].src_port = (uint32_t) sp;
        out[i].dst_port = (uint32_t) dp;
    }
    *n = json_array_size(j);
    *links = out;
    json_decref(j);
    return 0;
}

static int
get(struct ctl_http *h, const char *base, const char *path, struct sr_buf *body,
    struct sr_error *err)
{
    char *url = xasprintf("%s%s", base, path);
    int rc = ctl_http_request(h, "GET", url, NULL, body, true, err);

    free(url);
    return rc < 0 ? rc : 0;
}

int
ctl_ryu_switches(struct ctl_http *h, const char *base, uint64_t **dpids, size_t *n,
                 struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    int rc = get(h, base, "/stats/switches", &body, err);

    if (rc == 0) {
        rc = ctl_ryu_parse_switches(sr_buf_cstr(&body), dpids, n, err);
    }
    sr_buf_release(&body);
    return rc;
}

int
ctl_ryu_links(struct ctl_http *h, const char *base, struct ctl_link **links, size_t *n,
              struct sr_error *err)
{
    struct sr_buf body = SR_BUF_INIT;
    int rc = get(h, base, "/v1.0/topology/links", &body, err);

    if (rc == 0) {
        rc = ctl_ryu_parse_links(sr_buf_cstr(&body), links, n, err);
    }
    sr_buf_release(&body);
    return rc;
}
