/* Configuration loading: one option table drives the flags, WG_* variables and the config file,
 * so every option has the same name everywhere. */
#include "config.h"
#include "config/settings.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum opt_type { OPT_STRING, OPT_LONG, OPT_BYTES, OPT_MILLIS };

struct option_def {
  const char *name; /* flag name without dashes; config key; WG_NAME with '-' as '_' */
  enum opt_type type;
  size_t offset;
  const char *def;
  long min, max;
  const char *help;
};

#define S(field) OPT_STRING, offsetof(struct wg_config, field)
#define L(field) OPT_LONG, offsetof(struct wg_config, field)
#define B(field) OPT_BYTES, offsetof(struct wg_config, field)
#define MS(field) OPT_MILLIS, offsetof(struct wg_config, field)

static const struct option_def options[] = {
  {"db", S(db), "dbname=wg", 0, 0, "libpq connection string"},
  {"listen", S(listen), "127.0.0.1:8080", 0, 0, "HOST:PORT to serve HTTP on"},
  {"store", S(store), "file:./var/store", 0, 0, "object store: file:DIR, postgres or s3://BUCKET/PREFIX"},
  {"cache-dir", S(cache_dir), NULL, 0, 0, "local pack cache of an s3:// or postgres store, one per daemon (spools packs being written, keeps written ones for witness downloads); emptied at start (default ./var/cache/INSTANCE-ID, or $STATE_DIRECTORY/cache/INSTANCE-ID under systemd)"},
  {"cache-bytes", B(cache_bytes), "1G", 0, LONG_MAX, "most bytes of packs the cache keeps, least recently used dropped first (0: keep none)"},
  {"s3-endpoint", S(s3_endpoint), NULL, 0, 0, "S3-compatible endpoint URL of an s3:// store (default: AWS's for s3-region)"},
  {"s3-region", S(s3_region), "us-east-1", 0, 0, "region an s3:// store's requests are signed for"},
  {"instance-id", S(instance_id), NULL, 0, 0, "name recorded in picked_by (default HOST:PORT)"},
  {"log-level", S(log_level), "info", 0, 0, "debug, info, warn or error"},
  {"log-format", S(log_format), "text", 0, 0, "text, or json: one JSON object a line"},
  {"workers", L(workers), "1", 1, 64, "worker threads per round"},
  {"http-threads", L(http_threads), "64", 1, 1024, "HTTP threads (a claim or completion waits for its group on one)"},
  {"db-pool", L(db_pool), "0", 0, 1024, "database connections for HTTP handlers (0: http-threads + 2, at most 16)"},
  {"lease", L(lease), "600", 1, 86400 * 7, "prover job lease, seconds"},
  {"claim-grace", L(claim_grace), "30", 1, 86400, "seconds a claimed prover job waits for its witness download or a heartbeat"},
  {"witness-lease", L(witness_lease), "60", 1, 86400, "witness job lease, seconds"},
  {"witness-job-timeout", L(witness_job_timeout), "900", 1, 86400 * 7, "longest run of one witness job, seconds"},
  {"max-attempts", L(max_attempts), "10", 1, 1000000, "claims before a job fails for good"},
  {"retry-base", MS(retry_base_ms), "1", 0, 86400000, "backoff of a failed job's first retry (prover or witness job), seconds (or Nms)"},
  {"retry-max", MS(retry_max_ms), "60", 0, 86400000, "longest retry backoff, seconds (or Nms)"},
  {"max-circuits-in-flight", L(max_circuits_in_flight), "0", 0, 100000000, "start no basic witness job while this many prover jobs are queued or in progress (0: no limit)"},
  {"leaf-arity", L(leaf_arity), "32", 2, 4096, "basic proofs per leaf circuit"},
  {"node-arity", L(node_arity), "32", 2, 4096, "proofs per node circuit"},
  {"max-body", B(max_body), "64M", 1024, LONG_MAX, "largest witness-input body, on the wire and decoded"},
  {"max-proof", B(max_proof), "16M", 1024, LONG_MAX, "largest proof body (POST /proofs/{id}/complete)"},
  {"max-buffered-bytes", B(max_buffered_bytes), "256M", 65536, LONG_MAX, "request bodies all requests in flight may hold at once, on the wire and decoded; a request past it is 503"},
  {"poll-ms", L(poll_ms), "2000", 10, 3600000, "round workers' fallback poll interval, ms"},
  {"housekeeping-ms", L(housekeeping_ms), "1000", 10, 3600000, "housekeeping interval (expired leases, blobs of deleted batches, archive), ms"},
  {"db-deadline", MS(db_deadline_ms), "30", 100, 86400000, "longest wait for a database statement's answer before its connection is given up, seconds (or Nms)"},
  {"connection-timeout", L(connection_timeout), "30", 1, 86400, "seconds before an idle client is dropped"},
  {"request-timeout", L(request_timeout), "60", 1, 86400, "seconds a client has to send a request's headers and body"},
  {"max-connections-per-ip", L(max_connections_per_ip), "64", 0, 65535, "connections one client address may hold (0: no limit)"},
  {"archive-after", L(archive_after), "0", 0, 86400L * 3650, "archive prover jobs of batches proven this many seconds ago (0: never)"},
  {"tls-cert", S(tls_cert), NULL, 0, 0, "PEM certificate: serve HTTPS"},
  {"tls-key-file", S(tls_key_file), NULL, 0, 0, "PEM private key for --tls-cert, mode 0600 (or $CREDENTIALS_DIRECTORY/tls-key)"},
  {"db-password-file", S(db_password_file), NULL, 0, 0, "file holding the database password, mode 0600 (or $CREDENTIALS_DIRECTORY/db-password)"},
  {"s3-credentials-file", S(s3_credentials_file), NULL, 0, 0, "S3 keys (access_key_id=, secret_access_key=, session_token=), mode 0600 (or $CREDENTIALS_DIRECTORY/s3-credentials)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* Old names still accepted as flags, WG_* variables and config keys. */
static const struct {
  const char *old_name, *name;
} aliases[] = {
  {"tls-key", "tls-key-file"},
};
#define N_ALIASES (sizeof aliases / sizeof aliases[0])

/* Config keys may spell '-' as '_'. */
static bool name_is(const char *option, const char *name, size_t len)
{
  if (strlen(option) != len)
    return false;
  size_t j = 0;
  while (j < len && (option[j] == name[j] || (option[j] == '-' && name[j] == '_')))
    j++;
  return j == len;
}

static const struct option_def *find_option(const char *name, size_t len)
{
  for (size_t a = 0; a < N_ALIASES; a++)
    if (name_is(aliases[a].old_name, name, len)) {
      name = aliases[a].name;
      len = strlen(name);
    }
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (name_is(options[i].name, name, len))
      return &options[i];
  return NULL;
}

static bool parse_long(const char *s, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return false;
  *out = v;
  return true;
}

/* Accepts a plain number or one with a K, M or G suffix (powers of 1024), also spelt KiB, MiB, GiB. */
static bool parse_bytes(const char *s, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || v < 0)
    return false;
  long mul = 1;
  if (*end == 'K' || *end == 'k')
    mul = 1024L, end++;
  else if (*end == 'M' || *end == 'm')
    mul = 1024L * 1024, end++;
  else if (*end == 'G' || *end == 'g')
    mul = 1024L * 1024 * 1024, end++;
  if (mul != 1 && strcmp(end, "iB") == 0)
    end += 2;
  if (*end != '\0' || v > LONG_MAX / mul)
    return false;
  *out = v * mul;
  return true;
}

/* Seconds, possibly fractional ("1", "0.25"), or milliseconds with an "ms" suffix, as
 * milliseconds. */
static bool parse_millis(const char *s, long *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || !(v >= 0) || v > 1e12)
    return false;
  if (strcmp(end, "ms") == 0)
    *out = (long)v;
  else if (*end == '\0' || strcmp(end, "s") == 0)
    *out = (long)(v * 1000 + 0.5);
  else
    return false;
  return true;
}

