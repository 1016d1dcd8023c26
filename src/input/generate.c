/* The input generator. It keeps its own sparse tree as an uncompressed binary trie (one node per
 * level on each key's path, absent subtrees are the empty hashes E[h]), reads each log's merkle
 * path before applying it, and so produces inputs that the basic round replays exactly. */
#include "config.h"
#include "input/generate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tnode {
  uint8_t hash[WG_HASH_LEN];
  struct tnode *kid[2];
};

struct gen_key {
  uint8_t key[WG_HASH_LEN];
  uint64_t index;
  uint8_t value[WG_HASH_LEN];
};

static uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void random_bytes(uint64_t *s, uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = splitmix(s);
    memcpy(out + i, &v, n - i < 8 ? n - i : 8);
  }
}

static int bit(const uint8_t key[WG_HASH_LEN], int d) { return (key[d / 8] >> (d % 8)) & 1; }

static const uint8_t *hash_of(const struct tnode *n, int height)
{
  return n ? n->hash : wg_tree_empty(height);
}

/* Siblings of key's leaf, from the leaf level up; returns how many leading (leaf-level) ones are
 * empty subtrees and may be left out. */
static size_t path_of(const struct tnode *root, const uint8_t key[WG_HASH_LEN], uint8_t path[WG_TREE_DEPTH][WG_HASH_LEN])
{
  const struct tnode *n = root;
  for (int h = WG_TREE_DEPTH - 1; h >= 0; h--) {
    int b = bit(key, h);
    memcpy(path[h], hash_of(n ? n->kid[!b] : NULL, h), WG_HASH_LEN);
    n = n ? n->kid[b] : NULL;
  }
  /* Leaf-level siblings that are empty subtrees may be left out. */
  size_t skip = 0;
  while (skip < WG_TREE_DEPTH && memcmp(path[skip], wg_tree_empty((int)skip), WG_HASH_LEN) == 0)
    skip++;
  return skip;
}

/* Sets key's leaf hash and rehashes its path. Returns false when out of memory. */
static bool set_leaf(struct tnode *root, const uint8_t key[WG_HASH_LEN], const uint8_t leaf[WG_HASH_LEN])
{
  struct tnode *stack[WG_TREE_DEPTH + 1];
  struct tnode *n = root;
  stack[WG_TREE_DEPTH] = root;
  for (int h = WG_TREE_DEPTH - 1; h >= 0; h--) {
    int b = bit(key, h);
    if (n->kid[b] == NULL && (n->kid[b] = calloc(1, sizeof *n)) == NULL)
      return false;
    n = n->kid[b];
    stack[h] = n;
  }
  memcpy(stack[0]->hash, leaf, WG_HASH_LEN);
  for (int h = 1; h <= WG_TREE_DEPTH; h++) {
    struct tnode *p = stack[h];
    wg_blake2s_pair(hash_of(p->kid[0], h - 1), hash_of(p->kid[1], h - 1), p->hash);
  }
  return true;
}

static void free_tree(struct tnode *n)
{
  /* Recursion depth is bounded by the tree's 256 levels. */
  if (n == NULL)
    return;
  free_tree(n->kid[0]);
  free_tree(n->kid[1]);
  free(n);
}

