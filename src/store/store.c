/* Backend dispatch and the key layout. */
#include "config.h"
#include "store/store_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/histogram.h"
#include "common/strbuf.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/prover_jobs.h"

struct wg_store *wg_store_open(const struct wg_config *cfg, struct wg_db *db, char *err, size_t err_len)
{
  const char *url = cfg->store;
  if (strcmp(url, "postgres") == 0)
    return wg_store_postgres_open(db, err, err_len);
  if (strncmp(url, "file:", 5) == 0 && url[5] != '\0')
    return wg_store_file_open(url + 5, err, err_len);
  if (strncmp(url, "s3://", 5) == 0)
    return wg_store_s3_open(url + 5, cfg, err, err_len);
  snprintf(err, err_len, "store must be file:DIR, postgres or s3://BUCKET/PREFIX, got \"%s\"", url);
  return NULL;
}

enum wg_status wg_store_identity(const char *url, char *out, size_t n)
{
  if (strcmp(url, "postgres") == 0) {
    snprintf(out, n, "postgres");
    return WG_OK;
  }
  if (strncmp(url, "s3://", 5) == 0 && url[5] != '\0' && url[5] != '/') {
    size_t len = strlen(url);
    while (len > 5 && url[len - 1] == '/')
      len--;
    snprintf(out, n, "%.*s", (int)len, url);
    return WG_OK;
  }
  if (strncmp(url, "file:", 5) != 0 || url[5] == '\0') {
    snprintf(out, n, "%s", url);
    return WG_E_INVALID;
  }
  char *real = realpath(url + 5, NULL);
  if (real != NULL) {
    snprintf(out, n, "file:%s", real);
    free(real);
    return WG_OK;
  }
  char cwd[4096];
  if (url[5] != '/' && getcwd(cwd, sizeof cwd) != NULL)
    snprintf(out, n, "file:%s/%s", cwd, url + 5);
  else
    snprintf(out, n, "%s", url);
  return WG_E_NOT_FOUND;
}

enum wg_status wg_store_cache_open(struct wg_store *s, const struct wg_config *cfg, char *err, size_t err_len)
{
  /* The file store is local already; it streams its packs itself. */
  if (s->ops->pack_begin != NULL || s->ops->put_file == NULL)
    return WG_OK;
  s->cache = wg_pack_cache_open(cfg->cache_dir, (uint64_t)cfg->cache_bytes, err, err_len);
  return s->cache != NULL ? WG_OK : WG_E_INVALID;
}

void wg_store_close(struct wg_store *s)
{
  if (s == NULL)
    return;
  wg_pack_cache_close(s->cache);
  s->ops->close(s);
}

/* The calling thread's last failure, for the error of the job or request it served, and whether
 * it may pass within seconds. */
static _Thread_local char thread_reason[256];
static _Thread_local bool thread_transient;
/* Requests the backend tried again inside the current call (wg_store_count_retry). */
static _Thread_local unsigned thread_backend_retries;
/* The round's checkpoint, run between tries of a transient failure; NULL: no retries here. */
static _Thread_local enum wg_status (*thread_pause)(void *arg);
static _Thread_local void *thread_pause_arg;

/* Whether writes succeed, shared by every thread: set by a failed write, cleared by a good one. */
static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;
static bool unwritable;
static char unwritable_reason[256];

static void set_reason_v(const char *fmt, va_list ap)
{
  vsnprintf(thread_reason, sizeof thread_reason, fmt, ap);
}

void wg_store_set_reason(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  set_reason_v(fmt, ap);
  va_end(ap);
}

void wg_store_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  set_reason_v(fmt, ap);
  va_end(ap);
  wg_error("store: %s", thread_reason);
}

const char *wg_store_reason(void) { return thread_reason; }

void wg_store_clear_reason(void)
{
  thread_reason[0] = '\0';
  thread_transient = false;
}

void wg_store_set_transient(void) { thread_transient = true; }

void wg_store_count_retry(void) { thread_backend_retries++; }

void wg_store_set_retry_pause(enum wg_status (*pause)(void *arg), void *arg)
{
  thread_pause = pause;
  thread_pause_arg = arg;
}

