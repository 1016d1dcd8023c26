/* Group commit of witness downloads (see toucher.h), on the combiner (db/combiner.h). */
#include "config.h"
#include "db/toucher.h"

#include <stdlib.h>

#include "db/combiner.h"

#define GROUP_MAX 256

struct wg_toucher {
  struct wg_combiner *combiner;
  int lease_seconds;
};

/* A group lost to a broken connection runs again on a fresh one: a touch done twice extends the
 * same lease to the same bound. */
static bool run(struct wg_dbconn *c, void **group, size_t n, void *arg)
{
  struct wg_toucher *k = arg;
  struct wg_touch *xs = malloc(n * sizeof *xs);
  enum wg_status s = xs == NULL ? WG_E_INTERNAL : c == NULL ? WG_E_UNAVAILABLE : WG_OK;
  for (size_t i = 0; i < n && xs != NULL; i++)
    xs[i] = *(struct wg_touch *)group[i];
  if (s == WG_OK)
    s = wg_prover_jobs_touch(c, xs, n, k->lease_seconds);
  for (size_t i = 0; i < n; i++) {
    struct wg_touch *x = group[i];
    x->status = s == WG_OK ? xs[i].status : s;
    if (x->status == WG_OK)
      x->job = xs[i].job;
  }
  free(xs);
  return s == WG_E_UNAVAILABLE && c != NULL;
}

static void refuse(void *item, void *arg)
{
  (void)arg;
  ((struct wg_touch *)item)->status = WG_E_UNAVAILABLE;
}

static const struct wg_combiner_ops ops = {NULL, run, refuse};

struct wg_toucher *wg_toucher_start(const char *conninfo, int lease_seconds)
{
  struct wg_toucher *k = calloc(1, sizeof *k);
  if (k == NULL)
    return NULL;
  k->lease_seconds = lease_seconds;
  k->combiner = wg_combiner_start(conninfo, &ops, k, GROUP_MAX);
  if (k->combiner == NULL) {
    free(k);
    return NULL;
  }
  return k;
}

void wg_toucher_stop(struct wg_toucher *k)
{
  if (k == NULL)
    return;
  wg_combiner_stop(k->combiner);
  free(k);
}

void wg_toucher_submit(struct wg_toucher *k, struct wg_touch *x) { wg_combiner_submit(k->combiner, x); }

void wg_toucher_counts(struct wg_toucher *k, int64_t *groups, int64_t *touches)
{
  wg_combiner_counts(k->combiner, groups, touches);
}
