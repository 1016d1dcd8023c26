/* Unit tests for src/db/combiner.c, the group commit under completions and claims: a lone item runs
 * at once, items that pile up behind a running group come as the next one, `fits` and max_group
 * bound a group (a refused item keeps its place), every item is answered exactly once, a group
 * is run again when `run` asks, and stopping refuses what waits.
 *
 * The combiner's conninfo names a port where nothing listens, so `run` gets c == NULL (the
 * database cannot be reached; the refusal is immediate). The test's `run` records each group and
 * then waits at a gate the test opens, so that items can be made to pile up behind it. What is
 * queued cannot be seen from outside; a submitter is given SETTLE_MS after it starts to queue.
 *
 * With WG_DB set (tests/integration/t_unit_db.sh), the "db" case checks that a group run again
 * gets a fresh connection. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <libpq-fe.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "db/combiner.h"

#define UNREACHABLE "host=127.0.0.1 port=1 connect_timeout=1 sslmode=disable gssencmode=disable"
#define SETTLE_MS 150
#define WAIT_MS 10000
#define MAX_RUNS 32
#define MAX_ITEMS 64

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

struct item {
  int id;
  int color; /* items of one color fit together (when the recorder checks colors) */
  atomic_int runs, refusals;
  atomic_int answers_at_return; /* runs + refusals when its submit returned */
  atomic_bool entered, returned;
  pthread_t thread;
  struct wg_combiner *k;
};

/* What the ops saw, and the gate that holds `run`. */
struct recorder {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool colors;           /* fits: same color as the group's first item */
  size_t max_group;      /* for the checks made in run */
  int started, allowed;  /* runs begun; runs let through the gate */
  bool rerun[MAX_RUNS];  /* what run number r returns */
  size_t sizes[MAX_RUNS];
  int members[MAX_RUNS][MAX_ITEMS];
  bool no_conn[MAX_RUNS];
  int backend_pid[MAX_RUNS];
  bool kill_connection;  /* run 0 ends its own backend (db case) */
  atomic_int bad_groups; /* too big, or mixing colors */
  atomic_long items_run;
};

static void recorder_init(struct recorder *r, bool colors, size_t max_group)
{
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->changed, NULL);
  r->colors = colors;
  r->max_group = max_group;
}

static void recorder_destroy(struct recorder *r)
{
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->changed);
}

static bool fits(void *const *group, size_t n, const void *item, void *arg)
{
  struct recorder *r = arg;
  if (n == 0) /* the first item of a group is never asked */
    atomic_fetch_add(&r->bad_groups, 1);
  return !r->colors || ((const struct item *)item)->color == ((const struct item *)group[0])->color;
}

static bool run(struct wg_dbconn *c, void **group, size_t n, void *arg)
{
  struct recorder *r = arg;
  bool bad = n == 0 || n > r->max_group;
  for (size_t i = 1; i < n && r->colors; i++)
    bad |= ((struct item *)group[i])->color != ((struct item *)group[0])->color;
  if (bad)
    atomic_fetch_add(&r->bad_groups, 1);

  int pid = 0;
  if (c != NULL && c->pg != NULL) {
    pid = PQbackendPID(c->pg);
    if (r->kill_connection) {
      r->kill_connection = false;
      PQclear(PQexec(c->pg, "SELECT pg_terminate_backend(pg_backend_pid())"));
    }
  }
  pthread_mutex_lock(&r->lock);
  int me = r->started++;
  if (me < MAX_RUNS) {
    r->sizes[me] = n;
    for (size_t i = 0; i < n && i < MAX_ITEMS; i++)
      r->members[me][i] = ((struct item *)group[i])->id;
    r->no_conn[me] = c == NULL;
    r->backend_pid[me] = pid;
  }
  pthread_cond_broadcast(&r->changed);
  while (r->allowed <= me)
    pthread_cond_wait(&r->changed, &r->lock);
  bool again = me < MAX_RUNS && r->rerun[me];
  pthread_mutex_unlock(&r->lock);

  for (size_t i = 0; i < n; i++)
    atomic_fetch_add(&((struct item *)group[i])->runs, 1);
  atomic_fetch_add(&r->items_run, (long)n);
  return again;
}

static void refuse(void *item, void *arg)
{
  (void)arg;
  atomic_fetch_add(&((struct item *)item)->refusals, 1);
}

static const struct wg_combiner_ops ops = {fits, run, refuse};

