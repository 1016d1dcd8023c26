/* Operations on the tokens table. */
#include "config.h"
#include "db/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct wg_stmt wg_sql_tokens[] = {
  /* A change notifies the daemons' token caches, which reload at once rather than within their
   * second (auth/cache.c); the notification goes out with the commit. */
  {"tokens_add",
   "WITH added AS (INSERT INTO tokens (name, role, token_sha256) VALUES ($1, $2, $3) RETURNING id)"
   " SELECT pg_notify('" WG_TOKENS_CHANNEL "', 'changed') FROM added"},
  {"tokens_revoke",
   "WITH revoked AS (UPDATE tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id)"
   " SELECT pg_notify('" WG_TOKENS_CHANNEL "', 'changed') FROM revoked"},
  {"tokens_listen", "LISTEN " WG_TOKENS_CHANNEL},
  {"tokens_active", "SELECT token_sha256, role, name FROM tokens WHERE revoked_at IS NULL"},
  {"tokens_list",
   "SELECT name, role, " WG_SQL_UTC("created_at") ", " WG_SQL_UTC("revoked_at") " FROM tokens ORDER BY id"},
  {NULL, NULL},
};

enum wg_status wg_tokens_add(struct wg_dbconn *c, const char *name, enum wg_role role, const uint8_t sha256[32])
{
  struct wg_params p = {0};
  wg_p_text(&p, name);
  wg_p_text(&p, wg_role_name(role));
  wg_p_bytes(&p, sha256, 32);
  return wg_db_exec(c, "tokens_add", &p, false, NULL);
}

enum wg_status wg_tokens_revoke(struct wg_dbconn *c, const char *name)
{
  struct wg_params p = {0};
  wg_p_text(&p, name);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "tokens_revoke", &p, false, &r);
  if (s != WG_OK)
    return s;
  bool found = PQntuples(r) > 0;
  PQclear(r);
  return found ? WG_OK : WG_E_NOT_FOUND;
}

enum wg_status wg_tokens_active(struct wg_dbconn *c, struct wg_token_entry **entries, size_t *n)
{
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "tokens_active", NULL, true, &r);
  if (s != WG_OK)
    return s;
  int rows = PQntuples(r);
  *entries = calloc((size_t)rows + 1, sizeof **entries);
  *n = 0;
  for (int i = 0; i < rows; i++) {
    if (PQgetlength(r, i, 0) != 32)
      continue;
    memcpy((*entries)[*n].sha256, PQgetvalue(r, i, 0), 32);
    (*entries)[*n].role = wg_role_parse(PQgetvalue(r, i, 1));
    snprintf((*entries)[*n].name, sizeof (*entries)[*n].name, "%s", PQgetvalue(r, i, 2));
    (*n)++;
  }
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_tokens_listen(struct wg_dbconn *c) { return wg_db_exec(c, "tokens_listen", NULL, false, NULL); }

enum wg_status wg_tokens_list(struct wg_dbconn *c, PGresult **res)
{
  return wg_db_exec(c, "tokens_list", NULL, false, res);
}
