/* GET /readyz: readiness. 200 when the database answers a query and the object store takes writes
 * (as its last write found), 503 unavailable otherwise, with the reason. */
#include "config.h"

#include "db/health.h"
#include "http/endpoints.h"
#include "store/store.h"

int wg_h_readyz_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_db_ping(c) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_error(rq, 503, "unavailable", "the database is unreachable");
  char why[256];
  if (!wg_store_writable(why, sizeof why)) /* cached: the store prober and the rounds keep it */
    return wg_reply_error(rq, 503, "unavailable", "the object store cannot be written: %s", why);
  return wg_reply_json(rq, 200, json_pack("{s:s}", "status", "ready"));
}
