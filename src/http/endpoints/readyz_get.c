/* GET /readyz: readiness. 200 when the database answers a query, 503 unavailable otherwise. */
#include "config.h"

#include "db/health.h"
#include "http/endpoints.h"

int wg_h_readyz_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_db_ping(c) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_error(rq, 503, "unavailable", "the database is unreachable");
  return wg_reply_json(rq, 200, json_pack("{s:s}", "status", "ready"));
}