bool wg_generate_input(const struct wg_gen_options *o, struct wg_input *out)
{
  memset(out, 0, sizeof *out);
  uint64_t seed = o->seed ^ (o->l1_batch_number * 0x100000001b3ULL);
  struct tnode *root = calloc(1, sizeof *root);
  size_t max_keys = o->initial_keys + o->logs + 1;
  struct gen_key *keys = calloc(max_keys, sizeof *keys);
  uint8_t(*path)[WG_HASH_LEN] = malloc(WG_TREE_DEPTH * WG_HASH_LEN);
  out->logs = calloc(o->logs + 1, sizeof *out->logs);
  out->paths = malloc((o->logs + 1) * WG_TREE_DEPTH * WG_HASH_LEN);
  bool ok = root && keys && path && out->logs && out->paths;
  if (ok)
    memcpy(root->hash, wg_tree_empty(WG_TREE_DEPTH), WG_HASH_LEN);
  size_t n_keys = 0;
  uint64_t next_index = 1;
  uint8_t leaf[WG_HASH_LEN];

  for (uint64_t i = 0; ok && i < o->initial_keys; i++) {
    struct gen_key *k = &keys[n_keys++];
    random_bytes(&seed, k->key, WG_HASH_LEN);
    random_bytes(&seed, k->value, WG_HASH_LEN);
    k->index = next_index++;
    wg_tree_leaf_hash(k->index, k->value, leaf);
    ok = set_leaf(root, k->key, leaf);
  }
  if (ok)
    memcpy(out->previous_root, root->hash, WG_HASH_LEN);

  size_t used = 0; /* siblings written to out->paths */
  for (uint64_t i = 0; ok && i < o->logs; i++) {
    struct wg_storage_log *log = &out->logs[i];
    uint64_t dice = splitmix(&seed) % 100;
    struct gen_key *k;
    if (dice < 55 || n_keys == 0) { /* first write of a new key */
      k = &keys[n_keys++];
      random_bytes(&seed, k->key, WG_HASH_LEN);
      k->index = next_index++;
      memset(k->value, 0, WG_HASH_LEN);
      log->is_write = log->first_write = true;
    } else if (dice < 80) { /* update */
      k = &keys[splitmix(&seed) % n_keys];
      log->is_write = true;
    } else if (dice < 95) { /* read of a present key */
      k = &keys[splitmix(&seed) % n_keys];
    } else { /* read of a missing key */
      k = NULL;
    }
    if (k != NULL) {
      memcpy(log->hashed_key, k->key, WG_HASH_LEN);
      log->leaf_index = k->index;
      memcpy(log->value_read, k->value, WG_HASH_LEN);
    } else {
      random_bytes(&seed, log->hashed_key, WG_HASH_LEN);
    }
    size_t skip = path_of(root, log->hashed_key, path);
    log->path_len = WG_TREE_DEPTH - skip;
    memcpy(out->paths[used], path[skip], log->path_len * WG_HASH_LEN);
    log->path = (const uint8_t(*)[WG_HASH_LEN])out->paths[used];
    used += log->path_len;
    if (log->is_write) {
      random_bytes(&seed, log->value_written, WG_HASH_LEN);
      memcpy(k->value, log->value_written, WG_HASH_LEN);
      wg_tree_leaf_hash(k->index, k->value, leaf);
      ok = set_leaf(root, k->key, leaf);
    }
    log->has_root_hash = i % 2 == 0;
    if (ok)
      memcpy(log->root_hash, root->hash, WG_HASH_LEN);
  }
  if (ok) {
    memcpy(out->new_root, root->hash, WG_HASH_LEN);
    out->n_logs = (size_t)o->logs;
    out->l1_batch_number = o->l1_batch_number;
    out->protocol_version = o->protocol_version;
    memcpy(out->workload, o->workload, sizeof out->workload);
    out->workload[WG_STORAGE_APPLICATION_ID] = o->logs;
  }
  free_tree(root);
  free(keys);
  free(path);
  if (!ok)
    wg_input_free(out);
  return ok;
}

bool wg_generate_parse_workload(const char *spec, uint32_t protocol_version, uint64_t workload[WG_MAX_CIRCUIT_ID + 1],
                                char *err, size_t err_len)
{
  char *copy = strdup(spec), *save = NULL;
  bool ok = copy != NULL;
  for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; ok && item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (eq == NULL) {
      snprintf(err, err_len, "workload entry \"%s\" is not key=value", item);
      ok = false;
      break;
    }
    *eq = '\0';
    const struct wg_circuit_type *t = wg_circuit_by_key(protocol_version, item);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (t == NULL || t->id == WG_STORAGE_APPLICATION_ID) {
      snprintf(err, err_len, "unknown workload key \"%s\" (storage_application comes from --logs)", item);
      ok = false;
    } else if (errno != 0 || *end != '\0' || eq[1] == '\0' || eq[1] == '-') {
      snprintf(err, err_len, "workload %s needs a non-negative integer", item);
      ok = false;
    } else {
      workload[t->id] = v;
    }
  }
  free(copy);
  return ok;
}
