/* Unit tests for the reply helpers (src/http/reply.c) and the gzip decoder (src/http/gzip.c):
 * the one error body of docs/api.md, the status and code of every result, and bodies that
 * decode to garbage or to more than the limit. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/status.h"
#include "http/server.h"

/* ------------------------------------------------------------------ error bodies */

/* Parses an error body back and checks it holds exactly error.code and error.message. */
static void assert_error_body(const char *text, const char *code, const char *message)
{
  json_error_t jerr;
  json_t *root = json_loads(text, 0, &jerr);
  ck_assert_msg(root != NULL, "not JSON (%s): %s", jerr.text, text);
  ck_assert(json_is_object(root));
  ck_assert_int_eq(json_object_size(root), 1);
  json_t *error = json_object_get(root, "error");
  ck_assert(json_is_object(error));
  ck_assert_int_eq(json_object_size(error), 2);
  ck_assert(json_is_string(json_object_get(error, "code")));
  ck_assert(json_is_string(json_object_get(error, "message")));
  ck_assert_str_eq(json_string_value(json_object_get(error, "code")), code);
  ck_assert_str_eq(json_string_value(json_object_get(error, "message")), message);
  json_decref(root);
}

START_TEST(error_body_exact)
{
  char *text = wg_error_body("not_found", "no such batch");
  ck_assert_ptr_nonnull(text);
  ck_assert_str_eq(text, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such batch\"}}");
  assert_error_body(text, "not_found", "no such batch");
  free(text);
}
END_TEST

START_TEST(error_body_escapes)
{
  const char *message = "field \"prover_id\" at C:\\path\tis\nbad / {}";
  char *text = wg_error_body("bad_request", message);
  ck_assert_ptr_nonnull(text);
  ck_assert_str_eq(text, "{\"error\":{\"code\":\"bad_request\",\"message\":"
                         "\"field \\\"prover_id\\\" at C:\\\\path\\tis\\nbad / {}\"}}");
  assert_error_body(text, "bad_request", message);
  free(text);

  /* UTF-8 passes through; an empty message is still a string. */
  text = wg_error_body("invalid_input", "r\xc3\xa9sum\xc3\xa9");
  ck_assert_ptr_nonnull(text);
  assert_error_body(text, "invalid_input", "r\xc3\xa9sum\xc3\xa9");
  free(text);
  text = wg_error_body("internal", "");
  ck_assert_ptr_nonnull(text);
  assert_error_body(text, "internal", "");
  free(text);

  /* Invalid UTF-8 must never produce invalid JSON: either no body or a valid one. */
  text = wg_error_body("bad_request", "bad byte \xff here");
  if (text != NULL) {
    json_t *root = json_loads(text, 0, NULL);
    ck_assert_msg(root != NULL, "invalid JSON for a message with a bad byte: %s", text);
    json_decref(root);
    free(text);
  }
}
END_TEST

static const char *const spec_codes[] = {
  "bad_request", "invalid_input", "unauthorized", "forbidden",          "not_found",   "method_not_allowed",
  "conflict",    "lease_lost",    "payload_too_large", "unsupported_media_type", "unavailable", "internal",
};

static int is_spec_code(const char *code)
{
  for (size_t i = 0; i < sizeof spec_codes / sizeof spec_codes[0]; i++)
    if (strcmp(code, spec_codes[i]) == 0)
      return 1;
  return 0;
}

