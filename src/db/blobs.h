/* The blobs table behind the postgres object store. */
#ifndef WG_DB_BLOBS_H
#define WG_DB_BLOBS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_blobs[];

enum wg_status wg_blobs_put(struct wg_dbconn *c, const char *key, const void *data, size_t len);
enum wg_status wg_blobs_get(struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len);
/* len bytes at offset; WG_E_NOT_FOUND when the blob is absent or shorter. */
enum wg_status wg_blobs_get_range(struct wg_dbconn *c, const char *key, uint64_t offset, size_t len, uint8_t **data);
/* Writes the first len bytes of the file fd (read with pread) as the blob key, WG_BLOBS_CHUNK
 * bytes a statement in one transaction, so that the daemon never holds the whole blob. */
#define WG_BLOBS_CHUNK (1024 * 1024)
enum wg_status wg_blobs_put_file(struct wg_dbconn *c, const char *key, int fd, uint64_t len);
/* The length of a blob; WG_E_NOT_FOUND when it is absent. */
enum wg_status wg_blobs_size(struct wg_dbconn *c, const char *key, uint64_t *len);
enum wg_status wg_blobs_delete_prefix(struct wg_dbconn *c, const char *prefix);

#endif
