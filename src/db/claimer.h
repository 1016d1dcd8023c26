/* Claims of prover jobs, combined: the claims that arrive while one claim statement runs are
 * served together by the next, one statement (one commit) for all of them, as completions are
 * (db/completer.h). Claims with the same filter share a statement; each prover gets its own
 * jobs, in claim order, recorded as picked by it. A lone claim runs at once. */
#ifndef WG_DB_CLAIMER_H
#define WG_DB_CLAIMER_H

#include "db/prover_jobs.h"

struct wg_claimer;

/* One claim. */
struct wg_claim {
  const char *prover_id;
  const char *token; /* the name of the claiming token: its jobs are bound to it */
  const struct wg_claim_filter *filter;
  int limit; /* jobs wanted, at least 1 */
  /* out */
  enum wg_status status;
  struct wg_prover_job *jobs; /* malloc'd, the caller frees it; n may be 0 (none queued) */
  size_t n;
};

/* Starts the claiming thread with its own connection to conninfo. A job claimed is held for
 * grace_seconds until its prover downloads its witness or heartbeats it. */
struct wg_claimer *wg_claimer_start(const char *conninfo, int grace_seconds);
void wg_claimer_stop(struct wg_claimer *k);
/* Claims in the next group and waits for it. */
void wg_claimer_submit(struct wg_claimer *k, struct wg_claim *x);
/* Queues a claim for the next group without waiting: done(x, arg) is called on the claiming
 * thread when x has its answer. False when the claimer is stopping (nothing queued). */
bool wg_claimer_post(struct wg_claimer *k, struct wg_claim *x, void (*done)(void *claim, void *arg), void *arg);
/* Queues n claims at once (xs[i] with args[i]) so that they share statements: a fleet's claims
 * parked for work, woken together, are claimed together. False, with none queued, as above. */
bool wg_claimer_post_many(struct wg_claimer *k, struct wg_claim **xs, void **args, size_t n,
                          void (*done)(void *claim, void *arg));
/* Claim statements run and claims served by them since start, for metrics. */
void wg_claimer_counts(struct wg_claimer *k, int64_t *groups, int64_t *claims);

#endif
