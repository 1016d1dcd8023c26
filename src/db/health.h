/* Readiness: can the database answer a query? */
#ifndef WG_DB_HEALTH_H
#define WG_DB_HEALTH_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_health[];
enum wg_status wg_db_ping(struct wg_dbconn *c);

#endif
