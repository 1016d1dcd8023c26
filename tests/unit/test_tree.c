/* Unit tests for src/tree: BLAKE2s against OpenSSL, the published values of docs/tree.md, and the
 * fold and replay against an independent whole-tree model.
 *
 * The model below shares no code with src/tree: it hashes through OpenSSL's EVP, builds its own
 * table of empty subtrees, and computes roots and merkle paths by recursing over the whole set of
 * (key, leaf) entries, so a wrong side, level or path convention in src/tree cannot hide behind the
 * same mistake here. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "tree/tree.h"

#define HEX_ROOT_LEN (2 * WG_HASH_LEN + 3)

/* ---- Reference hashing through OpenSSL ---------------------------------------------------- */

static EVP_MD *ref_md;
static EVP_MD_CTX *ref_ctx;
static uint8_t ref_empty[WG_TREE_DEPTH + 1][WG_HASH_LEN];

/* The model hashes millions of times; a passing ck_assert costs a write to check's log, so the
 * hot paths below only call into check when something is wrong. */
static void ref_hash(const void *data, size_t len, uint8_t out[WG_HASH_LEN])
{
  unsigned int out_len = 0;
  if (EVP_DigestInit_ex2(ref_ctx, ref_md, NULL) != 1 || EVP_DigestUpdate(ref_ctx, data, len) != 1 ||
      EVP_DigestFinal_ex(ref_ctx, out, &out_len) != 1 || out_len != WG_HASH_LEN)
    ck_abort_msg("OpenSSL BLAKE2S-256 failed");
}

static void ref_pair(const uint8_t left[WG_HASH_LEN], const uint8_t right[WG_HASH_LEN], uint8_t out[WG_HASH_LEN])
{
  uint8_t buf[2 * WG_HASH_LEN];
  memcpy(buf, left, WG_HASH_LEN);
  memcpy(buf + WG_HASH_LEN, right, WG_HASH_LEN);
  ref_hash(buf, sizeof buf, out);
}

static void ref_leaf(uint64_t index, const uint8_t value[WG_HASH_LEN], uint8_t out[WG_HASH_LEN])
{
  uint8_t buf[8 + WG_HASH_LEN];
  for (int i = 7; i >= 0; i--, index >>= 8)
    buf[i] = (uint8_t)(index & 0xff);
  memcpy(buf + 8, value, WG_HASH_LEN);
  ref_hash(buf, sizeof buf, out);
}

static void ref_setup(void)
{
  ref_md = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
  ref_ctx = EVP_MD_CTX_new();
  ck_assert_ptr_nonnull(ref_md);
  ck_assert_ptr_nonnull(ref_ctx);
  uint8_t zero[8 + WG_HASH_LEN] = {0};
  ref_hash(zero, sizeof zero, ref_empty[0]);
  for (int d = 0; d < WG_TREE_DEPTH; d++)
    ref_pair(ref_empty[d], ref_empty[d], ref_empty[d + 1]);
}

static void ref_teardown(void)
{
  EVP_MD_CTX_free(ref_ctx);
  EVP_MD_free(ref_md);
  ref_ctx = NULL;
  ref_md = NULL;
}

/* Position bit d of a key read as a little-endian 256-bit integer: the lowest byte first. */
static int ref_key_bit(const uint8_t key[WG_HASH_LEN], int d)
{
  uint8_t byte = key[d >> 3];
  return (byte & (1u << (d & 7))) != 0;
}

/* Folds with a path given as all 256 siblings. */
static void ref_fold_full(const uint8_t key[WG_HASH_LEN], const uint8_t leaf[WG_HASH_LEN],
                          const uint8_t (*path)[WG_HASH_LEN], uint8_t root[WG_HASH_LEN])
{
  uint8_t node[WG_HASH_LEN];
  memcpy(node, leaf, WG_HASH_LEN);
  for (int d = 0; d < WG_TREE_DEPTH; d++) {
    if (ref_key_bit(key, d))
      ref_pair(path[d], node, node);
    else
      ref_pair(node, path[d], node);
  }
  memcpy(root, node, WG_HASH_LEN);
}

/* Folds a possibly shortened path by first restoring its missing leaf-level entries. */
static void ref_fold(const uint8_t key[WG_HASH_LEN], const uint8_t leaf[WG_HASH_LEN],
                     const uint8_t (*path)[WG_HASH_LEN], size_t path_len, uint8_t root[WG_HASH_LEN])
{
  static uint8_t full[WG_TREE_DEPTH][WG_HASH_LEN];
  size_t missing = WG_TREE_DEPTH - path_len;
  memcpy(full, ref_empty, missing * WG_HASH_LEN);
  memcpy(full[missing], path, path_len * WG_HASH_LEN);
  ref_fold_full(key, leaf, (const uint8_t(*)[WG_HASH_LEN])full, root);
}

static void hex0x(const uint8_t h[WG_HASH_LEN], char out[HEX_ROOT_LEN])
{
  wg_hex_encode_0x(h, WG_HASH_LEN, out);
}

