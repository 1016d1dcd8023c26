/* POST /batches/{n}/witness-inputs: the tree service uploads a batch's basic witness input
 * (docs/input-format.md). Validated in full before anything is stored; a re-upload of the same
 * input (equal after parsing) is 200, a different input for an existing batch 409. */
#include "config.h"

#include <openssl/sha.h>

#include "common/fault.h"
#include "db/basic_jobs.h"
#include "db/batch_locks.h"
#include "http/endpoints.h"
#include "input/input.h"
#include "store/store.h"
#include "store/sweep.h"

struct upload_args {
  struct wg_request *rq;
  int64_t batch;
  int protocol_version;
  const uint8_t *sha, *raw_sha;
  bool exists, same;
};

/* Under the batch lock, held until the basic job is committed: a DELETE of the batch cannot run
 * between the blob write and the row insert. The blob lock, held from before the write, keeps the
 * blob removal of an earlier DELETE (which runs after its commit) or a sweeper from removing the
 * input just written; if the earlier incarnation's blobs are still there, they go first, since the
 * new incarnation reuses their keys (store/sweep.h). */
static enum wg_status upload_tx(struct wg_dbconn *c, void *arg)
{
  struct upload_args *a = arg;
  enum wg_status s = wg_batch_lock(c, a->batch, true);
  if (s == WG_OK)
    s = wg_basic_job_lookup(c, a->batch, a->sha, a->raw_sha, &a->exists, &a->same);
  if (s == WG_OK && !a->exists)
    s = wg_blob_lock(c, a->batch, true, NULL);
  if (s == WG_OK && !a->exists)
    s = wg_sweep_before_upload(a->rq->app->store, c, a->batch);
  if (s == WG_OK && !a->exists) {
    char key[160];
    wg_key_input(key, sizeof key, a->batch, a->sha);
    s = wg_store_put(a->rq->app->store, c, key, a->rq->body, a->rq->body_len);
    WG_FAULT("upload_after_blob");
    if (s == WG_OK)
      s = wg_basic_job_create(c, a->batch, a->protocol_version, a->sha, a->raw_sha, key, a->rq->body_len,
                              &a->exists, &a->same);
  }
  return s;
}

int wg_h_witness_inputs_post(struct wg_request *rq)
{
  int64_t batch = rq->params[0];
  struct wg_input in;
  struct wg_input_error err;
  if (!wg_input_parse((const char *)rq->body, rq->body_len, (uint64_t)batch, &in, &err)) {
    if (err.internal)
      return wg_reply_error(rq, 500, "internal", "out of memory while parsing the input");
    return wg_reply_error(rq, 400, err.bad_json ? "bad_request" : "invalid_input", "%s: %s", err.path, err.message);
  }
  uint64_t counts[WG_MAX_CIRCUIT_ID + 1];
  uint64_t circuits = wg_input_circuit_counts(&in, counts);
  int protocol_version = (int)in.protocol_version;
  /* The input is compared after parsing: the same batch, logs, roots and workload serialised
   * otherwise (key order, whitespace, hex case) is the same input (db/basic_jobs.h). */
  uint8_t sha[32], raw_sha[32];
  bool hashed = wg_input_canonical_sha256(&in, sha);
  wg_input_free(&in);
  if (!hashed)
    return wg_reply_error(rq, 500, "internal", "out of memory while hashing the input");
  SHA256(rq->body, rq->body_len, raw_sha);
  struct wg_dbconn *c = wg_request_db(rq);
  if (c == NULL)
    return wg_reply_status(rq, WG_E_UNAVAILABLE, "the database is unavailable");
  struct upload_args a = {rq, batch, protocol_version, sha, raw_sha, false, false};
  wg_store_clear_reason(); /* a refusal below names the store's reason, if the store failed */
  enum wg_status s = wg_db_tx(c, upload_tx, &a);
  bool exists = a.exists, same = a.same;
  WG_FAULT("upload_after_commit");
  if (s != WG_OK && wg_store_reason()[0] != '\0')
    return wg_reply_status(rq, s, "could not store the input of batch %lld: store: %s", (long long)batch,
                           wg_store_reason());
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not store the input of batch %lld", (long long)batch);
  if (exists && !same)
    return wg_reply_error(rq, 409, "conflict",
                          "batch %lld already has a different input; to replace it, an admin must first delete the"
                          " batch (DELETE /batches/%lld), which removes its jobs and proofs",
                          (long long)batch, (long long)batch);
  return wg_reply_json(rq, exists ? 200 : 201,
                       json_pack("{s:I,s:I,s:b}", "l1_batch_number", (json_int_t)batch, "basic_circuits",
                                 (json_int_t)circuits, "created", !exists));
}
