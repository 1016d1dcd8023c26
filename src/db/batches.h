/* Read-only views of batches for operators: status, per-round counts and job lists. */
#ifndef WG_DB_BATCHES_H
#define WG_DB_BATCHES_H

#include <jansson.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_batches[];

/* At most limit batches that come after the number after in the chosen order: numbers above it
 * in ascending order, or below it, newest first, when desc. A JSON array of
 * {"l1_batch_number", "protocol_version", "status", "created_at", "priority"}. */
enum wg_status wg_batches_list(struct wg_dbconn *c, int64_t after, bool desc, int64_t limit, json_t **out);
/* One batch with its rounds (docs/api.md); WG_E_NOT_FOUND when unknown. With max_in_flight > 0
 * (--max-circuits-in-flight), a batch whose basic job waits for the circuits in flight to drop
 * says so: "held": "max_circuits_in_flight". */
enum wg_status wg_batch_get(struct wg_dbconn *c, int64_t batch, long max_in_flight, json_t **out);
/* The jobs of a batch; round < 0 and status NULL mean any; limit < 0 means all. */
enum wg_status wg_batch_jobs(struct wg_dbconn *c, int64_t batch, int round, const char *status, int64_t after_id,
                             int64_t limit, json_t **out);
/* The status of one batch ("queued", "in_progress", "proven", "failed"); WG_E_NOT_FOUND. */
enum wg_status wg_batch_status(struct wg_dbconn *c, int64_t batch, char status[16]);

#endif