static void from_hex(const char *hex, uint8_t *out, size_t len)
{
  char buf[2 * 64 + 3];
  ck_assert(snprintf(buf, sizeof buf, "0x%s", hex) < (int)sizeof buf);
  ck_assert(wg_hex_decode_fixed(buf, out, len));
}

/* ---- Deterministic randomness ---------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned bound)
{
  return (unsigned)(rng_next(s) % bound);
}

static void rng_bytes(uint64_t *s, uint8_t *out, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)rng_next(s);
}

/* ---- The independent whole-tree model --------------------------------------------------------- */

#define MODEL_MAX 64

struct model_entry {
  uint8_t key[WG_HASH_LEN];
  uint64_t index;
  uint8_t value[WG_HASH_LEN];
};

struct model {
  struct model_entry e[MODEL_MAX];
  size_t n;
  uint64_t next_index;
};

/* The root of the subtree of height `height` holding exactly the entries set[0..count); all share
 * the key bits above that height. Reorders set. */
static void model_subtree(const struct model_entry **set, size_t count, int height, uint8_t out[WG_HASH_LEN])
{
  if (count == 0) {
    memcpy(out, ref_empty[height], WG_HASH_LEN);
    return;
  }
  if (height == 0) {
    if (count != 1)
      ck_abort_msg("model: %zu entries share one key", count);
    ref_leaf(set[0]->index, set[0]->value, out);
    return;
  }
  /* Entries whose bit height-1 is clear go left, the rest right. */
  size_t left = 0;
  for (size_t i = 0; i < count; i++) {
    if (!ref_key_bit(set[i]->key, height - 1)) {
      const struct model_entry *t = set[left];
      set[left++] = set[i];
      set[i] = t;
    }
  }
  uint8_t l[WG_HASH_LEN], r[WG_HASH_LEN];
  model_subtree(set, left, height - 1, l);
  model_subtree(set + left, count - left, height - 1, r);
  ref_pair(l, r, out);
}

static void model_root(const struct model *m, uint8_t out[WG_HASH_LEN])
{
  const struct model_entry *set[MODEL_MAX];
  for (size_t i = 0; i < m->n; i++)
    set[i] = &m->e[i];
  model_subtree(set, m->n, WG_TREE_DEPTH, out);
}

/* All 256 siblings of key's position, leaf level first. An entry lands in the sibling subtree of
 * the highest level at which its key differs from `key`. */
static void model_path(const struct model *m, const uint8_t key[WG_HASH_LEN], uint8_t (*path)[WG_HASH_LEN])
{
  const struct model_entry *bucket[WG_TREE_DEPTH][MODEL_MAX];
  size_t count[WG_TREE_DEPTH] = {0};
  for (size_t i = 0; i < m->n; i++) {
    int level = -1;
    for (int d = WG_TREE_DEPTH - 1; d >= 0 && level < 0; d--)
      if (ref_key_bit(m->e[i].key, d) != ref_key_bit(key, d))
        level = d;
    if (level >= 0)
      bucket[level][count[level]++] = &m->e[i];
  }
  for (int d = 0; d < WG_TREE_DEPTH; d++)
    model_subtree(bucket[d], count[d], d, path[d]);
}

static struct model_entry *model_find(struct model *m, const uint8_t key[WG_HASH_LEN])
{
  for (size_t i = 0; i < m->n; i++)
    if (memcmp(m->e[i].key, key, WG_HASH_LEN) == 0)
      return &m->e[i];
  return NULL;
}

/* A key not yet in the model: either fresh, or an existing key with one bit flipped (mostly a low
 * bit, so the two share a long path and the siblings near the leaves are not all empty). */
static void model_new_key(struct model *m, uint64_t *rng, uint8_t key[WG_HASH_LEN])
{
  do {
    if (m->n > 0 && rng_below(rng, 2) == 0) {
      memcpy(key, m->e[rng_below(rng, (unsigned)m->n)].key, WG_HASH_LEN);
      int bit = rng_below(rng, 2) ? (int)rng_below(rng, 16) : (int)rng_below(rng, WG_TREE_DEPTH);
      key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    } else {
      rng_bytes(rng, key, WG_HASH_LEN);
    }
  } while (model_find(m, key) != NULL);
}

static void model_insert(struct model *m, uint64_t *rng)
{
  ck_assert_uint_lt(m->n, MODEL_MAX);
  struct model_entry *e = &m->e[m->n];
  model_new_key(m, rng, e->key);
  e->index = m->next_index++;
  rng_bytes(rng, e->value, WG_HASH_LEN);
  m->n++;
}

/* ---- Scenarios: a starting tree and a batch of logs replayed on the model ---------------------- */

#define SCENARIO_MAX_LOGS 40

enum op_kind { OP_INSERT, OP_UPDATE, OP_READ, OP_READ_MISSING, OP_KINDS };

