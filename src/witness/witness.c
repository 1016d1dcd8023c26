/* Witness blob encoding and decoding, byte for byte as api/witness-format.md describes.
 *
 * The decoder walks the whole blob, not just the header: a blob is either entirely well formed or
 * rejected, so that a damaged or truncated blob never reaches a prover or a round. The encoder
 * refuses exactly what the decoder would reject, so everything it writes decodes. */
#include "config.h"
#include "witness/witness.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"

static const uint8_t magic[4] = {'W', 'G', 'W', 'T'};
static const char queue_start_tag[] = "wg-queue-start"; /* hashed without its NUL */
static const char queue_step_tag[] = "wg-queue-step";

enum {
  HEADER_LEN = 34,
  BASIC_FIXED_LEN = 8 + 8 + WG_HASH_LEN + WG_HASH_LEN + 4, /* work range, commitments, n_logs */
  STORAGE_ROOTS_LEN = 2 * WG_HASH_LEN,
  LOG_FIXED_LEN = WG_HASH_LEN + 8 + 1 + WG_HASH_LEN + WG_HASH_LEN + 2,
  PROOF_REF_LEN = 8 + WG_HASH_LEN,
  PUBLIC_INPUT_LEN = 2 * WG_HASH_LEN,
  FLAG_IS_WRITE = 0x01,
  FLAG_FIRST_WRITE = 0x02,
};

/* ---- writing: the size is computed first, so the cursor never checks bounds ---- */

struct writer {
  uint8_t *p;
};

static void put_bytes(struct writer *w, const void *data, size_t n)
{
  if (n > 0)
    memcpy(w->p, data, n);
  w->p += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
  *w->p++ = v;
}

static void put_u16(struct writer *w, uint16_t v)
{
  put_u8(w, (uint8_t)(v >> 8));
  put_u8(w, (uint8_t)v);
}

static void put_u32(struct writer *w, uint32_t v)
{
  for (int shift = 24; shift >= 0; shift -= 8)
    put_u8(w, (uint8_t)(v >> shift));
}

static void put_u64(struct writer *w, uint64_t v)
{
  for (int shift = 56; shift >= 0; shift -= 8)
    put_u8(w, (uint8_t)(v >> shift));
}

static void put_header(struct writer *w, enum wg_witness_kind kind, uint64_t l1_batch_number,
                       uint32_t protocol_version, int circuit_id, int depth, uint64_t sequence_number)
{
  put_bytes(w, magic, sizeof magic);
  put_u32(w, WG_WITNESS_FORMAT_VERSION);
  put_u8(w, (uint8_t)kind);
  put_u64(w, l1_batch_number);
  put_u32(w, protocol_version);
  put_u8(w, (uint8_t)circuit_id);
  put_u32(w, (uint32_t)depth);
  put_u64(w, sequence_number);
}

/* ---- reading: every read checks what is left and fails instead of running past the end ---- */

struct reader {
  const uint8_t *p;
  size_t left;
};

static bool get_bytes(struct reader *r, uint8_t *out, size_t n)
{
  if (r->left < n)
    return false;
  if (out != NULL && n > 0)
    memcpy(out, r->p, n);
  r->p += n;
  r->left -= n;
  return true;
}

static bool get_uint(struct reader *r, size_t width, uint64_t *out)
{
  if (r->left < width)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++)
    v = (v << 8) | r->p[i];
  r->p += width;
  r->left -= width;
  *out = v;
  return true;
}

/* ---- the rules shared by encoder and decoder ---- */

static bool circuit_id_valid(enum wg_witness_kind kind, uint64_t circuit_id)
{
  if (kind == WG_WITNESS_SCHEDULER)
    return circuit_id == WG_SCHEDULER_CIRCUIT_ID;
  return circuit_id >= 1 && circuit_id <= UINT8_MAX;
}

static bool depth_valid(enum wg_witness_kind kind, uint64_t depth)
{
  if (kind == WG_WITNESS_BASIC || kind == WG_WITNESS_SCHEDULER)
    return depth == 0;
  return depth <= INT_MAX;
}

