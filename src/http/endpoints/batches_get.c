/* GET /batches: batches in number order with their status; ?after=N&limit=M pages. */
#include "config.h"

#include "db/batches.h"
#include "http/endpoints.h"

int wg_h_batches_get(struct wg_request *rq)
{
  int64_t after, limit;
  if (!wg_request_int_arg(rq, "after", -1, INT64_MAX, &after) || !wg_request_int_arg(rq, "limit", 100, 10000, &limit))
    return 1;
  if (wg_request_arg(rq, "after") == NULL)
    after = -1;
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *list;
  enum wg_status s = c ? wg_batches_list(c, after, limit, &list) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not list batches");
  return wg_reply_json(rq, 200, json_pack("{s:o}", "batches", list));
}
