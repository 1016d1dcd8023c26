/* What the leaf, node and scheduler rounds share: loading and re-verifying the proofs they
 * aggregate (with the defence of docs/circuits.md), and committing a layer of circuits. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "db/prover_jobs.h"
#include "http/server.h"
#include "prover/scheme.h"
#include "rounds/rounds.h"
#include "store/store.h"
#include "witness/witness.h"

/* Proofs read by one statement: a layer's thousands of proofs in a few round trips. */
#define PROOF_CHUNK 256

/* Whether the stored proof of job j (proof, NULL when it has none) verifies against its witness
 * and matches its recorded hash. */
static enum wg_status check_proof(struct wg_round_ctx *ctx, const struct wg_prover_job *j, const uint8_t *proof,
                                  size_t proof_len, bool *ok)
{
  *ok = false;
  if (strcmp(j->status, "successful") != 0 || !j->has_proof || proof == NULL)
    return WG_OK;
  uint8_t *witness = NULL;
  size_t witness_len;
  enum wg_status s = wg_store_get_witness(ctx->app->store, ctx->db, j, &witness, &witness_len);
  if (s == WG_OK) {
    uint8_t hash[32];
    wg_proof_hash(proof, proof_len, hash);
    *ok = memcmp(hash, j->proof_hash, 32) == 0 &&
          wg_scheme_reference.verify(witness, witness_len, proof, proof_len);
  } else if (s == WG_E_NOT_FOUND) {
    s = WG_OK;
  }
  free(witness);
  return s;
}

struct reject_args {
  struct wg_round_ctx *ctx;
  const struct wg_prover_job *jobs;
  const bool *bad;
  size_t n;
  int n_bad;
};

static enum wg_status reject_tx(struct wg_dbconn *c, void *arg)
{
  struct reject_args *a = arg;
  enum wg_status s = wg_witness_await_again(c, &a->ctx->job, a->n_bad);
  for (size_t i = 0; s == WG_OK && i < a->n; i++) {
    if (!a->bad[i])
      continue;
    char error[200];
    snprintf(error, sizeof error, "the stored proof failed verification in round %d; proving it again",
             a->ctx->job.round);
    s = wg_prover_job_reject_proof(c, a->jobs[i].id, error);
  }
  return s;
}

enum wg_status wg_round_load_proofs(struct wg_round_ctx *ctx, const struct wg_prover_job *jobs, size_t n,
                                    struct wg_proof_ref *refs)
{
  bool *bad = calloc(n + 1, sizeof *bad);
  uint8_t *proofs[PROOF_CHUNK];
  size_t lens[PROOF_CHUNK], loaded = 0, first = 0;
  int n_bad = 0;
  enum wg_status s = bad == NULL ? WG_E_INTERNAL : WG_OK;
  for (size_t i = 0; i < n && s == WG_OK; i++) {
    bool ok;
    if (i == first + loaded) {
      for (size_t k = 0; k < loaded; k++)
        free(proofs[k]);
      first = i;
      loaded = n - i < PROOF_CHUNK ? n - i : PROOF_CHUNK;
      s = wg_prover_jobs_load_proofs(ctx->db, jobs + first, loaded, proofs, lens);
      if (s != WG_OK) {
        loaded = 0;
        break;
      }
    }
    s = wg_round_checkpoint(ctx);
    if (s == WG_OK)
      s = check_proof(ctx, &jobs[i], proofs[i - first], lens[i - first], &ok);
    if (s == WG_OK && !ok) {
      bad[i] = true;
      n_bad++;
      wg_warn("round %d: batch %lld: the proof of job %lld does not verify; sending it back to the provers",
              ctx->job.round, (long long)ctx->job.l1_batch_number, (long long)jobs[i].id);
    }
    refs[i].prover_job_id = jobs[i].id;
    memcpy(refs[i].proof_hash, jobs[i].proof_hash, 32);
  }
  for (size_t k = 0; k < loaded; k++)
    free(proofs[k]);
  if (s == WG_OK && n_bad > 0) {
    struct reject_args a = {ctx, jobs, bad, n, n_bad};
    s = wg_db_tx(ctx->db, reject_tx, &a);
    if (s == WG_OK)
      s = WG_E_INVALID;
  }
  free(bad);
  return s;
}

