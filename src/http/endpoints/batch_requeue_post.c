/* POST /batches/{n}/requeue: every failed job of the batch, witness and prover, back to queued. */
#include "config.h"

#include "db/repairs.h"
#include "http/endpoints.h"

int wg_h_batch_requeue_post(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  int n = 0;
  enum wg_status s = c ? wg_repair_requeue_batch(c, batch, &n) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)batch);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not requeue batch %lld", (long long)batch);
  return wg_reply_json(rq, 200, json_pack("{s:I,s:i}", "l1_batch_number", (json_int_t)batch, "requeued", n));
}
