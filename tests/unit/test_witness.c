/* Unit tests for src/witness: golden vectors of api/witness-format.md, the queue commitment chain,
 * decoding round trips, and rejection of every malformed blob we can think of.
 *
 * The golden hex was produced by a separate encoder written from api/witness-format.md alone, and
 * vector 1 is also rebuilt here field by field, so a layout change in witness.c shows up as a
 * failure rather than as a silently updated constant. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "tree/tree.h"
#include "witness/witness.h"

/* ---- golden vectors (identical to api/witness-format.md) ---- */

static const char golden_queue_start[] = "16d91e5ddbc1e984f0582949fb87439088196daf535f1b1abb1c5e7a051dba6a";

static const char golden_basic[] =
  "5747575400000001000000000000012345000000180100000000000000000000000300000000"
  "00003f2a0000000000005438000102030405060708090a0b0c0d0e0f10111213141516171819"
  "1a1b1c1d1e1f57c7289bea20f2b7b8f910215293df624a30bf382e5be3a1b5f2100d1e7ef75e"
  "00000000";
static const char golden_basic_out[] = "57c7289bea20f2b7b8f910215293df624a30bf382e5be3a1b5f2100d1e7ef75e";

static const char golden_storage[] =
  "5747575400000001000000000000012345000000180a00000000000000000000000100000000"
  "000000210000000000000023202122232425262728292a2b2c2d2e2f30313233343536373839"
  "3a3b3c3d3e3f57c4c250b0dbc659c0185901ba749dfb0e3013a70fe906bba0e5f6cd54264bce"
  "00000002aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbb"
  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0101010101010101"
  "0101010101010101010101010101010101010101010101010000000000000007030000000000"
  "0000000000000000000000000000000000000000000000000000000202020202020202020202"
  "0202020202020202020202020202020202020202020002111111111111111111111111111111"
  "1111111111111111111111111111111111121212121212121212121212121212121212121212"
  "1212121212121212121212030303030303030303030303030303030303030303030303030303"
  "0303030303000000000000010200040404040404040404040404040404040404040404040404"
  "0404040404040404000000000000000000000000000000000000000000000000000000000000"
  "000000011313131313131313131313131313131313131313131313131313131313131313";
static const char golden_storage_out[] = "57c4c250b0dbc659c0185901ba749dfb0e3013a70fe906bba0e5f6cd54264bce";

static const char golden_leaf[] =
  "5747575400000001010000000000012345000000180300000000000000000000000200000003"
  "0000000000000065a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
  "a1a10000000000000066a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
  "a2a2a2a20000000000000067a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
  "a3a3a3a3a3a3";

static const char golden_scheduler[] =
  "5747575400000001030000000000012345000000180000000000000000000000000000000002"
  "0000000000001000c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"
  "c1c10000000000001001c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"
  "c2c2c2c2ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddeeee"
  "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

/* Offsets from the documented layout. */
enum {
  HEADER_LEN = 34,
  OFF_VERSION = 4,
  OFF_KIND = 8,
  OFF_CIRCUIT_ID = 21,
  OFF_DEPTH = 22,
  OFF_WORK_START = HEADER_LEN,
  OFF_INPUT = HEADER_LEN + 16,
  OFF_OUTPUT = OFF_INPUT + 32,
  OFF_TAIL = OFF_OUTPUT + 32, /* n_logs */
  OFF_N_PROOFS = HEADER_LEN,
};

/* ---- helpers ---- */

static void fill(uint8_t out[WG_HASH_LEN], uint8_t byte)
{
  memset(out, byte, WG_HASH_LEN);
}

static void counting(uint8_t out[WG_HASH_LEN], uint8_t first)
{
  for (int i = 0; i < WG_HASH_LEN; i++)
    out[i] = (uint8_t)(first + i);
}

static void expect_hex(const uint8_t *blob, size_t len, const char *expected)
{
  char *hex = malloc(2 * len + 1);
  ck_assert_ptr_nonnull(hex);
  wg_hex_encode(blob, len, hex);
  ck_assert_uint_eq(2 * len, strlen(expected));
  ck_assert_str_eq(hex, expected);
  free(hex);
}

static void be(uint8_t *out, uint64_t v, int width)
{
  for (int i = width - 1; i >= 0; i--, v >>= 8)
    out[i] = (uint8_t)v;
}

static uint64_t read_be(const uint8_t *p, int width)
{
  uint64_t v = 0;
  for (int i = 0; i < width; i++)
    v = (v << 8) | p[i];
  return v;
}

/* Recomputes a basic blob's output commitment in place from the formula of the format page, so
 * that a test can change one field and still present a blob whose commitment is right. */
