/* Unit tests for src/prover: the reference proof scheme and proof hashes. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "prover/scheme.h"

static const struct wg_proof_scheme *const scheme = &wg_scheme_reference;

/* "WGREF1" || BLAKE2s-256(""), and BLAKE2s-256 of that proof. */
static const char empty_proof_hex[] =
  "574752454631" "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9";
static const char empty_proof_hash_hex[] = "08d5cd7676f4330573b400adaa3ec7a64970177867199b53c866ef94ce138fec";

/* The reference proof of golden vector 3 (the leaf witness) of api/witness-format.md. */
static const char leaf_witness_hex[] =
  "5747575400000001010000000000012345000000180300000000000000000000000200000003"
  "0000000000000065a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
  "a1a10000000000000066a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
  "a2a2a2a20000000000000067a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
  "a3a3a3a3a3a3";
static const char leaf_proof_hex[] = "5747524546315a39d557c06623d9467b44fe123beb2b9f95c6e9eac184bad47c84c7b0ef0f70";

static void expect_hex(const uint8_t *bytes, size_t len, const char *expected)
{
  char *hex = malloc(2 * len + 1);
  ck_assert_ptr_nonnull(hex);
  wg_hex_encode(bytes, len, hex);
  ck_assert_str_eq(hex, expected);
  free(hex);
}

/* Decodes unprefixed hex through the project codec into a malloc'd buffer of exactly *len bytes. */
static uint8_t *from_hex(const char *hex, size_t *len)
{
  size_t digits = strlen(hex);
  char *prefixed = malloc(digits + 3);
  ck_assert_ptr_nonnull(prefixed);
  memcpy(prefixed, "0x", 2);
  memcpy(prefixed + 2, hex, digits + 1);
  *len = digits / 2;
  uint8_t *out = malloc(*len);
  ck_assert_ptr_nonnull(out);
  ck_assert(wg_hex_decode_fixed(prefixed, out, *len));
  free(prefixed);
  return out;
}

static void prove(const uint8_t *witness, size_t len, uint8_t **proof, size_t *proof_len)
{
  ck_assert_int_eq(scheme->prove(witness, len, proof, proof_len), 0);
}

START_TEST(name_is_reference)
{
  ck_assert_str_eq(scheme->name, "reference");
}
END_TEST

START_TEST(empty_witness_vector)
{
  uint8_t *proof;
  size_t len;
  static const uint8_t nothing[1] = {0};
  prove(nothing, 0, &proof, &len);
  ck_assert_uint_eq(len, 38);
  expect_hex(proof, len, empty_proof_hex);
  ck_assert(scheme->verify(nothing, 0, proof, len));
  ck_assert(scheme->verify(NULL, 0, proof, len));
  uint8_t hash[32];
  wg_proof_hash(proof, len, hash);
  expect_hex(hash, 32, empty_proof_hash_hex);
  free(proof);

  prove(NULL, 0, &proof, &len); /* an empty witness may come as NULL */
  expect_hex(proof, len, empty_proof_hex);
  free(proof);
}
END_TEST

