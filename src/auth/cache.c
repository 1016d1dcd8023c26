/* The daemon's cache of active token hashes. Every lookup scans all entries with a constant-time
 * comparison, so response timing tells nothing about which hash bytes matched.
 *
 * Reloads use a connection of their own: taken from the HTTP pool, a reload under the global lock
 * would wait for handlers to give one back, and every request behind the lock would wait too. */
#include "config.h"
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "db/db.h"
#include "db/tokens.h"

#define CACHE_TTL_MS 1000
#define MISS_RELOAD_MS 100 /* a token just added is seen after at most this long */

struct wg_auth {
  char *conninfo;
  struct wg_dbconn *conn; /* NULL until the first reload, or after a failed connect */
  pthread_mutex_t lock;
  struct wg_token_entry *entries;
  size_t n;
  int64_t loaded_ms; /* 0: never loaded */
  int64_t failed_ms; /* the last reload that could not reach the database */
};

struct wg_auth *wg_auth_new(const char *conninfo)
{
  struct wg_auth *a = calloc(1, sizeof *a);
  a->conninfo = strdup(conninfo);
  pthread_mutex_init(&a->lock, NULL);
  return a;
}

void wg_auth_free(struct wg_auth *a)
{
  if (a == NULL)
    return;
  pthread_mutex_destroy(&a->lock);
  wg_db_disconnect(a->conn);
  free(a->conninfo);
  free(a->entries);
  free(a);
}

/* Called with the lock held. While the database is unreachable, one attempt a second: the
 * requests queued behind the lock are answered 503 at once instead of each waiting to connect. */
static enum wg_status reload(struct wg_auth *a)
{
  if (a->failed_ms != 0 && wg_monotonic_ms() - a->failed_ms < 1000)
    return WG_E_UNAVAILABLE;
  if (a->conn == NULL)
    a->conn = wg_db_connect(a->conninfo, NULL, 0);
  else if (!wg_db_check(a->conn))
    wg_db_reconnect(a->conn, a->conninfo);
  if (a->conn == NULL || a->conn->broken) {
    a->failed_ms = wg_monotonic_ms();
    return WG_E_UNAVAILABLE;
  }
  struct wg_token_entry *entries = NULL;
  size_t n = 0;
  enum wg_status s = wg_tokens_active(a->conn, &entries, &n);
  if (s != WG_OK) {
    a->failed_ms = wg_monotonic_ms();
    return s;
  }
  a->failed_ms = 0;
  free(a->entries);
  a->entries = entries;
  a->n = n;
  a->loaded_ms = wg_monotonic_ms();
  return WG_OK;
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
  pthread_mutex_lock(&a->lock);
  enum wg_status s = WG_OK;
  int64_t age = wg_monotonic_ms() - a->loaded_ms;
  if (a->loaded_ms == 0 || age > CACHE_TTL_MS)
    s = reload(a);
  const struct wg_token_entry *e = s == WG_OK ? find(a, hash) : NULL;
  if (s == WG_OK && e == NULL && wg_monotonic_ms() - a->loaded_ms > MISS_RELOAD_MS) {
    s = reload(a);
    e = s == WG_OK ? find(a, hash) : NULL;
  }
  *role = e != NULL ? e->role : WG_ROLE_NONE;
  /* Copied under the lock: a reload frees the entries. */
  if (name != NULL && name_len > 0)
    snprintf(name, name_len, "%s", e != NULL ? e->name : "");
  pthread_mutex_unlock(&a->lock);
  return s;
}