/* Waits until `run` has begun n times. */
static bool wait_started(struct recorder *r, int n)
{
  bool ok = true;
  pthread_mutex_lock(&r->lock);
  for (int waited = 0; r->started < n && (ok = waited < WAIT_MS); waited += 10) {
    pthread_mutex_unlock(&r->lock);
    sleep_ms(10);
    pthread_mutex_lock(&r->lock);
  }
  pthread_mutex_unlock(&r->lock);
  return ok;
}

static int started(struct recorder *r)
{
  pthread_mutex_lock(&r->lock);
  int n = r->started;
  pthread_mutex_unlock(&r->lock);
  return n;
}

/* Lets runs 0 .. n-1 finish. */
static void allow(struct recorder *r, int n)
{
  pthread_mutex_lock(&r->lock);
  r->allowed = n;
  pthread_cond_broadcast(&r->changed);
  pthread_mutex_unlock(&r->lock);
}

static bool wait_returned(struct item *it)
{
  for (int waited = 0; !atomic_load(&it->returned); waited += 10) {
    if (waited >= WAIT_MS)
      return false;
    sleep_ms(10);
  }
  return true;
}

/* Plain reads, for readable assertion messages. */
static int runs_of(struct item *it) { return atomic_load(&it->runs); }
static int refusals_of(struct item *it) { return atomic_load(&it->refusals); }
static int answers_at_return_of(struct item *it) { return atomic_load(&it->answers_at_return); }

static void *submitter(void *arg)
{
  struct item *it = arg;
  atomic_store(&it->entered, true);
  wg_combiner_submit(it->k, it);
  atomic_store(&it->answers_at_return, atomic_load(&it->runs) + atomic_load(&it->refusals));
  atomic_store(&it->returned, true);
  return NULL;
}

static void item_init(struct item *it, int id, int color, struct wg_combiner *k)
{
  memset(it, 0, sizeof *it);
  it->id = id;
  it->color = color;
  it->k = k;
}

/* Starts a thread that submits it, and waits until it is about to. */
static void submit_async(struct item *it)
{
  ck_assert_int_eq(pthread_create(&it->thread, NULL, submitter, it), 0);
  while (!atomic_load(&it->entered))
    sleep_ms(1);
}

static void join(struct item *it)
{
  pthread_join(it->thread, NULL);
  ck_assert(atomic_load(&it->returned));
  ck_assert_int_ge(atomic_load(&it->answers_at_return), 1); /* submit waited for its answer */
}

/* Whether run r took exactly the given ids, in this order. */
static bool group_is(struct recorder *r, int run_no, const int *ids, size_t n)
{
  pthread_mutex_lock(&r->lock);
  bool same = r->started > run_no && r->sizes[run_no] == n && memcmp(r->members[run_no], ids, n * sizeof *ids) == 0;
  pthread_mutex_unlock(&r->lock);
  return same;
}

/* Whether run r took exactly the ids first..last, in any order. */
static bool group_has_range(struct recorder *r, int run_no, int first, int last)
{
  pthread_mutex_lock(&r->lock);
  bool same = r->started > run_no && r->sizes[run_no] == (size_t)(last - first + 1);
  for (size_t i = 0; same && i < r->sizes[run_no]; i++)
    same = r->members[run_no][i] >= first && r->members[run_no][i] <= last;
  for (size_t i = 0; same && i < r->sizes[run_no]; i++)
    for (size_t j = i + 1; j < r->sizes[run_no]; j++)
      same &= r->members[run_no][i] != r->members[run_no][j];
  pthread_mutex_unlock(&r->lock);
  return same;
}

static void assert_counts(struct wg_combiner *k, int64_t groups, int64_t items)
{
  int64_t g, n;
  wg_combiner_counts(k, &g, &n);
  ck_assert_int_eq(g, groups);
  ck_assert_int_eq(n, items);
}

/* Protects the combining itself: a lone item runs at once (no timer waits for company), nothing
 * else runs while a group runs, the items that arrived meanwhile come together as the next group
 * and are answered only when it has run; with no database, run gets c == NULL. */