struct scenario {
  uint8_t prev_root[WG_HASH_LEN];
  uint8_t final_root[WG_HASH_LEN];
  size_t n;
  struct wg_storage_log logs[SCENARIO_MAX_LOGS];
  enum op_kind kind[SCENARIO_MAX_LOGS];
  uint8_t root_before[SCENARIO_MAX_LOGS][WG_HASH_LEN];
  uint8_t root_after[SCENARIO_MAX_LOGS][WG_HASH_LEN];
  uint8_t paths[SCENARIO_MAX_LOGS][WG_TREE_DEPTH][WG_HASH_LEN];
  size_t shortened; /* how many logs had leaf-level entries dropped */
};

enum path_shape { PATH_FULL, PATH_SHORTEST, PATH_RANDOM };

/* Points log->path at the full path minus some of its leading empty-subtree entries. */
static size_t scenario_shorten(struct wg_storage_log *log, uint8_t (*full)[WG_HASH_LEN], enum path_shape shape,
                               uint64_t *rng)
{
  size_t droppable = 0;
  while (droppable < WG_TREE_DEPTH && memcmp(full[droppable], ref_empty[droppable], WG_HASH_LEN) == 0)
    droppable++;
  size_t drop = shape == PATH_FULL ? 0 : shape == PATH_SHORTEST ? droppable : rng_below(rng, (unsigned)droppable + 1);
  log->path = (const uint8_t(*)[WG_HASH_LEN])full[drop];
  log->path_len = WG_TREE_DEPTH - drop;
  return drop;
}

static struct scenario *scenario_build(uint64_t seed, size_t initial, size_t n, enum path_shape shape)
{
  uint64_t rng = seed;
  struct scenario *s = calloc(1, sizeof *s);
  struct model *m = calloc(1, sizeof *m);
  ck_assert_ptr_nonnull(s);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_le(n, SCENARIO_MAX_LOGS);
  m->next_index = 1;
  for (size_t i = 0; i < initial; i++)
    model_insert(m, &rng);
  model_root(m, s->prev_root);
  memcpy(s->final_root, s->prev_root, WG_HASH_LEN);

  s->n = n;
  for (size_t i = 0; i < n; i++) {
    struct wg_storage_log *log = &s->logs[i];
    /* Every kind twice first (in an order that depends on the seed), then at random. */
    enum op_kind kind = i < 2 * OP_KINDS ? (enum op_kind)((i + seed) % OP_KINDS) : (enum op_kind)rng_below(&rng, OP_KINDS);
    if (m->n == 0 && (kind == OP_UPDATE || kind == OP_READ))
      kind = OP_INSERT;
    s->kind[i] = kind;
    memcpy(s->root_before[i], s->final_root, WG_HASH_LEN);

    struct model_entry *e = NULL;
    if (kind == OP_INSERT || kind == OP_READ_MISSING) {
      model_new_key(m, &rng, log->hashed_key);
    } else {
      e = &m->e[rng_below(&rng, (unsigned)m->n)];
      memcpy(log->hashed_key, e->key, WG_HASH_LEN);
    }
    model_path(m, log->hashed_key, s->paths[i]);
    if (scenario_shorten(log, s->paths[i], shape, &rng) > 0)
      s->shortened++;

    switch (kind) {
    case OP_INSERT:
      log->is_write = log->first_write = true;
      log->leaf_index = m->next_index;
      rng_bytes(&rng, log->value_written, WG_HASH_LEN);
      ck_assert_uint_lt(m->n, MODEL_MAX);
      e = &m->e[m->n++];
      memcpy(e->key, log->hashed_key, WG_HASH_LEN);
      e->index = m->next_index++;
      memcpy(e->value, log->value_written, WG_HASH_LEN);
      break;
    case OP_UPDATE:
      log->is_write = true;
      log->leaf_index = e->index;
      memcpy(log->value_read, e->value, WG_HASH_LEN);
      rng_bytes(&rng, log->value_written, WG_HASH_LEN);
      memcpy(e->value, log->value_written, WG_HASH_LEN);
      break;
    case OP_READ:
      log->leaf_index = e->index;
      memcpy(log->value_read, e->value, WG_HASH_LEN);
      break; /* value_written stays zero, as docs/input-format.md has it for reads */
    case OP_READ_MISSING:
    case OP_KINDS:
      break; /* leaf_index 0, both values 0 */
    }
    model_root(m, s->final_root);
    memcpy(s->root_after[i], s->final_root, WG_HASH_LEN);
    log->has_root_hash = rng_below(&rng, 2) == 0;
    if (log->has_root_hash)
      memcpy(log->root_hash, s->final_root, WG_HASH_LEN);
  }
  free(m);
  return s;
}

/* The last log of a kind, so that failures are reported at a position past 0. */
static size_t scenario_last(const struct scenario *s, enum op_kind kind)
{
  for (size_t i = s->n; i-- > 0;)
    if (s->kind[i] == kind)
      return i;
  ck_abort_msg("scenario has no log of kind %d", (int)kind);
  return 0;
}

