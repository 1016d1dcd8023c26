/* Token generation, hashing and role rules: pure code, no database. */
#include "config.h"
#include "auth/auth.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"

static const char *const role_names[] = {"none", "tree", "prover", "viewer", "admin", "anyone", "holder"};

const char *wg_role_name(enum wg_role role)
{
  return role >= WG_ROLE_NONE && role <= WG_ROLE_HOLDER ? role_names[role] : "unknown";
}

enum wg_role wg_role_parse(const char *name)
{
  for (int r = WG_ROLE_TREE; r <= WG_ROLE_ADMIN; r++)
    if (name != NULL && strcmp(name, role_names[r]) == 0)
      return (enum wg_role)r;
  return WG_ROLE_NONE;
}

bool wg_role_allows(enum wg_role have, enum wg_role need, bool is_get)
{
  if (need == WG_ROLE_ANYONE)
    return true;
  if (have == WG_ROLE_NONE)
    return false;
  if (need == WG_ROLE_HOLDER)
    return have == WG_ROLE_PROVER || have == WG_ROLE_ADMIN;
  if (have == WG_ROLE_ADMIN || have == need)
    return true;
  return have == WG_ROLE_VIEWER && is_get;
}

bool wg_token_generate(char out[WG_TOKEN_LEN + 1])
{
  uint8_t raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return false;
  memcpy(out, WG_TOKEN_PREFIX, 4);
  wg_hex_encode(raw, sizeof raw, out + 4);
  return true;
}

void wg_token_hash(const char *token, uint8_t out[32]) { SHA256((const unsigned char *)token, strlen(token), out); }

const char *wg_bearer_token(const char *header)
{
  if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
    return NULL;
  const char *t = header + 7;
  while (*t == ' ')
    t++;
  if (*t == '\0')
    return NULL;
  for (const char *p = t; *p; p++)
    if (*p <= ' ' || *p > '~')
      return NULL;
  return t;
}