START_TEST(items_behind_a_running_group_form_the_next)
{
  struct recorder r;
  recorder_init(&r, false, 16);
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, 16);
  ck_assert_ptr_nonnull(k);
  struct item it[6];
  for (int i = 0; i < 6; i++)
    item_init(&it[i], i, 0, k);

  submit_async(&it[0]);
  ck_assert(wait_started(&r, 1));
  ck_assert(group_is(&r, 0, (int[]){0}, 1));
  for (int i = 1; i < 6; i++)
    submit_async(&it[i]);
  sleep_ms(SETTLE_MS);
  ck_assert_int_eq(started(&r), 1);
  for (int i = 0; i < 6; i++)
    ck_assert(!atomic_load(&it[i].returned));

  allow(&r, 1);
  ck_assert(wait_started(&r, 2));
  ck_assert(wait_returned(&it[0]));
  ck_assert(group_has_range(&r, 1, 1, 5));
  sleep_ms(SETTLE_MS);
  for (int i = 1; i < 6; i++)
    ck_assert(!atomic_load(&it[i].returned));

  allow(&r, INT_MAX);
  for (int i = 0; i < 6; i++) {
    join(&it[i]);
    ck_assert_int_eq(runs_of(&it[i]), 1);
    ck_assert_int_eq(refusals_of(&it[i]), 0);
  }
  ck_assert_int_eq(started(&r), 2);
  ck_assert(r.no_conn[0] && r.no_conn[1]);
  assert_counts(k, 2, 6);
  wg_combiner_stop(k);
  ck_assert_int_eq(atomic_load(&r.bad_groups), 0);
  recorder_destroy(&r);
}
END_TEST

/* Protects `fits`: a group holds only items that fit with its first, and an item refused keeps
 * its place in the queue. With max_group 2, red 1 and 3 fill a group that refused blue 2; the next
 * group is led by 2, ahead of red 4 (a combiner that sent a refused item to the back would run
 * [4] next, then [5, 2]). Groups keep queue order. */
START_TEST(refused_item_keeps_its_place)
{
  struct recorder r;
  recorder_init(&r, true, 2);
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, 2);
  ck_assert_ptr_nonnull(k);
  const int colors[] = {0, 0, 1, 0, 0, 1}; /* 0 red runs alone; the others queue in this order */
  struct item it[6];
  for (int i = 0; i < 6; i++)
    item_init(&it[i], i, colors[i], k);

  submit_async(&it[0]);
  ck_assert(wait_started(&r, 1));
  for (int i = 1; i < 6; i++) {
    submit_async(&it[i]);
    sleep_ms(SETTLE_MS);
  }
  allow(&r, INT_MAX);
  for (int i = 0; i < 6; i++) {
    join(&it[i]);
    ck_assert_int_eq(runs_of(&it[i]), 1);
  }
  ck_assert_int_eq(started(&r), 4);
  ck_assert(group_is(&r, 1, (int[]){1, 3}, 2));
  ck_assert(group_is(&r, 2, (int[]){2, 5}, 2));
  ck_assert(group_is(&r, 3, (int[]){4}, 1));
  assert_counts(k, 4, 6);
  wg_combiner_stop(k);
  ck_assert_int_eq(atomic_load(&r.bad_groups), 0);
  recorder_destroy(&r);
}
END_TEST

/* Protects max_group: seven items behind a running group go as 3, 3 and 1. */
START_TEST(max_group_bounds_a_group)
{
  struct recorder r;
  recorder_init(&r, false, 3);
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, 3);
  ck_assert_ptr_nonnull(k);
  struct item it[8];
  for (int i = 0; i < 8; i++)
    item_init(&it[i], i, 0, k);
  submit_async(&it[0]);
  ck_assert(wait_started(&r, 1));
  for (int i = 1; i < 8; i++)
    submit_async(&it[i]);
  sleep_ms(SETTLE_MS);
  allow(&r, INT_MAX);
  for (int i = 0; i < 8; i++) {
    join(&it[i]);
    ck_assert_int_eq(runs_of(&it[i]), 1);
  }
  ck_assert_int_eq(started(&r), 4);
  ck_assert_uint_eq(r.sizes[1], 3);
  ck_assert_uint_eq(r.sizes[2], 3);
  ck_assert_uint_eq(r.sizes[3], 1);
  assert_counts(k, 4, 8);
  wg_combiner_stop(k);
  ck_assert_int_eq(atomic_load(&r.bad_groups), 0);
  recorder_destroy(&r);
}
END_TEST

/* Protects the retry: when run returns true the same group (same items, same order) is run once
 * more, not twice more, and its submitters are woken once, after the second run; the retry is not
 * counted as another group. */
