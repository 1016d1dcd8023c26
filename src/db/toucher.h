/* Group commit of witness downloads. A prover's first download of a claimed job's witness turns
 * the claim's grace into the full lease (db/prover_jobs.h, wg_prover_job_touch): an update and a
 * commit per download, one per proof like the claim and the completion, which are combined. The
 * toucher combines the downloads that arrive while one group's statement runs into the next one
 * (db/combiner.h): one statement and one flush for all of them. */
#ifndef WG_DB_TOUCHER_H
#define WG_DB_TOUCHER_H

#include "db/prover_jobs.h"

struct wg_toucher;

/* Starts the thread with its own connection to conninfo (made lazily, and again after a
 * failure). A touched job is held for lease_seconds from the touch. NULL when out of resources. */
struct wg_toucher *wg_toucher_start(const char *conninfo, int lease_seconds);
/* Answers every download still waiting with WG_E_UNAVAILABLE and joins the thread. */
void wg_toucher_stop(struct wg_toucher *k);
/* Fences x in the next group and waits for it; x->status (and x->job when WG_OK) tell the
 * outcome. */
void wg_toucher_submit(struct wg_toucher *k, struct wg_touch *x);
/* Statements run and downloads served by them since start, for metrics. */
void wg_toucher_counts(struct wg_toucher *k, int64_t *groups, int64_t *touches);

#endif