bool wg_store_writable(char *reason, size_t n)
{
  pthread_mutex_lock(&health_lock);
  bool ok = !unwritable;
  if (!ok)
    snprintf(reason, n, "%s", unwritable_reason);
  pthread_mutex_unlock(&health_lock);
  return ok;
}

/* Records the outcome of a write to st. A missing blob is no fault of the store. */
static enum wg_status wrote(const struct wg_store *st, enum wg_status s)
{
  if (s == WG_E_NOT_FOUND || st->ops->database_backed)
    return s;
  pthread_mutex_lock(&health_lock);
  if (s == WG_OK) {
    if (unwritable)
      wg_info("store: writable again");
    unwritable = false;
  } else {
    if (!unwritable)
      wg_warn("store: writes fail (%s); /readyz answers 503 until one succeeds",
              thread_reason[0] ? thread_reason : wg_status_name(s));
    unwritable = true;
    snprintf(unwritable_reason, sizeof unwritable_reason, "%s", thread_reason[0] ? thread_reason : wg_status_name(s));
  }
  pthread_mutex_unlock(&health_lock);
  return s;
}

enum wg_status wg_store_probe(struct wg_store *s, const char *name)
{
  /* Only characters every backend takes as they are. */
  char safe[96], key[160];
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < sizeof safe; i++) {
    char ch = name[i];
    bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 ch == '_';
    safe[i] = plain ? ch : '_';
  }
  safe[i] = '\0';
  snprintf(key, sizeof key, "probes/%s/probe", safe);
  /* As large as a small witness pack: after a write failed for want of room, a few bytes may fit
   * again (the failed write's space is freed) while the next pack would not. */
  uint8_t *data = calloc(1, WG_STORE_PROBE_BYTES);
  if (data == NULL)
    return WG_E_INTERNAL;
  enum wg_status st = wg_store_put(s, NULL, key, data, WG_STORE_PROBE_BYTES);
  free(data);
  if (st == WG_OK) {
    snprintf(key, sizeof key, "probes/%s/", safe);
    wg_store_delete_prefix(s, NULL, key);
  }
  return st;
}

/* One try of an operation: its backend call, with the arguments in arg. */
typedef enum wg_status (*store_try_fn)(struct wg_store *s, void *arg);

/* What /metrics shows of the store (wg_store_metrics_render), counted here for every backend. */
enum store_op { STORE_GET, STORE_PUT, STORE_PACK_COMMIT, N_STORE_OPS };
static const char *const op_names[N_STORE_OPS] = {"get", "put", "pack_commit"};
static struct wg_histogram op_durations[N_STORE_OPS];
static atomic_ullong op_retries[N_STORE_OPS], op_failures[N_STORE_OPS], op_errors[N_STORE_OPS];

void wg_store_metrics_render(struct wg_strbuf *b)
{
  wg_strbuf_printf(b, "# HELP wg_store_duration_seconds Object store operations on blobs: reads (get), single"
                      " writes (put) and witness pack commits (pack_commit).\n"
                      "# TYPE wg_store_duration_seconds histogram\n");
  for (int o = 0; o < N_STORE_OPS; o++) {
    char labels[64];
    snprintf(labels, sizeof labels, "op=\"%s\",", op_names[o]);
    wg_histogram_render(b, "wg_store_duration_seconds", labels, &op_durations[o], wg_histogram_fast,
                        WG_HISTOGRAM_N_FAST);
  }
  wg_strbuf_printf(b, "# HELP wg_store_retries_total Object store requests tried again after a transient failure"
                      " (5xx, 429, timeout, reset connection), by the backend within a call or by a round"
                      " across calls.\n"
                      "# TYPE wg_store_retries_total counter\n");
  for (int o = 0; o < N_STORE_OPS; o++)
    wg_strbuf_printf(b, "wg_store_retries_total{op=\"%s\"} %llu\n", op_names[o], atomic_load(&op_retries[o]));
  wg_strbuf_printf(b, "# HELP wg_store_failures_total Object store operations that failed after their retries"
                      " (a missing blob is not a failure).\n"
                      "# TYPE wg_store_failures_total counter\n");
  for (int o = 0; o < N_STORE_OPS; o++)
    wg_strbuf_printf(b, "wg_store_failures_total{op=\"%s\"} %llu\n", op_names[o], atomic_load(&op_failures[o]));
  wg_strbuf_printf(b, "# HELP wg_store_errors_total Object store operations that failed, each try counted (a blob"
                      " not found is not counted), by operation.\n"
                      "# TYPE wg_store_errors_total counter\n");
  for (int o = 0; o < N_STORE_OPS; o++)
    wg_strbuf_printf(b, "wg_store_errors_total{op=\"%s\"} %llu\n", op_names[o], atomic_load(&op_errors[o]));
  wg_pack_cache_metrics_render(b);
}