START_TEST(group_runs_again_when_run_asks)
{
  struct recorder r;
  recorder_init(&r, false, 16);
  r.rerun[1] = true;
  r.rerun[2] = true; /* the retry's own answer is not obeyed */
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, 16);
  ck_assert_ptr_nonnull(k);
  struct item it[3];
  for (int i = 0; i < 3; i++)
    item_init(&it[i], i, 0, k);
  submit_async(&it[0]);
  ck_assert(wait_started(&r, 1));
  submit_async(&it[1]);
  submit_async(&it[2]);
  sleep_ms(SETTLE_MS);
  allow(&r, 2);
  ck_assert(wait_started(&r, 3));
  ck_assert(group_has_range(&r, 1, 1, 2));
  ck_assert(group_is(&r, 2, r.members[1], 2));
  ck_assert(r.no_conn[2]);
  sleep_ms(SETTLE_MS);
  ck_assert(!atomic_load(&it[1].returned) && !atomic_load(&it[2].returned));
  allow(&r, INT_MAX);
  for (int i = 0; i < 3; i++)
    join(&it[i]);
  ck_assert_int_eq(runs_of(&it[0]), 1);
  ck_assert_int_eq(runs_of(&it[1]), 2);
  ck_assert_int_eq(runs_of(&it[2]), 2);
  ck_assert_int_eq(started(&r), 3);
  assert_counts(k, 2, 3);
  wg_combiner_stop(k);
  recorder_destroy(&r);
}
END_TEST

struct stopper {
  struct wg_combiner *k;
  atomic_bool entered, returned;
};

static void *stopper_main(void *arg)
{
  struct stopper *s = arg;
  atomic_store(&s->entered, true);
  wg_combiner_stop(s->k);
  atomic_store(&s->returned, true);
  return NULL;
}

/* Protects stopping: the running group finishes, every item still waiting is refused (never run),
 * an item submitted while stopping is refused at once, and stop returns only after the running
 * group has. Under ThreadSanitizer this also caught stop freeing the combiner while refused
 * submitters were still leaving wg_combiner_submit. */
START_TEST(stop_refuses_waiting_items)
{
  struct recorder r;
  recorder_init(&r, false, 16);
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, 16);
  ck_assert_ptr_nonnull(k);
  struct item it[5];
  for (int i = 0; i < 5; i++)
    item_init(&it[i], i, 0, k);
  submit_async(&it[0]);
  ck_assert(wait_started(&r, 1));
  for (int i = 1; i < 4; i++)
    submit_async(&it[i]);
  sleep_ms(SETTLE_MS);

  struct stopper s = {.k = k};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, stopper_main, &s), 0);
  while (!atomic_load(&s.entered))
    sleep_ms(1);
  sleep_ms(SETTLE_MS);
  ck_assert(!atomic_load(&s.returned));
  submit_async(&it[4]);
  ck_assert(wait_returned(&it[4])); /* while group 0 still runs */
  ck_assert_int_eq(refusals_of(&it[4]), 1);
  ck_assert(!atomic_load(&s.returned));

  allow(&r, INT_MAX);
  pthread_join(t, NULL);
  for (int i = 0; i < 5; i++)
    join(&it[i]);
  ck_assert_int_eq(runs_of(&it[0]), 1);
  ck_assert_int_eq(refusals_of(&it[0]), 0);
  for (int i = 1; i < 5; i++) {
    ck_assert_int_eq(runs_of(&it[i]), 0);
    ck_assert_int_eq(refusals_of(&it[i]), 1);
  }
  ck_assert_int_eq(started(&r), 1);
  recorder_destroy(&r);
}
END_TEST

#define STRESS_THREADS 8
#define STRESS_ITEMS 400
#define STRESS_MAX_GROUP 5

struct stress_thread {
  struct wg_combiner *k;
  struct item *items;
  unsigned seed;
};

static void *stress_main(void *arg)
{
  struct stress_thread *s = arg;
  for (int i = 0; i < STRESS_ITEMS; i++) {
    struct item *it = &s->items[i];
    it->color = rand_r(&s->seed) % 3;
    wg_combiner_submit(s->k, it);
    atomic_store(&it->answers_at_return, atomic_load(&it->runs) + atomic_load(&it->refusals));
  }
  return NULL;
}

/* Protects exactly-once under load: threads submitting all the time, groups bounded by fits and
 * max_group; every item is run exactly once and had been run when its submit returned, and the
 * counts add up. Groups of more than one must happen, or nothing was combined. */
