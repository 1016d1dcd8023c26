/* GET /witness-jobs/{round}/{id}: one witness job. Witness job ids are per round's table, so the
 * round is part of the name; the same id in another round is another job. */
#include "config.h"

#include "db/job_views.h"
#include "http/endpoints.h"

int wg_h_witness_job_get(struct wg_request *rq)
{
  int64_t round = rq->params[0], id = rq->params[1];
  if (round > 3)
    return wg_reply_error(rq, 404, "not_found", "no round %lld: rounds are 0 (basic), 1 (leaf), 2 (node), 3 (scheduler)",
                          (long long)round);
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *job;
  enum wg_status s = c ? wg_witness_job_view(c, (int)round, id, &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no witness job %lld in round %lld", (long long)id, (long long)round);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read witness job %lld of round %lld", (long long)id, (long long)round);
  return wg_reply_json(rq, 200, job);
}
