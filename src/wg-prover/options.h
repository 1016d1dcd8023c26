/* wg-prover's settings: command-line flags, each also readable from an environment variable
 * (WG_PROVER_ + the flag name in capitals with '-' as '_'); a flag wins over its variable. */
#ifndef WGP_OPTIONS_H
#define WGP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define WGP_MAX_ROUNDS 4
#define WGP_MAX_CIRCUITS 64 /* the daemon accepts at most 64 filter entries */

struct wgp_options {
  char *url;         /* base URL without a trailing '/'; owned */
  char *token;       /* bearer token; owned, never logged */
  char *prover_id;   /* NULL: wg-prover-<host>-<pid>-<thread>; owned */
  char *cacert;      /* PEM file of the CA to trust for https (NULL: the system's); owned */
  int rounds[WGP_MAX_ROUNDS];
  size_t n_rounds;   /* 0: any round */
  int circuits[WGP_MAX_CIRCUITS];
  size_t n_circuits; /* 0: any circuit */
  int concurrency;
  int batch;         /* most jobs per claim; 0: as many as threads are waiting for one */
  int senders;       /* threads posting proofs; -1: with prove_ms a quarter of concurrency (at least 1), else 0 */
  int protocol_version;
  bool until_idle;
  long long idle_ms;
  long long wait_ms;       /* a claim's "wait_ms": how long the server holds it for work */
  long long max_jobs;      /* 0: no limit */
  long long corrupt_every; /* 0: never */
  long long prove_ms;      /* artificial proving delay per job */
  long long claim_ahead_ms; /* a thread claims its next job this long before its proof ends */
  long long heartbeat_ms;  /* 0: a third of the lease, at most 60 s */
  long long timeout_ms;    /* whole-request timeout */
  bool verbose;
};

enum wgp_parse_result {
  WGP_PARSE_OK,    /* run */
  WGP_PARSE_EXIT,  /* --help or --version was printed: exit 0 */
  WGP_PARSE_ERROR  /* a message was printed to stderr: exit 2 */
};

enum wgp_parse_result wgp_options_parse(int argc, char **argv, struct wgp_options *opt);
void wgp_options_free(struct wgp_options *opt);

#endif
