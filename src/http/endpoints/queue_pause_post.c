/* POST /queue/pause: an admin stops the claims of the prover jobs a filter names; jobs already
 * held finish. The claim reads the pauses itself, so every daemon honours it at once. */
#include "config.h"

#include "db/queue.h"
#include "http/endpoints.h"

int wg_h_queue_pause_post(struct wg_request *rq)
{
  json_t *body;
  if (!wg_request_json(rq, wg_queue_filter_keys, &body))
    return 1;
  struct wg_queue_filter_buf fb;
  if (!wg_queue_filter_parse(rq, body, &fb)) {
    json_decref(body);
    return 1;
  }
  json_decref(body);
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *pauses = NULL;
  enum wg_status s = c ? wg_queue_pause(c, &fb.filter, &pauses) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not pause the queue");
  return wg_reply_json(rq, 200, pauses);
}
