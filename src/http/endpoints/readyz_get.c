/* GET /readyz: readiness. 200 when every check below passes, else 503 unavailable naming the first
 * that fails. Each check reads state that a background thread keeps (the health thread's ping,
 * the store prober and the rounds' last writes), so the answer never waits for the database or
 * the store. */
#include "config.h"

#include <stdio.h>

#include "db/health.h"
#include "http/endpoints.h"
#include "store/store.h"

/* Why the daemon cannot serve now, or NULL when it can. One line per check. */
static const char *not_ready(const struct wg_app *app, char *buf, size_t n)
{
  char why[256];
  if (!wg_health_db_ready(app->health))
    return "the database is unreachable";
  if (!wg_store_writable(why, sizeof why)) {
    snprintf(buf, n, "the object store cannot be written: %s", why);
    return buf;
  }
  return NULL;
}

int wg_h_readyz_get(struct wg_request *rq)
{
  char buf[320];
  const char *why = not_ready(rq->app, buf, sizeof buf);
  if (why != NULL)
    return wg_reply_error(rq, 503, "unavailable", "%s", why);
  return wg_reply_json(rq, 200, json_pack("{s:s}", "status", "ready"));
}
