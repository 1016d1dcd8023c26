/* Where recently claimed prover jobs' witnesses lie. A job's witness location (its layer's pack,
 * offset and length) never changes once the job exists, so the daemon keeps it from the claim,
 * and a witness download or a completion that follows need not read the job's row first. Only
 * locations are taken from here: status and lease always come from the database. A job deleted
 * since shows as a witness missing from the store, and the caller then asks the database. */
#ifndef WG_DB_JOB_CACHE_H
#define WG_DB_JOB_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/prover_jobs.h"

struct wg_job_cache;

/* A direct-mapped table of `slots` entries (a new job takes the slot of an older one). */
struct wg_job_cache *wg_job_cache_new(size_t slots);
void wg_job_cache_free(struct wg_job_cache *c);
void wg_job_cache_put(struct wg_job_cache *c, const struct wg_prover_job *job);
/* Fills *job (its location fields and identity; not its status) when id is cached. */
bool wg_job_cache_get(struct wg_job_cache *c, int64_t id, struct wg_prover_job *job);
void wg_job_cache_forget(struct wg_job_cache *c, int64_t id);

#endif
