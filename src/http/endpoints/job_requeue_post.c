/* POST /jobs/{id}/requeue: one failed prover job back to queued. */
#include "config.h"

#include "db/repairs.h"
#include "http/endpoints.h"

int wg_h_job_requeue_post(struct wg_request *rq)
{
  int64_t id = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  char status[24] = "";
  enum wg_status s = c ? wg_repair_requeue_job(c, id, status) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
  if (s == WG_E_CONFLICT)
    return wg_reply_error(rq, 409, "conflict", "job %lld is %s; only failed jobs can be requeued", (long long)id,
                          status);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not requeue job %lld", (long long)id);
  return wg_reply_json(rq, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "queued"));
}