/* Runs an operation, timed here once per try for /metrics, with the retries of a transient failure
 * (wg_store_set_retry_pause) when retryable: an operation whose try consumes what it writes (a
 * streaming pack's commit) gets one. A write's every try updates whether the store is writable. */
static enum wg_status tried(struct wg_store *st, enum store_op op, bool write, bool retryable, store_try_fn fn,
                            void *arg)
{
  static const long delays_ms[WG_STORE_RETRIES] = WG_STORE_RETRY_DELAYS_MS;
  for (int retry = 0;; retry++) {
    int64_t t = wg_monotonic_us();
    wg_store_clear_reason();
    thread_backend_retries = 0;
    enum wg_status s = fn(st, arg);
    wg_histogram_observe(&op_durations[op], wg_histogram_fast, WG_HISTOGRAM_N_FAST, wg_monotonic_us() - t);
    atomic_fetch_add(&op_retries[op], thread_backend_retries);
    if (write)
      wrote(st, s);
    if (s == WG_OK || s == WG_E_NOT_FOUND)
      return s;
    atomic_fetch_add(&op_errors[op], 1);
    bool may_retry = retryable && s == WG_E_UNAVAILABLE && thread_transient && thread_pause != NULL;
    if (!may_retry || retry == WG_STORE_RETRIES) {
      atomic_fetch_add(&op_failures[op], 1);
      if (may_retry)
        wg_warn("store: %s failed %d times; giving up: %s", op_names[op], retry + 1, thread_reason);
      return s;
    }
    wg_warn("store: %s failed (%s); trying again in %ld ms (retry %d of %d)", op_names[op], thread_reason,
            delays_ms[retry], retry + 1, WG_STORE_RETRIES);
    atomic_fetch_add(&op_retries[op], 1);
    struct timespec ts = {delays_ms[retry] / 1000, (delays_ms[retry] % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    /* The checkpoint touches the database, never the store: the reason stays the store's. */
    enum wg_status p = thread_pause(thread_pause_arg);
    if (p != WG_OK)
      return p;
  }
}

struct put_args {
  struct wg_dbconn *c;
  const char *key;
  const void *data;
  size_t len;
};

static enum wg_status try_put(struct wg_store *s, void *arg)
{
  struct put_args *a = arg;
  return s->ops->put(s, a->c, a->key, a->data, a->len);
}

enum wg_status wg_store_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  struct put_args a = {c, key, data, len};
  return tried(s, STORE_PUT, true, true, try_put, &a);
}

struct get_args {
  struct wg_dbconn *c;
  const char *key;
  uint64_t offset;
  size_t *len; /* NULL: a range of range_len bytes */
  size_t range_len;
  uint8_t **data;
};

static enum wg_status try_get(struct wg_store *s, void *arg)
{
  struct get_args *a = arg;
  if (a->len != NULL)
    return s->ops->get(s, a->c, a->key, a->data, a->len);
  return s->ops->get_range(s, a->c, a->key, a->offset, a->range_len, a->data);
}

enum wg_status wg_store_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  struct get_args a = {c, key, 0, len, 0, data};
  return tried(s, STORE_GET, false, true, try_get, &a);
}

enum wg_status wg_store_get_range(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset,
                                  size_t len, uint8_t **data)
{
  struct get_args a = {c, key, offset, NULL, len, data};
  return tried(s, STORE_GET, false, true, try_get, &a);
}

