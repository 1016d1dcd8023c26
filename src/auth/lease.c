/* Job leases (see lease.h): pure code, no database. */
#include "config.h"
#include "auth/lease.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#include "common/hex.h"

bool wg_lease_new(char out[WG_LEASE_LEN + 1], uint8_t hash[32])
{
  uint8_t raw[WG_LEASE_LEN / 2];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return false;
  wg_hex_encode(raw, sizeof raw, out);
  wg_lease_hash(out, WG_LEASE_LEN, hash);
  return true;
}

void wg_lease_hash(const char *lease, size_t len, uint8_t hash[32])
{
  SHA256((const unsigned char *)lease, len, hash);
}
