/* Benchmark of the state tree: the raw BLAKE2s rate on 64-byte inputs (ours and OpenSSL's EVP, the
 * reason src/tree/blake2s.c exists), and the storage log replay with 1 and 2 threads, reported as
 * a fraction of the raw rate per core.
 *
 * Usage: bench_tree [logs]   (default 2000 write logs, each with a full 256-entry path) */
#include "config.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tree/tree.h"

/* Each rate is measured over at least this long, best of BENCH_REPEATS runs. */
#define BENCH_MIN_SECONDS 0.5
#define BENCH_REPEATS 3

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Hashes a 64-byte block in a chain (each output feeds the next input, so nothing is skipped). */
typedef void (*pair_hash_fn)(uint8_t block[2 * WG_HASH_LEN]);

static void pair_ours(uint8_t block[2 * WG_HASH_LEN])
{
  wg_blake2s_pair(block, block + WG_HASH_LEN, block);
}

static EVP_MD *evp_md;
static EVP_MD_CTX *evp_ctx;

static void pair_evp_reused(uint8_t block[2 * WG_HASH_LEN])
{
  unsigned int len;
  EVP_DigestInit_ex2(evp_ctx, evp_md, NULL);
  EVP_DigestUpdate(evp_ctx, block, 2 * WG_HASH_LEN);
  EVP_DigestFinal_ex(evp_ctx, block, &len);
}

static void pair_evp_oneshot(uint8_t block[2 * WG_HASH_LEN])
{
  unsigned int len;
  EVP_Digest(block, 2 * WG_HASH_LEN, block, &len, evp_md, NULL);
}

/* Hashes per second of fn on this thread. */
static double pair_rate(pair_hash_fn fn)
{
  uint8_t block[2 * WG_HASH_LEN] = {1};
  double best = 0;
  for (int r = 0; r < BENCH_REPEATS; r++) {
    long count = 0;
    double start = now_seconds(), elapsed;
    do {
      for (int i = 0; i < 10000; i++)
        fn(block);
      count += 10000;
      elapsed = now_seconds() - start;
    } while (elapsed < BENCH_MIN_SECONDS);
    if (count / elapsed > best)
      best = count / elapsed;
  }
  if (block[0] == 0 && block[1] == 0 && block[2] == 0 && block[3] == 0)
    fputs("", stderr); /* keeps the chain's result alive */
  return best;
}

/* Aggregate hashes per second of `threads` threads each hashing `per_thread` pairs at once: the
 * raw rate the 2-thread replay competes with, on whatever the two cores also share. */
struct pair_job {
  long count;
};

static void *pair_thread(void *arg)
{
  struct pair_job *job = arg;
  uint8_t block[2 * WG_HASH_LEN] = {2};
  for (long i = 0; i < job->count; i++)
    pair_ours(block);
  job->count = block[0]; /* keeps the chain's result alive */
  return NULL;
}

static double pair_rate_threads(int threads, long per_thread)
{
  double best = 0;
  for (int r = 0; r < BENCH_REPEATS; r++) {
    pthread_t t[2];
    struct pair_job jobs[2];
    int started = 0;
    double start = now_seconds();
    for (; started < threads && started < 2; started++) {
      jobs[started].count = per_thread;
      if (pthread_create(&t[started], NULL, pair_thread, &jobs[started]) != 0)
        return -1;
    }
    for (int i = 0; i < started; i++)
      pthread_join(t[i], NULL);
    double rate = (double)per_thread * started / (now_seconds() - start);
    if (rate > best)
      best = rate;
  }
  return best;
}

/* A valid batch of n writes: every log updates the same leaf (value v_i -> v_i+1) along its own
 * copy of one random 256-entry path, so the roots chain and each log costs two full folds. */
struct batch {
  struct wg_storage_log *logs;
  uint8_t (*paths)[WG_TREE_DEPTH][WG_HASH_LEN];
  size_t n;
  uint8_t prev_root[WG_HASH_LEN];
  uint8_t new_root[WG_HASH_LEN];
};

