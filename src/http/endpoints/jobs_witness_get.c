/* GET /jobs/{id}/witness: the circuit's witness blob, the bytes a proof is made of. Only the job's
 * holder may read it (its lease in X-WG-Lease and the token that claimed it), and an admin; the
 * holder's first download turns the claim's grace into the full lease (docs/state-machine.md). */
#include "config.h"

#include "config/settings.h"
#include "db/prover_jobs.h"
#include "db/toucher.h"
#include "http/endpoints.h"
#include "store/store.h"

int wg_h_jobs_witness_get(struct wg_request *rq)
{
  int64_t id = rq->params[0];
  bool admin = rq->role == WG_ROLE_ADMIN; /* the route lets in the prover role and admins only */
  struct wg_holder holder;
  if (!admin && !wg_request_holder(rq, &holder))
    return 1;
  struct wg_prover_job job;
  struct wg_dbconn *c = NULL;
  enum wg_status s;
  if (admin) {
    s = (c = wg_request_db(rq)) == NULL ? WG_E_UNAVAILABLE : wg_prover_job_get(c, id, &job);
  } else {
    /* Downloads arriving together are fenced by one statement (db/toucher.h). */
    struct wg_touch x = {.id = id, .holder = holder};
    wg_toucher_submit(rq->app->toucher, &x);
    s = x.status;
    job = x.job;
  }
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
  if (s == WG_E_LEASE_LOST)
    return wg_reply_error(rq, 409, "lease_lost", "job %lld is not held under this lease by this token", (long long)id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read job %lld", (long long)id);
  uint8_t *data;
  size_t len;
  /* A pool connection (the postgres store reads through it) is taken only now: none waits on a group. */
  s = wg_store_get_witness(rq->app->store, c != NULL ? c : wg_request_db(rq), &job, &data, &len);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 500, "internal", "the witness of job %lld is missing from the store", (long long)job.id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read the witness of job %lld", (long long)job.id);
  return wg_reply_bytes(rq, 200, "application/octet-stream", data, len);
}
