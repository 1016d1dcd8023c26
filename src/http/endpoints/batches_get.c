/* GET /batches: batches with their status and priority, by number; ?order=asc (the default) or
 * desc (newest first), and ?after=N&limit=M pages: after is the last number of the previous page,
 * and the page goes on from it in the chosen order (in desc order, the numbers below N). */
#include "config.h"

#include <string.h>

#include "db/batches.h"
#include "http/endpoints.h"

int wg_h_batches_get(struct wg_request *rq)
{
  const char *order = wg_request_arg(rq, "order");
  if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
    return wg_reply_error(rq, 400, "bad_request", "query argument order must be asc or desc, got \"%.40s\"", order);
  bool desc = order != NULL && strcmp(order, "desc") == 0;
  int64_t after, limit;
  if (!wg_request_int_arg(rq, "after", -1, INT64_MAX, &after) || !wg_request_int_arg(rq, "limit", 100, 10000, &limit))
    return 1;
  if (wg_request_arg(rq, "after") == NULL)
    after = desc ? INT64_MAX : -1;
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *list;
  enum wg_status s = c ? wg_batches_list(c, after, desc, limit, &list) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not list batches");
  return wg_reply_json(rq, 200, json_pack("{s:o}", "batches", list));
}
