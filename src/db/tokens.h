/* The tokens table. */
#ifndef WG_DB_TOKENS_H
#define WG_DB_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "db/db.h"

struct wg_token_entry {
  uint8_t sha256[32];
  enum wg_role role;
  char name[WG_TOKEN_NAME_MAX + 1];
};

extern const struct wg_stmt wg_sql_tokens[];

/* The channel on which adding or revoking a token notifies (payload "changed"). */
#define WG_TOKENS_CHANNEL "wg_tokens"


/* WG_E_CONFLICT when the name is taken. */
enum wg_status wg_tokens_add(struct wg_dbconn *c, const char *name, enum wg_role role, const uint8_t sha256[32]);
/* WG_E_NOT_FOUND when no active token has that name. */
enum wg_status wg_tokens_revoke(struct wg_dbconn *c, const char *name);
/* Every token that is not revoked, in a malloc'd array. */
enum wg_status wg_tokens_active(struct wg_dbconn *c, struct wg_token_entry **entries, size_t *n);
/* LISTENs on WG_TOKENS_CHANNEL for the rest of the connection's life. */
enum wg_status wg_tokens_listen(struct wg_dbconn *c);
/* name, role, created_at, revoked_at of every token. The caller clears *res. */
enum wg_status wg_tokens_list(struct wg_dbconn *c, PGresult **res);

#endif
