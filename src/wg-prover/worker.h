/* One wg-prover worker thread: claim a circuit, download its witness, prove it, keep its lease
 * alive, post the proof; again until there is nothing left to do or it is told to stop. */
#ifndef WGP_WORKER_H
#define WGP_WORKER_H

#include <pthread.h>

#include "wg-prover/state.h"

struct wgp_worker {
  struct wgp_state *st;
  int index;            /* 0-based thread number */
  char prover_id[256];  /* sent with every claim, stored by the server in picked_by */
  long long proofs_made; /* counts towards --corrupt-every */
  pthread_t thread;
};

/* Fills in w for thread index of st. */
void wgp_worker_init(struct wgp_worker *w, struct wgp_state *st, int index);
/* The thread's body; arg is a struct wgp_worker *. */
void *wgp_worker_run(void *arg);
/* The heartbeat thread of claimed jobs still waiting for a worker; arg is the struct wgp_state *.
 * Runs until keeper_stop is set (and the state's wake condition broadcast). */
void *wgp_keeper_run(void *arg);

#endif
