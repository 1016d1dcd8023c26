/* The file:DIR backend. A blob is written to a temporary file beside its final name, made
 * durable, then renamed into place, so a reader sees either the old blob or the new one, never a
 * torn one. put_many writes all temporaries, makes them durable with fdatasync() from several
 * threads at once (the filesystem commits their journal entries together, so a round of thousands
 * of blobs costs a few journal commits, not thousands), then renames them and syncs each
 * directory once. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_backend.h"

struct file_store {
  struct wg_store base;
  char *dir;
};

static unsigned long tmp_counter;
static pthread_mutex_t tmp_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keys are relative paths of our own making; refuse anything that could leave the directory. */
static bool key_ok(const char *key)
{
  if (key[0] == '/' || key[0] == '\0' || strstr(key, "..") != NULL)
    return false;
  return strlen(key) < 512;
}

static void path_of(const struct file_store *fs, const char *key, char *out, size_t n)
{
  snprintf(out, n, "%s/%s", fs->dir, key);
}

static bool mkdirs(char *path)
{
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int r = mkdir(path, 0755);
    *p = '/';
    if (r != 0 && errno != EEXIST)
      return false;
  }
  return true;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    data += w;
    len -= (size_t)w;
  }
  return true;
}

static void sync_dir_of(const char *path)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    return;
  *slash = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

#define SYNC_THREADS 16

struct sync_batch {
  char (*paths)[PATH_MAX];
  size_t n;
  atomic_size_t next;
  atomic_bool failed;
};

static void *sync_worker(void *arg)
{
  struct sync_batch *b = arg;
  for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
    int fd = open(b->paths[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fdatasync(fd) != 0) {
      wg_error("store: cannot sync %s: %s", b->paths[i], strerror(errno));
      atomic_store(&b->failed, true);
    }
    if (fd >= 0)
      close(fd);
  }
  return NULL;
}

