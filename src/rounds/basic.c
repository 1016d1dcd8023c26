/* The basic round: replays the batch's storage logs against the tree, splits its workload into
 * basic circuits by the capacity table, streams their witnesses into one pack (one flush for the
 * whole batch), and in one transaction creates the prover jobs, one leaf job per circuit type with
 * work, the depth-0 node stubs and the scheduler stub. A bad tree input fails the job for good
 * and creates nothing. Memory holds one witness at a time plus four integers per circuit. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "config/settings.h"
#include "db/housekeeping.h"
#include "db/prover_jobs.h"
#include "http/server.h"
#include "input/input.h"
#include "rounds/rounds.h"
#include "store/store.h"
#include "witness/witness.h"

#define REPLAY_THREADS 2

/* Per circuit: type, sequence number, and where its witness lies in the pack. */
struct basic_plan {
  size_t n;
  int64_t *circuit_ids, *sequences, *offsets, *lengths;
  int64_t type_ids[WG_MAX_CIRCUIT_ID + 1], type_counts[WG_MAX_CIRCUIT_ID + 1];
  int n_types;
};

static void plan_free(struct basic_plan *p)
{
  free(p->circuit_ids);
  free(p->sequences);
  free(p->offsets);
  free(p->lengths);
}

/* Encodes every basic circuit's witness into the pack. roots_after[i] is the root after log i.
 * A batch may hold tens of thousands of circuits: each one is a checkpoint, the progress that keeps
 * the job's lease. */
static enum wg_status write_circuits(struct wg_round_ctx *ctx, const struct wg_input *in,
                                     uint8_t (*roots_after)[WG_HASH_LEN], struct wg_pack *pack,
                                     struct basic_plan *p)
{
  uint64_t counts[WG_MAX_CIRCUIT_ID + 1];
  uint64_t total = wg_input_circuit_counts(in, counts);
  p->circuit_ids = calloc(total + 1, sizeof *p->circuit_ids);
  p->sequences = calloc(total + 1, sizeof *p->sequences);
  p->offsets = calloc(total + 1, sizeof *p->offsets);
  p->lengths = calloc(total + 1, sizeof *p->lengths);
  if (p->circuit_ids == NULL || p->sequences == NULL || p->offsets == NULL || p->lengths == NULL)
    return WG_E_INTERNAL;
  for (int id = 1; id <= WG_MAX_CIRCUIT_ID; id++) {
    if (counts[id] == 0)
      continue;
    const struct wg_circuit_type *t = wg_circuit_by_id(in->protocol_version, id);
    uint64_t work = id == WG_STORAGE_APPLICATION_ID ? in->n_logs : in->workload[id];
    p->type_ids[p->n_types] = id;
    p->type_counts[p->n_types] = (int64_t)counts[id];
    p->n_types++;
    struct wg_basic_witness w = {0};
    w.l1_batch_number = in->l1_batch_number;
    w.protocol_version = in->protocol_version;
    w.circuit_id = id;
    wg_witness_queue_start(in->l1_batch_number, id, w.input_commitment);
    for (uint64_t seq = 0; seq < counts[id]; seq++) {
      w.sequence_number = seq;
      w.work_start = seq * t->capacity;
      w.work_end = w.work_start + t->capacity < work ? w.work_start + t->capacity : work;
      if (id == WG_STORAGE_APPLICATION_ID) {
        w.logs = in->logs + w.work_start;
        w.n_logs = (size_t)(w.work_end - w.work_start);
        memcpy(w.root_before, w.work_start == 0 ? in->previous_root : roots_after[w.work_start - 1], WG_HASH_LEN);
        memcpy(w.root_after, roots_after[w.work_end - 1], WG_HASH_LEN);
      }
      enum wg_status s = wg_round_checkpoint(ctx);
      if (s != WG_OK)
        return s;
      uint8_t next[WG_HASH_LEN], *data;
      size_t len;
      if (wg_witness_encode_basic(&w, next, &data, &len) != 0)
        return WG_E_INTERNAL;
      uint64_t offset;
      s = wg_pack_add(pack, data, len, &offset);
      free(data);
      if (s != WG_OK)
        return s;
      p->circuit_ids[p->n] = id;
      p->sequences[p->n] = (int64_t)seq;
      p->offsets[p->n] = (int64_t)offset;
      p->lengths[p->n] = (int64_t)len;
      p->n++;
      memcpy(w.input_commitment, next, WG_HASH_LEN);
    }
  }
  return WG_OK;
}

struct commit_args {
  struct wg_round_ctx *ctx;
  const struct wg_input *in;
  struct basic_plan *plan;
};

