/* wg-prover's HTTP client: builds each request on the thread's reused easy handle, sorts the
 * outcome into "answer", "try again" and "cannot be sent", and owns the retry loop, so that the
 * worker only ever sees answers it has to act on. */
#include "config.h"
#include "wg-prover/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000
#define MAX_RESPONSE_BYTES (256u << 20) /* far above any witness blob; a guard against a runaway peer */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
  struct wgp_client *c = ud;
  size_t add = size * n;
  if (add > MAX_RESPONSE_BYTES - c->len)
    return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
  if (c->len + add + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + add + 1)
      cap *= 2;
    uint8_t *grown = realloc(c->body, cap);
    if (grown == NULL)
      return 0;
    c->body = grown;
    c->cap = cap;
  }
  memcpy(c->body + c->len, data, add);
  c->len += add;
  c->body[c->len] = '\0';
  return add;
}

/* Lets a second signal cut short a request that hangs (a server that accepts but never answers).
 * A first one does not: a claim cut off in flight could leave a job leased to nobody (until its
 * claim grace runs out). Only a claim waiting at the server for work ends at the first: the
 * server drops a waiting claim whose prover left, and gives back jobs claimed for it. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  struct wgp_client *c = ud;
  return wgp_stopping(c->st) >= (c->abort_on_stop ? WGP_STOP_AFTER_JOB : WGP_STOP_NOW);
}

int wgp_client_init(struct wgp_client *c, struct wgp_state *st)
{
  *c = (struct wgp_client){.st = st};
  const struct wgp_options *o = st->opt;
  size_t n = strlen(o->token) + 32;
  c->auth_header = malloc(n);
  if (c->auth_header != NULL)
    snprintf(c->auth_header, n, "Authorization: Bearer %s", o->token);
  c->curl = curl_easy_init();
  if (c->auth_header == NULL || c->curl == NULL) {
    wgp_client_free(c);
    return -1;
  }
  CURL *h = c->curl;
  /* Worker threads must not get SIGALRM from the resolver: libcurl's signals are not thread-safe. */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
  if (o->cacert != NULL)
    curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "wg-prover/" PACKAGE_VERSION);
  return 0;
}

void wgp_client_free(struct wgp_client *c)
{
  if (c->curl != NULL)
    curl_easy_cleanup(c->curl);
  if (c->auth_header != NULL) {
    /* The token should not outlive its use in freed memory either. */
    memset(c->auth_header, 0, strlen(c->auth_header));
    free(c->auth_header);
  }
  free(c->body);
  *c = (struct wgp_client){0};
}

enum outcome { ANSWER, TRANSIENT, LOCAL_ERROR, GAVE_UP };

/* One attempt. On return *status holds the HTTP status (ANSWER, TRANSIENT on 408/429/5xx) or 0,
 * and why describes a failure for the log. */
static enum outcome attempt(struct wgp_client *c, const char *method, const char *url, struct curl_slist *headers,
                            const void *body, size_t len, long *status, char *why, size_t why_n)
{
  CURL *h = c->curl;
  *status = 0;
  c->len = 0;
  if (c->body != NULL)
    c->body[0] = '\0';
  c->curl_error[0] = '\0';
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
  } else
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return GAVE_UP;
  if (rc != CURLE_OK) {
    snprintf(why, why_n, "%s", c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return LOCAL_ERROR;
    default:
      return TRANSIENT;
    }
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  if (*status >= 500 || *status == 408 || *status == 429) {
    char text[320];
    snprintf(why, why_n, "HTTP %ld %s", *status, wgp_client_body_text(c, text, sizeof text));
    return TRANSIENT;
  }
  return ANSWER;
}

long wgp_call(struct wgp_client *c, const char *method, const char *path, const char *content_type,
              const char *lease, const void *body, size_t len, enum wgp_stop give_up)
{
  const char *base = c->st->opt->url;
  size_t url_n = strlen(base) + strlen(path) + 1;
  char *url = malloc(url_n);
  if (url == NULL)
    return WGP_LOCAL_ERROR;
  snprintf(url, url_n, "%s%s", base, path);

  /* "Expect:" stops libcurl from waiting for 100-continue before large bodies; an empty
   * "Content-Type:" stops it from sending a form type with bodiless POSTs. */
  char lease_header[96], type_header[96];
  snprintf(type_header, sizeof type_header, "Content-Type:%s%s", content_type ? " " : "", content_type ? content_type : "");
  snprintf(lease_header, sizeof lease_header, "X-WG-Lease: %s", lease ? lease : "");
  struct curl_slist *headers = NULL, *tail;
  const char *lines[] = {c->auth_header, "Expect:", strcmp(method, "POST") == 0 ? type_header : NULL,
                         lease != NULL ? lease_header : NULL};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (lines[i] == NULL)
      continue;
    if ((tail = curl_slist_append(headers, lines[i])) == NULL) {
      curl_slist_free_all(headers);
      free(url);
      return WGP_LOCAL_ERROR;
    }
    headers = tail;
  }

  long result = WGP_GAVE_UP, backoff = RETRY_FIRST_MS;
  long long started = wgp_now_us();
  for (unsigned failures = 0;;) {
    if (wgp_stopping(c->st) >= (int)give_up)
      break;
    long status;
    char why[512] = "";
    enum outcome o = attempt(c, method, url, headers, body, len, &status, why, sizeof why);
    if (o == ANSWER) {
      if (failures > 0)
        wg_info("%s %s: answered after %u failed attempt%s", method, path, failures, failures == 1 ? "" : "s");
      result = status;
      break;
    }
    if (o == GAVE_UP)
      break;
    if (o == LOCAL_ERROR) {
      wg_error("%s %s: %s", method, path, why);
      result = WGP_LOCAL_ERROR;
      break;
    }
    failures++;
    /* Log the first failure and then ever more rarely, so an outage does not flood the log. */
    if ((failures & (failures - 1)) == 0)
      wg_warn("%s %s: %s; retrying (attempt %u, next in %ld ms)", method, path, why, failures + 1, backoff);
    if (!wgp_sleep_ms(c->st, backoff, give_up))
      break;
    atomic_fetch_add(&c->st->stats.retries, 1);
    backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
  }
  if (result > 0)
    wgp_record_latency(c->st, wgp_now_us() - started);
  /* The handle keeps pointers to these until the next request sets new ones. */
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(headers);
  free(url);
  return result;
}

const char *wgp_client_body_text(struct wgp_client *c, char *out, size_t n)
{
  size_t used = 0;
  for (size_t i = 0; i < c->len && used + 1 < n && i < 300; i++) {
    unsigned char ch = c->body[i];
    out[used++] = ch < ' ' || ch == 0x7f ? ' ' : (char)ch;
  }
  out[used] = '\0';
  return out;
}
