/* The batch lock (see batch_locks.h). The key is a hash of the batch number in its own namespace,
 * so it cannot be confused with another advisory lock of the project except by a hash collision,
 * which only serialises two unrelated operations. */
#include "config.h"
#include "db/batch_locks.h"

#include <string.h>

const struct wg_stmt wg_sql_batch_locks[] = {
  {"batch_lock", "SELECT pg_advisory_xact_lock(hashtextextended('wg_batch', $1::bigint))"},
  {"batch_lock_shared", "SELECT pg_advisory_xact_lock_shared(hashtextextended('wg_batch', $1::bigint))"},
  {"blob_lock", "SELECT pg_advisory_xact_lock(hashtextextended('wg_batch_blobs', $1::bigint))"},
  {"blob_try_lock", "SELECT pg_try_advisory_xact_lock(hashtextextended('wg_batch_blobs', $1::bigint))"},
  {"batch_exists", "SELECT 1 FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"},
  {NULL, NULL},
};

enum wg_status wg_batch_lock(struct wg_dbconn *c, int64_t batch, bool exclusive)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  return wg_db_exec(c, exclusive ? "batch_lock" : "batch_lock_shared", &p, false, NULL);
}

enum wg_status wg_blob_lock(struct wg_dbconn *c, int64_t batch, bool wait, bool *taken)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, wait ? "blob_lock" : "blob_try_lock", &p, false, &r);
  if (s != WG_OK)
    return s;
  if (taken != NULL)
    *taken = wait || strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_batch_exists(struct wg_dbconn *c, int64_t batch, bool *exists)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "batch_exists", &p, false, &r);
  if (s != WG_OK)
    return s;
  *exists = PQntuples(r) > 0;
  PQclear(r);
  return WG_OK;
}
