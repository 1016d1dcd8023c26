/* Operations on the prover_jobs table. */
#include "config.h"
#include "db/prover_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "db/witness_jobs.h"

#define COLUMNS                                                                                                  \
  "id, l1_batch_number, protocol_version, aggregation_round, circuit_id, depth, sequence_number, status, "     \
  "attempts, encode(proof_hash, 'hex'), "                                                                       \
  "coalesce(to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"

const struct wg_stmt wg_sql_prover_jobs[] = {
  {"prover_claim",
   "UPDATE prover_jobs SET status = 'in_progress', attempts = attempts + 1, picked_by = $1,"
   " lease_expires_at = now() + make_interval(secs => $2::integer), processing_started_at = now(),"
   " updated_at = now()"
   " WHERE id = (SELECT id FROM prover_jobs WHERE status = 'queued' AND protocol_version = $3"
   "   AND ($4::smallint[] IS NULL OR aggregation_round = ANY($4::smallint[]))"
   "   AND ($5::smallint[] IS NULL OR circuit_id = ANY($5::smallint[]))"
   "   ORDER BY l1_batch_number, aggregation_round, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
   " RETURNING " COLUMNS},
  {"prover_get", "SELECT " COLUMNS " FROM prover_jobs WHERE id = $1"},
  {"prover_heartbeat",
   "UPDATE prover_jobs SET lease_expires_at = now() + make_interval(secs => $3::integer), updated_at = now()"
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2 RETURNING " COLUMNS},
  {"prover_complete",
   "UPDATE prover_jobs SET status = 'successful', proof_hash = $3, lease_expires_at = NULL,"
   " time_taken = now() - processing_started_at, updated_at = now(), error = NULL"
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2"
   " RETURNING l1_batch_number, aggregation_round, circuit_id, depth"},
  {"prover_store_proof",
   "INSERT INTO proofs (prover_job_id, l1_batch_number, proof) VALUES ($1, $2, $3)"
   " ON CONFLICT (prover_job_id) DO UPDATE SET proof = EXCLUDED.proof, created_at = now()"},
  {"prover_load_proof", "SELECT proof FROM proofs WHERE prover_job_id = $1"},
  {"prover_fail",
   "UPDATE prover_jobs SET status = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'queued' END, error = $3,"
   " lease_expires_at = NULL, updated_at = now()"
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2 RETURNING status"},
  {"prover_insert_layer",
   "INSERT INTO prover_jobs (l1_batch_number, protocol_version, aggregation_round, depth, circuit_id, sequence_number)"
   " SELECT $1, $2, $3, $4, c, s FROM unnest($5::smallint[], $6::integer[]) AS t(c, s)"},
  {"prover_layer",
   "SELECT " COLUMNS " FROM prover_jobs WHERE l1_batch_number = $1 AND aggregation_round = $2"
   " AND circuit_id = $3 AND depth = $4 ORDER BY sequence_number"},
  {"prover_final_nodes",
   "SELECT DISTINCT ON (circuit_id) " COLUMNS " FROM prover_jobs WHERE l1_batch_number = $1"
   " AND aggregation_round = 2 ORDER BY circuit_id, depth DESC, sequence_number"},
  {"prover_reject_proof",
   "UPDATE prover_jobs SET status = 'queued', error = $2, proof_hash = NULL,"
   " lease_expires_at = NULL, updated_at = now() WHERE id = $1 AND status = 'successful'"},
  {"prover_final_proof",
   "SELECT " COLUMNS " FROM prover_jobs WHERE l1_batch_number = $1 AND aggregation_round = 3"
   " AND status = 'successful' ORDER BY id LIMIT 1"},
  {NULL, NULL},
};

void wg_prover_job_from_row(const PGresult *r, int row, struct wg_prover_job *j)
{
  memset(j, 0, sizeof *j);
  j->id = wg_db_int(r, row, 0);
  j->l1_batch_number = wg_db_int(r, row, 1);
  j->protocol_version = (int)wg_db_int(r, row, 2);
  j->aggregation_round = (int)wg_db_int(r, row, 3);
  j->circuit_id = (int)wg_db_int(r, row, 4);
  j->depth = (int)wg_db_int(r, row, 5);
  j->sequence_number = wg_db_int(r, row, 6);
  snprintf(j->status, sizeof j->status, "%s", PQgetvalue(r, row, 7));
  j->attempts = (int)wg_db_int(r, row, 8);
  const char *hash = wg_db_str(r, row, 9);
  if (hash != NULL && strlen(hash) == 64) {
    char prefixed[67] = "0x";
    memcpy(prefixed + 2, hash, 65);
    j->has_proof = wg_hex_decode_fixed(prefixed, j->proof_hash, 32);
  }
  snprintf(j->lease_expires_at, sizeof j->lease_expires_at, "%s", PQgetvalue(r, row, 10));
}

static enum wg_status one_job(struct wg_dbconn *c, const char *stmt, const struct wg_params *p,
                              struct wg_prover_job *job)
{
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, stmt, p, false, &r);
  if (s != WG_OK)
    return s;
  if (job != NULL)
    wg_prover_job_from_row(r, 0, job);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_job_claim(struct wg_dbconn *c, const char *prover_id, int lease_seconds,
                                   const struct wg_claim_filter *f, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_text(&p, prover_id);
  wg_p_int(&p, lease_seconds);
  wg_p_int(&p, f->protocol_version);
  wg_p_text(&p, f->rounds);
  wg_p_text(&p, f->circuit_ids);
  return one_job(c, "prover_claim", &p, job);
}

enum wg_status wg_prover_job_get(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  return one_job(c, "prover_get", &p, job);
}

/* Why a fenced update matched nothing: the job is unknown, or not held under this lease. */
static enum wg_status explain_miss(struct wg_dbconn *c, int64_t id)
{
  enum wg_status s = wg_prover_job_get(c, id, NULL);
  return s == WG_OK ? WG_E_LEASE_LOST : s;
}

enum wg_status wg_prover_job_heartbeat(struct wg_dbconn *c, int64_t id, int lease, int lease_seconds,
                                       struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  wg_p_int(&p, lease);
  wg_p_int(&p, lease_seconds);
  enum wg_status s = one_job(c, "prover_heartbeat", &p, job);
  return s == WG_E_NOT_FOUND ? explain_miss(c, id) : s;
}

struct complete_args {
  int64_t id;
  int lease;
  const uint8_t *proof;
  size_t proof_len;
  const uint8_t *proof_hash;
  bool repeat;
};

static enum wg_status complete_tx(struct wg_dbconn *c, void *arg)
{
  struct complete_args *a = arg;
  a->repeat = false;
  struct wg_params p = {0};
  wg_p_int(&p, a->id);
  wg_p_int(&p, a->lease);
  wg_p_bytes(&p, a->proof_hash, 32);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_complete", &p, false, &r);
  if (s != WG_OK)
    return s;
  if (PQntuples(r) == 0) {
    PQclear(r);
    /* Not held under this lease: perhaps a repeat of a completion that already committed. */
    struct wg_prover_job job;
    s = wg_prover_job_get(c, a->id, &job);
    if (s != WG_OK)
      return s;
    if (strcmp(job.status, "successful") == 0) {
      if (job.has_proof && memcmp(job.proof_hash, a->proof_hash, 32) == 0) {
        a->repeat = true;
        return WG_OK;
      }
      return WG_E_CONFLICT;
    }
    return WG_E_LEASE_LOST;
  }
  int64_t batch = wg_db_int(r, 0, 0);
  int round = (int)wg_db_int(r, 0, 1), circuit_id = (int)wg_db_int(r, 0, 2), depth = (int)wg_db_int(r, 0, 3);
  PQclear(r);
  wg_p_reset(&p);
  wg_p_int(&p, a->id);
  wg_p_int(&p, batch);
  wg_p_bytes(&p, a->proof, a->proof_len);
  s = wg_db_exec(c, "prover_store_proof", &p, false, NULL);
  return s == WG_OK ? wg_witness_count_proof(c, batch, round, circuit_id, depth) : s;
}

enum wg_status wg_prover_job_complete(struct wg_dbconn *c, int64_t id, int lease, const uint8_t *proof, size_t proof_len,
                                      const uint8_t proof_hash[32], bool *repeat)
{
  struct complete_args a = {id, lease, proof, proof_len, proof_hash, false};
  enum wg_status s = wg_db_tx(c, complete_tx, &a);
  *repeat = a.repeat;
  return s;
}

enum wg_status wg_prover_job_fail(struct wg_dbconn *c, int64_t id, int lease, const char *error, int max_attempts,
                                  bool *failed)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  wg_p_int(&p, lease);
  wg_p_text(&p, error);
  wg_p_int(&p, max_attempts);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_fail", &p, false, &r);
  if (s != WG_OK)
    return s;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return explain_miss(c, id);
  }
  *failed = strcmp(PQgetvalue(r, 0, 0), "failed") == 0;
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_jobs_insert(struct wg_dbconn *c, int64_t batch, int protocol_version, int round, int depth,
                                     const char *circuit_ids, const char *sequences)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_int(&p, round);
  wg_p_int(&p, depth);
  wg_p_text(&p, circuit_ids);
  wg_p_text(&p, sequences);
  return wg_db_exec(c, "prover_insert_layer", &p, false, NULL);
}