static enum wg_status commit_tx(struct wg_dbconn *c, void *arg)
{
  struct commit_args *a = arg;
  const struct wg_witness_job *job = &a->ctx->job;
  enum wg_status s = wg_witness_finish(c, job);
  if (s != WG_OK)
    return s;
  struct wg_strbuf ids = {0}, seqs = {0}, offs = {0}, lens = {0}, types = {0}, counts = {0};
  wg_strbuf_int_array(&ids, a->plan->circuit_ids, a->plan->n);
  wg_strbuf_int_array(&seqs, a->plan->sequences, a->plan->n);
  wg_strbuf_int_array(&offs, a->plan->offsets, a->plan->n);
  wg_strbuf_int_array(&lens, a->plan->lengths, a->plan->n);
  wg_strbuf_int_array(&types, a->plan->type_ids, (size_t)a->plan->n_types);
  wg_strbuf_int_array(&counts, a->plan->type_counts, (size_t)a->plan->n_types);
  struct wg_layer_rows rows = {ids.s, seqs.s, offs.s, lens.s, a->ctx->pack_id};
  s = wg_prover_jobs_insert(c, job->l1_batch_number, job->protocol_version, WG_ROUND_BASIC, 0, &rows);
  if (s == WG_OK)
    s = wg_witness_insert_basic_outputs(c, job->l1_batch_number, job->protocol_version, types.s, counts.s,
                                        a->plan->n_types, a->in->previous_root, a->in->new_root);
  wg_strbuf_free(&ids);
  wg_strbuf_free(&seqs);
  wg_strbuf_free(&offs);
  wg_strbuf_free(&lens);
  wg_strbuf_free(&types);
  wg_strbuf_free(&counts);
  return s;
}

/* Fails the job for good: its input can never produce circuits. */
static enum wg_status fail_permanently(struct wg_round_ctx *ctx, const char *error)
{
  wg_warn("basic round: batch %lld failed: %s", (long long)ctx->job.l1_batch_number, error);
  ctx->failed = true;
  return wg_witness_fail(ctx->db, &ctx->job, error);
}

enum wg_status wg_round_basic(struct wg_round_ctx *ctx)
{
  struct wg_app *app = ctx->app;
  const struct wg_witness_job *job = &ctx->job;
  int64_t t0 = wg_monotonic_us(), t_parse = 0, t_replay = 0, t_plan = 0, t_blobs = 0;
  /* t_plan - t_replay: encoding and streaming the witnesses; t_blobs - t_plan: the pack's flush. */
  uint8_t *body;
  size_t len;
  enum wg_status s = wg_store_get(app->store, ctx->db, job->input_key, &body, &len);
  if (s == WG_E_NOT_FOUND)
    return fail_permanently(ctx, "the uploaded input is missing from the store");
  if (s != WG_OK)
    return s;
  struct wg_input in;
  struct wg_input_error err;
  bool parsed = wg_input_parse((const char *)body, len, (uint64_t)job->l1_batch_number, &in, &err);
  free(body);
  if (!parsed) {
    char msg[900];
    snprintf(msg, sizeof msg, "the stored input does not parse: %s: %s", err.path, err.message);
    return err.internal ? WG_E_INTERNAL : fail_permanently(ctx, msg);
  }

  t_parse = wg_monotonic_us();
  WG_FAULT("basic_after_parse");
  s = wg_round_checkpoint(ctx);
  if (s != WG_OK) {
    wg_input_free(&in);
    return s;
  }
  uint8_t(*roots_after)[WG_HASH_LEN] = calloc(in.n_logs + 1, WG_HASH_LEN);
  char replay_err[512];
  struct basic_plan plan = {0};
  if (!wg_tree_replay(in.previous_root, in.logs, in.n_logs, in.new_root, REPLAY_THREADS, roots_after, replay_err,
                      sizeof replay_err)) {
    s = fail_permanently(ctx, replay_err);
    goto done;
  }
  t_replay = wg_monotonic_us();
  s = wg_round_checkpoint(ctx);
  if (s == WG_OK) {
    char key[160];
    wg_key_pack(key, sizeof key, job->l1_batch_number, WG_ROUND_BASIC, 0, 0, ctx->pack_id);
    struct wg_pack *pack = wg_pack_begin(app->store, key);
    s = pack != NULL ? write_circuits(ctx, &in, roots_after, pack, &plan) : WG_E_UNAVAILABLE;
    t_plan = wg_monotonic_us();
    if (s == WG_OK)
      s = wg_round_renew(ctx);
    if (s == WG_OK) {
      s = wg_pack_commit(pack, ctx->db);
      pack = NULL;
    }
    wg_pack_abort(pack);
  }
  t_blobs = wg_monotonic_us();
  if (s == WG_OK)
    s = wg_round_checkpoint(ctx);
  if (s == WG_OK) {
    WG_FAULT("basic_after_blobs");
    struct commit_args a = {ctx, &in, &plan};
    s = wg_db_tx(ctx->db, commit_tx, &a);
    WG_FAULT("basic_after_commit");
    /* A failed analysis costs only plans: housekeeping tries again within a second. */
    if (s == WG_OK && plan.n >= WG_VACUUM_MIN_DEAD && wg_housekeeping_analyze(ctx->db) != WG_OK)
      wg_warn("basic round: batch %lld: analyzing prover_jobs after its %zu circuits failed",
              (long long)job->l1_batch_number, plan.n);
  }
  if (s == WG_OK)
    wg_info("basic round: batch %lld: %zu circuits of %d types (ms: parse %lld, replay %lld, witnesses %lld, "
            "store %lld, commit %lld)",
            (long long)job->l1_batch_number, plan.n, plan.n_types, (long long)(t_parse - t0) / 1000,
            (long long)(t_replay - t_parse) / 1000, (long long)(t_plan - t_replay) / 1000,
            (long long)(t_blobs - t_plan) / 1000, (long long)(wg_monotonic_us() - t_blobs) / 1000);
done:
  plan_free(&plan);
  free(roots_after);
  wg_input_free(&in);
  return s;
}
