/* The local pack cache of the stores that are not local files (s3://, postgres): --cache-dir
 * DIR holds the packs this daemon wrote, up to --cache-bytes in all, so that a witness download
 * or a round's read of a witness is a pread of its slice from a local file instead of a ranged
 * read from the store (docs/command-line.md).
 *
 * The same directory spools the packs being written: a round's pack goes to a temporary file
 * there, from which the backend uploads it (store.c), so no pack is ever held whole in memory;
 * once the store holds it, the file is renamed to its cache name and kept, or removed when
 * --cache-bytes is 0 or the pack alone is larger. A read that misses copies the pack in from the
 * store (in chunks, through a spool file), so that a daemon also serves from its cache the packs
 * other daemons wrote.
 *
 * Safety, why a cached slice is always the store's bytes:
 * - a file is complete before it has its cache name (temporary name, then rename), and is
 *   cached only after the store acknowledged the same bytes, or was read from the store;
 * - a pack's key holds a random pack id drawn by the run of the round that wrote it
 *   (wg_pack_id_new), so a cached file never answers for another incarnation of a batch;
 * - the cache is not made durable (no fsync: it is only a copy), so after a crash its files may
 *   be short or hold zeros. Rather than trust them, the daemon removes every file of the cache
 *   at start: the cache starts empty after every restart, and misses go to the store;
 * - a file whose size is not the size recorded when it was kept (truncated or replaced behind
 *   the daemon's back) is dropped at the read that finds it, and that read goes to the store;
 * - the directory is locked (flock on DIR/.lock): a second daemon given the same directory
 *   refuses to start rather than remove the first one's files.
 * Files are 0600 and the directory 0700, like the file store's. */
#ifndef WG_PACK_CACHE_H
#define WG_PACK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct wg_pack_cache;
struct wg_strbuf;

/* Opens (creating it 0700) and empties dir, keeping at most max_bytes of packs (0: spool only,
 * keep nothing). NULL on failure, with the reason in err. */
struct wg_pack_cache *wg_pack_cache_open(const char *dir, uint64_t max_bytes, char *err, size_t err_len);
void wg_pack_cache_close(struct wg_pack_cache *pc);

/* A new temporary file in the cache directory, open for reading and writing; its path goes to
 * path. -1 on failure, with the store's reason set. */
int wg_pack_cache_spool(struct wg_pack_cache *pc, char *path, size_t n);
/* Takes the complete spool file at path, whose store key is key and size size: renamed to the
 * key's cache name and kept, least recently used packs removed first to stay within the bound,
 * or removed when it cannot be kept. */
void wg_pack_cache_keep(struct wg_pack_cache *pc, const char *key, const char *path, uint64_t size);

/* Copying in a pack that this daemon did not write (another daemon did, or a previous run, or it
 * was evicted), on a read that missed: begin says whether the caller should copy it: false when
 * the cache keeps nothing, already holds the pack, or another thread is copying it (that
 * thread's readers go to the store meanwhile). A true begin is followed by end, copied saying
 * whether the whole pack was read and kept. fits: whether a pack of size bytes may be kept. */
bool wg_pack_cache_fill_begin(struct wg_pack_cache *pc, const char *key);
void wg_pack_cache_fill_end(struct wg_pack_cache *pc, const char *key, bool copied);
bool wg_pack_cache_fits(const struct wg_pack_cache *pc, uint64_t size);
/* Whether the cache keeps packs at all (--cache-bytes above 0); false for NULL. */
bool wg_pack_cache_keeps(const struct wg_pack_cache *pc);

/* The len bytes at offset of the pack key, malloc'd (NUL-terminated) into *data: WG_OK when the
 * cache holds the pack, whole; WG_E_NOT_FOUND otherwise (the caller reads the store). */
enum wg_status wg_pack_cache_read(struct wg_pack_cache *pc, const char *key, uint64_t offset, size_t len,
                                  uint8_t **data);
/* Forgets and removes every cached pack whose key starts with prefix (a deleted batch). */
void wg_pack_cache_drop_prefix(struct wg_pack_cache *pc, const char *prefix);

/* wg_pack_cache_hits_total, wg_pack_cache_misses_total, wg_pack_cache_evictions_total,
 * wg_pack_cache_invalid_total, wg_pack_cache_fills_total and wg_pack_cache_bytes for /metrics (the process's one cache;
 * zeros without one). */
void wg_pack_cache_metrics_render(struct wg_strbuf *b);

#endif
