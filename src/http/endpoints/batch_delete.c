/* DELETE /batches/{n}: removes a batch, its rows and its blobs. */
#include "config.h"

#include "common/fault.h"
#include "db/batch_locks.h"
#include "db/repairs.h"
#include "http/endpoints.h"
#include "store/store.h"

struct delete_args {
  struct wg_store *store;
  int64_t batch;
};

/* Rows and blobs go under the batch lock, so a re-upload of the batch waits for the whole delete
 * (its new input cannot be removed with the old blobs) and a round still running on the batch
 * either committed before (its blobs go now) or finds its job gone and removes what it wrote
 * (rounds/workers.c). The rows' delete commits after the blobs are gone; if that commit fails
 * the batch is left without some blobs, and repeating the DELETE finishes it. */
static enum wg_status delete_tx(struct wg_dbconn *c, void *arg)
{
  struct delete_args *a = arg;
  enum wg_status s = wg_batch_lock(c, a->batch, true);
  if (s == WG_OK)
    s = wg_repair_delete_batch(c, a->batch);
  WG_FAULT("delete_after_rows");
  if (s == WG_OK) {
    char prefix[64];
    wg_key_batch_prefix(prefix, sizeof prefix, a->batch);
    s = wg_store_delete_prefix(a->store, c, prefix);
  }
  return s;
}

int wg_h_batch_delete(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  struct delete_args a = {rq->app->store, batch};
  enum wg_status s = c ? wg_db_tx(c, delete_tx, &a) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)batch);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not delete batch %lld", (long long)batch);
  return wg_reply_json(rq, 200, json_pack("{s:I,s:b}", "l1_batch_number", (json_int_t)batch, "deleted", 1));
}
