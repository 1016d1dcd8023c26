/* Metrics: lock-free counters updated on every request and round, rendered on scrape, and the
 * database's figures (job counts, queue gauges), which are read at most once a second and shared
 * by every scrape: /metrics is open to anyone, and its three aggregate queries must not run as
 * often as anyone can ask. */
#include "config.h"
#include "http/metrics.h"
#include "auth/auth.h"
#include "db/claimer.h"
#include "db/completer.h"
#include "db/toucher.h"
#include "http/claim_wait.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/histogram.h"
#include "common/strbuf.h"
#include "db/db.h"
#include "db/queue.h"
#include "http/budget.h"
#include "http/router.h"
#include "store/store.h"

#define MAX_ROUTES 64
static const unsigned codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 500, 503};
#define N_CODES (sizeof codes / sizeof codes[0])

/* [route + 1][code slot]; slot N_CODES counts other codes. */
static atomic_ullong http_requests[MAX_ROUTES + 1][N_CODES + 1];
static atomic_ullong http_micros[MAX_ROUTES + 1];
static atomic_ullong http_requests_seen[MAX_ROUTES + 1];
static atomic_ullong round_runs[4][3]; /* by enum wg_round_result */
static atomic_ullong round_micros[4];
static atomic_ullong housekeeping_errors;
static atomic_ullong vacuums;

static struct wg_histogram http_hist[MAX_ROUTES + 1];
static struct wg_histogram round_hist[4];

static const char *const round_names[4] = {"basic", "leaf", "node", "scheduler"};

const struct wg_stmt wg_sql_metrics[] = {
  {"metrics_jobs",
   "SELECT 'prover', aggregation_round, status, count(*) FROM prover_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed') GROUP BY aggregation_round, status"
   " UNION ALL SELECT 'witness', 0, status, count(*) FROM basic_circuit_witness_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed') GROUP BY status"
   " UNION ALL SELECT 'witness', 1, status, count(*) FROM leaf_aggregation_jobs"
   " WHERE status IN ('waiting_for_proofs', 'queued', 'in_progress', 'failed') GROUP BY status"
   " UNION ALL SELECT 'witness', 2, status, count(*) FROM node_aggregation_jobs"
   " WHERE status IN ('waiting_for_proofs', 'queued', 'in_progress', 'failed') GROUP BY status"
   " UNION ALL SELECT 'witness', 3, status, count(*) FROM scheduler_witness_jobs"
   " WHERE status IN ('waiting_for_proofs', 'queued', 'in_progress', 'failed') GROUP BY status"},
  /* Per kind and round: seconds since the oldest queued job was queued (updated_at is set when a
   * job becomes queued), and jobs not successful that have used $1 claims or more. */
  {"metrics_queue",
   "SELECT kind, round, COALESCE(extract(epoch FROM now() - min(updated_at) FILTER (WHERE status = 'queued')), 0),"
   " count(*) FILTER (WHERE attempts >= $1::integer) FROM ("
   " SELECT 'prover' AS kind, aggregation_round AS round, status, updated_at, attempts FROM prover_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed')"
   " UNION ALL SELECT 'witness', 0, status, updated_at, attempts FROM basic_circuit_witness_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed')"
   " UNION ALL SELECT 'witness', 1, status, updated_at, attempts FROM leaf_aggregation_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed')"
   " UNION ALL SELECT 'witness', 2, status, updated_at, attempts FROM node_aggregation_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed')"
   " UNION ALL SELECT 'witness', 3, status, updated_at, attempts FROM scheduler_witness_jobs"
   " WHERE status IN ('queued', 'in_progress', 'failed')) j GROUP BY kind, round"},
  {NULL, NULL},
};

void wg_metrics_http(int route, unsigned status, int64_t micros)
{
  int r = route >= 0 && route < MAX_ROUTES ? route + 1 : 0;
  size_t slot = N_CODES;
  for (size_t i = 0; i < N_CODES; i++)
    if (codes[i] == status)
      slot = i;
  atomic_fetch_add(&http_requests[r][slot], 1);
  atomic_fetch_add(&http_requests_seen[r], 1);
  atomic_fetch_add(&http_micros[r], (unsigned long long)(micros > 0 ? micros : 0));
  wg_histogram_observe(&http_hist[r], wg_histogram_fast, WG_HISTOGRAM_N_FAST, micros);
}

