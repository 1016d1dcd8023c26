/* GET /batches/{n}/proof: the final scheduler proof, once the batch is proven. */
#include "config.h"

#include "db/batches.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"

int wg_h_batch_proof_get(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_dbconn *c = wg_request_db(rq);
  char status[16];
  enum wg_status s = c ? wg_batch_status(c, batch, status) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "batch %lld does not exist", (long long)batch);
  struct wg_prover_job job;
  if (s == WG_OK)
    s = wg_prover_job_final_proof(c, batch, &job);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "batch %lld is %s: it has no final proof until it is proven",
                          (long long)batch, status);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read batch %lld", (long long)batch);
  uint8_t *data;
  size_t len;
  s = wg_prover_job_load_proof(c, job.id, &data, &len);
  if (s != WG_OK)
    return wg_reply_status(rq, s == WG_E_NOT_FOUND ? WG_E_INTERNAL : s, "could not read the proof of batch %lld",
                           (long long)batch);
  return wg_reply_bytes(rq, 200, "application/octet-stream", data, len);
}
