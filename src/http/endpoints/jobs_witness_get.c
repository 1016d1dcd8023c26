/* GET /jobs/{id}/witness: the circuit's witness blob, the bytes a proof is made of. The witness's
 * location comes from the claim when this daemon made it (db/job_cache.h), else from the job's
 * row. */
#include "config.h"

#include "db/job_cache.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"
#include "store/store.h"

int wg_h_jobs_witness_get(struct wg_request *rq)
{
  int64_t id = rq->params[0];
  struct wg_prover_job job;
  uint8_t *data;
  size_t len;
  enum wg_status s;
  if (wg_job_cache_get(rq->app->jobs, id, &job)) {
    s = wg_store_get_witness(rq->app->store, NULL, &job, &data, &len);
    if (s == WG_OK)
      return wg_reply_bytes(rq, 200, "application/octet-stream", data, len);
    wg_job_cache_forget(rq->app->jobs, id); /* deleted since, perhaps: ask the database */
  }
  struct wg_dbconn *c = wg_request_db(rq);
  s = c ? wg_prover_job_get(c, id, &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read job %lld", (long long)id);
  s = wg_store_get_witness(rq->app->store, c, &job, &data, &len);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 500, "internal", "the witness of job %lld is missing from the store", (long long)job.id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read the witness of job %lld", (long long)job.id);
  wg_job_cache_put(rq->app->jobs, &job);
  return wg_reply_bytes(rq, 200, "application/octet-stream", data, len);
}
