/* The replay of a batch's storage logs against the state tree (docs/tree.md).
 *
 * Each log carries its full merkle path, so the two roots it implies (old leaf folded up the path,
 * new leaf folded up the same path) depend on that log alone. They are computed first, spread over
 * threads when asked; only then is the chain old_root[0] == previous root, old_root[i] ==
 * new_root[i-1], ..., new_root[n-1] == new_root_hash checked in order. Splitting it this way lets
 * the 512 hashes per write run on every core, while the first broken link found is still the
 * earliest one in the batch, whatever the thread count. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "tree/tree.h"

/* Logs are handed out to threads in runs of this many: long enough (a write is 514 hashes, some
 * 80 us) that the shared counter costs nothing, short enough that threads finish within a fraction
 * of a millisecond of each other even when reads (one fold) and writes (two) are mixed unevenly or
 * a core is busy with something else. */
#define REPLAY_CHUNK 4
#define REPLAY_MAX_THREADS 64

#define HEX_ROOT_LEN (2 * WG_HASH_LEN + 3)

struct replay_work {
  const struct wg_storage_log *logs;
  size_t n;
  uint8_t (*old_roots)[WG_HASH_LEN];
  uint8_t (*new_roots)[WG_HASH_LEN];
  atomic_size_t next; /* first log not yet claimed by a thread */
};

/* The old leaf is the empty leaf E[0] for an insert and for a read of a missing key (leaf index 0);
 * otherwise the leaf as it was read. */
static void old_leaf_hash(const struct wg_storage_log *log, uint8_t out[WG_HASH_LEN])
{
  if (log->first_write || (!log->is_write && log->leaf_index == 0))
    memcpy(out, wg_tree_empty(0), WG_HASH_LEN);
  else
    wg_tree_leaf_hash(log->leaf_index, log->value_read, out);
}

static void log_roots(const struct wg_storage_log *log, uint8_t old_root[WG_HASH_LEN],
                      uint8_t new_root[WG_HASH_LEN])
{
  uint8_t leaf[WG_HASH_LEN];
  old_leaf_hash(log, leaf);
  wg_tree_fold(log->hashed_key, leaf, log->path, log->path_len, old_root);
  if (!log->is_write) {
    memcpy(new_root, old_root, WG_HASH_LEN);
    return;
  }
  wg_tree_leaf_hash(log->leaf_index, log->value_written, leaf);
  wg_tree_fold(log->hashed_key, leaf, log->path, log->path_len, new_root);
}

static void *replay_worker(void *arg)
{
  struct replay_work *w = arg;
  for (;;) {
    size_t start = atomic_fetch_add(&w->next, REPLAY_CHUNK);
    if (start >= w->n)
      break;
    size_t end = w->n - start < REPLAY_CHUNK ? w->n : start + REPLAY_CHUNK;
    for (size_t i = start; i < end; i++)
      log_roots(&w->logs[i], w->old_roots[i], w->new_roots[i]);
  }
  return NULL;
}

/* Runs replay_worker on the calling thread and up to threads - 1 more. A thread that cannot be
 * started only means less parallelism: the others, the caller included, claim its share. */
static void replay_compute_roots(struct replay_work *w, int threads)
{
  size_t chunks = (w->n + REPLAY_CHUNK - 1) / REPLAY_CHUNK;
  if (threads < 1)
    threads = 1;
  if (threads > REPLAY_MAX_THREADS)
    threads = REPLAY_MAX_THREADS;
  if ((size_t)threads > chunks) /* a batch of a few logs runs on the caller alone */
    threads = (int)chunks;

  pthread_t helpers[REPLAY_MAX_THREADS];
  int started = 0;
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&helpers[started], NULL, replay_worker, w) != 0)
      break;
    started++;
  }
  replay_worker(w);
  for (int t = 0; t < started; t++)
    pthread_join(helpers[t], NULL);
}

__attribute__((format(printf, 3, 4))) static void set_error(char *err, size_t err_len, const char *fmt, ...)
{
  if (err == NULL || err_len == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/* Walks the chain of roots in log order and reports the first broken link. */
static bool replay_check_chain(const uint8_t prev_root[WG_HASH_LEN], const struct replay_work *w,
                               const uint8_t new_root[WG_HASH_LEN], char *err, size_t err_len)
{
  char want[HEX_ROOT_LEN], got[HEX_ROOT_LEN];
  const uint8_t *current = prev_root;
  for (size_t i = 0; i < w->n; i++) {
    const struct wg_storage_log *log = &w->logs[i];
    if (log->is_write && log->leaf_index == 0) {
      set_error(err, err_len, "storage_logs[%zu]: write with leaf_index 0 (indices start at 1)", i);
      return false;
    }
    if (memcmp(w->old_roots[i], current, WG_HASH_LEN) != 0) {
      wg_hex_encode_0x(w->old_roots[i], WG_HASH_LEN, got);
      wg_hex_encode_0x(current, WG_HASH_LEN, want);
      set_error(err, err_len, "storage_logs[%zu]: path and old leaf give root %s, expected current root %s",
                i, got, want);
      return false;
    }
    if (log->has_root_hash && memcmp(log->root_hash, w->new_roots[i], WG_HASH_LEN) != 0) {
      wg_hex_encode_0x(log->root_hash, WG_HASH_LEN, want);
      wg_hex_encode_0x(w->new_roots[i], WG_HASH_LEN, got);
      set_error(err, err_len, "storage_logs[%zu]: root_hash %s does not match computed %s", i, want, got);
      return false;
    }
    current = w->new_roots[i];
  }
  if (memcmp(current, new_root, WG_HASH_LEN) != 0) {
    wg_hex_encode_0x(current, WG_HASH_LEN, got);
    wg_hex_encode_0x(new_root, WG_HASH_LEN, want);
    if (w->n > 0)
      set_error(err, err_len, "storage_logs[%zu]: final root %s does not match new_root_hash %s", w->n - 1,
                got, want);
    else
      set_error(err, err_len, "no storage_logs: final root %s does not match new_root_hash %s", got, want);
    return false;
  }
  return true;
}

bool wg_tree_replay(const uint8_t prev_root[WG_HASH_LEN], const struct wg_storage_log *logs, size_t n,
                    const uint8_t new_root[WG_HASH_LEN], int threads, uint8_t (*roots_after)[WG_HASH_LEN],
                    char *err, size_t err_len)
{
  struct replay_work w = {.logs = logs, .n = n};
  atomic_init(&w.next, 0);
  uint8_t(*roots)[WG_HASH_LEN] = NULL;
  if (n > 0) {
    roots = calloc(n, 2 * WG_HASH_LEN);
    if (roots == NULL) {
      set_error(err, err_len, "out of memory replaying %zu storage logs", n);
      return false;
    }
    w.old_roots = roots;
    w.new_roots = roots + n;
    replay_compute_roots(&w, threads);
  }

  bool ok = replay_check_chain(prev_root, &w, new_root, err, err_len);
  if (ok && roots_after != NULL && n > 0)
    memcpy(roots_after, w.new_roots, n * WG_HASH_LEN);
  free(roots);
  return ok;
}
