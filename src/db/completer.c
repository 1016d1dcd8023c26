/* The group committer (see completer.h). One thread, one connection: submitters append to a
 * queue and sleep; the thread takes what has gathered, commits it with one statement and wakes
 * them. */
#include "config.h"
#include "db/completer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Caps on one group: the statement carries every proof (hex-encoded) as a parameter. */
#define GROUP_MAX 256
#define GROUP_MAX_BYTES (32u * 1024 * 1024)

struct waiter {
  struct wg_completion *x;
  bool finished;
  struct waiter *next;
};

struct wg_completer {
  char *conninfo;
  struct wg_dbconn *conn;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work;     /* the queue got a waiter, or stop was asked */
  pthread_cond_t finished; /* a group was answered */
  struct waiter *head, *tail;
  bool stopping;
  int64_t groups, completions;
};

/* Takes up to GROUP_MAX waiters with distinct job ids off the queue; a repeat of an id already in
 * the group waits for the next one (a job can be completed once per statement). Called locked. */
static size_t take_group(struct wg_completer *k, struct waiter **group)
{
  size_t n = 0, bytes = 0;
  struct waiter **link = &k->head;
  while (*link != NULL && n < GROUP_MAX) {
    struct waiter *w = *link;
    bool repeat = false;
    for (size_t i = 0; i < n && !repeat; i++)
      repeat = group[i]->x->id == w->x->id;
    if (repeat || (n > 0 && bytes + w->x->proof_len > GROUP_MAX_BYTES / 2)) {
      link = &w->next;
      continue;
    }
    *link = w->next;
    w->next = NULL;
    group[n++] = w;
    bytes += w->x->proof_len;
  }
  k->tail = NULL;
  for (struct waiter *w = k->head; w != NULL; w = w->next)
    k->tail = w;
  return n;
}

static bool connected(struct wg_completer *k)
{
  if (k->conn == NULL) {
    char err[256];
    k->conn = wg_db_connect(k->conninfo, err, sizeof err);
    if (k->conn == NULL)
      wg_warn("completions: cannot connect to the database: %s", err);
    return k->conn != NULL;
  }
  return !k->conn->broken || wg_db_reconnect(k->conn, k->conninfo);
}

static void commit_group(struct wg_completer *k, struct waiter **group, size_t n)
{
  struct wg_completion *xs = malloc(n * sizeof *xs);
  if (xs != NULL) {
    for (size_t i = 0; i < n; i++) {
      xs[i] = *group[i]->x;
      xs[i].status = WG_E_UNAVAILABLE;
    }
    /* A connection idle through a database restart fails on its first use: reconnect and run the
     * group again. That is safe even if the first run committed: the jobs are then successful
     * with these very proofs, which answers each completion as a repeat (200). */
    for (int attempt = 0; attempt < 2 && connected(k); attempt++)
      if (wg_prover_jobs_complete(k->conn, xs, n) != WG_E_UNAVAILABLE) /* sets every status */
        break;
  }
  for (size_t i = 0; i < n; i++) {
    group[i]->x->status = xs != NULL ? xs[i].status : WG_E_INTERNAL;
    group[i]->x->repeat = xs != NULL && xs[i].repeat;
  }
  free(xs);
}

static void *committer(void *arg)
{
  struct wg_completer *k = arg;
  struct waiter *group[GROUP_MAX];
  pthread_mutex_lock(&k->lock);
  for (;;) {
    while (k->head == NULL && !k->stopping)
      pthread_cond_wait(&k->work, &k->lock);
    if (k->head == NULL)
      break;
    size_t n = take_group(k, group);
    bool stopping = k->stopping;
    pthread_mutex_unlock(&k->lock);

    if (stopping) {
      for (size_t i = 0; i < n; i++)
        group[i]->x->status = WG_E_UNAVAILABLE;
    } else {
      commit_group(k, group, n);
    }

    pthread_mutex_lock(&k->lock);
    k->groups++;
    k->completions += (int64_t)n;
    for (size_t i = 0; i < n; i++)
      group[i]->finished = true;
    pthread_cond_broadcast(&k->finished);
  }
  pthread_mutex_unlock(&k->lock);
  return NULL;
}

struct wg_completer *wg_completer_start(const char *conninfo)
{
  struct wg_completer *k = calloc(1, sizeof *k);
  if (k == NULL || (k->conninfo = strdup(conninfo)) == NULL) {
    free(k);
    return NULL;
  }
  pthread_mutex_init(&k->lock, NULL);
  pthread_cond_init(&k->work, NULL);
  pthread_cond_init(&k->finished, NULL);
  if (pthread_create(&k->thread, NULL, committer, k) != 0) {
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->work);
    pthread_cond_destroy(&k->finished);
    free(k->conninfo);
    free(k);
    return NULL;
  }
  return k;
}

void wg_completer_stop(struct wg_completer *k)
{
  if (k == NULL)
    return;
  pthread_mutex_lock(&k->lock);
  k->stopping = true;
  pthread_cond_signal(&k->work);
  pthread_mutex_unlock(&k->lock);
  pthread_join(k->thread, NULL);
  wg_db_disconnect(k->conn);
  pthread_mutex_destroy(&k->lock);
  pthread_cond_destroy(&k->work);
  pthread_cond_destroy(&k->finished);
  free(k->conninfo);
  free(k);
}

void wg_completer_submit(struct wg_completer *k, struct wg_completion *x)
{
  struct waiter w = {x, false, NULL};
  pthread_mutex_lock(&k->lock);
  if (k->stopping) {
    pthread_mutex_unlock(&k->lock);
    x->status = WG_E_UNAVAILABLE;
    return;
  }
  if (k->tail != NULL)
    k->tail->next = &w;
  else
    k->head = &w;
  k->tail = &w;
  pthread_cond_signal(&k->work);
  while (!w.finished)
    pthread_cond_wait(&k->finished, &k->lock);
  pthread_mutex_unlock(&k->lock);
}

void wg_completer_counts(struct wg_completer *k, int64_t *groups, int64_t *completions)
{
  pthread_mutex_lock(&k->lock);
  *groups = k->groups;
  *completions = k->completions;
  pthread_mutex_unlock(&k->lock);
}
