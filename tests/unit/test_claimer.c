/* Unit tests for src/db/claimer.c, combined claims of prover jobs.
 *
 * "pure" (in `make check`, no database): with no database every claim is answered unavailable and
 * none is lost; and the grouping, seen through the claimer's connection attempts: its conninfo
 * names a socket of this test's, which accepts one attempt per group and holds it, so that claims
 * pile up behind it, and closes it to let that group fail. A claim is queued SETTLE_MS after its
 * thread starts (what is queued cannot be seen from outside).
 *
 * "db" (only with WG_DB, run by tests/integration/t_unit_db.sh on a migrated cluster): how the
 * jobs of one statement are shared out: in claim order, each claim its share in turn, the k-th
 * slot's lease and prover on the k-th job. A table lock held by the test stalls a lone claim so
 * that the others gather behind it. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/lease.h"
#include "common/hex.h"
#include "common/log.h"
#include "db/claimer.h"

#define UNREACHABLE "host=127.0.0.1 port=1 connect_timeout=1 sslmode=disable gssencmode=disable"
#define SETTLE_MS 150
#define WAIT_MS 10000

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* One claim submitted from its own thread. */
struct call {
  struct wg_claimer *k;
  struct wg_claim x;
  char prover_id[32], token[32];
  atomic_bool entered, returned;
  pthread_t thread;
};

static void *call_main(void *arg)
{
  struct call *c = arg;
  atomic_store(&c->entered, true);
  wg_claimer_submit(c->k, &c->x);
  atomic_store(&c->returned, true);
  return NULL;
}

static struct wg_prover_job not_set; /* what the outputs hold before the claimer answers */

static void call_init(struct call *c, struct wg_claimer *k, int n, const struct wg_claim_filter *f, int limit)
{
  memset(c, 0, sizeof *c);
  c->k = k;
  snprintf(c->prover_id, sizeof c->prover_id, "prover-%d", n);
  snprintf(c->token, sizeof c->token, "token-%d", n);
  c->x.prover_id = c->prover_id;
  c->x.token = c->token;
  c->x.filter = f;
  c->x.limit = limit;
  c->x.status = WG_OK;
  c->x.jobs = &not_set;
  c->x.n = 99;
}

static void call_start(struct call *c)
{
  ck_assert_int_eq(pthread_create(&c->thread, NULL, call_main, c), 0);
  while (!atomic_load(&c->entered))
    sleep_ms(1);
}

static void call_join(struct call *c)
{
  pthread_join(c->thread, NULL);
  ck_assert(atomic_load(&c->returned));
}

static void call_free(struct call *c)
{
  if (c->x.jobs != &not_set)
    free(c->x.jobs);
}

static void assert_unavailable(const struct call *c)
{
  ck_assert_msg(c->x.status == WG_E_UNAVAILABLE, "%s: %s", c->prover_id, wg_status_name(c->x.status));
  ck_assert_ptr_null(c->x.jobs);
  ck_assert_uint_eq(c->x.n, 0);
}

/* Waits until exactly the calls with want[i] set have returned, then a little more to see that no
 * other one does. */
static bool returned_are(struct call *calls, const bool *want, size_t n)
{
  for (int waited = 0;; waited += 10) {
    bool all = true;
    for (size_t i = 0; i < n && all; i++)
      all = !want[i] || atomic_load(&calls[i].returned);
    if (all)
      break;
    if (waited >= WAIT_MS)
      return false;
    sleep_ms(10);
  }
  sleep_ms(SETTLE_MS);
  for (size_t i = 0; i < n; i++)
    if (atomic_load(&calls[i].returned) != want[i])
      return false;
  return true;
}

/* ---------------------------------------------------------------- the gate: a fake database */

struct gate {
  int listener;
  char conninfo[160];
};

