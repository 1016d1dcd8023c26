/* Path matching for the routing table. */
#include "config.h"
#include "http/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Matches path against pattern segment by segment. Returns the number of literal segments that
 * matched, or -1. Parameter segments match any non-empty segment; their text is copied out. */
static int match_pattern(const char *pattern, const char *path, char params[][24], int *n_params, bool overflow[])
{
  int literal = 0;
  *n_params = 0;
  while (*pattern == '/' && *path == '/') {
    pattern++, path++;
    size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
    if (pattern[0] == '{') {
      if (slen == 0 || *n_params >= WG_MAX_PATH_PARAMS)
        return -1;
      overflow[*n_params] = slen >= 24;
      snprintf(params[*n_params], 24, "%.*s", (int)(slen < 23 ? slen : 23), path);
      (*n_params)++;
    } else {
      if (plen != slen || strncmp(pattern, path, plen) != 0)
        return -1;
      literal++;
    }
    pattern += plen, path += slen;
  }
  return *pattern == '\0' && *path == '\0' ? literal : -1;
}

static bool parse_id(const char *s, int64_t *out)
{
  if (*s == '\0' || strlen(s) > 19)
    return false;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v > INT64_MAX)
    return false;
  *out = (int64_t)v;
  return true;
}

enum wg_route_result wg_route_find(const struct wg_route *routes, size_t n, const char *method, const char *path,
                                   struct wg_route_match *m)
{
  memset(m, 0, sizeof *m);
  int best = -1;
  for (size_t i = 0; i < n; i++) {
    char params[WG_MAX_PATH_PARAMS][24];
    int np;
    bool overflow[WG_MAX_PATH_PARAMS];
    int lit = match_pattern(routes[i].pattern, path, params, &np, overflow);
    if (lit > best)
      best = lit;
  }
  if (best < 0)
    return WG_ROUTE_NOT_FOUND;

  for (size_t i = 0; i < n; i++) {
    char params[WG_MAX_PATH_PARAMS][24];
    int np;
    bool overflow[WG_MAX_PATH_PARAMS];
    if (match_pattern(routes[i].pattern, path, params, &np, overflow) != best)
      continue;
    if (strcmp(routes[i].method, method) != 0) {
      size_t used = strlen(m->allow);
      if (strstr(m->allow, routes[i].method) == NULL && used + strlen(routes[i].method) + 3 < sizeof m->allow)
        snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", routes[i].method);
      continue;
    }
    m->route = &routes[i];
    for (int k = 0; k < np; k++) {
      if (overflow[k] || !parse_id(params[k], &m->params[k])) {
        snprintf(m->bad, sizeof m->bad, "%s%s", params[k], overflow[k] ? "..." : "");
        return WG_ROUTE_BAD_PARAM;
      }
    }
    return WG_ROUTE_OK;
  }
  return WG_ROUTE_BAD_METHOD;
}
