/* POST /jobs/{id}/heartbeat: the prover holding a job extends its lease. */
#include "config.h"

#include "config/settings.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"

int wg_h_jobs_heartbeat_post(struct wg_request *rq)
{
  struct wg_holder holder;
  if (!wg_request_holder(rq, &holder))
    return 1;
  struct wg_dbconn *c = wg_request_db(rq);
  struct wg_prover_job job;
  enum wg_status s =
    c ? wg_prover_job_heartbeat(c, rq->params[0], &holder, (int)rq->app->cfg->lease, &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)rq->params[0]);
  if (s == WG_E_LEASE_LOST)
    return wg_reply_error(rq, 409, "lease_lost", "job %lld is not held under this lease by this token",
                          (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not extend the lease");
  return wg_reply_json(rq, 200, wg_prover_job_json(&job));
}