static bool set_option(struct wg_config *c, const struct option_def *o, const char *value, const char *source,
                       char *err, size_t err_len)
{
  void *field = (char *)c + o->offset;
  /* wgctl uses the daemons' recorded store unless one is given (cli/wgctl.c). */
  if (o->offset == offsetof(struct wg_config, store))
    c->store_given = strcmp(source, "default") != 0;
  if (o->type == OPT_STRING) {
    char **s = field;
    free(*s);
    *s = strdup(value);
    return true;
  }
  long v;
  bool ok = o->type == OPT_LONG    ? parse_long(value, &v)
            : o->type == OPT_MILLIS ? parse_millis(value, &v)
                                    : parse_bytes(value, &v);
  if (!ok || v < o->min || v > o->max) {
    if (o->type == OPT_MILLIS)
      snprintf(err, err_len, "%s: %s must be a duration in seconds (\"1.5\") or milliseconds (\"200ms\") from 0 to "
               "%ld s, got \"%s\"", source, o->name, o->max / 1000, value);
    else
      snprintf(err, err_len, "%s: %s must be %s between %ld and %ld, got \"%s\"", source, o->name,
               o->type == OPT_BYTES ? "a size in bytes (K, M, G suffixes allowed)" : "an integer", o->min, o->max,
               value);
    return false;
  }
  *(long *)field = v;
  return true;
}

static char *trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  return s;
}

