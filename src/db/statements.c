/* Every statement of the project, gathered so that each connection prepares them all once. */
#include "config.h"
#include "db/db.h"
#include "db/tokens.h"
#include "db/health.h"

const struct wg_stmt *const wg_all_statements[] = {
  wg_sql_health,
  wg_sql_tokens,
  NULL,
};
