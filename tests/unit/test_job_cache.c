/* Unit tests for src/db/job_cache.c, the witness-location cache of claimed prover jobs: an entry
 * answers only for its id under its own claim's lease, slots are shared by ids and taken by the
 * newest, forget and clear work, and concurrent use never returns a mix of two entries. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/job_cache.h"

/* A lease hash made from a number, distinct for distinct numbers. */
static void lease_of(uint64_t n, uint8_t hash[32])
{
  for (int i = 0; i < 32; i++)
    hash[i] = (uint8_t)((n >> (8 * (i % 8))) ^ (uint8_t)(i * 37));
}

/* A job whose every cached field is derived from (id, generation): a job read back can be checked
 * field by field against the pair its id and lease name. */
static void job_of(int64_t id, uint64_t generation, struct wg_prover_job *j)
{
  memset(j, 0, sizeof *j);
  int64_t g = (int64_t)generation;
  j->id = id;
  j->l1_batch_number = id * 7 + g;
  j->sequence_number = id * 11 + g;
  j->witness_offset = id * 13 + g;
  j->witness_length = id * 17 + g;
  j->witness_pack_id = id * 19 + g;
  j->protocol_version = (int)(id * 3 + g);
  j->aggregation_round = (int)((id + g) % 4);
  j->circuit_id = (int)(id * 5 + g);
  j->depth = (int)(id + 2 * g);
  j->witness_pack = (int)(id * 23 + g);
  lease_of((uint64_t)id * 1000003u + generation, j->lease_hash);
  /* Not cached: a get must not invent them. */
  snprintf(j->status, sizeof j->status, "in_progress");
  j->attempts = 5;
}

/* The fields a hit must give back, and only those (status and holder come from the database). */
static void assert_job_is(const struct wg_prover_job *got, int64_t id, uint64_t generation)
{
  struct wg_prover_job want;
  job_of(id, generation, &want);
  ck_assert_int_eq(got->id, want.id);
  ck_assert_int_eq(got->l1_batch_number, want.l1_batch_number);
  ck_assert_int_eq(got->sequence_number, want.sequence_number);
  ck_assert_int_eq(got->witness_offset, want.witness_offset);
  ck_assert_int_eq(got->witness_length, want.witness_length);
  ck_assert_int_eq(got->witness_pack_id, want.witness_pack_id);
  ck_assert_int_eq(got->protocol_version, want.protocol_version);
  ck_assert_int_eq(got->aggregation_round, want.aggregation_round);
  ck_assert_int_eq(got->circuit_id, want.circuit_id);
  ck_assert_int_eq(got->depth, want.depth);
  ck_assert_int_eq(got->witness_pack, want.witness_pack);
}

static bool get(struct wg_job_cache *c, int64_t id, uint64_t generation, struct wg_prover_job *out)
{
  uint8_t hash[32];
  lease_of((uint64_t)id * 1000003u + generation, hash);
  return wg_job_cache_get(c, id, hash, out);
}

static void put(struct wg_job_cache *c, int64_t id, uint64_t generation)
{
  struct wg_prover_job j;
  job_of(id, generation, &j);
  wg_job_cache_put(c, &j);
}

/* Protects: an entry answers for its id under its claim's lease only. Another lease for the same
 * id (a later claim, or the same id in another incarnation of its batch) misses, and so does
 * another id under the same lease. A hit fills the location, not the status. */
