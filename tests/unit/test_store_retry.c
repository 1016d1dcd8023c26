/* Unit tests for the retries inside the round (src/store/store.c, wg_store_set_retry_pause),
 * against a backend of the test's own that fails as each test says: what is tried again, how
 * often, with the round's pause between tries, and what is not. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"

/* The fake backend: its next `failures` calls fail WG_E_UNAVAILABLE, transient or not. */
struct fake_store {
  struct wg_store base;
  int failures;
  bool transient;
  int calls;
  size_t last_len;
  uint8_t last[64];
};

static enum wg_status fake_fail_or(struct fake_store *f, enum wg_status ok)
{
  f->calls++;
  if (f->failures == 0)
    return ok;
  f->failures--;
  wg_store_set_reason("fake: HTTP 503 SlowDown (call %d)", f->calls);
  if (f->transient)
    wg_store_set_transient();
  return WG_E_UNAVAILABLE;
}

static enum wg_status fake_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  (void)c;
  (void)key;
  struct fake_store *f = (struct fake_store *)s;
  f->last_len = len < sizeof f->last ? len : sizeof f->last;
  memcpy(f->last, data, f->last_len);
  return fake_fail_or(f, WG_OK);
}

static enum wg_status fake_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  (void)c;
  (void)key;
  struct fake_store *f = (struct fake_store *)s;
  enum wg_status st = fake_fail_or(f, WG_OK);
  if (st == WG_OK) {
    *data = (uint8_t *)strdup("blob");
    *len = 4;
  }
  return st;
}

static enum wg_status fake_get_range(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset,
                                     size_t len, uint8_t **data)
{
  (void)c;
  (void)key;
  (void)offset;
  (void)len;
  (void)data;
  return fake_fail_or((struct fake_store *)s, WG_E_NOT_FOUND);
}

static enum wg_status fake_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix)
{
  (void)s;
  (void)c;
  (void)prefix;
  return WG_OK;
}

static void fake_close(struct wg_store *s) { (void)s; }

static const struct wg_store_ops fake_ops = {.put = fake_put, .get = fake_get, .get_range = fake_get_range,
                                             .delete_prefix = fake_delete_prefix, .close = fake_close,
                                             .database_backed = false};

static struct fake_store fake_new(int failures, bool transient)
{
  return (struct fake_store){.base = {&fake_ops}, .failures = failures, .transient = transient};
}

/* The round's checkpoint, as the test wants it to answer. */
struct pause {
  int calls;
  enum wg_status answer;
};

static enum wg_status pause_fn(void *arg)
{
  struct pause *p = arg;
  p->calls++;
  return p->answer;
}

START_TEST(transient_failures_are_tried_again_with_the_pause_between)
{
  struct fake_store f = fake_new(2, true);
  struct pause p = {0, WG_OK};
  wg_store_set_retry_pause(pause_fn, &p);
  uint8_t *data = NULL;
  size_t len = 0;
  ck_assert_int_eq(wg_store_get(&f.base, NULL, "k", &data, &len), WG_OK);
  ck_assert_int_eq(f.calls, 3);
  ck_assert_int_eq(p.calls, 2);
  ck_assert_str_eq((char *)data, "blob");
  ck_assert_str_eq(wg_store_reason(), "");
  free(data);
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

START_TEST(without_a_pause_nothing_is_tried_again)
{
  struct fake_store f = fake_new(1, true);
  ck_assert_int_eq(wg_store_put(&f.base, NULL, "k", "x", 1), WG_E_UNAVAILABLE);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_str_eq(wg_store_reason(), "fake: HTTP 503 SlowDown (call 1)");
}
END_TEST

START_TEST(a_failure_not_transient_is_not_tried_again)
{
  struct fake_store f = fake_new(1, false);
  struct pause p = {0, WG_OK};
  wg_store_set_retry_pause(pause_fn, &p);
  ck_assert_int_eq(wg_store_put(&f.base, NULL, "k", "x", 1), WG_E_UNAVAILABLE);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_int_eq(p.calls, 0);
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

START_TEST(the_last_failure_is_returned_with_its_reason)
{
  struct fake_store f = fake_new(100, true);
  struct pause p = {0, WG_OK};
  wg_store_set_retry_pause(pause_fn, &p);
  ck_assert_int_eq(wg_store_put(&f.base, NULL, "k", "x", 1), WG_E_UNAVAILABLE);
  ck_assert_int_eq(f.calls, 1 + WG_STORE_RETRIES);
  ck_assert_int_eq(p.calls, WG_STORE_RETRIES);
  ck_assert_str_eq(wg_store_reason(), "fake: HTTP 503 SlowDown (call 4)");
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

START_TEST(the_pause_stops_the_retries)
{
  struct fake_store f = fake_new(100, true);
  struct pause p = {0, WG_E_LEASE_LOST};
  wg_store_set_retry_pause(pause_fn, &p);
  uint8_t *data = NULL;
  ck_assert_int_eq(wg_store_get_range(&f.base, NULL, "k", 0, 4, &data), WG_E_LEASE_LOST);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_int_eq(p.calls, 1);
  /* The store's own words stay, for the job's error. */
  ck_assert_str_eq(wg_store_reason(), "fake: HTTP 503 SlowDown (call 1)");
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

START_TEST(a_missing_blob_is_not_tried_again)
{
  struct fake_store f = fake_new(0, true);
  struct pause p = {0, WG_OK};
  wg_store_set_retry_pause(pause_fn, &p);
  uint8_t *data = NULL;
  ck_assert_int_eq(wg_store_get_range(&f.base, NULL, "k", 0, 4, &data), WG_E_NOT_FOUND);
  ck_assert_int_eq(f.calls, 1);
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

START_TEST(a_buffered_pack_keeps_its_bytes_for_the_next_try)
{
  struct fake_store f = fake_new(2, true);
  struct pause p = {0, WG_OK};
  wg_store_set_retry_pause(pause_fn, &p);
  struct wg_pack *pack = wg_pack_begin(&f.base, "batches/1/r0/c0/d0/p1.pack");
  ck_assert_ptr_nonnull(pack);
  uint64_t off;
  ck_assert_int_eq(wg_pack_add(pack, "witness-one", 11, &off), WG_OK);
  ck_assert_int_eq(wg_pack_add(pack, "witness-two", 11, &off), WG_OK);
  ck_assert_int_eq(off, 11);
  ck_assert_int_eq(wg_pack_commit(pack, NULL), WG_OK);
  ck_assert_int_eq(f.calls, 3);
  ck_assert_int_eq(f.last_len, 22);
  ck_assert_int_eq(memcmp(f.last, "witness-onewitness-two", 22), 0);
  wg_store_set_retry_pause(NULL, NULL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("store_retry");
  TCase *tc = tcase_create("store_retry");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, transient_failures_are_tried_again_with_the_pause_between);
  tcase_add_test(tc, without_a_pause_nothing_is_tried_again);
  tcase_add_test(tc, a_failure_not_transient_is_not_tried_again);
  tcase_add_test(tc, the_last_failure_is_returned_with_its_reason);
  tcase_add_test(tc, the_pause_stops_the_retries);
  tcase_add_test(tc, a_missing_blob_is_not_tried_again);
  tcase_add_test(tc, a_buffered_pack_keeps_its_bytes_for_the_next_try);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
