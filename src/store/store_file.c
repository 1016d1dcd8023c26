/* The file:DIR backend. A blob is written to a temporary file beside its final name, made
 * durable, then renamed into place, so a reader sees either the old blob or the new one, never a
 * torn one. Directories it creates are synced in their parents, and the directory of each rename
 * is synced, so that a blob the database already refers to survives a crash. Packs stream to
 * their temporary file through a small buffer: one fdatasync makes a whole layer durable.
 *
 * Blobs (inputs, witnesses, proofs) are the daemon's alone: files are made 0600 and directories
 * 0700, set with fchmod/chmod rather than left to the umask the daemon happens to inherit. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_backend.h"

#define BLOB_MODE 0600
#define DIR_MODE 0700

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

/* fsyncs the directory holding path (everything before its last '/'). */
static bool sync_dir_of(const char *path)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    return true;
  *slash = '\0';
  int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = fsync(fd) == 0;
  return close(fd) == 0 && ok;
}

/* Creates the missing directories above path; each one made is synced in its parent. */
static bool mkdirs(char *path)
{
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int r = mkdir(path, DIR_MODE);
    /* The umask may have taken bits away, never added any: chmod only widens back to 0700. */
    bool ok = r == 0 ? chmod(path, DIR_MODE) == 0 && sync_dir_of(path) : errno == EEXIST;
    *p = '/';
    if (!ok)
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

/* A unique temporary name beside final. */
static bool temp_name(const char *final, char *out, size_t n)
{
  unsigned long id;
  pthread_mutex_lock(&tmp_lock);
  id = ++tmp_counter;
  pthread_mutex_unlock(&tmp_lock);
  return snprintf(out, n, "%s.tmp-%ld-%lu", final, (long)getpid(), id) < (int)n;
}

static int create_temp(char *tmp)
{
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, BLOB_MODE);
  if (fd < 0 && errno == ENOENT && mkdirs(tmp))
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, BLOB_MODE);
  if (fd < 0) {
    wg_store_error("cannot create %s: %s", tmp, strerror(errno));
  } else if (fchmod(fd, BLOB_MODE) != 0) {
    wg_store_error("cannot set the mode of %s: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    fd = -1;
  }
  return fd;
}

/* Makes the written temporary durable and moves it into place; closes fd in every case. */
static enum wg_status publish(int fd, const char *tmp, const char *final)
{
  bool ok = fdatasync(fd) == 0;
  if (!ok)
    wg_store_error("cannot sync %s: %s", tmp, strerror(errno));
  if (close(fd) != 0 && ok) {
    wg_store_error("cannot close %s: %s", tmp, strerror(errno));
    ok = false;
  }
  if (ok && rename(tmp, final) != 0) {
    wg_store_error("cannot rename %s: %s", tmp, strerror(errno));
    ok = false;
  }
  if (!ok) {
    unlink(tmp);
    return WG_E_UNAVAILABLE;
  }
  if (!sync_dir_of(final)) {
    wg_store_error("cannot sync the directory of %s: %s", final, strerror(errno));
    return WG_E_UNAVAILABLE;
  }
  return WG_OK;
}

