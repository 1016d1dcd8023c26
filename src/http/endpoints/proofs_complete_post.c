/* POST /proofs/{id}/complete: a prover posts its proof. Checked in the order of docs/api.md:
 * unknown job, repeat of a completed job, lease, proof verification; then the completion joins
 * the next group commit (db/completer.h), which stores the proof, completes the job and queues
 * the dependent witness job if this was its last proof. The reply waits for that commit.
 *
 * When this daemon made the claim (db/job_cache.h knows the job under this lease) and the proof
 * verifies against its witness, the job's row is not read first: the group commit is fenced on
 * the holder and tells an unknown job, a repeat, a conflict and a lost lease apart itself, so the
 * answer is the same as in the order above. Only a proof that does not verify needs that order
 * spelt out (a lost lease is answered before a bad proof): it takes the path that reads the row.
 * A completion the group could not commit is answered 503: the prover retries it under the same
 * lease. */
#include "config.h"

#include <string.h>

#include "common/fault.h"
#include "db/completer.h"
#include "db/job_cache.h"
#include "common/hex.h"
#include "db/prover_jobs.h"
#include "http/endpoints.h"
#include "prover/scheme.h"
#include "store/store.h"

static int reply_done(struct wg_request *rq, int64_t id, bool repeat)
{
  return wg_reply_json(rq, 200, json_pack("{s:I,s:s,s:b}", "id", (json_int_t)id, "status", "successful", "repeat", repeat));
}

/* Whether the posted proof verifies against the witness of job. With s (not NULL) the request's
 * own connection reads the store, and *s tells whether the witness could be read. */
static bool proof_verifies(struct wg_request *rq, const struct wg_prover_job *job, enum wg_status *s)
{
  uint8_t *witness;
  size_t witness_len;
  enum wg_status st = wg_store_get_witness(rq->app->store, s != NULL ? wg_request_db(rq) : NULL, job, &witness,
                                           &witness_len);
  if (s != NULL)
    *s = st;
  if (st != WG_OK)
    return false;
  bool ok = wg_scheme_reference.verify(witness, witness_len, rq->body, rq->body_len);
  free(witness);
  return ok;
}

/* The checks in the order of docs/api.md, reading the job's row. Returns the reply when one is
 * due, or -1 when the proof is for a job held under lease and verifies. */
static int lease_lost(struct wg_request *rq, int64_t id)
{
  return wg_reply_error(rq, 409, "lease_lost", "job %lld is not held under this lease by this token", (long long)id);
}

static int checked_in_order(struct wg_request *rq, int64_t id, const struct wg_holder *holder, const uint8_t hash[32])
{
  struct wg_dbconn *c = wg_request_db(rq);
  struct wg_prover_job job;
  bool held = false;
  enum wg_status s = c ? wg_prover_job_get_held(c, id, holder, &job, &held) : WG_E_UNAVAILABLE;
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read job %lld", (long long)id);
  if (strcmp(job.status, "successful") == 0) {
    if (job.has_proof && memcmp(job.proof_hash, hash, 32) == 0)
      return reply_done(rq, id, true);
    return wg_reply_error(rq, 409, "conflict", "job %lld is already proven with a different proof", (long long)id);
  }
  if (!held)
    return lease_lost(rq, id);
  if (proof_verifies(rq, &job, &s))
    return -1;
  if (s != WG_OK)
    return wg_reply_status(rq, s == WG_E_NOT_FOUND ? WG_E_INTERNAL : s, "could not read the witness of job %lld",
                           (long long)id);
  return wg_reply_error(rq, 400, "invalid_input", "the proof does not verify against the witness of job %lld%s",
                        (long long)id,
                        wg_hex_looks_like_text(rq->body, rq->body_len)
                          ? "; the body looks hex-encoded: send the raw proof bytes (application/octet-stream,"
                            " e.g. curl --data-binary @proof.bin)"
                          : "");
}

int wg_h_proofs_complete_post(struct wg_request *rq)
{
  int64_t id = rq->params[0];
  struct wg_holder holder;
  if (!wg_request_holder(rq, &holder))
    return 1;
  uint8_t hash[32];
  wg_proof_hash(rq->body, rq->body_len, hash);

  struct wg_prover_job job;
  if (!(wg_job_cache_get(rq->app->jobs, id, holder.lease_hash, &job) && proof_verifies(rq, &job, NULL))) {
    int r = checked_in_order(rq, id, &holder, hash);
    if (r >= 0)
      return r;
  }

  WG_FAULT("complete_after_verify");
  /* The pooled connection is not needed while the group commits: another request can use it. */
  wg_request_db_release(rq);
  struct wg_completion x = {.id = id, .holder = holder, .proof = rq->body, .proof_len = rq->body_len};
  memcpy(x.proof_hash, hash, 32);
  wg_completer_submit(rq->app->completer, &x);
  enum wg_status s = x.status;
  bool repeat = x.repeat;
  WG_FAULT("complete_after_commit");
  if (s == WG_E_NOT_FOUND)
    return wg_reply_error(rq, 404, "not_found", "no job %lld", (long long)id);
  if (s == WG_E_CONFLICT)
    return wg_reply_error(rq, 409, "conflict", "job %lld is already proven with a different proof", (long long)id);
  if (s == WG_E_LEASE_LOST)
    return lease_lost(rq, id);
  if (s != WG_OK)
    return wg_reply_status(rq, WG_E_UNAVAILABLE, "could not complete job %lld (%s); send the completion again under"
                           " the same lease", (long long)id, wg_status_name(s));
  return reply_done(rq, id, repeat);
}
