/* The object store: inputs and witness packs, behind one interface with three backends
 * (docs/command-line.md): "file:DIR" (atomic writes: temp file, fsync, rename), "postgres" (the
 * blobs table, shared by daemons on several machines) and "s3://BUCKET/PREFIX" (an S3-compatible
 * bucket, shared likewise). Proofs are not blobs: they are stored with
 * their job in the database (db/prover_jobs.c).
 *
 * A round writes the witnesses of a layer as one pack: a single blob, made durable with a single
 * flush however many circuits it holds; each prover job records the offset and length of its
 * witness in the pack (db/prover_jobs.c), and a witness download reads just that slice. Keys are
 * paths such as "batches/42/r0/c0/d0/p1f2e3d4c5b6a7980.pack", named by a random id that the run of
 * the round draws (wg_pack_id_new): a retried round, a batch uploaded again after a delete, a
 * restarted one and a round run again after a failover that lost commits each write packs of
 * their own, never a key written before. */
#ifndef WG_STORE_H
#define WG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct wg_config;
struct wg_db;
struct wg_dbconn;
struct wg_store;

/* The error text of a job failed by WG_E_DENIED. */
#define WG_STORE_DENIED_REASON "the object store refused access (403): check the credentials and bucket policy"

struct wg_blob {
  char *key;
  uint8_t *data;
  size_t len;
};

/* Opens cfg->store: "file:DIR" (creating DIR), "postgres" (using db's connections) or
 * "s3://BUCKET/PREFIX" (with cfg's s3 options). NULL on failure, with the reason in err.
 *
 * Every operation returns WG_E_UNAVAILABLE for what may pass (retry later) and, from the s3
 * backend, WG_E_DENIED when the store refuses access, which retrying cannot cure. */
struct wg_store *wg_store_open(const struct wg_config *cfg, struct wg_db *db, char *err, size_t err_len);
/* Gives an s3:// or postgres store its local pack cache (store/pack_cache.h) in cfg->cache_dir,
 * bounded by cfg->cache_bytes: the daemon calls it once after wg_store_open (wgctl does not, so
 * that it never touches a running daemon's cache). Nothing for the file store. WG_E_INVALID,
 * with the reason in err, when the directory cannot be used. */
enum wg_status wg_store_cache_open(struct wg_store *s, const struct wg_config *cfg, char *err, size_t err_len);
void wg_store_close(struct wg_store *s);

/* The identity of a store URL, one string for every spelling of one store, which the daemons
 * record in the database at start (db/store_config.h) and wgctl compares: "file:" and the
 * directory's absolute path with symbolic links resolved, "postgres", or "s3://BUCKET/PREFIX"
 * without trailing slashes. Creates nothing. WG_E_NOT_FOUND when a file store's directory does not
 * exist (*out then holds its absolute path as spelt), WG_E_INVALID for a URL that is no store. */
enum wg_status wg_store_identity(const char *url, char *out, size_t n);

/* Each call may pass the caller's own database connection c (the postgres backend then uses it,
 * outside any transaction the caller has open); with c NULL a pooled connection is used. A caller
 * that already holds a pooled connection must pass it: taking a second one from the same pool
 * could wait for ever when every connection is held that way. */
enum wg_status wg_store_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len);
/* *data is malloc'd (and NUL-terminated). WG_E_NOT_FOUND when the key is absent. */
enum wg_status wg_store_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len);
/* len bytes at offset of a blob; WG_E_NOT_FOUND when the key is absent or shorter than that. */
enum wg_status wg_store_get_range(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset,
                                  size_t len, uint8_t **data);

/* The witness blob of a prover job: its slice of its layer's pack, or its own blob for a job
 * written before packs. */
struct wg_prover_job;
enum wg_status wg_store_get_witness(struct wg_store *s, struct wg_dbconn *c, const struct wg_prover_job *job,
                                    uint8_t **data, size_t *len);

