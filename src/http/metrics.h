/* Prometheus metrics: in-process counters and latency histograms (HTTP requests by route, round
 * runs), the object store's own (store.h, which counts them below HTTP), the connection pool's
 * use, and job counts and queue gauges read from the database at most once a second, whatever the
 * number of scrapes. */
#ifndef WG_METRICS_H
#define WG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct wg_dbconn;
struct wg_completer;
struct wg_claimer;

/* route: index in wg_routes, or -1 for a request that matched no route. */
void wg_metrics_http(int route, unsigned status, int64_t micros);
/* How a round run ended: it committed its outputs, it failed its job for good (bad input, say),
 * or it stopped without committing (lease lost, shutdown, database gone). */
enum wg_round_result { WG_ROUND_STOPPED, WG_ROUND_COMMITTED, WG_ROUND_FAILED };
void wg_metrics_round(int round, enum wg_round_result result, int64_t micros);
/* Housekeeping steps (a lease expiry sweep of one table, a restart recovery, the archiver) that
 * failed; each is logged where it failed, and the others still ran. */
void wg_metrics_housekeeping_errors(int n);
/* A vacuum of prover_jobs run by housekeeping (db/housekeeping.h). */
void wg_metrics_vacuumed(void);

struct wg_db;
/* What a scrape reads besides the in-process counters; any pointer may be NULL, and what it
 * would give is then left out. */
struct wg_auth;
struct wg_budget;
struct wg_claim_waiters;
struct wg_toucher;
struct wg_metrics_sources {
  struct wg_completer *completer; /* completion group counters */
  struct wg_claimer *claimer;     /* claim group counters */
  struct wg_db *pool;           /* the HTTP connection pool's use; job counts and queue gauges */
  long max_attempts;            /* for the jobs-at-max-attempts gauge */
  struct wg_auth *auth;         /* the token cache's reads */
  const struct wg_budget *budget; /* request bodies held (--max-buffered-bytes) */
  struct wg_claim_waiters *waiters; /* claims waiting for work */
  struct wg_toucher *toucher;       /* witness download group counters */
};
/* The text exposition format; malloc'd. */
char *wg_metrics_render(const struct wg_metrics_sources *src);

#endif
