/* DELETE /batches/{n}: removes a batch, its rows and its blobs. */
#include "config.h"

#include "common/fault.h"
#include "common/log.h"
#include "db/batch_locks.h"
#include "db/repairs.h"
#include "http/endpoints.h"
#include "store/sweep.h"

/* The rows go under the batch lock, in one short transaction that also records the batch for the
 * blob sweep; the blobs go after the commit (store/sweep.h), so that no store call, which can
 * retry for seconds, is made while the batch lock or the rows' locks are held. A round still
 * running on the batch finds its job gone and removes what it wrote (rounds/workers.c); a crash
 * before the blobs are gone leaves them to the sweeper of any daemon. */
static enum wg_status delete_tx(struct wg_dbconn *c, void *arg)
{
  const int64_t *batch = arg;
  enum wg_status s = wg_batch_lock(c, *batch, true);
  if (s == WG_OK)
    s = wg_repair_delete_batch(c, *batch);
  WG_FAULT("delete_after_rows");
  return s;
}

int wg_h_batch_delete(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_db_tx(c, delete_tx, &batch) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)batch);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not delete batch %lld", (long long)batch);
  bool swept = false;
  enum wg_status bs = wg_sweep_batch(rq->app->store, c, batch, true, &swept);
  if (bs != WG_OK)
    wg_warn("batch %lld deleted; its blobs are left to the sweeper: %s", (long long)batch, wg_status_name(bs));
  return wg_reply_json(rq, 200, json_pack("{s:I,s:b,s:b}", "l1_batch_number", (json_int_t)batch, "deleted", 1,
                                          "blobs_deleted", bs == WG_OK));
}
