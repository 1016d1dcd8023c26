/* GET /jobs/{id}: one prover job, with the error recorded on it; also a job the archive moved
 * (`"archived": true`), as its attempts are (GET /jobs/{id}/attempts). */
#include "config.h"

#include "db/job_views.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"

int wg_h_job_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  struct wg_prover_job job;
  json_t *error = NULL;
  bool archived = false;
  enum wg_status s = c ? wg_prover_job_get(c, rq->params[0], &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND && (s = wg_prover_job_get_archived(c, rq->params[0], &job)) == WG_OK)
    archived = true;
  if (s == WG_OK)
    s = wg_prover_job_error(c, rq->params[0], &error);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no prover job %lld", (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read job %lld", (long long)rq->params[0]);
  json_t *j = wg_prover_job_json(&job);
  json_object_set_new(j, "error", error);
  json_object_set_new(j, "archived", json_boolean(archived));
  return wg_reply_json(rq, 200, j);
}