static void gate_open(struct gate *g)
{
  g->listener = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(g->listener, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(g->listener, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(g->listener, 16), 0);
  socklen_t len = sizeof a;
  ck_assert_int_eq(getsockname(g->listener, (struct sockaddr *)&a, &len), 0);
  /* One attempt per group: no SSL or GSS attempt first, no second address. */
  snprintf(g->conninfo, sizeof g->conninfo,
           "host=127.0.0.1 port=%d sslmode=disable gssencmode=disable connect_timeout=60", ntohs(a.sin_port));
}

/* The next group's connection attempt, held: that group is running. */
static int gate_next_group(struct gate *g)
{
  struct pollfd p = {g->listener, POLLIN, 0};
  ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "no group tried to connect");
  int fd = accept(g->listener, NULL, NULL);
  ck_assert_int_ge(fd, 0);
  return fd;
}

/* No group is trying to connect. */
static bool gate_idle(struct gate *g)
{
  struct pollfd p = {g->listener, POLLIN, 0};
  return poll(&p, 1, SETTLE_MS) == 0;
}

static void gate_close(struct gate *g) { close(g->listener); }

static const struct wg_claim_filter any_v1 = {1, NULL, NULL};

static void assert_counts(struct wg_claimer *k, int64_t groups, int64_t claims)
{
  int64_t g, n;
  wg_claimer_counts(k, &g, &n);
  ck_assert_int_eq(g, groups);
  ck_assert_int_eq(n, claims);
}

/* ---------------------------------------------------------------- pure */

#define UNAVAILABLE_THREADS 8
#define UNAVAILABLE_CLAIMS 40

struct burst {
  struct wg_claimer *k;
  int thread;
  int unavailable, other; /* answers */
};

static void *burst_main(void *arg)
{
  static const struct wg_claim_filter filters[] = {{1, NULL, NULL}, {1, "{0}", NULL}, {2, NULL, "{1,2}"}};
  struct burst *b = arg;
  for (int i = 0; i < UNAVAILABLE_CLAIMS; i++) {
    struct wg_prover_job *before = &not_set;
    struct wg_claim x = {"prover", "token", &filters[(b->thread + i) % 3], 1 + (i * 37) % 500, WG_OK, before, 7};
    wg_claimer_submit(b->k, &x);
    if (x.status == WG_E_UNAVAILABLE && x.jobs == NULL && x.n == 0)
      b->unavailable++;
    else
      b->other++;
  }
  return NULL;
}

/* Protects the answer when the database is down: every claim, from many threads, of several
 * filters and sizes, is answered unavailable with no jobs (never left waiting, never OK), and
 * counted once. */
START_TEST(no_database_answers_every_claim_unavailable)
{
  struct wg_claimer *k = wg_claimer_start(UNREACHABLE, 30);
  ck_assert_ptr_nonnull(k);
  struct burst b[UNAVAILABLE_THREADS];
  pthread_t t[UNAVAILABLE_THREADS];
  for (int i = 0; i < UNAVAILABLE_THREADS; i++) {
    b[i] = (struct burst){k, i, 0, 0};
    ck_assert_int_eq(pthread_create(&t[i], NULL, burst_main, &b[i]), 0);
  }
  for (int i = 0; i < UNAVAILABLE_THREADS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(b[i].unavailable, UNAVAILABLE_CLAIMS);
    ck_assert_int_eq(b[i].other, 0);
  }
  int64_t groups, claims;
  wg_claimer_counts(k, &groups, &claims);
  ck_assert_int_eq(claims, UNAVAILABLE_THREADS * UNAVAILABLE_CLAIMS);
  ck_assert_int_le(groups, claims);
  wg_claimer_stop(k);
}
END_TEST

/* Protects grouping by filter: a lone claim runs at once; the claims behind it are grouped with
 * the first one waiting when their filters are equal (by value: other strings with the same text
 * group), and never when the protocol version, rounds or circuit ids differ (NULL, "any", is not
 * "{0}"); each group gets its own statement, in queue order. */