/* Copies the pack key from the store into the pack cache, FILL_CHUNK bytes a read, after a read
 * missed it; true when it was copied and kept. Any failure leaves the read to the store. */
#define FILL_CHUNK (4u << 20)
static bool fill_cache(struct wg_store *s, struct wg_dbconn *c, const char *key)
{
  if (!wg_pack_cache_keeps(s->cache) || s->ops->size == NULL || !wg_pack_cache_fill_begin(s->cache, key))
    return false;
  /* A pack larger than the cache's bound is not copied (each of its misses costs this look). */
  uint64_t size;
  bool ok = s->ops->size(s, c, key, &size) == WG_OK && wg_pack_cache_fits(s->cache, size);
  char path[4096];
  int fd = ok ? wg_pack_cache_spool(s->cache, path, sizeof path) : -1;
  ok = ok && fd >= 0;
  size_t n;
  for (uint64_t off = 0; ok && off < size; off += n) {
    n = size - off < FILL_CHUNK ? (size_t)(size - off) : FILL_CHUNK;
    uint8_t *d = NULL;
    ok = wg_store_get_range(s, c, key, off, n, &d) == WG_OK;
    for (size_t done = 0; ok && done < n;) {
      ssize_t w = write(fd, d + done, n - done);
      if (w < 0 && errno == EINTR)
        continue;
      ok = w > 0;
      if (ok)
        done += (size_t)w;
    }
    free(d);
  }
  if (fd >= 0)
    close(fd);
  if (ok)
    wg_pack_cache_keep(s->cache, key, path, size);
  else if (fd >= 0)
    unlink(path);
  wg_pack_cache_fill_end(s->cache, key, ok);
  wg_store_clear_reason();
  return ok;
}

enum wg_status wg_store_get_witness(struct wg_store *s, struct wg_dbconn *c, const struct wg_prover_job *j,
                                    uint8_t **data, size_t *len)
{
  char key[160];
  if (j->witness_pack_id == 0 && j->witness_pack < 0) {
    wg_key_witness(key, sizeof key, j->l1_batch_number, j->aggregation_round, j->circuit_id, j->depth,
                   j->sequence_number);
    return wg_store_get(s, c, key, data, len);
  }
  if (j->witness_offset < 0 || j->witness_length < 0)
    return WG_E_NOT_FOUND;
  int circuit = j->aggregation_round == 0 ? 0 : j->circuit_id;
  if (j->witness_pack_id != 0)
    wg_key_pack(key, sizeof key, j->l1_batch_number, j->aggregation_round, circuit, j->depth, j->witness_pack_id);
  else
    wg_key_pack_attempt(key, sizeof key, j->l1_batch_number, j->aggregation_round, circuit, j->depth,
                        j->witness_pack);
  *len = (size_t)j->witness_length;
  if (wg_pack_cache_read(s->cache, key, (uint64_t)j->witness_offset, *len, data) == WG_OK)
    return WG_OK;
  if (fill_cache(s, c, key) && wg_pack_cache_read(s->cache, key, (uint64_t)j->witness_offset, *len, data) == WG_OK)
    return WG_OK;
  return wg_store_get_range(s, c, key, (uint64_t)j->witness_offset, *len, data);
}

/* The pack of a backend that cannot stream: the bytes gather in memory and go out in one put. */
struct buffered_pack {
  struct wg_pack base;
  char *key;
  uint8_t *data;
  size_t cap;
};

static void buffered_abort(struct wg_pack *p)
{
  struct buffered_pack *b = (struct buffered_pack *)p;
  free(b->key);
  free(b->data);
  free(b);
}

static enum wg_status buffered_add(struct wg_pack *p, const void *data, size_t len)
{
  struct buffered_pack *b = (struct buffered_pack *)p;
  if (p->size + len > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < p->size + len)
      cap *= 2;
    uint8_t *bigger = realloc(b->data, cap);
    if (bigger == NULL)
      return WG_E_INTERNAL;
    b->data = bigger;
    b->cap = cap;
  }
  memcpy(b->data + p->size, data, len);
  return WG_OK;
}

