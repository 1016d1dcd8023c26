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

struct wgp_stats {
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
};

int wgp_state_init(struct wgp_state *st, const struct wgp_options *opt);
void wgp_state_destroy(struct wgp_state *st);

/* Raises the stop level (never lowers it) and wakes every sleeping thread. */
void wgp_request_stop(struct wgp_state *st, enum wgp_stop level);
static inline int wgp_stopping(struct wgp_state *st) { return atomic_load(&st->stop); }

/* Sleeps ms milliseconds, or less once the stop level reaches wake_level. Returns false when it
 * was cut short by a stop. */
bool wgp_sleep_ms(struct wgp_state *st, long long ms, enum wgp_stop wake_level);

/* Monotonic and wall-clock milliseconds. */
long long wgp_now_ms(void);
long long wgp_wall_ms(void);

/* --max-jobs: takes a slot before claiming (false when all are taken) and gives it back when the
 * claim brought no job or the job was not proved. Always true without --max-jobs. */
bool wgp_reserve_job(struct wgp_state *st);
void wgp_release_job(struct wgp_state *st);

#endif
