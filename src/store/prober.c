/* The store prober (store/prober.h). */
#include "config.h"
#include "store/prober.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "store/store.h"

struct wg_store_prober {
  struct wg_store *store;
  char *name;
  long interval_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t stop_cond;
  bool quit;
};

static void *prober_main(void *arg)
{
  struct wg_store_prober *p = arg;
  pthread_mutex_lock(&p->lock);
  while (!p->quit) {
    struct timespec deadline = wg_deadline_after_ms(p->interval_ms);
    while (!p->quit && pthread_cond_timedwait(&p->stop_cond, &p->lock, &deadline) == 0)
      ;
    if (p->quit)
      break;
    pthread_mutex_unlock(&p->lock);
    char reason[8];
    if (!wg_store_writable(reason, sizeof reason))
      wg_store_probe(p->store, p->name);
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

struct wg_store_prober *wg_store_prober_start(struct wg_store *s, const char *name, long interval_ms)
{
  struct wg_store_prober *p = calloc(1, sizeof *p);
  if (p == NULL || (p->name = strdup(name)) == NULL) {
    free(p);
    return NULL;
  }
  p->store = s;
  p->interval_ms = interval_ms;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->stop_cond, NULL);
  if (pthread_create(&p->thread, NULL, prober_main, p) != 0) {
    pthread_cond_destroy(&p->stop_cond);
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p);
    return NULL;
  }
  return p;
}

void wg_store_prober_stop(struct wg_store_prober *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->lock);
  p->quit = true;
  pthread_cond_signal(&p->stop_cond);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->thread, NULL);
  pthread_cond_destroy(&p->stop_cond);
  pthread_mutex_destroy(&p->lock);
  free(p->name);
  free(p);
}
