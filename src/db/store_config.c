/* The store_config table (see store_config.h). */
#include "config.h"
#include "db/store_config.h"

#include <stdio.h>
#include <string.h>

const struct wg_stmt wg_sql_store_config[] = {
  /* The previous url comes from a snapshot taken before the upsert (a CTE sees the table as it was). */
  {"store_config_set",
   "WITH old AS (SELECT url FROM store_config WHERE id = 1)"
   " INSERT INTO store_config (id, url, recorded_by, updated_at) VALUES (1, $1, $2, now())"
   " ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, recorded_by = EXCLUDED.recorded_by, updated_at = now()"
   " RETURNING coalesce((SELECT url FROM old), '')"},
  {"store_config_get",
   "SELECT url, recorded_by, " WG_SQL_UTC("updated_at") " FROM store_config WHERE id = 1"},
  {NULL, NULL},
};

enum wg_status wg_store_config_set(struct wg_dbconn *c, const char *url, const char *instance, char *previous,
                                   size_t previous_len)
{
  struct wg_params p = {0};
  wg_p_text(&p, url);
  wg_p_text(&p, instance);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "store_config_set", &p, false, &r);
  if (s != WG_OK)
    return s;
  const char *old = PQgetvalue(r, 0, 0);
  snprintf(previous, previous_len, "%s", strcmp(old, url) == 0 ? "" : old);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_store_config_get(struct wg_dbconn *c, char *url, size_t url_len, char *by, size_t by_len,
                                   char *at, size_t at_len)
{
  struct wg_params p = {0};
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "store_config_get", &p, false, &r);
  if (s != WG_OK)
    return s;
  snprintf(url, url_len, "%s", PQgetvalue(r, 0, 0));
  snprintf(by, by_len, "%s", PQgetvalue(r, 0, 1));
  snprintf(at, at_len, "%s", PQgetvalue(r, 0, 2));
  PQclear(r);
  return WG_OK;
}