START_TEST(status_mapping)
{
  static const struct {
    enum wg_status s;
    unsigned http;
    const char *code;
  } want[] = {
    {WG_E_NOT_FOUND, 404, "not_found"},   {WG_E_CONFLICT, 409, "conflict"},
    {WG_E_LEASE_LOST, 409, "lease_lost"}, {WG_E_INVALID, 400, "invalid_input"},
    {WG_E_UNAVAILABLE, 503, "unavailable"}, {WG_E_INTERNAL, 500, "internal"},
  };
  ck_assert_uint_eq(wg_http_status_of(WG_OK), 200);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ck_assert_uint_eq(wg_http_status_of(want[i].s), want[i].http);
    ck_assert_str_eq(wg_error_code_of(want[i].s), want[i].code);
    ck_assert(is_spec_code(wg_error_code_of(want[i].s)));
    /* The log name is the same word as the error code. */
    ck_assert_str_eq(wg_status_name(want[i].s), want[i].code);
  }
  /* Every enumerator from WG_OK to WG_E_INTERNAL is covered above. */
  ck_assert_int_eq(WG_E_INTERNAL, (int)(sizeof want / sizeof want[0]));
  /* A value out of range is an internal error, not a crash or a success. */
  ck_assert_uint_eq(wg_http_status_of((enum wg_status)99), 500);
  ck_assert_str_eq(wg_error_code_of((enum wg_status)99), "internal");
}
END_TEST

/* ------------------------------------------------------------------ gzip */

/* Gzip-compresses len bytes of data; *out_len set, the caller frees. */
static uint8_t *gzip_bytes(const void *data, size_t len, size_t *out_len)
{
  z_stream z = {0};
  ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  size_t cap = deflateBound(&z, (uLong)len) + 64;
  uint8_t *out = malloc(cap);
  ck_assert_ptr_nonnull(out);
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  return out;
}

/* Gzip of n zero bytes, made in chunks so that the n bytes never exist in memory. */
static uint8_t *gzip_zeros(size_t n, size_t *out_len)
{
  static uint8_t zeros[1 << 16];
  z_stream z = {0};
  ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  size_t cap = n / 500 + 4096, used = 0; /* deflate shrinks zeros about 1000-fold */
  uint8_t *out = malloc(cap);
  ck_assert_ptr_nonnull(out);
  size_t left = n;
  int r;
  do {
    size_t chunk = left < sizeof zeros ? left : sizeof zeros;
    left -= chunk;
    z.next_in = zeros;
    z.avail_in = (uInt)chunk;
    int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = out + used;
      z.avail_out = (uInt)(cap - used);
      r = deflate(&z, flush);
      ck_assert_int_ne(r, Z_STREAM_ERROR);
      used = cap - z.avail_out;
      ck_assert_msg(used < cap, "gzip of zeros larger than expected");
    } while (z.avail_in != 0 || (flush == Z_FINISH && r != Z_STREAM_END));
  } while (left != 0);
  deflateEnd(&z);
  *out_len = used;
  return out;
}

static const char *sample =
  "{\"l1_batch_number\":42,\"protocol_version\":24,\"storage_logs\":[],\"circuit_workload\":{\"main_vm\":1}}";

START_TEST(gunzip_valid)
{
  size_t gz_len, out_len = 0;
  uint8_t *gz = gzip_bytes(sample, strlen(sample), &gz_len), *out = NULL;
  ck_assert_int_eq(wg_gunzip(gz, gz_len, 1 << 20, NULL, NULL, &out, &out_len), WG_OK);
  ck_assert_uint_eq(out_len, strlen(sample));
  ck_assert_mem_eq(out, sample, out_len);
  ck_assert_int_eq(out[out_len], '\0'); /* NUL-terminated for convenience */
  free(out);
  free(gz);

  /* An empty body compresses to a valid, empty stream. */
  gz = gzip_bytes("", 0, &gz_len);
  out = NULL;
  ck_assert_int_eq(wg_gunzip(gz, gz_len, 1024, NULL, NULL, &out, &out_len), WG_OK);
  ck_assert_uint_eq(out_len, 0);
  ck_assert_ptr_nonnull(out);
  free(out);
  free(gz);
}
END_TEST

