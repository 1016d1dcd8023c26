/* POST /queue/pause: an admin stops the claims of the prover jobs a filter names; jobs already
 * held finish. The claim reads the pauses itself, so every daemon honours it at once. The walk
 * it shares with /queue/resume is in http/queue_filter.c. */
#include "config.h"

#include "db/queue.h"
#include "http/endpoints.h"

int wg_h_queue_pause_post(struct wg_request *rq)
{
  return wg_queue_filter_apply(rq, wg_queue_pause, "pause");
}
