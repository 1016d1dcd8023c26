/* The state wg-prover's threads share: stop requests, sleeps that a stop cuts short, and the
 * --max-jobs budget. */
#include "config.h"
#include "wg-prover/state.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

int wgp_state_init(struct wgp_state *st, const struct wgp_options *opt)
{
  *st = (struct wgp_state){.opt = opt};
  atomic_init(&st->stop, WGP_RUNNING);
  atomic_init(&st->exit_code, 0);
  atomic_init(&st->reserved, 0);
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    return -1;
  /* Sleeps are measured on the monotonic clock so that a clock step cannot stretch them. */
  int e = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (e == 0)
    e = pthread_cond_init(&st->wake, &attr);
  pthread_condattr_destroy(&attr);
  if (e != 0)
    return -1;
  if (pthread_mutex_init(&st->lock, NULL) != 0) {
    pthread_cond_destroy(&st->wake);
    return -1;
  }
  if (pthread_mutex_init(&st->claim_lock, NULL) != 0 || pthread_cond_init(&st->claimed, NULL) != 0) {
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    return -1;
  }
  return 0;
}

void wgp_record_latency(struct wgp_state *st, long long micros)
{
  int i = micros < 1 ? 0 : (int)(8 * log2((double)micros));
  if (i >= WGP_LATENCY_BUCKETS)
    i = WGP_LATENCY_BUCKETS - 1;
  atomic_fetch_add(&st->stats.latency[i], 1);
  atomic_fetch_add(&st->stats.requests, 1);
}

double wgp_latency_percentile(struct wgp_state *st, double pct)
{
  long long total = atomic_load(&st->stats.requests), seen = 0;
  if (total == 0)
    return 0;
  long long rank = (long long)ceil(pct / 100 * (double)total);
  for (int i = 0; i < WGP_LATENCY_BUCKETS; i++) {
    seen += atomic_load(&st->stats.latency[i]);
    if (seen >= rank && seen > 0)
      return pow(2, (i + 1) / 8.0) / 1000; /* the bucket's upper bound */
  }
  return pow(2, WGP_LATENCY_BUCKETS / 8.0) / 1000;
}

void wgp_state_destroy(struct wgp_state *st)
{
  pthread_cond_destroy(&st->claimed);
  pthread_mutex_destroy(&st->claim_lock);
  free(st->jobs);
  pthread_cond_destroy(&st->wake);
  pthread_mutex_destroy(&st->lock);
}

void wgp_request_stop(struct wgp_state *st, enum wgp_stop level)
{
  pthread_mutex_lock(&st->lock);
  if (atomic_load(&st->stop) < (int)level)
    atomic_store(&st->stop, (int)level);
  pthread_cond_broadcast(&st->wake);
  pthread_mutex_unlock(&st->lock);
  /* Threads waiting for a claimed job wake too. */
  pthread_mutex_lock(&st->claim_lock);
  pthread_cond_broadcast(&st->claimed);
  pthread_mutex_unlock(&st->claim_lock);
}

bool wgp_sleep_ms(struct wgp_state *st, long long ms, enum wgp_stop wake_level)
{
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (ms < 0)
    ms = 0;
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&st->lock);
  /* keeper_stop is set once every worker has ended: only the heartbeat thread still sleeps. */
  while (atomic_load(&st->stop) < (int)wake_level && !atomic_load(&st->keeper_stop))
    if (pthread_cond_timedwait(&st->wake, &st->lock, &until) == ETIMEDOUT)
      break;
  bool stopped = atomic_load(&st->stop) >= (int)wake_level;
  pthread_mutex_unlock(&st->lock);
  return !stopped;
}

static long long clock_ms(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long wgp_now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
long long wgp_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

long long wgp_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool wgp_reserve_job(struct wgp_state *st)
{
  long long max = st->opt->max_jobs;
  if (max <= 0)
    return true;
  long long cur = atomic_load(&st->reserved);
  while (cur < max)
    if (atomic_compare_exchange_weak(&st->reserved, &cur, cur + 1))
      return true;
  return false;
}

void wgp_release_job(struct wgp_state *st)
{
  if (st->opt->max_jobs > 0)
    atomic_fetch_sub(&st->reserved, 1);
}
