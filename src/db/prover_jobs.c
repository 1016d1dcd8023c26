/* Operations on the prover_jobs table. */
#include "config.h"
#include "db/prover_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
#include "common/hex.h"
#include "common/strbuf.h"
#include "db/queue.h"
#include "db/witness_jobs.h"

#define UTC(COLUMN) "coalesce(" WG_SQL_UTC(COLUMN) ", '')"
#define COLUMNS                                                                                                  \
  "id, l1_batch_number, protocol_version, aggregation_round, circuit_id, depth, sequence_number, status, "     \
  "attempts, encode(proof_hash, 'hex'), " UTC("lease_expires_at") ", "                                          \
  "CASE WHEN retry_at > now() AND status = 'queued' THEN " UTC("retry_at") " ELSE '' END, "                   \
  "coalesce(witness_pack, -1), coalesce(witness_offset, -1), coalesce(witness_length, -1), "                 \
  "coalesce(witness_pack_id, 0)"
#define N_COLUMNS 16

/* A held job, fenced on its holder: the lease's hash (hex, $LEASE) and the token's name ($TOKEN). */
#define HELD(LEASE, TOKEN)                                                                                     \
  "status = 'in_progress' AND lease_hash = decode(" LEASE ", 'hex') AND lease_token = " TOKEN

/* The update that ends the attempt record of each claim in FROM (a CTE returning id and claims):
 * the record of the claim that held the job. */
#define END_ATTEMPT(FROM, OUTCOME, ERROR)                                                                       \
  "UPDATE prover_job_attempts a SET outcome = " OUTCOME ", ended_at = now(), error = " ERROR " FROM " FROM " e"  \
  " WHERE a.prover_job_id = e.id AND a.attempt = e.claims"

/* A job, being given back, that has used the claims it is allowed ($5 since the last requeue). */
#define OUT_OF_ATTEMPTS "attempts - attempts_base >= $5"

/* Whether a queued job may be claimed now (docs/state-machine.md, retries). */
#define CLAIMABLE "status = 'queued' AND (retry_at IS NULL OR retry_at <= now())"

