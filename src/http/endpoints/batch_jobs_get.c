/* GET /batches/{n}/jobs?round=&status=&limit=&after_id=: the witness and prover jobs of a batch. */
#include "config.h"

#include <string.h>

#include "db/batches.h"
#include "http/endpoints.h"

static const char *const statuses[] = {"waiting_for_proofs", "queued", "in_progress", "successful", "failed"};

int wg_h_batch_jobs_get(struct wg_request *rq)
{
  int64_t round, after, limit;
  if (!wg_request_int_arg(rq, "round", -1, 3, &round) || !wg_request_int_arg(rq, "after_id", 0, INT64_MAX, &after) ||
      !wg_request_int_arg(rq, "limit", -1, 1000000, &limit))
    return 1;
  const char *status = wg_request_arg(rq, "status");
  if (status != NULL) {
    bool known = false;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
      known = known || strcmp(status, statuses[i]) == 0;
    if (!known)
      return wg_reply_error(rq, 400, "bad_request", "status must be waiting_for_proofs, queued, in_progress, "
                                                    "successful or failed");
  }
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *b;
  char st[16];
  enum wg_status s = c ? wg_batch_status(c, rq->params[0], st) : WG_E_UNAVAILABLE;
  if (s == WG_OK)
    s = wg_batch_jobs(c, rq->params[0], (int)round, status, after, limit, &b);
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no batch %lld", (long long)rq->params[0]);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not list the jobs of batch %lld", (long long)rq->params[0]);
  return wg_reply_json(rq, 200, b);
}
