/* The local pack cache (pack_cache.h): an index of the kept packs in memory, least recently used
 * first out, over files named for their keys in one directory. */
#include "config.h"
#include "store/pack_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "store/store_backend.h"

#define CACHE_FILE_MODE 0600
#define CACHE_DIR_MODE 0700
/* Every file the cache makes starts with one of these; only these are removed at start, so a
 * --cache-dir pointed at a directory holding other files loses none of them. */
#define PACK_PREFIX "pack-"
#define SPOOL_PREFIX "spool-"

struct cache_entry {
  char *key;
  uint64_t size;
  uint64_t last_use; /* the cache's use counter at the last read or keep */
};

struct wg_pack_cache {
  char *dir;
  uint64_t max_bytes;
  int lock_fd;
  pthread_mutex_t lock;
  struct cache_entry *entries; /* unordered; packs are few (one per layer and round) */
  size_t n, cap;
  uint64_t bytes; /* sum of the entries' sizes */
  uint64_t clock;
  unsigned long spool_counter;
  char **filling; /* keys being copied in from the store (wg_pack_cache_fill_begin) */
  size_t n_filling, cap_filling;
};

static atomic_ullong hits, misses, evictions, invalid, fills;
static atomic_ullong cached_bytes;

/* The file name of a key: "pack-" and the key with '/' as '_' (keys are our own: letters,
 * digits, '/', '.' and '-', never '_', so the mapping is one to one). */
static bool file_of(const struct wg_pack_cache *pc, const char *key, char *out, size_t n)
{
  int w = snprintf(out, n, "%s/" PACK_PREFIX, pc->dir);
  if (w < 0 || (size_t)w >= n)
    return false;
  size_t used = (size_t)w;
  for (const char *p = key; *p; p++) {
    if (used + 2 > n || *p == '_' || (p == key && *p == '.'))
      return false;
    out[used++] = *p == '/' ? '_' : *p;
  }
  out[used] = '\0';
  return strstr(key, "..") == NULL;
}

/* Removes the files a previous run left (see pack_cache.h: they are not trusted). */
static bool empty_dir(const char *dir, char *err, size_t err_len)
{
  DIR *d = opendir(dir);
  if (d == NULL) {
    snprintf(err, err_len, "cannot read the cache directory %s: %s", dir, strerror(errno));
    return false;
  }
  struct dirent *e;
  unsigned removed = 0;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, PACK_PREFIX, strlen(PACK_PREFIX)) != 0 &&
        strncmp(e->d_name, SPOOL_PREFIX, strlen(SPOOL_PREFIX)) != 0)
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
      snprintf(err, err_len, "cannot remove %s/%s from the cache directory: %s", dir, e->d_name, strerror(errno));
      closedir(d);
      return false;
    }
    removed++;
  }
  closedir(d);
  if (removed > 0)
    wg_info("pack cache: removed %u files of a previous run from %s", removed, dir);
  return true;
}

