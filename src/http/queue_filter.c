/* POST /queue/pause and /queue/resume share their walk: the body names which prover jobs
 * ({"protocol_version","rounds","circuit_ids"}, all optional), one db/queue.h operation adds or
 * removes the pause, and the reply is the pauses left in force. Their handlers differ only in
 * that operation. */
#include "config.h"

#include "db/queue.h"
#include "http/endpoints.h"

static const char *const filter_keys[] = {"protocol_version", "rounds", "circuit_ids", NULL};

/* The filter points into this buffer. */
struct filter_buf {
  struct wg_pause_filter filter;
  char rounds[512], circuit_ids[512];
};

/* Bad values are replied 400 (false). */
static bool filter_parse(struct wg_request *rq, json_t *body, struct filter_buf *fb)
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

int wg_queue_filter_apply(struct wg_request *rq, wg_queue_pause_op op, const char *what)
{
  json_t *body;
  if (!wg_request_json(rq, filter_keys, &body))
    return 1;
  struct filter_buf fb;
  bool ok = filter_parse(rq, body, &fb);
  json_decref(body);
  if (!ok)
    return 1;
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *pauses = NULL;
  enum wg_status s = c ? op(c, &fb.filter, &pauses) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not %s the queue", what);
  return wg_reply_json(rq, 200, pauses);
}