/* The old leaf exactly as the replay should derive it from a (possibly tampered) log. */
static void scenario_old_leaf(const struct wg_storage_log *log, uint8_t out[WG_HASH_LEN])
{
  if (log->first_write || (!log->is_write && log->leaf_index == 0))
    memcpy(out, ref_empty[0], WG_HASH_LEN);
  else
    ref_leaf(log->leaf_index, log->value_read, out);
}

/* Runs the replay with 1 and 2 threads, expecting success and the model's roots. */
static void expect_success(const struct scenario *s)
{
  static const int thread_counts[] = {1, 2, 0, 3, 64};
  uint8_t(*roots)[WG_HASH_LEN] = calloc(s->n + 1, WG_HASH_LEN);
  ck_assert_ptr_nonnull(roots);
  for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
    char err[512] = "";
    memset(roots, 0xee, (s->n + 1) * WG_HASH_LEN);
    bool ok = wg_tree_replay(s->prev_root, s->logs, s->n, s->final_root, thread_counts[t], roots, err, sizeof err);
    ck_assert_msg(ok, "threads=%d: %s", thread_counts[t], err);
    ck_assert_mem_eq(roots, s->root_after, s->n * WG_HASH_LEN);
    ck_assert_uint_eq(roots[s->n][0], 0xee); /* nothing written past n entries */
  }
  free(roots);
}

/* Runs the replay with 1 and 2 threads, expecting the same failure naming position pos and both
 * roots. */
static void expect_failure(const struct scenario *s, const uint8_t prev_root[WG_HASH_LEN],
                           const uint8_t new_root[WG_HASH_LEN], size_t pos, const uint8_t root_a[WG_HASH_LEN],
                           const uint8_t root_b[WG_HASH_LEN])
{
  char err1[512] = "", err2[512] = "", prefix[64], hex_a[HEX_ROOT_LEN], hex_b[HEX_ROOT_LEN];
  ck_assert(!wg_tree_replay(prev_root, s->logs, s->n, new_root, 1, NULL, err1, sizeof err1));
  ck_assert(!wg_tree_replay(prev_root, s->logs, s->n, new_root, 2, NULL, err2, sizeof err2));
  ck_assert_str_eq(err1, err2);
  snprintf(prefix, sizeof prefix, "storage_logs[%zu]: ", pos);
  ck_assert_msg(strncmp(err1, prefix, strlen(prefix)) == 0, "expected \"%s...\", got \"%s\"", prefix, err1);
  if (root_a != NULL) {
    hex0x(root_a, hex_a);
    hex0x(root_b, hex_b);
    ck_assert_msg(memcmp(root_a, root_b, WG_HASH_LEN) != 0, "the test's two roots should differ");
    ck_assert_msg(strstr(err1, hex_a) != NULL, "\"%s\" lacks %s", err1, hex_a);
    ck_assert_msg(strstr(err1, hex_b) != NULL, "\"%s\" lacks %s", err1, hex_b);
  }
}

/* Expects the chain to break at log i because its old root no longer matches the current one. */
static void expect_old_root_mismatch(const struct scenario *s, size_t i)
{
  uint8_t leaf[WG_HASH_LEN], got[WG_HASH_LEN];
  const struct wg_storage_log *log = &s->logs[i];
  scenario_old_leaf(log, leaf);
  ref_fold(log->hashed_key, leaf, log->path, log->path_len, got);
  expect_failure(s, s->prev_root, s->final_root, i, got, s->root_before[i]);
  char err[512];
  ck_assert(!wg_tree_replay(s->prev_root, s->logs, s->n, s->final_root, 1, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, "path and old leaf give root") != NULL, "%s", err);
}

#define SCENARIO_SEEDS 3

/* ---- Tests --------------------------------------------------------------------------------------- */

START_TEST(blake2s_rfc7693_vector)
{
  uint8_t got[WG_HASH_LEN], want[WG_HASH_LEN];
  from_hex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", want, WG_HASH_LEN);
  wg_blake2s("abc", 3, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN);
}
END_TEST

START_TEST(blake2s_matches_openssl)
{
  static const size_t long_lengths[] = {511, 512, 513, 1000, 4096, 4097, 65537};
  uint64_t rng = 7;
  size_t max = 65537;
  uint8_t *buf = malloc(max);
  ck_assert_ptr_nonnull(buf);
  for (size_t len = 0; len < 300 + sizeof long_lengths / sizeof long_lengths[0]; len++) {
    size_t n = len < 300 ? len : long_lengths[len - 300];
    for (int round = 0; round < 3; round++) {
      uint8_t got[WG_HASH_LEN], want[WG_HASH_LEN];
      rng_bytes(&rng, buf, n);
      wg_blake2s(buf, n, got);
      ref_hash(buf, n, want);
      if (memcmp(got, want, WG_HASH_LEN) != 0)
        ck_abort_msg("length %zu differs from OpenSSL", n);
    }
  }
  free(buf);
}
END_TEST