static bool load_file(struct wg_config *c, const char *path, char *err, size_t err_len)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, err_len, "cannot open config file %s: %s", path, strerror(errno));
    return false;
  }
  char line[4096], source[600];
  int lineno = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f) != NULL) {
    lineno++;
    snprintf(source, sizeof source, "%s:%d", path, lineno);
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
      snprintf(err, err_len, "%s: expected \"key = value\"", source);
      ok = false;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    const struct option_def *o = find_option(key, strlen(key));
    if (o == NULL || strcmp(o->name, "config") == 0) {
      snprintf(err, err_len, "%s: unknown option \"%s\"", source, key);
      ok = false;
      break;
    }
    ok = set_option(c, o, value, source, err, err_len);
  }
  fclose(f);
  return ok;
}

static void env_name(const char *option, char *var, size_t n)
{
  snprintf(var, n, "WG_");
  size_t k = 3;
  for (const char *p = option; *p && k < n - 1; p++)
    var[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
  var[k] = '\0';
}

static bool load_env(struct wg_config *c, char *err, size_t err_len)
{
  char var[64];
  /* Old names first, so that the current name wins when both are set. */
  for (size_t a = 0; a < N_ALIASES; a++) {
    env_name(aliases[a].old_name, var, sizeof var);
    const char *v = getenv(var);
    if (v != NULL && !set_option(c, find_option(aliases[a].name, strlen(aliases[a].name)), v, var, err, err_len))
      return false;
  }
  for (size_t i = 0; i < N_OPTIONS; i++) {
    env_name(options[i].name, var, sizeof var);
    const char *v = getenv(var);
    if (v != NULL && !set_option(c, &options[i], v, var, err, err_len))
      return false;
  }
  return true;
}

/* Whether the file at path holds nothing but white space (a few bytes at most): a blank credential. */
static bool blank_file(const char *path, const struct stat *st)
{
  char buf[16];
  if (st->st_size > (off_t)sizeof buf)
    return false;
  FILE *f = fopen(path, "r");
  size_t n = f != NULL ? fread(buf, 1, sizeof buf, f) : 0;
  if (f != NULL)
    fclose(f);
  for (size_t i = 0; i < n; i++)
    if (!isspace((unsigned char)buf[i]))
      return false;
  return true;
}

/* systemd's LoadCredential= puts each credential in $CREDENTIALS_DIRECTORY under its name. A
 * secret no option names is taken from there when that file is there and not blank: the shipped
 * unit gives every credential a SetCredential= default of one newline (systemd 252 takes no empty
 * value), so that a missing source file does not stop the unit, and a blank file means "not given". */
static void take_credential(char **field, const char *name)
{
  const char *dir = getenv("CREDENTIALS_DIRECTORY");
  if (*field != NULL || dir == NULL || dir[0] == '\0')
    return;
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  struct stat st;
  if (path != NULL && snprintf(path, n, "%s/%s", dir, name) > 0 && stat(path, &st) == 0 && !blank_file(path, &st)) {
    *field = path;
    return;
  }
  free(path);
}

static bool split_listen(struct wg_config *c, char *err, size_t err_len)
{
  const char *colon = strrchr(c->listen, ':');
  long port;
  if (colon == NULL || colon == c->listen || !parse_long(colon + 1, &port) || port < 0 || port > 65535) {
    snprintf(err, err_len, "listen must be HOST:PORT, got \"%s\"", c->listen);
    return false;
  }
  free(c->listen_host);
  c->listen_host = strndup(c->listen, (size_t)(colon - c->listen));
  c->listen_port = (int)port;
  return true;
}

enum wg_config_result wg_config_load(struct wg_config *c, int argc, char **argv, int *rest, char *err,
                                     size_t err_len)
{
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (options[i].def != NULL && !set_option(c, &options[i], options[i].def, "default", err, err_len))
      return WG_CONFIG_ERROR;

  /* The config file comes first, so find --config before anything else. */
  const char *file = getenv("WG_CONFIG");
  for (int i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strncmp(argv[i], "--config=", 9) == 0)
      file = argv[i] + 9;
    else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
      file = argv[i + 1];
    /* Every option but --help takes a value; "--name value" spans two arguments. */
    if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--help") != 0)
      i++;
  }
  if (file != NULL) {
    c->config_file = strdup(file);
    if (!load_file(c, file, err, err_len))
      return WG_CONFIG_ERROR;
  }
  if (!load_env(c, err, err_len))
    return WG_CONFIG_ERROR;

  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return WG_CONFIG_HELP;
    if (strncmp(a, "--", 2) != 0) {
      if (rest != NULL)
        break;
      snprintf(err, err_len, "unexpected argument \"%s\"", a);
      return WG_CONFIG_ERROR;
    }
    const char *name = a + 2, *eq = strchr(name, '='), *value;
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    if (len == 6 && strncmp(name, "config", 6) == 0) {
      if (eq == NULL && i + 1 >= argc) {
        snprintf(err, err_len, "option --config needs a value");
        return WG_CONFIG_ERROR;
      }
      i += eq ? 0 : 1;
      continue;
    }
    const struct option_def *o = find_option(name, len);
    if (o == NULL) {
      snprintf(err, err_len, "unknown option \"%.*s\" (see --help)", (int)len + 2, a);
      return WG_CONFIG_ERROR;
    }
    if (eq != NULL) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      snprintf(err, err_len, "option --%s needs a value", o->name);
      return WG_CONFIG_ERROR;
    }
    if (!set_option(c, o, value, a, err, err_len))
      return WG_CONFIG_ERROR;
  }
  if (rest != NULL)
    *rest = i;

  if (!split_listen(c, err, err_len))
    return WG_CONFIG_ERROR;
  if (strcmp(c->store, "postgres") != 0 && (strncmp(c->store, "file:", 5) != 0 || c->store[5] == '\0') &&
      (strncmp(c->store, "s3://", 5) != 0 || c->store[5] == '\0' || c->store[5] == '/')) {
    snprintf(err, err_len, "store must be file:DIR, postgres or s3://BUCKET/PREFIX, got \"%s\"", c->store);
    return WG_CONFIG_ERROR;
  }
  take_credential(&c->tls_key_file, WG_CREDENTIAL_TLS_KEY);
  take_credential(&c->db_password_file, WG_CREDENTIAL_DB_PASSWORD);
  take_credential(&c->s3_credentials_file, WG_CREDENTIAL_S3);
  if ((c->tls_cert == NULL) != (c->tls_key_file == NULL)) {
    snprintf(err, err_len, "tls-cert and tls-key-file go together%s%s", c->tls_key_file ? "; the key is " : "",
             c->tls_key_file ? c->tls_key_file : "");
    return WG_CONFIG_ERROR;
  }
  if (c->instance_id == NULL || c->instance_id[0] == '\0') {
    char host[256] = "localhost", id[300];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(id, sizeof id, "%s:%d", host, c->listen_port);
    free(c->instance_id);
    c->instance_id = strdup(id);
  }
  /* One cache directory per daemon (pack_cache.h locks it): named for the instance, so that two
   * daemons started from one directory do not share it; under systemd's StateDirectory= when the
   * unit has one (its working directory is "/", which the unit may not write). */
  if (c->cache_dir == NULL || c->cache_dir[0] == '\0') {
    char dir[4500];
    const char *state = getenv("STATE_DIRECTORY");
    size_t used;
    if (state != NULL && state[0] == '/' && strchr(state, ':') == NULL && strlen(state) < 4096)
      used = (size_t)snprintf(dir, sizeof dir, "%s/cache/", state);
    else
      used = (size_t)snprintf(dir, sizeof dir, "./var/cache/");
    size_t base = used;
    for (const char *p = c->instance_id; *p && used + 1 < sizeof dir && used - base < 200; p++)
      dir[used++] = isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_' ? *p : '_';
    dir[used] = '\0';
    if (strcmp(dir + base, ".") == 0 || strcmp(dir + base, "..") == 0 || dir[base] == '\0')
      snprintf(dir + base, sizeof dir - base, "default");
    free(c->cache_dir);
    c->cache_dir = strdup(dir);
  }
  /* Handlers hold a connection only for their own statements (claims and completions go through
   * the combiners' connections), so the pool need not grow with the threads. */
  if (c->db_pool == 0)
    c->db_pool = c->http_threads + 2 < 16 ? c->http_threads + 2 : 16;
  return WG_CONFIG_OK;
}

void wg_config_free(struct wg_config *c)
{
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (options[i].type == OPT_STRING)
      free(*(char **)((char *)c + options[i].offset));
  free(c->config_file);
  free(c->listen_host);
  wg_secrets_wipe(&c->secrets);
  memset(c, 0, sizeof *c);
}

void wg_config_usage(const char *program, void *file)
{
  FILE *f = file;
  fprintf(f, "usage: %s [--config FILE] [--OPTION VALUE]...\n\n", program);
  fprintf(f, "Every option may also be set as WG_OPTION in the environment or as \"option = value\" in the\n"
             "config file; flags win over the environment, which wins over the file.\n\n");
  for (size_t i = 0; i < N_OPTIONS; i++)
    fprintf(f, "  --%-20s %s%s%s%s\n", options[i].name, options[i].help, options[i].def ? " [" : "",
            options[i].def ? options[i].def : "", options[i].def ? "]" : "");
  for (size_t a = 0; a < N_ALIASES; a++)
    fprintf(f, "  --%-20s old name of --%s\n", aliases[a].old_name, aliases[a].name);
}