void wg_metrics_round(int round, enum wg_round_result result, int64_t micros)
{
  if (round < 0 || round > 3 || (unsigned)result > WG_ROUND_FAILED)
    return;
  atomic_fetch_add(&round_runs[round][result], 1);
  atomic_fetch_add(&round_micros[round], (unsigned long long)(micros > 0 ? micros : 0));
  wg_histogram_observe(&round_hist[round], wg_histogram_slow, WG_HISTOGRAM_N_SLOW, micros);
}

void wg_metrics_vacuumed(void) { atomic_fetch_add(&vacuums, 1); }

void wg_metrics_housekeeping_errors(int n)
{
  if (n > 0)
    atomic_fetch_add(&housekeeping_errors, (unsigned long long)n);
}

static void route_label(char *out, size_t n, int r)
{
  if (r == 0)
    snprintf(out, n, "unmatched");
  else
    snprintf(out, n, "%s %s", wg_routes[r - 1].method, wg_routes[r - 1].pattern);
}

/* One unlabelled counter with its help line. */
static void counter(struct wg_strbuf *b, const char *name, const char *help, int64_t value)
{
  wg_strbuf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name, (long long)value);
}

/* The gauges of metrics_queue, one sample for every kind and round (0 where there is none), so
 * that an alert on them sees a value rather than an absent series. */
static void render_queue(struct wg_strbuf *b, struct wg_dbconn *c, long max_attempts)
{
  struct wg_params p = {0};
  wg_p_int(&p, max_attempts);
  PGresult *res = NULL;
  if (wg_db_exec(c, "metrics_queue", &p, false, &res) != WG_OK)
    return;
  double age[2][4] = {{0}};
  long long at_max[2][4] = {{0}};
  for (int i = 0; i < PQntuples(res); i++) {
    int k = strcmp(PQgetvalue(res, i, 0), "prover") == 0 ? 0 : 1, r = atoi(PQgetvalue(res, i, 1)) & 3;
    age[k][r] = atof(PQgetvalue(res, i, 2));
    at_max[k][r] = atoll(PQgetvalue(res, i, 3));
  }
  PQclear(res);
  static const char *const kinds[2] = {"prover", "witness"};
  wg_strbuf_printf(b, "# HELP wg_oldest_queued_job_age_seconds Time since the oldest queued job became queued,"
                      " by kind and round (0: none queued).\n"
                      "# TYPE wg_oldest_queued_job_age_seconds gauge\n");
  for (int k = 0; k < 2; k++)
    for (int r = 0; r < 4; r++)
      wg_strbuf_printf(b, "wg_oldest_queued_job_age_seconds{kind=\"%s\",round=\"%s\"} %.3f\n", kinds[k],
                       round_names[r], age[k][r]);
  wg_strbuf_printf(b, "# HELP wg_jobs_at_max_attempts Jobs queued, in progress or failed that have used"
                      " --max-attempts claims, by kind and round.\n"
                      "# TYPE wg_jobs_at_max_attempts gauge\n");
  for (int k = 0; k < 2; k++)
    for (int r = 0; r < 4; r++)
      wg_strbuf_printf(b, "wg_jobs_at_max_attempts{kind=\"%s\",round=\"%s\"} %lld\n", kinds[k], round_names[r],
                       at_max[k][r]);
}

/* The queue report (GET /queue) as gauges, one series per triple it lists; a triple drops out
 * once it has nothing unfinished, no completion in the last minute and no pause. */
