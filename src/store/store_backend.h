/* What a store backend implements. */
#ifndef WG_STORE_BACKEND_H
#define WG_STORE_BACKEND_H

#include "store/store.h"

struct wg_store_ops {
  enum wg_status (*put_many)(struct wg_store *s, struct wg_dbconn *c, const struct wg_blob *blobs, size_t n);
  enum wg_status (*get)(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len);
  enum wg_status (*delete_prefix)(struct wg_store *s, struct wg_dbconn *c, const char *prefix);
  void (*close)(struct wg_store *s);
};

/* Every backend's handle starts with this. */
struct wg_store {
  const struct wg_store_ops *ops;
};

struct wg_store *wg_store_file_open(const char *dir, char *err, size_t err_len);
struct wg_store *wg_store_postgres_open(struct wg_db *db, char *err, size_t err_len);

#endif
