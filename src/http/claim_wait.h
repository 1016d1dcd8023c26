/* Claims that wait for work ("wait_ms", docs/api.md): a claim that finds nothing is parked, holding no
 * HTTP thread and no database connection, until a matching job may have been queued. Parked
 * claims are tried again together, through the claimer (one statement per filter for all of
 * them), when a notification says prover jobs were queued (a round committed a layer, on any
 * daemon) and at least once a second (backoffs running out, requeues, resumed pauses). A claim
 * whose wait runs out answers 204; one whose client left is dropped without claiming. */
#ifndef WG_HTTP_CLAIM_WAIT_H
#define WG_HTTP_CLAIM_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/claimer.h"

struct wg_app;
struct wg_request;
struct wg_claim_waiters;

struct wg_prover_job;
/* The reply of a claim once it has its jobs (or none), the handler's own (jobs_claim_post.c); it
 * takes the jobs. */
typedef int (*wg_claim_reply_fn)(struct wg_request *rq, enum wg_status s, struct wg_prover_job *jobs, size_t n,
                                  bool as_list);

/* What a parked claim carries; the waiters own it from wg_claim_waiters_park on. The claim's
 * strings point into this struct's copies. */
struct wg_parked_claim {
  struct wg_claim claim;
  struct wg_claim_filter filter;
  char *prover_id, *rounds, *circuit_ids;
  bool as_list;        /* the claim had "limit": the reply is {"jobs":[…]} */
  int64_t deadline_ms; /* monotonic */
  struct wg_request *rq;
  struct wg_claim_waiters *owner; /* set by wg_claim_waiters_park */
  unsigned long tried_at_wake;    /* the waiters' wake-ups counted when it was last tried */
  wg_claim_reply_fn reply;
  /* Gives back jobs claimed for a request that ended before its reply was made. */
  void (*give_back)(struct wg_request *rq, struct wg_prover_job *jobs, size_t n);
  struct wg_parked_claim *next;
};

struct wg_claim_waiters *wg_claim_waiters_start(struct wg_claimer *claimer, int recheck_ms);
/* Answers every parked claim with 204 (none left for this daemon) and stops; claims parked after
 * it are refused (wg_claim_waiters_park returns false). Once is enough; again does nothing. */
void wg_claim_waiters_stop(struct wg_claim_waiters *w);
/* Frees stopped waiters, once no handler can reach them (the server has stopped). */
void wg_claim_waiters_free(struct wg_claim_waiters *w);
/* Parks p's request (from its handler, which then returns without replying); p->reply makes its
 * reply when it is woken, on an HTTP thread. Until then the request's on_end is p's: a request
 * that ends unanswered frees p, giving back any jobs it holds. False when the waiters are
 * stopping or full: the caller answers 204 itself and keeps p. */
bool wg_claim_waiters_park(struct wg_claim_waiters *w, struct wg_parked_claim *p);
/* Prover jobs may have been queued: parked claims try again now. */
void wg_claim_waiters_wake(struct wg_claim_waiters *w);
/* Claims parked now. */
int64_t wg_claim_waiters_count(struct wg_claim_waiters *w);
void wg_parked_claim_free(struct wg_parked_claim *p);

#endif