static void render_queue_report(struct wg_strbuf *b, struct wg_dbconn *c)
{
  struct wg_queue_row *rows;
  size_t n;
  if (wg_queue_report(c, &rows, &n) != WG_OK)
    return;
  static const char *const states[3] = {"queued", "in_progress", "backoff"};
  wg_strbuf_printf(b, "# HELP wg_queue_jobs Prover jobs by protocol version, round and circuit id: queued (claimable"
                      " now), in_progress, or backoff (queued, not claimable before their retry time).\n"
                      "# TYPE wg_queue_jobs gauge\n");
#define QUEUE_LABELS "protocol_version=\"%lld\",round=\"%lld\",circuit_id=\"%lld\""
#define QUEUE_VALUES(R) (long long)(R).protocol_version, (long long)(R).round, (long long)(R).circuit_id
  for (size_t i = 0; i < n; i++) {
    int64_t v[3] = {rows[i].queued, rows[i].in_progress, rows[i].backoff};
    for (int k = 0; k < 3; k++)
      wg_strbuf_printf(b, "wg_queue_jobs{" QUEUE_LABELS ",state=\"%s\"} %lld\n", QUEUE_VALUES(rows[i]), states[k],
                       (long long)v[k]);
  }
  wg_strbuf_printf(b, "# HELP wg_queue_oldest_queued_age_seconds Time since the oldest queued prover job of the"
                      " triple became queued (0: none queued).\n"
                      "# TYPE wg_queue_oldest_queued_age_seconds gauge\n");
  for (size_t i = 0; i < n; i++)
    wg_strbuf_printf(b, "wg_queue_oldest_queued_age_seconds{" QUEUE_LABELS "} %.3f\n", QUEUE_VALUES(rows[i]),
                     rows[i].oldest_queued_age_s);
  wg_strbuf_printf(b, "# HELP wg_queue_completed_last_60s Prover jobs of the triple completed in the last 60 s.\n"
                      "# TYPE wg_queue_completed_last_60s gauge\n");
  for (size_t i = 0; i < n; i++)
    wg_strbuf_printf(b, "wg_queue_completed_last_60s{" QUEUE_LABELS "} %lld\n", QUEUE_VALUES(rows[i]),
                     (long long)rows[i].completed_last_60s);
  wg_strbuf_printf(b, "# HELP wg_queue_paused Whether a pause stops the claims of the triple's prover jobs.\n"
                      "# TYPE wg_queue_paused gauge\n");
  for (size_t i = 0; i < n; i++)
    wg_strbuf_printf(b, "wg_queue_paused{" QUEUE_LABELS "} %d\n", QUEUE_VALUES(rows[i]), rows[i].paused ? 1 : 0);
#undef QUEUE_LABELS
#undef QUEUE_VALUES
  free(rows);
}