START_TEST(blake2s_pair_matches_openssl)
{
  uint64_t rng = 11;
  for (int round = 0; round < 1000; round++) {
    uint8_t l[WG_HASH_LEN], r[WG_HASH_LEN], got[WG_HASH_LEN], want[WG_HASH_LEN];
    rng_bytes(&rng, l, WG_HASH_LEN);
    rng_bytes(&rng, r, WG_HASH_LEN);
    wg_blake2s_pair(l, r, got);
    ref_pair(l, r, want);
    if (memcmp(got, want, WG_HASH_LEN) != 0)
      ck_abort_msg("pair %d differs from OpenSSL", round);
    /* The output may alias an input. */
    wg_blake2s_pair(l, r, l);
    if (memcmp(l, want, WG_HASH_LEN) != 0)
      ck_abort_msg("pair %d differs when written over its left input", round);
  }
}
END_TEST

START_TEST(empty_subtrees_published)
{
  uint8_t e0[WG_HASH_LEN], root[WG_HASH_LEN];
  from_hex("94bb15542026f4f607416f019dffe21bb39bbb32cc92085ab615660a6b5fbef4", e0, WG_HASH_LEN);
  from_hex("98a48e4ed1736188384ae8a79dd21c4d6687e5fd22ca18148906d78736c0d86a", root, WG_HASH_LEN);
  ck_assert_mem_eq(wg_tree_empty(0), e0, WG_HASH_LEN);
  ck_assert_mem_eq(wg_tree_empty(WG_TREE_DEPTH), root, WG_HASH_LEN);
  for (int d = 0; d <= WG_TREE_DEPTH; d++)
    ck_assert_msg(memcmp(wg_tree_empty(d), ref_empty[d], WG_HASH_LEN) == 0, "E[%d] differs", d);
  ck_assert_ptr_null(wg_tree_empty(-1));
  ck_assert_ptr_null(wg_tree_empty(WG_TREE_DEPTH + 1));
}
END_TEST

static void *empty_root_thread(void *arg)
{
  memcpy(arg, wg_tree_empty(WG_TREE_DEPTH), WG_HASH_LEN);
  return NULL;
}

/* The first calls race each other (each check test runs in a fresh process). */
START_TEST(empty_subtrees_first_use_from_threads)
{
  pthread_t t[4];
  uint8_t got[4][WG_HASH_LEN];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, empty_root_thread, got[i]), 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    ck_assert_mem_eq(got[i], ref_empty[WG_TREE_DEPTH], WG_HASH_LEN);
  }
}
END_TEST

START_TEST(leaf_and_key_layout)
{
  uint64_t rng = 5;
  uint8_t zero[WG_HASH_LEN] = {0}, got[WG_HASH_LEN], want[WG_HASH_LEN];
  wg_tree_leaf_hash(0, zero, got);
  ck_assert_mem_eq(got, ref_empty[0], WG_HASH_LEN);
  for (int round = 0; round < 50; round++) {
    uint8_t value[WG_HASH_LEN], address[20], slot[32], buf[64] = {0};
    uint64_t index = rng_next(&rng) >> rng_below(&rng, 64);
    rng_bytes(&rng, value, sizeof value);
    wg_tree_leaf_hash(index, value, got);
    for (int i = 0; i < 8; i++)
      buf[i] = (uint8_t)(index >> (56 - 8 * i));
    memcpy(buf + 8, value, WG_HASH_LEN);
    ref_hash(buf, 40, want);
    ck_assert_mem_eq(got, want, WG_HASH_LEN);

    rng_bytes(&rng, address, sizeof address);
    rng_bytes(&rng, slot, sizeof slot);
    wg_tree_hashed_key(address, slot, got);
    memset(buf, 0, sizeof buf);
    memcpy(buf + 12, address, 20);
    memcpy(buf + 32, slot, 32);
    ref_hash(buf, 64, want);
    ck_assert_mem_eq(got, want, WG_HASH_LEN);
  }
}
END_TEST

/* docs/tree.md: a tree holding only address 4b3a..., slot 0, leaf index 1, value 32 x 0x01. */
START_TEST(single_leaf_published_root)
{
  uint8_t address[20], slot[32] = {0}, value[WG_HASH_LEN], key[WG_HASH_LEN], leaf[WG_HASH_LEN];
  uint8_t want[WG_HASH_LEN], got[WG_HASH_LEN];
  from_hex("4b3af74f66ab1f0da3f2e4ec7a3cb99baf1af7b2", address, 20);
  from_hex("7f00a6b2eede960857703c8cb9e96f28b910e6693412cea4b006f24239b681e0", want, WG_HASH_LEN);
  memset(value, 0x01, sizeof value);
  wg_tree_hashed_key(address, slot, key);
  wg_tree_leaf_hash(1, value, leaf);

  wg_tree_fold(key, leaf, NULL, 0, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN);
  ref_fold_full(key, leaf, (const uint8_t(*)[WG_HASH_LEN])ref_empty, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN); /* the test's own key-bit order agrees */
  wg_tree_fold(key, leaf, (const uint8_t(*)[WG_HASH_LEN])ref_empty, WG_TREE_DEPTH, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN);

  /* The same tree reached by replaying its insert from the empty tree. */
  struct wg_storage_log log = {.leaf_index = 1, .is_write = true, .first_write = true, .has_root_hash = true};
  memcpy(log.hashed_key, key, WG_HASH_LEN);
  memcpy(log.value_written, value, WG_HASH_LEN);
  memcpy(log.root_hash, want, WG_HASH_LEN);
  uint8_t roots[1][WG_HASH_LEN];
  char err[256] = "";
  ck_assert_msg(wg_tree_replay(ref_empty[WG_TREE_DEPTH], &log, 1, want, 1, roots, err, sizeof err), "%s", err);
  ck_assert_mem_eq(roots[0], want, WG_HASH_LEN);
}
END_TEST