/* Makes paths[0..n) durable; the calling thread works too. */
static bool sync_all(char (*paths)[PATH_MAX], size_t n)
{
  struct sync_batch b = {.paths = paths, .n = n};
  atomic_init(&b.next, 0);
  atomic_init(&b.failed, false);
  pthread_t threads[SYNC_THREADS];
  size_t started = 0;
  while (started + 1 < SYNC_THREADS && started + 1 < n && pthread_create(&threads[started], NULL, sync_worker, &b) == 0)
    started++;
  sync_worker(&b);
  for (size_t i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
  return !atomic_load(&b.failed);
}

static enum wg_status file_put_many(struct wg_store *s, struct wg_dbconn *c, const struct wg_blob *blobs, size_t n)
{
  (void)c;
  struct file_store *fs = (struct file_store *)s;
  char (*tmp)[PATH_MAX] = calloc(n, sizeof *tmp);
  size_t written = 0;
  enum wg_status st = WG_OK;
  unsigned long id;
  pthread_mutex_lock(&tmp_lock);
  id = ++tmp_counter;
  pthread_mutex_unlock(&tmp_lock);

  for (; written < n; written++) {
    const struct wg_blob *b = &blobs[written];
    char final[PATH_MAX];
    if (!key_ok(b->key)) {
      wg_error("store: refusing key \"%s\"", b->key);
      st = WG_E_INTERNAL;
      break;
    }
    path_of(fs, b->key, final, sizeof final);
    if (snprintf(tmp[written], PATH_MAX, "%.3900s.tmp-%ld-%lu", final, (long)getpid(), id) >= PATH_MAX) {
      st = WG_E_INTERNAL;
      break;
    }
    int fd = open(tmp[written], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && mkdirs(tmp[written]))
      fd = open(tmp[written], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      wg_error("store: cannot create %s: %s", tmp[written], strerror(errno));
      st = WG_E_UNAVAILABLE;
      break;
    }
    bool ok = write_all(fd, b->data, b->len);
    close(fd);
    if (!ok) {
      wg_error("store: cannot write %s: %s", tmp[written], strerror(errno));
      written++;
      st = WG_E_UNAVAILABLE;
      break;
    }
  }
  if (st == WG_OK && !sync_all(tmp, n))
    st = WG_E_UNAVAILABLE;
  if (st == WG_OK) {
    for (size_t i = 0; i < n; i++) {
      char final[PATH_MAX];
      path_of(fs, blobs[i].key, final, sizeof final);
      if (rename(tmp[i], final) != 0) {
        wg_error("store: cannot rename %s: %s", tmp[i], strerror(errno));
        st = WG_E_UNAVAILABLE;
        break;
      }
      tmp[i][0] = '\0';
      /* Keys of one put_many usually share a directory: sync it once, after its last rename. */
      const char *slash = strrchr(blobs[i].key, '/');
      size_t dir_len = slash ? (size_t)(slash - blobs[i].key) + 1 : 0;
      if (i + 1 == n || strncmp(blobs[i + 1].key, blobs[i].key, dir_len) != 0 || strchr(blobs[i + 1].key + dir_len, '/'))
        sync_dir_of(final);
    }
  }
  for (size_t i = 0; i < written && i < n; i++)
    if (tmp[i][0] != '\0')
      unlink(tmp[i]);
  free(tmp);
  return st;
}

static enum wg_status file_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  (void)c;
  struct file_store *fs = (struct file_store *)s;
  char path[PATH_MAX];
  if (!key_ok(key))
    return WG_E_NOT_FOUND;
  path_of(fs, key, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? WG_E_NOT_FOUND : WG_E_UNAVAILABLE;
  struct stat stt;
  if (fstat(fd, &stt) != 0) {
    close(fd);
    return WG_E_UNAVAILABLE;
  }
  size_t size = (size_t)stt.st_size, got = 0;
  uint8_t *buf = malloc(size + 1);
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (got != size) {
    free(buf);
    return WG_E_UNAVAILABLE;
  }
  buf[size] = '\0';
  *data = buf;
  *len = size;
  return WG_OK;
}

static int remove_tree(const char *path)
{
  DIR *d = opendir(path);
  if (d == NULL)
    return errno == ENOENT ? 0 : (unlink(path) == 0 || errno == ENOENT ? 0 : -1);
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char child[PATH_MAX];
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    if (remove_tree(child) != 0)
      rc = -1;
  }
  closedir(d);
  if (rmdir(path) != 0 && errno != ENOENT)
    rc = -1;
  return rc;
}

static enum wg_status file_delete_prefix(struct wg_store *s, struct wg_dbconn *c, const char *prefix)
{
  (void)c;
  struct file_store *fs = (struct file_store *)s;
  /* Prefixes are directories of the key layout ("batches/42/"). */
  size_t n = strlen(prefix);
  if (!key_ok(prefix) || prefix[n - 1] != '/')
    return WG_E_INTERNAL;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%.*s", fs->dir, (int)(n - 1), prefix);
  return remove_tree(path) == 0 ? WG_OK : WG_E_UNAVAILABLE;
}

static void file_close(struct wg_store *s)
{
  struct file_store *fs = (struct file_store *)s;
  free(fs->dir);
  free(fs);
}

static const struct wg_store_ops file_ops = {file_put_many, file_get, file_delete_prefix, file_close};

struct wg_store *wg_store_file_open(const char *dir, char *err, size_t err_len)
{
  char probe[PATH_MAX];
  snprintf(probe, sizeof probe, "%s/.probe", dir);
  if (!mkdirs(probe)) {
    snprintf(err, err_len, "cannot create the store directory %s: %s", dir, strerror(errno));
    return NULL;
  }
  if (access(dir, W_OK) != 0) {
    snprintf(err, err_len, "the store directory %s is not writable: %s", dir, strerror(errno));
    return NULL;
  }
  struct file_store *fs = calloc(1, sizeof *fs);
  fs->base.ops = &file_ops;
  fs->dir = strdup(dir);
  return &fs->base;
}
