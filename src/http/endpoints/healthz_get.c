/* GET /healthz: liveness. Answers while the process serves HTTP, whatever the database does. */
#include "config.h"

#include "http/endpoints.h"

int wg_h_healthz_get(struct wg_request *rq) { return wg_reply_json(rq, 200, json_pack("{s:s}", "status", "ok")); }
