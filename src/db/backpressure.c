/* The count behind --max-circuits-in-flight (see backpressure.h). The basic round's claim
 * (db/witness_jobs.c) applies the same condition inside its own statement. */
#include "config.h"
#include "db/backpressure.h"

#include <string.h>

const struct wg_stmt wg_sql_backpressure[] = {
  {"circuits_in_flight_reached", "SELECT " WG_SQL_CIRCUITS_IN_FLIGHT_REACHED("$1::bigint")},
  {NULL, NULL},
};

enum wg_status wg_backpressure_held(struct wg_dbconn *c, long max_in_flight, bool *held)
{
  *held = false;
  if (max_in_flight <= 0)
    return WG_OK;
  struct wg_params p = {0};
  wg_p_int(&p, max_in_flight);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "circuits_in_flight_reached", &p, false, &r);
  if (s != WG_OK)
    return s;
  *held = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  return WG_OK;
}