struct wg_pack_cache *wg_pack_cache_open(const char *dir, uint64_t max_bytes, char *err, size_t err_len)
{
  if (dir == NULL || dir[0] == '\0') {
    snprintf(err, err_len, "cache-dir is empty");
    return NULL;
  }
  /* The parents first (the default ./var/cache/INSTANCE may have none yet), 0700 like it. */
  char parents[4096];
  snprintf(parents, sizeof parents, "%s", dir);
  for (char *p = parents + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(parents, CACHE_DIR_MODE) != 0 && errno != EEXIST) {
      snprintf(err, err_len, "cannot create %s for the cache directory: %s", parents, strerror(errno));
      return NULL;
    }
    *p = '/';
  }
  if (mkdir(dir, CACHE_DIR_MODE) == 0) {
    if (chmod(dir, CACHE_DIR_MODE) != 0) {
      snprintf(err, err_len, "cannot set the mode of the cache directory %s: %s", dir, strerror(errno));
      return NULL;
    }
  } else if (errno != EEXIST) {
    snprintf(err, err_len, "cannot create the cache directory %s: %s", dir, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, err_len, "cache-dir %s is not a directory", dir);
    return NULL;
  }
  if ((st.st_mode & 077) != 0 && chmod(dir, CACHE_DIR_MODE) != 0) {
    snprintf(err, err_len, "cannot set the mode of the cache directory %s: %s", dir, strerror(errno));
    return NULL;
  }
  struct wg_pack_cache *pc = calloc(1, sizeof *pc);
  if (pc == NULL || (pc->dir = strdup(dir)) == NULL) {
    free(pc);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  pc->max_bytes = max_bytes;
  pthread_mutex_init(&pc->lock, NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/.lock", dir);
  pc->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, CACHE_FILE_MODE);
  if (pc->lock_fd < 0) {
    snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
    goto fail;
  }
  if (flock(pc->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(err, err_len, "the cache directory %s is in use by another process (%s): give each daemon its own "
             "cache-dir", dir, strerror(errno));
    goto fail;
  }
  if (!empty_dir(dir, err, err_len))
    goto fail;
  atomic_store(&cached_bytes, 0);
  wg_info("pack cache: %s, at most %llu bytes%s", dir, (unsigned long long)max_bytes,
          max_bytes == 0 ? " (spooling only: no pack is kept)" : "");
  return pc;
fail:
  wg_pack_cache_close(pc);
  return NULL;
}

void wg_pack_cache_close(struct wg_pack_cache *pc)
{
  if (pc == NULL)
    return;
  for (size_t i = 0; i < pc->n; i++)
    free(pc->entries[i].key);
  free(pc->entries);
  for (size_t i = 0; i < pc->n_filling; i++)
    free(pc->filling[i]);
  free(pc->filling);
  if (pc->lock_fd >= 0)
    close(pc->lock_fd); /* releases the flock */
  pthread_mutex_destroy(&pc->lock);
  free(pc->dir);
  free(pc);
}

int wg_pack_cache_spool(struct wg_pack_cache *pc, char *path, size_t n)
{
  pthread_mutex_lock(&pc->lock);
  unsigned long id = ++pc->spool_counter;
  pthread_mutex_unlock(&pc->lock);
  if (snprintf(path, n, "%s/" SPOOL_PREFIX "%ld-%lu", pc->dir, (long)getpid(), id) >= (int)n) {
    wg_store_error("cache directory path too long: %s", pc->dir);
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, CACHE_FILE_MODE);
  if (fd < 0) {
    wg_store_error("cannot create the spool file %s: %s", path, strerror(errno));
    return -1;
  }
  if (fchmod(fd, CACHE_FILE_MODE) != 0) {
    wg_store_error("cannot set the mode of %s: %s", path, strerror(errno));
    close(fd);
    unlink(path);
    return -1;
  }
  return fd;
}

static ssize_t find(const struct wg_pack_cache *pc, const char *key)
{
  for (size_t i = 0; i < pc->n; i++)
    if (strcmp(pc->entries[i].key, key) == 0)
      return (ssize_t)i;
  return -1;
}

/* Removes entry i and its file; the caller holds the lock. */
static void remove_entry(struct wg_pack_cache *pc, size_t i)
{
  char path[4096];
  if (file_of(pc, pc->entries[i].key, path, sizeof path) && unlink(path) != 0 && errno != ENOENT)
    wg_warn("pack cache: cannot remove %s: %s", path, strerror(errno));
  pc->bytes -= pc->entries[i].size;
  free(pc->entries[i].key);
  pc->entries[i] = pc->entries[--pc->n];
  atomic_store(&cached_bytes, pc->bytes);
}

void wg_pack_cache_keep(struct wg_pack_cache *pc, const char *key, const char *path, uint64_t size)
{
  char final[4096];
  if (size > pc->max_bytes || !file_of(pc, key, final, sizeof final)) {
    unlink(path);
    return;
  }
  pthread_mutex_lock(&pc->lock);
  ssize_t old = find(pc, key);
  if (old >= 0)
    remove_entry(pc, (size_t)old);
  /* Room first, so that the kept packs never exceed the bound, even for a moment. */
  while (pc->bytes + size > pc->max_bytes && pc->n > 0) {
    size_t lru = 0;
    for (size_t i = 1; i < pc->n; i++)
      if (pc->entries[i].last_use < pc->entries[lru].last_use)
        lru = i;
    remove_entry(pc, lru);
    atomic_fetch_add(&evictions, 1);
  }
  bool ok = false;
  if (pc->n == pc->cap) {
    size_t cap = pc->cap ? pc->cap * 2 : 64;
    struct cache_entry *bigger = realloc(pc->entries, cap * sizeof *bigger);
    if (bigger != NULL) {
      pc->entries = bigger;
      pc->cap = cap;
    }
  }
  char *k = pc->n < pc->cap ? strdup(key) : NULL;
  if (k != NULL && rename(path, final) == 0) {
    pc->entries[pc->n++] = (struct cache_entry){k, size, ++pc->clock};
    pc->bytes += size;
    atomic_store(&cached_bytes, pc->bytes);
    ok = true;
  } else {
    free(k);
  }
  pthread_mutex_unlock(&pc->lock);
  if (!ok) {
    wg_warn("pack cache: cannot keep %s: %s", key, strerror(errno));
    unlink(path);
  }
}

bool wg_pack_cache_keeps(const struct wg_pack_cache *pc) { return pc != NULL && pc->max_bytes > 0; }

bool wg_pack_cache_fits(const struct wg_pack_cache *pc, uint64_t size)
{
  return wg_pack_cache_keeps(pc) && size <= pc->max_bytes;
}

bool wg_pack_cache_fill_begin(struct wg_pack_cache *pc, const char *key)
{
  if (!wg_pack_cache_keeps(pc))
    return false;
  bool go = false;
  pthread_mutex_lock(&pc->lock);
  bool busy = find(pc, key) >= 0;
  for (size_t i = 0; !busy && i < pc->n_filling; i++)
    busy = strcmp(pc->filling[i], key) == 0;
  if (!busy && pc->n_filling == pc->cap_filling) {
    size_t cap = pc->cap_filling ? pc->cap_filling * 2 : 8;
    char **bigger = realloc(pc->filling, cap * sizeof *bigger);
    if (bigger != NULL) {
      pc->filling = bigger;
      pc->cap_filling = cap;
    }
  }
  if (!busy && pc->n_filling < pc->cap_filling && (pc->filling[pc->n_filling] = strdup(key)) != NULL) {
    pc->n_filling++;
    go = true;
  }
  pthread_mutex_unlock(&pc->lock);
  return go;
}

void wg_pack_cache_fill_end(struct wg_pack_cache *pc, const char *key, bool copied)
{
  pthread_mutex_lock(&pc->lock);
  for (size_t i = 0; i < pc->n_filling; i++)
    if (strcmp(pc->filling[i], key) == 0) {
      free(pc->filling[i]);
      pc->filling[i] = pc->filling[--pc->n_filling];
      break;
    }
  pthread_mutex_unlock(&pc->lock);
  if (copied)
    atomic_fetch_add(&fills, 1);
}

/* Drops key's entry (and its file) when it is still the one of that size: a reader found it
 * wrong. */
static void drop_invalid(struct wg_pack_cache *pc, const char *key, uint64_t size, const char *why)
{
  wg_warn("pack cache: %s: %s; dropped, read from the store", key, why);
  atomic_fetch_add(&invalid, 1);
  pthread_mutex_lock(&pc->lock);
  ssize_t i = find(pc, key);
  if (i >= 0 && pc->entries[i].size == size)
    remove_entry(pc, (size_t)i);
  pthread_mutex_unlock(&pc->lock);
}

enum wg_status wg_pack_cache_read(struct wg_pack_cache *pc, const char *key, uint64_t offset, size_t len,
                                  uint8_t **data)
{
  char path[4096];
  if (pc == NULL || pc->max_bytes == 0 || !file_of(pc, key, path, sizeof path))
    return WG_E_NOT_FOUND;
  pthread_mutex_lock(&pc->lock);
  ssize_t i = find(pc, key);
  uint64_t size = 0;
  if (i >= 0) {
    pc->entries[i].last_use = ++pc->clock;
    size = pc->entries[i].size;
  }
  pthread_mutex_unlock(&pc->lock);
  if (i < 0 || offset > size || len > size - offset) {
    atomic_fetch_add(&misses, 1);
    return WG_E_NOT_FOUND;
  }
  /* Opened after the lock is let go: a pack evicted meanwhile is a miss (ENOENT), and one evicted
   * once open is still read whole (an unlinked file stays until it is closed). */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    atomic_fetch_add(&misses, 1);
    return WG_E_NOT_FOUND;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
    char why[96];
    snprintf(why, sizeof why, "%lld bytes on disk, %llu kept", (long long)st.st_size, (unsigned long long)size);
    close(fd);
    drop_invalid(pc, key, size, why);
    atomic_fetch_add(&misses, 1);
    return WG_E_NOT_FOUND;
  }
  uint8_t *buf = malloc(len + 1);
  size_t got = 0;
  while (buf != NULL && got < len) {
    ssize_t r = pread(fd, buf + got, len - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (buf == NULL || got < len) {
    free(buf);
    if (buf != NULL)
      drop_invalid(pc, key, size, "shorter than kept");
    atomic_fetch_add(&misses, 1);
    return WG_E_NOT_FOUND;
  }
  buf[len] = '\0';
  *data = buf;
  atomic_fetch_add(&hits, 1);
  return WG_OK;
}

void wg_pack_cache_drop_prefix(struct wg_pack_cache *pc, const char *prefix)
{
  if (pc == NULL)
    return;
  size_t plen = strlen(prefix);
  pthread_mutex_lock(&pc->lock);
  for (size_t i = 0; i < pc->n;) {
    if (strncmp(pc->entries[i].key, prefix, plen) == 0)
      remove_entry(pc, i); /* moves the last entry to i */
    else
      i++;
  }
  pthread_mutex_unlock(&pc->lock);
}

void wg_pack_cache_metrics_render(struct wg_strbuf *b)
{
  wg_strbuf_printf(b, "# HELP wg_pack_cache_hits_total Witness reads served from the local pack cache.\n"
                      "# TYPE wg_pack_cache_hits_total counter\n"
                      "wg_pack_cache_hits_total %llu\n"
                      "# HELP wg_pack_cache_misses_total Witness reads of packs the local pack cache did not hold.\n"
                      "# TYPE wg_pack_cache_misses_total counter\n"
                      "wg_pack_cache_misses_total %llu\n"
                      "# HELP wg_pack_cache_evictions_total Packs removed from the local pack cache to stay within"
                      " --cache-bytes.\n"
                      "# TYPE wg_pack_cache_evictions_total counter\n"
                      "wg_pack_cache_evictions_total %llu\n"
                      "# HELP wg_pack_cache_invalid_total Cached packs found damaged (size changed) and dropped.\n"
                      "# TYPE wg_pack_cache_invalid_total counter\n"
                      "wg_pack_cache_invalid_total %llu\n"
                      "# HELP wg_pack_cache_fills_total Packs copied into the local pack cache from the store"
                      " after a read missed them (written by another daemon, evicted, or before a restart).\n"
                      "# TYPE wg_pack_cache_fills_total counter\n"
                      "wg_pack_cache_fills_total %llu\n"
                      "# HELP wg_pack_cache_bytes Bytes of the packs the local pack cache holds.\n"
                      "# TYPE wg_pack_cache_bytes gauge\n"
                      "wg_pack_cache_bytes %llu\n",
                   atomic_load(&hits), atomic_load(&misses), atomic_load(&evictions), atomic_load(&invalid),
                   atomic_load(&fills), atomic_load(&cached_bytes));
}
