/* GET /queue: the live prover queue per (protocol version, round, circuit id), for people and
 * autoscalers; /metrics carries the same figures as gauges. */
#include "config.h"

#include "db/queue.h"
#include "http/endpoints.h"

int wg_h_queue_get(struct wg_request *rq)
{
  struct wg_dbconn *c = wg_request_db(rq);
  json_t *report = NULL;
  enum wg_status s = c ? wg_queue_report_json(c, &report) : WG_E_UNAVAILABLE;
  if (s != WG_OK)
    return wg_reply_status(rq, s, "could not read the queue");
  return wg_reply_json(rq, 200, report);
}
