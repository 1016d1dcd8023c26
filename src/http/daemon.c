/* witness-generator: the daemon. Loads the configuration, migrates the schema, then runs the
 * HTTP API and the round workers until SIGTERM or SIGINT. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "common/fault.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/claimer.h"
#include "db/completer.h"
#include "db/job_cache.h"
#include "db/db.h"
#include "db/health.h"
#include "db/housekeeping.h"
#include "db/store_config.h"
#include "db/toucher.h"
#include "http/budget.h"
#include "http/metrics.h"
#include "http/claim_wait.h"
#include "http/server.h"
#include "rounds/rounds.h"
#include "store/prober.h"
#include "store/store.h"

/* Waits up to ms for SIGTERM/SIGINT (blocked in every thread); returns the signal or 0. */
static int wait_signal(const sigset_t *set, long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  siginfo_t info;
  int sig = ms < 0 ? sigwaitinfo(set, &info) : sigtimedwait(set, &info, &ts);
  return sig > 0 ? sig : 0;
}

/* Applies migrations, waiting for the database to come up if it is not yet. Returns 0, 1 for a
 * permanent failure (such as a schema newer than this binary) or 2 when a signal arrived. */
static int migrate_at_start(const struct wg_config *cfg, const sigset_t *signals)
{
  for (int attempt = 0;; attempt++) {
    char err[512];
    PGconn *pg = wg_db_open_raw(cfg->db, err, sizeof err);
    if (pg != NULL) {
      enum wg_status s = wg_db_migrate(pg, err, sizeof err);
      PQfinish(pg);
      if (s == WG_OK)
        return 0;
      if (s != WG_E_UNAVAILABLE) {
        wg_error("%s", err);
        return 1;
      }
    }
    if (attempt % 10 == 0)
      wg_warn("database not reachable yet (%s); retrying", err);
    if (wait_signal(signals, 1000) != 0)
      return 2;
  }
}

/* Witness jobs held under our instance id belong to a previous run of this daemon that died:
 * nothing works on them, so they go back to the queue now rather than when their lease expires. */
static void recover_own_jobs(const struct wg_config *cfg)
{
  struct wg_dbconn *c = wg_db_connect(cfg->db, NULL, 0);
  int requeued = 0;
  int failed = c != NULL ? wg_housekeeping_recover(c, cfg->instance_id, (int)cfg->max_attempts, &requeued) : 1;
  if (c == NULL)
    wg_warn("housekeeping: cannot recover the jobs of a previous run: the database is unreachable");
  wg_metrics_housekeeping_errors(failed);
  if (requeued > 0)
    wg_info("requeued %d witness jobs held by a previous run of %s", requeued, cfg->instance_id);
  wg_db_disconnect(c);
}

/* Records the store this daemon uses in the database, for wgctl's blob commands
 * (db/store_config.h). The store is open, so a file store's directory exists and resolves. */
static bool record_store(const struct wg_config *cfg)
{
  char id[4200], previous[4200], err[512];
  if (wg_store_identity(cfg->store, id, sizeof id) != WG_OK) {
    wg_error("cannot resolve the store \"%s\"", cfg->store);
    return false;
  }
  struct wg_dbconn *c = wg_db_connect(cfg->db, err, sizeof err);
  enum wg_status s = c ? wg_store_config_set(c, id, cfg->instance_id, previous, sizeof previous) : WG_E_UNAVAILABLE;
  wg_db_disconnect(c);
  if (s != WG_OK) {
    wg_error("cannot record the store %s in the database (%s)", id, wg_status_name(s));
    return false;
  }
  /* Daemons sharing a database must share a store: one that differs is a move or a mistake. */
  if (previous[0] != '\0')
    wg_warn("the store recorded in the database was %s; it is now this daemon's, %s", previous, id);
  return true;
}