/* The intermediate values docs/tree.md publishes for the single-leaf tree, so that a tree service
 * can find which step of its own hashing differs. */
START_TEST(published_intermediate_values)
{
  uint8_t address[20], slot[32] = {0}, value[WG_HASH_LEN], got[WG_HASH_LEN], want[WG_HASH_LEN];
  from_hex("7952661ab5d63534c5ea72f81887d8dd6bf514b14c8e9fb714b6feb02efb96a0", want, WG_HASH_LEN);
  ck_assert_mem_eq(wg_tree_empty(1), want, WG_HASH_LEN);
  from_hex("4b3af74f66ab1f0da3f2e4ec7a3cb99baf1af7b2", address, 20);
  from_hex("4dfb6d227f21179e7a255de41f3dc11059e420996a9129c60abe88965d96aa5d", want, WG_HASH_LEN);
  wg_tree_hashed_key(address, slot, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN);
  memset(value, 0x01, sizeof value);
  from_hex("52f28950612240cb4fb218fbf6df83f6dbe271c056900b11966cfb9404c1dce0", want, WG_HASH_LEN);
  wg_tree_leaf_hash(1, value, got);
  ck_assert_mem_eq(got, want, WG_HASH_LEN);
}
END_TEST

START_TEST(fold_matches_reference)
{
  uint64_t rng = 13;
  uint8_t(*path)[WG_HASH_LEN] = malloc(WG_TREE_DEPTH * WG_HASH_LEN);
  ck_assert_ptr_nonnull(path);
  static const size_t lengths[] = {0, 1, 2, 17, 128, 255, 256};
  for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
    uint8_t key[WG_HASH_LEN], leaf[WG_HASH_LEN], got[WG_HASH_LEN], want[WG_HASH_LEN];
    size_t len = lengths[k];
    rng_bytes(&rng, key, sizeof key);
    rng_bytes(&rng, leaf, sizeof leaf);
    rng_bytes(&rng, (uint8_t *)path, len * WG_HASH_LEN);
    wg_tree_fold(key, leaf, (const uint8_t(*)[WG_HASH_LEN])path, len, got);
    ref_fold(key, leaf, (const uint8_t(*)[WG_HASH_LEN])path, len, want);
    ck_assert_msg(memcmp(got, want, WG_HASH_LEN) == 0, "path_len %zu", len);
  }
  free(path);
}
END_TEST

START_TEST(replay_matches_model)
{
  for (uint64_t seed = 1; seed <= SCENARIO_SEEDS; seed++) {
    struct scenario *s = scenario_build(seed, seed == 1 ? 0 : 10, 24, PATH_RANDOM);
    expect_success(s);
    /* Each log folds to the model's roots on its own too. */
    for (size_t i = 0; i < s->n; i++) {
      const struct wg_storage_log *log = &s->logs[i];
      uint8_t leaf[WG_HASH_LEN], root[WG_HASH_LEN];
      scenario_old_leaf(log, leaf);
      wg_tree_fold(log->hashed_key, leaf, log->path, log->path_len, root);
      ck_assert_mem_eq(root, s->root_before[i], WG_HASH_LEN);
      if (log->is_write) {
        ref_leaf(log->leaf_index, log->value_written, leaf);
        wg_tree_fold(log->hashed_key, leaf, log->path, log->path_len, root);
      }
      ck_assert_mem_eq(root, s->root_after[i], WG_HASH_LEN);
    }
    free(s);
  }
}
END_TEST

START_TEST(replay_full_and_shortest_paths)
{
  struct scenario *full = scenario_build(21, 12, 20, PATH_FULL);
  struct scenario *shortest = scenario_build(21, 12, 20, PATH_SHORTEST);
  ck_assert_uint_eq(full->shortened, 0);
  ck_assert_uint_gt(shortest->shortened, 0);
  ck_assert_mem_eq(full->final_root, shortest->final_root, WG_HASH_LEN);
  bool some_path_differs = false;
  for (size_t i = 0; i < full->n; i++)
    some_path_differs |= full->logs[i].path_len != shortest->logs[i].path_len;
  ck_assert(some_path_differs);
  expect_success(full);
  expect_success(shortest);
  free(full);
  free(shortest);
}
END_TEST

