/* Combined claims (see claimer.h), on the combiner (db/combiner.h). */
#include "config.h"
#include "db/claimer.h"

#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
#include "db/combiner.h"

/* At most this many jobs are claimed by one statement (256 claims of one job, or fewer of more):
 * sixteen claims of the largest limit, so that the claims of a fleet of a few thousand provers,
 * parked for work and woken together by a batch's jobs, are served by one statement. */
#define GROUP_MAX_SLOTS 4096
#define GROUP_MAX 256

struct wg_claimer {
  struct wg_combiner *combiner;
  int grace_seconds;
};

static bool same_text(const char *a, const char *b) { return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0); }

static bool same_filter(const struct wg_claim_filter *a, const struct wg_claim_filter *b)
{
  return a->protocol_version == b->protocol_version && same_text(a->rounds, b->rounds) &&
         same_text(a->circuit_ids, b->circuit_ids);
}

/* A group shares one filter (the first claim's) and a bound on the jobs it claims. */
static bool fits(void *const *group, size_t n, const void *item, void *arg)
{
  (void)arg;
  const struct wg_claim *x = item, *first = group[0];
  size_t slots = (size_t)x->limit;
  for (size_t i = 0; i < n; i++)
    slots += (size_t)((const struct wg_claim *)group[i])->limit;
  return same_filter(x->filter, first->filter) && slots <= GROUP_MAX_SLOTS;
}

/* Claims are not run again after a broken connection: a claim whose outcome is unknown may have
 * claimed jobs, which then come back when their claim grace runs out; the provers are told 503.
 * Every slot gets a fresh random lease; a job takes the lease of the slot that claimed it. */
static bool run(struct wg_dbconn *c, void **group, size_t n, void *arg)
{
  struct wg_claimer *k = arg;
  size_t slots = 0;
  for (size_t i = 0; i < n; i++)
    slots += (size_t)((struct wg_claim *)group[i])->limit;
  struct wg_claim_slot *ids = calloc(slots, sizeof *ids);
  struct wg_prover_job *jobs = NULL;
  size_t got = 0;
  enum wg_status s = WG_E_INTERNAL;
  WG_FAULT("claim_group"); /* tests stall a group here so that the next one gathers claims */
  if (ids != NULL) {
    size_t slot = 0;
    s = WG_OK;
    for (size_t i = 0; i < n; i++) {
      struct wg_claim *x = group[i];
      for (int j = 0; j < x->limit; j++, slot++) {
        ids[slot].prover_id = x->prover_id;
        ids[slot].token = x->token != NULL ? x->token : "";
        if (!wg_lease_new(ids[slot].lease, ids[slot].lease_hash))
          s = WG_E_INTERNAL;
      }
    }
    if (s == WG_OK)
      s = c == NULL ? WG_E_UNAVAILABLE
                    : wg_prover_jobs_claim(c, ids, slots, k->grace_seconds, ((struct wg_claim *)group[0])->filter,
                                           &jobs, &got);
  }
  /* The jobs come back in claim order, slot k claimed for ids[k]: each claim takes its share in
   * turn, and the ones after the last job get none. */
  size_t next = 0;
  for (size_t i = 0; i < n; i++) {
    struct wg_claim *x = group[i];
    x->status = s;
    x->jobs = NULL;
    x->n = 0;
    if (s != WG_OK)
      continue;
    size_t take = got - next < (size_t)x->limit ? got - next : (size_t)x->limit;
    if (take == 0)
      continue;
    x->jobs = malloc(take * sizeof *x->jobs);
    if (x->jobs == NULL) {
      x->status = WG_E_INTERNAL; /* its jobs come back when their claim grace runs out */
      next += take;
      continue;
    }
    memcpy(x->jobs, jobs + next, take * sizeof *x->jobs);
    x->n = take;
    next += take;
  }
  free(jobs);
  free(ids);
  return false;
}

static void refuse(void *item, void *arg)
{
  (void)arg;
  struct wg_claim *x = item;
  x->status = WG_E_UNAVAILABLE;
  x->jobs = NULL;
  x->n = 0;
}

static const struct wg_combiner_ops ops = {fits, run, refuse};

struct wg_claimer *wg_claimer_start(const char *conninfo, int grace_seconds)
{
  struct wg_claimer *k = calloc(1, sizeof *k);
  if (k == NULL)
    return NULL;
  k->grace_seconds = grace_seconds;
  k->combiner = wg_combiner_start(conninfo, &ops, k, GROUP_MAX);
  if (k->combiner == NULL) {
    free(k);
    return NULL;
  }
  return k;
}

void wg_claimer_stop(struct wg_claimer *k)
{
  if (k == NULL)
    return;
  wg_combiner_stop(k->combiner);
  free(k);
}

void wg_claimer_submit(struct wg_claimer *k, struct wg_claim *x) { wg_combiner_submit(k->combiner, x); }

bool wg_claimer_post(struct wg_claimer *k, struct wg_claim *x, void (*done)(void *claim, void *arg), void *arg)
{
  return wg_combiner_post(k->combiner, x, done, arg);
}

bool wg_claimer_post_many(struct wg_claimer *k, struct wg_claim **xs, void **args, size_t n,
                          void (*done)(void *claim, void *arg))
{
  return wg_combiner_post_many(k->combiner, (void **)xs, args, n, done);
}

void wg_claimer_counts(struct wg_claimer *k, int64_t *groups, int64_t *claims)
{
  wg_combiner_counts(k->combiner, groups, claims);
}