START_TEST(entry_is_keyed_by_id_and_lease)
{
  struct wg_job_cache *c = wg_job_cache_new(64);
  ck_assert_ptr_nonnull(c);
  put(c, 42, 1);
  struct wg_prover_job got;
  memset(&got, 0x5a, sizeof got);
  ck_assert(get(c, 42, 1, &got));
  assert_job_is(&got, 42, 1);
  ck_assert_str_eq(got.status, "");
  ck_assert_int_eq(got.attempts, 0);

  ck_assert(!get(c, 42, 2, &got)); /* another claim of job 42 */
  struct wg_prover_job j42;
  job_of(42, 1, &j42);
  ck_assert(!wg_job_cache_get(c, 43, j42.lease_hash, &got)); /* the lease of job 42, for job 43 */
  ck_assert(!wg_job_cache_get(c, 42 + 64, j42.lease_hash, &got)); /* same slot, same lease, other id */

  /* A new claim of the same id replaces the old claim's entry: its lease no longer answers. */
  put(c, 42, 2);
  ck_assert(!get(c, 42, 1, &got));
  ck_assert(get(c, 42, 2, &got));
  assert_job_is(&got, 42, 2);
  wg_job_cache_free(c);
}
END_TEST

/* Protects: the table is direct-mapped, so a newer id that maps to an occupied slot evicts the
 * older one, and entries of other slots stay. */
START_TEST(newer_id_evicts_older_in_same_slot)
{
  struct wg_job_cache *c = wg_job_cache_new(4);
  ck_assert_ptr_nonnull(c);
  struct wg_prover_job got;
  put(c, 3, 1);
  put(c, 5, 1);
  put(c, 7, 1); /* 7 % 4 == 3 % 4 */
  ck_assert(!get(c, 3, 1, &got));
  ck_assert(get(c, 7, 1, &got));
  assert_job_is(&got, 7, 1);
  ck_assert(get(c, 5, 1, &got));
  assert_job_is(&got, 5, 1);
  wg_job_cache_free(c);
}
END_TEST

/* Protects: forget removes its id only (not another id that shares the slot), and clear removes
 * everything (after a failover nothing cached may answer). */
START_TEST(forget_and_clear)
{
  struct wg_job_cache *c = wg_job_cache_new(4);
  ck_assert_ptr_nonnull(c);
  struct wg_prover_job got;
  put(c, 1, 1);
  put(c, 2, 1);
  put(c, 3, 1);
  wg_job_cache_forget(c, 1);
  ck_assert(!get(c, 1, 1, &got));
  wg_job_cache_forget(c, 6); /* slot of 2, but not 2 */
  ck_assert(get(c, 2, 1, &got));
  wg_job_cache_forget(c, 99); /* never cached */
  ck_assert(get(c, 3, 1, &got));

  wg_job_cache_clear(c);
  ck_assert(!get(c, 2, 1, &got));
  ck_assert(!get(c, 3, 1, &got));
  /* Usable after a clear. */
  put(c, 2, 3);
  ck_assert(get(c, 2, 3, &got));
  assert_job_is(&got, 2, 3);
  wg_job_cache_free(c);
}
END_TEST

/* Protects: ids <= 0 are never stored nor found: an empty slot (id 0, a zero lease hash) must not
 * answer, and a put of id 0 or a negative id must not overwrite the entry of a real job. */
START_TEST(ids_not_positive_are_ignored)
{
  struct wg_job_cache *c = wg_job_cache_new(4);
  ck_assert_ptr_nonnull(c);
  struct wg_prover_job got;
  uint8_t zero[32] = {0};
  ck_assert(!wg_job_cache_get(c, 0, zero, &got));

  put(c, 4, 1); /* slot 0 */
  struct wg_prover_job j;
  job_of(0, 1, &j);
  wg_job_cache_put(c, &j);
  ck_assert(!wg_job_cache_get(c, 0, j.lease_hash, &got));
  job_of(-4, 1, &j);
  wg_job_cache_put(c, &j);
  ck_assert(!wg_job_cache_get(c, -4, j.lease_hash, &got));
  ck_assert(get(c, 4, 1, &got));
  assert_job_is(&got, 4, 1);
  wg_job_cache_forget(c, 0);
  wg_job_cache_forget(c, -4);
  ck_assert(get(c, 4, 1, &got));

  /* A daemon without a cache passes NULL. */
  wg_job_cache_put(NULL, &j);
  ck_assert(!wg_job_cache_get(NULL, 4, zero, &got));
  wg_job_cache_forget(NULL, 4);
  wg_job_cache_clear(NULL);
  wg_job_cache_free(c);
  wg_job_cache_free(NULL);
}
END_TEST

