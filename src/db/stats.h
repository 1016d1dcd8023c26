/* Throughput and latency of the pipeline over a window, for `wgctl stats`. */
#ifndef WG_DB_STATS_H
#define WG_DB_STATS_H

#include <jansson.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_stats[];

/* Work finished in the last since_seconds (all of it when since_seconds < 0), as JSON:
 * {"since_seconds", "batches": {"proven", "mean_seconds", "p95_seconds"},
 *  "rounds": [{"aggregation_round", "witness_jobs": {...}, "prover_jobs": {...}}]}, where each
 * job object is {"successful", "failed", "mean_seconds", "p95_seconds"} (times of the successful
 * jobs; null when there were none). */
enum wg_status wg_stats(struct wg_dbconn *c, double since_seconds, json_t **out);

/* Adds to each batch of list (wg_batches_list's array, numbers first..last) its prover job
 * progress {"prover_jobs": {"successful", "total"}} (archived jobs included) and
 * "elapsed_seconds": upload to scheduler proof, or to now while unproven. */
enum wg_status wg_stats_batch_progress(struct wg_dbconn *c, json_t *list);

#endif
