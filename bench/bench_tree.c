/* Benchmark of the state tree: the raw BLAKE2s rate on 64-byte inputs (ours and OpenSSL's EVP, the
 * reason src/tree/blake2s.c exists), and the storage log replay with 1 and 2 threads, reported as
 * a fraction of the raw rate per core.
 *
 * The raw rate and the replay are sampled in alternation, each raw sample hashing exactly as many
 * pairs as the replay it is compared with, and the best of each is kept: on a shared machine both
 * then see the same quiet moments, rather than one catching a busy stretch the other missed.
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

#define BENCH_ROUNDS 7
#define MAX_THREADS 2

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Raw hashing: a chain of 64-byte hashes, each output feeding the next input ---------------- */

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

struct pair_job {
  pair_hash_fn fn;
  long count;
  uint8_t block[2 * WG_HASH_LEN];
};

static void *pair_job_run(void *arg)
{
  struct pair_job *job = arg;
  for (long i = 0; i < job->count; i++)
    job->fn(job->block);
  return NULL;
}

/* Aggregate hashes per second of `threads` threads each hashing `per_thread` pairs at once, or a
 * negative value if a thread could not be started. */
static double pair_rate(pair_hash_fn fn, int threads, long per_thread)
{
  pthread_t t[MAX_THREADS];
  struct pair_job jobs[MAX_THREADS];
  int started = 0;
  double start = now_seconds();
  for (int i = 0; i < threads; i++) {
    jobs[i] = (struct pair_job){.fn = fn, .count = per_thread, .block = {(uint8_t)i}};
    if (i == 0)
      continue; /* the first job runs on this thread */
    if (pthread_create(&t[started], NULL, pair_job_run, &jobs[i]) != 0)
      break;
    started++;
  }
  pair_job_run(&jobs[0]);
  for (int i = 0; i < started; i++)
    pthread_join(t[i], NULL);
  double elapsed = now_seconds() - start;
  return started == threads - 1 ? (double)per_thread * threads / elapsed : -1;
}

/* ---- Replay ------------------------------------------------------------------------------------- */

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

/* Seconds for one replay, or a negative value if it failed. */
static double replay_seconds(const struct batch *b, int threads)
{
  char err[512];
  double start = now_seconds();
  if (!wg_tree_replay(b->prev_root, b->logs, b->n, b->new_root, threads, NULL, err, sizeof err)) {
    fprintf(stderr, "bench_tree: replay failed: %s\n", err);
    return -1;
  }
  return now_seconds() - start;
}

static double max_d(double a, double b)
{
  return a > b ? a : b;
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
  struct batch b = {0};
  int status = EXIT_FAILURE;
  if (evp_md == NULL || evp_ctx == NULL) {
    fprintf(stderr, "bench_tree: OpenSSL has no BLAKE2S-256\n");
    goto done;
  }
  if (batch_build(&b, n) != 0) {
    fprintf(stderr, "bench_tree: out of memory\n");
    goto done;
  }

  /* Two folds of 256 pair hashes and two leaf hashes per write: the work of one replay. */
  long hashes = (long)n * 2 * (WG_TREE_DEPTH + 1);
  double raw1 = 0, raw2 = 0, evp_reused = 0, evp_oneshot = 0, replay1 = 0, replay2 = 0;
  for (int r = 0; r < BENCH_ROUNDS; r++) {
    raw1 = max_d(raw1, pair_rate(pair_ours, 1, hashes));
    double s1 = replay_seconds(&b, 1);
    raw2 = max_d(raw2, pair_rate(pair_ours, 2, hashes / 2));
    double s2 = replay_seconds(&b, 2);
    if (s1 < 0 || s2 < 0)
      goto done;
    replay1 = max_d(replay1, (double)hashes / s1);
    replay2 = max_d(replay2, (double)hashes / s2);
    evp_reused = max_d(evp_reused, pair_rate(pair_evp_reused, 1, hashes / 4));
    evp_oneshot = max_d(evp_oneshot, pair_rate(pair_evp_oneshot, 1, hashes / 4));
  }
  if (raw2 < 0) {
    fprintf(stderr, "bench_tree: cannot start a thread\n");
    goto done;
  }

  printf("BLAKE2s of 64 bytes (best of %d samples):\n", BENCH_ROUNDS);
  printf("  wg_blake2s_pair, 1 thread           %11.0f hashes/s            <- raw rate per core\n", raw1);
  printf("  wg_blake2s_pair, 2 threads at once  %11.0f hashes/s  (%.0f per core)\n", raw2, raw2 / 2);
  printf("  OpenSSL EVP, reused context         %11.0f hashes/s  (%.2f x ours)\n", evp_reused, evp_reused / raw1);
  printf("  OpenSSL EVP_Digest, one-shot        %11.0f hashes/s  (%.2f x ours)\n", evp_oneshot, evp_oneshot / raw1);
  printf("replay of %zu writes with 256-entry paths (best of %d):\n", n, BENCH_ROUNDS);
  printf("  1 thread   %8.1f ms  %9.0f logs/s  %11.0f hashes/s  per core %.3f of raw\n",
         (double)hashes / replay1 * 1e3, replay1 / (2 * (WG_TREE_DEPTH + 1)), replay1, replay1 / raw1);
  printf("  2 threads  %8.1f ms  %9.0f logs/s  %11.0f hashes/s  per core %.3f of raw, %.3f of raw on 2 threads\n",
         (double)hashes / replay2 * 1e3, replay2 / (2 * (WG_TREE_DEPTH + 1)), replay2, replay2 / 2 / raw1,
         replay2 / raw2);
  status = EXIT_SUCCESS;

done:
  batch_free(&b);
  EVP_MD_CTX_free(evp_ctx);
  EVP_MD_free(evp_md);
  return status;
}
