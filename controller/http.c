#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ctl_http {
    CURL *curl;
    long timeout_ms;
    char *userpwd;      /* "user:password", or NULL */
    char errbuf[CURL_ERROR_SIZE];
};

static size_t
collect(char *data, size_t size, size_t n, void *userp)
{
    sr_buf_append(userp, data, size * n);
    return size * n;
}

struct ctl_http *
ctl_http_new(long timeout_ms, const char *user, const char *password, struct sr_error *err)
{
    static bool initialised;
    struct ctl_http *h;

    if (!initialised) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            sr_error_set(err, SR_ELIB, "cannot initialise libcurl");
            return NULL;
        }
        initialised = true;
    }
    h = xcalloc(1, sizeof *h);
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        sr_error_set(err, SR_ELIB, "cannot create a libcurl handle");
        return NULL;
    }
    h->timeout_ms = timeout_ms;
    if (user) {
        h->userpwd = xasprintf("%s:%s", user, password ? password : "");
    }
    return h;
}

void
ctl_http_free(struct ctl_http *h)
{
    if (!h) {
        return;
    }
    curl_easy_cleanup(h->curl);
    if (h->userpwd) {
        /* The password must not linger in freed memory. */
        sr_free_secret(h->userpwd);
    }
    free(h);
}

/* First line of 'body', at most 120 characters, for messages. */
static void
excerpt(const struct sr_buf *body, char *out, size_t size)
{
    const char *s = sr_buf_cstr(body);
    size_t n = strcspn(s, "\r\n");

    if (n > 120) {
        n = 120;
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

void
ctl_http_setup(CURL *c, const char *method, const char *url, const char *body,
               long timeout_ms, const char *userpwd, struct sr_buf *resp, char *errbuf,
               struct curl_slist **headers)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    *headers = curl_slist_append(NULL, "Accept: application/json");
    if (body) {
        *headers = curl_slist_append(*headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    if (userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
}

int
ctl_http_failure(const char *method, const char *url, CURLcode rc, const char *errbuf,
                 long status, const struct sr_buf *resp, struct sr_error *err)
{
    char ex[128];

    if (rc != CURLE_OK) {
        return sr_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? SR_ETIMEDOUT : SR_EIO,
                            "%s %s: %s", method, url,
                            errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    excerpt(resp, ex, sizeof ex);
    return sr_error_set(err, status == 404 ? SR_ENOTFOUND : SR_EIO, "%s %s: HTTP %ld%s%s",
                        method, url, status, ex[0] ? ": " : "", ex);
}

int
ctl_http_request(struct ctl_http *h, const char *method, const char *url,
                 const char *body, struct sr_buf *resp, bool want_2xx,
                 struct sr_error *err)
{
    struct curl_slist *headers = NULL;
    CURLcode rc;
    long status = 0;

    sr_buf_clear(resp);
    curl_easy_reset(h->curl);
    ctl_http_setup(h->curl, method, url, body, h->timeout_ms, h->userpwd, resp, h->errbuf,
                   &headers);
    rc = curl_easy_perform(h->curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        return ctl_http_failure(method, url, rc, h->errbuf, 0, resp, err);
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (want_2xx && (status < 200 || status > 299)) {
        return ctl_http_failure(method, url, CURLE_OK, NULL, status, resp, err);
    }
    return (int) status;
}
