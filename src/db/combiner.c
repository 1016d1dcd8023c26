/* The combiner (see combiner.h): submitters append to a queue and sleep; the thread takes what has
 * gathered, runs it as one group and wakes them. */
#include "config.h"
#include "db/combiner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct waiter {
  void *item;
  bool finished;
  /* A posted item (wg_combiner_post): nobody sleeps on it; done is called once its group ran,
   * and the waiter, malloc'd by the post, is freed. */
  void (*done)(void *item, void *arg);
  void *done_arg;
  struct waiter *next;
};

struct wg_combiner {
  const struct wg_combiner_ops *ops;
  void *arg;
  size_t max_group;
  char *conninfo;
  struct wg_dbconn *conn;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work;     /* the queue got a waiter, or stop was asked */
  pthread_cond_t finished; /* a group was answered */
  struct waiter *head, *tail;
  bool stopping;
  size_t inside; /* submitters that took the lock and have not yet left: stop waits for them */
  int64_t groups, items;
  struct waiter **group; /* the thread's own: the group being run */
  void **group_items;
};

/* Takes up to max_group waiters that fit together off the queue. Called locked. */
static size_t take_group(struct wg_combiner *k, struct waiter **group, void **items)
{
  size_t n = 0;
  struct waiter **link = &k->head;
  while (*link != NULL && n < k->max_group) {
    struct waiter *w = *link;
    if (n > 0 && k->ops->fits != NULL && !k->ops->fits(items, n, w->item, k->arg)) {
      link = &w->next;
      continue;
    }
    *link = w->next;
    w->next = NULL;
    group[n] = w;
    items[n++] = w->item;
  }
  k->tail = NULL;
  for (struct waiter *w = k->head; w != NULL; w = w->next)
    k->tail = w;
  return n;
}

/* The thread's connection, (re)made if needed; NULL when the database cannot be reached. */
static struct wg_dbconn *connection(struct wg_combiner *k)
{
  if (k->conn == NULL) {
    char err[256];
    k->conn = wg_db_connect(k->conninfo, err, sizeof err);
    if (k->conn == NULL)
      wg_warn("cannot connect to the database: %s", err);
    return k->conn;
  }
  /* A connection idle through an outage or a partition is found dead here, not on first use. */
  return wg_db_check(k->conn) || wg_db_reconnect(k->conn, k->conninfo) ? k->conn : NULL;
}

static void *combiner_main(void *arg)
{
  struct wg_combiner *k = arg;
  struct waiter **group = k->group;
  void **items = k->group_items;
  pthread_mutex_lock(&k->lock);
  for (;;) {
    while (k->head == NULL && !k->stopping)
      pthread_cond_wait(&k->work, &k->lock);
    if (k->head == NULL)
      break;
    size_t n = take_group(k, group, items);
    bool stopping = k->stopping;
    pthread_mutex_unlock(&k->lock);

    if (stopping) {
      for (size_t i = 0; i < n; i++)
        k->ops->refuse(items[i], k->arg);
    } else {
      /* A connection idle through a database restart fails on its first use. */
      if (k->ops->run(connection(k), items, n, k->arg))
        k->ops->run(connection(k), items, n, k->arg);
    }

    /* Posted items are answered outside the lock: their callbacks may post again. */
    for (size_t i = 0; i < n; i++)
      if (group[i]->done != NULL) {
        group[i]->done(items[i], group[i]->done_arg);
        free(group[i]);
        group[i] = NULL;
      }
    pthread_mutex_lock(&k->lock);
    k->groups++;
    k->items += (int64_t)n;
    for (size_t i = 0; i < n; i++)
      if (group[i] != NULL)
        group[i]->finished = true;
    pthread_cond_broadcast(&k->finished);
  }
  pthread_mutex_unlock(&k->lock);
  return NULL;
}

/* Frees a combiner whose thread is not running. */
static void destroy(struct wg_combiner *k)
{
  wg_db_disconnect(k->conn);
  pthread_mutex_destroy(&k->lock);
  pthread_cond_destroy(&k->work);
  pthread_cond_destroy(&k->finished);
  free(k->group);
  free(k->group_items);
  free(k->conninfo);
  free(k);
}