/* Writing a pack: begin, add each witness (its offset in the pack comes back), then commit, which
 * makes the whole pack durable at once and frees it (retrying a transient failure while the
 * thread has a retry pause); abort frees it and leaves nothing behind.
 * Backends that can stream (file) keep only a small buffer, so memory does not grow with the
 * batch; so do s3 and postgres with a pack cache (wg_store_cache_open), whose directory spools
 * the pack and then keeps it for the witness downloads. */
struct wg_pack;
struct wg_pack *wg_pack_begin(struct wg_store *s, const char *key);
enum wg_status wg_pack_add(struct wg_pack *p, const void *data, size_t len, uint64_t *offset);
enum wg_status wg_pack_commit(struct wg_pack *p, struct wg_dbconn *c);
void wg_pack_abort(struct wg_pack *p);
/* Removes every blob whose key starts with prefix. */
enum wg_status wg_store_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix);

/* Why the calling thread's last failed store operation failed, as the backend saw it: the
 * errno text of the file store ("cannot write …: No space left on device"), the HTTP status or
 * curl error of s3; "" when none failed since wg_store_clear_reason. A round worker clears it
 * when it claims a job and stores it in the job's error when the round stops. */
const char *wg_store_reason(void);
void wg_store_clear_reason(void);

/* Retries inside the round. A round that has run for minutes must not be thrown away, its job
 * given back with a backoff, because the store failed for a few seconds: with a pause set, the
 * calling thread's reads (get, get_range, get_witness) and writes (put, pack commit) that fail
 * for a transient reason (wg_store_set_transient: S3 5xx, 429, timeouts, reset connections, each
 * already retried for up to 4 s by the backend) are tried again up to WG_STORE_RETRIES times,
 * WG_STORE_RETRY_DELAYS_MS apart, about 15 s at most in all; pause runs between the tries (the
 * round's checkpoint: it keeps the lease and stops the retries on shutdown or a lost lease, its
 * status then returned). Past the last try the operation fails with the store's reason as before.
 * Full disks (ENOSPC), refusals (403) and a lost database are not transient: they go to the job's
 * backoff at once. pause NULL turns retries off (the default: HTTP handlers answer at once). */
#define WG_STORE_RETRIES 3
#define WG_STORE_RETRY_DELAYS_MS {200, 800, 2000}
void wg_store_set_retry_pause(enum wg_status (*pause)(void *arg), void *arg);

/* Appends the store's metrics, counted here for every backend, to a /metrics scrape:
 * wg_store_duration_seconds{op} (each try of an operation), wg_store_retries_total{op} and
 * wg_store_failures_total{op}. */
struct wg_strbuf;
void wg_store_metrics_render(struct wg_strbuf *b);

/* Whether the store could be written, as its last write (by any thread) or probe found: false,
 * with the reason copied to reason, after a write failed, until one succeeds. Cheap (a mutex and
 * a copy): /readyz reads it without touching the store. */
bool wg_store_writable(char *reason, size_t n);
/* Writes and removes an object of WG_STORE_PROBE_BYTES named for this daemon (probes/NAME/),
 * which updates that state; the store prober (store/prober.c) calls it while the store is not
 * writable. */
#define WG_STORE_PROBE_BYTES (1024 * 1024)
enum wg_status wg_store_probe(struct wg_store *s, const char *name);

/* The deterministic keys of the project. */
void wg_key_input(char *out, size_t n, int64_t batch, const uint8_t sha256[32]);
/* The blob of one circuit's witness, for rows written before packs (witness_pack NULL). */
void wg_key_witness(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t sequence);
/* The pack of one layer: the basic round's single pack has circuit_id 0 (it holds every type). */
void wg_key_pack(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t pack_id);
/* The key of a pack written before pack ids, named by the attempt of the witness job. */
void wg_key_pack_attempt(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int attempt);
/* A new random pack id (never 0). False if the random source fails. */
bool wg_pack_id_new(int64_t *pack_id);
void wg_key_batch_prefix(char *out, size_t n, int64_t batch);
/* Every blob a round derived for a batch (its packs and witnesses); the input is outside it. */
void wg_key_round_prefix(char *out, size_t n, int64_t batch, int round);

#endif
