/* The negative cache of token hashes (see negative_cache.h). Pure code: the caller passes the
 * time and holds whatever lock it needs. */
#include "config.h"
#include "auth/negative_cache.h"

#include <string.h>

/* The hash is SHA-256 of the token: its first bytes are as good an index as any. Whoever picks
 * unknown tokens to collide can only evict entries, which costs a scan and nothing else. */
static size_t slot_of(const uint8_t sha256[32])
{
  uint32_t v = (uint32_t)sha256[0] | (uint32_t)sha256[1] << 8 | (uint32_t)sha256[2] << 16 | (uint32_t)sha256[3] << 24;
  return v % WG_NEGATIVE_CACHE_SLOTS;
}

void wg_negative_cache_clear(struct wg_negative_cache *nc) { memset(nc, 0, sizeof *nc); }

void wg_negative_cache_add(struct wg_negative_cache *nc, const uint8_t sha256[32], int64_t now_ms, int64_t ttl_ms)
{
  size_t i = slot_of(sha256);
  memcpy(nc->slot[i].sha256, sha256, 32);
  nc->slot[i].until_ms = now_ms + ttl_ms;
}

/* A plain comparison: every hash here is of a token that is not valid, so its timing tells
 * nothing about a valid one. */
bool wg_negative_cache_hit(const struct wg_negative_cache *nc, const uint8_t sha256[32], int64_t now_ms)
{
  size_t i = slot_of(sha256);
  return nc->slot[i].until_ms != 0 && now_ms < nc->slot[i].until_ms && memcmp(nc->slot[i].sha256, sha256, 32) == 0;
}