static void reseal(uint8_t *blob, size_t len)
{
  uint8_t pre[13 + 32 + 1 + 24 + 32];
  memcpy(pre, "wg-queue-step", 13);
  memcpy(pre + 13, blob + OFF_INPUT, 32);
  pre[45] = blob[OFF_CIRCUIT_ID];
  memcpy(pre + 46, blob + 26, 8);             /* sequence_number */
  memcpy(pre + 54, blob + OFF_WORK_START, 16); /* work_start, work_end */
  wg_blake2s(blob + OFF_TAIL, len - OFF_TAIL, pre + 70);
  wg_blake2s(pre, sizeof pre, blob + OFF_OUTPUT);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len, size_t extra)
{
  uint8_t *copy = malloc(len + extra + 1);
  ck_assert_ptr_nonnull(copy);
  memcpy(copy, p, len);
  memset(copy + len, 0, extra);
  return copy;
}

static bool decodes(const uint8_t *blob, size_t len)
{
  struct wg_witness_header h;
  return wg_witness_decode_header(blob, len, &h) == 0;
}

/* ---- the vectors ---- */

static void vector_basic(struct wg_basic_witness *w)
{
  memset(w, 0, sizeof *w);
  w->l1_batch_number = 74565;
  w->protocol_version = 24;
  w->circuit_id = 1;
  w->sequence_number = 3;
  w->work_start = 16170;
  w->work_end = 21560;
  counting(w->input_commitment, 0x00);
}

static uint8_t storage_path0[2][WG_HASH_LEN], storage_path1[1][WG_HASH_LEN];
static struct wg_storage_log storage_logs[2];

static void vector_storage(struct wg_basic_witness *w)
{
  memset(w, 0, sizeof *w);
  memset(storage_logs, 0, sizeof storage_logs);
  w->l1_batch_number = 74565;
  w->protocol_version = 24;
  w->circuit_id = 10;
  w->sequence_number = 1;
  w->work_start = 33;
  w->work_end = 35;
  counting(w->input_commitment, 0x20);
  fill(w->root_before, 0xaa);
  fill(w->root_after, 0xbb);

  fill(storage_path0[0], 0x11);
  fill(storage_path0[1], 0x12);
  fill(storage_path1[0], 0x13);
  struct wg_storage_log *a = &storage_logs[0], *b = &storage_logs[1];
  fill(a->hashed_key, 0x01);
  a->leaf_index = 7;
  a->is_write = true;
  a->first_write = true;
  fill(a->value_written, 0x02);
  a->path = storage_path0;
  a->path_len = 2;
  a->has_root_hash = true; /* not part of the witness */
  fill(a->root_hash, 0x77);
  fill(b->hashed_key, 0x03);
  b->leaf_index = 258;
  fill(b->value_read, 0x04);
  b->path = storage_path1;
  b->path_len = 1;
  w->logs = storage_logs;
  w->n_logs = 2;
}

static struct wg_proof_ref leaf_proofs[3], scheduler_proofs[2];

static void vector_leaf(struct wg_aggregation_witness *w)
{
  memset(w, 0, sizeof *w);
  w->kind = WG_WITNESS_LEAF;
  w->l1_batch_number = 74565;
  w->protocol_version = 24;
  w->circuit_id = 3;
  w->depth = 0;
  w->sequence_number = 2;
  for (int i = 0; i < 3; i++) {
    leaf_proofs[i].prover_job_id = 101 + i;
    fill(leaf_proofs[i].proof_hash, (uint8_t)(0xa1 + i));
  }
  w->proofs = leaf_proofs;
  w->n_proofs = 3;
}

static void vector_scheduler(struct wg_aggregation_witness *w)
{
  memset(w, 0, sizeof *w);
  w->kind = WG_WITNESS_SCHEDULER;
  w->l1_batch_number = 74565;
  w->protocol_version = 24;
  for (int i = 0; i < 2; i++) {
    scheduler_proofs[i].prover_job_id = 4096 + i;
    fill(scheduler_proofs[i].proof_hash, (uint8_t)(0xc1 + i));
  }
  w->proofs = scheduler_proofs;
  w->n_proofs = 2;
  fill(w->previous_root, 0xdd);
  fill(w->new_root, 0xee);
}

/* A node witness (no golden hex) with a depth wide enough to catch byte-order slips. */
static void vector_node(struct wg_aggregation_witness *w)
{
  vector_leaf(w);
  w->kind = WG_WITNESS_NODE;
  w->circuit_id = 15;
  w->depth = 0x01020304;
  w->sequence_number = 0x0a0b0c0d0e0f1011ULL;
  w->n_proofs = 2;
}

