/* Witness downloads fenced in groups and touched later (see toucher.h), on the combiner
 * (db/combiner.h): a download is a member of a group; a flush of the touches gathered is a member
 * too (the flusher's marker), so both use the combiner's one connection in turn. */
#include "config.h"
#include "db/toucher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fault.h"
#include "common/log.h"
#include "db/combiner.h"

#define GROUP_MAX 256

struct pending {
  int64_t *ids;
  uint8_t (*hashes)[32];
  size_t n, cap;
};

struct wg_toucher {
  struct wg_combiner *combiner;
  int lease_seconds;
  pthread_mutex_t lock; /* pending, stopping, the counts */
  pthread_cond_t wake;
  struct pending pending; /* leases to touch: held jobs whose first download has been served */
  bool stopping;
  int64_t groups, fenced, flushes, flushed;
  pthread_t flusher;
  char marker; /* the flusher's member of a group: its address tells it from a download */
};

/* Adds (id, hash) to p; false when out of memory. */
static bool pending_add(struct pending *p, int64_t id, const uint8_t hash[32])
{
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 256;
    int64_t *ids = realloc(p->ids, cap * sizeof *ids);
    if (ids != NULL)
      p->ids = ids;
    uint8_t(*hashes)[32] = ids == NULL ? NULL : realloc(p->hashes, cap * sizeof *hashes);
    if (hashes == NULL)
      return false;
    p->hashes = hashes;
    p->cap = cap;
  }
  p->ids[p->n] = id;
  memcpy(p->hashes[p->n++], hash, 32);
  return true;
}

static void pending_free(struct pending *p)
{
  free(p->ids);
  free(p->hashes);
  *p = (struct pending){0};
}

/* Writes the touches gathered so far. When the database could not be reached they are put back
 * for the next flush (a touch written twice extends the same lease to the same bound, and the
 * statement skips a job no longer held); after any other failure they are dropped, so that one
 * cannot repeat ten times a second: those jobs keep their grace, which heartbeats extend.
 * Returns the statement's status. */
static enum wg_status flush(struct wg_toucher *k, struct wg_dbconn *c)
{
  pthread_mutex_lock(&k->lock);
  struct pending p = k->pending;
  k->pending = (struct pending){0};
  pthread_mutex_unlock(&k->lock);
  if (p.n == 0) {
    pending_free(&p);
    return WG_OK;
  }
  enum wg_status s = c == NULL || wg_fault_fails("touch_leases")
                       ? WG_E_UNAVAILABLE
                       : wg_prover_jobs_touch_leases(c, p.ids, (const uint8_t(*)[32])p.hashes, p.n, k->lease_seconds);
  pthread_mutex_lock(&k->lock);
  if (s == WG_OK) {
    k->flushes++;
    k->flushed += (int64_t)p.n;
  } else if (s != WG_E_UNAVAILABLE) {
    wg_warn("could not write the full leases of %zu witness downloads (%s); they stay on their claim grace",
            p.n, wg_status_name(s));
  } else {
    for (size_t i = 0; i < k->pending.n; i++) /* what came meanwhile joins the ones kept */
      if (!pending_add(&p, k->pending.ids[i], k->pending.hashes[i]))
        break;
    pending_free(&k->pending);
    k->pending = p;
    p = (struct pending){0};
  }
  pthread_mutex_unlock(&k->lock);
  pending_free(&p);
  return s;
}

/* A group lost to a broken connection runs again on a fresh one: the fence is a read, and a touch
 * gathered twice is written twice to the same bound. */
