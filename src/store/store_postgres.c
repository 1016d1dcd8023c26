/* The postgres backend: blobs live in the blobs table, so daemons on several machines share
 * them. Packs are spooled to the pack cache's directory (store.c) and sent from the file in 1 MiB
 * statements of one transaction (one commit; db/blobs.c); slices are read with substring(), which on the uncompressed column reads only the
 * chunks it needs. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/blobs.h"
#include "store/store_backend.h"

struct pg_store {
  struct wg_store base;
  struct wg_db *db;
};

/* Runs op on the caller's connection or on one from the pool. */
static struct wg_dbconn *conn_for(struct pg_store *ps, struct wg_dbconn *c)
{
  struct wg_dbconn *use = c != NULL ? c : wg_db_acquire(ps->db, 5000);
  if (use == NULL)
    wg_store_set_reason("postgres: no database connection");
  return use;
}

/* The reason of a failed statement, for wg_store_reason. */
static enum wg_status noted(enum wg_status st)
{
  if (st != WG_OK && st != WG_E_NOT_FOUND)
    wg_store_set_reason("postgres: %s", wg_status_name(st));
  return st;
}

static enum wg_status pg_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_put(use, key, data, len));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static enum wg_status pg_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_get(use, key, data, len));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static enum wg_status pg_get_range(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset,
                                   size_t len, uint8_t **data)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_get_range(use, key, offset, len, data));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static enum wg_status pg_size(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t *len)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_size(use, key, len));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static enum wg_status pg_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_delete_prefix(use, prefix));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static void pg_close(struct wg_store *s) { free(s); }

/* A spooled pack (store.c), sent in chunks (wg_blobs_put_file): never whole in the daemon's
 * memory. */
static enum wg_status pg_put_file(struct wg_store *s, struct wg_dbconn *c, const char *key, int fd, uint64_t len,
                                  const uint8_t sha256[32])
{
  (void)sha256;
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  enum wg_status st = noted(wg_blobs_put_file(use, key, fd, len));
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static const struct wg_store_ops pg_ops = {.put = pg_put, .get = pg_get, .get_range = pg_get_range,
                                           .put_file = pg_put_file, .size = pg_size, .delete_prefix = pg_delete_prefix,
                                           .close = pg_close, .database_backed = true};

struct wg_store *wg_store_postgres_open(struct wg_db *db, char *err, size_t err_len)
{
  if (db == NULL) {
    snprintf(err, err_len, "the postgres store needs a database");
    return NULL;
  }
  struct pg_store *ps = calloc(1, sizeof *ps);
  ps->base.ops = &pg_ops;
  ps->db = db;
  return &ps->base;
}