/* The bytes stay until the pack is freed, so that a failed put can be tried again. */
static enum wg_status buffered_commit(struct wg_pack *p, struct wg_dbconn *c)
{
  struct buffered_pack *b = (struct buffered_pack *)p;
  struct put_args a = {c, b->key, b->data, (size_t)p->size};
  enum wg_status s = tried(p->store, STORE_PACK_COMMIT, true, true, try_put, &a);
  buffered_abort(p);
  return s;
}

/* The pack of a backend that writes files (put_file), with a pack cache: the bytes go through a
 * small buffer to a spool file in the cache's directory, their digest computed on the way, and
 * the commit has the backend send the file; the pack cache then keeps it (pack_cache.h). */
#define SPOOL_BUFFER (256 * 1024)
struct spooled_pack {
  struct wg_pack base;
  char *key;
  char path[4096];
  int fd;
  EVP_MD_CTX *sha;
  size_t used;
  uint8_t buf[SPOOL_BUFFER];
};

static void spooled_abort(struct wg_pack *p)
{
  struct spooled_pack *sp = (struct spooled_pack *)p;
  if (sp->fd >= 0) {
    close(sp->fd);
    unlink(sp->path);
  }
  EVP_MD_CTX_free(sp->sha);
  free(sp->key);
  free(sp);
}

static enum wg_status spooled_flush(struct spooled_pack *sp)
{
  const uint8_t *d = sp->buf;
  size_t left = sp->used;
  while (left > 0) {
    ssize_t w = write(sp->fd, d, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      wg_store_error("cannot write the spool file %s: %s", sp->path, w < 0 ? strerror(errno) : "no progress");
      return WG_E_UNAVAILABLE;
    }
    d += w;
    left -= (size_t)w;
  }
  sp->used = 0;
  return WG_OK;
}

static enum wg_status spooled_add(struct wg_pack *p, const void *data, size_t len)
{
  struct spooled_pack *sp = (struct spooled_pack *)p;
  if (EVP_DigestUpdate(sp->sha, data, len) != 1)
    return WG_E_INTERNAL;
  const uint8_t *d = data;
  while (len > 0) {
    size_t n = SPOOL_BUFFER - sp->used < len ? SPOOL_BUFFER - sp->used : len;
    memcpy(sp->buf + sp->used, d, n);
    sp->used += n;
    d += n;
    len -= n;
    if (sp->used == SPOOL_BUFFER) {
      enum wg_status s = spooled_flush(sp);
      if (s != WG_OK)
        return s;
    }
  }
  return WG_OK;
}

struct put_file_args {
  struct wg_dbconn *c;
  const char *key;
  int fd;
  uint64_t len;
  const uint8_t *sha256;
};

static enum wg_status try_put_file(struct wg_store *s, void *arg)
{
  struct put_file_args *a = arg;
  return s->ops->put_file(s, a->c, a->key, a->fd, a->len, a->sha256);
}

/* The file stays until the pack is freed, so that a failed send can be tried again. */
static enum wg_status spooled_commit(struct wg_pack *p, struct wg_dbconn *c)
{
  struct spooled_pack *sp = (struct spooled_pack *)p;
  uint8_t digest[32];
  unsigned dlen = 0;
  enum wg_status s = spooled_flush(sp);
  if (s == WG_OK && EVP_DigestFinal_ex(sp->sha, digest, &dlen) != 1)
    s = WG_E_INTERNAL;
  if (s != WG_OK) {
    wrote(p->store, s);
    spooled_abort(p);
    return s;
  }
  struct put_file_args a = {c, sp->key, sp->fd, p->size, digest};
  s = tried(p->store, STORE_PACK_COMMIT, true, true, try_put_file, &a);
  if (s == WG_OK) {
    close(sp->fd);
    sp->fd = -1;
    wg_pack_cache_keep(p->store->cache, sp->key, sp->path, p->size);
  }
  spooled_abort(p);
  return s;
}