START_TEST(claims_group_by_equal_filter_only)
{
  struct gate g;
  gate_open(&g);
  struct wg_claimer *k = wg_claimer_start(g.conninfo, 30);
  ck_assert_ptr_nonnull(k);
  char *rounds_copy = strdup("{0}");
  const struct wg_claim_filter f1 = {1, "{0}", NULL}, f1_copy = {1, rounds_copy, NULL}, f2 = {1, "{0}", "{3}"},
                               f3 = {2, "{0}", NULL}, f4 = {1, NULL, NULL};
  const struct wg_claim_filter *filters[] = {&f1, &f1, &f2, &f1_copy, &f3, &f4, &f1};
  enum { N = 7 };
  struct call c[N];
  for (int i = 0; i < N; i++)
    call_init(&c[i], k, i, filters[i], 1 + i);

  call_start(&c[0]);
  int fd = gate_next_group(&g); /* 0 runs alone, at once */
  for (int i = 1; i < N; i++) {
    call_start(&c[i]);
    sleep_ms(SETTLE_MS);
  }
  ck_assert(!atomic_load(&c[0].returned));
  /* The groups, in order: [0], [1, 3, 6], [2], [4], [5]. */
  const bool after[5][N] = {
    {1, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 1, 0, 0, 1}, {1, 1, 1, 1, 0, 0, 1}, {1, 1, 1, 1, 1, 0, 1}, {1, 1, 1, 1, 1, 1, 1},
  };
  for (int group = 0; group < 5; group++) {
    if (group > 0)
      fd = gate_next_group(&g);
    close(fd);
    ck_assert_msg(returned_are(c, after[group], N), "group %d", group);
  }
  ck_assert(gate_idle(&g));
  for (int i = 0; i < N; i++) {
    call_join(&c[i]);
    assert_unavailable(&c[i]);
  }
  assert_counts(k, 5, N);
  wg_claimer_stop(k);
  gate_close(&g);
  free(rounds_copy);
}
END_TEST

/* Protects the bound on one statement: a group claims at most 4096 jobs in all. Behind a running
 * claim, 4000 + 96 fill a group exactly; 1 more does not fit, nor 3 after it (which keeps its
 * place behind the 1): they are the next group. */
START_TEST(a_group_claims_at_most_4096_jobs)
{
  struct gate g;
  gate_open(&g);
  struct wg_claimer *k = wg_claimer_start(g.conninfo, 30);
  ck_assert_ptr_nonnull(k);
  const int limits[] = {1, 4000, 96, 1, 3};
  enum { N = 5 };
  struct call c[N];
  for (int i = 0; i < N; i++)
    call_init(&c[i], k, i, &any_v1, limits[i]);
  call_start(&c[0]);
  int fd = gate_next_group(&g);
  for (int i = 1; i < N; i++) {
    call_start(&c[i]);
    sleep_ms(SETTLE_MS);
  }
  const bool after[3][N] = {{1, 0, 0, 0, 0}, {1, 1, 1, 0, 0}, {1, 1, 1, 1, 1}};
  for (int group = 0; group < 3; group++) {
    if (group > 0)
      fd = gate_next_group(&g);
    close(fd);
    ck_assert_msg(returned_are(c, after[group], N), "group %d", group);
  }
  for (int i = 0; i < N; i++) {
    call_join(&c[i]);
    assert_unavailable(&c[i]);
  }
  assert_counts(k, 3, N);
  wg_claimer_stop(k);
  gate_close(&g);
}
END_TEST

/* Protects the bound on claims per statement: 300 single-job claims behind a running one go as
 * 256 and 44. */
