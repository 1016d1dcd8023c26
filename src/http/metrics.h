/* Prometheus metrics: in-process counters (HTTP requests, round runs) and queue gauges read from
 * the database at scrape time. */
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
/* The text exposition format; malloc'd. Queue gauges are left out when c is NULL, completion
 * and claim group counters when completer or claimer is NULL. */
char *wg_metrics_render(struct wg_dbconn *c, struct wg_completer *completer, struct wg_claimer *claimer);

#endif
