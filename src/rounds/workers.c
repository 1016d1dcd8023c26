/* Worker threads and the LISTEN/NOTIFY wake-up. Each round has a condition variable; the
 * listener thread broadcasts it when a notification for that round arrives, and workers also
 * wake on a slow poll (--poll-ms) in case a notification was missed (another daemon's, a
 * reconnect). Workers never spin. */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "circuits/circuits.h"
#include "common/clock.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/housekeeping.h"
#include "db/repairs.h"
#include "http/metrics.h"
#include "http/server.h"
#include "rounds/rounds.h"

struct wg_workers {
  struct wg_app *app;
  pthread_mutex_t lock;
  pthread_cond_t wake[4];
  pthread_cond_t stop_cond; /* signalled only when stopping */
  unsigned long generation[4]; /* bumped on each wake-up, so a wake between claim and wait is not lost */
  bool stopping;
  pthread_t *threads;
  int n_threads;
  pthread_t listener;
  pthread_t housekeeper;
};

struct worker_arg {
  struct wg_workers *w;
  int round;
};

static enum wg_status (*const round_fns[4])(struct wg_round_ctx *) = {wg_round_basic, wg_round_leaf, wg_round_node,
                                                                        wg_round_scheduler};
static const char *const round_names[4] = {"basic", "leaf", "node", "scheduler"};

static void wake_round(struct wg_workers *w, int round)
{
  pthread_mutex_lock(&w->lock);
  w->generation[round]++;
  pthread_cond_broadcast(&w->wake[round]);
  pthread_mutex_unlock(&w->lock);
}

static bool stopping(struct wg_workers *w)
{
  pthread_mutex_lock(&w->lock);
  bool s = w->stopping;
  pthread_mutex_unlock(&w->lock);
  return s;
}

/* Sleeps until the round is woken, the poll interval passes, or the workers stop. */
static void wait_for_work(struct wg_workers *w, int round, unsigned long seen, long ms)
{
  struct timespec deadline = wg_deadline_after_ms(ms);
  pthread_mutex_lock(&w->lock);
  while (!w->stopping && w->generation[round] == seen)
    if (pthread_cond_timedwait(&w->wake[round], &w->lock, &deadline) != 0)
      break;
  pthread_mutex_unlock(&w->lock);
}

enum wg_status wg_round_renew(struct wg_round_ctx *ctx)
{
  enum wg_status s = wg_witness_renew(ctx->db, &ctx->job, (int)ctx->app->cfg->witness_lease);
  if (s == WG_OK)
    ctx->renewed_ms = wg_monotonic_ms();
  return s;
}

enum wg_status wg_round_checkpoint(struct wg_round_ctx *ctx)
{
  if (ctx->workers != NULL && stopping(ctx->workers))
    return WG_E_UNAVAILABLE;
  if (wg_monotonic_ms() - ctx->renewed_ms < ctx->app->cfg->witness_lease * 1000 / 3)
    return WG_OK;
  return wg_round_renew(ctx);
}

/* Gives the worker's job back, if it can reach the database; else it stays pending and is
 * retried before the next claim, so a job is not left waiting for its lease after an outage. */
static void release_job(struct wg_round_ctx *ctx, const struct wg_config *cfg, bool take_back_claim,
                        const char *why, bool *pending)
{
  if (ctx->db->broken)
    wg_db_reconnect(ctx->db, cfg->db);
  enum wg_status s =
    ctx->db->broken ? WG_E_UNAVAILABLE : wg_witness_release(ctx->db, &ctx->job, take_back_claim, (int)cfg->max_attempts, why);
  /* Lease lost means someone else holds the job now: nothing left to give back. */
  *pending = s != WG_OK && s != WG_E_LEASE_LOST;
}

static void *worker_main(void *p)
{
  struct worker_arg *a = p;
  struct wg_workers *w = a->w;
  const struct wg_config *cfg = w->app->cfg;
  int round = a->round;
  free(a);
  struct wg_round_ctx ctx = {.app = w->app, .workers = w};
  bool pending = false; /* ctx.job still needs releasing */
  char why[160] = "";
  while (!stopping(w)) {
    pthread_mutex_lock(&w->lock);
    unsigned long seen = w->generation[round];
    pthread_mutex_unlock(&w->lock);
    if (ctx.db == NULL || ctx.db->broken) {
      if (ctx.db == NULL)
        ctx.db = wg_db_connect(cfg->db, NULL, 0);
      else
        wg_db_reconnect(ctx.db, cfg->db);
      if (ctx.db == NULL || ctx.db->broken) {
        wait_for_work(w, round, seen, 1000);
        continue;
      }
    }
    if (pending) {
      release_job(&ctx, cfg, false, why, &pending);
      if (pending) {
        wait_for_work(w, round, seen, 1000);
        continue;
      }
    }
    enum wg_status s = wg_witness_claim(ctx.db, round, cfg->instance_id, (int)cfg->witness_lease, &ctx.job);
    if (s == WG_OK) {
      ctx.renewed_ms = wg_monotonic_ms();
      wg_info("%s round: batch %lld job %lld (circuit %d, depth %d, attempt %d)", round_names[round],
              (long long)ctx.job.l1_batch_number, (long long)ctx.job.id, ctx.job.circuit_id, ctx.job.depth,
              ctx.job.attempts);
      int64_t started = wg_monotonic_us();
      ctx.failed = false;
      s = round_fns[round](&ctx);
      wg_metrics_round(round, s != WG_OK ? WG_ROUND_STOPPED : ctx.failed ? WG_ROUND_FAILED : WG_ROUND_COMMITTED,
                       wg_monotonic_us() - started);
      if (s == WG_E_LEASE_LOST) {
        wg_warn("%s round: batch %lld job %lld: the lease was taken over; nothing committed", round_names[round],
                (long long)ctx.job.l1_batch_number, (long long)ctx.job.id);
      } else if (s != WG_OK) {
        /* The round stopped without committing and the job is still ours: give it back now rather
         * than when the lease expires. On shutdown the claim is taken back too. */
        bool shutdown = stopping(w);
        snprintf(why, sizeof why, "%s round stopped on %s: %s", round_names[round], cfg->instance_id,
                 shutdown ? "released at shutdown" : wg_status_name(s));
        wg_warn("batch %lld job %lld: %s", (long long)ctx.job.l1_batch_number, (long long)ctx.job.id, why);
        release_job(&ctx, cfg, shutdown, why, &pending);
        if (!shutdown)
          wait_for_work(w, round, seen, 1000); /* back off before claiming again */
      }
      continue;
    }
    if (s != WG_E_NOT_FOUND)
      wg_warn("%s round: claim failed: %s", round_names[round], wg_status_name(s));
    wait_for_work(w, round, seen, s == WG_E_NOT_FOUND ? cfg->poll_ms : 1000);
  }
  if (pending && ctx.db != NULL) /* a last try; otherwise the next start or the lease returns it */
    release_job(&ctx, cfg, true, "released at shutdown", &pending);
  wg_db_disconnect(ctx.db);
  return NULL;
}

