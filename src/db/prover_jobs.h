/* The prover_jobs table: every circuit of every round, claimed and proved over HTTP. */
#ifndef WG_DB_PROVER_JOBS_H
#define WG_DB_PROVER_JOBS_H

#include "auth/lease.h"
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
  /* Where the witness lies: witness_pack_id names the pack of its layer (wg_key_pack); 0 for rows
   * written before pack ids, where witness_pack is the attempt of the witness job that wrote the
   * pack (wg_key_pack_attempt), or -1 for a job with a blob of its own (written before packs). */
  int64_t witness_pack_id;
  int witness_pack;
  int64_t witness_offset;
  int64_t witness_length;
  /* Set by a claim only: the job's lease, shown to its claimant once, and its hash. */
  char lease[WG_LEASE_LEN + 1];
  uint8_t lease_hash[32];
};

/* Who acts on a held job: the hash of the lease it sent and the name of its token. */
struct wg_holder {
  uint8_t lease_hash[32];
  const char *token;
};

struct wg_claim_filter {
  int protocol_version;
  const char *rounds;      /* a PostgreSQL array literal such as "{0,1}", or NULL for any */
  const char *circuit_ids; /* likewise */
};

/* One slot of a claim statement: who claims (recorded in picked_by and lease_token) and the lease
 * the job gets if this slot takes one. */
struct wg_claim_slot {
  const char *prover_id;
  const char *token;
  char lease[WG_LEASE_LEN + 1];
  uint8_t lease_hash[32];
};

/* Claims up to `slots` queued jobs in one statement, in (batch, round, id) order, the k-th one
 * for slots[k], each held for grace_seconds until its witness is downloaded or it is heartbeaten
 * (db/toucher.h). *jobs is malloc'd (the caller frees it), in slot order, each with its
 * slot's lease; *n may be 0. */
enum wg_status wg_prover_jobs_claim(struct wg_dbconn *c, const struct wg_claim_slot *slots, size_t n_slots,
                                    int grace_seconds, const struct wg_claim_filter *f, struct wg_prover_job **jobs,
                                    size_t *n);
/* One witness download to fence, in a group (db/toucher.h). */
struct wg_touch {
  int64_t id;
  struct wg_holder holder;
  /* out */
  enum wg_status status; /* WG_OK (job set), WG_E_LEASE_LOST, WG_E_NOT_FOUND, or the group's error */
  struct wg_prover_job job;
  bool touched; /* with WG_OK: the lease was touched already (downloaded or heartbeaten before) */
};
/* Fences a group of downloads on their holders with one read-only statement (no commit to wait
 * for); sets every member's status, and its job and touched when held. Returns the statement's
 * failure, if any (members' statuses are then not set). */
enum wg_status wg_prover_jobs_held(struct wg_dbconn *c, struct wg_touch *group, size_t n);
/* Turns the claim grace of each job still held under lease_hashes[i] and not yet touched into
 * the full lease (lease_seconds from now), in one statement and one commit. */
enum wg_status wg_prover_jobs_touch_leases(struct wg_dbconn *c, const int64_t *ids, const uint8_t (*lease_hashes)[32],
                                           size_t n, int lease_seconds);
/* Gives back claims whose reply never reached their prover: queued again at once, the claim taken
 * back (attempts - 1), if still held under those leases; their attempt records end as released. */
enum wg_status wg_prover_jobs_give_back(struct wg_dbconn *c, const struct wg_prover_job *jobs, size_t n);
enum wg_status wg_prover_job_get(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job);
/* A job the archive moved to prover_jobs_archive (operator views only: nothing acts on it). */
enum wg_status wg_prover_job_get_archived(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job);
/* A job and whether h holds it. */
enum wg_status wg_prover_job_get_held(struct wg_dbconn *c, int64_t id, const struct wg_holder *h,
                                      struct wg_prover_job *job, bool *held);
/* Extends the lease of a job held under `lease`. WG_E_LEASE_LOST / WG_E_NOT_FOUND. */
enum wg_status wg_prover_job_heartbeat(struct wg_dbconn *c, int64_t id, const struct wg_holder *h,
                                       int lease_seconds, struct wg_prover_job *job);

/* One completion of a group (db/completer.c). */
struct wg_completion {
  int64_t id;
  struct wg_holder holder;
  const uint8_t *proof;
  size_t proof_len;
  uint8_t proof_hash[32];
  /* out */
  enum wg_status status; /* WG_OK, WG_E_CONFLICT (successful with another proof), WG_E_LEASE_LOST,
                            WG_E_NOT_FOUND, or WG_E_UNAVAILABLE when it could not be committed
                            (retryable: never a conflict) */
  bool repeat;           /* already successful with this very proof: nothing changed */
};

/* Completes a group of held jobs in one statement (one commit): each is marked successful and its
 * proof stored, and each witness job that waits for them counts the group's proofs with one
 * update of its row, turning queued when they were its last. A completion whose lease does not
 * match gets its own status; the others are committed. A group that cannot commit (deadlocks
 * past the retries, any statement error) is split and its members run singly, so that one bad
 * member does not fail the others; a member that still cannot commit is WG_E_UNAVAILABLE. The
 * ids must be distinct. */
enum wg_status wg_prover_jobs_complete(struct wg_dbconn *c, struct wg_completion *group, size_t n);
/* The stored proof of a job, malloc'd. WG_E_NOT_FOUND when it has none. */
enum wg_status wg_prover_job_load_proof(struct wg_dbconn *c, int64_t id, uint8_t **proof, size_t *len);
/* The stored proofs of jobs[0..n) by one statement, in order: proofs[k] (malloc'd, lens[k] bytes)
 * or NULL when job k has none. On failure none is left allocated. */
enum wg_status wg_prover_jobs_load_proofs(struct wg_dbconn *c, const struct wg_prover_job *jobs, size_t n,
                                         uint8_t **proofs, size_t *lens);
/* Where a job given back by its prover stands. */
struct wg_fail_outcome {
  bool failed;       /* for good: it used its claims, and its error says it reached max_attempts */
  int attempts;      /* the job's attempts */
  int max_attempts;  /* the attempts at which it fails for good (moved up by an operator requeue) */
  char retry_at[40]; /* when it may be claimed again (ISO 8601 UTC); empty when failed */
};
/* Gives a held job back: queued again after a backoff (retry_base seconds doubled per attempt, at
 * most retry_max), or failed once it has used max_attempts claims; its attempt record ends as
 * failed with `error`. *out tells where the job stands. */
enum wg_status wg_prover_job_fail(struct wg_dbconn *c, int64_t id, const struct wg_holder *h, const char *error,
                                  int max_attempts, double retry_base, double retry_max, struct wg_fail_outcome *out);

/* Inserts the circuits of one round layer in one statement: ids, seqs, offsets and lengths are
 * PostgreSQL array literals of equal length ("{1,1,2}", "{0,1,0}", ...) and `pack_id` names the
 * pack that holds their witnesses at those offsets (wg_pack_id_new). */
struct wg_layer_rows {
  const char *circuit_ids, *sequences, *offsets, *lengths;
  int64_t pack_id;
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
