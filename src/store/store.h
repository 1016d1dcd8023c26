/* The object store: witness blobs, inputs and proofs, behind one interface with two backends
 * (docs/command-line.md): "file:DIR" (atomic writes: temp file, fsync, rename) and "postgres" (the
 * blobs table, shared by daemons on several machines). Proofs are not blobs: they are stored with
 * their job in the database (db/prover_jobs.c). Keys are deterministic paths such as
 * "batches/42/r0/c1/d0/s17.wit", so that a retried round overwrites its own blobs. */
#ifndef WG_STORE_H
#define WG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct wg_db;
struct wg_dbconn;
struct wg_store;

struct wg_blob {
  char *key;
  uint8_t *data;
  size_t len;
};

/* Opens "file:DIR" (creating DIR) or "postgres" (using db's connections). NULL on failure, with
 * the reason in err. */
struct wg_store *wg_store_open(const char *url, struct wg_db *db, char *err, size_t err_len);
void wg_store_close(struct wg_store *s);

/* Each call may pass the caller's own database connection c (the postgres backend then uses it,
 * outside any transaction the caller has open); with c NULL a pooled connection is used. A caller
 * that already holds a pooled connection must pass it: taking a second one from the same pool
 * could wait for ever when every connection is held that way. */
enum wg_status wg_store_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len);
/* Writes many blobs and makes them durable together, faster than one put each. */
enum wg_status wg_store_put_many(struct wg_store *s, struct wg_dbconn *c, const struct wg_blob *blobs, size_t n);
/* *data is malloc'd. WG_E_NOT_FOUND when the key is absent. */
enum wg_status wg_store_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len);
/* Removes every blob whose key starts with prefix. */
enum wg_status wg_store_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix);

/* The deterministic keys of the project. */
void wg_key_input(char *out, size_t n, int64_t batch, const uint8_t sha256[32]);
void wg_key_witness(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t sequence);
void wg_key_batch_prefix(char *out, size_t n, int64_t batch);

#endif
