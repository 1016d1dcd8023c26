/* Bearer tokens and roles (docs/api.md, Access). Tokens are random, shown once, and stored
 * only as SHA-256 hashes; the daemon compares hashes in constant time. */
#ifndef WG_AUTH_H
#define WG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* WG_ROLE_ANYONE and WG_ROLE_HOLDER are what routes need, not roles a token has: HOLDER is a
 * route only the prover holding a job (its handler checks the lease) or an admin may call, a GET
 * that viewers may not (a witness is all a proof of the reference scheme needs). */
enum wg_role {
  WG_ROLE_NONE = 0,
  WG_ROLE_TREE,
  WG_ROLE_PROVER,
  WG_ROLE_VIEWER,
  WG_ROLE_ADMIN,
  WG_ROLE_ANYONE,
  WG_ROLE_HOLDER
};

const char *wg_role_name(enum wg_role role);
/* "tree", "prover", "viewer" or "admin"; WG_ROLE_NONE for anything else. */
enum wg_role wg_role_parse(const char *name);
/* Whether a caller with role `have` may call a route that requires `need`: admin may call
 * everything, viewer every GET but a holder's, the others only their own routes (a prover the
 * holder's). */
bool wg_role_allows(enum wg_role have, enum wg_role need, bool is_get);

#define WG_TOKEN_PREFIX "wgt_"
#define WG_TOKEN_LEN (4 + 64) /* prefix and 32 random bytes in hex */
/* Token names longer than this are cut where they are logged; the table does not bound them. */
#define WG_TOKEN_NAME_MAX 64
/* A new random token, NUL-terminated. Returns false if the random source fails. */
bool wg_token_generate(char out[WG_TOKEN_LEN + 1]);
void wg_token_hash(const char *token, uint8_t out[32]);

/* Extracts the token from an Authorization header value ("Bearer TOKEN"); NULL if malformed. */
const char *wg_bearer_token(const char *header);

/* The daemon's view of the token table, cached for a second at most so that a request does not
 * cost a query; a revoked token stops working within that second, and at once when the change is
 * made with wgctl (which notifies the daemons). An unknown token never makes the cache read the
 * table early, so made-up tokens cannot make it read more than once a second. */
struct wg_auth;
/* The cache reads the token table over its own connection to conninfo, made on first use. */
struct wg_auth *wg_auth_new(const char *conninfo);
void wg_auth_free(struct wg_auth *a);
/* Sets *role to the token's role (WG_ROLE_NONE if unknown or revoked) and, when name is not
 * NULL, copies the token's name there (empty if unknown) so that logs can say who called without
 * holding the token. WG_E_UNAVAILABLE when the token table cannot be read. */
enum wg_status wg_auth_lookup(struct wg_auth *a, const char *token, enum wg_role *role, char *name, size_t name_len);
/* How many times the token table was read, for /metrics (wg_token_reloads_total). */
long long wg_auth_reloads(struct wg_auth *a);

#endif
