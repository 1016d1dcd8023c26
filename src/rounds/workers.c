/* Worker threads and the LISTEN/NOTIFY wake-up. Each round has a condition variable; the
 * listener thread broadcasts it when a notification for that round arrives, and workers also
 * wake on a slow poll (--poll-ms) in case a notification was missed (another daemon's, a
 * reconnect). Workers never spin. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "circuits/circuits.h"
#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/batch_locks.h"
#include "db/blob_sweeps.h"
#include "db/housekeeping.h"
#include "db/repairs.h"
#include "http/claim_wait.h"
#include "http/metrics.h"
#include "http/server.h"
#include "rounds/rounds.h"
#include "store/store.h"
#include "store/sweep.h"

/* Renews the lease of the job its worker runs, every third of --witness-lease, on its own
 * connection: one step of a round (the replay or the blob writes of a large batch) can outlast
 * the lease, and the worker's own connection is busy inside that step. One per worker thread,
 * idle between jobs.
 *
 * It renews only for a worker that makes progress: a thread of its own would otherwise keep the
 * job of a worker stuck for ever (a lock, a network call that never returns, a loop). The worker
 * records the time of each checkpoint it passes; the renewer stops renewing once no checkpoint
 * came for a third of --witness-job-timeout, and for good once the run has lasted the whole of
 * it. The lease then expires and housekeeping puts the job back for another worker. */
struct wg_renewer {
  const struct wg_config *cfg;
  pthread_t thread;
  pthread_mutex_t lock; /* held while renewing, so that a stopped job is never renewed after */
  pthread_cond_t cond;
  struct wg_witness_job job;
  int64_t started_ms; /* when the job's run started */
  atomic_llong progress_ms; /* the worker's last checkpoint; written by the worker */
  bool stall_reported; /* the current stall is logged */
  unsigned long generation; /* bumped when the job starts or stops */
  bool active, quit;
  atomic_bool lost; /* the renewer found the job taken over */
  struct wg_dbconn *db;
};

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

/* Past --witness-job-timeout the run gives its job up: the renewer no longer renews it, so another
 * worker may hold it soon, and a commit now would race that worker's for nothing. Otherwise the
 * run has reached a checkpoint, which the renewer is told. */
static enum wg_status run_progress(struct wg_round_ctx *ctx)
{
  int64_t now = wg_monotonic_ms();
  if (now - ctx->started_ms >= ctx->app->cfg->witness_job_timeout * 1000) {
    if (!ctx->timed_out)
      wg_warn("%s round: batch %lld job %lld: ran longer than --witness-job-timeout (%ld s); giving the job up",
              round_names[ctx->job.round], (long long)ctx->job.l1_batch_number, (long long)ctx->job.id,
              ctx->app->cfg->witness_job_timeout);
    ctx->timed_out = true;
    return WG_E_LEASE_LOST;
  }
  if (ctx->renewer != NULL)
    atomic_store(&ctx->renewer->progress_ms, (long long)now);
  return WG_OK;
}

enum wg_status wg_round_renew(struct wg_round_ctx *ctx)
{
  enum wg_status s = run_progress(ctx);
  if (s == WG_OK)
    s = wg_witness_renew(ctx->db, &ctx->job, (int)ctx->app->cfg->witness_lease);
  if (s == WG_OK)
    ctx->renewed_ms = wg_monotonic_ms();
  /* Every round renews here just before it writes its blobs: the place to stall it for tests of
   * what may happen to the batch meanwhile. */
  WG_FAULT("round_after_renew");
  return s;
}

/* Called with r->lock held; connecting happens without it, so that a worker finishing its job
 * never waits for a connection attempt. */