static enum wg_status many_jobs(struct wg_dbconn *c, const char *stmt, const struct wg_params *p,
                                struct wg_prover_job **jobs, size_t *n)
{
  PGresult *r;
  enum wg_status s = wg_db_exec(c, stmt, p, false, &r);
  if (s != WG_OK)
    return s;
  *n = (size_t)PQntuples(r);
  *jobs = calloc(*n + 1, sizeof **jobs);
  for (size_t i = 0; i < *n; i++)
    wg_prover_job_from_row(r, (int)i, &(*jobs)[i]);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_jobs_layer(struct wg_dbconn *c, int64_t batch, int round, int circuit_id, int depth,
                                    struct wg_prover_job **jobs, size_t *n)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, round);
  wg_p_int(&p, circuit_id);
  wg_p_int(&p, depth);
  return many_jobs(c, "prover_layer", &p, jobs, n);
}

enum wg_status wg_prover_jobs_final_nodes(struct wg_dbconn *c, int64_t batch, struct wg_prover_job **jobs, size_t *n)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  return many_jobs(c, "prover_final_nodes", &p, jobs, n);
}

enum wg_status wg_prover_job_reject_proof(struct wg_dbconn *c, int64_t id, const char *error)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  wg_p_text(&p, error);
  return wg_db_exec(c, "prover_reject_proof", &p, false, NULL);
}

enum wg_status wg_prover_job_load_proof(struct wg_dbconn *c, int64_t id, uint8_t **proof, size_t *len)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  return wg_db_fetch_bytes(c, "prover_load_proof", &p, proof, len);
}

enum wg_status wg_prover_job_final_proof(struct wg_dbconn *c, int64_t batch, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  return one_job(c, "prover_final_proof", &p, job);
}
