/* wg-prover's HTTP client: one libcurl easy handle per thread, reused so its connection stays
 * open, and one call that sends a request until it gets an answer worth acting on. */
#ifndef WGP_CLIENT_H
#define WGP_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "wg-prover/state.h"

struct wgp_client {
  struct wgp_state *st;
  CURL *curl;
  char *auth_header; /* "Authorization: Bearer …"; never logged */
  uint8_t *body;     /* the last response body, NUL-terminated; owned, reused */
  size_t len, cap;
  char curl_error[CURL_ERROR_SIZE];
  bool abort_on_stop; /* the request in flight ends at the first stop request (a waiting claim) */
};

/* Returns 0, or -1 when libcurl cannot make a handle. */
int wgp_client_init(struct wgp_client *c, struct wgp_state *st);
void wgp_client_free(struct wgp_client *c);

/* Answers of wgp_call other than an HTTP status. */
#define WGP_GAVE_UP 0L     /* the stop level reached give_up */
#define WGP_LOCAL_ERROR -1L /* the request cannot be sent (bad URL, response too large, …) */

/* Sends method path (relative to --url) with body (may be NULL) of content_type (NULL: none) and,
 * when lease is not NULL, the X-WG-Lease header. Transient failures (no connection, timeouts, 408, 429,
 * 5xx) are retried with backoff from 100 ms doubling to 5 s for as long as the stop level stays
 * below give_up. Returns the final HTTP status, whose body is in c->body until the next call, or
 * WGP_GAVE_UP or WGP_LOCAL_ERROR. */
long wgp_call(struct wgp_client *c, const char *method, const char *path, const char *content_type,
              const char *lease, const void *body, size_t len, enum wgp_stop give_up);

/* The last response body as text for a log line: at most 300 characters, control characters
 * replaced. */
const char *wgp_client_body_text(struct wgp_client *c, char *out, size_t n);

#endif
