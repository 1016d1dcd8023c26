/* Secrets: the TLS private key, the database password and the S3 credentials. Each is read once
 * at start from a file that nobody but its owner may read (docs/command-line.md, "Secrets"): a
 * file named by an option, or else the file of that name in systemd's $CREDENTIALS_DIRECTORY
 * (LoadCredential=). They never travel in a command line, a conninfo string or a log line. */
#ifndef WG_SECRETS_H
#define WG_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

struct wg_config;

/* What was read; NULL where nothing was given. Owned by the wg_config that holds it and wiped by
 * wg_config_free (or earlier, by whoever hands a secret on for good: the TLS key). */
struct wg_secrets {
  char *tls_key; /* PEM */
  char *db_password;
  char *s3_access_key_id, *s3_secret_access_key, *s3_session_token;
};

/* The names of the files looked for in $CREDENTIALS_DIRECTORY. */
#define WG_CREDENTIAL_TLS_KEY "tls-key"
#define WG_CREDENTIAL_DB_PASSWORD "db-password"
#define WG_CREDENTIAL_S3 "s3-credentials"

/* Which secrets a program needs (wgctl has no use for the TLS key). */
enum { WG_SECRET_TLS_KEY = 1, WG_SECRET_DB_PASSWORD = 2, WG_SECRET_S3 = 4, WG_SECRETS_ALL = 7 };

/* Reads the secret file at path (what names it in messages: "TLS key file"). Refuses a file that
 * is not a regular file or that anyone but its owner (and, through an ACL, this process's own
 * user, which is how systemd shares a credential) may read or write, with a message that names
 * the file and `chmod 600 FILE`. The content comes back NUL-terminated in *out (length *len);
 * free it with wg_secret_free. */
bool wg_secret_file_read(const char *what, const char *path, char **out, size_t *len, char *err, size_t err_len);

/* Parses an S3 credentials file (access_key_id=…, secret_access_key=…, optional session_token=…;
 * blank lines and '#' comments allowed) into s. text is overwritten. Errors name the line, never
 * a value. */
bool wg_secrets_parse_s3(char *text, const char *path, struct wg_secrets *s, char *err, size_t err_len);

/* Reads the secrets in `which` named by c's *_file options (wg_config_load has already put the
 * $CREDENTIALS_DIRECTORY files there where no option named one) into c->secrets. */
bool wg_secrets_load(struct wg_config *c, unsigned which, char *err, size_t err_len);

/* Overwrites and frees one secret (NULL is fine). */
void wg_secret_free(char *secret);
/* Overwrites and frees every secret of s. */
void wg_secrets_wipe(struct wg_secrets *s);

#endif
