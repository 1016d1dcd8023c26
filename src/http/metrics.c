/* Metrics: lock-free counters updated on every request and round, rendered on scrape. */
#include "config.h"
#include "http/metrics.h"
#include "db/claimer.h"
#include "db/completer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "db/db.h"
#include "http/router.h"

#define MAX_ROUTES 64
static const unsigned codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 500, 503};
#define N_CODES (sizeof codes / sizeof codes[0])

/* [route + 1][code slot]; slot N_CODES counts other codes. */
static atomic_ullong http_requests[MAX_ROUTES + 1][N_CODES + 1];
static atomic_ullong http_micros[MAX_ROUTES + 1];
static atomic_ullong round_runs[4][3]; /* by enum wg_round_result */
static atomic_ullong round_micros[4];

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
  atomic_fetch_add(&http_micros[r], (unsigned long long)(micros > 0 ? micros : 0));
}

void wg_metrics_round(int round, enum wg_round_result result, int64_t micros)
{
  if (round < 0 || round > 3 || (unsigned)result > WG_ROUND_FAILED)
    return;
  atomic_fetch_add(&round_runs[round][result], 1);
  atomic_fetch_add(&round_micros[round], (unsigned long long)(micros > 0 ? micros : 0));
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

char *wg_metrics_render(struct wg_dbconn *c, struct wg_completer *completer, struct wg_claimer *claimer)
{
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

  PGresult *res = NULL;
  bool up = c != NULL && wg_db_exec(c, "metrics_jobs", NULL, false, &res) == WG_OK;
  wg_strbuf_printf(&b, "# HELP wg_database_up Whether the database answered this scrape.\n"
                       "# TYPE wg_database_up gauge\nwg_database_up %d\n", up ? 1 : 0);
  if (up) {
    wg_strbuf_printf(&b, "# HELP wg_jobs Jobs by kind, round and status; successful jobs are not counted,"
                         " failed ones are.\n"
                         "# TYPE wg_jobs gauge\n");
    for (int i = 0; i < PQntuples(res); i++)
      wg_strbuf_printf(&b, "wg_jobs{kind=\"%s\",round=\"%s\",status=\"%s\"} %s\n", PQgetvalue(res, i, 0),
                       round_names[atoi(PQgetvalue(res, i, 1)) & 3], PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    PQclear(res);
  }
  return b.s;
}
