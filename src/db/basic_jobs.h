/* Registering an uploaded batch: the basic witness job. */
#ifndef WG_DB_BASIC_JOBS_H
#define WG_DB_BASIC_JOBS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_basic_jobs[];

/* An input's identity is the SHA-256 of its canonical form (input/input.h), so that the same input
 * serialised otherwise is the same; rows recorded before that hold the SHA-256 of the body as it
 * was sent, so a batch's input is the same when its recorded hash is either sha256 (canonical) or
 * raw_sha256 (of the body received). */

/* Inside the caller's transaction: inserts the queued basic job of a batch, recording sha256, and
 * wakes the basic round. When the batch exists already: WG_OK with *existed set and *same telling
 * whether its input is the same. */
enum wg_status wg_basic_job_create(struct wg_dbconn *c, int64_t batch, int protocol_version,
                                   const uint8_t sha256[32], const uint8_t raw_sha256[32], const char *input_key,
                                   size_t input_bytes, bool *existed, bool *same);
/* Whether a batch exists and, if so, whether its input is the same. */
enum wg_status wg_basic_job_lookup(struct wg_dbconn *c, int64_t batch, const uint8_t sha256[32],
                                   const uint8_t raw_sha256[32], bool *exists, bool *same);

#endif