static bool has_storage_section(int circuit_id)
{
  return circuit_id == WG_STORAGE_APPLICATION_ID;
}

static void queue_step(const uint8_t input_commitment[WG_HASH_LEN], int circuit_id, uint64_t sequence_number,
                       uint64_t work_start, uint64_t work_end, const uint8_t *tail, size_t tail_len,
                       uint8_t out[WG_HASH_LEN])
{
  uint8_t pre[sizeof queue_step_tag - 1 + WG_HASH_LEN + 1 + 3 * 8 + WG_HASH_LEN];
  struct writer w = {pre};
  put_bytes(&w, queue_step_tag, sizeof queue_step_tag - 1);
  put_bytes(&w, input_commitment, WG_HASH_LEN);
  put_u8(&w, (uint8_t)circuit_id);
  put_u64(&w, sequence_number);
  put_u64(&w, work_start);
  put_u64(&w, work_end);
  wg_blake2s(tail, tail_len, w.p);
  wg_blake2s(pre, sizeof pre, out);
}

void wg_witness_queue_start(uint64_t l1_batch_number, int circuit_id, uint8_t out[WG_HASH_LEN])
{
  uint8_t pre[sizeof queue_start_tag - 1 + 8 + 1];
  struct writer w = {pre};
  put_bytes(&w, queue_start_tag, sizeof queue_start_tag - 1);
  put_u64(&w, l1_batch_number);
  put_u8(&w, (uint8_t)circuit_id);
  wg_blake2s(pre, sizeof pre, out);
}

/* ---- basic circuits ---- */

int wg_witness_encode_basic(const struct wg_basic_witness *w, uint8_t output_commitment[WG_HASH_LEN],
                            uint8_t **blob, size_t *len)
{
  if (w->circuit_id < 0 || !circuit_id_valid(WG_WITNESS_BASIC, (uint64_t)w->circuit_id))
    return -1;
  if (w->work_start > w->work_end)
    return -1;
  bool storage = has_storage_section(w->circuit_id);
  if (!storage && w->n_logs != 0)
    return -1;
  if (w->n_logs > UINT32_MAX || (w->n_logs > 0 && w->logs == NULL))
    return -1;

  size_t size = HEADER_LEN + BASIC_FIXED_LEN;
  if (storage) {
    size += STORAGE_ROOTS_LEN;
    /* Each entry is at most LOG_FIXED_LEN + 256 hashes, so this bound rules out overflow below. */
    if (w->n_logs > (SIZE_MAX - size) / (LOG_FIXED_LEN + WG_TREE_DEPTH * WG_HASH_LEN))
      return -1;
    for (size_t i = 0; i < w->n_logs; i++) {
      const struct wg_storage_log *log = &w->logs[i];
      if (log->path_len > WG_TREE_DEPTH || (log->path_len > 0 && log->path == NULL))
        return -1;
      size += LOG_FIXED_LEN + log->path_len * WG_HASH_LEN;
    }
  }

  uint8_t *buf = malloc(size);
  if (buf == NULL)
    return -1;
  struct writer out = {buf};
  put_header(&out, WG_WITNESS_BASIC, w->l1_batch_number, w->protocol_version, w->circuit_id, 0,
             w->sequence_number);
  put_u64(&out, w->work_start);
  put_u64(&out, w->work_end);
  put_bytes(&out, w->input_commitment, WG_HASH_LEN);
  uint8_t *output_slot = out.p; /* filled once the tail it commits to is written */
  out.p += WG_HASH_LEN;
  const uint8_t *tail = out.p;
  put_u32(&out, (uint32_t)w->n_logs);
  if (storage) {
    put_bytes(&out, w->root_before, WG_HASH_LEN);
    put_bytes(&out, w->root_after, WG_HASH_LEN);
    for (size_t i = 0; i < w->n_logs; i++) {
      const struct wg_storage_log *log = &w->logs[i];
      put_bytes(&out, log->hashed_key, WG_HASH_LEN);
      put_u64(&out, log->leaf_index);
      put_u8(&out, (uint8_t)((log->is_write ? FLAG_IS_WRITE : 0) | (log->first_write ? FLAG_FIRST_WRITE : 0)));
      put_bytes(&out, log->value_read, WG_HASH_LEN);
      put_bytes(&out, log->value_written, WG_HASH_LEN);
      put_u16(&out, (uint16_t)log->path_len);
      put_bytes(&out, log->path, log->path_len * WG_HASH_LEN);
    }
  }
  queue_step(w->input_commitment, w->circuit_id, w->sequence_number, w->work_start, w->work_end, tail,
             (size_t)(out.p - tail), output_slot);
  memcpy(output_commitment, output_slot, WG_HASH_LEN);
  *blob = buf;
  *len = size;
  return 0;
}