struct wg_combiner *wg_combiner_start(const char *conninfo, const struct wg_combiner_ops *ops, void *arg,
                                      size_t max_group)
{
  struct wg_combiner *k = calloc(1, sizeof *k);
  if (k == NULL || (k->conninfo = strdup(conninfo)) == NULL) {
    free(k);
    return NULL;
  }
  k->ops = ops;
  k->arg = arg;
  k->max_group = max_group;
  k->group = calloc(max_group, sizeof *k->group);
  k->group_items = calloc(max_group, sizeof *k->group_items);
  pthread_mutex_init(&k->lock, NULL);
  pthread_cond_init(&k->work, NULL);
  pthread_cond_init(&k->finished, NULL);
  if (k->group == NULL || k->group_items == NULL || pthread_create(&k->thread, NULL, combiner_main, k) != 0) {
    destroy(k);
    return NULL;
  }
  return k;
}

void wg_combiner_stop(struct wg_combiner *k)
{
  if (k == NULL)
    return;
  pthread_mutex_lock(&k->lock);
  k->stopping = true;
  pthread_cond_signal(&k->work);
  pthread_mutex_unlock(&k->lock);
  pthread_join(k->thread, NULL);
  /* Submitters woken by the last group, or refused, may still be on their way out of
   * wg_combiner_submit (reacquiring the lock in pthread_cond_wait): the lock and k must outlive
   * them. */
  pthread_mutex_lock(&k->lock);
  while (k->inside > 0)
    pthread_cond_wait(&k->finished, &k->lock);
  pthread_mutex_unlock(&k->lock);
  destroy(k);
}

bool wg_combiner_post(struct wg_combiner *k, void *item, void (*done)(void *item, void *arg), void *done_arg)
{
  return wg_combiner_post_many(k, &item, &done_arg, 1, done);
}

/* Frees a list of waiters linked by next. */
static void free_waiters(struct waiter *w)
{
  while (w != NULL) {
    struct waiter *next = w->next;
    free(w);
    w = next;
  }
}

bool wg_combiner_post_many(struct wg_combiner *k, void **items, void **done_args, size_t n,
                           void (*done)(void *item, void *arg))
{
  if (n == 0)
    return true;
  struct waiter *first = NULL, *last = NULL;
  for (size_t i = 0; i < n; i++) {
    struct waiter *w = malloc(sizeof *w);
    if (w == NULL) {
      free_waiters(first);
      return false;
    }
    *w = (struct waiter){items[i], false, done, done_args[i], NULL};
    if (last != NULL)
      last->next = w;
    else
      first = w;
    last = w;
  }
  pthread_mutex_lock(&k->lock);
  bool stopping = k->stopping;
  if (!stopping) {
    if (k->tail != NULL)
      k->tail->next = first;
    else
      k->head = first;
    k->tail = last;
    pthread_cond_signal(&k->work);
  }
  pthread_mutex_unlock(&k->lock);
  if (stopping)
    free_waiters(first);
  return !stopping;
}

void wg_combiner_submit(struct wg_combiner *k, void *item)
{
  struct waiter w = {item, false, NULL, NULL, NULL};
  pthread_mutex_lock(&k->lock);
  k->inside++;
  if (k->stopping) {
    pthread_mutex_unlock(&k->lock);
    k->ops->refuse(item, k->arg);
    pthread_mutex_lock(&k->lock);
  } else {
    if (k->tail != NULL)
      k->tail->next = &w;
    else
      k->head = &w;
    k->tail = &w;
    pthread_cond_signal(&k->work);
    while (!w.finished)
      pthread_cond_wait(&k->finished, &k->lock);
  }
  if (--k->inside == 0 && k->stopping)
    pthread_cond_broadcast(&k->finished); /* wg_combiner_stop may be waiting for the last one */
  pthread_mutex_unlock(&k->lock);
}

void wg_combiner_counts(struct wg_combiner *k, int64_t *groups, int64_t *items)
{
  pthread_mutex_lock(&k->lock);
  *groups = k->groups;
  *items = k->items;
  pthread_mutex_unlock(&k->lock);
}
