/* What a store backend implements. */
#ifndef WG_STORE_BACKEND_H
#define WG_STORE_BACKEND_H

#include <stdbool.h>

#include "store/store.h"
#include "store/pack_cache.h"

struct wg_store_ops {
  enum wg_status (*put)(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len);
  enum wg_status (*get)(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len);
  enum wg_status (*get_range)(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset, size_t len,
                              uint8_t **data);
  /* Streaming packs (optional): a backend without them gets packs buffered in memory and
   * written with one put. */
  struct wg_pack *(*pack_begin)(struct wg_store *s, const char *key);
  /* Writes the len bytes of the file fd (from offset 0; read with pread) as the blob key;
   * sha256 is their digest. The pack of a backend without pack_begin is spooled to the pack
   * cache's directory and written with this (store.c), so that it is never held whole in memory;
   * a backend without it gets packs buffered in memory and written with one put. */
  enum wg_status (*put_file)(struct wg_store *s, struct wg_dbconn *c, const char *key, int fd, uint64_t len,
                             const uint8_t sha256[32]);
  /* The length of a blob (optional): what the pack cache needs to copy a pack it did not write
   * (store.c). WG_E_NOT_FOUND when it is absent. */
  enum wg_status (*size)(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t *len);
  enum wg_status (*delete_prefix)(struct wg_store *s, struct wg_dbconn *c, const char *prefix);
  void (*close)(struct wg_store *s);
  /* The store is the database (postgres): its failures are the database's, which /readyz checks
   * itself, so they do not mark the store unwritable (store.c). */
  bool database_backed;
};

/* Every backend's pack starts with this; add appends and commit consumes the pack. */
struct wg_pack {
  struct wg_store *store;
  uint64_t size; /* bytes added so far */
  enum wg_status (*add)(struct wg_pack *p, const void *data, size_t len);
  enum wg_status (*commit)(struct wg_pack *p, struct wg_dbconn *c);
  void (*abort)(struct wg_pack *p);
};

/* Every backend's handle starts with this. */
struct wg_store {
  const struct wg_store_ops *ops;
  struct wg_pack_cache *cache; /* NULL: none (the file store, wgctl); set by wg_store_cache_open */
};

/* A backend's failure: logged ("store: " and the text) and kept as the calling thread's reason
 * (wg_store_reason). wg_store_set_reason only keeps it, for a failure logged otherwise. */
void wg_store_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wg_store_set_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Marks the calling thread's failure as one that may pass within seconds (an S3 5xx, 429, timeout
 * or reset connection after the backend's own retries), which a round tries again (store.c);
 * only WG_E_UNAVAILABLE may be transient. Cleared with the reason. */
void wg_store_set_transient(void);
/* Counts a request the backend tried again inside one call, for wg_store_retries_total. */
void wg_store_count_retry(void);

struct wg_store *wg_store_file_open(const char *dir, char *err, size_t err_len);
struct wg_store *wg_store_postgres_open(struct wg_db *db, char *err, size_t err_len);
struct wg_config;
/* location is what follows "s3://": "BUCKET" or "BUCKET/PREFIX". */
struct wg_store *wg_store_s3_open(const char *location, const struct wg_config *cfg, char *err, size_t err_len);

#endif