static void renew_once(struct wg_renewer *r, unsigned long generation)
{
  const struct wg_config *cfg = r->cfg;
  if (r->db == NULL || !wg_db_check(r->db)) {
    pthread_mutex_unlock(&r->lock);
    if (r->db == NULL)
      r->db = wg_db_connect(cfg->db, NULL, 0);
    else
      wg_db_reconnect(r->db, cfg->db);
    pthread_mutex_lock(&r->lock);
    if (r->quit || r->generation != generation || !r->active)
      return;
  }
  if (r->db == NULL || r->db->broken)
    return; /* the worker's own checkpoints still try, and the next period retries */
  int64_t now = wg_monotonic_ms(), timeout_ms = cfg->witness_job_timeout * 1000;
  int64_t idle_ms = now - (int64_t)atomic_load(&r->progress_ms);
  if (now - r->started_ms >= timeout_ms || idle_ms >= timeout_ms / 3) {
    if (!r->stall_reported)
      wg_warn("%s round: batch %lld job %lld: %s; its lease is no longer renewed", round_names[r->job.round],
              (long long)r->job.l1_batch_number, (long long)r->job.id,
              now - r->started_ms >= timeout_ms ? "the run passed --witness-job-timeout"
                                                : "no progress for a third of --witness-job-timeout");
    r->stall_reported = true;
    return;
  }
  r->stall_reported = false;
  if (wg_witness_renew(r->db, &r->job, (int)cfg->witness_lease) == WG_E_LEASE_LOST) {
    atomic_store(&r->lost, true);
    r->active = false;
  }
}

static void *renewer_main(void *p)
{
  struct wg_renewer *r = p;
  long period_ms = r->cfg->witness_lease * 1000 / 3;
  if (period_ms < 100)
    period_ms = 100;
  pthread_mutex_lock(&r->lock);
  while (!r->quit) {
    if (!r->active) {
      pthread_cond_wait(&r->cond, &r->lock);
      continue;
    }
    unsigned long generation = r->generation;
    struct timespec deadline = wg_deadline_after_ms(period_ms);
    int rc = 0;
    while (!r->quit && r->generation == generation && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&r->cond, &r->lock, &deadline);
    if (!r->quit && r->generation == generation && r->active)
      renew_once(r, generation);
  }
  pthread_mutex_unlock(&r->lock);
  wg_db_disconnect(r->db);
  return NULL;
}

static struct wg_renewer *renewer_start(const struct wg_config *cfg)
{
  struct wg_renewer *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->cfg = cfg;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  if (pthread_create(&r->thread, NULL, renewer_main, r) != 0) {
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return NULL;
  }
  return r;
}