static enum wg_status file_put(struct wg_store *s, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  (void)c;
  struct file_store *fs = (struct file_store *)s;
  char final[PATH_MAX], tmp[PATH_MAX];
  if (!key_ok(key)) {
    wg_store_error("refusing key \"%s\"", key);
    return WG_E_INTERNAL;
  }
  path_of(fs, key, final, sizeof final);
  if (!temp_name(final, tmp, sizeof tmp))
    return WG_E_INTERNAL;
  int fd = create_temp(tmp);
  if (fd < 0)
    return WG_E_UNAVAILABLE;
  if (!write_all(fd, data, len)) {
    wg_store_error("cannot write %s: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return WG_E_UNAVAILABLE;
  }
  return publish(fd, tmp, final);
}

#define PACK_BUFFER (256 * 1024)

struct file_pack {
  struct wg_pack base;
  int fd;
  bool failed;
  size_t used;
  char final[PATH_MAX], tmp[PATH_MAX];
  uint8_t buf[PACK_BUFFER];
};

static bool pack_flush(struct file_pack *fp)
{
  if (fp->used > 0 && !fp->failed && !write_all(fp->fd, fp->buf, fp->used)) {
    wg_store_error("cannot write %s: %s", fp->tmp, strerror(errno));
    fp->failed = true;
  }
  fp->used = 0;
  return !fp->failed;
}

static enum wg_status file_pack_add(struct wg_pack *p, const void *data, size_t len)
{
  struct file_pack *fp = (struct file_pack *)p;
  if (fp->used + len > PACK_BUFFER && !pack_flush(fp))
    return WG_E_UNAVAILABLE;
  if (len >= PACK_BUFFER) {
    if (!write_all(fp->fd, data, len)) {
      wg_store_error("cannot write %s: %s", fp->tmp, strerror(errno));
      fp->failed = true;
      return WG_E_UNAVAILABLE;
    }
    return WG_OK;
  }
  memcpy(fp->buf + fp->used, data, len);
  fp->used += len;
  return WG_OK;
}

static void file_pack_abort(struct wg_pack *p)
{
  struct file_pack *fp = (struct file_pack *)p;
  close(fp->fd);
  unlink(fp->tmp);
  free(fp);
}

static enum wg_status file_pack_commit(struct wg_pack *p, struct wg_dbconn *c)
{
  (void)c;
  struct file_pack *fp = (struct file_pack *)p;
  if (!pack_flush(fp)) {
    file_pack_abort(p);
    return WG_E_UNAVAILABLE;
  }
  enum wg_status s = publish(fp->fd, fp->tmp, fp->final);
  free(fp);
  return s;
}

static struct wg_pack *file_pack_begin(struct wg_store *s, const char *key)
{
  struct file_store *fs = (struct file_store *)s;
  if (!key_ok(key)) {
    wg_store_error("refusing key \"%s\"", key);
    return NULL;
  }
  struct file_pack *fp = malloc(sizeof *fp);
  if (fp == NULL)
    return NULL;
  fp->base = (struct wg_pack){s, 0, file_pack_add, file_pack_commit, file_pack_abort};
  fp->failed = false;
  fp->used = 0;
  path_of(fs, key, fp->final, sizeof fp->final);
  if (!temp_name(fp->final, fp->tmp, sizeof fp->tmp) || (fp->fd = create_temp(fp->tmp)) < 0) {
    free(fp);
    return NULL;
  }
  return &fp->base;
}

/* Opens the blob of key for reading: WG_OK, WG_E_NOT_FOUND or WG_E_UNAVAILABLE. */
static enum wg_status open_blob(struct wg_store *s, const char *key, int *fd)
{
  struct file_store *fs = (struct file_store *)s;
  char path[PATH_MAX];
  if (!key_ok(key))
    return WG_E_NOT_FOUND;
  path_of(fs, key, path, sizeof path);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return errno == ENOENT ? WG_E_NOT_FOUND : WG_E_UNAVAILABLE;
  return WG_OK;
}

/* Reads len bytes at offset of fd into a malloc'd, NUL-terminated buffer and closes fd;
 * WG_E_NOT_FOUND when the file is shorter. */
static enum wg_status read_range(int fd, uint64_t offset, size_t len, uint8_t **data)
{
  uint8_t *buf = malloc(len + 1);
  size_t got = 0;
  bool eof = false;
  while (buf != NULL && got < len) {
    ssize_t r = pread(fd, buf + got, len - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      eof = r == 0;
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (buf == NULL || got != len) {
    free(buf);
    return buf != NULL && eof ? WG_E_NOT_FOUND : WG_E_UNAVAILABLE;
  }
  buf[len] = '\0';
  *data = buf;
  return WG_OK;
}

static enum wg_status file_get(struct wg_store *s, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  (void)c;
  int fd;
  enum wg_status st = open_blob(s, key, &fd);
  if (st != WG_OK)
    return st;
  struct stat stt;
  if (fstat(fd, &stt) != 0) {
    close(fd);
    return WG_E_UNAVAILABLE;
  }
  *len = (size_t)stt.st_size;
  st = read_range(fd, 0, *len, data);
  return st == WG_E_NOT_FOUND ? WG_E_UNAVAILABLE : st; /* shorter than it was a moment ago */
}

static enum wg_status file_get_range(struct wg_store *s, struct wg_dbconn *c, const char *key, uint64_t offset,
                                     size_t len, uint8_t **data)
{
  (void)c;
  int fd;
  enum wg_status st = open_blob(s, key, &fd);
  return st == WG_OK ? read_range(fd, offset, len, data) : st;
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

static const struct wg_store_ops file_ops = {.put = file_put, .get = file_get, .get_range = file_get_range,
                                             .pack_begin = file_pack_begin, .delete_prefix = file_delete_prefix,
                                             .close = file_close, .database_backed = false};

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
