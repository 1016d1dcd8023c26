/* The daemon's cache of active token hashes. Every lookup scans all entries with a constant-time
 * comparison, so response timing tells nothing about which hash bytes matched.
 *
 * The table is read again when it is a second old, or at once when a token was added or revoked:
 * the cache's connection LISTENs on WG_TOKENS_CHANNEL, and wgctl's changes notify it. An unknown
 * token never causes a read by itself, so a flood of made-up tokens costs at most one read a
 * second; its hash goes into a small negative cache (negative_cache.h) that spares repeats the
 * scan until the next read.
 *
 * Nothing slow happens under the lock: one lookup at a time becomes the reloader, which connects
 * and reads without the lock and swaps the new table in under it; lookups that need the new table
 * wait on a condition (bounded, then 503), the others go on with the current one. Reloads use a
 * connection of their own, made by wg_db_connect (so with the pool's keepalives): taken from the
 * HTTP pool, a reload would wait for handlers to give one back. */
#include "config.h"
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/negative_cache.h"
#include "common/clock.h"
#include "db/db.h"
#include "db/tokens.h"

#define CACHE_TTL_MS 1000
#define NEGATIVE_TTL_MS 1000
#define RETRY_AFTER_FAILURE_MS 1000
#define WAIT_FOR_RELOAD_MS 2000 /* then 503, as when the database is down */

struct wg_auth {
  char *conninfo;
  pthread_mutex_t lock;
  pthread_cond_t reloaded; /* broadcast when a reload ends */
  /* Under the lock: */
  struct wg_token_entry *entries;
  size_t n;
  int64_t loaded_ms;  /* 0: never loaded */
  int64_t failed_ms;  /* the last reload that could not reach the database */
  bool reloading;     /* a lookup is reloading; conn is its own until it ends */
  bool changed;       /* a token change was notified since the last reload began */
  long long reloads;  /* successful reads of the token table, for /metrics */
  struct wg_negative_cache negative;
  /* Used by the reloader without the lock, and by lookups under it when no reload runs. */
  struct wg_dbconn *conn; /* NULL until the first reload, or after a failed connect */
  bool listening;
};

struct wg_auth *wg_auth_new(const char *conninfo)
{
  struct wg_auth *a = calloc(1, sizeof *a);
  if (a == NULL)
    return NULL;
  a->conninfo = strdup(conninfo);
  pthread_mutex_init(&a->lock, NULL);
  pthread_cond_init(&a->reloaded, NULL);
  return a;
}

void wg_auth_free(struct wg_auth *a)
{
  if (a == NULL)
    return;
  pthread_cond_destroy(&a->reloaded);
  pthread_mutex_destroy(&a->lock);
  wg_db_disconnect(a->conn);
  free(a->conninfo);
  free(a->entries);
  free(a);
}

long long wg_auth_reloads(struct wg_auth *a)
{
  pthread_mutex_lock(&a->lock);
  long long n = a->reloads;
  pthread_mutex_unlock(&a->lock);
  return n;
}

/* Called without the lock, by the one lookup that set a->reloading. Notifications that arrived
 * before the read are consumed first: any later one is seen by a later lookup. */
static enum wg_status read_tokens(struct wg_auth *a, struct wg_token_entry **entries, size_t *n)
{
  if (a->conn == NULL) {
    a->conn = wg_db_connect(a->conninfo, NULL, 0);
    a->listening = false;
  } else if (!wg_db_check(a->conn)) {
    wg_db_reconnect(a->conn, a->conninfo);
    a->listening = false;
  }
  if (a->conn == NULL || a->conn->broken)
    return WG_E_UNAVAILABLE;
  /* Without the notifications a change is still seen within CACHE_TTL_MS. */
  if (!a->listening)
    a->listening = wg_tokens_listen(a->conn) == WG_OK;
  if (a->listening && PQconsumeInput(a->conn->pg)) {
    PGnotify *note;
    while ((note = PQnotifies(a->conn->pg)) != NULL)
      PQfreemem(note);
  }
  return wg_tokens_active(a->conn, entries, n);
}