static int batch_build(struct batch *b, size_t n)
{
  b->n = n;
  b->logs = calloc(n, sizeof *b->logs);
  b->paths = malloc(n * sizeof *b->paths);
  if (b->logs == NULL || b->paths == NULL)
    return -1;
  uint8_t key[WG_HASH_LEN], seed[WG_HASH_LEN] = {0};
  wg_blake2s("bench key", 9, key);
  for (int d = 0; d < WG_TREE_DEPTH; d++) {
    seed[0] = (uint8_t)d;
    seed[1] = (uint8_t)(d >> 8);
    wg_blake2s(seed, sizeof seed, b->paths[0][d]);
  }
  for (size_t i = 0; i < n; i++) {
    struct wg_storage_log *log = &b->logs[i];
    memcpy(b->paths[i], b->paths[0], sizeof b->paths[0]);
    memcpy(log->hashed_key, key, WG_HASH_LEN);
    log->leaf_index = 1;
    log->is_write = true;
    memcpy(log->value_read, &i, sizeof i);
    size_t next = i + 1;
    memcpy(log->value_written, &next, sizeof next);
    log->path = (const uint8_t(*)[WG_HASH_LEN])b->paths[i];
    log->path_len = WG_TREE_DEPTH;
  }
  uint8_t leaf[WG_HASH_LEN];
  wg_tree_leaf_hash(1, b->logs[0].value_read, leaf);
  wg_tree_fold(key, leaf, b->logs[0].path, WG_TREE_DEPTH, b->prev_root);
  wg_tree_leaf_hash(1, b->logs[n - 1].value_written, leaf);
  wg_tree_fold(key, leaf, b->logs[0].path, WG_TREE_DEPTH, b->new_root);
  return 0;
}

static void batch_free(struct batch *b)
{
  free(b->logs);
  free(b->paths);
}

/* Seconds for the fastest of BENCH_REPEATS replays, or a negative value if the replay failed. */
static double replay_seconds(const struct batch *b, int threads)
{
  double best = -1;
  for (int r = 0; r < BENCH_REPEATS; r++) {
    char err[512];
    double start = now_seconds();
    if (!wg_tree_replay(b->prev_root, b->logs, b->n, b->new_root, threads, NULL, err, sizeof err)) {
      fprintf(stderr, "bench_tree: replay failed: %s\n", err);
      return -1;
    }
    double elapsed = now_seconds() - start;
    if (best < 0 || elapsed < best)
      best = elapsed;
  }
  return best;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
  if (n == 0) {
    fprintf(stderr, "usage: %s [logs]\n", argv[0]);
    return EXIT_FAILURE;
  }
  evp_md = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
  evp_ctx = EVP_MD_CTX_new();
  if (evp_md == NULL || evp_ctx == NULL) {
    fprintf(stderr, "bench_tree: OpenSSL has no BLAKE2S-256\n");
    return EXIT_FAILURE;
  }

  (void)wg_tree_empty(0); /* the one-time table is not part of any measurement */
  double raw = pair_rate(pair_ours);
  double evp_reused = pair_rate(pair_evp_reused);
  double evp_oneshot = pair_rate(pair_evp_oneshot);
  printf("BLAKE2s, 64-byte inputs, one core:\n");
  printf("  wg_blake2s_pair (src/tree/blake2s.c)  %12.0f hashes/s   <- raw rate\n", raw);
  printf("  OpenSSL EVP, reused context           %12.0f hashes/s   (%.2fx ours)\n", evp_reused, evp_reused / raw);
  printf("  OpenSSL EVP_Digest, one-shot          %12.0f hashes/s   (%.2fx ours)\n", evp_oneshot, evp_oneshot / raw);
  double raw2 = pair_rate_threads(2, (long)(raw * BENCH_MIN_SECONDS));
  printf("  wg_blake2s_pair on 2 threads at once  %12.0f hashes/s   (%.0f per core)\n", raw2, raw2 / 2);

  struct batch b;
  int status = EXIT_SUCCESS;
  if (batch_build(&b, n) != 0) {
    fprintf(stderr, "bench_tree: out of memory\n");
    status = EXIT_FAILURE;
    goto done;
  }
  /* Two folds of 256 pair hashes and two leaf hashes per write. */
  double hashes = (double)n * 2 * (WG_TREE_DEPTH + 1);
  printf("replay of %zu writes with 256-entry paths:\n", n);
  for (int threads = 1; threads <= 2; threads++) {
    double seconds = replay_seconds(&b, threads);
    if (seconds < 0) {
      status = EXIT_FAILURE;
      break;
    }
    double rate = hashes / seconds;
    printf("  %d thread%s  %8.1f ms  %10.0f logs/s  %12.0f hashes/s  per core %.3f of raw", threads,
           threads == 1 ? " " : "s", seconds * 1e3, (double)n / seconds, rate, rate / threads / raw);
    if (threads == 2)
      printf(", %.3f of raw on 2 threads", rate / raw2);
    printf("\n");
  }
  batch_free(&b);

done:
  EVP_MD_CTX_free(evp_ctx);
  EVP_MD_free(evp_md);
  return status;
}
