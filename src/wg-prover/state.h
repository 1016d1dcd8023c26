/* What wg-prover's threads share: the settings, the stop request, an interruptible sleep and the
 * counters of the exit summary. */
#ifndef WGP_STATE_H
#define WGP_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "wg-prover/options.h"

/* Stop levels. A first SIGINT/SIGTERM (or --max-jobs reached, or a fatal error) asks the threads
 * to finish the job they hold and claim no more; a second one makes them abandon it too (its
 * lease then expires on the server and the job is claimed again). */
enum wgp_stop { WGP_RUNNING = 0, WGP_STOP_AFTER_JOB = 1, WGP_STOP_NOW = 2 };

/* Request latencies: bucket i holds requests that took about 2^(i/8) microseconds. */
#define WGP_LATENCY_BUCKETS 256

struct wgp_stats {
  atomic_llong requests;
  atomic_llong latency[WGP_LATENCY_BUCKETS];
  atomic_llong proved;
  atomic_llong proved_by_round[4];
  atomic_llong retries;        /* requests sent again after a transient failure */
  atomic_llong lost_leases;    /* heartbeat or completion answered 409 */
  atomic_llong rejected;       /* proofs the server refused with 400 */
  atomic_llong abandoned;      /* jobs given up for any other reason */
};

struct wgp_state {
  const struct wgp_options *opt;
  atomic_int stop;      /* enum wgp_stop; only ever raised */
  atomic_int exit_code; /* 0, or 1 after a fatal error */
  atomic_llong reserved; /* --max-jobs: jobs proved plus jobs being worked on */
  struct wgp_stats stats;
  pthread_mutex_t lock; /* guards nothing but the condition below */
  pthread_cond_t wake;  /* broadcast when stop rises, to cut sleeps short */
  /* Batched claims (worker.c): one thread claims for every thread waiting for a job and hands
   * the jobs out here, so no claimed job waits for a thread (and its lease runs only while a
   * thread works on it). */
  pthread_mutex_t claim_lock;
  pthread_cond_t claimed;  /* jobs were added, or a claim came back empty */
  void **jobs;             /* claimed jobs (worker.c's struct job *) not yet taken by a thread */
  size_t n_jobs, cap_jobs;
  int waiting;             /* threads waiting for a job */
  int expecting;           /* threads whose proof ends within --claim-ahead-ms */
  int requested;           /* jobs asked for by claims in flight */
  unsigned long long empty_claims; /* claims that came back empty, so waiters can tell */
  atomic_bool waited_for_work;     /* the last empty claim waited at the server its whole wait */
  atomic_bool keeper_stop; /* the heartbeat thread of waiting jobs ends */
};

int wgp_state_init(struct wgp_state *st, const struct wgp_options *opt);
void wgp_state_destroy(struct wgp_state *st);

/* Raises the stop level (never lowers it) and wakes every sleeping thread. */
void wgp_request_stop(struct wgp_state *st, enum wgp_stop level);
static inline int wgp_stopping(struct wgp_state *st) { return atomic_load(&st->stop); }

/* Sleeps ms milliseconds, or less once the stop level reaches wake_level. Returns false when it
 * was cut short by a stop. */
bool wgp_sleep_ms(struct wgp_state *st, long long ms, enum wgp_stop wake_level);

/* Records one request's latency; the percentile (0-100) of those recorded, in milliseconds. */
void wgp_record_latency(struct wgp_state *st, long long micros);
double wgp_latency_percentile(struct wgp_state *st, double pct);

/* Monotonic and wall-clock milliseconds. */
long long wgp_now_ms(void);
long long wgp_wall_ms(void);
long long wgp_now_us(void);

/* --max-jobs: takes a slot before claiming (false when all are taken) and gives it back when the
 * claim brought no job or the job was not proved. Always true without --max-jobs. */
bool wgp_reserve_job(struct wgp_state *st);
void wgp_release_job(struct wgp_state *st);

#endif
