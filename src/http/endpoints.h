/* Every endpoint's handler; one file each under http/endpoints/, named for its path and method. */
#ifndef WG_ENDPOINTS_H
#define WG_ENDPOINTS_H

#include "http/server.h"

int wg_h_healthz_get(struct wg_request *rq);
int wg_h_readyz_get(struct wg_request *rq);

#endif
