/* The batch lock: a transaction-level advisory lock keyed on the batch number. An upload and a
 * DELETE of a batch take it exclusively, for the whole of their work on rows and blobs; a round
 * takes it shared in the transaction that commits its layer. So a delete never interleaves with
 * a re-upload of the same batch (which would lose the new input) nor with a round's commit. */
#ifndef WG_DB_BATCH_LOCKS_H
#define WG_DB_BATCH_LOCKS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_batch_locks[];

/* Inside the caller's transaction: waits for and takes the lock of a batch until it ends. */
enum wg_status wg_batch_lock(struct wg_dbconn *c, int64_t batch, bool exclusive);
/* Whether the batch has rows (its basic job). */
enum wg_status wg_batch_exists(struct wg_dbconn *c, int64_t batch, bool *exists);

#endif
