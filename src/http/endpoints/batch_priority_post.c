/* POST /batches/{n}/priority: an admin sets a batch's priority (-100 to 100), which its jobs,
 * present and future, carry into every claim (docs/state-machine.md, priority). Replies with the
 * batch as GET /batches/{n} shows it. */
#include "config.h"

#include "db/batches.h"
#include "db/priorities.h"
#include "config/settings.h"
#include "http/endpoints.h"

static const char *const priority_keys[] = {"priority", NULL};

int wg_h_batch_priority_post(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  json_t *body;
  if (!wg_request_json(rq, priority_keys, &body))
    return 1;
  json_t *priority = json_object_get(body, "priority");
  if (!json_is_integer(priority) || json_integer_value(priority) < WG_PRIORITY_MIN ||
      json_integer_value(priority) > WG_PRIORITY_MAX) {
    json_decref(body);
    return wg_reply_error(rq, 400, "invalid_input", "$.priority: expected an integer from %d to %d", WG_PRIORITY_MIN,
                          WG_PRIORITY_MAX);
  }
  int p = (int)json_integer_value(priority);
  json_decref(body);
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_priority_set(c, batch, p) : WG_E_UNAVAILABLE;
  json_t *b = NULL;
  if (s == WG_OK)
    s = wg_batch_get(c, batch, rq->app->cfg->max_circuits_in_flight, &b);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)batch);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not set the priority of batch %lld", (long long)batch);
  return wg_reply_json(rq, 200, b);
}
