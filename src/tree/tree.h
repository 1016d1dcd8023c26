/* The zkSync Era state tree (docs/tree.md): a sparse binary Merkle tree of depth 256 hashed with
 * BLAKE2s-256, and the replay of a batch's storage logs against it.
 *
 * Pure computation: no I/O, no allocation visible to callers except where documented. */
#ifndef WG_TREE_H
#define WG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_HASH_LEN 32
#define WG_TREE_DEPTH 256

/* BLAKE2s-256 of data (no key, salt or personalisation). Safe from any thread. */
void wg_blake2s(const void *data, size_t len, uint8_t out[WG_HASH_LEN]);
/* BLAKE2s-256 of the 64 bytes left || right: the internal node hash. */
void wg_blake2s_pair(const uint8_t left[WG_HASH_LEN], const uint8_t right[WG_HASH_LEN],
                     uint8_t out[WG_HASH_LEN]);

/* E[level] for level 0..256: the hash of an empty subtree whose root sits `level` above the
 * leaves. E[0] is the empty leaf, E[256] the empty tree's root. */
const uint8_t *wg_tree_empty(int level);

/* H(index as u64 big-endian || value). */
void wg_tree_leaf_hash(uint64_t leaf_index, const uint8_t value[WG_HASH_LEN], uint8_t out[WG_HASH_LEN]);

/* The key of (address, slot): H(12 zero bytes || address || slot). */
void wg_tree_hashed_key(const uint8_t address[20], const uint8_t slot[32], uint8_t out[WG_HASH_LEN]);

/* Folds a leaf hash up to the root along a merkle path. `path` lists path_len <= 256 siblings from
 * the leaf level upwards; the 256 - path_len missing leaf-level siblings are empty subtrees.
 * The side at level d is bit d of the key read as a little-endian 256-bit integer. */
void wg_tree_fold(const uint8_t key[WG_HASH_LEN], const uint8_t leaf[WG_HASH_LEN],
                  const uint8_t (*path)[WG_HASH_LEN], size_t path_len, uint8_t root[WG_HASH_LEN]);

/* One storage access of a batch (docs/input-format.md). */
struct wg_storage_log {
  uint8_t hashed_key[WG_HASH_LEN];
  uint64_t leaf_index;
  bool is_write;
  bool first_write;
  uint8_t value_read[WG_HASH_LEN];
  uint8_t value_written[WG_HASH_LEN];
  const uint8_t (*path)[WG_HASH_LEN]; /* path_len siblings, leaf level first; not owned */
  size_t path_len;
  bool has_root_hash;
  uint8_t root_hash[WG_HASH_LEN]; /* the root after this log, when has_root_hash */
};

/* Replays logs[0..n) from prev_root, in order. For each log it checks that the path and the old
 * leaf hash to the current root and, for a write, computes the new root from the new leaf and the
 * same path. The root after the last log must equal new_root.
 *
 * roots_after, when not NULL, receives n entries: the root after each log.
 * threads > 1 spreads the folds over that many threads (each log's two folds are independent of
 * the others; only the chaining check is sequential).
 *
 * Returns true on success. On a mismatch returns false and writes into err a message that names
 * the log's position (0-based) and both roots, e.g.
 * "storage_logs[3]: path and old leaf give root 0x..., expected current root 0x...". */
bool wg_tree_replay(const uint8_t prev_root[WG_HASH_LEN], const struct wg_storage_log *logs, size_t n,
                    const uint8_t new_root[WG_HASH_LEN], int threads, uint8_t (*roots_after)[WG_HASH_LEN],
                    char *err, size_t err_len);

#endif
