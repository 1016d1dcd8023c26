/* The scheduler round: one circuit over the final node proof of every circuit type and the
 * batch's public input (batch number, previous and new root). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/log.h"
#include "db/prover_jobs.h"
#include "http/server.h"
#include "rounds/rounds.h"
#include "store/store.h"
#include "witness/witness.h"

enum wg_status wg_round_scheduler(struct wg_round_ctx *ctx)
{
  const struct wg_witness_job *job = &ctx->job;
  struct wg_prover_job *jobs;
  size_t n;
  enum wg_status s = wg_prover_jobs_final_nodes(ctx->db, job->l1_batch_number, &jobs, &n);
  if (s != WG_OK)
    return s;
  if ((int64_t)n != job->dependencies) {
    free(jobs);
    ctx->failed = true;
    return wg_witness_fail(ctx->db, job, "the final node proofs are incomplete");
  }
  struct wg_proof_ref *refs = calloc(n + 1, sizeof *refs);
  s = wg_round_load_proofs(ctx, jobs, n, refs);
  if (s == WG_OK) {
    struct wg_aggregation_witness w = {0};
    w.kind = WG_WITNESS_SCHEDULER;
    w.l1_batch_number = (uint64_t)job->l1_batch_number;
    w.protocol_version = (uint32_t)job->protocol_version;
    w.circuit_id = WG_SCHEDULER_CIRCUIT_ID;
    w.proofs = refs;
    w.n_proofs = n;
    memcpy(w.previous_root, job->previous_root, 32);
    memcpy(w.new_root, job->new_root, 32);
    struct wg_blob blob = {0};
    if (wg_witness_encode_aggregation(&w, &blob.data, &blob.len) != 0) {
      s = WG_E_INTERNAL;
    } else {
      int64_t id = WG_SCHEDULER_CIRCUIT_ID, seq = 0;
      s = wg_round_commit_layer(ctx, &blob, 1, WG_ROUND_SCHEDULER, 0, &id, &seq, NULL, NULL);
      free(blob.data);
    }
    if (s == WG_OK)
      wg_info("scheduler round: batch %lld: one circuit over %zu final node proofs", (long long)job->l1_batch_number, n);
  } else if (s == WG_E_INVALID) {
    s = WG_OK; /* the defence committed its own transaction */
  }
  free(refs);
  free(jobs);
  return s;
}
