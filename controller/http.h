/* HTTP for the controller clients: libcurl with one reused handle (so
 * connections are kept alive), a timeout, optional basic authentication.
 * Every failure names the method, URL, status and an excerpt of the body. */
#ifndef SR_HTTP_H
#define SR_HTTP_H 1

#include <curl/curl.h>
#include <stdbool.h>

#include "buf.h"
#include "error.h"

struct ctl_http;

/* 'user'/'password' may be NULL (no authentication).  Copies them. */
struct ctl_http *ctl_http_new(long timeout_ms, const char *user, const char *password,
                              struct sr_error *err);
void ctl_http_free(struct ctl_http *h);

/* Sends 'method' to 'url' with 'body' (JSON, may be NULL).  Fills 'resp'
 * with the body and returns the HTTP status (>= 100), or a negative code
 * when no answer came.  A status outside 200..299 is an error only when
 * 'want_2xx' is set, and then 'err' says so. */
int ctl_http_request(struct ctl_http *h, const char *method, const char *url,
                     const char *body, struct sr_buf *resp, bool want_2xx,
                     struct sr_error *err);

/* Sets up easy handle 'c' for one request (shared by single requests and
 * the client's parallel sweeps).  '*headers' must be freed with
 * curl_slist_free_all() after the transfer; 'errbuf' has CURL_ERROR_SIZE
 * bytes. */
void ctl_http_setup(CURL *c, const char *method, const char *url, const char *body,
                    long timeout_ms, const char *userpwd, struct sr_buf *resp, char *errbuf,
                    struct curl_slist **headers);

/* Fills 'err' for a transfer that failed ('rc') or answered 'status':
 * "GET URL: HTTP 500: <first line of the body>".  Returns the code. */
int ctl_http_failure(const char *method, const char *url, CURLcode rc, const char *errbuf,
                     long status, const struct sr_buf *resp, struct sr_error *err);

#endif
