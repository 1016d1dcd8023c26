/* GET /readyz: readiness. 200 when every check below passes, else 503 unavailable naming the first
 * that fails. Each check reads state that a background thread keeps, so the answer never waits
 * for the database. */
#include "config.h"

#include "db/health.h"
#include "http/endpoints.h"

/* Why the daemon cannot serve now, or NULL when it can. One line per check. */
static const char *not_ready(const struct wg_app *app)
{
  if (!wg_health_db_ready(app->health))
    return "the database is unreachable";
  return NULL;
}

int wg_h_readyz_get(struct wg_request *rq)
{
  const char *why = not_ready(rq->app);
  if (why != NULL)
    return wg_reply_error(rq, 503, "unavailable", "%s", why);
  return wg_reply_json(rq, 200, json_pack("{s:s}", "status", "ready"));
}