const struct wg_stmt wg_sql_prover_jobs[] = {
  /* Up to $6 jobs in claim order (higher priority first, then the batch order), each locked by
   * this statement alone (SKIP LOCKED), through the partial index prover_jobs_queued, which leads
   * with priority DESC in the same order (sql/0010_priority.sql). The k-th job claimed (slot k)
   * is recorded as picked by $1[k] with token $8[k] and lease hash $7[k], so that claims of
   * several provers can be served by one statement; the slot comes back last so that each job
   * gets its slot's lease. The job is held for the claim grace ($2) until its witness is
   * downloaded or it is heartbeaten. Each claim starts its attempt record, numbered by claims
   * (sql/0007_attempts.sql). Paused jobs are skipped: the pauses are read here, so a pause holds
   * on every daemon from its commit on. */
  {"prover_claim",
   "WITH picked AS (SELECT id, row_number() OVER (ORDER BY priority DESC, l1_batch_number, aggregation_round, id)"
   "   AS slot FROM (SELECT id, priority, l1_batch_number, aggregation_round FROM prover_jobs WHERE " CLAIMABLE
   "   AND protocol_version = $3"
   "   AND ($4::smallint[] IS NULL OR aggregation_round = ANY($4::smallint[]))"
   "   AND ($5::smallint[] IS NULL OR circuit_id = ANY($5::smallint[]))"
   "   AND NOT " WG_SQL_PAUSED("prover_jobs")
   "   ORDER BY priority DESC, l1_batch_number, aggregation_round, id LIMIT $6 FOR UPDATE SKIP LOCKED) AS queued),"
   " claimed AS (UPDATE prover_jobs p SET status = 'in_progress', attempts = p.attempts + 1, claims = p.claims + 1,"
   "   picked_by = ($1::text[])[picked.slot], lease_token = ($8::text[])[picked.slot],"
   "   lease_hash = decode(($7::text[])[picked.slot], 'hex'), lease_touched = false,"
   "   lease_expires_at = now() + make_interval(secs => $2::integer), processing_started_at = now(),"
   "   retry_at = NULL, updated_at = now() FROM picked WHERE p.id = picked.id RETURNING p.*, picked.slot),"
   " recorded AS (INSERT INTO prover_job_attempts (prover_job_id, attempt, l1_batch_number, prover_id, token_name)"
   "   SELECT id, claims, l1_batch_number, picked_by, nullif(lease_token, '') FROM claimed)"
   " SELECT " COLUMNS ", slot FROM claimed ORDER BY slot"},
  /* A claim given back takes its attempt back; its record stays, as released. */
  {"prover_give_back",
   "WITH given AS (UPDATE prover_jobs p SET status = 'queued', attempts = p.attempts - 1, lease_hash = NULL,"
   "   lease_token = NULL, lease_expires_at = NULL, picked_by = NULL, updated_at = now()"
   "   FROM unnest($1::bigint[], $2::text[]) AS g(id, lease) WHERE p.id = g.id AND p.status = 'in_progress'"
   "   AND p.lease_hash = decode(g.lease, 'hex') RETURNING p.id, p.claims)"
   " " END_ATTEMPT("given", "'released'", "'the claim reply never reached the prover; the claim was given back'")},
  /* The downloads of a group fenced on their holders, read only ($1 ids, $2 lease hashes, $3
   * tokens): each job held comes back with whether its lease was touched already and the number of
   * the download it answers (1-based), last. The touch itself is prover_touch_leases, later. */
  {"prover_held_group",
   "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS i(tid, tlease,"
   "   ttoken, tn))"
   " SELECT " COLUMNS ", lease_touched, i.tn FROM input i JOIN prover_jobs p ON p.id = i.tid"
   "   AND p.status = 'in_progress' AND p.lease_hash = decode(i.tlease, 'hex') AND p.lease_token = i.ttoken"},
  /* The first downloads of claimed jobs, gathered by db/toucher.c: each job still held under the
   * lease downloaded ($1 ids, $2 lease hashes) and not yet touched gets the full lease. */
  {"prover_touch_leases",
   "UPDATE prover_jobs p SET lease_touched = true, updated_at = now(),"
   " lease_expires_at = greatest(p.lease_expires_at, now() + make_interval(secs => $3::integer))"
   " FROM unnest($1::bigint[], $2::text[]) AS t(id, lease) WHERE p.id = t.id AND p.status = 'in_progress'"
   " AND p.lease_hash = decode(t.lease, 'hex') AND NOT p.lease_touched"},
  {"prover_get", "SELECT " COLUMNS " FROM prover_jobs WHERE id = $1"},
  {"prover_get_archived", "SELECT " COLUMNS " FROM prover_jobs_archive WHERE id = $1"},
  {"prover_get_held", "SELECT " COLUMNS ", coalesce(" HELD("$2", "$3") ", false) FROM prover_jobs WHERE id = $1"},
  {"prover_heartbeat",
   "UPDATE prover_jobs SET lease_expires_at = now() + make_interval(secs => $4::integer), lease_touched = true,"
   " updated_at = now() WHERE id = $1 AND " HELD("$2", "$3") " RETURNING " COLUMNS},
  /* A group of completions in one statement. Each job is fenced on its holder; the witness job
   * that awaits a layer counts all of the group's proofs of that layer with one update of its
   * row, and turns queued when they were its last (the CASE sees the count this update makes, and
   * a concurrent group's update of the same row is waited for and then built upon, so exactly
   * one update crosses the threshold). A node layer feeds the node job one level up if the node
   * round created one, else it is its type's final proof and feeds the scheduler. Round workers
   * are woken for every witness job queued. */
  {"prover_complete_group",
   "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])"
   "   AS t(id, lease, token, hash, proof)),"
   " done AS (UPDATE prover_jobs p SET status = 'successful', proof_hash = decode(i.hash, 'hex'),"
   "   lease_expires_at = NULL, lease_hash = NULL, retry_at = NULL, time_taken = now() - p.processing_started_at,"
   "   updated_at = now(), error = NULL"
   "   FROM input i WHERE p.id = i.id AND p.status = 'in_progress' AND p.lease_hash = decode(i.lease, 'hex')"
   "   AND p.lease_token = i.token"
   "   RETURNING p.id, p.claims, p.l1_batch_number, p.aggregation_round, p.circuit_id, p.depth),"
   " ended AS (" END_ATTEMPT("done", "'successful'", "NULL") "),"
   " stored AS (INSERT INTO proofs (prover_job_id, l1_batch_number, proof)"
   "   SELECT d.id, d.l1_batch_number, decode(i.proof, 'hex') FROM done d JOIN input i ON i.id = d.id"
   "   ON CONFLICT (prover_job_id) DO UPDATE SET proof = EXCLUDED.proof, created_at = now()),"
   " layers AS (SELECT l1_batch_number, aggregation_round, circuit_id, depth, count(*)::integer AS n FROM done"
   "   GROUP BY l1_batch_number, aggregation_round, circuit_id, depth),"
   " leaf AS (UPDATE leaf_aggregation_jobs w SET proofs_done = w.proofs_done + g.n, updated_at = now(),"
   "   status = CASE WHEN w.status = 'waiting_for_proofs' AND w.proofs_done + g.n >= w.number_of_basic_circuits"
   "   THEN 'queued' ELSE w.status END"
   "   FROM layers g WHERE g.aggregation_round = 0 AND w.l1_batch_number = g.l1_batch_number"
   "   AND w.circuit_id = g.circuit_id RETURNING w.status),"
   " node AS (UPDATE node_aggregation_jobs w SET proofs_done = w.proofs_done + g.n, updated_at = now(),"
   "   status = CASE WHEN w.status = 'waiting_for_proofs' AND w.proofs_done + g.n >= w.number_of_dependent_jobs"
   "   THEN 'queued' ELSE w.status END"
   "   FROM layers g WHERE g.aggregation_round IN (1, 2) AND w.l1_batch_number = g.l1_batch_number"
   "   AND w.circuit_id = g.circuit_id AND w.depth = CASE WHEN g.aggregation_round = 1 THEN 0 ELSE g.depth + 1 END"
   "   RETURNING w.status),"
   " finals AS (SELECT g.l1_batch_number, sum(g.n)::integer AS n FROM layers g WHERE g.aggregation_round = 2"
   "   AND NOT EXISTS (SELECT 1 FROM node_aggregation_jobs x WHERE x.l1_batch_number = g.l1_batch_number"
   "   AND x.circuit_id = g.circuit_id AND x.depth = g.depth + 1) GROUP BY g.l1_batch_number),"
   " sched AS (UPDATE scheduler_witness_jobs w SET proofs_done = w.proofs_done + f.n, updated_at = now(),"
   "   status = CASE WHEN w.status = 'waiting_for_proofs' AND w.proofs_done + f.n >= w.number_of_dependent_jobs"
   "   THEN 'queued' ELSE w.status END"
   "   FROM finals f WHERE w.l1_batch_number = f.l1_batch_number RETURNING w.status),"
   " woken AS (SELECT pg_notify('" WG_NOTIFY_CHANNEL "', r::text) FROM"
   "   (SELECT 1 FROM leaf WHERE status = 'queued' UNION SELECT 2 FROM node WHERE status = 'queued'"
   "   UNION SELECT 3 FROM sched WHERE status = 'queued') AS q(r))"
   " SELECT d.id, (SELECT count(*) FROM woken) FROM done d"},
  {"prover_load_proof", "SELECT proof FROM proofs WHERE prover_job_id = $1"},
  /* The proofs of $1's jobs, one row per id in its order (NULL for a job without one). */
  {"prover_load_proofs",
   "SELECT p.proof FROM unnest($1::bigint[]) WITH ORDINALITY AS i(id, n) LEFT JOIN proofs p ON p.prover_job_id = i.id"
   " ORDER BY i.n"},
  /* The job is queued again after its backoff, or failed for good once it has used its claims
   * (OUT_OF_ATTEMPTS), which its error says; its attempt record keeps the prover's error alone.
   * The reply tells the prover where the job stands: attempts, the attempts at which it fails
   * for good, and when it may be claimed again. */
  {"prover_fail",
   "WITH failed AS (UPDATE prover_jobs SET status = CASE WHEN " OUT_OF_ATTEMPTS " THEN 'failed' ELSE 'queued' END,"
   "   error = $4::text || CASE WHEN " OUT_OF_ATTEMPTS " THEN '; reached max_attempts (' || (attempts_base + $5) || ')'"
   "   ELSE '' END, lease_expires_at = NULL, lease_hash = NULL, updated_at = now(),"
   "   retry_at = CASE WHEN " OUT_OF_ATTEMPTS " THEN NULL ELSE now() + " WG_SQL_BACKOFF("$6", "$7") " END"
   "   WHERE id = $1 AND " HELD("$2", "$3") " RETURNING id, claims, status, attempts, attempts_base + $5 AS max_attempts,"
   "   retry_at),"
   " ended AS (" END_ATTEMPT("failed", "'failed'", "$4::text") ")"
   " SELECT status, attempts, max_attempts, " UTC("retry_at") " FROM failed"},
  /* Claims waiting for work, on every daemon, learn of the layer at its commit. */
  {"prover_insert_layer",
   "WITH added AS (INSERT INTO prover_jobs (l1_batch_number, protocol_version, aggregation_round, depth, circuit_id,"
   " sequence_number, witness_pack_id, witness_offset, witness_length, priority)"
   " SELECT $1, $2, $3, $4, c, s, $7, o, l, " WG_SQL_BATCH_PRIORITY("$1")
   " FROM unnest($5::smallint[], $6::integer[], $8::bigint[], $9::integer[]) AS t(c, s, o, l) RETURNING 1)"
   " SELECT pg_notify('" WG_NOTIFY_CHANNEL "', '" WG_NOTIFY_PROVER_JOBS "') FROM (SELECT 1 FROM added LIMIT 1) AS a"},
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
  snprintf(j->retry_at, sizeof j->retry_at, "%s", PQgetvalue(r, row, 11));
  j->witness_pack = (int)wg_db_int(r, row, 12);
  j->witness_offset = wg_db_int(r, row, 13);
  j->witness_length = wg_db_int(r, row, 14);
  j->witness_pack_id = wg_db_int(r, row, 15);
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

static enum wg_status many_jobs(struct wg_dbconn *c, const char *stmt, const struct wg_params *p,
                                struct wg_prover_job **jobs, size_t *n);

/* Appends one element to a PostgreSQL array literal being built. */
static void array_add_text(struct wg_strbuf *b, size_t i, const char *text)
{
  wg_strbuf_printf(b, "%s", i ? "," : "{");
  wg_strbuf_array_text(b, text);
}

static void array_add_int(struct wg_strbuf *b, size_t i, long long v) { wg_strbuf_printf(b, "%s%lld", i ? "," : "{", v); }

static void array_add_hash(struct wg_strbuf *b, size_t i, const uint8_t hash[32])
{
  char hex[65];
  wg_hex_encode(hash, 32, hex);
  wg_strbuf_printf(b, "%s\"%s\"", i ? "," : "{", hex);
}

static void array_end(struct wg_strbuf *b, size_t n) { wg_strbuf_printf(b, "%s}", n ? "" : "{"); }

enum wg_status wg_prover_jobs_claim(struct wg_dbconn *c, const struct wg_claim_slot *slots, size_t n_slots,
                                    int grace_seconds, const struct wg_claim_filter *f, struct wg_prover_job **jobs,
                                    size_t *n)
{
  struct wg_strbuf ids = {0}, leases = {0}, tokens = {0};
  for (size_t i = 0; i < n_slots; i++) {
    array_add_text(&ids, i, slots[i].prover_id);
    array_add_hash(&leases, i, slots[i].lease_hash);
    array_add_text(&tokens, i, slots[i].token);
  }
  array_end(&ids, n_slots);
  array_end(&leases, n_slots);
  array_end(&tokens, n_slots);
  struct wg_params p = {0};
  wg_p_text(&p, ids.s);
  wg_p_int(&p, grace_seconds);
  wg_p_int(&p, f->protocol_version);
  wg_p_text(&p, f->rounds);
  wg_p_text(&p, f->circuit_ids);
  wg_p_int(&p, (int64_t)n_slots);
  wg_p_text(&p, leases.s);
  wg_p_text(&p, tokens.s);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_claim", &p, false, &r);
  wg_strbuf_free(&ids);
  wg_strbuf_free(&leases);
  wg_strbuf_free(&tokens);
  if (s != WG_OK)
    return s;
  *n = (size_t)PQntuples(r);
  *jobs = calloc(*n + 1, sizeof **jobs);
  if (*jobs == NULL) {
    PQclear(r);
    return WG_E_INTERNAL; /* the claims come back when their grace runs out */
  }
  for (size_t i = 0; i < *n; i++) {
    struct wg_prover_job *j = &(*jobs)[i];
    wg_prover_job_from_row(r, (int)i, j);
    int64_t slot = wg_db_int(r, (int)i, N_COLUMNS) - 1;
    if (slot >= 0 && (size_t)slot < n_slots) {
      memcpy(j->lease, slots[slot].lease, sizeof j->lease);
      memcpy(j->lease_hash, slots[slot].lease_hash, 32);
    }
  }
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_jobs_give_back(struct wg_dbconn *c, const struct wg_prover_job *jobs, size_t n)
{
  struct wg_strbuf ids = {0}, leases = {0};
  for (size_t i = 0; i < n; i++) {
    array_add_int(&ids, i, jobs[i].id);
    array_add_hash(&leases, i, jobs[i].lease_hash);
  }
  array_end(&ids, n);
  array_end(&leases, n);
  struct wg_params p = {0};
  wg_p_text(&p, ids.s);
  wg_p_text(&p, leases.s);
  enum wg_status s = wg_db_exec(c, "prover_give_back", &p, false, NULL);
  wg_strbuf_free(&ids);
  wg_strbuf_free(&leases);
  return s;
}

/* The holder's parameters of a fenced statement: the lease's hash in hex and the token's name. */
static void p_holder(struct wg_params *p, const struct wg_holder *h, char hex[65])
{
  wg_hex_encode(h->lease_hash, 32, hex);
  wg_p_text(p, hex);
  wg_p_text(p, h->token != NULL ? h->token : "");
}

enum wg_status wg_prover_job_get(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  return one_job(c, "prover_get", &p, job);
}

enum wg_status wg_prover_job_get_archived(struct wg_dbconn *c, int64_t id, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  return one_job(c, "prover_get_archived", &p, job);
}

enum wg_status wg_prover_job_get_held(struct wg_dbconn *c, int64_t id, const struct wg_holder *h,
                                      struct wg_prover_job *job, bool *held)
{
  struct wg_params p = {0};
  char hex[65];
  wg_p_int(&p, id);
  p_holder(&p, h, hex);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "prover_get_held", &p, false, &r);
  if (s != WG_OK)
    return s;
  wg_prover_job_from_row(r, 0, job);
  *held = strcmp(PQgetvalue(r, 0, N_COLUMNS), "t") == 0;
  PQclear(r);
  return WG_OK;
}

/* Why a fenced update matched nothing: the job is unknown, or not held under this lease. */
static enum wg_status explain_miss(struct wg_dbconn *c, int64_t id)
{
  enum wg_status s = wg_prover_job_get(c, id, NULL);
  return s == WG_OK ? WG_E_LEASE_LOST : s;
}

enum wg_status wg_prover_job_heartbeat(struct wg_dbconn *c, int64_t id, const struct wg_holder *h,
                                       int lease_seconds, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  char hex[65];
  wg_p_int(&p, id);
  p_holder(&p, h, hex);
  wg_p_int(&p, lease_seconds);
  enum wg_status s = one_job(c, "prover_heartbeat", &p, job);
  return s == WG_E_NOT_FOUND ? explain_miss(c, id) : s;
}

enum wg_status wg_prover_jobs_held(struct wg_dbconn *c, struct wg_touch *group, size_t n)
{
  struct wg_strbuf ids = {0}, leases = {0}, tokens = {0};
  for (size_t i = 0; i < n; i++) {
    array_add_int(&ids, i, group[i].id);
    array_add_hash(&leases, i, group[i].holder.lease_hash);
    array_add_text(&tokens, i, group[i].holder.token != NULL ? group[i].holder.token : "");
    group[i].status = WG_E_NOT_FOUND;
  }
  array_end(&ids, n);
  array_end(&leases, n);
  array_end(&tokens, n);
  struct wg_params p = {0};
  wg_p_text(&p, ids.s);
  wg_p_text(&p, leases.s);
  wg_p_text(&p, tokens.s);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_held_group", &p, false, &r);
  wg_strbuf_free(&ids);
  wg_strbuf_free(&leases);
  wg_strbuf_free(&tokens);
  if (s != WG_OK)
    return s;
  for (int row = 0; row < PQntuples(r); row++) {
    int64_t k = wg_db_int(r, row, N_COLUMNS + 1) - 1;
    if (k >= 0 && (size_t)k < n) {
      wg_prover_job_from_row(r, row, &group[k].job);
      group[k].touched = strcmp(wg_db_str(r, row, N_COLUMNS), "t") == 0;
      group[k].status = WG_OK;
    }
  }
  PQclear(r);
  /* The ones not held: gone, or held by someone else. */
  for (size_t i = 0; i < n; i++)
    if (group[i].status == WG_E_NOT_FOUND)
      group[i].status = explain_miss(c, group[i].id);
  return WG_OK;
}

enum wg_status wg_prover_jobs_touch_leases(struct wg_dbconn *c, const int64_t *ids, const uint8_t (*lease_hashes)[32],
                                           size_t n, int lease_seconds)
{
  struct wg_strbuf idb = {0}, leases = {0};
  for (size_t i = 0; i < n; i++) {
    array_add_int(&idb, i, ids[i]);
    array_add_hash(&leases, i, lease_hashes[i]);
  }
  array_end(&idb, n);
  array_end(&leases, n);
  struct wg_params p = {0};
  wg_p_text(&p, idb.s);
  wg_p_text(&p, leases.s);
  wg_p_int(&p, lease_seconds);
  enum wg_status s = wg_db_exec(c, "prover_touch_leases", &p, false, NULL);
  wg_strbuf_free(&idb);
  wg_strbuf_free(&leases);
  return s;
}

/* Why a completion of a group was not applied, read after the group's commit so that it sees
 * what a concurrent completion committed. */
static enum wg_status explain_completion(struct wg_dbconn *c, struct wg_completion *x)
{
  struct wg_prover_job job;
  enum wg_status s = wg_prover_job_get(c, x->id, &job);
  if (s != WG_OK)
    return s;
  if (strcmp(job.status, "successful") != 0)
    return WG_E_LEASE_LOST;
  if (job.has_proof && memcmp(job.proof_hash, x->proof_hash, 32) == 0) {
    x->repeat = true;
    return WG_OK;
  }
  return WG_E_CONFLICT;
}

/* Runs one group statement, retrying deadlocks (groups of two daemons can lock the same witness
 * rows in different orders; the loser is rolled back whole and simply runs again), and marks the
 * members it committed. */
static enum wg_status complete_once(struct wg_dbconn *c, struct wg_completion *group, size_t n)
{
  struct wg_strbuf ids = {0}, leases = {0}, tokens = {0}, hashes = {0}, proofs = {0};
  for (size_t i = 0; i < n; i++) {
    array_add_int(&ids, i, group[i].id);
    array_add_hash(&leases, i, group[i].holder.lease_hash);
    array_add_text(&tokens, i, group[i].holder.token != NULL ? group[i].holder.token : "");
    array_add_hash(&hashes, i, group[i].proof_hash);
    wg_strbuf_printf(&proofs, "%s\"", i ? "," : "{");
    wg_strbuf_hex(&proofs, group[i].proof, group[i].proof_len);
    wg_strbuf_printf(&proofs, "\"");
  }
  array_end(&ids, n);
  array_end(&leases, n);
  array_end(&tokens, n);
  array_end(&hashes, n);
  array_end(&proofs, n);
  struct wg_params p = {0};
  wg_p_text(&p, ids.s);
  wg_p_text(&p, leases.s);
  wg_p_text(&p, tokens.s);
  wg_p_text(&p, hashes.s);
  wg_p_text(&p, proofs.s);
  PGresult *r = NULL;
  enum wg_status s;
  for (int attempt = 0;; attempt++) {
    s = wg_fault_fails("complete_group") ? WG_E_CONFLICT : wg_db_exec(c, "prover_complete_group", &p, false, &r);
    if (s != WG_E_CONFLICT || attempt >= 5)
      break;
  }
  wg_strbuf_free(&ids);
  wg_strbuf_free(&leases);
  wg_strbuf_free(&tokens);
  wg_strbuf_free(&hashes);
  wg_strbuf_free(&proofs);
  if (s != WG_OK)
    return s;
  for (int row = 0; row < PQntuples(r); row++) {
    int64_t id = wg_db_int(r, row, 0);
    for (size_t i = 0; i < n; i++)
      if (group[i].id == id)
        group[i].status = WG_OK;
  }
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_jobs_complete(struct wg_dbconn *c, struct wg_completion *group, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    group[i].status = WG_E_LEASE_LOST;
    group[i].repeat = false;
  }
  enum wg_status s = complete_once(c, group, n);
  if (s == WG_E_UNAVAILABLE) {
    for (size_t i = 0; i < n; i++)
      group[i].status = WG_E_UNAVAILABLE;
    return s; /* the connection is gone: the combiner runs the group again on a fresh one */
  }
  if (s != WG_OK) {
    /* One member can fail a whole group (a unique violation, deadlocks past the retries): run
     * them singly, so that the others commit; one that still cannot is told to retry. */
    for (size_t i = 0; i < n; i++) {
      enum wg_status one = n > 1 ? complete_once(c, &group[i], 1) : s;
      if (one != WG_OK)
        group[i].status = WG_E_UNAVAILABLE;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (group[i].status == WG_E_LEASE_LOST)
      group[i].status = explain_completion(c, &group[i]);
  return WG_OK;
}

enum wg_status wg_prover_job_fail(struct wg_dbconn *c, int64_t id, const struct wg_holder *h, const char *error,
                                  int max_attempts, double retry_base, double retry_max, struct wg_fail_outcome *out)
{
  struct wg_params p = {0};
  char base[32], max[32], hex[65];
  snprintf(base, sizeof base, "%.3f", retry_base);
  snprintf(max, sizeof max, "%.3f", retry_max);
  wg_p_int(&p, id);
  p_holder(&p, h, hex);
  wg_p_text(&p, error);
  wg_p_int(&p, max_attempts);
  wg_p_text(&p, base);
  wg_p_text(&p, max);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_fail", &p, false, &r);
  if (s != WG_OK)
    return s;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return explain_miss(c, id);
  }
  out->failed = strcmp(PQgetvalue(r, 0, 0), "failed") == 0;
  out->attempts = (int)wg_db_int(r, 0, 1);
  out->max_attempts = (int)wg_db_int(r, 0, 2);
  snprintf(out->retry_at, sizeof out->retry_at, "%s", PQgetvalue(r, 0, 3));
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_jobs_insert(struct wg_dbconn *c, int64_t batch, int protocol_version, int round, int depth,
                                     const struct wg_layer_rows *rows)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_int(&p, round);
  wg_p_int(&p, depth);
  wg_p_text(&p, rows->circuit_ids);
  wg_p_text(&p, rows->sequences);
  wg_p_int(&p, rows->pack_id);
  wg_p_text(&p, rows->offsets);
  wg_p_text(&p, rows->lengths);
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
  if (*jobs == NULL) {
    PQclear(r);
    return WG_E_INTERNAL;
  }
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

enum wg_status wg_prover_jobs_load_proofs(struct wg_dbconn *c, const struct wg_prover_job *jobs, size_t n,
                                         uint8_t **proofs, size_t *lens)
{
  struct wg_strbuf ids = {0};
  for (size_t i = 0; i < n; i++) {
    array_add_int(&ids, i, jobs[i].id);
    proofs[i] = NULL;
    lens[i] = 0;
  }
  array_end(&ids, n);
  struct wg_params p = {0};
  wg_p_text(&p, ids.s);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_load_proofs", &p, true, &r);
  wg_strbuf_free(&ids);
  if (s != WG_OK)
    return s;
  if ((size_t)PQntuples(r) != n) {
    PQclear(r);
    return WG_E_INTERNAL;
  }
  for (size_t i = 0; i < n && s == WG_OK; i++) {
    if (PQgetisnull(r, (int)i, 0))
      continue;
    lens[i] = (size_t)PQgetlength(r, (int)i, 0);
    if ((proofs[i] = malloc(lens[i] + 1)) == NULL) {
      s = WG_E_INTERNAL;
      break;
    }
    memcpy(proofs[i], PQgetvalue(r, (int)i, 0), lens[i]);
  }
  PQclear(r);
  if (s != WG_OK)
    for (size_t i = 0; i < n; i++) {
      free(proofs[i]);
      proofs[i] = NULL;
    }
  return s;
}

enum wg_status wg_prover_job_final_proof(struct wg_dbconn *c, int64_t batch, struct wg_prover_job *job)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  return one_job(c, "prover_final_proof", &p, job);
}