int main(int argc, char **argv)
{
  struct wg_config cfg;
  char err[512];
  switch (wg_config_load(&cfg, argc, argv, NULL, err, sizeof err)) {
  case WG_CONFIG_HELP:
    wg_config_usage("witness-generator", stdout);
    wg_config_free(&cfg);
    return 0;
  case WG_CONFIG_ERROR:
    fprintf(stderr, "witness-generator: %s\n", err);
    wg_config_free(&cfg);
    return 2;
  case WG_CONFIG_OK:
    break;
  }
  int level = wg_log_parse_level(cfg.log_level);
  if (level < 0) {
    fprintf(stderr, "witness-generator: unknown log level \"%s\"\n", cfg.log_level);
    wg_config_free(&cfg);
    return 2;
  }
  wg_log_set_level((enum wg_log_level)level);
  wg_db_set_deadline_ms((int)cfg.db_deadline_ms);
  if (!wg_log_set_format(cfg.log_format)) {
    fprintf(stderr, "witness-generator: unknown log format \"%s\" (text or json)\n", cfg.log_format);
    wg_config_free(&cfg);
    return 2;
  }
  /* Every secret is read now, once, and a file others may read stops the start here, before
   * anything connects anywhere. */
  if (!wg_secrets_load(&cfg, WG_SECRETS_ALL, err, sizeof err)) {
    wg_error("%s", err);
    wg_config_free(&cfg);
    return 2;
  }
  wg_db_set_password(cfg.secrets.db_password);

  /* Signals are taken synchronously by the main thread; every thread started later inherits
   * the mask. */
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = migrate_at_start(&cfg, &signals);
  if (rc != 0) {
    wg_config_free(&cfg);
    return rc == 2 ? 0 : 1;
  }

  struct wg_app app = {0};
  app.cfg = &cfg;
  app.db = wg_db_open(cfg.db, (int)cfg.db_pool);
  app.auth = wg_auth_new(cfg.db);
  app.store = wg_store_open(&cfg, app.db, err, sizeof err);
  if (app.store != NULL && wg_store_cache_open(app.store, &cfg, err, sizeof err) != WG_OK) {
    wg_store_close(app.store);
    app.store = NULL;
  }
  if (app.store == NULL || !record_store(&cfg)) {
    if (app.store == NULL)
      wg_error("%s", err);
    wg_store_close(app.store);
    wg_auth_free(app.auth);
    wg_db_close(app.db);
    wg_config_free(&cfg);
    return 1;
  }

  app.completer = wg_completer_start(cfg.db);
  app.claimer = wg_claimer_start(cfg.db, (int)(cfg.claim_grace < cfg.lease ? cfg.claim_grace : cfg.lease));
  app.waiters = app.claimer ? wg_claim_waiters_start(app.claimer, 1000) : NULL;
  app.toucher = wg_toucher_start(cfg.db, (int)cfg.lease);
  app.jobs = wg_job_cache_new(16384); /* NULL only costs the shortcut */
  app.health = wg_health_start(cfg.db);
  app.budget = wg_budget_new((size_t)cfg.max_buffered_bytes);
  struct wg_server *srv = app.completer && app.claimer && app.waiters && app.toucher && app.health && app.budget ? wg_server_start(&app) : NULL;
  /* GnuTLS holds the parsed key from here on; no copy of it stays in our memory. */
  wg_secret_free(cfg.secrets.tls_key);
  cfg.secrets.tls_key = NULL;
  if (srv == NULL) {
    wg_budget_free(app.budget);
    wg_health_stop(app.health);
    wg_completer_stop(app.completer);
    wg_claim_waiters_stop(app.waiters);
    wg_claim_waiters_free(app.waiters);
    wg_claimer_stop(app.claimer);
    wg_toucher_stop(app.toucher);
    wg_job_cache_free(app.jobs);
    wg_store_close(app.store);
    wg_auth_free(app.auth);
    wg_db_close(app.db);
    wg_config_free(&cfg);
    return 1;
  }
  wg_info("witness-generator %s listening on %s://%s:%d as %s (schema %d)", PACKAGE_VERSION,
          cfg.tls_cert ? "https" : "http", cfg.listen_host, wg_server_port(srv), cfg.instance_id,
          wg_db_schema_version());
  if (getenv("WG_FAULT") != NULL)
    wg_warn("WG_FAULT is set (%s): test fault points are armed", getenv("WG_FAULT"));

  recover_own_jobs(&cfg);
  struct wg_workers *workers = wg_workers_start(&app);
  /* After a failed write, a probe every second tells /readyz when the store takes writes again. */
  struct wg_store_prober *prober = wg_store_prober_start(app.store, cfg.instance_id, 1000);

  int sig = wait_signal(&signals, -1);
  wg_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");

  /* Stop taking new work, finish what is in hand, then close. */
  wg_server_quiesce(srv);
  /* Claims waiting for work answer 204 now: their provers go to another daemon. */
  wg_claim_waiters_stop(app.waiters);
  wg_workers_stop(workers);
  wg_store_prober_stop(prober);
  if (!wg_server_drain(srv, 10000))
    wg_warn("requests still in flight after 10 s; closing their connections");
  wg_server_stop(srv);
  wg_claim_waiters_free(app.waiters);
  wg_budget_free(app.budget);
  wg_health_stop(app.health);
  wg_completer_stop(app.completer);
  wg_claimer_stop(app.claimer);
  wg_toucher_stop(app.toucher);
  wg_job_cache_free(app.jobs);
  wg_store_close(app.store);
  wg_auth_free(app.auth);
  wg_db_close(app.db);
  wg_db_set_password(NULL);
  wg_config_free(&cfg);
  wg_info("stopped");
  return 0;
}