START_TEST(proof_hash_of_nothing)
{
  uint8_t hash[32];
  wg_proof_hash(NULL, 0, hash);
  expect_hex(hash, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}
END_TEST

START_TEST(golden_leaf_witness_vector)
{
  size_t wlen, plen;
  uint8_t *witness = from_hex(leaf_witness_hex, &wlen);
  uint8_t *expected = from_hex(leaf_proof_hex, &plen);
  uint8_t *proof;
  size_t len;
  prove(witness, wlen, &proof, &len);
  ck_assert_uint_eq(len, plen);
  ck_assert_mem_eq(proof, expected, plen);
  ck_assert(scheme->verify(witness, wlen, expected, plen));
  free(proof);
  free(expected);
  free(witness);
}
END_TEST

START_TEST(prove_then_verify)
{
  uint8_t witness[1000];
  for (size_t i = 0; i < sizeof witness; i++)
    witness[i] = (uint8_t)(i * 7 + 3);
  for (size_t wlen = 0; wlen <= sizeof witness; wlen += 125) {
    uint8_t *proof;
    size_t len;
    prove(witness, wlen, &proof, &len);
    ck_assert_uint_eq(len, 38);
    ck_assert_mem_eq(proof, "WGREF1", 6);
    ck_assert(scheme->verify(witness, wlen, proof, len));
    /* deterministic */
    uint8_t *again;
    size_t len2;
    prove(witness, wlen, &again, &len2);
    ck_assert_mem_eq(proof, again, len);
    free(again);
    free(proof);
  }
}
END_TEST

START_TEST(flipped_proof_byte_fails)
{
  static const uint8_t witness[] = "a witness blob";
  uint8_t *proof;
  size_t len;
  prove(witness, sizeof witness, &proof, &len);
  for (size_t i = 0; i < len; i++)
    for (int bit = 0; bit < 8; bit++) {
      proof[i] ^= (uint8_t)(1u << bit);
      ck_assert_msg(!scheme->verify(witness, sizeof witness, proof, len), "byte %zu bit %d", i, bit);
      proof[i] ^= (uint8_t)(1u << bit);
    }
  ck_assert(scheme->verify(witness, sizeof witness, proof, len));
  free(proof);
}
END_TEST

START_TEST(flipped_witness_byte_fails)
{
  uint8_t witness[64];
  memset(witness, 0x5a, sizeof witness);
  uint8_t *proof;
  size_t len;
  prove(witness, sizeof witness, &proof, &len);
  for (size_t i = 0; i < sizeof witness; i++) {
    witness[i] ^= 0x01;
    ck_assert(!scheme->verify(witness, sizeof witness, proof, len));
    witness[i] ^= 0x01;
  }
  /* a shorter or longer witness is a different witness */
  ck_assert(!scheme->verify(witness, sizeof witness - 1, proof, len));
  uint8_t longer[65];
  memcpy(longer, witness, 64);
  longer[64] = 0;
  ck_assert(!scheme->verify(longer, sizeof longer, proof, len));
  ck_assert(scheme->verify(witness, sizeof witness, proof, len));
  free(proof);
}
END_TEST

START_TEST(wrong_length_or_prefix_fails)
{
  static const uint8_t witness[] = {1, 2, 3};
  uint8_t *proof;
  size_t len;
  prove(witness, sizeof witness, &proof, &len);
  uint8_t buf[40];
  memcpy(buf, proof, len);
  buf[38] = buf[39] = 0;
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 0));
  ck_assert(!scheme->verify(witness, sizeof witness, NULL, 0));
  ck_assert(!scheme->verify(witness, sizeof witness, NULL, 38));
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 6));  /* prefix only */
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 37)); /* truncated */
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 39)); /* trailing byte */
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 40));
  ck_assert(!scheme->verify(witness, sizeof witness, buf + 6, 32)); /* the bare hash */
  memcpy(buf, "WGREF2", 6);
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 38));
  memcpy(buf, "wgref1", 6);
  ck_assert(!scheme->verify(witness, sizeof witness, buf, 38));
  memcpy(buf, "WGREF1", 6);
  ck_assert(scheme->verify(witness, sizeof witness, buf, 38));
  free(proof);
}
END_TEST

START_TEST(proof_hash_names_proofs)
{
  uint8_t a[32], b[32];
  static const uint8_t p1[] = "proof one", p2[] = "proof two";
  wg_proof_hash(p1, sizeof p1, a);
  wg_proof_hash(p1, sizeof p1, b);
  ck_assert_mem_eq(a, b, 32);
  wg_proof_hash(p2, sizeof p2, b);
  ck_assert_mem_ne(a, b, 32);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("scheme");
  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, name_is_reference);
  tcase_add_test(tc, empty_witness_vector);
  tcase_add_test(tc, proof_hash_of_nothing);
  tcase_add_test(tc, golden_leaf_witness_vector);
  tcase_add_test(tc, prove_then_verify);
  tcase_add_test(tc, flipped_proof_byte_fails);
  tcase_add_test(tc, flipped_witness_byte_fails);
  tcase_add_test(tc, wrong_length_or_prefix_fails);
  tcase_add_test(tc, proof_hash_names_proofs);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
