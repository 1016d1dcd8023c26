/* Operations on basic_circuit_witness_jobs that the upload needs. */
#include "config.h"
#include "db/basic_jobs.h"

#include <string.h>

#include "circuits/circuits.h"
#include "db/witness_jobs.h"

const struct wg_stmt wg_sql_basic_jobs[] = {
  {"basic_insert",
   "INSERT INTO basic_circuit_witness_jobs (l1_batch_number, protocol_version, status, input_sha256, input_key,"
   " input_bytes) VALUES ($1, $2, 'queued', $3, $4, $5) ON CONFLICT (l1_batch_number) DO NOTHING RETURNING id"},
  {"basic_input_hash", "SELECT input_sha256 FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"},
  {NULL, NULL},
};

enum wg_status wg_basic_job_lookup(struct wg_dbconn *c, int64_t batch, const uint8_t sha256[32],
                                   const uint8_t raw_sha256[32], bool *exists, bool *same)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "basic_input_hash", &p, true, &r);
  if (s != WG_OK)
    return s;
  *exists = PQntuples(r) > 0;
  *same = *exists && PQgetlength(r, 0, 0) == 32 &&
          (memcmp(PQgetvalue(r, 0, 0), sha256, 32) == 0 || memcmp(PQgetvalue(r, 0, 0), raw_sha256, 32) == 0);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_basic_job_create(struct wg_dbconn *c, int64_t batch, int protocol_version,
                                   const uint8_t sha256[32], const uint8_t raw_sha256[32], const char *input_key,
                                   size_t input_bytes, bool *existed, bool *same)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_bytes(&p, sha256, 32);
  wg_p_text(&p, input_key);
  wg_p_int(&p, (int64_t)input_bytes);
  PGresult *r;
  *existed = *same = false;
  enum wg_status s = wg_db_exec(c, "basic_insert", &p, false, &r);
  if (s != WG_OK)
    return s;
  *existed = PQntuples(r) == 0;
  PQclear(r);
  if (*existed)
    return wg_basic_job_lookup(c, batch, sha256, raw_sha256, existed, same);
  return wg_db_notify(c, WG_ROUND_BASIC);
}