/* The figures read from the database, as exposition text. */
static void render_db(struct wg_strbuf *b, struct wg_dbconn *c, long max_attempts)
{
  PGresult *res = NULL;
  bool up = c != NULL && wg_db_exec(c, "metrics_jobs", NULL, false, &res) == WG_OK;
  wg_strbuf_printf(b, "# HELP wg_database_up Whether the database answered the last read of its figures (at most"
                      " a second old).\n"
                      "# TYPE wg_database_up gauge\nwg_database_up %d\n", up ? 1 : 0);
  if (!up)
    return;
  wg_strbuf_printf(b, "# HELP wg_jobs Jobs by kind, round and status; successful jobs are not counted,"
                      " failed ones are.\n"
                      "# TYPE wg_jobs gauge\n");
  for (int i = 0; i < PQntuples(res); i++)
    wg_strbuf_printf(b, "wg_jobs{kind=\"%s\",round=\"%s\",status=\"%s\"} %s\n", PQgetvalue(res, i, 0),
                     round_names[atoi(PQgetvalue(res, i, 1)) & 3], PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
  PQclear(res);
  render_queue(b, c, max_attempts);
  render_queue_report(b, c);
}

/* The database's figures, shared by every scrape. figures_lock guards the text and its time;
 * refresh_lock is held by the one scrape that reads the database, so that the others serve the
 * previous text meanwhile instead of queueing up behind it (only the first scrapes of all, with
 * no text yet, wait for it). The connection is taken from the pool only for a refresh. */
#define FIGURES_MAX_AGE_MS 1000
#define FIGURES_DB_WAIT_MS 5000
static pthread_mutex_t figures_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static char *figures_text;
static int64_t figures_ms;
static atomic_ullong figures_refreshes;

/* A copy of the figures, or NULL; *fresh says whether they are under FIGURES_MAX_AGE_MS old. */
static char *figures_copy(bool *fresh)
{
  pthread_mutex_lock(&figures_lock);
  char *copy = figures_text != NULL ? strdup(figures_text) : NULL;
  *fresh = figures_text != NULL && wg_monotonic_ms() - figures_ms < FIGURES_MAX_AGE_MS;
  pthread_mutex_unlock(&figures_lock);
  return copy;
}

/* Called with refresh_lock held. */
static void figures_refresh(struct wg_db *pool, long max_attempts)
{
  struct wg_strbuf b = {0};
  struct wg_dbconn *c = pool != NULL ? wg_db_acquire(pool, FIGURES_DB_WAIT_MS) : NULL;
  render_db(&b, c, max_attempts);
  wg_db_release(c);
  atomic_fetch_add(&figures_refreshes, 1);
  pthread_mutex_lock(&figures_lock);
  free(figures_text);
  figures_text = b.s;
  figures_ms = wg_monotonic_ms();
  pthread_mutex_unlock(&figures_lock);
}

static char *db_figures(struct wg_db *pool, long max_attempts)
{
  bool fresh;
  char *text = figures_copy(&fresh);
  if (fresh)
    return text;
  /* Stale: one scrape refreshes, the others serve what there is. */
  if (text != NULL ? pthread_mutex_trylock(&refresh_lock) != 0 : pthread_mutex_lock(&refresh_lock) != 0)
    return text;
  /* Another scrape may have refreshed them while this one waited for the lock. */
  free(text);
  text = figures_copy(&fresh);
  if (!fresh) {
    figures_refresh(pool, max_attempts);
    free(text);
    text = figures_copy(&fresh);
  }
  pthread_mutex_unlock(&refresh_lock);
  return text;
}

char *wg_metrics_render(const struct wg_metrics_sources *src)
{
  struct wg_completer *completer = src->completer;
  struct wg_claimer *claimer = src->claimer;
  struct wg_strbuf b = {0};
  char label[128];
  wg_strbuf_printf(&b, "# HELP wg_http_requests_total HTTP requests by route and status code.\n"
                       "# TYPE wg_http_requests_total counter\n");
  size_t n_routes = wg_routes_count < MAX_ROUTES ? wg_routes_count : MAX_ROUTES;
  for (size_t r = 0; r <= n_routes; r++) {
    route_label(label, sizeof label, (int)r);
    for (size_t k = 0; k <= N_CODES; k++) {
      unsigned long long v = atomic_load(&http_requests[r][k]);
      if (v == 0)
        continue;
      char code[8];
      snprintf(code, sizeof code, k < N_CODES ? "%u" : "other", k < N_CODES ? codes[k] : 0);
      wg_strbuf_printf(&b, "wg_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", label, code, v);
    }
  }
  wg_strbuf_printf(&b, "# HELP wg_http_request_seconds_total Time spent answering requests, by route.\n"
                       "# TYPE wg_http_request_seconds_total counter\n");
  for (size_t r = 0; r <= n_routes; r++) {
    unsigned long long v = atomic_load(&http_micros[r]);
    if (v == 0)
      continue;
    route_label(label, sizeof label, (int)r);
    wg_strbuf_printf(&b, "wg_http_request_seconds_total{route=\"%s\"} %.6f\n", label, (double)v / 1e6);
  }
  wg_strbuf_printf(&b, "# HELP wg_http_request_duration_seconds Time from a request's first byte to its reply,"
                       " by route.\n"
                       "# TYPE wg_http_request_duration_seconds histogram\n");
  for (size_t r = 0; r <= n_routes; r++) {
    if (atomic_load(&http_requests_seen[r]) == 0)
      continue;
    char labels[160];
    route_label(label, sizeof label, (int)r);
    snprintf(labels, sizeof labels, "route=\"%s\",", label);
    wg_histogram_render(&b, "wg_http_request_duration_seconds", labels, &http_hist[r], wg_histogram_fast, WG_HISTOGRAM_N_FAST);
  }
  wg_strbuf_printf(&b, "# HELP wg_round_duration_seconds Time a round worker spent on one job, whatever the"
                       " outcome, by round.\n"
                       "# TYPE wg_round_duration_seconds histogram\n");
  for (int r = 0; r < 4; r++) {
    char labels[64];
    snprintf(labels, sizeof labels, "round=\"%s\",", round_names[r]);
    wg_histogram_render(&b, "wg_round_duration_seconds", labels, &round_hist[r], wg_histogram_slow, WG_HISTOGRAM_N_SLOW);
  }
  wg_store_metrics_render(&b);
  if (src->pool != NULL) {
    struct wg_db_pool_counts pc;
    wg_db_pool_counts(src->pool, &pc);
    wg_strbuf_printf(&b, "# HELP wg_db_pool_connections Connections of the HTTP handlers' database pool.\n"
                         "# TYPE wg_db_pool_connections gauge\nwg_db_pool_connections %d\n"
                         "# HELP wg_db_pool_in_use Pool connections held by requests.\n"
                         "# TYPE wg_db_pool_in_use gauge\nwg_db_pool_in_use %d\n"
                         "# HELP wg_db_pool_waiting Requests waiting for a pool connection.\n"
                         "# TYPE wg_db_pool_waiting gauge\nwg_db_pool_waiting %d\n"
                         "# HELP wg_db_pool_waits_total Requests that found no free pool connection and waited.\n"
                         "# TYPE wg_db_pool_waits_total counter\nwg_db_pool_waits_total %lld\n",
                     pc.size, pc.in_use, pc.waiting, pc.waits);
  }
  static const char *const results[3] = {"stopped", "committed", "failed"};
  wg_strbuf_printf(&b, "# HELP wg_round_runs_total Round runs by round and outcome: committed its outputs, failed"
                       " its job for good, or stopped without committing.\n"
                       "# TYPE wg_round_runs_total counter\n");
  for (int r = 0; r < 4; r++)
    for (int k = 0; k < 3; k++)
      wg_strbuf_printf(&b, "wg_round_runs_total{round=\"%s\",result=\"%s\"} %llu\n", round_names[r], results[k],
                       atomic_load(&round_runs[r][k]));
  wg_strbuf_printf(&b, "# HELP wg_round_seconds_total Time spent running rounds.\n"
                       "# TYPE wg_round_seconds_total counter\n");
  for (int r = 0; r < 4; r++)
    wg_strbuf_printf(&b, "wg_round_seconds_total{round=\"%s\"} %.6f\n", round_names[r],
                     (double)atomic_load(&round_micros[r]) / 1e6);

  counter(&b, "wg_housekeeping_errors_total",
          "Housekeeping steps that failed (a lease expiry sweep of one table, a restart recovery, the archiver);"
          " the other steps still ran.",
          (int64_t)atomic_load(&housekeeping_errors));
  counter(&b, "wg_prover_jobs_vacuums_total",
          "Vacuums of prover_jobs this daemon ran because PostgreSQL's counters showed 10% of it dead (the claim"
          " index otherwise fills with the entries of claimed jobs until autovacuum's next look).",
          (int64_t)atomic_load(&vacuums));

  int64_t groups, items;
  if (completer != NULL) {
    wg_completer_counts(completer, &groups, &items);
    counter(&b, "wg_completion_groups_total", "Commits of grouped prover job completions.", groups);
    counter(&b, "wg_completions_total", "Prover job completions committed in groups.", items);
  }
  if (claimer != NULL) {
    wg_claimer_counts(claimer, &groups, &items);
    counter(&b, "wg_claim_groups_total", "Claim statements, each serving the claims that arrived together.", groups);
    counter(&b, "wg_claims_total", "Claims served by those statements.", items);
  }
  if (src->toucher != NULL) {
    int64_t flushes, flushed;
    wg_toucher_counts(src->toucher, &groups, &items, &flushes, &flushed);
    counter(&b, "wg_witness_touch_groups_total",
            "Statements fencing witness downloads, each serving the downloads that arrived together.", groups);
    counter(&b, "wg_witness_touches_total", "Witness downloads fenced by those statements.", items);
    counter(&b, "wg_lease_touch_flushes_total",
            "Statements writing the full leases of first witness downloads, gathered for up to 0.1 s.", flushes);
    counter(&b, "wg_lease_touches_total",
            "Leases those statements were asked to turn full (a job completed meanwhile needs none).", flushed);
  }
  if (src->waiters != NULL)
    wg_strbuf_printf(&b, "# HELP wg_claims_waiting Claims parked waiting for work (\"wait_ms\").\n"
                         "# TYPE wg_claims_waiting gauge\nwg_claims_waiting %lld\n",
                     (long long)wg_claim_waiters_count(src->waiters));

  if (src->budget != NULL) {
    wg_strbuf_printf(&b, "# HELP wg_http_buffered_bytes Bytes of request bodies reserved by the requests in flight"
                         " (on the wire and decoded).\n"
                         "# TYPE wg_http_buffered_bytes gauge\nwg_http_buffered_bytes %zu\n"
                         "# HELP wg_http_buffered_bytes_limit The budget of request bodies, --max-buffered-bytes.\n"
                         "# TYPE wg_http_buffered_bytes_limit gauge\nwg_http_buffered_bytes_limit %zu\n",
                     wg_budget_used(src->budget), wg_budget_limit(src->budget));
    counter(&b, "wg_http_budget_refusals_total",
            "Requests refused 503 because their bodies would have passed --max-buffered-bytes.",
            (int64_t)wg_budget_refusals(src->budget));
  }

  if (src->auth != NULL)
    counter(&b, "wg_token_reloads_total", "Reads of the token table by the token cache.", wg_auth_reloads(src->auth));

  char *figures = db_figures(src->pool, src->max_attempts);
  if (figures != NULL)
    wg_strbuf_printf(&b, "%s", figures);
  free(figures);
  counter(&b, "wg_metrics_refreshes_total",
          "Reads of the database's figures (wg_database_up, wg_jobs, the queue gauges and wg_queue_*), at most one a second"
          " whatever the number of scrapes.",
          (int64_t)atomic_load(&figures_refreshes));
  return b.s;
}