START_TEST(a_group_serves_at_most_256_claims)
{
  struct gate g;
  gate_open(&g);
  struct wg_claimer *k = wg_claimer_start(g.conninfo, 30);
  ck_assert_ptr_nonnull(k);
  enum { N = 301 };
  struct call *c = calloc(N, sizeof *c);
  ck_assert_ptr_nonnull(c);
  for (int i = 0; i < N; i++)
    call_init(&c[i], k, i, &any_v1, 1);
  call_start(&c[0]);
  int fd = gate_next_group(&g);
  for (int i = 1; i < N; i++)
    call_start(&c[i]);
  sleep_ms(3 * SETTLE_MS);
  close(fd);
  const int expected[] = {1, 256, 44};
  int answered = 0;
  for (int group = 0; group < 3; group++) {
    if (group > 0) {
      fd = gate_next_group(&g);
      close(fd);
    }
    answered += expected[group];
    int returned = 0;
    for (int waited = 0; waited < WAIT_MS && returned < answered; waited += 10) {
      sleep_ms(10);
      returned = 0;
      for (int i = 0; i < N; i++)
        returned += atomic_load(&c[i].returned);
    }
    sleep_ms(SETTLE_MS);
    returned = 0;
    for (int i = 0; i < N; i++)
      returned += atomic_load(&c[i].returned);
    ck_assert_int_eq(returned, answered);
  }
  for (int i = 0; i < N; i++) {
    call_join(&c[i]);
    assert_unavailable(&c[i]);
  }
  assert_counts(k, 3, N);
  wg_claimer_stop(k);
  gate_close(&g);
  free(c);
}
END_TEST

/* ---------------------------------------------------------------- db */

static PGconn *db_connect(void)
{
  const char *conninfo = getenv("WG_DB");
  ck_assert_ptr_nonnull(conninfo);
  PGconn *pg = PQconnectdb(conninfo);
  ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
  return pg;
}

static void db_do(PGconn *pg, const char *sql)
{
  PGresult *r = PQexec(pg, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
                PQerrorMessage(pg));
  PQclear(r);
}

/* Protects the share-out of one statement's jobs: claims served together get the jobs in claim
 * order, (batch, round, id), each claim its share in turn up to its limit, the ones after the
 * last job none; every job carries the lease of the slot that claimed it, and the database holds
 * it for that claim's prover and token, under that lease's hash, for the claim grace. */
