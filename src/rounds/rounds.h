/* The round workers: threads that claim witness jobs, run a round, write its blobs and commit
 * its rows. The only place where the store, the database and the computation meet. */
#ifndef WG_ROUNDS_H
#define WG_ROUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "db/witness_jobs.h"

struct wg_app;
struct wg_workers;
struct wg_renewer;

/* Starts --workers threads per round and the notification listener. */
struct wg_workers *wg_workers_start(struct wg_app *app);
/* Stops claiming, lets running rounds finish, joins every thread. */
void wg_workers_stop(struct wg_workers *w);

/* What a round function gets: the app, the worker's own connection, and the claimed job. */
struct wg_round_ctx {
  struct wg_app *app;
  struct wg_dbconn *db;
  struct wg_witness_job job;
  int64_t renewed_ms; /* when the lease was last extended */
  int64_t started_ms; /* when the run started: it gives up past --witness-job-timeout */
  bool timed_out;     /* it did (logged once) */
  struct wg_workers *workers;
  struct wg_renewer *renewer; /* renews the lease while a step runs; NULL outside the workers */
  bool failed; /* the run failed its job for good (counted apart from committed runs) */
  int64_t pack_id; /* names the packs this run writes (wg_pack_id_new): new at every run */
};

/* Extends the witness lease; WG_E_LEASE_LOST when the job was taken over, or when the run has
 * lasted --witness-job-timeout (the round must stop without committing). Counts as progress. */
enum wg_status wg_round_renew(struct wg_round_ctx *ctx);
/* Called between the steps of a round, and often within a long one: it is the progress that keeps
 * the job's lease renewed (a worker that reaches none for a third of --witness-job-timeout loses
 * its job). Renews the lease itself once a third of it has passed; returns WG_E_LEASE_LOST as
 * wg_round_renew does, and WG_E_UNAVAILABLE when the daemon is shutting down, so that the round
 * stops there and its job is released. */
enum wg_status wg_round_checkpoint(struct wg_round_ctx *ctx);

/* The four rounds. Each returns WG_OK when it committed (or failed the job for good), and
 * another status when it stopped without committing (the job stays claimed until its lease
 * expires or is released). */
enum wg_status wg_round_basic(struct wg_round_ctx *ctx);
enum wg_status wg_round_leaf(struct wg_round_ctx *ctx);
enum wg_status wg_round_node(struct wg_round_ctx *ctx);
enum wg_status wg_round_scheduler(struct wg_round_ctx *ctx);

/* Shared by the aggregation rounds: loads and verifies the proofs of the given prover jobs
 * (the defence of docs/circuits.md). On a bad proof, sends those jobs back to queued and the witness job
 * back to waiting_for_proofs in one transaction and returns WG_E_INVALID. On success fills refs. */
struct wg_prover_job;
struct wg_proof_ref;
enum wg_status wg_round_load_proofs(struct wg_round_ctx *ctx, const struct wg_prover_job *jobs, size_t n,
                                    struct wg_proof_ref *refs);

/* Commits an aggregation layer: writes blobs first (as one pack), then one transaction marks the witness job
 * successful and inserts the circuits; `extra` (may be NULL) adds more rows in that transaction. */
struct wg_blob;
enum wg_status wg_round_commit_layer(struct wg_round_ctx *ctx, struct wg_blob *blobs, size_t n, int round,
                                     int depth, const int64_t *circuit_ids, const int64_t *sequences,
                                     enum wg_status (*extra)(struct wg_round_ctx *ctx, void *arg), void *arg);

#endif
