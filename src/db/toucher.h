/* Witness downloads: fenced in groups, touched later. A prover's first download of a claimed job's
 * witness turns the claim's grace into the full lease (docs/state-machine.md). Done at once, that
 * is an update and a commit per proof; here the downloads that arrive while one group's statement
 * runs are fenced together by one read-only statement (db/combiner.h), and the leases they turn
 * full are written every WG_TOUCH_FLUSH_MS, all in one statement. A job completed before then
 * needs no touch at all (the statement skips rows no longer held). The claim grace is seconds, so
 * a touch written within a tenth of a second is as good as one written at once; a daemon that
 * dies before writing it leaves the job to the prover's heartbeats, which touch it too. */
#ifndef WG_DB_TOUCHER_H
#define WG_DB_TOUCHER_H

#include "db/prover_jobs.h"

/* How long a download's touch may wait to be written with others. */
#define WG_TOUCH_FLUSH_MS 100

struct wg_toucher;

/* Starts the threads with their own connection to conninfo (made lazily, and again after a
 * failure). A touched job is held for lease_seconds from the touch. NULL when out of resources. */
struct wg_toucher *wg_toucher_start(const char *conninfo, int lease_seconds);
/* Writes the touches gathered, answers every download still waiting with WG_E_UNAVAILABLE and
 * joins the threads. */
void wg_toucher_stop(struct wg_toucher *k);
/* Fences x in the next group and waits for it; x->status (and x->job when WG_OK) tell the
 * outcome. A held job's touch is written within WG_TOUCH_FLUSH_MS. */
void wg_toucher_submit(struct wg_toucher *k, struct wg_touch *x);
/* Statements fencing downloads and downloads fenced by them since start; statements writing
 * touches and leases touched by them, for metrics. */
void wg_toucher_counts(struct wg_toucher *k, int64_t *groups, int64_t *touches, int64_t *flushes, int64_t *flushed);

#endif
