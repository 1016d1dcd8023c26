/* Reading secret files: the mode check that refuses a file others may read, the S3 credentials
 * format, and wiping what was read. See secrets.h. */
#include "config.h"
#include "config/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config/settings.h"

/* systemd's limit for all the credentials of one unit; no key or password comes near it. */
#define SECRET_MAX (1024 * 1024)

/* POSIX ACL as the kernel stores it in the system.posix_acl_access attribute (little-endian):
 * a 4-byte version 2, then entries of tag (2 bytes), permissions (2) and id (4). */
#define ACL_XATTR_VERSION 2
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_GROUP 0x08
#define ACL_TAG_MASK 0x10
#define ACL_TAG_OTHER 0x20

void wg_secret_free(char *secret)
{
  if (secret != NULL)
    OPENSSL_cleanse(secret, strlen(secret));
  free(secret);
}

void wg_secrets_wipe(struct wg_secrets *s)
{
  wg_secret_free(s->tls_key);
  wg_secret_free(s->db_password);
  wg_secret_free(s->s3_access_key_id);
  wg_secret_free(s->s3_secret_access_key);
  wg_secret_free(s->s3_session_token);
  memset(s, 0, sizeof *s);
}

static unsigned le16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

static uint32_t le32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Whether anyone but the file's owner and this process's user may use the file. The mode's group
 * bits are an ACL's mask when the file has one: systemd shares a credential with the service's user
 * through an ACL entry for that user (mode then shows 0440), which is no one else. */
static bool open_to_others(int fd, const struct stat *st, char *how, size_t how_len)
{
  unsigned char acl[1024];
  ssize_t n = fgetxattr(fd, "system.posix_acl_access", acl, sizeof acl);
  if (n < 0 || n < 4 || le32(acl) != ACL_XATTR_VERSION || (n - 4) % 8 != 0) {
    snprintf(how, how_len, "mode %04o", (unsigned)(st->st_mode & 07777));
    return (st->st_mode & 077) != 0;
  }
  unsigned mask = 7;
  for (ssize_t i = 4; i < n; i += 8)
    if (le16(acl + i) == ACL_TAG_MASK)
      mask = le16(acl + i + 2);
  bool open = false;
  for (ssize_t i = 4; i < n; i += 8) {
    unsigned tag = le16(acl + i), perm = le16(acl + i + 2);
    if ((tag == ACL_TAG_USER && le32(acl + i + 4) != (uint32_t)geteuid()) || tag == ACL_TAG_GROUP_OBJ ||
        tag == ACL_TAG_GROUP)
      open |= (perm & mask) != 0;
    else if (tag == ACL_TAG_OTHER)
      open |= perm != 0;
  }
  snprintf(how, how_len, "mode %04o and an ACL that %s", (unsigned)(st->st_mode & 07777),
           open ? "lets other users in" : "only lets this user in");
  return open;
}

bool wg_secret_file_read(const char *what, const char *path, char **out, size_t *len, char *err, size_t err_len)
{
  *out = NULL;
  *len = 0;
  /* read(2) rather than stdio, whose buffer would keep a copy after fclose. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(err, err_len, "cannot read the %s %s: %s", what, path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return false;
  }
  char how[96];
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, err_len, "the %s %s is not a regular file", what, path);
  } else if (open_to_others(fd, &st, how, sizeof how)) {
    bool acl = strstr(how, "ACL") != NULL;
    snprintf(err, err_len, "the %s %s may be read by users other than its owner (%s); refusing to use it. "
             "Fix it with: chmod 600 %s%s%s", what, path, how, path, acl ? " && setfacl -b " : "", acl ? path : "");
  } else if (st.st_size > SECRET_MAX) {
    snprintf(err, err_len, "the %s %s is over %d bytes", what, path, SECRET_MAX);
  } else {
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    while (buf != NULL && got < n) {
      ssize_t r = read(fd, buf + got, n - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t)r;
    }
    close(fd);
    if (buf == NULL || got < n) {
      snprintf(err, err_len, "cannot read the %s %s: %s", what, path, buf ? "short read" : "out of memory");
      if (buf != NULL)
        OPENSSL_cleanse(buf, got);
      free(buf);
      return false;
    }
    buf[n] = '\0';
    if (n == 0 || strlen(buf) != n) {
      snprintf(err, err_len, "the %s %s is %s", what, path, n == 0 ? "empty" : "binary (it holds a NUL byte)");
      OPENSSL_cleanse(buf, n);
      free(buf);
      return false;
    }
    *out = buf;
    *len = n;
    return true;
  }
  close(fd);
  return false;
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\r')
    s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

bool wg_secrets_parse_s3(char *text, const char *path, struct wg_secrets *s, char *err, size_t err_len)
{
  static const char *const keys[] = {"access_key_id", "secret_access_key", "session_token"};
  char **fields[] = {&s->s3_access_key_id, &s->s3_secret_access_key, &s->s3_session_token};
  int lineno = 0;
  for (char *line = text, *next; line != NULL; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *l = trim(line);
    if (*l == '\0' || *l == '#')
      continue;
    char *eq = strchr(l, '=');
    size_t k = 0;
    if (eq != NULL) {
      *eq = '\0';
      char *key = trim(l);
      while (k < 3 && strcmp(key, keys[k]) != 0)
        k++;
    }
    /* The line is not quoted: it may hold a secret pasted in the wrong place. */
    if (eq == NULL || k == 3) {
      snprintf(err, err_len, "S3 credentials file %s, line %d: expected access_key_id=, secret_access_key= or "
               "session_token=", path, lineno);
      return false;
    }
    char *value = trim(eq + 1);
    if (*fields[k] != NULL || *value == '\0') {
      snprintf(err, err_len, "S3 credentials file %s, line %d: %s is %s", path, lineno, keys[k],
               *value == '\0' ? "empty" : "given twice");
      return false;
    }
    if ((*fields[k] = strdup(value)) == NULL) {
      snprintf(err, err_len, "out of memory");
      return false;
    }
  }
  if (s->s3_access_key_id == NULL || s->s3_secret_access_key == NULL) {
    snprintf(err, err_len, "S3 credentials file %s: needs both access_key_id= and secret_access_key=", path);
    return false;
  }
  return true;
}

bool wg_secrets_load(struct wg_config *c, unsigned which, char *err, size_t err_len)
{
  struct wg_secrets *s = &c->secrets;
  char *text;
  size_t len;
  if ((which & WG_SECRET_TLS_KEY) && c->tls_key_file != NULL) {
    if (!wg_secret_file_read("TLS key file", c->tls_key_file, &text, &len, err, err_len))
      return false;
    s->tls_key = text;
  }
  if ((which & WG_SECRET_DB_PASSWORD) && c->db_password_file != NULL) {
    if (!wg_secret_file_read("database password file", c->db_password_file, &text, &len, err, err_len))
      return false;
    /* Editors and `echo` end the file with a newline, which is not part of the password. */
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
      text[--len] = '\0';
    if (len == 0) {
      snprintf(err, err_len, "the database password file %s holds no password", c->db_password_file);
      free(text);
      return false;
    }
    s->db_password = text;
  }
  if ((which & WG_SECRET_S3) && c->s3_credentials_file != NULL) {
    if (!wg_secret_file_read("S3 credentials file", c->s3_credentials_file, &text, &len, err, err_len))
      return false;
    bool ok = wg_secrets_parse_s3(text, c->s3_credentials_file, s, err, err_len);
    OPENSSL_cleanse(text, len);
    free(text);
    if (!ok)
      return false;
  }
  return true;
}