/* Output much larger than the input (the buffer must grow) and output that hardly compresses. */
START_TEST(gunzip_growth)
{
  size_t n = 700 * 1000, gz_len, out_len;
  uint8_t *plain = malloc(n), *out = NULL;
  ck_assert_ptr_nonnull(plain);
  for (size_t i = 0; i < n; i++)
    plain[i] = (uint8_t)('a' + (i / 1000) % 26);
  uint8_t *gz = gzip_bytes(plain, n, &gz_len);
  ck_assert_uint_lt(gz_len * 20, n);
  ck_assert_int_eq(wg_gunzip(gz, gz_len, n, NULL, NULL, &out, &out_len), WG_OK); /* exactly at the limit */
  ck_assert_uint_eq(out_len, n);
  ck_assert_mem_eq(out, plain, n);
  free(out);
  free(gz);

  uint32_t x = 2463534242u; /* xorshift: bytes that do not compress */
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    plain[i] = (uint8_t)x;
  }
  gz = gzip_bytes(plain, n, &gz_len);
  out = NULL;
  ck_assert_int_eq(wg_gunzip(gz, gz_len, 4 * n, NULL, NULL, &out, &out_len), WG_OK);
  ck_assert_uint_eq(out_len, n);
  ck_assert_mem_eq(out, plain, n);
  free(out);
  free(gz);
  free(plain);
}
END_TEST

/* The grow hook sees every byte the output buffer takes, and its refusal ends the decoding. */
struct grant {
  size_t left, granted;
};

static bool grant_up_to(void *arg, size_t bytes)
{
  struct grant *g = arg;
  if (bytes > g->left)
    return false;
  g->left -= bytes;
  g->granted += bytes;
  return true;
}

START_TEST(gunzip_grow_hook)
{
  size_t n = 700 * 1000, gz_len, out_len = 0;
  uint8_t *plain = calloc(1, n), *out = NULL;
  ck_assert_ptr_nonnull(plain);
  uint8_t *gz = gzip_bytes(plain, n, &gz_len);
  struct grant g = {SIZE_MAX, 0};
  ck_assert_int_eq(wg_gunzip(gz, gz_len, n, grant_up_to, &g, &out, &out_len), WG_OK);
  ck_assert_uint_eq(out_len, n);
  ck_assert_uint_ge(g.granted, n + 1); /* at least the output and its NUL */
  ck_assert_uint_le(g.granted, n + 2); /* and no more than the buffer: at most limit + 1, plus the NUL */
  free(out);

  /* Refused half way: WG_E_UNAVAILABLE, nothing handed out, no more taken than granted. */
  g = (struct grant){n / 2, 0};
  out = NULL;
  ck_assert_int_eq(wg_gunzip(gz, gz_len, n, grant_up_to, &g, &out, &out_len), WG_E_UNAVAILABLE);
  ck_assert_ptr_null(out);
  ck_assert_uint_le(g.granted, n / 2);
  free(gz);
  free(plain);
}
END_TEST

static void assert_gunzip(const uint8_t *in, size_t len, size_t limit, enum wg_status want, const char *what)
{
  uint8_t sentinel = 0, *out = &sentinel;
  size_t out_len = 12345;
  enum wg_status s = wg_gunzip(in, len, limit, NULL, NULL, &out, &out_len);
  ck_assert_msg(s == want, "%s: wg_gunzip returned %s, expected %s", what, wg_status_name(s), wg_status_name(want));
  if (s == WG_OK) {
    free(out);
  } else {
    /* Nothing is handed out on failure. */
    ck_assert_ptr_eq(out, &sentinel);
  }
}

