/* GET /jobs/{id}/witness: the circuit's witness blob, the bytes a proof is made of. */
#include "config.h"

#include "db/prover_jobs.h"
#include "http/endpoints.h"
#include "store/store.h"

int wg_h_jobs_witness_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  struct wg_prover_job job;
  enum wg_status s = c ? wg_prover_job_get(c, rq->params[0], &job) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read job %lld", (long long)rq->params[0]);
  uint8_t *data;
  size_t len;
  s = wg_store_get_witness(rq->app->store, c, &job, &data, &len);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 500, "internal", "the witness of job %lld is missing from the store", (long long)job.id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read the witness of job %lld", (long long)job.id);
  return wg_reply_bytes(rq, 200, "application/octet-stream", data, len);
}
