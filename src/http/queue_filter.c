/* The body of POST /queue/pause and /queue/resume: which prover jobs a pause names. */
#include "config.h"

#include "http/endpoints.h"

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
  if (!wg_request_int_list(rq, body, "rounds", 3, fb->rounds, sizeof fb->rounds) ||
      !wg_request_int_list(rq, body, "circuit_ids", 255, fb->circuit_ids, sizeof fb->circuit_ids))
    return false;
  fb->filter.rounds = fb->rounds[0] ? fb->rounds : NULL;
  fb->filter.circuit_ids = fb->circuit_ids[0] ? fb->circuit_ids : NULL;
  return true;
}