static struct wg_pack *spooled_begin(struct wg_store *s, const char *key)
{
  struct spooled_pack *sp = malloc(sizeof *sp);
  if (sp == NULL)
    return NULL;
  sp->base = (struct wg_pack){s, 0, spooled_add, spooled_commit, spooled_abort};
  sp->used = 0;
  sp->key = strdup(key);
  sp->sha = EVP_MD_CTX_new();
  sp->fd = -1;
  if (sp->key == NULL || sp->sha == NULL || EVP_DigestInit_ex(sp->sha, EVP_sha256(), NULL) != 1 ||
      (sp->fd = wg_pack_cache_spool(s->cache, sp->path, sizeof sp->path)) < 0) {
    spooled_abort(&sp->base);
    return NULL;
  }
  return &sp->base;
}

struct wg_pack *wg_pack_begin(struct wg_store *s, const char *key)
{
  wg_store_clear_reason();
  if (s->ops->pack_begin != NULL || (s->cache != NULL && s->ops->put_file != NULL)) {
    struct wg_pack *p = s->ops->pack_begin != NULL ? s->ops->pack_begin(s, key) : spooled_begin(s, key);
    if (p == NULL)
      wrote(s, WG_E_UNAVAILABLE);
    return p;
  }
  struct buffered_pack *b = calloc(1, sizeof *b);
  if (b == NULL || (b->key = strdup(key)) == NULL) {
    free(b);
    return NULL;
  }
  b->base = (struct wg_pack){s, 0, buffered_add, buffered_commit, buffered_abort};
  return &b->base;
}

enum wg_status wg_pack_add(struct wg_pack *p, const void *data, size_t len, uint64_t *offset)
{
  *offset = p->size;
  enum wg_status s = p->add(p, data, len);
  if (s == WG_OK)
    p->size += len;
  else
    wrote(p->store, s);
  return s;
}

struct stream_commit_args {
  struct wg_pack *p;
  struct wg_dbconn *c;
};

static enum wg_status try_stream_commit(struct wg_store *s, void *arg)
{
  (void)s;
  struct stream_commit_args *a = arg;
  return a->p->commit(a->p, a->c);
}

enum wg_status wg_pack_commit(struct wg_pack *p, struct wg_dbconn *c)
{
  if (p->commit == buffered_commit || p->commit == spooled_commit)
    return p->commit(p, c);
  /* A streaming backend's commit consumes the pack: one try. */
  struct stream_commit_args a = {p, c};
  return tried(p->store, STORE_PACK_COMMIT, true, false, try_stream_commit, &a);
}

void wg_pack_abort(struct wg_pack *p)
{
  if (p != NULL)
    p->abort(p);
}

enum wg_status wg_store_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix)
{
  wg_pack_cache_drop_prefix(s->cache, prefix);
  return s->ops->delete_prefix(s, c, prefix);
}

void wg_key_batch_prefix(char *out, size_t n, int64_t batch) { snprintf(out, n, "batches/%" PRId64 "/", batch); }

void wg_key_round_prefix(char *out, size_t n, int64_t batch, int round)
{
  snprintf(out, n, "batches/%" PRId64 "/r%d/", batch, round);
}

void wg_key_input(char *out, size_t n, int64_t batch, const uint8_t sha256[32])
{
  /* Named by content, so a racing upload of a different body cannot overwrite the stored one. */
  char hex[65];
  wg_hex_encode(sha256, 32, hex);
  snprintf(out, n, "batches/%" PRId64 "/input-%.16s.json", batch, hex);
}

void wg_key_witness(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t sequence)
{
  snprintf(out, n, "batches/%" PRId64 "/r%d/c%d/d%d/s%" PRId64 ".wit", batch, round, circuit_id, depth, sequence);
}

void wg_key_pack(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int64_t pack_id)
{
  snprintf(out, n, "batches/%" PRId64 "/r%d/c%d/d%d/p%016" PRIx64 ".pack", batch, round, circuit_id, depth,
           (uint64_t)pack_id);
}

void wg_key_pack_attempt(char *out, size_t n, int64_t batch, int round, int circuit_id, int depth, int attempt)
{
  snprintf(out, n, "batches/%" PRId64 "/r%d/c%d/d%d/a%d.pack", batch, round, circuit_id, depth, attempt);
}

bool wg_pack_id_new(int64_t *pack_id)
{
  uint64_t v;
  if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
    return false;
  *pack_id = (int64_t)((v & INT64_MAX) | 1); /* positive and never 0, which means "no pack id" */
  return true;
}
