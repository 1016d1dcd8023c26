/* Lease expiry and restart recovery across every job table. */
#ifndef WG_DB_HOUSEKEEPING_H
#define WG_DB_HOUSEKEEPING_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_housekeeping[];

/* Puts jobs whose lease expired back to queued, or to failed once they used max_attempts
 * claims, recording why. Safe to run from many daemons at once. *requeued counts them.
 * Prover jobs sent back to queued wait a backoff of retry_base seconds doubled per attempt (at
 * most retry_max) before they can be claimed again.
 * Each table is swept by its own statement, and a sweep that fails (logged) does not keep the
 * others from running. Returns the number of sweeps that failed. */
int wg_housekeeping_expire(struct wg_dbconn *c, int max_attempts, double retry_base, double retry_max,
                                      int *requeued);
/* At start: witness jobs still held under this instance id were held by a previous run of this
 * daemon that died; they go back to queued at once, or to failed once they used max_attempts
 * claims (a job that kills the daemon every time must not crash-loop it for ever). Like expiry,
 * each table on its own; returns the number of tables whose recovery failed. */
int wg_housekeeping_recover(struct wg_dbconn *c, const char *instance_id, int max_attempts, int *requeued);

/* Vacuums prover_jobs when PostgreSQL's counters show at least WG_VACUUM_MIN_DEAD dead row
 * versions and 10% of its rows (at most once per WG_VACUUM_MIN_INTERVAL_MS), and analyzes it when
 * as many rows changed since its last analysis. Every claim leaves an entry of the claim index
 * pointing at a dead row, which claims walk past until a vacuum removes it; and a claim planned on
 * statistics from before a layer of thousands of jobs was queued sorts every queued job instead
 * of reading the claim index (50 ms instead of 4 for 90 jobs out of 17,000). Autovacuum looks only
 * once a minute with stock settings (autovacuum_naptime); housekeeping looks every
 * --housekeeping-ms. Returns 1 when a step failed (logged), else 0; *vacuumed tells whether it
 * vacuumed. */
#define WG_VACUUM_MIN_DEAD 1000
#define WG_VACUUM_MIN_INTERVAL_MS 5000
int wg_housekeeping_vacuum(struct wg_dbconn *c, bool *vacuumed);
/* Analyzes prover_jobs, waiting for a vacuum or analysis of it that runs: the basic round runs it
 * right after committing a layer of WG_VACUUM_MIN_DEAD jobs or more, so that claims are planned on
 * statistics that count them from the start. */
enum wg_status wg_housekeeping_analyze(struct wg_dbconn *c);

#endif