/* The stress: threads put, get, forget and clear ids that share a few slots. */
#define STRESS_THREADS 6
#define STRESS_ROUNDS 100000
#define STRESS_IDS 48
#define STRESS_GENERATIONS 3

struct stress {
  struct wg_job_cache *cache;
  unsigned seed;
  bool clears;
  atomic_long hits, misses, wrong;
};

static void *stress_main(void *arg)
{
  struct stress *s = arg;
  unsigned seed = s->seed;
  long hits = 0, misses = 0, wrong = 0;
  for (int i = 0; i < STRESS_ROUNDS; i++) {
    int64_t id = 1 + rand_r(&seed) % STRESS_IDS;
    uint64_t generation = (uint64_t)(rand_r(&seed) % STRESS_GENERATIONS);
    int op = rand_r(&seed) % 100;
    if (op < 45) {
      put(s->cache, id, generation);
    } else if (op < 98) {
      struct wg_prover_job got;
      if (get(s->cache, id, generation, &got)) {
        struct wg_prover_job want;
        job_of(id, generation, &want);
        /* Every field of one put, never a mix of two. */
        if (got.id != want.id || got.l1_batch_number != want.l1_batch_number ||
            got.sequence_number != want.sequence_number || got.witness_offset != want.witness_offset ||
            got.witness_length != want.witness_length || got.witness_pack_id != want.witness_pack_id ||
            got.protocol_version != want.protocol_version || got.aggregation_round != want.aggregation_round ||
            got.circuit_id != want.circuit_id || got.depth != want.depth || got.witness_pack != want.witness_pack)
          wrong++;
        hits++;
      } else {
        misses++;
      }
    } else if (op < 99 || !s->clears) {
      wg_job_cache_forget(s->cache, id);
    } else {
      wg_job_cache_clear(s->cache);
    }
  }
  atomic_store(&s->hits, hits);
  atomic_store(&s->misses, misses);
  atomic_store(&s->wrong, wrong);
  return NULL;
}

/* Protects: the cache is safe to share between the HTTP threads. With ids colliding in 16 slots
 * and three claims (generations) per id, every hit must have the fields of exactly the put its id
 * and lease name; hits and misses both happen, so both paths were exercised. */
START_TEST(concurrent_use_never_mixes_entries)
{
  struct wg_job_cache *c = wg_job_cache_new(16);
  ck_assert_ptr_nonnull(c);
  struct stress s[STRESS_THREADS];
  pthread_t t[STRESS_THREADS];
  for (int i = 0; i < STRESS_THREADS; i++) {
    s[i].cache = c;
    s[i].seed = 12345u + (unsigned)i * 7919u;
    s[i].clears = i == 0;
    atomic_init(&s[i].hits, 0);
    atomic_init(&s[i].misses, 0);
    atomic_init(&s[i].wrong, 0);
    ck_assert_int_eq(pthread_create(&t[i], NULL, stress_main, &s[i]), 0);
  }
  long hits = 0, misses = 0, wrong = 0;
  for (int i = 0; i < STRESS_THREADS; i++) {
    pthread_join(t[i], NULL);
    hits += atomic_load(&s[i].hits);
    misses += atomic_load(&s[i].misses);
    wrong += atomic_load(&s[i].wrong);
  }
  ck_assert_int_eq(wrong, 0);
  ck_assert_int_gt(hits, 1000);
  ck_assert_int_gt(misses, 1000);
  wg_job_cache_free(c);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("job_cache");
  TCase *tc = tcase_create("job_cache");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, entry_is_keyed_by_id_and_lease);
  tcase_add_test(tc, newer_id_evicts_older_in_same_slot);
  tcase_add_test(tc, forget_and_clear);
  tcase_add_test(tc, ids_not_positive_are_ignored);
  tcase_add_test(tc, concurrent_use_never_mixes_entries);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
