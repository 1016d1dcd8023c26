/* GET /jobs/{id}/attempts: every claim of a prover job, oldest first, with who held it, when it
 * ended, how, and its error; also for a job archived since. */
#include "config.h"

#include "db/job_views.h"
#include "http/endpoints.h"

int wg_h_job_attempts_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *attempts = NULL;
  enum wg_status s = c ? wg_prover_job_attempts(c, rq->params[0], &attempts) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no prover job %lld", (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read the attempts of job %lld", (long long)rq->params[0]);
  return wg_reply_json(rq, 200, attempts);
}