START_TEST(every_item_answered_exactly_once_under_load)
{
  struct recorder r;
  recorder_init(&r, true, STRESS_MAX_GROUP);
  r.allowed = INT_MAX;
  struct wg_combiner *k = wg_combiner_start(UNREACHABLE, &ops, &r, STRESS_MAX_GROUP);
  ck_assert_ptr_nonnull(k);
  static struct item items[STRESS_THREADS][STRESS_ITEMS];
  struct stress_thread s[STRESS_THREADS];
  pthread_t t[STRESS_THREADS];
  for (int i = 0; i < STRESS_THREADS; i++) {
    for (int j = 0; j < STRESS_ITEMS; j++)
      item_init(&items[i][j], i * STRESS_ITEMS + j, 0, k);
    s[i] = (struct stress_thread){k, items[i], 777u + (unsigned)i};
    ck_assert_int_eq(pthread_create(&t[i], NULL, stress_main, &s[i]), 0);
  }
  for (int i = 0; i < STRESS_THREADS; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < STRESS_THREADS; i++)
    for (int j = 0; j < STRESS_ITEMS; j++) {
      ck_assert_int_eq(runs_of(&items[i][j]), 1);
      ck_assert_int_eq(refusals_of(&items[i][j]), 0);
      ck_assert_int_eq(answers_at_return_of(&items[i][j]), 1);
    }
  int64_t groups, n;
  wg_combiner_counts(k, &groups, &n);
  ck_assert_int_eq(n, STRESS_THREADS * STRESS_ITEMS);
  ck_assert_int_eq(groups, started(&r));
  ck_assert_int_lt(groups, n);
  ck_assert_int_eq(atomic_load(&r.items_run), n);
  ck_assert_int_eq(atomic_load(&r.bad_groups), 0);
  wg_combiner_stop(k);
  recorder_destroy(&r);
}
END_TEST

/* Protects the retry's purpose (db case): a group that found its connection broken and asked to
 * run again gets a working connection to another backend, not the broken one again. */
START_TEST(group_runs_again_on_a_fresh_connection)
{
  const char *db = getenv("WG_DB");
  ck_assert_ptr_nonnull(db);
  struct recorder r;
  recorder_init(&r, false, 16);
  r.allowed = INT_MAX;
  r.rerun[0] = true;
  r.kill_connection = true;
  struct wg_combiner *k = wg_combiner_start(db, &ops, &r, 16);
  ck_assert_ptr_nonnull(k);
  struct item it;
  item_init(&it, 0, 0, k);
  wg_combiner_submit(k, &it);
  ck_assert_int_eq(started(&r), 2);
  ck_assert(!r.no_conn[0] && !r.no_conn[1]);
  ck_assert_int_ne(r.backend_pid[0], 0);
  ck_assert_int_ne(r.backend_pid[1], 0);
  ck_assert_int_ne(r.backend_pid[0], r.backend_pid[1]);
  ck_assert_int_eq(runs_of(&it), 2);

  /* The connection the retry got keeps working for the next group. */
  struct item again;
  item_init(&again, 1, 0, k);
  wg_combiner_submit(k, &again);
  ck_assert_int_eq(started(&r), 3);
  ck_assert_int_eq(r.backend_pid[2], r.backend_pid[1]);
  wg_combiner_stop(k);
  recorder_destroy(&r);
}
END_TEST

int main(void)
{
  wg_log_set_level(WG_LOG_ERROR); /* every group logs that it cannot connect */
  Suite *s = suite_create("combiner");
  TCase *tc = tcase_create("pure");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, items_behind_a_running_group_form_the_next);
  tcase_add_test(tc, refused_item_keeps_its_place);
  tcase_add_test(tc, max_group_bounds_a_group);
  tcase_add_test(tc, group_runs_again_when_run_asks);
  tcase_add_test(tc, stop_refuses_waiting_items);
  tcase_add_test(tc, every_item_answered_exactly_once_under_load);
  suite_add_tcase(s, tc);
  /* Only with a database (tests/integration/t_unit_db.sh runs this case alone and checks that
   * it ran): `make check` runs unit tests without one. */
  if (getenv("WG_DB") != NULL) {
    TCase *db = tcase_create("db");
    tcase_set_timeout(db, 60);
    tcase_add_test(db, group_runs_again_on_a_fresh_connection);
    suite_add_tcase(s, db);
  }
  return wg_check_run(s);
}