/* ---- leaf, node and scheduler circuits ---- */

int wg_witness_encode_aggregation(const struct wg_aggregation_witness *w, uint8_t **blob, size_t *len)
{
  if (w->kind != WG_WITNESS_LEAF && w->kind != WG_WITNESS_NODE && w->kind != WG_WITNESS_SCHEDULER)
    return -1;
  if (w->circuit_id < 0 || !circuit_id_valid(w->kind, (uint64_t)w->circuit_id))
    return -1;
  if (w->depth < 0 || !depth_valid(w->kind, (uint64_t)w->depth))
    return -1;
  if (w->n_proofs == 0 || w->n_proofs > UINT32_MAX || w->proofs == NULL)
    return -1;
  for (size_t i = 0; i < w->n_proofs; i++)
    if (w->proofs[i].prover_job_id < 0)
      return -1;

  size_t size = HEADER_LEN + 4;
  if (w->n_proofs > (SIZE_MAX - size - PUBLIC_INPUT_LEN) / PROOF_REF_LEN)
    return -1;
  size += w->n_proofs * PROOF_REF_LEN;
  if (w->kind == WG_WITNESS_SCHEDULER)
    size += PUBLIC_INPUT_LEN;

  uint8_t *buf = malloc(size);
  if (buf == NULL)
    return -1;
  struct writer out = {buf};
  put_header(&out, w->kind, w->l1_batch_number, w->protocol_version, w->circuit_id, w->depth,
             w->sequence_number);
  put_u32(&out, (uint32_t)w->n_proofs);
  for (size_t i = 0; i < w->n_proofs; i++) {
    put_u64(&out, (uint64_t)w->proofs[i].prover_job_id);
    put_bytes(&out, w->proofs[i].proof_hash, WG_HASH_LEN);
  }
  if (w->kind == WG_WITNESS_SCHEDULER) {
    put_bytes(&out, w->previous_root, WG_HASH_LEN);
    put_bytes(&out, w->new_root, WG_HASH_LEN);
  }
  *blob = buf;
  *len = size;
  return 0;
}

/* ---- decoding ---- */

static bool parse_header(struct reader *r, struct wg_witness_header *h)
{
  uint8_t m[sizeof magic];
  uint64_t version, kind, batch, protocol_version, circuit_id, depth, sequence;
  if (!get_bytes(r, m, sizeof m) || memcmp(m, magic, sizeof magic) != 0)
    return false;
  if (!get_uint(r, 4, &version) || version != WG_WITNESS_FORMAT_VERSION)
    return false;
  if (!get_uint(r, 1, &kind) || kind > WG_WITNESS_SCHEDULER)
    return false;
  if (!get_uint(r, 8, &batch) || !get_uint(r, 4, &protocol_version) || !get_uint(r, 1, &circuit_id) ||
      !get_uint(r, 4, &depth) || !get_uint(r, 8, &sequence))
    return false;
  if (!circuit_id_valid((enum wg_witness_kind)kind, circuit_id) ||
      !depth_valid((enum wg_witness_kind)kind, depth))
    return false;
  h->format_version = (uint32_t)version;
  h->kind = (enum wg_witness_kind)kind;
  h->l1_batch_number = batch;
  h->protocol_version = (uint32_t)protocol_version;
  h->circuit_id = (int)circuit_id;
  h->depth = (int)depth;
  h->sequence_number = sequence;
  return true;
}

