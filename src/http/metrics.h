/* Prometheus metrics: in-process counters (HTTP requests, round runs) and queue gauges read from
 * the database at scrape time. */
#ifndef WG_METRICS_H
#define WG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct wg_dbconn;
struct wg_completer;

/* route: index in wg_routes, or -1 for a request that matched no route. */
void wg_metrics_http(int route, unsigned status, int64_t micros);
void wg_metrics_round(int round, bool committed, int64_t micros);
/* The text exposition format; malloc'd. Queue gauges are left out when c is NULL, completion
 * group counters when k is NULL. */
char *wg_metrics_render(struct wg_dbconn *c, struct wg_completer *k);

#endif
