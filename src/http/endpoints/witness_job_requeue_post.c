/* POST /witness-jobs/{round}/{id}/requeue: one failed witness job back to queued, without touching
 * the rest of its batch. */
#include "config.h"

#include "db/repairs.h"
#include "http/endpoints.h"

int wg_h_witness_job_requeue_post(struct wg_request *rq)
{
  int64_t round = rq->params[0], id = rq->params[1];
  if (round > 3)
    return wg_reply_error(rq, 404, "not_found", "no round %lld: rounds are 0 (basic), 1 (leaf), 2 (node), 3 (scheduler)",
                          (long long)round);
  struct wg_dbconn *c = wg_request_db(rq);
  char status[24] = "";
  enum wg_status s = c ? wg_repair_requeue_witness_job(c, (int)round, id, status) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no witness job %lld in round %lld", (long long)id, (long long)round);
  if (s == WG_E_CONFLICT)
    return wg_reply_error(rq, 409, "conflict", "witness job %lld of round %lld is %s; only failed jobs can be requeued",
                          (long long)id, (long long)round, status);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not requeue witness job %lld of round %lld", (long long)id, (long long)round);
  return wg_reply_json(rq, 200, json_pack("{s:s,s:I,s:I,s:s}", "kind", "witness", "aggregation_round",
                                          (json_int_t)round, "id", (json_int_t)id, "status", "queued"));
}