static bool run(struct wg_dbconn *c, void **group, size_t n, void *arg)
{
  struct wg_toucher *k = arg;
  struct wg_touch *xs = malloc(n * sizeof *xs);
  size_t m = 0;
  bool flushing = false;
  for (size_t i = 0; i < n; i++) {
    if (group[i] == &k->marker)
      flushing = true;
    else if (xs != NULL)
      xs[m++] = *(struct wg_touch *)group[i];
  }
  enum wg_status s = xs == NULL ? WG_E_INTERNAL : c == NULL ? WG_E_UNAVAILABLE : WG_OK;
  if (s == WG_OK && m > 0)
    s = wg_prover_jobs_held(c, xs, m);
  if (s == WG_OK) {
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < m; i++)
      if (xs[i].status == WG_OK && !xs[i].touched && !pending_add(&k->pending, xs[i].id, xs[i].holder.lease_hash))
        wg_warn("out of memory: the touch of job %lld waits for the prover's heartbeat", (long long)xs[i].id);
    pthread_mutex_unlock(&k->lock);
  }
  for (size_t i = 0, j = 0; i < n; i++) {
    if (group[i] == &k->marker)
      continue;
    struct wg_touch *x = group[i];
    x->status = s == WG_OK ? xs[j].status : s;
    if (x->status == WG_OK) {
      x->job = xs[j].job;
      x->touched = xs[j].touched;
    }
    j++;
  }
  free(xs);
  if (flushing && s == WG_OK)
    s = flush(k, c);
  bool again = s == WG_E_UNAVAILABLE && c != NULL;
  if (!again && m > 0) { /* counted once, when the group is answered */
    pthread_mutex_lock(&k->lock);
    k->groups++;
    k->fenced += (int64_t)m;
    pthread_mutex_unlock(&k->lock);
  }
  return again;
}

static void refuse(void *item, void *arg)
{
  struct wg_toucher *k = arg;
  if (item != &k->marker)
    ((struct wg_touch *)item)->status = WG_E_UNAVAILABLE;
}

static const struct wg_combiner_ops ops = {NULL, run, refuse};

/* Every WG_TOUCH_FLUSH_MS, has the touches gathered written (a member of the next group), and
 * once more when stopping. */
static void *flusher_main(void *arg)
{
  struct wg_toucher *k = arg;
  pthread_mutex_lock(&k->lock);
  for (;;) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WG_TOUCH_FLUSH_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (!k->stopping && pthread_cond_timedwait(&k->wake, &k->lock, &until) != ETIMEDOUT)
      ;
    bool stopping = k->stopping, work = k->pending.n > 0;
    pthread_mutex_unlock(&k->lock);
    if (work)
      wg_combiner_submit(k->combiner, &k->marker);
    pthread_mutex_lock(&k->lock);
    if (stopping)
      break;
  }
  pthread_mutex_unlock(&k->lock);
  return NULL;
}

struct wg_toucher *wg_toucher_start(const char *conninfo, int lease_seconds)
{
  struct wg_toucher *k = calloc(1, sizeof *k);
  if (k == NULL)
    return NULL;
  k->lease_seconds = lease_seconds;
  pthread_mutex_init(&k->lock, NULL);
  pthread_cond_init(&k->wake, NULL);
  k->combiner = wg_combiner_start(conninfo, &ops, k, GROUP_MAX);
  if (k->combiner == NULL || pthread_create(&k->flusher, NULL, flusher_main, k) != 0) {
    wg_combiner_stop(k->combiner);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
    return NULL;
  }
  return k;
}

void wg_toucher_stop(struct wg_toucher *k)
{
  if (k == NULL)
    return;
  pthread_mutex_lock(&k->lock);
  k->stopping = true;
  pthread_cond_signal(&k->wake);
  pthread_mutex_unlock(&k->lock);
  pthread_join(k->flusher, NULL); /* its last flush writes what was gathered */
  wg_combiner_stop(k->combiner);
  pending_free(&k->pending);
  pthread_mutex_destroy(&k->lock);
  pthread_cond_destroy(&k->wake);
  free(k);
}

void wg_toucher_submit(struct wg_toucher *k, struct wg_touch *x) { wg_combiner_submit(k->combiner, x); }

void wg_toucher_counts(struct wg_toucher *k, int64_t *groups, int64_t *touches, int64_t *flushes, int64_t *flushed)
{
  pthread_mutex_lock(&k->lock);
  *groups = k->groups;
  *touches = k->fenced;
  *flushes = k->flushes;
  *flushed = k->flushed;
  pthread_mutex_unlock(&k->lock);
}
