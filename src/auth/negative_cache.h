/* A fixed-size memory of token hashes that were just found unknown, so that a flood of unknown
 * tokens costs neither a table scan each nor anything that grows: direct-mapped slots, a new hash
 * evicting whatever held its slot. Only hashes are kept, never token text. A lost entry only
 * means a scan of the cached table; a wrong one cannot happen (whole hashes are compared). */
#ifndef WG_AUTH_NEGATIVE_CACHE_H
#define WG_AUTH_NEGATIVE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define WG_NEGATIVE_CACHE_SLOTS 4096 /* 160 KiB */

struct wg_negative_cache {
  struct {
    uint8_t sha256[32];
    int64_t until_ms; /* 0: empty */
  } slot[WG_NEGATIVE_CACHE_SLOTS];
};

void wg_negative_cache_clear(struct wg_negative_cache *nc);
/* Remembers hash as unknown until now_ms + ttl_ms. */
void wg_negative_cache_add(struct wg_negative_cache *nc, const uint8_t sha256[32], int64_t now_ms, int64_t ttl_ms);
/* Whether hash was remembered as unknown and that has not expired at now_ms. */
bool wg_negative_cache_hit(const struct wg_negative_cache *nc, const uint8_t sha256[32], int64_t now_ms);

#endif
