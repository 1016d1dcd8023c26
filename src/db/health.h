/* Readiness: does the database answer a query? A thread of its own asks it every second on its
 * own connection, so that /readyz answers from what the thread last saw, at once, whatever the
 * database does: a silent one would hold a query (or a connection from the pool) for seconds. */
#ifndef WG_DB_HEALTH_H
#define WG_DB_HEALTH_H

#include <stdbool.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_health[];
enum wg_status wg_db_ping(struct wg_dbconn *c);

struct wg_health;
/* Pings once before it returns (so a daemon that just migrated is ready at once), then every
 * second. NULL only when out of memory or threads. */
struct wg_health *wg_health_start(const char *conninfo);
void wg_health_stop(struct wg_health *h);
/* True when the database answered a ping in the last few seconds and none failed since. */
bool wg_health_db_ready(struct wg_health *h);

#endif
