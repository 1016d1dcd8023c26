/* The body of POST /queue/pause and /queue/resume: which prover jobs a pause names. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "http/endpoints.h"

/* A JSON array of integers from 0 to max as a PostgreSQL array literal; absent, null or empty
 * leaves *out NULL (every value). */
static bool int_list(struct wg_request *rq, json_t *body, const char *field, int max, char *buf, size_t n,
                     const char **out)
{
  json_t *a = json_object_get(body, field);
  *out = NULL;
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
  *out = buf;
  return true;
}

const char *const wg_queue_filter_keys[] = {"protocol_version", "rounds", "circuit_ids", NULL};

bool wg_queue_filter_parse(struct wg_request *rq, json_t *body, struct wg_queue_filter_buf *fb)
{
  json_t *pv = json_object_get(body, "protocol_version");
  fb->filter.protocol_version = -1;
  if (pv != NULL && !json_is_null(pv)) {
    if (!json_is_integer(pv) || json_integer_value(pv) < 0 || json_integer_value(pv) > 65535) {
      wg_reply_error(rq, 400, "invalid_input", "$.protocol_version: expected an integer from 0 to 65535");
      return false;
    }
    fb->filter.protocol_version = json_integer_value(pv);
  }
  return int_list(rq, body, "rounds", 3, fb->rounds, sizeof fb->rounds, &fb->filter.rounds) &&
         int_list(rq, body, "circuit_ids", 255, fb->circuit_ids, sizeof fb->circuit_ids, &fb->filter.circuit_ids);
}
