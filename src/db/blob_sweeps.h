/* The blob_sweeps table (sql/0004_blob_sweeps.sql): batches whose rows are deleted and whose
 * blobs may still be in the object store. Recorded in the transaction that deletes the rows and
 * dropped once the blobs are gone (store/sweep.c). */
#ifndef WG_DB_BLOB_SWEEPS_H
#define WG_DB_BLOB_SWEEPS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_blob_sweeps[];

enum wg_status wg_blob_sweep_add(struct wg_dbconn *c, int64_t batch);
enum wg_status wg_blob_sweep_done(struct wg_dbconn *c, int64_t batch);
enum wg_status wg_blob_sweep_is_pending(struct wg_dbconn *c, int64_t batch, bool *pending);
/* Up to max batches still to sweep, oldest deletion first; *batches is malloc'd. */
enum wg_status wg_blob_sweep_pending(struct wg_dbconn *c, int max, int64_t **batches, int *count);

#endif
