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
  char retry_at[40];         /* not claimable before this (ISO 8601 UTC), empty when claimable */
  /* Where the witness lies: witness_pack is the attempt of the witness job that wrote the pack
   * (see wg_key_pack), -1 for a job with a blob of its own (written before packs). */
  int witness_pack;
  int64_t witness_offset;
  int64_t witness_length;
};

struct wg_claim_filter {
  int protocol_version;
  const char *rounds;      /* a PostgreSQL array literal such as "{0,1}", or NULL for any */
  const char *circuit_ids; /* likewise */
};

/* Claims up to `slots` queued jobs in one statement, in (batch, round, id) order, the k-th one
 * for prover_ids[k] (recorded in picked_by); *jobs is malloc'd (the caller frees it) and *n may
 * be 0. */
enum wg_status wg_prover_jobs_claim(struct wg_dbconn *c, const char *const *prover_ids, size_t slots,
                                    int lease_seconds, const struct wg_claim_filter *f, struct wg_prover_job **jobs,
                                    size_t *n);
enum wg_status wg_prover_job_get(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job);
/* Extends the lease of a job held under `lease`. WG_E_LEASE_LOST / WG_E_NOT_FOUND. */
enum wg_status wg_prover_job_heartbeat(struct wg_dbconn *c, int64_t id, int lease, int lease_seconds,
                                       struct wg_prover_job *job);

/* One completion of a group (db/completer.c). */
struct wg_completion {
  int64_t id;
  int lease;
  const uint8_t *proof;
  size_t proof_len;
  uint8_t proof_hash[32];
  /* out */
  enum wg_status status; /* WG_OK, WG_E_CONFLICT (successful with another proof), WG_E_LEASE_LOST,
                            WG_E_NOT_FOUND, or the failure of the statement */
  bool repeat;           /* already successful with this very proof: nothing changed */
};

/* Completes a group of held jobs in one statement (one commit): each is marked successful and its
 * proof stored, and each witness job that waits for them counts the group's proofs with one
 * update of its row, turning queued when they were its last. A completion whose lease does not
 * match gets its own status; the others are committed. The ids must be distinct. */
enum wg_status wg_prover_jobs_complete(struct wg_dbconn *c, struct wg_completion *group, size_t n);
/* The stored proof of a job, malloc'd. WG_E_NOT_FOUND when it has none. */
enum wg_status wg_prover_job_load_proof(struct wg_dbconn *c, int64_t id, uint8_t **proof, size_t *len);
/* Gives a held job back: queued again after a backoff (retry_base seconds doubled per attempt, at
 * most retry_max), or failed once it has used max_attempts claims. *failed tells which. */
enum wg_status wg_prover_job_fail(struct wg_dbconn *c, int64_t id, int lease, const char *error, int max_attempts,
                                  double retry_base, double retry_max, bool *failed);

/* Inserts the circuits of one round layer in one statement: ids, seqs, offsets and lengths are
 * PostgreSQL array literals of equal length ("{1,1,2}", "{0,1,0}", ...) and `pack` is the attempt
 * of the witness job whose pack holds their witnesses at those offsets. */
struct wg_layer_rows {
  const char *circuit_ids, *sequences, *offsets, *lengths;
  int pack;
};
enum wg_status wg_prover_jobs_insert(struct wg_dbconn *c, int64_t batch, int protocol_version, int round, int depth,
                                     const struct wg_layer_rows *rows);

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
