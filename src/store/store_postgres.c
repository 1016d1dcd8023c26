/* The postgres backend: blobs live in the blobs table, so daemons on several machines share
 * them. A put_many runs in one transaction. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/blobs.h"
#include "store/store_backend.h"

struct pg_store {
  struct wg_store base;
  struct wg_db *db;
};

struct put_args {
  const struct wg_blob *blobs;
  size_t n;
};

static enum wg_status put_tx(struct wg_dbconn *c, void *arg)
{
  struct put_args *a = arg;
  for (size_t i = 0; i < a->n; i++) {
    enum wg_status s = wg_blobs_put(c, a->blobs[i].key, a->blobs[i].data, a->blobs[i].len);
    if (s != WG_OK)
      return s;
  }
  return WG_OK;
}

/* Runs op on the caller's connection or on one from the pool. */
static struct wg_dbconn *conn_for(struct pg_store *ps, struct wg_dbconn *c)
{
  return c != NULL ? c : wg_db_acquire(ps->db, 5000);
}

static enum wg_status pg_put_many(struct wg_store *s, struct wg_dbconn *c, const struct wg_blob *blobs, size_t n)
{
  struct pg_store *ps = (struct pg_store *)s;
  struct wg_dbconn *use = conn_for(ps, c);
  if (use == NULL)
    return WG_E_UNAVAILABLE;
  struct put_args a = {blobs, n};
  enum wg_status st = n == 1 ? put_tx(use, &a) : wg_db_tx(use, put_tx, &a);
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
  enum wg_status st = wg_blobs_get(use, key, data, len);
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
  enum wg_status st = wg_blobs_delete_prefix(use, prefix);
  if (c == NULL)
    wg_db_release(use);
  return st;
}

static void pg_close(struct wg_store *s) { free(s); }

static const struct wg_store_ops pg_ops = {pg_put_many, pg_get, pg_delete_prefix, pg_close};

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