static void renewer_set(struct wg_renewer *r, const struct wg_witness_job *job, int64_t started_ms)
{
  if (r == NULL)
    return;
  pthread_mutex_lock(&r->lock);
  r->active = job != NULL;
  if (job != NULL) {
    r->job = *job;
    r->started_ms = started_ms;
    atomic_store(&r->progress_ms, (long long)started_ms);
    r->stall_reported = false;
  }
  atomic_store(&r->lost, false);
  r->generation++;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static void renewer_stop(struct wg_renewer *r)
{
  if (r == NULL)
    return;
  pthread_mutex_lock(&r->lock);
  r->quit = true;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

enum wg_status wg_round_checkpoint(struct wg_round_ctx *ctx)
{
  if (ctx->workers != NULL && stopping(ctx->workers))
    return WG_E_UNAVAILABLE;
  if (ctx->renewer != NULL && atomic_load(&ctx->renewer->lost))
    return WG_E_LEASE_LOST;
  enum wg_status s = run_progress(ctx);
  if (s != WG_OK)
    return s;
  if (wg_monotonic_ms() - ctx->renewed_ms < ctx->app->cfg->witness_lease * 1000 / 3)
    return WG_OK;
  return wg_round_renew(ctx);
}

/* Between the tries of a store operation that failed for a transient reason (store.h): the
 * round's checkpoint keeps its lease, and stops the retries on shutdown or a lost lease. */
static enum wg_status store_retry_pause(void *arg) { return wg_round_checkpoint(arg); }

/* Gives the worker's job back, if it can reach the database; else it stays pending and is
 * retried before the next claim, so a job is not left waiting for its lease after an outage.
 * A job given back after a failure waits a retry backoff (--retry-base doubled per attempt, at
 * most --retry-max) so that a full or unreachable store does not burn its attempts at once; one
 * released at shutdown is claimable at once. */
static void release_job(struct wg_round_ctx *ctx, const struct wg_config *cfg, bool take_back_claim,
                        const char *why, bool *pending)
{
  if (ctx->db->broken)
    wg_db_reconnect(ctx->db, cfg->db);
  double base = take_back_claim ? 0 : cfg->retry_base_ms / 1000.0;
  double max = take_back_claim ? 0 : cfg->retry_max_ms / 1000.0;
  enum wg_status s = ctx->db->broken ? WG_E_UNAVAILABLE
                                     : wg_witness_release(ctx->db, &ctx->job, take_back_claim, (int)cfg->max_attempts,
                                                          base, max, why);
  /* Lease lost means someone else holds the job now: nothing left to give back. */
  *pending = s != WG_OK && s != WG_E_LEASE_LOST;
}

struct orphan_args {
  struct wg_store *store;
  int64_t batch;
};

/* A round whose batch was deleted while it ran may have written blobs after the delete removed
 * the batch's prefix. Under the blob lock, so that a re-upload cannot be writing its input, a
 * batch with no rows has no blob worth keeping; the batch lock is not needed, and not held while
 * the store is called. */
static enum wg_status drop_orphans_tx(struct wg_dbconn *c, void *arg)
{
  struct orphan_args *a = arg;
  bool exists = true;
  enum wg_status s = wg_blob_lock(c, a->batch, true, NULL);
  if (s == WG_OK)
    s = wg_batch_exists(c, a->batch, &exists);
  /* Recorded for the sweeper first: if the store cannot remove the blobs now, the record still
   * commits and the daemons' housekeeping removes them later. */
  if (s == WG_OK && !exists)
    s = wg_blob_sweep_add(c, a->batch);
  if (s == WG_OK && !exists) {
    char prefix[64];
    wg_key_batch_prefix(prefix, sizeof prefix, a->batch);
    enum wg_status removed = wg_store_delete_prefix(a->store, c, prefix);
    if (removed == WG_OK) {
      s = wg_blob_sweep_done(c, a->batch);
      wg_info("batch %lld was deleted while a round ran on it; removed what the round wrote", (long long)a->batch);
    } else {
      wg_warn("batch %lld was deleted while a round ran on it; what the round wrote is left to the sweeper: %s",
              (long long)a->batch, wg_status_name(removed));
    }
  }
  return s;
}

/* One "job start" line when a round takes a job and one "job end" line with its result and
 * time, the same for every round, so that a job's run is found in the log by its fields. */
static const char *const round_results[3] = {"stopped", "committed", "failed"};

static void log_job(int round, const struct wg_witness_job *job, const char *result, int64_t micros)
{
  char batch[24], id[24], circuit[16], depth[16], attempt[16], ms[32];
  snprintf(batch, sizeof batch, "%lld", (long long)job->l1_batch_number);
  snprintf(id, sizeof id, "%lld", (long long)job->id);
  snprintf(circuit, sizeof circuit, "%d", job->circuit_id);
  snprintf(depth, sizeof depth, "%d", job->depth);
  snprintf(attempt, sizeof attempt, "%d", job->attempts);
  snprintf(ms, sizeof ms, "%.3f", (double)micros / 1000.0);
  struct wg_log_field f[] = {
    {"round", round_names[round], false}, {"batch", batch, true},     {"job", id, true},
    {"circuit", circuit, true},           {"depth", depth, true},     {"attempt", attempt, true},
    {"result", result, false},            {"duration_ms", ms, true},
  };
  wg_log_fields(WG_LOG_INFO, result == NULL ? "job start" : "job end", f, result == NULL ? 6 : 8);
}

static void *worker_main(void *p)
{
  struct worker_arg *a = p;
  struct wg_workers *w = a->w;
  const struct wg_config *cfg = w->app->cfg;
  int round = a->round;
  free(a);
  struct wg_round_ctx ctx = {.app = w->app, .workers = w, .renewer = renewer_start(cfg)};
  bool pending = false; /* ctx.job still needs releasing */
  bool pending_take_back = false; /* and its claim is taken back: only when the release was a shutdown's */
  char why[400] = "";
  while (!stopping(w)) {
    pthread_mutex_lock(&w->lock);
    unsigned long seen = w->generation[round];
    pthread_mutex_unlock(&w->lock);
    if (ctx.db == NULL || !wg_db_check(ctx.db)) {
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
    enum wg_status s = wg_witness_claim(ctx.db, round, cfg->instance_id, (int)cfg->witness_lease,
                                        cfg->max_circuits_in_flight, &ctx.job);
    if (s == WG_OK && !wg_pack_id_new(&ctx.pack_id))
      s = WG_E_INTERNAL; /* no random source: the lease expires and another run tries */
    if (s == WG_OK) {
      ctx.renewed_ms = ctx.started_ms = wg_monotonic_ms();
      ctx.timed_out = false;
      log_job(round, &ctx.job, NULL, 0);
      int64_t started = wg_monotonic_us();
      renewer_set(ctx.renewer, &ctx.job, ctx.started_ms);
      ctx.failed = false;
      wg_store_clear_reason(); /* what the store says from here on is this round's */
      wg_store_set_retry_pause(store_retry_pause, &ctx);
      s = round_fns[round](&ctx);
      wg_store_set_retry_pause(NULL, NULL); /* the cleanup below gives up at once */
      renewer_set(ctx.renewer, NULL, 0);
      /* A job the object store refused is failed for good, below, like a bad input. */
      enum wg_round_result result = s == WG_E_DENIED || (s == WG_OK && ctx.failed) ? WG_ROUND_FAILED
                                    : s != WG_OK                                   ? WG_ROUND_STOPPED
                                                                                   : WG_ROUND_COMMITTED;
      wg_metrics_round(round, result, wg_monotonic_us() - started);
      log_job(round, &ctx.job, round_results[result], wg_monotonic_us() - started);
      if (s == WG_E_LEASE_LOST) {
        wg_warn("%s round: batch %lld job %lld: the lease was taken over; nothing committed", round_names[round],
                (long long)ctx.job.l1_batch_number, (long long)ctx.job.id);
        struct orphan_args oa = {w->app->store, ctx.job.l1_batch_number};
        if (!ctx.db->broken)
          wg_db_tx(ctx.db, drop_orphans_tx, &oa);
      } else if (s == WG_E_DENIED && !ctx.db->broken) {
        /* Released, the job would be claimed and refused again until it ran out of attempts:
         * fail it now with the reason, for an operator to fix and requeue. */
        wg_warn("batch %lld job %lld: %s", (long long)ctx.job.l1_batch_number, (long long)ctx.job.id,
                WG_STORE_DENIED_REASON);
        wg_witness_fail(ctx.db, &ctx.job, WG_STORE_DENIED_REASON);
      } else if (s != WG_OK) {
        /* The round stopped without committing and the job is still ours: give it back now rather
         * than when the lease expires. On shutdown the claim is taken back too. A store failure
         * may mean that the batch was deleted under the round: then clean up what it wrote. */
        bool shutdown = stopping(w);
        /* The job's error names the underlying reason (the store's own words, or the lost
         * database), taken before the cleanup below can overwrite it. */
        char reason[300];
        if (shutdown)
          snprintf(reason, sizeof reason, "released at shutdown");
        else if (wg_store_reason()[0] != '\0')
          snprintf(reason, sizeof reason, "store: %s", wg_store_reason());
        else if (ctx.db->broken)
          snprintf(reason, sizeof reason, "database: connection lost");
        else
          snprintf(reason, sizeof reason, "%s", wg_status_name(s));
        struct orphan_args oa = {w->app->store, ctx.job.l1_batch_number};
        if (!shutdown && !ctx.db->broken)
          wg_db_tx(ctx.db, drop_orphans_tx, &oa);
        snprintf(why, sizeof why, "%s round stopped on %s: %s", round_names[round], cfg->instance_id, reason);
        wg_warn("batch %lld job %lld: %s", (long long)ctx.job.l1_batch_number, (long long)ctx.job.id, why);
        release_job(&ctx, cfg, shutdown, why, &pending);
        pending_take_back = shutdown;
        if (!shutdown)
          wait_for_work(w, round, seen, 1000); /* back off before claiming again */
      }
      continue;
    }
    if (s != WG_E_NOT_FOUND)
      wg_warn("%s round: claim failed: %s", round_names[round], wg_status_name(s));
    wait_for_work(w, round, seen, s == WG_E_NOT_FOUND ? cfg->poll_ms : 1000);
  }
  /* A last try; otherwise the next start or the lease returns it. A release left over from an
   * outage keeps its claim counted: only a round stopped by the shutdown takes its claim back. */
  if (pending && ctx.db != NULL) {
    WG_FAULT("worker_exit_release");
    release_job(&ctx, cfg, pending_take_back, why, &pending);
  }
  renewer_stop(ctx.renewer);
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
      wg_claim_waiters_wake(w->app->waiters);
    }
    struct pollfd pfd = {PQsocket(pg), POLLIN, 0};
    if (poll(&pfd, 1, 250) <= 0)
      continue;
    /* The socket also wakes when the connection ends: the server's restart, or the kernel giving
     * it up after a partition (keepalives, see wg_db_open_raw). Replace it above. */
    if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK) {
      wg_warn("lost the LISTEN connection: %s", PQerrorMessage(pg));
      PQfinish(pg);
      pg = NULL;
      continue;
    }
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL) {
      int round = atoi(n->extra);
      if (strcmp(n->extra, WG_NOTIFY_PROVER_JOBS) == 0)
        wg_claim_waiters_wake(w->app->waiters); /* claims waiting for work try again */
      else if (round >= 0 && round < 4)
        wake_round(w, round);
      PQfreemem(n);
    }
  }
  PQfinish(pg);
  return NULL;
}

