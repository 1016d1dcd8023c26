/* Registering an uploaded batch: the basic witness job. */
#ifndef WG_DB_BASIC_JOBS_H
#define WG_DB_BASIC_JOBS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_basic_jobs[];

/* Inside the caller's transaction: inserts the queued basic job of a batch and wakes the basic round.
 * When the batch exists already: WG_OK with *existed set and *same telling whether its input has
 * the same SHA-256. */
enum wg_status wg_basic_job_create(struct wg_dbconn *c, int64_t batch, int protocol_version,
                                   const uint8_t sha256[32], const char *input_key, size_t input_bytes,
                                   bool *existed, bool *same);
/* Whether a batch exists and, if so, whether its input hash equals sha256. */
enum wg_status wg_basic_job_lookup(struct wg_dbconn *c, int64_t batch, const uint8_t sha256[32], bool *exists,
                                   bool *same);

#endif
