/* GET /batches/{n}: one batch, its status and per round the job counts by status. */
#include "config.h"

#include "db/batches.h"
#include "config/settings.h"
#include "http/endpoints.h"

int wg_h_batch_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *b;
  enum wg_status s = c ? wg_batch_get(c, rq->params[0], rq->app->cfg->max_circuits_in_flight, &b) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read batch %lld", (long long)rq->params[0]);
  return wg_reply_json(rq, 200, b);
}
