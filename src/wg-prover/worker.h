/* One wg-prover worker thread: claim a circuit, download its witness, prove it, keep its lease
 * alive, post the proof; again until there is nothing left to do or it is told to stop. */
#ifndef WGP_WORKER_H
#define WGP_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "wg-prover/state.h"

struct wgp_worker {
  struct wgp_state *st;
  int index;            /* 0-based thread number */
  char prover_id[256];  /* sent with every claim, stored by the server in picked_by */
  long long proofs_made; /* counts towards --corrupt-every */
  struct wgp_outbox *outbox; /* sender threads that post its proofs; NULL: it posts them itself */
  bool sending;          /* its last proof is in the outbox or being posted (the outbox's lock) */
  bool expecting;        /* counted in the state's expecting (claim_lock) */
  struct json_t *claim;  /* its claim body */
  pthread_t thread;
};

/* Fills in w for thread index of st. */
void wgp_worker_init(struct wgp_worker *w, struct wgp_state *st, int index);
/* The thread's body; arg is a struct wgp_worker *. */
void *wgp_worker_run(void *arg);
/* --senders: threads that post the workers' proofs, so that a worker goes on to its next job
 * while its last proof is on its way (a worker has at most one proof waiting). wgp_outbox_start
 * starts senders threads for up to workers workers and returns NULL when it cannot;
 * wgp_outbox_finish, once the workers have ended, waits for every proof to be posted (or
 * abandoned by a second stop request) and frees it all. */
struct wgp_outbox;
struct wgp_outbox *wgp_outbox_start(struct wgp_state *st, int senders, int workers);
void wgp_outbox_finish(struct wgp_outbox *ob);
/* The heartbeat thread of claimed jobs still waiting for a worker; arg is the struct wgp_state *.
 * Runs until keeper_stop is set (and the state's wake condition broadcast). */
void *wgp_keeper_run(void *arg);

#endif
