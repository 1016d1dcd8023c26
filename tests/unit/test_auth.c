/* Unit tests for src/auth/token.c: token format and hashing, role names and the role rules of
 * docs/api.md (Access), and parsing the Authorization header; and for the negative cache of
 * unknown token hashes (src/auth/negative_cache.c). */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/negative_cache.h"

static void to_hex(const uint8_t *in, size_t len, char *out)
{
  for (size_t i = 0; i < len; i++)
    sprintf(out + 2 * i, "%02x", in[i]);
}

START_TEST(token_format)
{
  char token[WG_TOKEN_LEN + 1];
  memset(token, 'X', sizeof token);
  ck_assert(wg_token_generate(token));
  ck_assert_uint_eq(strlen(token), 68);
  ck_assert_int_eq(WG_TOKEN_LEN, 68);
  ck_assert_int_eq(strncmp(token, "wgt_", 4), 0);
  ck_assert_str_eq(WG_TOKEN_PREFIX, "wgt_");
  for (size_t i = 4; i < 68; i++)
    ck_assert_msg((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f'),
                  "character %zu of %s is not lowercase hex", i, token);
  /* A token is a valid bearer credential as it is. */
  char header[100];
  snprintf(header, sizeof header, "Bearer %s", token);
  ck_assert_str_eq(wg_bearer_token(header), token);
}
END_TEST

START_TEST(tokens_are_unique)
{
  char a[WG_TOKEN_LEN + 1], b[WG_TOKEN_LEN + 1], c[WG_TOKEN_LEN + 1];
  ck_assert(wg_token_generate(a));
  ck_assert(wg_token_generate(b));
  ck_assert(wg_token_generate(c));
  ck_assert_str_ne(a, b);
  ck_assert_str_ne(a, c);
  ck_assert_str_ne(b, c);
  /* Not merely a different suffix: the random parts differ throughout. */
  ck_assert_int_ne(memcmp(a + 4, b + 4, 16), 0);
}
END_TEST

START_TEST(token_hash_known_vectors)
{
  static const struct {
    const char *text, *sha256; /* the hex digests were computed with `printf %s TEXT | sha256sum` */
  } vectors[] = {
    {"wgt_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
     "01eeef9d0f2a3884046cc29cb6ed90f00735b219a1187a98dabc536389229b35"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  };
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    uint8_t got[32], want[32];
    char hex[65];
    wg_token_hash(vectors[i].text, got);
    to_hex(got, 32, hex);
    ck_assert_str_eq(hex, vectors[i].sha256);
    SHA256((const unsigned char *)vectors[i].text, strlen(vectors[i].text), want);
    ck_assert_mem_eq(got, want, 32);
  }
}
END_TEST

START_TEST(token_hash_of_generated)
{
  char token[WG_TOKEN_LEN + 1];
  ck_assert(wg_token_generate(token));
  uint8_t got[32], want[32];
  wg_token_hash(token, got);
  SHA256((const unsigned char *)token, strlen(token), want);
  ck_assert_mem_eq(got, want, 32);
  /* The hash covers the whole string: one character more or less changes it. */
  token[67] = token[67] == 'a' ? 'b' : 'a';
  wg_token_hash(token, want);
  ck_assert_int_ne(memcmp(got, want, 32), 0);
}
END_TEST

START_TEST(role_names)
{
  static const struct {
    const char *name;
    enum wg_role role;
  } roles[] = {
    {"tree", WG_ROLE_TREE}, {"prover", WG_ROLE_PROVER}, {"viewer", WG_ROLE_VIEWER}, {"admin", WG_ROLE_ADMIN}};
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
    ck_assert_int_eq(wg_role_parse(roles[i].name), roles[i].role);
    ck_assert_str_eq(wg_role_name(roles[i].role), roles[i].name);
  }
  ck_assert_str_eq(wg_role_name(WG_ROLE_NONE), "none");
  ck_assert_str_eq(wg_role_name(WG_ROLE_ANYONE), "anyone");
  /* Only the four real roles parse; nothing else, not even the names of NONE and ANYONE. */
  const char *bad[] = {"Admin", "ADMIN", "admin ", " admin", "", "none", "anyone", "root", "viewers", "tre"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(wg_role_parse(bad[i]) == WG_ROLE_NONE, "\"%s\" parsed as a role", bad[i]);
  ck_assert_int_eq(wg_role_parse(NULL), WG_ROLE_NONE);
}
END_TEST

/* The full matrix: for each caller role, which route roles it may call, for GET and for other
 * methods. admin: everything; viewer: every GET (and nothing else) but a HOLDER's (a witness
 * download); tree, prover: their own routes, and the prover HOLDER routes; ANYONE routes:
 * everybody; a caller without a role: only ANYONE routes. */
START_TEST(role_matrix)
{
  enum { T = 1, F = 0 };
  static const enum wg_role needs[] = {WG_ROLE_TREE,  WG_ROLE_PROVER, WG_ROLE_VIEWER,
                                       WG_ROLE_ADMIN, WG_ROLE_ANYONE, WG_ROLE_HOLDER};
  static const struct {
    enum wg_role have;
    int get[6], other[6]; /* in the order of needs[] */
  } rows[] = {
    /*                         tree prover viewer admin anyone holder */
    {WG_ROLE_NONE, /* GET */ {F, F, F, F, T, F}, /* other */ {F, F, F, F, T, F}},
    {WG_ROLE_TREE, {T, F, F, F, T, F}, {T, F, F, F, T, F}},
    {WG_ROLE_PROVER, {F, T, F, F, T, T}, {F, T, F, F, T, T}},
    {WG_ROLE_VIEWER, {T, T, T, T, T, F}, {F, F, T, F, T, F}},
    {WG_ROLE_ADMIN, {T, T, T, T, T, T}, {T, T, T, T, T, T}},
  };
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    for (size_t n = 0; n < 6; n++) {
      bool get = wg_role_allows(rows[r].have, needs[n], true);
      bool other = wg_role_allows(rows[r].have, needs[n], false);
      ck_assert_msg(get == rows[r].get[n], "role %s, route role %s, GET: %s", wg_role_name(rows[r].have),
                    wg_role_name(needs[n]), get ? "allowed" : "refused");
      ck_assert_msg(other == rows[r].other[n], "role %s, route role %s, not GET: %s", wg_role_name(rows[r].have),
                    wg_role_name(needs[n]), other ? "allowed" : "refused");
    }
}
END_TEST

START_TEST(bearer_header)
{
  const char *h = "Bearer wgt_abc123";
  ck_assert_ptr_eq(wg_bearer_token(h), h + 7); /* points into the header, no copy */
  ck_assert_str_eq(wg_bearer_token("bearer wgt_abc"), "wgt_abc"); /* the scheme is case-insensitive */
  ck_assert_str_eq(wg_bearer_token("BEARER wgt_abc"), "wgt_abc");
  ck_assert_str_eq(wg_bearer_token("Bearer    wgt_abc"), "wgt_abc");
  ck_assert_str_eq(wg_bearer_token("Bearer a~!#$%&'*+-.^_`|=/"), "a~!#$%&'*+-.^_`|=/");

  const char *bad[] = {
    "",              "wgt_abc",           "Bearer",            "Bearer ",           "Bearer    ",
    "Bearerwgt_abc", "Basic x",           "Basic d2c6d2c=",    "Token wgt_abc",     " Bearer wgt_abc",
    "Bearer a b",    "Bearer wgt_abc ",   "Bearer wgt\tabc",   "Bearer wgt\nabc",   "Bearer wgt\rabc",
    "Bearer \x01",   "Bearer wgt\x7f",    "Bearer wgt\xc3\xa9", "Bearer\twgt_abc",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(wg_bearer_token(bad[i]) == NULL, "header \"%s\" gave a token", bad[i]);
  ck_assert_ptr_null(wg_bearer_token(NULL));
}
END_TEST

START_TEST(negative_cache_remembers_for_its_ttl)
{
  static struct wg_negative_cache nc; /* 160 KiB: not on the stack */
  wg_negative_cache_clear(&nc);
  uint8_t h[32];
  wg_token_hash("wgt_unknown", h);
  ck_assert(!wg_negative_cache_hit(&nc, h, 1000));
  wg_negative_cache_add(&nc, h, 1000, 1000);
  ck_assert(wg_negative_cache_hit(&nc, h, 1000));
  ck_assert(wg_negative_cache_hit(&nc, h, 1999));
  ck_assert(!wg_negative_cache_hit(&nc, h, 2000)); /* about a second, no more */
  wg_negative_cache_add(&nc, h, 5000, 1000);
  ck_assert(wg_negative_cache_hit(&nc, h, 5500));
  wg_negative_cache_clear(&nc); /* a reload of the table forgets everything */
  ck_assert(!wg_negative_cache_hit(&nc, h, 5500));
}
END_TEST

START_TEST(negative_cache_compares_whole_hashes)
{
  static struct wg_negative_cache nc;
  wg_negative_cache_clear(&nc);
  uint8_t a[32], b[32];
  wg_token_hash("wgt_a", a);
  memcpy(b, a, 32);
  b[31] ^= 1; /* same slot, another hash */
  wg_negative_cache_add(&nc, a, 0, 1000);
  ck_assert(!wg_negative_cache_hit(&nc, b, 10));
  /* The later one takes the slot: the earlier one is only forgotten, never confused. */
  wg_negative_cache_add(&nc, b, 10, 1000);
  ck_assert(wg_negative_cache_hit(&nc, b, 20));
  ck_assert(!wg_negative_cache_hit(&nc, a, 20));
}
END_TEST

START_TEST(negative_cache_is_bounded)
{
  static struct wg_negative_cache nc;
  wg_negative_cache_clear(&nc);
  ck_assert_uint_eq(sizeof nc, (size_t)WG_NEGATIVE_CACHE_SLOTS * (32 + 8));
  /* A flood of distinct unknown tokens fills slots and no more; the latest ones are remembered. */
  char token[32];
  uint8_t h[32];
  int remembered = 0;
  for (int i = 0; i < 100000; i++) {
    snprintf(token, sizeof token, "wgt_%d", i);
    wg_token_hash(token, h);
    wg_negative_cache_add(&nc, h, 0, 1000);
  }
  for (int i = 100000 - 100; i < 100000; i++) {
    snprintf(token, sizeof token, "wgt_%d", i);
    wg_token_hash(token, h);
    remembered += wg_negative_cache_hit(&nc, h, 1);
  }
  ck_assert_int_ge(remembered, 95); /* a few of the last 100 may share a slot */
}
END_TEST

int main(void)
{
  Suite *s = suite_create("auth");
  TCase *tc = tcase_create("auth");
  tcase_add_test(tc, token_format);
  tcase_add_test(tc, tokens_are_unique);
  tcase_add_test(tc, token_hash_known_vectors);
  tcase_add_test(tc, token_hash_of_generated);
  tcase_add_test(tc, role_names);
  tcase_add_test(tc, role_matrix);
  tcase_add_test(tc, bearer_header);
  tcase_add_test(tc, negative_cache_remembers_for_its_ttl);
  tcase_add_test(tc, negative_cache_compares_whole_hashes);
  tcase_add_test(tc, negative_cache_is_bounded);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
