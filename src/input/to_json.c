/* The canonical JSON encoding of a basic witness input: what the tests and the input generator
 * upload. Written straight into one buffer, since every value is a number, a boolean, a fixed
 * key or a hash, and a jansson tree of a large batch would cost several times the output. */
#include "config.h"
#include "input/input.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

/* Where the JSON goes: into a growing buffer, or (digest set) through SHA-256 only. */
struct out_buf {
  char *p;
  size_t len, cap;
  bool failed;
  EVP_MD_CTX *digest;
};

static void put(struct out_buf *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (b->digest != NULL) {
    if (EVP_DigestUpdate(b->digest, s, n) != 1)
      b->failed = true;
    return;
  }
  if (n > b->cap - b->len - 1) {
    size_t cap = b->cap;
    while (n > cap - b->len - 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void put_str(struct out_buf *b, const char *s)
{
  put(b, s, strlen(s));
}

static void put_u64(struct out_buf *b, uint64_t v)
{
  char text[24];
  int n = snprintf(text, sizeof text, "%" PRIu64, v);
  put(b, text, (size_t)n);
}

static void put_hash(struct out_buf *b, const uint8_t h[WG_HASH_LEN])
{
  char text[2 * WG_HASH_LEN + 5];
  text[0] = '"';
  wg_hex_encode_0x(h, WG_HASH_LEN, text + 1);
  text[2 * WG_HASH_LEN + 3] = '"';
  put(b, text, 2 * WG_HASH_LEN + 4);
}

static void put_log(struct out_buf *b, const struct wg_storage_log *log)
{
  put_str(b, "{\"hashed_key\":");
  put_hash(b, log->hashed_key);
  put_str(b, ",\"leaf_index\":");
  put_u64(b, log->leaf_index);
  put_str(b, log->is_write ? ",\"is_write\":true" : ",\"is_write\":false");
  put_str(b, log->first_write ? ",\"first_write\":true" : ",\"first_write\":false");
  put_str(b, ",\"value_read\":");
  put_hash(b, log->value_read);
  put_str(b, ",\"value_written\":");
  put_hash(b, log->value_written);
  /* The digest names the input, not its spelling: a path's leaf-level empty subtrees, which may be
   * left out, are left out. */
  size_t skip = 0;
  if (b->digest != NULL)
    while (skip < log->path_len &&
           memcmp(log->path[skip], wg_tree_empty((int)(WG_TREE_DEPTH - log->path_len + skip)), WG_HASH_LEN) == 0)
      skip++;
  put_str(b, ",\"merkle_path\":[");
  for (size_t k = skip; k < log->path_len; k++) {
    if (k > skip)
      put(b, ",", 1);
    put_hash(b, log->path[k]);
  }
  put(b, "]", 1);
  if (log->has_root_hash) {
    put_str(b, ",\"root_hash\":");
    put_hash(b, log->root_hash);
  }
  put(b, "}", 1);
}

static void put_input(struct out_buf *b, const struct wg_input *in)
{
  put_str(b, "{\"l1_batch_number\":");
  put_u64(b, in->l1_batch_number);
  put_str(b, ",\"protocol_version\":");
  put_u64(b, in->protocol_version);
  put_str(b, ",\"previous_root_hash\":");
  put_hash(b, in->previous_root);
  put_str(b, ",\"new_root_hash\":");
  put_hash(b, in->new_root);
  put_str(b, ",\"storage_logs\":[");
  for (size_t i = 0; i < in->n_logs; i++) {
    if (i > 0)
      put(b, ",", 1);
    put_log(b, &in->logs[i]);
  }
  put_str(b, "],\"circuit_workload\":{");
  size_t n_types;
  const struct wg_circuit_type *table = wg_circuit_table(in->protocol_version, &n_types);
  bool first = true;
  for (size_t i = 0; i < n_types; i++) {
    int id = table[i].id;
    if (id == WG_STORAGE_APPLICATION_ID || id < 1 || id > WG_MAX_CIRCUIT_ID || in->workload[id] == 0)
      continue;
    put_str(b, first ? "\"" : ",\"");
    put_str(b, table[i].workload_key);
    put_str(b, "\":");
    put_u64(b, in->workload[id]);
    first = false;
  }
  put_str(b, "}}");
}

char *wg_input_to_json(const struct wg_input *in)
{
  /* Size the buffer for the whole document up front; put() grows it should the guess be short. */
  size_t hashes = 2;
  for (size_t i = 0; i < in->n_logs; i++)
    hashes += 4 + in->logs[i].path_len;
  struct out_buf b = {.cap = 1024 + in->n_logs * 160 + hashes * (2 * WG_HASH_LEN + 5)};
  b.p = malloc(b.cap);
  if (b.p == NULL)
    return NULL;
  b.p[0] = '\0';
  put_input(&b, in);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

bool wg_input_canonical_sha256(const struct wg_input *in, uint8_t out[32])
{
  struct out_buf b = {.digest = EVP_MD_CTX_new()};
  if (b.digest == NULL)
    return false;
  bool ok = EVP_DigestInit_ex(b.digest, EVP_sha256(), NULL) == 1;
  if (ok)
    put_input(&b, in);
  ok = ok && !b.failed && EVP_DigestFinal_ex(b.digest, out, NULL) == 1;
  EVP_MD_CTX_free(b.digest);
  return ok;
}
