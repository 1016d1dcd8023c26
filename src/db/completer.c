/* Group commit of completions (see completer.h), on the combiner (db/combiner.h). */
#include "config.h"
#include "db/completer.h"

#include <stdlib.h>

#include "common/fault.h"
#include "db/combiner.h"

/* Caps on one group: the statement carries every proof (hex-encoded) as a parameter. */
#define GROUP_MAX 256
#define GROUP_MAX_PROOF_BYTES (16u * 1024 * 1024)

/* A job is completed once per statement, so a repeat of an id already in the group waits for the
 * next one; and the proofs of a group stay under a size cap (a lone big proof still goes). */
static bool fits(void *const *group, size_t n, const void *item, void *arg)
{
  (void)arg;
  const struct wg_completion *x = item;
  size_t bytes = x->proof_len;
  for (size_t i = 0; i < n; i++) {
    const struct wg_completion *g = group[i];
    if (g->id == x->id)
      return false;
    bytes += g->proof_len;
  }
  return bytes <= GROUP_MAX_PROOF_BYTES;
}

/* A group lost to a broken connection runs again on a fresh one. That is safe even if the first
 * run committed: the jobs are then successful with these very proofs, which answers each
 * completion as a repeat (200). */
static bool run(struct wg_dbconn *c, void **group, size_t n, void *arg)
{
  (void)arg;
  WG_FAULT("complete_stall"); /* tests hold a completion group here, before its transaction */
  struct wg_completion *xs = malloc(n * sizeof *xs);
  enum wg_status s = xs != NULL ? WG_E_UNAVAILABLE : WG_E_INTERNAL;
  for (size_t i = 0; i < n && xs != NULL; i++) {
    xs[i] = *(struct wg_completion *)group[i];
    xs[i].status = WG_E_UNAVAILABLE;
  }
  if (xs != NULL && c != NULL)
    s = wg_prover_jobs_complete(c, xs, n); /* sets every status */
  for (size_t i = 0; i < n; i++) {
    struct wg_completion *x = group[i];
    x->status = xs != NULL ? xs[i].status : s;
    x->repeat = xs != NULL && xs[i].repeat;
  }
  free(xs);
  return s == WG_E_UNAVAILABLE && c != NULL;
}

static void refuse(void *item, void *arg)
{
  (void)arg;
  ((struct wg_completion *)item)->status = WG_E_UNAVAILABLE;
}

static const struct wg_combiner_ops ops = {fits, run, refuse};

struct wg_completer *wg_completer_start(const char *conninfo)
{
  return (struct wg_completer *)wg_combiner_start(conninfo, &ops, NULL, GROUP_MAX);
}

void wg_completer_stop(struct wg_completer *k) { wg_combiner_stop((struct wg_combiner *)k); }

void wg_completer_submit(struct wg_completer *k, struct wg_completion *x)
{
  wg_combiner_submit((struct wg_combiner *)k, x);
}

void wg_completer_counts(struct wg_completer *k, int64_t *groups, int64_t *completions)
{
  wg_combiner_counts((struct wg_combiner *)k, groups, completions);
}