static void encode_basic(const struct wg_basic_witness *w, uint8_t out[WG_HASH_LEN], uint8_t **blob, size_t *len)
{
  ck_assert_int_eq(wg_witness_encode_basic(w, out, blob, len), 0);
}

static void encode_aggregation(const struct wg_aggregation_witness *w, uint8_t **blob, size_t *len)
{
  ck_assert_int_eq(wg_witness_encode_aggregation(w, blob, len), 0);
}

/* Every valid blob the tests below take apart: the four golden vectors and a node blob. */
enum { N_SAMPLES = 5 };
static void sample_blob(int i, uint8_t **blob, size_t *len)
{
  struct wg_basic_witness b;
  struct wg_aggregation_witness a;
  uint8_t out[WG_HASH_LEN];
  switch (i) {
  case 0: vector_basic(&b); encode_basic(&b, out, blob, len); break;
  case 1: vector_storage(&b); encode_basic(&b, out, blob, len); break;
  case 2: vector_leaf(&a); encode_aggregation(&a, blob, len); break;
  case 3: vector_scheduler(&a); encode_aggregation(&a, blob, len); break;
  default: vector_node(&a); encode_aggregation(&a, blob, len); break;
  }
}

/* ---- golden ---- */

START_TEST(queue_start_golden)
{
  /* By hand: "wg-queue-start" || 74565 as u64 BE || circuit 1 as u8. */
  uint8_t pre[14 + 8 + 1], by_hand[WG_HASH_LEN], got[WG_HASH_LEN];
  memcpy(pre, "wg-queue-start", 14);
  const uint8_t batch[8] = {0, 0, 0, 0, 0, 0x01, 0x23, 0x45};
  memcpy(pre + 14, batch, 8);
  pre[22] = 0x01;
  wg_blake2s(pre, sizeof pre, by_hand);
  wg_witness_queue_start(74565, 1, got);
  ck_assert_mem_eq(got, by_hand, WG_HASH_LEN);
  expect_hex(got, WG_HASH_LEN, golden_queue_start);

  uint8_t other[WG_HASH_LEN];
  wg_witness_queue_start(74565, 2, other);
  ck_assert_mem_ne(got, other, WG_HASH_LEN);
  wg_witness_queue_start(74566, 1, other);
  ck_assert_mem_ne(got, other, WG_HASH_LEN);
}
END_TEST

START_TEST(basic_built_by_hand)
{
  /* Vector 1, field by field from api/witness-format.md, without the encoder. */
  static const uint8_t header[HEADER_LEN] = {
    'W', 'G', 'W', 'T',                       /* magic */
    0x00, 0x00, 0x00, 0x01,                   /* format_version 1 */
    0x00,                                     /* kind: basic */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, /* l1_batch_number 74565 */
    0x00, 0x00, 0x00, 0x18,                   /* protocol_version 24 */
    0x01,                                     /* circuit_id: main_vm */
    0x00, 0x00, 0x00, 0x00,                   /* depth 0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* sequence_number 3 */
  };
  static const uint8_t work[16] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x2a, /* work_start 16170 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x54, 0x38, /* work_end 21560 */
  };
  static const uint8_t n_logs[4] = {0, 0, 0, 0};
  uint8_t input[WG_HASH_LEN];
  counting(input, 0x00);

  /* output = H("wg-queue-step" || input || circuit u8 || sequence u64 || work_start || work_end || H(tail)) */
  uint8_t pre[13 + 32 + 1 + 8 + 16 + 32], output[WG_HASH_LEN];
  memcpy(pre, "wg-queue-step", 13);
  memcpy(pre + 13, input, 32);
  pre[45] = 0x01;
  memcpy(pre + 46, header + 26, 8);
  memcpy(pre + 54, work, 16);
  wg_blake2s(n_logs, sizeof n_logs, pre + 70);
  wg_blake2s(pre, sizeof pre, output);

  uint8_t expected[118];
  memcpy(expected, header, 34);
  memcpy(expected + 34, work, 16);
  memcpy(expected + 50, input, 32);
  memcpy(expected + 82, output, 32);
  memcpy(expected + 114, n_logs, 4);

  struct wg_basic_witness w;
  vector_basic(&w);
  uint8_t *blob, out[WG_HASH_LEN];
  size_t len;
  encode_basic(&w, out, &blob, &len);
  ck_assert_uint_eq(len, sizeof expected);
  ck_assert_mem_eq(blob, expected, sizeof expected);
  ck_assert_mem_eq(out, output, WG_HASH_LEN);
  expect_hex(expected, sizeof expected, golden_basic);
  expect_hex(output, WG_HASH_LEN, golden_basic_out);
  free(blob);
}
END_TEST

