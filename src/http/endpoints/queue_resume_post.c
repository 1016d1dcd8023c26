/* POST /queue/resume: an admin removes the pauses that a filter covers (db/queue.h says which), so
 * that their jobs are claimed again. The walk it shares with /queue/pause is in
 * http/queue_filter.c. */
#include "config.h"

#include "db/queue.h"
#include "http/endpoints.h"

int wg_h_queue_resume_post(struct wg_request *rq)
{
  return wg_queue_filter_apply(rq, wg_queue_resume, "resume");
}
