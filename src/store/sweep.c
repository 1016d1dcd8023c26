/* Blob sweeps: see sweep.h. Removing a prefix is idempotent, so a sweep repeated after a failure
 * or by two daemons at once does no harm. */
#include "config.h"
#include "store/sweep.h"

#include <stdlib.h>

#include "common/fault.h"
#include "common/log.h"
#include "db/db.h"
#include "db/batch_locks.h"
#include "db/blob_sweeps.h"
#include "store/store.h"

/* The most batches one housekeeping pass sweeps; the rest wait for the next pass. */
#define SWEEP_BATCH_MAX 100

struct sweep_args {
  struct wg_store *store;
  int64_t batch;
  bool wait, swept;
};

static enum wg_status remove_blobs(struct wg_store *s, struct wg_dbconn *c, int64_t batch)
{
  char prefix[64];
  wg_key_batch_prefix(prefix, sizeof prefix, batch);
  /* Between the commit of a delete and the removal of its blobs: a crash here leaves them to the
   * sweeper, a stall here must hold no lock but the blob lock. */
  WG_FAULT("delete_blobs");
  return wg_store_delete_prefix(s, c, prefix);
}

static enum wg_status sweep_tx(struct wg_dbconn *c, void *arg)
{
  struct sweep_args *a = arg;
  bool taken = false, exists = true;
  a->swept = false;
  bool pending = false;
  enum wg_status s = wg_blob_lock(c, a->batch, a->wait, &taken);
  if (s != WG_OK || !taken)
    return s;
  /* Swept already, by another daemon's housekeeping or by a re-upload: nothing left to do. */
  s = wg_blob_sweep_is_pending(c, a->batch, &pending);
  if (s != WG_OK || !pending)
    return s;
  s = wg_batch_exists(c, a->batch, &exists);
  /* A batch uploaded again since: its upload found the old blobs and removed them first. */
  if (s == WG_OK && !exists) {
    s = remove_blobs(a->store, c, a->batch);
    a->swept = s == WG_OK;
  }
  if (s == WG_OK)
    s = wg_blob_sweep_done(c, a->batch);
  return s;
}

enum wg_status wg_sweep_batch(struct wg_store *s, struct wg_dbconn *c, int64_t batch, bool wait, bool *swept)
{
  struct sweep_args a = {s, batch, wait, false};
  enum wg_status st = wg_db_tx(c, sweep_tx, &a);
  if (swept != NULL)
    *swept = st == WG_OK && a.swept;
  return st;
}

enum wg_status wg_sweep_before_upload(struct wg_store *s, struct wg_dbconn *c, int64_t batch)
{
  bool pending = false;
  enum wg_status st = wg_blob_sweep_is_pending(c, batch, &pending);
  if (st != WG_OK || !pending)
    return st;
  wg_info("batch %lld: removing the blobs of its deleted incarnation before the new upload", (long long)batch);
  st = remove_blobs(s, c, batch);
  return st == WG_OK ? wg_blob_sweep_done(c, batch) : st;
}

enum wg_status wg_sweep_pending(struct wg_store *s, struct wg_dbconn *c, int *swept)
{
  int64_t *batches;
  int n;
  *swept = 0;
  enum wg_status st = wg_blob_sweep_pending(c, SWEEP_BATCH_MAX, &batches, &n);
  /* The pass ends at the first failure: with the store down, each removal could retry for
   * seconds, and the housekeeping steps after this one (expiring leases) must not wait for a
   * hundred of them. What is left goes at a later pass. */
  for (int i = 0; st == WG_OK && i < n; i++) {
    bool done = false;
    st = wg_sweep_batch(s, c, batches[i], false, &done);
    if (st != WG_OK)
      wg_warn("sweeper: the blobs of deleted batch %lld are left for a later pass: %s", (long long)batches[i],
              wg_status_name(st));
    if (done) {
      (*swept)++;
      wg_info("sweeper: removed the blobs of deleted batch %lld", (long long)batches[i]);
    }
  }
  free(batches);
  return st;
}
