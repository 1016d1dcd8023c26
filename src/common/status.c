/* Names of result codes, for logs. */
#include "config.h"
#include "common/status.h"

const char *wg_status_name(enum wg_status s)
{
  switch (s) {
  case WG_OK: return "ok";
  case WG_E_NOT_FOUND: return "not_found";
  case WG_E_CONFLICT: return "conflict";
  case WG_E_LEASE_LOST: return "lease_lost";
  case WG_E_INVALID: return "invalid_input";
  case WG_E_UNAVAILABLE: return "unavailable";
  case WG_E_INTERNAL: return "internal";
  case WG_E_DENIED: return "store_denied";
  }
  return "internal";
}