START_TEST(basic_golden)
{
  struct wg_basic_witness w;
  vector_basic(&w);
  uint8_t *blob, out[WG_HASH_LEN];
  size_t len;
  encode_basic(&w, out, &blob, &len);
  expect_hex(blob, len, golden_basic);
  expect_hex(out, WG_HASH_LEN, golden_basic_out);
  free(blob);
}
END_TEST

START_TEST(storage_golden)
{
  struct wg_basic_witness w;
  vector_storage(&w);
  uint8_t *blob, out[WG_HASH_LEN];
  size_t len;
  encode_basic(&w, out, &blob, &len);
  ck_assert_uint_eq(len, 492);
  expect_hex(blob, len, golden_storage);
  expect_hex(out, WG_HASH_LEN, golden_storage_out);
  /* The output commitment is also stored in the blob, and the reseal formula agrees with it. */
  ck_assert_mem_eq(blob + OFF_OUTPUT, out, WG_HASH_LEN);
  reseal(blob, len);
  expect_hex(blob, len, golden_storage);
  free(blob);
}
END_TEST

START_TEST(leaf_golden)
{
  struct wg_aggregation_witness w;
  vector_leaf(&w);
  uint8_t *blob;
  size_t len;
  encode_aggregation(&w, &blob, &len);
  ck_assert_uint_eq(len, 158);
  expect_hex(blob, len, golden_leaf);
  free(blob);
}
END_TEST

START_TEST(scheduler_golden)
{
  struct wg_aggregation_witness w;
  vector_scheduler(&w);
  uint8_t *blob;
  size_t len;
  encode_aggregation(&w, &blob, &len);
  ck_assert_uint_eq(len, 182);
  expect_hex(blob, len, golden_scheduler);
  free(blob);
}
END_TEST

