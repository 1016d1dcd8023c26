/* Parsing helpers for request bodies, headers and query arguments. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/lease.h"
#include "db/prover_jobs.h"
#include "http/server.h"

/* The first key of j not in keys[] (NULL-terminated), or NULL when every key is one of them. */
static const char *unknown_key(json_t *j, const char *const keys[])
{
  const char *key;
  json_t *v;
  json_object_foreach(j, key, v)
  {
    size_t i = 0;
    while (keys[i] != NULL && strcmp(keys[i], key) != 0)
      i++;
    if (keys[i] == NULL)
      return key;
  }
  return NULL;
}

bool wg_request_json(struct wg_request *rq, const char *const keys[], json_t **out)
{
  json_error_t e;
  json_t *j = json_loadb((const char *)rq->body, rq->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
  if (j == NULL) {
    wg_reply_error(rq, 400, "bad_request", "the body is not valid JSON: %s at line %d column %d", e.text, e.line,
                   e.column);
    return false;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    wg_reply_error(rq, 400, "invalid_input", "$: expected a JSON object");
    return false;
  }
  /* A misspelt key ("limt") silently ignored would change what the request does, so every key
   * must be one the route reads. */
  const char *bad = unknown_key(j, keys);
  if (bad != NULL) {
    char expected[256] = "";
    size_t used = 0;
    for (size_t i = 0; keys[i] != NULL && used < sizeof expected; i++)
      used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s", i ? ", " : "", keys[i]);
    wg_reply_error(rq, 400, "invalid_input", "$.%.80s: unknown key; expected one of %s", bad, expected);
    json_decref(j);
    return false;
  }
  *out = j;
  return true;
}

static bool parse_nonneg(const char *s, int64_t max, int64_t *out)
{
  if (s == NULL || *s == '\0' || strlen(s) > 19)
    return false;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return false;
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno != 0 || v > max)
    return false;
  *out = v;
  return true;
}

bool wg_request_holder(struct wg_request *rq, struct wg_holder *h)
{
  const char *lease = wg_request_header(rq, "X-WG-Lease");
  if (lease == NULL) {
    /* A request that never held a lease is malformed; lease_lost would send its client
     * looking for a lease it never had. */
    wg_reply_error(rq, 400, "bad_request", "the X-WG-Lease header is missing; send the lease the claim returned");
    return false;
  }
  wg_lease_hash(lease, strlen(lease), h->lease_hash);
  h->token = rq->token_name;
  return true;
}

bool wg_request_int_arg(struct wg_request *rq, const char *name, int64_t def, int64_t max, int64_t *out)
{
  const char *v = wg_request_arg(rq, name);
  if (v == NULL) {
    *out = def;
    return true;
  }
  if (!parse_nonneg(v, max, out)) {
    wg_reply_error(rq, 400, "bad_request", "query argument %s must be an integer from 0 to %lld, got \"%.40s\"", name,
                   (long long)max, v);
    return false;
  }
  return true;
}

bool wg_request_int_list(struct wg_request *rq, json_t *body, const char *field, int max, char *buf, size_t n)
{
  json_t *a = json_object_get(body, field);
  buf[0] = '\0';
  if (a == NULL || json_is_null(a))
    return true;
  if (!json_is_array(a) || json_array_size(a) > 64) {
    wg_reply_error(rq, 400, "invalid_input", "$.%s: expected an array of at most 64 integers", field);
    return false;
  }
  if (json_array_size(a) == 0)
    return true;
  size_t used = (size_t)snprintf(buf, n, "{");
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *v = json_array_get(a, i);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
      wg_reply_error(rq, 400, "invalid_input", "$.%s[%zu]: expected an integer from 0 to %d", field, i, max);
      return false;
    }
    used += (size_t)snprintf(buf + used, n - used, "%s%d", i ? "," : "", (int)json_integer_value(v));
  }
  snprintf(buf + used, n - used, "}");
  return true;
}