/* Called with the lock held and no reload running: whether a token change was notified. Reads
 * only what already arrived on the socket (libpq's sockets do not block). */
static bool change_notified(struct wg_auth *a)
{
  if (a->conn == NULL || a->conn->broken || !a->listening)
    return false;
  if (!PQconsumeInput(a->conn->pg)) {
    a->conn->broken = true; /* the next reload reconnects */
    return false;
  }
  bool changed = false;
  PGnotify *note;
  while ((note = PQnotifies(a->conn->pg)) != NULL) {
    changed = true;
    PQfreemem(note);
  }
  return changed;
}

/* Called with the lock held; returns with it held. */
static void reload(struct wg_auth *a)
{
  a->reloading = true;
  a->changed = false;
  pthread_mutex_unlock(&a->lock);
  struct wg_token_entry *entries = NULL;
  size_t n = 0;
  enum wg_status s = read_tokens(a, &entries, &n);
  pthread_mutex_lock(&a->lock);
  a->reloading = false;
  if (s == WG_OK) {
    free(a->entries);
    a->entries = entries;
    a->n = n;
    a->loaded_ms = wg_monotonic_ms();
    a->failed_ms = 0;
    a->reloads++;
    /* A token found unknown before may have been added since. */
    wg_negative_cache_clear(&a->negative);
  } else {
    free(entries);
    a->failed_ms = wg_monotonic_ms();
  }
  pthread_cond_broadcast(&a->reloaded);
}

static const struct wg_token_entry *find(const struct wg_auth *a, const uint8_t hash[32])
{
  const struct wg_token_entry *found = NULL;
  for (size_t i = 0; i < a->n; i++)
    if (CRYPTO_memcmp(a->entries[i].sha256, hash, 32) == 0)
      found = &a->entries[i];
  return found;
}

enum wg_status wg_auth_lookup(struct wg_auth *a, const char *token, enum wg_role *role, char *name, size_t name_len)
{
  uint8_t hash[32];
  wg_token_hash(token, hash);
  struct timespec deadline = wg_deadline_after_ms(WAIT_FOR_RELOAD_MS);
  enum wg_status s = WG_OK;
  const struct wg_token_entry *e = NULL;
  pthread_mutex_lock(&a->lock);
  for (;;) {
    if (!a->reloading && change_notified(a))
      a->changed = true;
    int64_t now = wg_monotonic_ms();
    if (a->loaded_ms != 0 && now - a->loaded_ms <= CACHE_TTL_MS && !a->changed) {
      if (!wg_negative_cache_hit(&a->negative, hash, now) && (e = find(a, hash)) == NULL)
        wg_negative_cache_add(&a->negative, hash, now, NEGATIVE_TTL_MS);
      break;
    }
    /* While the database is unreachable, one attempt a second: lookups meanwhile are answered
     * 503 at once instead of each waiting for a connection attempt. */
    if (!a->reloading && a->failed_ms != 0 && now - a->failed_ms < RETRY_AFTER_FAILURE_MS) {
      s = WG_E_UNAVAILABLE;
      break;
    }
    if (!a->reloading) {
      reload(a);
      if (a->failed_ms != 0) {
        s = WG_E_UNAVAILABLE;
        break;
      }
      continue;
    }
    if (pthread_cond_timedwait(&a->reloaded, &a->lock, &deadline) != 0 && a->reloading) {
      s = WG_E_UNAVAILABLE;
      break;
    }
  }
  *role = e != NULL ? e->role : WG_ROLE_NONE;
  /* Copied under the lock: a reload frees the entries. */
  if (name != NULL && name_len > 0)
    snprintf(name, name_len, "%s", e != NULL ? e->name : "");
  pthread_mutex_unlock(&a->lock);
  return s;
}