struct layer_args {
  struct wg_round_ctx *ctx;
  int round, depth;
  const struct wg_layer_rows *rows;
  enum wg_status (*extra)(struct wg_round_ctx *ctx, void *arg);
  void *arg;
};

static enum wg_status layer_tx(struct wg_dbconn *c, void *arg)
{
  struct layer_args *a = arg;
  const struct wg_witness_job *job = &a->ctx->job;
  enum wg_status s = wg_witness_finish(c, job);
  if (s == WG_OK)
    s = wg_prover_jobs_insert(c, job->l1_batch_number, job->protocol_version, a->round, a->depth, a->rows);
  if (s == WG_OK && a->extra != NULL)
    s = a->extra(a->ctx, a->arg);
  return s;
}

/* Writes blobs[0..n) as the pack of this run (ctx->pack_id), durable at once, and records where each
 * blob lies in it. Each blob is a checkpoint (the progress that keeps the job's lease). */
static enum wg_status write_pack(struct wg_round_ctx *ctx, int round, int circuit_id, int depth,
                                 const struct wg_blob *blobs, size_t n, int64_t *offsets, int64_t *lengths)
{
  char key[160];
  wg_key_pack(key, sizeof key, ctx->job.l1_batch_number, round, circuit_id, depth, ctx->pack_id);
  struct wg_pack *pack = wg_pack_begin(ctx->app->store, key);
  if (pack == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status s = WG_OK;
  for (size_t i = 0; i < n && s == WG_OK; i++) {
    uint64_t off = 0;
    s = wg_round_checkpoint(ctx);
    if (s == WG_OK)
      s = wg_pack_add(pack, blobs[i].data, blobs[i].len, &off);
    offsets[i] = (int64_t)off;
    lengths[i] = (int64_t)blobs[i].len;
  }
  if (s != WG_OK) {
    wg_pack_abort(pack);
    return s;
  }
  return wg_pack_commit(pack, ctx->db);
}

enum wg_status wg_round_commit_layer(struct wg_round_ctx *ctx, struct wg_blob *blobs, size_t n, int round,
                                     int depth, const int64_t *circuit_ids, const int64_t *sequences,
                                     enum wg_status (*extra)(struct wg_round_ctx *ctx, void *arg), void *arg)
{
  int64_t *offsets = calloc(n + 1, sizeof *offsets), *lengths = calloc(n + 1, sizeof *lengths);
  if (offsets == NULL || lengths == NULL) {
    free(offsets);
    free(lengths);
    return WG_E_INTERNAL;
  }
  int pack_circuit = round == WG_ROUND_SCHEDULER ? WG_SCHEDULER_CIRCUIT_ID : ctx->job.circuit_id;
  enum wg_status s = wg_round_renew(ctx);
  if (s == WG_OK)
    s = write_pack(ctx, round, pack_circuit, depth, blobs, n, offsets, lengths);
  if (s != WG_OK) {
    free(offsets);
    free(lengths);
    return s;
  }
  struct wg_strbuf ids = {0}, seqs = {0}, offs = {0}, lens = {0};
  wg_strbuf_int_array(&ids, circuit_ids, n);
  wg_strbuf_int_array(&seqs, sequences, n);
  wg_strbuf_int_array(&offs, offsets, n);
  wg_strbuf_int_array(&lens, lengths, n);
  struct wg_layer_rows rows = {ids.s, seqs.s, offs.s, lens.s, ctx->pack_id};
  struct layer_args a = {ctx, round, depth, &rows, extra, arg};
  WG_FAULT("aggregate_after_blobs");
  s = wg_db_tx(ctx->db, layer_tx, &a);
  WG_FAULT("aggregate_after_commit");
  wg_strbuf_free(&ids);
  wg_strbuf_free(&seqs);
  wg_strbuf_free(&offs);
  wg_strbuf_free(&lens);
  free(offsets);
  free(lengths);
  return s;
}