/* Holds a LISTEN connection and turns notifications into wake-ups. */
static void *listener_main(void *p)
{
  struct wg_workers *w = p;
  PGconn *pg = NULL;
  while (!stopping(w)) {
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
      PQfinish(pg);
      pg = wg_db_open_raw(w->app->cfg->db, NULL, 0);
      PGresult *r = pg ? PQexec(pg, "LISTEN " WG_NOTIFY_CHANNEL) : NULL;
      bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok) {
        PQfinish(pg);
        pg = NULL;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        continue;
      }
      /* Anything may have been queued while we were not listening. */
      for (int i = 0; i < 4; i++)
        wake_round(w, i);
    }
    struct pollfd pfd = {PQsocket(pg), POLLIN, 0};
    if (poll(&pfd, 1, 250) <= 0)
      continue;
    if (!PQconsumeInput(pg))
      continue; /* the connection broke; it is replaced above */
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL) {
      int round = atoi(n->extra);
      if (round >= 0 && round < 4)
        wake_round(w, round);
      PQfreemem(n);
    }
  }
  PQfinish(pg);
  return NULL;
}

/* Expires leases every --housekeeping-ms. Every daemon runs one; they do not conflict. */
static void *housekeeper_main(void *p)
{
  struct wg_workers *w = p;
  const struct wg_config *cfg = w->app->cfg;
  struct wg_dbconn *c = NULL;
  while (!stopping(w)) {
    if (c == NULL)
      c = wg_db_connect(cfg->db, NULL, 0);
    else if (c->broken)
      wg_db_reconnect(c, cfg->db);
    int requeued = 0;
    if (c != NULL && !c->broken && wg_housekeeping_expire(c, (int)cfg->max_attempts, &requeued) == WG_OK &&
        requeued > 0)
      wg_info("housekeeping: %d jobs with expired leases put back", requeued);
    int archived = 0;
    if (cfg->archive_after > 0 && c != NULL && !c->broken && wg_repair_archive(c, cfg->archive_after, &archived) == WG_OK &&
        archived > 0)
      wg_info("housekeeping: archived %d prover jobs of proven batches", archived);
    /* Sleep on a condition signalled only by the stop. */
    struct timespec deadline = wg_deadline_after_ms(cfg->housekeeping_ms);
    pthread_mutex_lock(&w->lock);
    while (!w->stopping && pthread_cond_timedwait(&w->stop_cond, &w->lock, &deadline) == 0)
      ;
    pthread_mutex_unlock(&w->lock);
  }
  wg_db_disconnect(c);
  return NULL;
}

struct wg_workers *wg_workers_start(struct wg_app *app)
{
  struct wg_workers *w = calloc(1, sizeof *w);
  w->app = app;
  pthread_mutex_init(&w->lock, NULL);
  for (int i = 0; i < 4; i++)
    pthread_cond_init(&w->wake[i], NULL);
  pthread_cond_init(&w->stop_cond, NULL);
  int per_round = (int)app->cfg->workers;
  w->threads = calloc((size_t)per_round * 4, sizeof *w->threads);
  for (int round = 0; round < 4; round++) {
    for (int k = 0; k < per_round; k++) {
      struct worker_arg *a = malloc(sizeof *a);
      a->w = w;
      a->round = round;
      pthread_create(&w->threads[w->n_threads++], NULL, worker_main, a);
    }
  }
  pthread_create(&w->listener, NULL, listener_main, w);
  pthread_create(&w->housekeeper, NULL, housekeeper_main, w);
  return w;
}

void wg_workers_stop(struct wg_workers *w)
{
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->lock);
  w->stopping = true;
  for (int i = 0; i < 4; i++)
    pthread_cond_broadcast(&w->wake[i]);
  pthread_cond_broadcast(&w->stop_cond);
  pthread_mutex_unlock(&w->lock);
  for (int i = 0; i < w->n_threads; i++)
    pthread_join(w->threads[i], NULL);
  pthread_join(w->listener, NULL);
  pthread_join(w->housekeeper, NULL);
  for (int i = 0; i < 4; i++)
    pthread_cond_destroy(&w->wake[i]);
  pthread_cond_destroy(&w->stop_cond);
  pthread_mutex_destroy(&w->lock);
  free(w->threads);
  free(w);
}
