/* Operator views of single jobs. Witness job ids are per table, so a witness job is named by its
 * round and id; a prover job by its id alone. */
#ifndef WG_DB_JOB_VIEWS_H
#define WG_DB_JOB_VIEWS_H

#include <jansson.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_job_views[];

/* The witness job `id` of `round` (0 basic .. 3 scheduler) as JSON, with its kind, round and
 * error. WG_E_NOT_FOUND when that table has no such id. */
enum wg_status wg_witness_job_view(struct wg_dbconn *c, int round, int64_t id, json_t **out);
/* The error recorded on prover job `id`, live or archived (JSON string or null). WG_E_NOT_FOUND
 * when unknown. */
enum wg_status wg_prover_job_error(struct wg_dbconn *c, int64_t id, json_t **error);
/* The attempt records of prover job `id`, live or archived, as {"attempts":[...]}, oldest first.
 * WG_E_NOT_FOUND when unknown. */
enum wg_status wg_prover_job_attempts(struct wg_dbconn *c, int64_t id, json_t **out);

#endif
