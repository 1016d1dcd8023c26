/* The daemon's routing table: every route, the role it requires and the body it takes
 * (SPEC section 6). The OpenAPI document in api/openapi.yaml describes the same table. */
#include "config.h"

#include "http/endpoints.h"
#include "http/router.h"

const struct wg_route wg_routes[] = {
  {"GET", "/healthz", wg_h_healthz_get, WG_ROLE_ANYONE, WG_BODY_NONE},
  {"GET", "/readyz", wg_h_readyz_get, WG_ROLE_ANYONE, WG_BODY_NONE},
};
const size_t wg_routes_count = sizeof wg_routes / sizeof wg_routes[0];