static bool parse_basic_body(struct reader *r, const struct wg_witness_header *h)
{
  uint64_t work_start, work_end, n_logs;
  uint8_t input[WG_HASH_LEN], output[WG_HASH_LEN], expected[WG_HASH_LEN];
  if (!get_uint(r, 8, &work_start) || !get_uint(r, 8, &work_end) || work_start > work_end)
    return false;
  if (!get_bytes(r, input, WG_HASH_LEN) || !get_bytes(r, output, WG_HASH_LEN))
    return false;
  struct reader tail = *r;
  if (!get_uint(r, 4, &n_logs))
    return false;
  if (!has_storage_section(h->circuit_id)) {
    if (n_logs != 0)
      return false;
  } else {
    if (!get_bytes(r, NULL, STORAGE_ROOTS_LEN))
      return false;
    for (uint64_t i = 0; i < n_logs; i++) {
      uint64_t flags, path_len;
      if (!get_bytes(r, NULL, WG_HASH_LEN + 8) || !get_uint(r, 1, &flags) ||
          (flags & ~(uint64_t)(FLAG_IS_WRITE | FLAG_FIRST_WRITE)) != 0)
        return false;
      if (!get_bytes(r, NULL, 2 * WG_HASH_LEN) || !get_uint(r, 2, &path_len) || path_len > WG_TREE_DEPTH)
        return false;
      if (!get_bytes(r, NULL, path_len * WG_HASH_LEN))
        return false;
    }
  }
  if (r->left != 0)
    return false;
  queue_step(input, h->circuit_id, h->sequence_number, work_start, work_end, tail.p, tail.left, expected);
  return memcmp(expected, output, WG_HASH_LEN) == 0;
}

/* Checks an aggregation body; when proofs is not NULL also returns its proof list (malloc'd). */
static bool parse_aggregation_body(struct reader *r, const struct wg_witness_header *h,
                                   struct wg_proof_ref **proofs, size_t *n)
{
  uint64_t count;
  size_t trailer = h->kind == WG_WITNESS_SCHEDULER ? PUBLIC_INPUT_LEN : 0;
  if (!get_uint(r, 4, &count) || count == 0)
    return false;
  /* The list has a fixed size, so the whole length is checked before anything is allocated. */
  if (count > r->left / PROOF_REF_LEN || r->left - count * PROOF_REF_LEN != trailer)
    return false;
  struct wg_proof_ref *list = NULL;
  if (proofs != NULL && (list = malloc(count * sizeof *list)) == NULL)
    return false;
  for (size_t i = 0; i < count; i++) {
    uint64_t id;
    uint8_t hash[WG_HASH_LEN];
    if (!get_uint(r, 8, &id) || id > INT64_MAX || !get_bytes(r, hash, WG_HASH_LEN))
      goto fail;
    if (list != NULL) {
      list[i].prover_job_id = (int64_t)id;
      memcpy(list[i].proof_hash, hash, WG_HASH_LEN);
    }
  }
  if (!get_bytes(r, NULL, trailer) || r->left != 0)
    goto fail;
  if (proofs != NULL) {
    *proofs = list;
    *n = count;
  }
  return true;
fail:
  free(list);
  return false;
}

int wg_witness_decode_header(const uint8_t *blob, size_t len, struct wg_witness_header *out)
{
  struct reader r = {blob, blob != NULL ? len : 0};
  struct wg_witness_header h;
  if (!parse_header(&r, &h))
    return -1;
  bool ok = h.kind == WG_WITNESS_BASIC ? parse_basic_body(&r, &h) : parse_aggregation_body(&r, &h, NULL, NULL);
  if (!ok)
    return -1;
  *out = h;
  return 0;
}

int wg_witness_decode_proofs(const uint8_t *blob, size_t len, struct wg_proof_ref **proofs, size_t *n)
{
  struct reader r = {blob, blob != NULL ? len : 0};
  struct wg_witness_header h;
  if (!parse_header(&r, &h) || h.kind == WG_WITNESS_BASIC)
    return -1;
  return parse_aggregation_body(&r, &h, proofs, n) ? 0 : -1;
}