START_TEST(node_layout)
{
  struct wg_aggregation_witness w;
  vector_node(&w);
  uint8_t *blob;
  size_t len;
  encode_aggregation(&w, &blob, &len);
  ck_assert_uint_eq(len, HEADER_LEN + 4 + 2 * 40);
  ck_assert_uint_eq(blob[OFF_KIND], 2);
  ck_assert_uint_eq(blob[OFF_CIRCUIT_ID], 15);
  static const uint8_t depth_seq[12] = {0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
  ck_assert_mem_eq(blob + OFF_DEPTH, depth_seq, sizeof depth_seq);
  ck_assert_uint_eq(read_be(blob + OFF_N_PROOFS, 4), 2);
  free(blob);
}
END_TEST

/* ---- the queue chain ---- */

START_TEST(chain_main_vm)
{
  /* Four main_vm circuits over 20000 units, encoded in order the way the basic round does. */
  const uint64_t capacity = 5390, work = 20000;
  uint8_t input[WG_HASH_LEN], prev_out[WG_HASH_LEN], start[WG_HASH_LEN];
  wg_witness_queue_start(42, 1, start);
  memcpy(input, start, WG_HASH_LEN);
  for (uint64_t seq = 0; seq * capacity < work; seq++) {
    struct wg_basic_witness w = {0};
    w.l1_batch_number = 42;
    w.protocol_version = 24;
    w.circuit_id = 1;
    w.sequence_number = seq;
    w.work_start = seq * capacity;
    w.work_end = (seq + 1) * capacity < work ? (seq + 1) * capacity : work;
    memcpy(w.input_commitment, input, WG_HASH_LEN);
    uint8_t *blob, out[WG_HASH_LEN];
    size_t len;
    encode_basic(&w, out, &blob, &len);
    if (seq == 0)
      ck_assert_mem_eq(blob + OFF_INPUT, start, WG_HASH_LEN);
    else
      ck_assert_mem_eq(blob + OFF_INPUT, prev_out, WG_HASH_LEN);
    ck_assert_mem_eq(blob + OFF_OUTPUT, out, WG_HASH_LEN);
    ck_assert_mem_ne(out, input, WG_HASH_LEN);
    ck_assert(decodes(blob, len));

    /* Deterministic: the same witness gives the same bytes. */
    uint8_t *again, out2[WG_HASH_LEN];
    size_t len2;
    encode_basic(&w, out2, &again, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(blob, again, len);
    free(again);

    memcpy(prev_out, out, WG_HASH_LEN);
    memcpy(input, out, WG_HASH_LEN);
    free(blob);
  }
}
END_TEST

START_TEST(chain_storage)
{
  struct wg_basic_witness w;
  vector_storage(&w);
  uint8_t *first, *second, out1[WG_HASH_LEN], out2[WG_HASH_LEN];
  size_t len1, len2;
  encode_basic(&w, out1, &first, &len1);
  /* The next circuit continues the queue and the roots. */
  memcpy(w.input_commitment, out1, WG_HASH_LEN);
  memcpy(w.root_before, w.root_after, WG_HASH_LEN);
  fill(w.root_after, 0xcc);
  w.sequence_number = 2;
  w.work_start = 35;
  w.work_end = 36;
  w.logs = &storage_logs[1];
  w.n_logs = 1;
  encode_basic(&w, out2, &second, &len2);
  ck_assert_mem_eq(second + OFF_INPUT, first + OFF_OUTPUT, WG_HASH_LEN);
  ck_assert_mem_ne(out1, out2, WG_HASH_LEN);
  ck_assert(decodes(second, len2));
  free(first);
  free(second);
}
END_TEST

START_TEST(commitment_binds_every_field)
{
  /* Changing any committed field of a circuit changes its output commitment. */
  struct wg_basic_witness base;
  vector_storage(&base);
  uint8_t *blob, ref[WG_HASH_LEN], out[WG_HASH_LEN];
  size_t len;
  encode_basic(&base, ref, &blob, &len);
  free(blob);
  for (int field = 0; field < 8; field++) {
    struct wg_basic_witness w;
    vector_storage(&w);
    switch (field) {
    case 0: w.input_commitment[31] ^= 1; break;
    case 1: w.sequence_number++; break;
    case 2: w.work_start--; break;
    case 3: w.work_end++; break;
    case 4: w.root_before[0] ^= 1; break;
    case 5: w.root_after[0] ^= 1; break;
    case 6: storage_logs[1].value_read[5] ^= 1; break;
    default: storage_logs[0].first_write = false; break;
    }
    encode_basic(&w, out, &blob, &len);
    ck_assert_msg(memcmp(out, ref, WG_HASH_LEN) != 0, "field %d is not committed", field);
    free(blob);
  }
}
END_TEST

/* ---- decoding ---- */

START_TEST(decode_header_round_trip)
{
  static const struct {
    enum wg_witness_kind kind;
    int circuit_id, depth;
    uint64_t sequence;
  } expect[N_SAMPLES] = {
    {WG_WITNESS_BASIC, 1, 0, 3},
    {WG_WITNESS_BASIC, 10, 0, 1},
    {WG_WITNESS_LEAF, 3, 0, 2},
    {WG_WITNESS_SCHEDULER, 0, 0, 0},
    {WG_WITNESS_NODE, 15, 0x01020304, 0x0a0b0c0d0e0f1011ULL},
  };
  for (int i = 0; i < N_SAMPLES; i++) {
    uint8_t *blob;
    size_t len;
    sample_blob(i, &blob, &len);
    struct wg_witness_header h;
    memset(&h, 0xff, sizeof h);
    ck_assert_int_eq(wg_witness_decode_header(blob, len, &h), 0);
    ck_assert_uint_eq(h.format_version, WG_WITNESS_FORMAT_VERSION);
    ck_assert_int_eq(h.kind, expect[i].kind);
    ck_assert_uint_eq(h.l1_batch_number, 74565);
    ck_assert_uint_eq(h.protocol_version, 24);
    ck_assert_int_eq(h.circuit_id, expect[i].circuit_id);
    ck_assert_int_eq(h.depth, expect[i].depth);
    ck_assert_uint_eq(h.sequence_number, expect[i].sequence);
    free(blob);
  }
}
END_TEST

START_TEST(decode_proofs_round_trip)
{
  for (int i = 2; i < N_SAMPLES; i++) {
    struct wg_aggregation_witness w;
    if (i == 2)
      vector_leaf(&w);
    else if (i == 3)
      vector_scheduler(&w);
    else
      vector_node(&w);
    uint8_t *blob;
    size_t len;
    encode_aggregation(&w, &blob, &len);
    struct wg_proof_ref *proofs = NULL;
    size_t n = 0;
    ck_assert_int_eq(wg_witness_decode_proofs(blob, len, &proofs, &n), 0);
    ck_assert_uint_eq(n, w.n_proofs);
    for (size_t j = 0; j < n; j++) {
      ck_assert_int_eq(proofs[j].prover_job_id, w.proofs[j].prover_job_id);
      ck_assert_mem_eq(proofs[j].proof_hash, w.proofs[j].proof_hash, WG_HASH_LEN);
    }
    free(proofs);
    free(blob);
  }
}
END_TEST

START_TEST(decode_proofs_rejects_basic)
{
  for (int i = 0; i < 2; i++) {
    uint8_t *blob;
    size_t len;
    sample_blob(i, &blob, &len);
    struct wg_proof_ref *proofs = NULL;
    size_t n = 0;
    ck_assert_int_eq(wg_witness_decode_proofs(blob, len, &proofs, &n), -1);
    ck_assert_ptr_null(proofs);
    free(blob);
  }
}
END_TEST

START_TEST(decode_large_job_ids)
{
  struct wg_aggregation_witness w;
  vector_leaf(&w);
  leaf_proofs[1].prover_job_id = INT64_MAX;
  uint8_t *blob;
  size_t len;
  encode_aggregation(&w, &blob, &len);
  ck_assert_uint_eq(read_be(blob + OFF_N_PROOFS + 4 + 40, 8), (uint64_t)INT64_MAX);
  struct wg_proof_ref *proofs;
  size_t n;
  ck_assert_int_eq(wg_witness_decode_proofs(blob, len, &proofs, &n), 0);
  ck_assert_int_eq(proofs[1].prover_job_id, INT64_MAX);
  free(proofs);
  /* 2^63 is not a job id. */
  blob[OFF_N_PROOFS + 4 + 40] = 0x80;
  ck_assert(!decodes(blob, len));
  ck_assert_int_eq(wg_witness_decode_proofs(blob, len, &proofs, &n), -1);
  free(blob);
}
END_TEST

/* ---- rejection ---- */

START_TEST(every_prefix_is_rejected)
{
  for (int i = 0; i < N_SAMPLES; i++) {
    uint8_t *blob;
    size_t len;
    sample_blob(i, &blob, &len);
    ck_assert(decodes(blob, len));
    for (size_t cut = 0; cut < len; cut++) {
      /* An exact-size copy, so that valgrind sees any read past the end. */
      uint8_t *prefix = malloc(cut > 0 ? cut : 1);
      ck_assert_ptr_nonnull(prefix);
      memcpy(prefix, blob, cut);
      struct wg_witness_header h;
      struct wg_proof_ref *proofs = NULL;
      size_t n = 0;
      ck_assert_msg(wg_witness_decode_header(prefix, cut, &h) == -1, "sample %d prefix %zu decoded", i, cut);
      ck_assert_int_eq(wg_witness_decode_proofs(prefix, cut, &proofs, &n), -1);
      ck_assert_ptr_null(proofs);
      free(prefix);
    }
    free(blob);
  }
  struct wg_witness_header h;
  ck_assert_int_eq(wg_witness_decode_header(NULL, 0, &h), -1);
}
END_TEST

START_TEST(trailing_bytes_are_rejected)
{
  for (int i = 0; i < N_SAMPLES; i++) {
    uint8_t *blob;
    size_t len;
    sample_blob(i, &blob, &len);
    for (size_t extra = 1; extra <= 40; extra += 39) {
      uint8_t *longer = dup_bytes(blob, len, extra);
      if (i < 2)
        reseal(longer, len + extra); /* even with a commitment that covers them */
      ck_assert(!decodes(longer, len + extra));
      struct wg_proof_ref *proofs = NULL;
      size_t n;
      ck_assert_int_eq(wg_witness_decode_proofs(longer, len + extra, &proofs, &n), -1);
      free(longer);
    }
    free(blob);
  }
}
END_TEST

START_TEST(header_fields_are_checked)
{
  for (int i = 0; i < N_SAMPLES; i++) {
    uint8_t *blob;
    size_t len;
    sample_blob(i, &blob, &len);
    uint8_t *bad = dup_bytes(blob, len, 0);

    bad[0] = 'X'; /* magic */
    ck_assert(!decodes(bad, len));
    memcpy(bad, blob, len);
    be(bad + OFF_VERSION, 0, 4);
    ck_assert(!decodes(bad, len));
    be(bad + OFF_VERSION, 2, 4);
    ck_assert(!decodes(bad, len));
    be(bad + OFF_VERSION, 0x01000000, 4); /* version 1 in the wrong byte order */
    ck_assert(!decodes(bad, len));
    memcpy(bad, blob, len);
    bad[OFF_KIND] = 4;
    ck_assert(!decodes(bad, len));
    bad[OFF_KIND] = 0xff;
    ck_assert(!decodes(bad, len));
    memcpy(bad, blob, len);
    be(bad + OFF_DEPTH, 0x80000000u, 4); /* beyond int */
    ck_assert(!decodes(bad, len));

    free(bad);
    free(blob);
  }
}
END_TEST

START_TEST(kind_rules_are_checked)
{
  uint8_t *blob, *bad;
  size_t len;

  /* basic: depth 0, circuit 1..255 */
  sample_blob(0, &blob, &len);
  bad = dup_bytes(blob, len, 0);
  be(bad + OFF_DEPTH, 1, 4);
  ck_assert(!decodes(bad, len));
  memcpy(bad, blob, len);
  bad[OFF_CIRCUIT_ID] = 0;
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  bad[OFF_CIRCUIT_ID] = 200; /* any other u8 id is fine */
  reseal(bad, len);
  ck_assert(decodes(bad, len));
  free(bad);
  free(blob);

  /* scheduler: circuit 0, depth 0 */
  sample_blob(3, &blob, &len);
  bad = dup_bytes(blob, len, 0);
  bad[OFF_CIRCUIT_ID] = 1;
  ck_assert(!decodes(bad, len));
  memcpy(bad, blob, len);
  be(bad + OFF_DEPTH, 1, 4);
  ck_assert(!decodes(bad, len));
  /* a scheduler blob without its public input is a node-shaped blob of the wrong kind */
  memcpy(bad, blob, len);
  ck_assert(!decodes(bad, len - 64));
  free(bad);
  free(blob);

  /* leaf: circuit 0 is not a basic type */
  sample_blob(2, &blob, &len);
  bad = dup_bytes(blob, len, 0);
  bad[OFF_CIRCUIT_ID] = 0;
  ck_assert(!decodes(bad, len));
  /* the same bytes relabelled as a scheduler lack the public input */
  bad[OFF_KIND] = WG_WITNESS_SCHEDULER;
  ck_assert(!decodes(bad, len));
  free(bad);
  free(blob);
}
END_TEST

START_TEST(basic_body_is_checked)
{
  uint8_t *blob, *bad;
  size_t len;

  sample_blob(0, &blob, &len);
  ck_assert(decodes(blob, len));
  bad = dup_bytes(blob, len, 0);
  /* a wrong output commitment */
  bad[OFF_OUTPUT + 7] ^= 0x40;
  ck_assert(!decodes(bad, len));
  /* a changed input commitment no longer leads to the stored output */
  memcpy(bad, blob, len);
  bad[OFF_INPUT] ^= 1;
  ck_assert(!decodes(bad, len));
  /* work_start > work_end, even when resealed */
  memcpy(bad, blob, len);
  be(bad + OFF_WORK_START, 21561, 8);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  be(bad + OFF_WORK_START, 21560, 8); /* an empty range is allowed */
  reseal(bad, len);
  ck_assert(decodes(bad, len));
  /* logs outside storage_application */
  memcpy(bad, blob, len);
  be(bad + OFF_TAIL, 1, 4);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  free(bad);
  free(blob);
}
END_TEST

START_TEST(storage_logs_are_checked)
{
  uint8_t *blob, *bad;
  size_t len;
  sample_blob(1, &blob, &len);
  const size_t log0 = OFF_TAIL + 4 + 64;  /* first log entry */
  const size_t flags0 = log0 + 32 + 8;
  const size_t path_len0 = flags0 + 1 + 64;
  const size_t log1 = path_len0 + 2 + 2 * 32;

  bad = dup_bytes(blob, len, 32);
  /* reserved flag bits */
  bad[flags0] |= 0x04;
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  memcpy(bad, blob, len);
  bad[log1 + 40] = 0x80;
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  /* all four legal flag combinations decode */
  for (uint8_t f = 0; f < 4; f++) {
    memcpy(bad, blob, len);
    bad[flags0] = f;
    reseal(bad, len);
    ck_assert(decodes(bad, len));
  }
  /* a path length that disagrees with the bytes, either way */
  memcpy(bad, blob, len);
  be(bad + path_len0, 3, 2);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  be(bad + path_len0, 1, 2);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  free(bad);

  /* n_logs larger or smaller than the entries present */
  bad = dup_bytes(blob, len, 0);
  be(bad + OFF_TAIL, 3, 4);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  be(bad + OFF_TAIL, 1, 4);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  be(bad + OFF_TAIL, 0xffffffffu, 4);
  reseal(bad, len);
  ck_assert(!decodes(bad, len));
  free(bad);
  free(blob);

  /* 256 siblings is the most a path holds; 257 is rejected even when every byte is there. */
  static uint8_t long_path[WG_TREE_DEPTH][WG_HASH_LEN];
  struct wg_basic_witness w;
  vector_storage(&w);
  storage_logs[0].path = long_path;
  storage_logs[0].path_len = WG_TREE_DEPTH;
  uint8_t out[WG_HASH_LEN];
  encode_basic(&w, out, &blob, &len);
  ck_assert_uint_eq(len, 492 + 254 * 32);
  ck_assert(decodes(blob, len));
  bad = dup_bytes(blob, len, 32);
  memmove(bad + log1 + 254 * 32 + 32, bad + log1 + 254 * 32, len - (log1 + 254 * 32));
  be(bad + path_len0, WG_TREE_DEPTH + 1, 2);
  reseal(bad, len + 32);
  ck_assert(!decodes(bad, len + 32));
  free(bad);
  free(blob);
}
END_TEST

START_TEST(aggregation_body_is_checked)
{
  uint8_t *blob, *bad;
  size_t len;
  sample_blob(2, &blob, &len);
  bad = dup_bytes(blob, len, 0);
  struct wg_proof_ref *proofs = NULL;
  size_t n;
  /* n_proofs that disagrees with the bytes, or asks for an absurd allocation */
  static const uint32_t counts[] = {0, 1, 2, 4, 0x06666666u, 0xffffffffu};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    be(bad + OFF_N_PROOFS, counts[i], 4);
    ck_assert(!decodes(bad, len));
    ck_assert_int_eq(wg_witness_decode_proofs(bad, len, &proofs, &n), -1);
    ck_assert_ptr_null(proofs);
  }
  /* no proofs at all */
  be(bad + OFF_N_PROOFS, 0, 4);
  ck_assert(!decodes(bad, HEADER_LEN + 4));
  free(bad);
  free(blob);
}
END_TEST

START_TEST(encoder_refuses_invalid_witnesses)
{
  struct wg_basic_witness b;
  struct wg_aggregation_witness a;
  uint8_t out[WG_HASH_LEN], *blob = NULL;
  size_t len = 0;
  static const int bad_basic_ids[] = {-1, 0, 256, 1000};
  for (size_t i = 0; i < sizeof bad_basic_ids / sizeof bad_basic_ids[0]; i++) {
    vector_basic(&b);
    b.circuit_id = bad_basic_ids[i];
    ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), -1);
  }
  vector_basic(&b);
  b.work_start = b.work_end + 1;
  ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), -1);
  vector_basic(&b); /* logs on a circuit that is not storage_application */
  b.logs = storage_logs;
  b.n_logs = 1;
  ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), -1);
  vector_storage(&b);
  storage_logs[1].path_len = WG_TREE_DEPTH + 1;
  ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), -1);
  vector_storage(&b);
  b.logs = NULL;
  ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), -1);
  vector_storage(&b); /* a storage circuit without logs is still a valid blob */
  b.logs = NULL;
  b.n_logs = 0;
  ck_assert_int_eq(wg_witness_encode_basic(&b, out, &blob, &len), 0);
  ck_assert_uint_eq(len, 118 + 64);
  ck_assert(decodes(blob, len));
  free(blob);
  blob = NULL;

  vector_leaf(&a);
  a.kind = WG_WITNESS_BASIC;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_leaf(&a);
  a.kind = (enum wg_witness_kind)7;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_leaf(&a);
  a.n_proofs = 0;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_leaf(&a);
  a.circuit_id = 0;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_leaf(&a);
  a.circuit_id = 256;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_node(&a);
  a.depth = -1;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_leaf(&a);
  leaf_proofs[2].prover_job_id = -5;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_scheduler(&a);
  a.circuit_id = 1;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  vector_scheduler(&a);
  a.depth = 1;
  ck_assert_int_eq(wg_witness_encode_aggregation(&a, &blob, &len), -1);
  ck_assert_ptr_null(blob);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("witness");
  TCase *golden = tcase_create("golden");
  tcase_add_test(golden, queue_start_golden);
  tcase_add_test(golden, basic_built_by_hand);
  tcase_add_test(golden, basic_golden);
  tcase_add_test(golden, storage_golden);
  tcase_add_test(golden, leaf_golden);
  tcase_add_test(golden, scheduler_golden);
  tcase_add_test(golden, node_layout);
  suite_add_tcase(s, golden);

  TCase *chain = tcase_create("chain");
  tcase_add_test(chain, chain_main_vm);
  tcase_add_test(chain, chain_storage);
  tcase_add_test(chain, commitment_binds_every_field);
  suite_add_tcase(s, chain);

  TCase *decode = tcase_create("decode");
  tcase_add_test(decode, decode_header_round_trip);
  tcase_add_test(decode, decode_proofs_round_trip);
  tcase_add_test(decode, decode_proofs_rejects_basic);
  tcase_add_test(decode, decode_large_job_ids);
  suite_add_tcase(s, decode);

  TCase *reject = tcase_create("reject");
  tcase_set_timeout(reject, 60); /* the prefix walk is slow under valgrind */
  tcase_add_test(reject, every_prefix_is_rejected);
  tcase_add_test(reject, trailing_bytes_are_rejected);
  tcase_add_test(reject, header_fields_are_checked);
  tcase_add_test(reject, kind_rules_are_checked);
  tcase_add_test(reject, basic_body_is_checked);
  tcase_add_test(reject, storage_logs_are_checked);
  tcase_add_test(reject, aggregation_body_is_checked);
  tcase_add_test(reject, encoder_refuses_invalid_witnesses);
  suite_add_tcase(s, reject);

  return wg_check_run(s);
}
