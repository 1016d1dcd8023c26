/* The leaf and node rounds: aggregate one circuit type's proofs of the layer below into
 * ceil(k / arity) circuits. Leaf jobs aggregate basic proofs; a node job at depth d aggregates
 * the leaf proofs (d = 0) or the node proofs of depth d - 1, and creates the node job of depth
 * d + 1 unless its layer is a single circuit: that one is the type's final node proof. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/prover_jobs.h"
#include "http/server.h"
#include "rounds/rounds.h"
#include "store/store.h"
#include "witness/witness.h"

struct next_layer {
  int depth;
  int64_t proofs; /* circuits of this layer = proofs the next layer aggregates */
};

static enum wg_status create_next_node_job(struct wg_round_ctx *ctx, void *arg)
{
  struct next_layer *nl = arg;
  const struct wg_witness_job *job = &ctx->job;
  return wg_witness_set_node_inputs(ctx->db, job->l1_batch_number, job->protocol_version, job->circuit_id, nl->depth,
                                    nl->proofs);
}

/* Aggregates jobs[0..n) into circuits of `round` at `depth`. */
static enum wg_status aggregate(struct wg_round_ctx *ctx, const struct wg_prover_job *jobs, size_t n, int round,
                                int depth, long arity, struct next_layer *next)
{
  const struct wg_witness_job *job = &ctx->job;
  struct wg_proof_ref *refs = calloc(n + 1, sizeof *refs);
  enum wg_status s = wg_round_load_proofs(ctx, jobs, n, refs);
  if (s != WG_OK) {
    free(refs);
    return s == WG_E_INVALID ? WG_OK : s; /* the defence committed its own transaction */
  }
  size_t circuits = (size_t)wg_aggregation_circuits(n, (uint64_t)arity);
  struct wg_blob *blobs = calloc(circuits, sizeof *blobs);
  int64_t *ids = calloc(circuits, sizeof *ids), *seqs = calloc(circuits, sizeof *seqs);
  for (size_t i = 0; i < circuits && s == WG_OK; i++) {
    size_t first = i * (size_t)arity, count = n - first < (size_t)arity ? n - first : (size_t)arity;
    struct wg_aggregation_witness w = {0};
    w.kind = round == WG_ROUND_LEAF ? WG_WITNESS_LEAF : WG_WITNESS_NODE;
    w.l1_batch_number = (uint64_t)job->l1_batch_number;
    w.protocol_version = (uint32_t)job->protocol_version;
    w.circuit_id = job->circuit_id;
    w.depth = depth;
    w.sequence_number = i;
    w.proofs = refs + first;
    w.n_proofs = count;
    if (wg_witness_encode_aggregation(&w, &blobs[i].data, &blobs[i].len) != 0) {
      s = WG_E_INTERNAL;
      break;
    }
    ids[i] = job->circuit_id;
    seqs[i] = (int64_t)i;
  }
  if (s == WG_OK) {
    bool final = round == WG_ROUND_NODE && circuits == 1;
    next->proofs = (int64_t)circuits;
    s = wg_round_commit_layer(ctx, blobs, circuits, round, depth, ids, seqs, final ? NULL : create_next_node_job, next);
    if (s == WG_OK)
      wg_info("round %d: batch %lld circuit %d depth %d: %zu proofs into %zu circuits%s", round,
              (long long)job->l1_batch_number, job->circuit_id, depth, n, circuits, final ? " (final node proof)" : "");
  }
  for (size_t i = 0; i < circuits; i++)
    free(blobs[i].data);
  free(blobs);
  free(ids);
  free(seqs);
  free(refs);
  return s;
}

/* The layer below must be complete: every job successful, as many as the witness job awaits. */
static bool layer_complete(const struct wg_prover_job *jobs, size_t n, int64_t expected)
{
  if ((int64_t)n != expected || n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(jobs[i].status, "successful") != 0)
      return false;
  return true;
}

static enum wg_status run(struct wg_round_ctx *ctx, int below_round, int below_depth, int round, int depth, long arity,
                          int next_depth)
{
  const struct wg_witness_job *job = &ctx->job;
  struct wg_prover_job *jobs;
  size_t n;
  enum wg_status s = wg_prover_jobs_layer(ctx->db, job->l1_batch_number, below_round, job->circuit_id, below_depth,
                                          &jobs, &n);
  if (s != WG_OK)
    return s;
  if (!layer_complete(jobs, n, job->dependencies)) {
    /* Cannot happen unless rows were edited by hand; retrying will not help. */
    free(jobs);
    ctx->failed = true;
    return wg_witness_fail(ctx->db, job, "the layer below is not complete");
  }
  struct next_layer next = {next_depth, 0};
  s = aggregate(ctx, jobs, n, round, depth, arity, &next);
  free(jobs);
  return s;
}

enum wg_status wg_round_leaf(struct wg_round_ctx *ctx)
{
  /* Leaf circuits feed the depth-0 node job, which exists as a stub. */
  return run(ctx, WG_ROUND_BASIC, 0, WG_ROUND_LEAF, 0, ctx->app->cfg->leaf_arity, 0);
}

enum wg_status wg_round_node(struct wg_round_ctx *ctx)
{
  int d = ctx->job.depth;
  return run(ctx, d == 0 ? WG_ROUND_LEAF : WG_ROUND_NODE, d == 0 ? 0 : d - 1, WG_ROUND_NODE, d,
             ctx->app->cfg->node_arity, d + 1);
}