START_TEST(jobs_are_shared_out_in_claim_order)
{
  enum { PV = 9001, N = 6, JOBS = 9 };
  PGconn *pg = db_connect();
  db_do(pg, "DELETE FROM prover_jobs WHERE protocol_version = 9001");
  /* Inserted out of claim order, so that claim order is not id order. */
  db_do(pg, "INSERT INTO prover_jobs (l1_batch_number, protocol_version, aggregation_round, circuit_id,"
            " sequence_number) VALUES (2, 9001, 0, 1, 0), (2, 9001, 0, 1, 1), (1, 9001, 1, 1, 0),"
            " (1, 9001, 0, 1, 2), (1, 9001, 0, 1, 1), (1, 9001, 0, 1, 0), (3, 9001, 0, 1, 0),"
            " (1, 9001, 2, 1, 0), (2, 9001, 1, 1, 0)");
  PGresult *r = PQexec(pg, "SELECT id FROM prover_jobs WHERE protocol_version = 9001"
                           " ORDER BY l1_batch_number, aggregation_round, id");
  ck_assert_int_eq(PQntuples(r), JOBS);
  int64_t order[JOBS];
  for (int i = 0; i < JOBS; i++)
    order[i] = atoll(PQgetvalue(r, i, 0));
  PQclear(r);

  /* Claims stall on the table until the test commits. */
  db_do(pg, "BEGIN");
  db_do(pg, "LOCK TABLE prover_jobs IN EXCLUSIVE MODE");
  struct wg_claimer *k = wg_claimer_start(getenv("WG_DB"), 30);
  ck_assert_ptr_nonnull(k);
  const struct wg_claim_filter f = {PV, NULL, NULL};
  const int limits[N] = {2, 3, 1, 4, 2, 2};
  /* Claim 0 runs alone; 1..5 share the next statement: 3, 1, 3 of 4, none, none. */
  const int first[N] = {0, 2, 5, 6, JOBS, JOBS}, got[N] = {2, 3, 1, 3, 0, 0};
  struct call c[N];
  for (int i = 0; i < N; i++)
    call_init(&c[i], k, i, &f, limits[i]);
  call_start(&c[0]);
  /* Seen from another connection: a transaction reads the activity table once. */
  PGconn *observer = db_connect();
  for (int waited = 0;; waited += 10) {
    r = PQexec(observer, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'witness-generator'"
                   " AND wait_event_type = 'Lock'");
    bool waiting = PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) == 1;
    PQclear(r);
    if (waiting)
      break;
    ck_assert_msg(waited < WAIT_MS, "the first claim never waited for the table");
    sleep_ms(10);
  }
  PQfinish(observer);
  for (int i = 1; i < N; i++) {
    call_start(&c[i]);
    sleep_ms(SETTLE_MS);
  }
  ck_assert(!atomic_load(&c[0].returned));
  db_do(pg, "COMMIT");
  for (int i = 0; i < N; i++)
    call_join(&c[i]);
  assert_counts(k, 2, N);
  wg_claimer_stop(k);

  char leases[JOBS][WG_LEASE_LEN + 1];
  int n_leases = 0;
  for (int i = 0; i < N; i++) {
    ck_assert_msg(c[i].x.status == WG_OK, "claim %d: %s", i, wg_status_name(c[i].x.status));
    ck_assert_msg(c[i].x.n == (size_t)got[i], "claim %d got %zu jobs, not %d", i, c[i].x.n, got[i]);
    if (got[i] == 0) {
      ck_assert_ptr_null(c[i].x.jobs);
      continue;
    }
    for (int j = 0; j < got[i]; j++) {
      const struct wg_prover_job *job = &c[i].x.jobs[j];
      ck_assert_int_eq(job->id, order[first[i] + j]);
      ck_assert_uint_eq(strlen(job->lease), WG_LEASE_LEN);
      uint8_t hash[32];
      wg_lease_hash(job->lease, strlen(job->lease), hash);
      ck_assert_mem_eq(hash, job->lease_hash, 32);
      for (int l = 0; l < n_leases; l++)
        ck_assert_str_ne(leases[l], job->lease);
      memcpy(leases[n_leases++], job->lease, sizeof leases[0]);

      char hex[65], sql[512];
      wg_hex_encode(job->lease_hash, 32, hex);
      snprintf(sql, sizeof sql,
               "SELECT picked_by, lease_token, encode(lease_hash, 'hex'), status, attempts,"
               " extract(epoch FROM lease_expires_at - now())::integer FROM prover_jobs WHERE id = %lld",
               (long long)job->id);
      r = PQexec(pg, sql);
      ck_assert_int_eq(PQntuples(r), 1);
      ck_assert_str_eq(PQgetvalue(r, 0, 0), c[i].prover_id);
      ck_assert_str_eq(PQgetvalue(r, 0, 1), c[i].token);
      ck_assert_str_eq(PQgetvalue(r, 0, 2), hex);
      ck_assert_str_eq(PQgetvalue(r, 0, 3), "in_progress");
      ck_assert_str_eq(PQgetvalue(r, 0, 4), "1");
      int grace_left = atoi(PQgetvalue(r, 0, 5));
      ck_assert_int_gt(grace_left, 15);
      ck_assert_int_le(grace_left, 30);
      PQclear(r);
    }
  }
  ck_assert_int_eq(n_leases, JOBS);
  for (int i = 0; i < N; i++)
    call_free(&c[i]);
  db_do(pg, "DELETE FROM prover_jobs WHERE protocol_version = 9001");
  PQfinish(pg);
}
END_TEST

int main(void)
{
  wg_log_set_level(WG_LOG_ERROR); /* every group logs that it cannot connect */
  Suite *s = suite_create("claimer");
  TCase *tc = tcase_create("pure");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, no_database_answers_every_claim_unavailable);
  tcase_add_test(tc, claims_group_by_equal_filter_only);
  tcase_add_test(tc, a_group_claims_at_most_4096_jobs);
  tcase_add_test(tc, a_group_serves_at_most_256_claims);
  suite_add_tcase(s, tc);
  /* Only with a database (tests/integration/t_unit_db.sh runs this case alone and checks that
   * it ran): `make check` runs unit tests without one. */
  if (getenv("WG_DB") != NULL) {
    TCase *db = tcase_create("db");
    tcase_set_timeout(db, 60);
    tcase_add_test(db, jobs_are_shared_out_in_claim_order);
    suite_add_tcase(s, db);
  }
  return wg_check_run(s);
}
