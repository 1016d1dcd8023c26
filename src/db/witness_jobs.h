/* The four witness job tables (basic, leaf, node, scheduler): claiming, leases, finishing and
 * the dependency counters that queue a job when its last proof arrives. */
#ifndef WG_DB_WITNESS_JOBS_H
#define WG_DB_WITNESS_JOBS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_witness_jobs[];

/* A claimed witness job. Fields that a round does not have are 0. */
struct wg_witness_job {
  int round; /* enum wg_round */
  int64_t id;
  int64_t l1_batch_number;
  int protocol_version;
  int circuit_id;
  int depth;
  int attempts; /* the lease: the job is ours while it is in_progress with this count */
  int64_t dependencies; /* proofs this job aggregates (leaf, node, scheduler) */
  char input_key[160];  /* basic */
  uint8_t previous_root[32], new_root[32]; /* scheduler */
};

/* Claims the next queued job of a round whose retry backoff has passed, with a lease of
 * lease_seconds. A basic job is not claimed while max_in_flight (> 0) or more prover jobs are
 * queued or in progress (db/backpressure.h); the other rounds ignore it. WG_E_NOT_FOUND when
 * none is queued, or all are held. */
enum wg_status wg_witness_claim(struct wg_dbconn *c, int round, const char *instance_id, int lease_seconds,
                                long max_in_flight, struct wg_witness_job *job);
/* Extends the lease; WG_E_LEASE_LOST when the job is no longer ours. */
enum wg_status wg_witness_renew(struct wg_dbconn *c, const struct wg_witness_job *job, int lease_seconds);
/* Inside the caller's transaction: marks the job successful if it is still ours, else
 * WG_E_LEASE_LOST (the caller rolls back). */
enum wg_status wg_witness_finish(struct wg_dbconn *c, const struct wg_witness_job *job);
/* Marks the job failed for good with an error, if it is still ours. */
enum wg_status wg_witness_fail(struct wg_dbconn *c, const struct wg_witness_job *job, const char *error);
/* Gives a job we hold back to the queue (failed instead once it used max_attempts claims),
 * recording why. take_back_claim undoes the claim's attempt: for a graceful shutdown only. The
 * job is not claimable again before a backoff of retry_base seconds doubled per attempt, at most
 * retry_max (pass 0 for none), so that a failure retrying may cure (a full or unreachable store, a
 * lost database) does not burn every attempt within seconds. */
enum wg_status wg_witness_release(struct wg_dbconn *c, const struct wg_witness_job *job, bool take_back_claim,
                                  int max_attempts, double retry_base, double retry_max, const char *error);
/* Inside the caller's transaction: the defence of docs/circuits.md; the job goes back to
 * waiting_for_proofs, awaiting `missing` more proofs. */
enum wg_status wg_witness_await_again(struct wg_dbconn *c, const struct wg_witness_job *job, int missing);

/* Inside the caller's transaction: counts a completed proof of (batch, round, circuit, depth)
 * for the witness job that waits for it and queues that job when it was the last one. */
enum wg_status wg_witness_count_proof(struct wg_dbconn *c, int64_t batch, int round, int circuit_id, int depth);

/* Inserts for the basic round: leaf jobs and node stubs for each circuit type with work
 * (PostgreSQL array literals of equal length), and the scheduler stub. */
enum wg_status wg_witness_insert_basic_outputs(struct wg_dbconn *c, int64_t batch, int protocol_version,
                                               const char *circuit_ids, const char *counts, int types,
                                               const uint8_t previous_root[32], const uint8_t new_root[32]);
/* Sets how many proofs the node job of (batch, circuit, depth) aggregates, creating it when
 * depth > 0. */
enum wg_status wg_witness_set_node_inputs(struct wg_dbconn *c, int64_t batch, int protocol_version, int circuit_id,
                                          int depth, int64_t proofs);

/* Inside a transaction: wakes round workers (of every daemon) that a job of `round` is queued. */
enum wg_status wg_db_notify(struct wg_dbconn *c, int round);

#define WG_NOTIFY_CHANNEL "wg_jobs"
/* The payload on WG_NOTIFY_CHANNEL when prover jobs were queued (a round's layer committed);
 * otherwise the payload is the number of the witness round that has work. */
#define WG_NOTIFY_PROVER_JOBS "p"

#endif
