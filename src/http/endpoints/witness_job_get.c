/* GET /witness-jobs/{round}/{id}: one witness job (ids are per round's table), with its error. */
#include "config.h"

#include "db/batches.h"
#include "http/endpoints.h"

int wg_h_witness_job_get(struct wg_request *rq)
{
  int64_t round = rq->params[0], id = rq->params[1];
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *job = NULL;
  enum wg_status s = c ? wg_witness_job_view(c, round > 3 ? -1 : (int)round, id, &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no witness job %lld in round %lld (rounds are 0-3)", (long long)id,
                          (long long)round);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read witness job %lld", (long long)id);
  return wg_reply_json(rq, 200, job);
}
