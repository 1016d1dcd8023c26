/* DELETE /batches/{n}: removes a batch, its rows and its blobs. */
#include "config.h"

#include "db/repairs.h"
#include "http/endpoints.h"
#include "store/store.h"

int wg_h_batch_delete(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_repair_delete_batch(c, batch) : WG_E_UNAVAILABLE;
  if (s == WG_OK) {
    /* Rows first: a batch without rows is gone for every reader; blobs left behind by a crash
     * here are unreachable and removed by deleting the batch's prefix again. */
    char prefix[64];
    wg_key_batch_prefix(prefix, sizeof prefix, batch);
    s = wg_store_delete_prefix(rq->app->store, c, prefix);
  }
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)batch);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not delete batch %lld", (long long)batch);
  return wg_reply_json(rq, 200, json_pack("{s:I,s:b}", "l1_batch_number", (json_int_t)batch, "deleted", 1));
}
