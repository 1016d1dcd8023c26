/* Claims that wait for work (see claim_wait.h). One thread keeps the parked claims in arrival
 * order; it answers those whose wait ran out or whose client left, and posts the others to the
 * claimer when woken or once every recheck interval. The claimer answers each on its own thread
 * (on_tried): a claim that got jobs, or an error, is woken with its answer; one that got none is
 * parked again. */
#include "config.h"
#include "http/claim_wait.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "http/server.h"

/* Parked claims at once; past this a claim that finds nothing answers 204 at once. The daemon
 * accepts 4,096 connections in all. */
#define PARKED_MAX 4096

struct wg_claim_waiters {
  struct wg_claimer *claimer;
  int recheck_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;              /* a claim parked or came back, a wake-up, or stop */
  struct wg_parked_claim *head, *tail; /* parked, not being tried */
  size_t parked;                    /* parked in all, including those the claimer is trying */
  size_t trying;                    /* posted to the claimer and not yet back */
  bool woken, stopping;
  unsigned long wakes; /* wake-ups so far: a claim tried before the last one is tried again */
};

void wg_parked_claim_free(struct wg_parked_claim *p)
{
  if (p == NULL)
    return;
  free(p->claim.jobs);
  free(p->prover_id);
  free(p->rounds);
  free(p->circuit_ids);
  free(p);
}

/* The request ended before its reply was made (its connection closed): any jobs claimed for it
 * go back. */
static void parked_ended(struct wg_request *rq, bool delivered)
{
  (void)delivered;
  struct wg_parked_claim *p = rq->on_end_arg;
  rq->on_end = NULL;
  rq->on_end_arg = NULL;
  if (p->claim.n > 0)
    p->give_back(rq, p->claim.jobs, p->claim.n);
  wg_parked_claim_free(p);
}

/* On an HTTP thread: the woken request makes its reply, which takes the jobs. */
static int resumed(struct wg_request *rq)
{
  struct wg_parked_claim *p = rq->on_end_arg;
  rq->on_end = NULL;
  rq->on_end_arg = NULL;
  struct wg_prover_job *jobs = p->claim.jobs;
  p->claim.jobs = NULL;
  int r = p->reply(rq, p->claim.status, jobs, p->claim.n, p->as_list);
  wg_parked_claim_free(p);
  return r;
}

/* Wakes p's request with the answer p holds. Called without the lock, once p has left the
 * waiters for good. */
static void wake_request(struct wg_parked_claim *p) { wg_request_resume(p->rq, resumed); }

static void answer_none(struct wg_parked_claim *p)
{
  p->claim.status = WG_OK;
  p->claim.jobs = NULL;
  p->claim.n = 0;
  wake_request(p);
}

static void append(struct wg_claim_waiters *w, struct wg_parked_claim *p)
{
  p->next = NULL;
  if (w->tail != NULL)
    w->tail->next = p;
  else
    w->head = p;
  w->tail = p;
}

/* The claimer's answer to a parked claim, on the claimer's thread. */
static void on_tried(void *claim, void *arg)
{
  (void)claim;
  struct wg_parked_claim *p = arg;
  struct wg_claim_waiters *w = p->owner;
  bool done = p->claim.status != WG_OK || p->claim.n > 0;
  pthread_mutex_lock(&w->lock);
  w->trying--;
  if (!done && !w->stopping && wg_monotonic_ms() < p->deadline_ms) {
    /* Its statement may have run before the jobs that woke us were committed. */
    if (p->tried_at_wake != w->wakes)
      w->woken = true;
    append(w, p);
    p = NULL;
  } else {
    w->parked--;
  }
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
  if (p != NULL)
    wake_request(p);
}

/* Posts every claim in the list to the claimer, all at once so that they share its statements.
 * Called without the lock; the claims are counted in trying. */
static void post_all(struct wg_claim_waiters *w, struct wg_parked_claim *list)
{
  size_t n = 0;
  for (struct wg_parked_claim *p = list; p != NULL; p = p->next)
    n++;
  struct wg_claim **claims = malloc(n * sizeof *claims);
  void **args = malloc(n * sizeof *args);
  size_t i = 0;
  for (struct wg_parked_claim *p = list; p != NULL && claims != NULL && args != NULL; p = p->next, i++) {
    claims[i] = &p->claim;
    args[i] = p;
  }
  /* On its callback a claim may be parked again, which reuses its next link: none is read after
   * the post. */
  if (claims != NULL && args != NULL && wg_claimer_post_many(w->claimer, claims, args, n, on_tried))
    list = NULL;
  free(claims);
  free(args);
  while (list != NULL) { /* not queued: the claimer is stopping, or out of memory */
    struct wg_parked_claim *p = list;
    list = p->next;
    pthread_mutex_lock(&w->lock);
    w->trying--;
    w->parked--;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    answer_none(p);
  }
}

