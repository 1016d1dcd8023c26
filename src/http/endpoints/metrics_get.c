/* GET /metrics: Prometheus text format (open, like the health probes). It takes no database
 * connection itself: the database's figures are refreshed at most once a second, for all scrapes. */
#include "config.h"

#include <string.h>

#include "config/settings.h"
#include "http/endpoints.h"
#include "http/metrics.h"

int wg_h_metrics_get(struct wg_request *rq)
{
  struct wg_metrics_sources src = {rq->app->completer, rq->app->claimer, rq->app->db,
                                   rq->app->cfg->max_attempts, rq->app->auth, rq->app->budget,
                                   rq->app->waiters, rq->app->toucher};
  char *text = wg_metrics_render(&src);
  return wg_reply_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}
