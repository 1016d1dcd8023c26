/* The blob_sweeps table (see blob_sweeps.h). */
#include "config.h"
#include "db/blob_sweeps.h"

#include <stdlib.h>

const struct wg_stmt wg_sql_blob_sweeps[] = {
  {"blob_sweep_add", "INSERT INTO blob_sweeps (l1_batch_number) VALUES ($1) ON CONFLICT (l1_batch_number) DO NOTHING"},
  {"blob_sweep_done", "DELETE FROM blob_sweeps WHERE l1_batch_number = $1"},
  {"blob_sweep_is_pending", "SELECT 1 FROM blob_sweeps WHERE l1_batch_number = $1"},
  {"blob_sweep_pending", "SELECT l1_batch_number FROM blob_sweeps ORDER BY deleted_at, l1_batch_number LIMIT $1"},
  {NULL, NULL},
};

static enum wg_status exec_batch(struct wg_dbconn *c, const char *stmt, int64_t batch)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  return wg_db_exec(c, stmt, &p, false, NULL);
}

enum wg_status wg_blob_sweep_add(struct wg_dbconn *c, int64_t batch) { return exec_batch(c, "blob_sweep_add", batch); }

enum wg_status wg_blob_sweep_done(struct wg_dbconn *c, int64_t batch) { return exec_batch(c, "blob_sweep_done", batch); }

enum wg_status wg_blob_sweep_is_pending(struct wg_dbconn *c, int64_t batch, bool *pending)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "blob_sweep_is_pending", &p, false, &r);
  if (s != WG_OK)
    return s;
  *pending = PQntuples(r) > 0;
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_blob_sweep_pending(struct wg_dbconn *c, int max, int64_t **batches, int *count)
{
  struct wg_params p = {0};
  wg_p_int(&p, max);
  PGresult *r;
  *batches = NULL;
  *count = 0;
  enum wg_status s = wg_db_exec(c, "blob_sweep_pending", &p, false, &r);
  if (s != WG_OK)
    return s;
  int n = PQntuples(r);
  *batches = calloc((size_t)n + 1, sizeof **batches);
  if (*batches == NULL) {
    PQclear(r);
    return WG_E_INTERNAL;
  }
  for (int i = 0; i < n; i++)
    (*batches)[i] = wg_db_int(r, i, 0);
  *count = n;
  PQclear(r);
  return WG_OK;
}
