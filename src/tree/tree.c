/* The zkSync Era state tree's hashes (docs/tree.md): empty subtrees, leaves, keys, and the fold
 * of a leaf up a merkle path to the root. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "tree/tree.h"

/* E[0..256], computed once by the first caller, read-only afterwards. */
static uint8_t empty_subtrees[WG_TREE_DEPTH + 1][WG_HASH_LEN];
static pthread_once_t empty_subtrees_once = PTHREAD_ONCE_INIT;

static void empty_subtrees_compute(void)
{
  static const uint8_t zero[WG_HASH_LEN];
  wg_tree_leaf_hash(0, zero, empty_subtrees[0]);
  for (int d = 0; d < WG_TREE_DEPTH; d++)
    wg_blake2s_pair(empty_subtrees[d], empty_subtrees[d], empty_subtrees[d + 1]);
}

const uint8_t *wg_tree_empty(int level)
{
  if (level < 0 || level > WG_TREE_DEPTH)
    return NULL;
  pthread_once(&empty_subtrees_once, empty_subtrees_compute);
  return empty_subtrees[level];
}

void wg_tree_leaf_hash(uint64_t leaf_index, const uint8_t value[WG_HASH_LEN], uint8_t out[WG_HASH_LEN])
{
  uint8_t buf[8 + WG_HASH_LEN];
  for (int i = 0; i < 8; i++)
    buf[i] = (uint8_t)(leaf_index >> (56 - 8 * i));
  memcpy(buf + 8, value, WG_HASH_LEN);
  wg_blake2s(buf, sizeof buf, out);
}

void wg_tree_hashed_key(const uint8_t address[20], const uint8_t slot[32], uint8_t out[WG_HASH_LEN])
{
  uint8_t buf[12 + 20 + 32] = {0};
  memcpy(buf + 12, address, 20);
  memcpy(buf + 32, slot, 32);
  wg_blake2s(buf, sizeof buf, out);
}

/* The side at level d is bit d of the key read as a little-endian 256-bit integer: byte 0 is the
 * least significant byte and, within a byte, bit 0 is the least significant bit, so bit d is
 * (key[d / 8] >> (d % 8)) & 1. This is the order that reproduces the published single-leaf root of
 * docs/tree.md (tests/unit/test_tree.c checks it); the other three byte/bit orders do not. */
static inline int key_bit(const uint8_t key[WG_HASH_LEN], int d)
{
  return (key[d / 8] >> (d % 8)) & 1;
}

void wg_tree_fold(const uint8_t key[WG_HASH_LEN], const uint8_t leaf[WG_HASH_LEN],
                  const uint8_t (*path)[WG_HASH_LEN], size_t path_len, uint8_t root[WG_HASH_LEN])
{
  const uint8_t(*empty)[WG_HASH_LEN] = (const uint8_t(*)[WG_HASH_LEN])wg_tree_empty(0);
  /* A path never lists more than the 256 levels; anything beyond is ignored rather than read. */
  int missing = path_len >= WG_TREE_DEPTH ? 0 : WG_TREE_DEPTH - (int)path_len;
  uint8_t node[WG_HASH_LEN];
  memcpy(node, leaf, WG_HASH_LEN);
  for (int d = 0; d < WG_TREE_DEPTH; d++) {
    const uint8_t *sibling = d < missing ? empty[d] : path[d - missing];
    /* wg_blake2s_pair reads both inputs before writing, so node can be both input and output. */
    if (key_bit(key, d))
      wg_blake2s_pair(sibling, node, node);
    else
      wg_blake2s_pair(node, sibling, node);
  }
  memcpy(root, node, WG_HASH_LEN);
}
