/* Operations on the blobs table. */
#include "config.h"
#include "db/blobs.h"

#include <stdlib.h>
#include <string.h>

const struct wg_stmt wg_sql_blobs[] = {
  {"blobs_put", "INSERT INTO blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data"},
  {"blobs_get", "SELECT data FROM blobs WHERE key = $1"},
  /* substring() of bytea takes integers: a pack in this table is at most 1 GB anyway (the bytea limit). */
  {"blobs_get_range", "SELECT substring(data FROM $2::integer + 1 FOR $3::integer) FROM blobs WHERE key = $1"},
  /* The stored length, read from the value's header without reading the value. */
  {"blobs_size", "SELECT octet_length(data) FROM blobs WHERE key = $1"},
  {"blobs_delete_prefix", "DELETE FROM blobs WHERE starts_with(key, $1)"},
  {NULL, NULL},
};

enum wg_status wg_blobs_put(struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  struct wg_params p = {0};
  wg_p_text(&p, key);
  wg_p_bytes(&p, data, len);
  return wg_db_exec(c, "blobs_put", &p, false, NULL);
}

enum wg_status wg_blobs_get(struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  struct wg_params p = {0};
  wg_p_text(&p, key);
  return wg_db_fetch_bytes(c, "blobs_get", &p, data, len);
}

enum wg_status wg_blobs_get_range(struct wg_dbconn *c, const char *key, uint64_t offset, size_t len, uint8_t **data)
{
  struct wg_params p = {0};
  wg_p_text(&p, key);
  wg_p_int(&p, (int64_t)offset);
  wg_p_int(&p, (int64_t)len);
  size_t got;
  enum wg_status s = wg_db_fetch_bytes(c, "blobs_get_range", &p, data, &got);
  if (s == WG_OK && got != len) {
    free(*data);
    *data = NULL;
    return WG_E_NOT_FOUND;
  }
  return s;
}

enum wg_status wg_blobs_size(struct wg_dbconn *c, const char *key, uint64_t *len)
{
  struct wg_params p = {0};
  wg_p_text(&p, key);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "blobs_size", &p, false, &r);
  if (s != WG_OK)
    return s;
  *len = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_blobs_delete_prefix(struct wg_dbconn *c, const char *prefix)
{
  struct wg_params p = {0};
  wg_p_text(&p, prefix);
  return wg_db_exec(c, "blobs_delete_prefix", &p, false, NULL);
}