/* A batch long enough that both threads get several chunks. */
START_TEST(replay_long_batch_threads_agree)
{
  struct scenario *s = scenario_build(31, 20, SCENARIO_MAX_LOGS, PATH_RANDOM);
  expect_success(s);
  free(s);
}
END_TEST

START_TEST(replay_empty_batch)
{
  char err[256] = "", hex[HEX_ROOT_LEN];
  uint8_t other[WG_HASH_LEN];
  const uint8_t *root = ref_empty[WG_TREE_DEPTH];
  ck_assert(wg_tree_replay(root, NULL, 0, root, 2, NULL, err, sizeof err));
  memcpy(other, root, WG_HASH_LEN);
  other[31] ^= 1;
  ck_assert(!wg_tree_replay(root, NULL, 0, other, 2, NULL, err, sizeof err));
  hex0x(other, hex);
  ck_assert_msg(strstr(err, hex) != NULL, "%s", err);
  hex0x(root, hex);
  ck_assert_msg(strstr(err, hex) != NULL, "%s", err);
  /* No error buffer is fine too. */
  ck_assert(!wg_tree_replay(root, NULL, 0, other, 1, NULL, NULL, 0));
}
END_TEST

START_TEST(fail_tampered_sibling)
{
  for (uint64_t seed = 1; seed <= SCENARIO_SEEDS; seed++) {
    struct scenario *s = scenario_build(40 + seed, 10, 16, PATH_RANDOM);
    size_t i = s->n / 2 + (size_t)seed;
    struct wg_storage_log *log = &s->logs[i];
    uint8_t(*path)[WG_HASH_LEN] = (uint8_t(*)[WG_HASH_LEN])log->path;
    path[seed * 37 % log->path_len][seed % WG_HASH_LEN] ^= 0x40;
    expect_old_root_mismatch(s, i);
    free(s);
  }
}
END_TEST

START_TEST(fail_wrong_value_read)
{
  static const enum op_kind kinds[] = {OP_UPDATE, OP_READ};
  for (size_t k = 0; k < 2; k++) {
    struct scenario *s = scenario_build(50 + k, 10, 16, PATH_RANDOM);
    size_t i = scenario_last(s, kinds[k]);
    s->logs[i].value_read[7] ^= 1;
    expect_old_root_mismatch(s, i);
    free(s);
  }
}
END_TEST

START_TEST(fail_wrong_leaf_index)
{
  /* An update, a read and a read of a missing key: the old leaf changes, so log i breaks. */
  static const enum op_kind kinds[] = {OP_UPDATE, OP_READ, OP_READ_MISSING};
  for (size_t k = 0; k < 3; k++) {
    struct scenario *s = scenario_build(60 + k, 10, 16, PATH_RANDOM);
    size_t i = scenario_last(s, kinds[k]);
    s->logs[i].leaf_index += 1;
    expect_old_root_mismatch(s, i);
    free(s);
  }

  /* An insert: only the new leaf changes, so the next log no longer starts from the current root. */
  struct scenario *s = scenario_build(63, 10, 16, PATH_RANDOM);
  size_t i = s->n - 1; /* the last insert that has a log after it */
  while (s->kind[--i] != OP_INSERT)
    ;
  s->logs[i].has_root_hash = false;
  s->logs[i].leaf_index += 1;
  uint8_t leaf[WG_HASH_LEN], wrong_root[WG_HASH_LEN];
  ref_leaf(s->logs[i].leaf_index, s->logs[i].value_written, leaf);
  ref_fold(s->logs[i].hashed_key, leaf, s->logs[i].path, s->logs[i].path_len, wrong_root);
  expect_failure(s, s->prev_root, s->final_root, i + 1, s->root_before[i + 1], wrong_root);
  free(s);
}
END_TEST

START_TEST(fail_write_with_leaf_index_zero)
{
  struct scenario *s = scenario_build(70, 10, 16, PATH_RANDOM);
  size_t i = scenario_last(s, OP_UPDATE);
  s->logs[i].leaf_index = 0;
  expect_failure(s, s->prev_root, s->final_root, i, NULL, NULL);
  char err[256];
  ck_assert(!wg_tree_replay(s->prev_root, s->logs, s->n, s->final_root, 1, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, "leaf_index 0") != NULL, "%s", err);
  free(s);
}
END_TEST

START_TEST(fail_wrong_previous_root)
{
  struct scenario *s = scenario_build(80, 10, 16, PATH_RANDOM);
  uint8_t prev[WG_HASH_LEN];
  memcpy(prev, s->prev_root, WG_HASH_LEN);
  prev[0] ^= 0x80;
  expect_failure(s, prev, s->final_root, 0, s->root_before[0], prev);
  free(s);
}
END_TEST

START_TEST(fail_wrong_new_root)
{
  struct scenario *s = scenario_build(90, 10, 16, PATH_RANDOM);
  uint8_t final[WG_HASH_LEN];
  memcpy(final, s->final_root, WG_HASH_LEN);
  final[31] ^= 0x01;
  expect_failure(s, s->prev_root, final, s->n - 1, s->final_root, final);
  char err[512];
  ck_assert(!wg_tree_replay(s->prev_root, s->logs, s->n, final, 2, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, "new_root_hash") != NULL, "%s", err);
  free(s);
}
END_TEST