START_TEST(gunzip_corrupt)
{
  size_t gz_len;
  uint8_t *gz = gzip_bytes(sample, strlen(sample), &gz_len);
  uint8_t *bad = malloc(gz_len + 16);
  ck_assert_ptr_nonnull(bad);

  assert_gunzip((const uint8_t *)sample, strlen(sample), 1 << 20, WG_E_INVALID, "plain JSON, not gzip");
  assert_gunzip(gz, 0, 1 << 20, WG_E_INVALID, "empty input");

  memcpy(bad, gz, gz_len);
  bad[0] ^= 0xff;
  assert_gunzip(bad, gz_len, 1 << 20, WG_E_INVALID, "bad magic");

  memcpy(bad, gz, gz_len);
  bad[gz_len - 6] ^= 0x55; /* inside the CRC-32 of the trailer */
  assert_gunzip(bad, gz_len, 1 << 20, WG_E_INVALID, "bad CRC");

  memcpy(bad, gz, gz_len);
  bad[gz_len - 2] ^= 0x01; /* the length (ISIZE) of the trailer */
  assert_gunzip(bad, gz_len, 1 << 20, WG_E_INVALID, "bad length");

  memcpy(bad, gz, gz_len);
  for (size_t i = 12; i < gz_len - 8; i += 3)
    bad[i] ^= 0xa5; /* the deflate data itself */
  assert_gunzip(bad, gz_len, 1 << 20, WG_E_INVALID, "damaged deflate data");

  /* Truncated anywhere: in the header, the data, or the trailer. */
  size_t cuts[] = {1, 5, 10, gz_len / 2, gz_len - 8, gz_len - 4, gz_len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    char what[64];
    snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], gz_len);
    assert_gunzip(gz, cuts[i], 1 << 20, WG_E_INVALID, what);
  }

  /* Trailing garbage after a complete member. */
  memcpy(bad, gz, gz_len);
  memcpy(bad + gz_len, "garbage", 7);
  assert_gunzip(bad, gz_len + 7, 1 << 20, WG_E_INVALID, "trailing garbage");
  memcpy(bad + gz_len, "\0", 1);
  assert_gunzip(bad, gz_len + 1, 1 << 20, WG_E_INVALID, "one trailing NUL byte");

  free(bad);
  free(gz);
}
END_TEST

START_TEST(gunzip_over_limit)
{
  size_t n = 10000, gz_len;
  char *plain = malloc(n);
  ck_assert_ptr_nonnull(plain);
  for (size_t i = 0; i < n; i++)
    plain[i] = (char)('0' + i % 10);
  uint8_t *gz = gzip_bytes(plain, n, &gz_len);
  assert_gunzip(gz, gz_len, n, WG_OK, "exactly the limit");
  assert_gunzip(gz, gz_len, n - 1, WG_E_CONFLICT, "one byte over the limit");
  assert_gunzip(gz, gz_len, 1024, WG_E_CONFLICT, "far over the limit");
  free(gz);
  free(plain);
}
END_TEST

/* Peak resident memory of this process, in kB (VmHWM), or -1. */
static long peak_rss_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

/* 100 MB of zeros gzip to about 100 kB; with a 1 MB limit the decoder must stop at the limit
 * instead of inflating (and holding) all of it. */
START_TEST(gunzip_bomb)
{
  size_t bomb_size = 100u * 1024 * 1024, gz_len;
  uint8_t *gz = gzip_zeros(bomb_size, &gz_len);
  ck_assert_uint_lt(gz_len, 1024 * 1024);

  long before = peak_rss_kb();
  assert_gunzip(gz, gz_len, 1024 * 1024, WG_E_CONFLICT, "100 MB of zeros, 1 MB limit");
  long after = peak_rss_kb();
  if (before >= 0 && after >= 0)
    ck_assert_msg(after - before < 24 * 1024, "peak memory grew by %ld kB while refusing a gzip bomb",
                  after - before);

  /* The same stream is fine with a limit that holds it: it really decodes to 100 MB. */
  uint8_t *out = NULL;
  size_t out_len = 0;
  ck_assert_int_eq(wg_gunzip(gz, gz_len, bomb_size, NULL, NULL, &out, &out_len), WG_OK);
  ck_assert_uint_eq(out_len, bomb_size);
  ck_assert_int_eq(out[0], 0);
  ck_assert_int_eq(out[bomb_size - 1], 0);
  free(out);
  free(gz);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("reply");
  TCase *tc = tcase_create("errors");
  tcase_add_test(tc, error_body_exact);
  tcase_add_test(tc, error_body_escapes);
  tcase_add_test(tc, status_mapping);
  suite_add_tcase(s, tc);
  tc = tcase_create("gzip");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, gunzip_valid);
  tcase_add_test(tc, gunzip_growth);
  tcase_add_test(tc, gunzip_grow_hook);
  tcase_add_test(tc, gunzip_corrupt);
  tcase_add_test(tc, gunzip_over_limit);
  tcase_add_test(tc, gunzip_bomb);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
