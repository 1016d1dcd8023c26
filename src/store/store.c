/* Backend dispatch and the key layout. */
#include "config.h"
#include "store/store_backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

struct wg_store *wg_store_open(const char *url, struct wg_db *db, char *err, size_t err_len)
{
  if (strcmp(url, "postgres") == 0)
    return wg_store_postgres_open(db, err, err_len);
  if (strncmp(url, "file:", 5) == 0 && url[5] != '\0')
    return wg_store_file_open(url + 5, err, err_len);
  snprintf(err, err_len, "store must be file:DIR or postgres, got \"%s\"", url);
  return NULL;
}

void wg_store_close(struct wg_store *s)
{
  if (s != NULL)
    s->ops->close(s);
}

enum wg_status wg_store_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  struct wg_blob b = {(char *)key, (uint8_t *)data, len};
  return s->ops->put_many(s, c, &b, 1);
}

enum wg_status wg_store_put_many(struct wg_store *s, struct wg_dbconn *c, const struct wg_blob *blobs, size_t n)
{
  return n == 0 ? WG_OK : s->ops->put_many(s, c, blobs, n);
}

enum wg_status wg_store_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  return s->ops->get(s, c, key, data, len);
}

enum wg_status wg_store_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix)
{
  return s->ops->delete_prefix(s, c, prefix);
}

void wg_key_batch_prefix(char *out, size_t n, int64_t batch) { snprintf(out, n, "batches/%" PRId64 "/", batch); }

void wg_key_input(char *out, size_t n, int64_t batch, const uint8_t sha256[32])
{
  /* Named by content, so a racing upload of a different body cannot overwrite the stored one. */
  char hex[65];
  wg_hex_encode(sha256, 32, hex);
  snprintf(out, n, "batches/%" PRId64 "/input-%.16s.json", batch, hex);
}

void wg_key_witness(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t sequence)
{
  snprintf(out, n, "batches/%" PRId64 "/r%d/c%d/d%d/s%" PRId64 ".wit", batch, round, circuit_id, depth, sequence);
}
