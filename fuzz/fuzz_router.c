/* libFuzzer target: routing any method and path against the daemon's table, and parsing bearer
 * headers, never crashes and always yields a consistent answer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"};
  char *path = malloc(size + 1);
  memcpy(path, data, size);
  path[size] = '\0';
  const char *method = methods[size > 0 ? data[0] % 6 : 0];
  struct wg_route_match m;
  enum wg_route_result r = wg_route_find(wg_routes, wg_routes_count, method, path, &m);
  if (r == WG_ROUTE_OK && (m.route == NULL || strcmp(m.route->method, method) != 0))
    abort();
  if (r == WG_ROUTE_BAD_METHOD && m.allow[0] == '\0')
    abort();
  const char *t = wg_bearer_token(path);
  if (t != NULL && (t < path || t > path + size))
    abort();
  free(path);
  return 0;
}