/* A wrong value written by the last write shows up only in the final root. */
START_TEST(fail_wrong_value_written)
{
  struct scenario *s = scenario_build(95, 10, 16, PATH_RANDOM);
  size_t i = s->n;
  while (!s->logs[--i].is_write)
    ;
  for (size_t j = i; j < s->n; j++)
    s->logs[j].has_root_hash = false;
  s->logs[i].value_written[0] ^= 0xff;
  uint8_t leaf[WG_HASH_LEN], wrong_root[WG_HASH_LEN];
  ref_leaf(s->logs[i].leaf_index, s->logs[i].value_written, leaf);
  ref_fold(s->logs[i].hashed_key, leaf, s->logs[i].path, s->logs[i].path_len, wrong_root);
  if (i == s->n - 1)
    expect_failure(s, s->prev_root, s->final_root, i, wrong_root, s->final_root);
  else
    expect_failure(s, s->prev_root, s->final_root, i + 1, s->root_before[i + 1], wrong_root);
  free(s);
}
END_TEST

START_TEST(fail_wrong_root_hash)
{
  for (uint64_t seed = 1; seed <= SCENARIO_SEEDS; seed++) {
    struct scenario *s = scenario_build(100 + seed, 10, 16, PATH_RANDOM);
    size_t i = 3 + (size_t)seed * 3;
    s->logs[i].has_root_hash = true;
    memcpy(s->logs[i].root_hash, s->root_after[i], WG_HASH_LEN);
    s->logs[i].root_hash[(size_t)seed] ^= 0x10;
    expect_failure(s, s->prev_root, s->final_root, i, s->logs[i].root_hash, s->root_after[i]);
    char err[512];
    ck_assert(!wg_tree_replay(s->prev_root, s->logs, s->n, s->final_root, 1, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "root_hash") != NULL, "%s", err);
    free(s);
  }
}
END_TEST

START_TEST(fail_wrong_first_write_flag)
{
  /* An insert claimed as an update of a leaf holding zero. */
  struct scenario *s = scenario_build(110, 10, 16, PATH_RANDOM);
  size_t i = scenario_last(s, OP_INSERT);
  s->logs[i].first_write = false;
  expect_old_root_mismatch(s, i);
  free(s);

  /* An update claimed as an insert into an empty slot. */
  s = scenario_build(111, 10, 16, PATH_RANDOM);
  i = scenario_last(s, OP_UPDATE);
  s->logs[i].first_write = true;
  expect_old_root_mismatch(s, i);
  free(s);
}
END_TEST

START_TEST(fail_wrong_key)
{
  struct scenario *s = scenario_build(120, 10, 16, PATH_RANDOM);
  size_t i = scenario_last(s, OP_READ);
  s->logs[i].hashed_key[31] ^= 0x80; /* flips the side at the level just below the root */
  expect_old_root_mismatch(s, i);
  free(s);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("tree");
  TCase *hash = tcase_create("blake2s");
  TCase *tree = tcase_create("tree");
  TCase *replay = tcase_create("replay");
  TCase *bad = tcase_create("replay_failures");
  TCase *all[] = {hash, tree, replay, bad};
  for (size_t i = 0; i < 4; i++) {
    tcase_add_unchecked_fixture(all[i], ref_setup, ref_teardown);
    tcase_set_timeout(all[i], 120);
    suite_add_tcase(s, all[i]);
  }
  tcase_add_test(hash, blake2s_rfc7693_vector);
  tcase_add_test(hash, blake2s_matches_openssl);
  tcase_add_test(hash, blake2s_pair_matches_openssl);
  tcase_add_test(tree, empty_subtrees_published);
  tcase_add_test(tree, empty_subtrees_first_use_from_threads);
  tcase_add_test(tree, leaf_and_key_layout);
  tcase_add_test(tree, single_leaf_published_root);
  tcase_add_test(tree, published_intermediate_values);
  tcase_add_test(tree, fold_matches_reference);
  tcase_add_test(replay, replay_matches_model);
  tcase_add_test(replay, replay_full_and_shortest_paths);
  tcase_add_test(replay, replay_long_batch_threads_agree);
  tcase_add_test(replay, replay_empty_batch);
  tcase_add_test(bad, fail_tampered_sibling);
  tcase_add_test(bad, fail_wrong_value_read);
  tcase_add_test(bad, fail_wrong_leaf_index);
  tcase_add_test(bad, fail_write_with_leaf_index_zero);
  tcase_add_test(bad, fail_wrong_previous_root);
  tcase_add_test(bad, fail_wrong_new_root);
  tcase_add_test(bad, fail_wrong_value_written);
  tcase_add_test(bad, fail_wrong_root_hash);
  tcase_add_test(bad, fail_wrong_first_write_flag);
  tcase_add_test(bad, fail_wrong_key);

  return wg_check_run(s);
}