/* Expires leases, sweeps the blobs of deleted batches and archives, every --housekeeping-ms. Every
 * daemon runs one; they do not conflict. */
static void *housekeeper_main(void *p)
{
  struct wg_workers *w = p;
  const struct wg_config *cfg = w->app->cfg;
  struct wg_dbconn *c = NULL;
  bool unreachable = false;
  while (!stopping(w)) {
    if (c == NULL)
      c = wg_db_connect(cfg->db, NULL, 0);
    else if (!wg_db_check(c))
      wg_db_reconnect(c, cfg->db);
    /* Each step runs whatever became of the one before; a failed step is logged where it failed
     * and counted in wg_housekeeping_errors_total. */
    int requeued = 0, archived = 0, failed = 0;
    if (c == NULL || c->broken) {
      if (!unreachable) /* once per outage, not every tick */
        wg_warn("housekeeping: the database is unreachable; sweeps skipped until it returns");
      unreachable = true;
      failed++;
    } else {
      unreachable = false;
      failed += wg_housekeeping_expire(c, (int)cfg->max_attempts, cfg->retry_base_ms / 1000.0,
                                       cfg->retry_max_ms / 1000.0, &requeued);
      if (requeued > 0)
        wg_info("housekeeping: %d jobs with expired leases put back", requeued);
      bool vacuumed;
      failed += wg_housekeeping_vacuum(c, &vacuumed);
      if (vacuumed)
        wg_metrics_vacuumed();
      int swept = 0;
      enum wg_status swept_s = wg_sweep_pending(w->app->store, c, &swept);
      if (swept_s != WG_OK) {
        wg_warn("housekeeping: removing the blobs of deleted batches failed: %s", wg_status_name(swept_s));
        failed++;
      } else if (swept > 0) {
        wg_info("housekeeping: removed the blobs of %d deleted batches", swept);
      }
      if (cfg->archive_after > 0) {
        enum wg_status s = wg_repair_archive(c, cfg->archive_after, &archived);
        if (s != WG_OK) {
          wg_warn("housekeeping: archiving failed: %s", wg_status_name(s));
          failed++;
        } else if (archived > 0) {
          wg_info("housekeeping: archived %d prover jobs of proven batches", archived);
        }
      }
    }
    wg_metrics_housekeeping_errors(failed);
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
