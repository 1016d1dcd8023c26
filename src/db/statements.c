/* Every statement of the project, gathered so that each connection prepares them all once. */
#include "config.h"
#include "db/db.h"
#include "db/tokens.h"
#include "db/health.h"
#include "db/basic_jobs.h"
#include "db/batch_locks.h"
#include "db/backpressure.h"
#include "db/batches.h"
#include "db/blob_sweeps.h"
#include "db/blobs.h"
#include "db/housekeeping.h"
#include "db/repairs.h"
#include "db/stats.h"
#include "db/store_config.h"
#include "db/job_views.h"
#include "db/priorities.h"
#include "db/prover_jobs.h"
#include "db/queue.h"
#include "db/witness_jobs.h"

extern const struct wg_stmt wg_sql_metrics[];

const struct wg_stmt *const wg_all_statements[] = {
  wg_sql_health,
  wg_sql_tokens,
  wg_sql_blobs,
  wg_sql_blob_sweeps,
  wg_sql_store_config,
  wg_sql_basic_jobs,
  wg_sql_batch_locks,
  wg_sql_witness_jobs,
  wg_sql_prover_jobs,
  wg_sql_priorities,
  wg_sql_backpressure,
  wg_sql_batches,
  wg_sql_housekeeping,
  wg_sql_repairs,
  wg_sql_stats,
  wg_sql_job_views,
  wg_sql_queue,
  wg_sql_metrics,
  NULL,
};
