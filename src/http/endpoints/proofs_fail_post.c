/* POST /proofs/{id}/fail: a prover gives a job back with the reason; the job is queued again,
 * or failed once it has used its attempts. The reply says which, and when the job may be claimed
 * again, so that a prover can see its backoff. The reason is stored without control characters
 * (common/text.h): operators read it in wgctl, the dashboard and the log. */
#include "config.h"

#include <stdlib.h>

#include "common/text.h"
#include "config/settings.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"

/* The keys a failure body may hold (api/openapi.yaml, FailRequest). */
static const char *const fail_keys[] = {"error", NULL};

int wg_h_proofs_fail_post(struct wg_request *rq)
{
  int64_t id = rq->params[0];
  struct wg_holder holder;
  json_t *body;
  if (!wg_request_holder(rq, &holder) || !wg_request_json(rq, fail_keys, &body))
    return 1;
  json_t *error = json_object_get(body, "error");
  int r;
  if (!json_is_string(error) || json_string_length(error) > 4096) {
    r = wg_reply_error(rq, 400, "invalid_input", "$.error: expected a string of at most 4096 bytes");
  } else {
    char *text = wg_text_clean(json_string_value(error), json_string_length(error));
    struct wg_dbconn *c = wg_request_db(rq);
    struct wg_fail_outcome out = {0};
    enum wg_status s = c ? wg_prover_job_fail(c, id, &holder, text, (int)rq->app->cfg->max_attempts,
                                              rq->app->cfg->retry_base_ms / 1000.0, rq->app->cfg->retry_max_ms / 1000.0,
                                              &out)
                         : WG_E_UNAVAILABLE;
    free(text);
    if (s == WG_E_NOT_FOUND)
      r = wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
    else if (s == WG_E_LEASE_LOST)
      r = wg_reply_error(rq, 409, "lease_lost", "job %lld is not held under this lease by this token", (long long)id);
    else if (s != WG_OK)
      r = wg_reply_status(rq, s, "could not record the failure of job %lld", (long long)id);
    else {
      json_t *j = json_pack("{s:I,s:s,s:i,s:i}", "id", (json_int_t)id, "status", out.failed ? "failed" : "queued",
                            "attempts", out.attempts, "max_attempts", out.max_attempts);
      json_object_set_new(j, "retry_at", out.retry_at[0] ? json_string(out.retry_at) : json_null());
      r = wg_reply_json(rq, 200, j);
    }
  }
  json_decref(body);
  return r;
}
