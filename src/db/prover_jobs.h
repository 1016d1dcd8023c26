/* The prover_jobs table: every circuit of every round, claimed and proved over HTTP. */
#ifndef WG_DB_PROVER_JOBS_H
#define WG_DB_PROVER_JOBS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_prover_jobs[];

struct wg_prover_job {
  int64_t id;
  int64_t l1_batch_number;
  int protocol_version;
  int aggregation_round;
  int circuit_id;
  int depth;
  int64_t sequence_number;
  char status[24];
  int attempts;
  bool has_proof;
  uint8_t proof_hash[32];
  char lease_expires_at[40]; /* ISO 8601 UTC, empty when none */
};

struct wg_claim_filter {
  int protocol_version;
  const char *rounds;      /* a PostgreSQL array literal such as "{0,1}", or NULL for any */
  const char *circuit_ids; /* likewise */
};

/* Claims the next queued job in (batch, round, id) order. WG_E_NOT_FOUND when none is queued. */
enum wg_status wg_prover_job_claim(struct wg_dbconn *c, const char *prover_id, int lease_seconds,
                                   const struct wg_claim_filter *f, struct wg_prover_job *job);
enum wg_status wg_prover_job_get(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job);
/* Extends the lease of a job held under `lease`. WG_E_LEASE_LOST / WG_E_NOT_FOUND. */
enum wg_status wg_prover_job_heartbeat(struct wg_dbconn *c, int64_t id, int lease, int lease_seconds,
                                       struct wg_prover_job *job);

/* Stores the proof of a held job, marks it successful and, in the same transaction, counts the proof for
 * the witness job that waits for it, queueing that job when this was the last proof.
 * *repeat is set when the job was already successful with the same proof hash (nothing
 * changes). WG_E_CONFLICT: successful with another proof; WG_E_LEASE_LOST; WG_E_NOT_FOUND. */
enum wg_status wg_prover_job_complete(struct wg_dbconn *c, int64_t id, int lease, const uint8_t *proof, size_t proof_len,
                                      const uint8_t proof_hash[32], bool *repeat);
/* The stored proof of a job, malloc'd. WG_E_NOT_FOUND when it has none. */
enum wg_status wg_prover_job_load_proof(struct wg_dbconn *c, int64_t id, uint8_t **proof, size_t *len);
/* Gives a held job back: queued again, or failed once attempts reached max_attempts.
 * *failed tells which. */
enum wg_status wg_prover_job_fail(struct wg_dbconn *c, int64_t id, int lease, const char *error, int max_attempts,
                                  bool *failed);

/* Inserts the circuits of one round layer in one statement: ids/seqs are PostgreSQL array
 * literals of equal length ("{1,1,2}", "{0,1,0}"). */
enum wg_status wg_prover_jobs_insert(struct wg_dbconn *c, int64_t batch, int protocol_version, int round, int depth,
                                     const char *circuit_ids, const char *sequences);

/* The successful jobs of one layer, ordered by sequence number: the proofs a round aggregates. */
enum wg_status wg_prover_jobs_layer(struct wg_dbconn *c, int64_t batch, int round, int circuit_id, int depth,
                                    struct wg_prover_job **jobs, size_t *n);
/* The final node proof of each circuit type of a batch (deepest node layer), by circuit id. */
enum wg_status wg_prover_jobs_final_nodes(struct wg_dbconn *c, int64_t batch, struct wg_prover_job **jobs, size_t *n);
/* The defence of docs/circuits.md: a stored proof failed verification; send the job back to queued. */
enum wg_status wg_prover_job_reject_proof(struct wg_dbconn *c, int64_t id, const char *error);
/* The batch's scheduler proof job, if successful. */
enum wg_status wg_prover_job_final_proof(struct wg_dbconn *c, int64_t batch, struct wg_prover_job *job);

/* Reads a row of the standard column list (see PROVER_JOB_COLUMNS in prover_jobs.c). */
void wg_prover_job_from_row(const PGresult *r, int row, struct wg_prover_job *job);

#endif
