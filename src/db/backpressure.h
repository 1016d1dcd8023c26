/* Backpressure on circuits in flight (docs/state-machine.md, backpressure): with
 * --max-circuits-in-flight N, a basic witness job is not started while N or more prover jobs are
 * queued or in progress.
 *
 * The count reads the two partial indexes of those rows (prover_jobs_queued, prover_jobs_leased),
 * each walked for at most N entries, so it costs O(N) index entries whatever the size of the
 * queue; queued rows in backoff count too, since they are still to be proved. It is a check, not
 * a reservation: daemons that claim basic jobs at the same moment all see the count below N, so
 * the prover jobs queued or in progress can exceed N by the circuits of at most one basic job per
 * basic round worker of every daemon (--workers, per daemon) started while the count was below. */
#ifndef WG_DB_BACKPRESSURE_H
#define WG_DB_BACKPRESSURE_H

#include "db/db.h"

/* SQL: true while N (a statement parameter, > 0) or more prover jobs are queued or in progress. */
#define WG_SQL_CIRCUITS_IN_FLIGHT_REACHED(N)                                                                   \
  "((SELECT count(*) FROM (SELECT 1 FROM prover_jobs WHERE status = 'queued' LIMIT " N ") q)"              \
  " + (SELECT count(*) FROM (SELECT 1 FROM prover_jobs WHERE status = 'in_progress' LIMIT " N ") p) >= " N ")"

extern const struct wg_stmt wg_sql_backpressure[];

/* Whether basic jobs are held now: max_in_flight > 0 and that many prover jobs are queued or in
 * progress. */
enum wg_status wg_backpressure_held(struct wg_dbconn *c, long max_in_flight, bool *held);

#endif
