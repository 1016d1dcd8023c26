/* Removing the blobs of deleted batches, after the rows are gone and outside the transaction that
 * removed them: a store call (an S3 one can retry for seconds) is never made while a batch lock or
 * a row lock is held. The blob lock (db/batch_locks.h) keeps such a removal from racing an upload
 * of the same batch number, whose input is written before its row commits. */
#ifndef WG_STORE_SWEEP_H
#define WG_STORE_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"

struct wg_dbconn;
struct wg_store;

/* In its own transaction on c (none may be open): under the blob lock, if the batch is still in
 * blob_sweeps, removes the batch's prefix if the batch has no rows, and drops it from blob_sweeps. With wait false a batch whose blob lock
 * is held elsewhere is skipped (*swept false); with wait true the call waits for the lock. */
enum wg_status wg_sweep_batch(struct wg_store *s, struct wg_dbconn *c, int64_t batch, bool wait, bool *swept);

/* Inside the caller's transaction, which holds the batch's blob lock and has checked that the
 * batch has no rows (an upload about to write its input): finishes a deletion of an earlier
 * incarnation of the batch whose blobs are still in the store. */
enum wg_status wg_sweep_before_upload(struct wg_store *s, struct wg_dbconn *c, int64_t batch);

/* The housekeeping step: sweeps the batches left in blob_sweeps by a deletion that did not finish
 * (a crash between the commit and the blob removal, a store that was unavailable), skipping those
 * being swept right now, and stopping at the first failure. *swept counts the batches whose blobs
 * were removed. */
enum wg_status wg_sweep_pending(struct wg_store *s, struct wg_dbconn *c, int *swept);

#endif