static void *waiters_main(void *arg)
{
  struct wg_claim_waiters *w = arg;
  int64_t next_try = 0, next_gone_check = 0;
  pthread_mutex_lock(&w->lock);
  while (!w->stopping) {
    int64_t now = wg_monotonic_ms(), wake_at = INT64_MAX;
    /* Claims whose wait ran out, or whose client left (looked for before every try, and once per
     * recheck interval), are answered (204) without another try. */
    bool check_gone = now >= next_gone_check || w->woken || now >= next_try;
    if (check_gone)
      next_gone_check = now + w->recheck_ms;
    struct wg_parked_claim *over = NULL, **link = &w->head;
    w->tail = NULL;
    while (*link != NULL) {
      struct wg_parked_claim *p = *link;
      if (now >= p->deadline_ms || (check_gone && wg_request_client_gone(p->rq))) {
        *link = p->next;
        p->next = over;
        over = p;
        w->parked--;
      } else {
        wake_at = p->deadline_ms < wake_at ? p->deadline_ms : wake_at;
        w->tail = p;
        link = &p->next;
      }
    }
    struct wg_parked_claim *tryq = NULL;
    if (w->head != NULL && (w->woken || now >= next_try)) {
      w->woken = false;
      next_try = now + w->recheck_ms;
      tryq = w->head;
      for (struct wg_parked_claim *p = tryq; p != NULL; p = p->next) {
        p->tried_at_wake = w->wakes;
        w->trying++;
      }
      w->head = w->tail = NULL;
    }
    if (over != NULL || tryq != NULL) {
      pthread_mutex_unlock(&w->lock);
      while (over != NULL) {
        struct wg_parked_claim *p = over;
        over = p->next;
        answer_none(p);
      }
      post_all(w, tryq);
      pthread_mutex_lock(&w->lock);
      continue;
    }
    /* Woken while every claim is being tried: they are tried again when they come back. */
    if (w->head != NULL)
      wake_at = next_try < wake_at ? next_try : wake_at;
    if (wake_at == INT64_MAX) {
      pthread_cond_wait(&w->cond, &w->lock);
    } else {
      /* The condition variable runs on CLOCK_MONOTONIC (wg_claim_waiters_start). */
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      int64_t ms = wake_at - now;
      ts.tv_sec += ms / 1000;
      ts.tv_nsec += (ms % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    }
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

struct wg_claim_waiters *wg_claim_waiters_start(struct wg_claimer *claimer, int recheck_ms)
{
  struct wg_claim_waiters *w = calloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->claimer = claimer;
  w->recheck_ms = recheck_ms;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&w->lock, NULL);
  if (pthread_create(&w->thread, NULL, waiters_main, w) != 0) {
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
  }
  return w;
}

void wg_claim_waiters_stop(struct wg_claim_waiters *w)
{
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->lock);
  if (w->stopping) {
    pthread_mutex_unlock(&w->lock);
    return;
  }
  w->stopping = true;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  /* The thread is gone: answer what is parked, and wait for the claims being tried (on_tried
   * answers them, as stopping). */
  pthread_mutex_lock(&w->lock);
  struct wg_parked_claim *list = w->head;
  w->head = w->tail = NULL;
  for (struct wg_parked_claim *p = list; p != NULL; p = p->next)
    w->parked--;
  pthread_mutex_unlock(&w->lock);
  while (list != NULL) {
    struct wg_parked_claim *p = list;
    list = p->next;
    answer_none(p);
  }
  pthread_mutex_lock(&w->lock);
  while (w->trying > 0)
    pthread_cond_wait(&w->cond, &w->lock);
  pthread_mutex_unlock(&w->lock);
}

void wg_claim_waiters_free(struct wg_claim_waiters *w)
{
  if (w == NULL)
    return;
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

bool wg_claim_waiters_park(struct wg_claim_waiters *w, struct wg_parked_claim *p)
{
  pthread_mutex_lock(&w->lock);
  bool ok = !w->stopping && w->parked < PARKED_MAX;
  if (ok) {
    struct wg_request *rq = p->rq;
    rq->on_end = parked_ended;
    rq->on_end_arg = p;
    wg_request_suspend(rq);
    p->owner = w;
    w->parked++;
    append(w, p);
    pthread_cond_broadcast(&w->cond);
  }
  pthread_mutex_unlock(&w->lock);
  return ok;
}

void wg_claim_waiters_wake(struct wg_claim_waiters *w)
{
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->lock);
  w->woken = true;
  w->wakes++;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

int64_t wg_claim_waiters_count(struct wg_claim_waiters *w)
{
  if (w == NULL)
    return 0;
  pthread_mutex_lock(&w->lock);
  int64_t n = (int64_t)w->parked;
  pthread_mutex_unlock(&w->lock);
  return n;
}
