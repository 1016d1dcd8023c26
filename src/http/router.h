/* The routing table: method + path pattern -> handler, the role it requires and the body it
 * takes. Patterns are literal segments and numeric parameters written {name}. */
#ifndef WG_ROUTER_H
#define WG_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"

struct wg_request;
typedef int (*wg_handler_fn)(struct wg_request *rq);

enum wg_body {
  WG_BODY_NONE,  /* no body expected; one that is sent is ignored (up to the small limit) */
  WG_BODY_JSON,  /* a small application/json document (claims, failures), gzip allowed */
  WG_BODY_INPUT, /* application/json up to --max-body, gzip allowed: a batch's witness input */
  WG_BODY_OCTET, /* application/octet-stream up to --max-proof: a proof */
};

struct wg_route {
  const char *method;
  const char *pattern;
  wg_handler_fn handler;
  enum wg_role role;
  enum wg_body body;
};

#define WG_MAX_PATH_PARAMS 2

enum wg_route_result {
  WG_ROUTE_OK,
  WG_ROUTE_NOT_FOUND,   /* no pattern matches the path */
  WG_ROUTE_BAD_METHOD,  /* a pattern matches, but not with this method; allow lists the methods */
  WG_ROUTE_BAD_PARAM,   /* a numeric parameter is not a number in 0..2^63-1; bad names it */
};

struct wg_route_match {
  const struct wg_route *route;
  int64_t params[WG_MAX_PATH_PARAMS];
  char allow[64];
  char bad[96];
};

/* Finds the route for method and path in routes[0..n). When several patterns match the path,
 * the one with the most literal segments wins (POST /jobs/claim over GET /jobs/{id}). */
enum wg_route_result wg_route_find(const struct wg_route *routes, size_t n, const char *method, const char *path,
                                   struct wg_route_match *m);

/* The daemon's table (http/routes.c). */
extern const struct wg_route wg_routes[];
extern const size_t wg_routes_count;

#endif
