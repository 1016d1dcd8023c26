/* Where recently claimed prover jobs' witnesses lie. A job's witness location (its layer's pack,
 * offset and length) never changes once the job exists, so the daemon keeps it from the claim,
 * and a completion that follows need not read the job's row before it checks the proof. An entry
 * is keyed by the job id and the claim's lease, which is random and new at every claim: it can
 * never answer for another claim, nor for another incarnation of the id (a batch deleted and
 * uploaded again, a failover that lost commits), whose packs carry keys of their own. Only
 * locations are taken from here: status and holder always come from the database. */
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
/* Fills *job (its location fields and identity; not its status) when id is cached under the
 * claim whose lease hashes to lease_hash. */
bool wg_job_cache_get(struct wg_job_cache *c, int64_t id, const uint8_t lease_hash[32], struct wg_prover_job *job);
void wg_job_cache_forget(struct wg_job_cache *c, int64_t id);
/* Forgets everything (after a failover, say). */
void wg_job_cache_clear(struct wg_job_cache *c);

#endif
