/* Operations on the blobs table. */
#include "config.h"
#include "db/blobs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct wg_stmt wg_sql_blobs[] = {
  {"blobs_put", "INSERT INTO blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data"},
  {"blobs_get", "SELECT data FROM blobs WHERE key = $1"},
  /* substring() of bytea takes integers: a pack in this table is at most 1 GB anyway (the bytea limit). */
  {"blobs_get_range", "SELECT substring(data FROM $2::integer + 1 FOR $3::integer) FROM blobs WHERE key = $1"},
  /* A pack streamed in (wg_blobs_put_file): its bytes gather in a temporary large object, chunk
   * by chunk, and one INSERT copies them into the row; all in one transaction, so the row appears
   * whole or not at all and the large object never outlives it. */
  {"blobs_lo_create", "SELECT lo_from_bytea(0, $1::bytea)"},
  {"blobs_lo_put", "SELECT lo_put($1::bigint::oid, $2::bigint, $3::bytea)"},
  {"blobs_put_lo", "INSERT INTO blobs (key, data) VALUES ($1, lo_get($2::bigint::oid)) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data"},
  {"blobs_lo_unlink", "SELECT lo_unlink($1::bigint::oid)"},
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

struct put_file_tx {
  const char *key;
  int fd;
  uint64_t len;
  uint8_t *chunk; /* WG_BLOBS_CHUNK bytes */
};

/* The chunk of the file at off (up to WG_BLOBS_CHUNK bytes) into t->chunk; false on a read error. */
static bool read_chunk(const struct put_file_tx *t, uint64_t off, size_t *n)
{
  size_t want = t->len - off < WG_BLOBS_CHUNK ? (size_t)(t->len - off) : WG_BLOBS_CHUNK;
  size_t got = 0;
  while (got < want) {
    ssize_t r = pread(t->fd, t->chunk + got, want - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    got += (size_t)r;
  }
  *n = want;
  return true;
}

static enum wg_status put_file_in_tx(struct wg_dbconn *c, void *arg)
{
  const struct put_file_tx *t = arg;
  size_t n;
  if (!read_chunk(t, 0, &n))
    return WG_E_INTERNAL;
  struct wg_params p = {0};
  wg_p_bytes(&p, t->chunk, n);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "blobs_lo_create", &p, false, &r);
  if (s != WG_OK)
    return s;
  int64_t oid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  for (uint64_t off = n; s == WG_OK && off < t->len; off += n) {
    if (!read_chunk(t, off, &n))
      return WG_E_INTERNAL;
    wg_p_reset(&p);
    wg_p_int(&p, oid);
    wg_p_int(&p, (int64_t)off);
    wg_p_bytes(&p, t->chunk, n);
    s = wg_db_exec(c, "blobs_lo_put", &p, false, NULL);
  }
  if (s == WG_OK) {
    wg_p_reset(&p);
    wg_p_text(&p, t->key);
    wg_p_int(&p, oid);
    s = wg_db_exec(c, "blobs_put_lo", &p, false, NULL);
  }
  if (s == WG_OK) {
    wg_p_reset(&p);
    wg_p_int(&p, oid);
    s = wg_db_exec(c, "blobs_lo_unlink", &p, false, NULL);
  }
  return s;
}

enum wg_status wg_blobs_put_file(struct wg_dbconn *c, const char *key, int fd, uint64_t len)
{
  if (len == 0)
    return wg_blobs_put(c, key, "", 0);
  struct put_file_tx t = {key, fd, len, malloc(WG_BLOBS_CHUNK)};
  if (t.chunk == NULL)
    return WG_E_INTERNAL;
  enum wg_status s = wg_db_tx(c, put_file_in_tx, &t);
  free(t.chunk);
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
