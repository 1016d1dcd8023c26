/* Group commit for requests that each need a statement, and whose statements can be merged: the
 * requests that arrive while one group's statement runs are taken together into the next one.
 * There is no timer: a lone request runs at once, and groups grow only as fast as requests pile
 * up behind a running statement. Used for prover job completions (db/completer.c) and claims
 * (db/claimer.c). One thread and one database connection per combiner. */
#ifndef WG_DB_COMBINER_H
#define WG_DB_COMBINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct wg_combiner;

struct wg_combiner_ops {
  /* Whether item may join the group taken so far (n items); an item refused waits for the next
   * group, keeping its place in the queue. NULL: every item fits. */
  bool (*fits)(void *const *group, size_t n, const void *item, void *arg);
  /* Runs a group on c, answering every item of it. c is NULL when the database cannot be reached:
   * answer them all as unavailable. Returns true to have the group run once more on a fresh
   * connection (the connection was found broken, and running the group again is safe). */
  bool (*run)(struct wg_dbconn *c, void **group, size_t n, void *arg);
  /* Answers an item refused because the combiner is stopping. */
  void (*refuse)(void *item, void *arg);
};

/* Starts the thread; its connection to conninfo is made lazily and again after a failure, so this
 * succeeds while the database is down. NULL when out of resources. */
struct wg_combiner *wg_combiner_start(const char *conninfo, const struct wg_combiner_ops *ops, void *arg,
                                      size_t max_group);
/* Refuses every item still waiting, joins the thread, and returns once every submitter has left
 * wg_combiner_submit; an item submitted meanwhile is refused. No submit may start after it
 * returns. */
void wg_combiner_stop(struct wg_combiner *k);
/* Queues item for the next group and waits until its group has run. */
void wg_combiner_submit(struct wg_combiner *k, void *item);
/* Queues item for the next group without waiting: done(item, done_arg) is called on the
 * combiner's thread once its group has run (or refused it at stop). False, with nothing queued,
 * when the combiner is stopping or out of memory. */
bool wg_combiner_post(struct wg_combiner *k, void *item, void (*done)(void *item, void *arg), void *done_arg);
/* Queues n items at once, as wg_combiner_post each with done_args[i]: none of them runs in a
 * group before all are queued, so items posted together share groups (as far as fits lets
 * them) rather than the first running alone. False, with nothing queued, as for one item. */
bool wg_combiner_post_many(struct wg_combiner *k, void **items, void **done_args, size_t n,
                           void (*done)(void *item, void *arg));
/* Groups run and items in them since start. */
void wg_combiner_counts(struct wg_combiner *k, int64_t *groups, int64_t *items);

#endif
