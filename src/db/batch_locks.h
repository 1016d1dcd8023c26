/* Two transaction-level advisory locks keyed on the batch number.
 *
 * The batch lock guards a batch's rows: an upload and a DELETE of a batch take it exclusively; a
 * round takes it shared in the transaction that commits its layer. So a delete never interleaves
 * with a re-upload of the same batch nor with a round's commit.
 *
 * The blob lock guards the batch's prefix in the object store against a removal racing a new
 * write: whoever removes the blobs of a deleted batch (the DELETE after its commit, a round that
 * lost its batch, the sweeper) holds it and checks that the batch has no rows, and an upload holds
 * it from before it writes its input until its row commits. It is taken on its own or after the
 * batch lock, never before it, so the two cannot deadlock. Keys are reused by a new incarnation of
 * a batch number, so a re-upload must wait for the old blobs to go: it is the only thing that
 * waits for a store call made on behalf of a DELETE. */
#ifndef WG_DB_BATCH_LOCKS_H
#define WG_DB_BATCH_LOCKS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_batch_locks[];

/* Inside the caller's transaction: waits for and takes the lock of a batch until it ends. */
enum wg_status wg_batch_lock(struct wg_dbconn *c, int64_t batch, bool exclusive);
/* Inside the caller's transaction: takes the blob lock of a batch until it ends. With wait false
 * it does not wait, and *taken (when not NULL) says whether it got the lock. */
enum wg_status wg_blob_lock(struct wg_dbconn *c, int64_t batch, bool wait, bool *taken);
/* Whether the batch has rows (its basic job). */
enum wg_status wg_batch_exists(struct wg_dbconn *c, int64_t batch, bool *exists);

#endif
