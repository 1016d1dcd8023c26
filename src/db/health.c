/* The readiness probe's query. */
#include "config.h"
#include "db/health.h"

const struct wg_stmt wg_sql_health[] = {
  {"health_ping", "SELECT 1"},
  {NULL, NULL},
};

enum wg_status wg_db_ping(struct wg_dbconn *c) { return wg_db_exec(c, "health_ping", NULL, false, NULL); }
