/* wg-prover: the bundled prover (docs/command-line.md). Sets up libcurl and the signals, runs the
 * worker threads until they are done, and prints the summary line that scripts parse. */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "wg-prover/options.h"
#include "wg-prover/state.h"
#include "wg-prover/worker.h"

/* Signals are taken by one thread with sigwait rather than by a handler, so that a stop can use
 * the mutex and condition variable that wake sleeping workers. */
static void *signal_thread(void *arg)
{
  struct wgp_state *st = arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  for (;;) {
    int sig;
    if (sigwait(&set, &sig) != 0)
      continue;
    if (wgp_stopping(st) < WGP_STOP_AFTER_JOB) {
      wg_info("signal %d: finishing the jobs in hand, then exiting (signal again to abandon them)", sig);
      wgp_request_stop(st, WGP_STOP_AFTER_JOB);
    } else {
      wg_info("signal %d: abandoning the jobs in hand", sig);
      wgp_request_stop(st, WGP_STOP_NOW);
    }
  }
  return NULL;
}

static void ignore_signal(int sig) { (void)sig; }

static void print_summary(struct wgp_state *st)
{
  struct wgp_stats *s = &st->stats;
  printf("wg-prover: proved %lld jobs (round0=%lld round1=%lld round2=%lld round3=%lld), retries %lld, lost leases "
         "%lld, rejected proofs %lld\n",
         atomic_load(&s->proved), atomic_load(&s->proved_by_round[0]), atomic_load(&s->proved_by_round[1]),
         atomic_load(&s->proved_by_round[2]), atomic_load(&s->proved_by_round[3]), atomic_load(&s->retries),
         atomic_load(&s->lost_leases), atomic_load(&s->rejected));
  printf("wg-prover: %lld requests, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
         atomic_load(&s->requests), wgp_latency_percentile(st, 50), wgp_latency_percentile(st, 99),
         wgp_latency_percentile(st, 100));
  fflush(stdout);
  long long abandoned = atomic_load(&s->abandoned);
  if (abandoned > 0)
    wg_info("%lld job%s dropped without a proof (see the log above)", abandoned, abandoned == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
  struct wgp_options opt;
  switch (wgp_options_parse(argc, argv, &opt)) {
  case WGP_PARSE_OK:
    break;
  case WGP_PARSE_EXIT:
    return 0;
  case WGP_PARSE_ERROR:
    return 2;
  }

  int rc = 1;
  struct wgp_state st;
  struct wgp_worker *workers = NULL;
  bool curl_ready = false, state_ready = false, signals_ready = false;
  pthread_t signals;

  /* A shell starts background commands with SIGINT ignored, and an ignored signal never reaches
   * sigwait; a handler (never run, the signals stay blocked) makes `kill -INT` work there too. */
  struct sigaction sa = {.sa_handler = ignore_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  /* Before any thread exists (libcurl's resolver threads included), so every thread inherits it. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  /* A server closing a connection mid-write must cost a retry, not the process. */
  signal(SIGPIPE, SIG_IGN);

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "wg-prover: cannot initialise libcurl\n");
    goto out;
  }
  curl_ready = true;
  if (wgp_state_init(&st, &opt) != 0) {
    fprintf(stderr, "wg-prover: cannot initialise its thread state\n");
    goto out;
  }
  state_ready = true;
  if (pthread_create(&signals, NULL, signal_thread, &st) != 0) {
    fprintf(stderr, "wg-prover: cannot start its signal thread\n");
    goto out;
  }
  signals_ready = true;
  workers = calloc((size_t)opt.concurrency, sizeof *workers);
  if (workers == NULL) {
    fprintf(stderr, "wg-prover: out of memory\n");
    goto out;
  }

  wg_info("wg-prover: %d thread%s claiming protocol version %d jobs from %s", opt.concurrency,
          opt.concurrency == 1 ? "" : "s", opt.protocol_version, opt.url);
  pthread_t keeper;
  bool keeper_started = pthread_create(&keeper, NULL, wgp_keeper_run, &st) == 0;
  if (!keeper_started) {
    wg_error("cannot start the heartbeat thread");
    atomic_store(&st.exit_code, 1);
    wgp_request_stop(&st, WGP_STOP_AFTER_JOB);
  }
  /* By default senders only when proofs take time: an instant proof leaves nothing to overlap,
   * and a thread posting its own proof lets all of them reach the daemon's group commit together. */
  int senders = opt.senders >= 0 ? opt.senders : opt.prove_ms == 0 ? 0 : opt.concurrency / 4 > 1 ? opt.concurrency / 4 : 1;
  struct wgp_outbox *outbox = NULL;
  if (keeper_started && senders > 0 && (outbox = wgp_outbox_start(&st, senders, opt.concurrency)) == NULL) {
    wg_error("cannot start the threads that post proofs");
    atomic_store(&st.exit_code, 1);
    wgp_request_stop(&st, WGP_STOP_AFTER_JOB);
  }
  int started = 0;
  for (; keeper_started && (senders == 0 || outbox != NULL) && started < opt.concurrency; started++) {
    wgp_worker_init(&workers[started], &st, started);
    workers[started].outbox = outbox;
    if (pthread_create(&workers[started].thread, NULL, wgp_worker_run, &workers[started]) != 0) {
      wg_error("cannot start worker thread %d", started);
      atomic_store(&st.exit_code, 1);
      wgp_request_stop(&st, WGP_STOP_AFTER_JOB);
      break;
    }
  }
  for (int i = 0; i < started; i++)
    pthread_join(workers[i].thread, NULL);
  wgp_outbox_finish(outbox); /* the last proofs are posted while the heartbeat thread still runs */
  if (keeper_started) {
    atomic_store(&st.keeper_stop, true);
    wgp_request_stop(&st, WGP_STOP_AFTER_JOB); /* broadcasts the wake-up that ends its sleep */
    pthread_join(keeper, NULL);
  }
  print_summary(&st);
  rc = atomic_load(&st.exit_code);

out:
  if (signals_ready) {
    pthread_cancel(signals); /* sigwait is a cancellation point */
    pthread_join(signals, NULL);
  }
  free(workers);
  if (state_ready)
    wgp_state_destroy(&st);
  if (curl_ready)
    curl_global_cleanup();
  wgp_options_free(&opt);
  return rc;
}
