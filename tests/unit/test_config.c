/* Unit tests for src/config: defaults, the config file, WG_* variables and flags, each
 * overriding the one before (docs/command-line.md), and the validation of what they set. */
#include "config.h"

#include <check.h>
#include <ctype.h>

#include "check_main.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/secrets.h"
#include "config/settings.h"

/* Every variable wg_config_load reads; each test starts with none of them set. */
static const char *const wg_vars[] = {
  "WG_CONFIG", "WG_DB", "WG_LISTEN", "WG_STORE", "WG_INSTANCE_ID", "WG_LOG_LEVEL", "WG_WORKERS",
  "WG_HTTP_THREADS", "WG_DB_POOL", "WG_LEASE", "WG_CLAIM_GRACE", "WG_WITNESS_LEASE", "WG_WITNESS_JOB_TIMEOUT", "WG_MAX_ATTEMPTS", "WG_LEAF_ARITY",
  "WG_NODE_ARITY", "WG_MAX_BODY", "WG_POLL_MS", "WG_HOUSEKEEPING_MS", "WG_CONNECTION_TIMEOUT", "WG_TLS_CERT",
  "WG_TLS_KEY", "WG_S3_ENDPOINT", "WG_S3_REGION", "WG_TLS_KEY_FILE", "WG_DB_PASSWORD_FILE",
  "WG_S3_CREDENTIALS_FILE", "CREDENTIALS_DIRECTORY", "WG_MAX_BUFFERED_BYTES", "WG_MAX_CIRCUITS_IN_FLIGHT",
};

static struct wg_config cfg;
static char err[1024];
static char tmp_files[16][64];
static int n_tmp_files;

static void clear_env(void)
{
  for (size_t i = 0; i < sizeof wg_vars / sizeof wg_vars[0]; i++)
    unsetenv(wg_vars[i]);
}

static void setup(void)
{
  clear_env();
  n_tmp_files = 0;
}

static void teardown(void)
{
  wg_config_free(&cfg); /* frees what a failed assertion left behind; a no-op otherwise */
  clear_env();
  for (int i = 0; i < n_tmp_files; i++)
    unlink(tmp_files[i]);
  n_tmp_files = 0;
}

/* Writes text to a new temporary file and returns its path (removed by teardown). */
static const char *write_config(const char *text)
{
  ck_assert_int_lt(n_tmp_files, 16);
  char *path = tmp_files[n_tmp_files++];
  snprintf(path, 64, "%s", "/tmp/wg-test-config.XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

/* Loads a configuration from the arguments after argv[0] (a NULL-terminated list). */
static enum wg_config_result load_args(int *rest, const char *first, ...)
{
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)"witness-generator";
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
    ck_assert_int_lt(argc, 31);
    argv[argc++] = (char *)a;
  }
  va_end(ap);
  argv[argc] = NULL;
  err[0] = '\0';
  return wg_config_load(&cfg, argc, argv, rest, err, sizeof err);
}

#define LOAD(...) load_args(NULL, __VA_ARGS__, (const char *)NULL)
#define LOAD_NONE() load_args(NULL, (const char *)NULL)

/* Loads, expects an error whose message contains want, and frees. */
#define ASSERT_LOAD_ERROR(want, ...)                                                                       \
  do {                                                                                                     \
    ck_assert_int_eq(LOAD(__VA_ARGS__), WG_CONFIG_ERROR);                                                  \
    ck_assert_msg(strstr(err, (want)) != NULL, "error \"%s\" does not mention \"%s\"", err, (want));       \
    wg_config_free(&cfg);                                                                                  \
  } while (0)

static void assert_file_error(const char *text, int line, const char *want)
{
  const char *path = write_config(text);
  char where[128];
  snprintf(where, sizeof where, "%s:%d", path, line);
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_ERROR);
  ck_assert_msg(strstr(err, where) != NULL, "error \"%s\" does not name %s", err, where);
  ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not mention \"%s\"", err, want);
  wg_config_free(&cfg);
}

static void expected_instance_id(int port, char *out, size_t len)
{
  char host[256] = "localhost";
  ck_assert_int_eq(gethostname(host, sizeof host - 1), 0);
  host[sizeof host - 1] = '\0';
  snprintf(out, len, "%s:%d", host, port);
}

START_TEST(defaults)
{
  ck_assert_int_eq(LOAD_NONE(), WG_CONFIG_OK);
  ck_assert_ptr_null(cfg.config_file);
  ck_assert_str_eq(cfg.db, "dbname=wg");
  ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
  ck_assert_str_eq(cfg.listen_host, "127.0.0.1");
  ck_assert_int_eq(cfg.listen_port, 8080);
  ck_assert_str_eq(cfg.store, "file:./var/store");
  ck_assert_str_eq(cfg.log_level, "info");
  ck_assert_int_eq(cfg.workers, 1);
  ck_assert_int_eq(cfg.http_threads, 64);
  ck_assert_int_eq(cfg.db_pool, 16); /* 0 means http-threads + 2, at most 16 */
  ck_assert_int_eq(cfg.lease, 600);
  ck_assert_int_eq(cfg.claim_grace, 30);
  ck_assert_int_eq(cfg.witness_lease, 60);
  ck_assert_int_eq(cfg.witness_job_timeout, 900);
  ck_assert_int_eq(cfg.max_attempts, 10);
  ck_assert_int_eq(cfg.max_circuits_in_flight, 0); /* no backpressure */
  ck_assert_int_eq(cfg.leaf_arity, 32);
  ck_assert_int_eq(cfg.node_arity, 32);
  ck_assert_int_eq(cfg.max_body, 64L * 1024 * 1024);
  ck_assert_int_eq(cfg.connection_timeout, 30);
  ck_assert_int_eq(cfg.max_proof, 16L * 1024 * 1024);
  ck_assert_int_eq(cfg.request_timeout, 60);
  ck_assert_int_eq(cfg.max_connections_per_ip, 64);
  ck_assert_int_eq(cfg.max_buffered_bytes, 256L * 1024 * 1024);
  ck_assert_ptr_null(cfg.tls_cert);
  ck_assert_ptr_null(cfg.tls_key_file);
  ck_assert_ptr_null(cfg.db_password_file);
  ck_assert_ptr_null(cfg.s3_credentials_file);
  char id[300];
  expected_instance_id(8080, id, sizeof id);
  ck_assert_str_eq(cfg.instance_id, id);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(file_parsing)
{
  const char *path = write_config("# the witness generator's settings\n"
                                  "\n"
                                  "   \n"
                                  "db = host=127.0.0.1 port=5999 dbname=wgtest\n"
                                  "listen=0.0.0.0:9000\n"
                                  "  # an indented comment = not a setting\n"
                                  "\tmax_attempts   =   3   \n"
                                  "leaf-arity = 4\n"
                                  "node_arity = 8\n"
                                  "witness-lease = 45\r\n"
                                  "witness_job_timeout = 30\n"
                                  "store = postgres\n"
                                  "max-body = 2M\n"
                                  "max-proof = 64K\n"
                                  "request_timeout = 7\n"
                                  "max-connections-per-ip = 0\n"
                                  "max_buffered_bytes = 1G\n"
                                  "max-circuits-in-flight = 5000\n"
                                  "log_level = debug\n"
                                  "instance-id = daemon-a\n");
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.config_file, path);
  /* Only the first '=' separates: the value may hold more. */
  ck_assert_str_eq(cfg.db, "host=127.0.0.1 port=5999 dbname=wgtest");
  ck_assert_str_eq(cfg.listen_host, "0.0.0.0");
  ck_assert_int_eq(cfg.listen_port, 9000);
  ck_assert_int_eq(cfg.max_attempts, 3);
  ck_assert_int_eq(cfg.leaf_arity, 4);
  ck_assert_int_eq(cfg.node_arity, 8);
  ck_assert_int_eq(cfg.witness_lease, 45);
  ck_assert_int_eq(cfg.witness_job_timeout, 30);
  ck_assert_str_eq(cfg.store, "postgres");
  ck_assert_int_eq(cfg.max_body, 2L * 1024 * 1024);
  ck_assert_int_eq(cfg.max_proof, 64L * 1024);
  ck_assert_int_eq(cfg.request_timeout, 7);
  ck_assert_int_eq(cfg.max_connections_per_ip, 0);
  ck_assert_int_eq(cfg.max_buffered_bytes, 1024L * 1024 * 1024);
  ck_assert_int_eq(cfg.max_circuits_in_flight, 5000);
  ck_assert_str_eq(cfg.log_level, "debug");
  ck_assert_str_eq(cfg.instance_id, "daemon-a");
  /* Untouched options keep their defaults. */
  ck_assert_int_eq(cfg.lease, 600);
  ck_assert_int_eq(cfg.workers, 1);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(file_errors)
{
  assert_file_error("# ok\nworkers = 2\nbogus_option = 1\n", 3, "bogus_option");
  assert_file_error("\n\nworkers = many\n", 3, "workers");
  assert_file_error("lease = 10x\n", 1, "lease");
  assert_file_error("workers = 0\n", 1, "workers");           /* below the minimum of 1 */
  assert_file_error("leaf-arity = 1\n", 1, "leaf-arity");     /* below the minimum of 2 */
  assert_file_error("max-body = 12Q\n", 1, "max-body");
  assert_file_error("max-body = 12iB\n", 1, "max-body"); /* "iB" only after K, M or G */
  assert_file_error("max-buffered-bytes = 12MB\n", 1, "max-buffered-bytes");
  assert_file_error("# no equals sign below\nlisten 127.0.0.1:1\n", 2, "key = value");
  assert_file_error("config = /etc/other.conf\n", 1, "config"); /* no nested config files */

  ck_assert_int_eq(LOAD("--config", "/nonexistent/wg-test.conf"), WG_CONFIG_ERROR);
  ck_assert_msg(strstr(err, "/nonexistent/wg-test.conf") != NULL, "error \"%s\" does not name the file", err);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(config_flag_forms)
{
  const char *path = write_config("workers = 4\n");
  ck_assert_int_eq(LOAD("--config=" "/dev/null"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 1);
  wg_config_free(&cfg);

  char eq[128];
  snprintf(eq, sizeof eq, "--config=%s", path);
  ck_assert_int_eq(LOAD(eq), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 4);
  ck_assert_str_eq(cfg.config_file, path);
  wg_config_free(&cfg);

  /* WG_CONFIG names the file too; --config wins over it. */
  setenv("WG_CONFIG", path, 1);
  ck_assert_int_eq(LOAD_NONE(), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 4);
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--config", "/dev/null"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 1);
  wg_config_free(&cfg);
}
END_TEST

/* --config may come anywhere among the options, also after one that takes a value. */
START_TEST(config_flag_after_other_options)
{
  const char *path = write_config("workers = 4\nlease = 77\n");
  ck_assert_int_eq(LOAD("--db", "dbname=x", "--config", path), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.db, "dbname=x");
  ck_assert_msg(cfg.workers == 4 && cfg.lease == 77,
                "--config after \"--db VALUE\" was not read (workers %ld, lease %ld)", cfg.workers, cfg.lease);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(config_flag_needs_value)
{
  ck_assert_int_eq(LOAD("--config"), WG_CONFIG_ERROR);
  ck_assert_msg(strstr(err, "config") != NULL, "error \"%s\" does not name --config", err);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(env_overrides_file)
{
  const char *path = write_config("workers = 3\nlease = 100\ndb = dbname=fromfile\nmax-body = 8K\n");
  setenv("WG_WORKERS", "5", 1);
  setenv("WG_DB", "dbname=fromenv", 1);
  setenv("WG_MAX_BODY", "2K", 1);
  setenv("WG_INSTANCE_ID", "env-instance", 1);
  setenv("WG_HTTP_THREADS", "3", 1);
  setenv("WG_WITNESS_JOB_TIMEOUT", "120", 1);
  setenv("WG_MAX_BUFFERED_BYTES", "64MiB", 1); /* "MiB" as well as "M" */
  setenv("WG_MAX_CIRCUITS_IN_FLIGHT", "100", 1);
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 5);
  ck_assert_int_eq(cfg.lease, 100); /* only in the file */
  ck_assert_str_eq(cfg.db, "dbname=fromenv");
  ck_assert_int_eq(cfg.max_body, 2048);
  ck_assert_str_eq(cfg.instance_id, "env-instance");
  ck_assert_int_eq(cfg.http_threads, 3);
  ck_assert_int_eq(cfg.db_pool, 5); /* follows http-threads */
  ck_assert_int_eq(cfg.witness_job_timeout, 120);
  ck_assert_int_eq(cfg.max_buffered_bytes, 64L * 1024 * 1024);
  ck_assert_int_eq(cfg.max_circuits_in_flight, 100);
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--config", path, "--max-circuits-in-flight", "7"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.max_circuits_in_flight, 7); /* the flag wins */
  wg_config_free(&cfg);
  ASSERT_LOAD_ERROR("max-circuits-in-flight", "--config", path, "--max-circuits-in-flight", "-1");
  unsetenv("WG_MAX_CIRCUITS_IN_FLIGHT");

  /* A bad value in the environment is an error that names the variable. */
  setenv("WG_LEASE", "soon", 1);
  ASSERT_LOAD_ERROR("WG_LEASE", "--config", path);
}
END_TEST

START_TEST(flags_override_env)
{
  const char *path = write_config("lease = 100\nworkers = 2\nnode-arity = 3\n");
  setenv("WG_LEASE", "200", 1);
  setenv("WG_WORKERS", "5", 1);
  setenv("WG_STORE", "postgres", 1);
  setenv("WG_LISTEN", "127.0.0.1:7000", 1);
  ck_assert_int_eq(LOAD("--config", path, "--lease", "300", "--workers=8", "--store=file:/tmp/s"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.lease, 300);
  ck_assert_int_eq(cfg.workers, 8);
  ck_assert_int_eq(cfg.node_arity, 3);       /* file only */
  ck_assert_int_eq(cfg.listen_port, 7000);   /* environment only */
  ck_assert_str_eq(cfg.store, "file:/tmp/s");
  wg_config_free(&cfg);

  /* The last of a repeated flag wins; a value may contain '='. */
  ck_assert_int_eq(LOAD("--workers", "2", "--workers", "6", "--db=host=h dbname=d"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.workers, 6);
  ck_assert_str_eq(cfg.db, "host=h dbname=d");
  wg_config_free(&cfg);
}
END_TEST

START_TEST(flag_errors)
{
  ASSERT_LOAD_ERROR("--bogus", "--bogus", "1");
  ASSERT_LOAD_ERROR("db", "--db");                 /* needs a value */
  ASSERT_LOAD_ERROR("stray", "--workers", "2", "stray");
  ASSERT_LOAD_ERROR("workers", "--workers", "0");
  ASSERT_LOAD_ERROR("workers", "--workers", "65");  /* over the maximum of 64 */
  ASSERT_LOAD_ERROR("workers", "--workers=");
  ASSERT_LOAD_ERROR("lease", "--lease", "1.5");
  ASSERT_LOAD_ERROR("witness-job-timeout", "--witness-job-timeout", "0");
  ASSERT_LOAD_ERROR("lease", "--lease", "99999999999999999999999");
  ASSERT_LOAD_ERROR("tls", "--tls-cert", "/tmp/cert.pem"); /* cert without key */
  ASSERT_LOAD_ERROR("tls-cert and tls-key-file", "--tls-key-file", "/tmp/key.pem"); /* key without cert */

  ck_assert_int_eq(LOAD("--help"), WG_CONFIG_HELP);
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--workers", "2", "-h"), WG_CONFIG_HELP);
  wg_config_free(&cfg);
}
END_TEST

START_TEST(listen_parsing)
{
  ck_assert_int_eq(LOAD("--listen", "10.1.2.3:65535"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.listen, "10.1.2.3:65535");
  ck_assert_str_eq(cfg.listen_host, "10.1.2.3");
  ck_assert_int_eq(cfg.listen_port, 65535);
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--listen=localhost:1"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.listen_host, "localhost");
  ck_assert_int_eq(cfg.listen_port, 1);
  wg_config_free(&cfg);

  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1");       /* no port */
  ASSERT_LOAD_ERROR("listen", "--listen", ":8080");           /* no host */
  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1:");      /* empty port */
  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1:http");  /* not a number */
  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1:65536"); /* out of range */
  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1:-1");
  ASSERT_LOAD_ERROR("listen", "--listen", "127.0.0.1:80x");
  setenv("WG_LISTEN", "nonsense", 1);
  ASSERT_LOAD_ERROR("nonsense", "--workers", "1");
}
END_TEST

START_TEST(store_validation)
{
  ck_assert_int_eq(LOAD("--store", "postgres"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.store, "postgres");
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--store", "file:/var/lib/wg"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.store, "file:/var/lib/wg");
  wg_config_free(&cfg);

  ck_assert_int_eq(LOAD("--store", "s3://bucket/some/prefix"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.store, "s3://bucket/some/prefix");
  ck_assert_ptr_null(cfg.s3_endpoint);
  ck_assert_str_eq(cfg.s3_region, "us-east-1");
  wg_config_free(&cfg);
  setenv("WG_S3_REGION", "eu-west-3", 1);
  ck_assert_int_eq(LOAD("--store=s3://bucket", "--s3-endpoint", "http://127.0.0.1:9000"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.s3_endpoint, "http://127.0.0.1:9000");
  ck_assert_str_eq(cfg.s3_region, "eu-west-3");
  wg_config_free(&cfg);

  ASSERT_LOAD_ERROR("store", "--store", "file:");
  ASSERT_LOAD_ERROR("store", "--store", "s3://");
  ASSERT_LOAD_ERROR("store", "--store", "s3:///prefix");
  ASSERT_LOAD_ERROR("store", "--store", "s3:bucket");
  ASSERT_LOAD_ERROR("store", "--store", "/var/lib/wg");
  ASSERT_LOAD_ERROR("store", "--store", "");
  ASSERT_LOAD_ERROR("store", "--store", "postgresql");
}
END_TEST

static long max_body_of(const char *value)
{
  char flag[64];
  snprintf(flag, sizeof flag, "--max-body=%s", value);
  enum wg_config_result r = LOAD(flag);
  long v = r == WG_CONFIG_OK ? cfg.max_body : -1;
  wg_config_free(&cfg);
  return v;
}

START_TEST(size_suffixes)
{
  ck_assert_int_eq(max_body_of("4096"), 4096);
  ck_assert_int_eq(max_body_of("1024"), 1024); /* the minimum */
  ck_assert_int_eq(max_body_of("4K"), 4096);
  ck_assert_int_eq(max_body_of("4k"), 4096);
  ck_assert_int_eq(max_body_of("3M"), 3L * 1024 * 1024);
  ck_assert_int_eq(max_body_of("3m"), 3L * 1024 * 1024);
  ck_assert_int_eq(max_body_of("2G"), 2L * 1024 * 1024 * 1024);
  ck_assert_int_eq(max_body_of("9223372036854775807"), LONG_MAX);
  /* Errors: below the minimum, unknown or doubled suffixes, signs, overflow, empty. */
  ck_assert_int_eq(max_body_of("1023"), -1);
  ck_assert_int_eq(max_body_of("0"), -1);
  ck_assert_int_eq(max_body_of("-4K"), -1);
  ck_assert_int_eq(max_body_of("4T"), -1);
  ck_assert_int_eq(max_body_of("4KB"), -1);
  ck_assert_int_eq(max_body_of("4 K"), -1);
  ck_assert_int_eq(max_body_of("K"), -1);
  ck_assert_int_eq(max_body_of(""), -1);
  ck_assert_int_eq(max_body_of("9999999999G"), -1);
  ck_assert_int_eq(max_body_of("99999999999999999999"), -1);
}
END_TEST

START_TEST(instance_id)
{
  char id[300];
  ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9123"), WG_CONFIG_OK);
  expected_instance_id(9123, id, sizeof id);
  ck_assert_str_eq(cfg.instance_id, id);
  wg_config_free(&cfg);

  /* Stable across restarts: the same settings give the same id. */
  ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9123"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.instance_id, id);
  wg_config_free(&cfg);

  ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9123", "--instance-id", "prover-host-7"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.instance_id, "prover-host-7");
  wg_config_free(&cfg);

  /* An empty id means the default. */
  ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9124", "--instance-id="), WG_CONFIG_OK);
  expected_instance_id(9124, id, sizeof id);
  ck_assert_str_eq(cfg.instance_id, id);
  wg_config_free(&cfg);
}
END_TEST

/* The pack cache: one directory per daemon by default, under systemd's state directory when
 * there is one; a bound in bytes with the usual suffixes, 0 allowed (spool only). */
START_TEST(cache_options)
{
  unsetenv("STATE_DIRECTORY");
  char host[256] = "localhost", want[600];
  ck_assert_int_eq(gethostname(host, sizeof host - 1), 0);
  host[sizeof host - 1] = '\0';
  for (char *p = host; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
      *p = '_';
  ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9125"), WG_CONFIG_OK);
  snprintf(want, sizeof want, "./var/cache/%s_9125", host);
  ck_assert_str_eq(cfg.cache_dir, want);
  ck_assert_int_eq(cfg.cache_bytes, 1024L * 1024 * 1024);
  wg_config_free(&cfg);

  ck_assert_int_eq(LOAD("--instance-id", "wg/1 x"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.cache_dir, "./var/cache/wg_1_x");
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--instance-id", ".."), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.cache_dir, "./var/cache/default");
  wg_config_free(&cfg);

  setenv("STATE_DIRECTORY", "/var/lib/witness-generator", 1);
  ck_assert_int_eq(LOAD("--instance-id", "wg-1"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.cache_dir, "/var/lib/witness-generator/cache/wg-1");
  wg_config_free(&cfg);
  unsetenv("STATE_DIRECTORY");

  ck_assert_int_eq(LOAD("--cache-dir", "/srv/wg-cache", "--cache-bytes", "0"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.cache_dir, "/srv/wg-cache");
  ck_assert_int_eq(cfg.cache_bytes, 0);
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--cache-bytes", "512MiB"), WG_CONFIG_OK);
  ck_assert_int_eq(cfg.cache_bytes, 512L * 1024 * 1024);
  wg_config_free(&cfg);

  ASSERT_LOAD_ERROR("cache-bytes", "--cache-bytes", "-1");
  ASSERT_LOAD_ERROR("cache-bytes", "--cache-bytes", "12MB");
  ASSERT_LOAD_ERROR("cache-bytes", "--cache-bytes", "lots");
  assert_file_error("cache-bytes = 1T\n", 1, "cache-bytes");
}
END_TEST

/* wgctl reads its command after the options: parsing stops at the first non-option. */
START_TEST(rest_index)
{
  int rest = -1;
  ck_assert_int_eq(load_args(&rest, "--db", "dbname=x", "token", "add", "--role", "admin", (const char *)NULL),
                   WG_CONFIG_OK);
  ck_assert_int_eq(rest, 3);
  ck_assert_str_eq(cfg.db, "dbname=x");
  wg_config_free(&cfg);

  rest = -1;
  ck_assert_int_eq(load_args(&rest, "migrate", (const char *)NULL), WG_CONFIG_OK);
  ck_assert_int_eq(rest, 1);
  wg_config_free(&cfg);

  rest = -1;
  ck_assert_int_eq(load_args(&rest, "--db=dbname=y", "--workers", "2", (const char *)NULL), WG_CONFIG_OK);
  ck_assert_int_eq(rest, 4); /* no command: rest == argc */
  ck_assert_int_eq(cfg.workers, 2);
  wg_config_free(&cfg);

  /* Options after the command are the command's, not the config's: "--role" is not an error. */
  const char *path = write_config("workers = 9\n");
  rest = -1;
  ck_assert_int_eq(load_args(&rest, "--config", path, "token", "list", "--config", "/nonexistent",
                             (const char *)NULL),
                   WG_CONFIG_OK);
  ck_assert_int_eq(rest, 3);
  ck_assert_int_eq(cfg.workers, 9);
  wg_config_free(&cfg);
}
END_TEST

/* Writes text with mode into dir/name and returns the path (in a static buffer per slot). */
static const char *write_secret(const char *dir, const char *name, const char *text, mode_t mode)
{
  static char paths[4][256];
  static int slot;
  char *path = paths[slot++ % 4];
  snprintf(path, 256, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(chmod(path, mode), 0);
  return path;
}

static void remove_dir(const char *dir, const char *const *names)
{
  char path[256];
  for (; *names != NULL; names++) {
    snprintf(path, sizeof path, "%s/%s", dir, *names);
    unlink(path);
  }
  rmdir(dir);
}

/* The secret files' options: flags, WG_* variables and config keys, and --tls-key, the old name
 * of --tls-key-file, in all three. */
START_TEST(secret_file_options)
{
  ck_assert_int_eq(LOAD("--tls-cert", "c.pem", "--tls-key-file", "k.pem", "--db-password-file", "pw",
                        "--s3-credentials-file", "s3"),
                   WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "k.pem");
  ck_assert_str_eq(cfg.db_password_file, "pw");
  ck_assert_str_eq(cfg.s3_credentials_file, "s3");
  ck_assert_ptr_null(cfg.secrets.tls_key); /* wg_config_load reads no secret */
  wg_config_free(&cfg);

  ck_assert_int_eq(LOAD("--tls-cert", "c.pem", "--tls-key=old.pem"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "old.pem");
  wg_config_free(&cfg);

  const char *path = write_config("tls-cert = c.pem\ntls_key = file-old.pem\ndb_password_file = file-pw\n");
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "file-old.pem");
  ck_assert_str_eq(cfg.db_password_file, "file-pw");
  wg_config_free(&cfg);

  setenv("WG_TLS_KEY", "env-old.pem", 1);
  setenv("WG_S3_CREDENTIALS_FILE", "env-s3", 1);
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "env-old.pem");
  ck_assert_str_eq(cfg.s3_credentials_file, "env-s3");
  wg_config_free(&cfg);
  /* Both names set: the current one wins. */
  setenv("WG_TLS_KEY_FILE", "env-new.pem", 1);
  ck_assert_int_eq(LOAD("--config", path), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "env-new.pem");
  wg_config_free(&cfg);
  ck_assert_int_eq(LOAD("--config", path, "--tls-key", "flag.pem"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.tls_key_file, "flag.pem");
  wg_config_free(&cfg);
}
END_TEST

/* $CREDENTIALS_DIRECTORY (systemd's LoadCredential=): a file there is used when no option names
 * one; a blank file (the unit's SetCredential= default, one newline) is no credential; an option
 * wins. */
START_TEST(credentials_directory)
{
  char dir[] = "/tmp/wg-test-creds.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  static const char *const names[] = {"db-password", "s3-credentials", "tls-key", NULL};
  write_secret(dir, "db-password", "pw\n", 0400);
  write_secret(dir, "s3-credentials", "\n", 0400);
  setenv("CREDENTIALS_DIRECTORY", dir, 1);
  char want[300];
  ck_assert_int_eq(LOAD_NONE(), WG_CONFIG_OK);
  snprintf(want, sizeof want, "%s/db-password", dir);
  ck_assert_str_eq(cfg.db_password_file, want);
  ck_assert_ptr_null(cfg.s3_credentials_file);
  ck_assert_ptr_null(cfg.tls_key_file);
  wg_config_free(&cfg);

  ck_assert_int_eq(LOAD("--db-password-file", "/elsewhere/pw"), WG_CONFIG_OK);
  ck_assert_str_eq(cfg.db_password_file, "/elsewhere/pw");
  wg_config_free(&cfg);

  /* A key without a certificate is a mistake worth stopping for, wherever the key comes from. */
  write_secret(dir, "tls-key", "KEY", 0400);
  snprintf(want, sizeof want, "the key is %s/tls-key", dir);
  ASSERT_LOAD_ERROR(want, "--workers", "1");
  ck_assert_int_eq(LOAD("--tls-cert", "c.pem"), WG_CONFIG_OK);
  snprintf(want, sizeof want, "%s/tls-key", dir);
  ck_assert_str_eq(cfg.tls_key_file, want);
  wg_config_free(&cfg);
  remove_dir(dir, names);
}
END_TEST

/* Reading the files: a mode that lets group or others in is refused with the command that fixes
 * it; a password loses its final newline; the S3 format and its errors, which show no value. */
START_TEST(secret_files)
{
  char dir[] = "/tmp/wg-test-secrets.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  static const char *const names[] = {"key", "pw", "s3", "empty", NULL};
  char *text;
  size_t len;
  char want[400];
  static const mode_t open_modes[] = {0644, 0640, 0604, 0660, 0602, 0610};
  for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
    const char *key = write_secret(dir, "key", "PEM", open_modes[i]);
    ck_assert(!wg_secret_file_read("TLS key file", key, &text, &len, err, sizeof err));
    ck_assert_ptr_null(text);
    snprintf(want, sizeof want, "Fix it with: chmod 600 %s", key);
    ck_assert_msg(strstr(err, want) != NULL && strstr(err, "TLS key file") != NULL, "error \"%s\"", err);
  }
  const char *key = write_secret(dir, "key", "PEM", 0600);
  ck_assert(wg_secret_file_read("TLS key file", key, &text, &len, err, sizeof err));
  ck_assert_str_eq(text, "PEM");
  ck_assert_uint_eq(len, 3);
  wg_secret_free(text);
  ck_assert(!wg_secret_file_read("TLS key file", dir, &text, &len, err, sizeof err));
  ck_assert_msg(strstr(err, "not a regular file") != NULL, "error \"%s\"", err);
  const char *empty = write_secret(dir, "empty", "", 0600);
  ck_assert(!wg_secret_file_read("TLS key file", empty, &text, &len, err, sizeof err));
  ck_assert_msg(strstr(err, "empty") != NULL, "error \"%s\"", err);

  /* wg_secrets_load: the password without its newline, the S3 keys from their file. */
  const char *pw = write_secret(dir, "pw", "s3cret pass\r\n", 0600);
  const char *s3 = write_secret(dir, "s3", "# keys of the wg bucket\n\n  access_key_id = AKIAFILE \n"
                                           "secret_access_key=sec=ret/+\nsession_token=tok\n", 0400);
  ck_assert_int_eq(LOAD("--tls-cert", "c.pem", "--tls-key-file", key, "--db-password-file", pw,
                        "--s3-credentials-file", s3),
                   WG_CONFIG_OK);
  ck_assert_msg(wg_secrets_load(&cfg, WG_SECRET_DB_PASSWORD | WG_SECRET_S3, err, sizeof err), "%s", err);
  ck_assert_ptr_null(cfg.secrets.tls_key); /* not asked for */
  ck_assert_str_eq(cfg.secrets.db_password, "s3cret pass");
  ck_assert_str_eq(cfg.secrets.s3_access_key_id, "AKIAFILE");
  ck_assert_str_eq(cfg.secrets.s3_secret_access_key, "sec=ret/+");
  ck_assert_str_eq(cfg.secrets.s3_session_token, "tok");
  ck_assert(wg_secrets_load(&cfg, WG_SECRET_TLS_KEY, err, sizeof err));
  ck_assert_str_eq(cfg.secrets.tls_key, "PEM");
  wg_config_free(&cfg);
  ck_assert_ptr_null(cfg.secrets.db_password);

  chmod(pw, 0644);
  ck_assert_int_eq(LOAD("--db-password-file", pw), WG_CONFIG_OK);
  ck_assert(!wg_secrets_load(&cfg, WG_SECRETS_ALL, err, sizeof err));
  snprintf(want, sizeof want, "database password file %s", pw);
  ck_assert_msg(strstr(err, want) != NULL && strstr(err, "chmod 600") != NULL, "error \"%s\"", err);
  wg_config_free(&cfg);
  pw = write_secret(dir, "pw", "\n", 0600);
  ck_assert_int_eq(LOAD("--db-password-file", pw), WG_CONFIG_OK);
  ck_assert(!wg_secrets_load(&cfg, WG_SECRETS_ALL, err, sizeof err));
  ck_assert_msg(strstr(err, "holds no password") != NULL, "error \"%s\"", err);
  wg_config_free(&cfg);

  static const struct {
    const char *text, *want;
  } bad[] = {
    {"access_key_id=A\n", "needs both"},
    {"secret_access_key=B\n", "needs both"},
    {"access_key_id=A\nsecret_access_key=B\nAKIAPASTED\n", "line 3: expected"},
    {"access_key_id=A\n\nsecret=VALUE\n", "line 3: expected"},
    {"access_key_id=A\naccess_key_id=A2\n", "line 2: access_key_id is given twice"},
    {"access_key_id=\n", "line 1: access_key_id is empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct wg_secrets sec = {0};
    char copy[128];
    snprintf(copy, sizeof copy, "%s", bad[i].text);
    ck_assert(!wg_secrets_parse_s3(copy, "F", &sec, err, sizeof err));
    ck_assert_msg(strstr(err, bad[i].want) != NULL, "error \"%s\" for case %zu", err, i);
    ck_assert_msg(strstr(err, "AKIAPASTED") == NULL && strstr(err, "VALUE") == NULL, "error \"%s\" shows a value", err);
    wg_secrets_wipe(&sec);
  }
  remove_dir(dir, names);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("config");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, file_parsing);
  tcase_add_test(tc, file_errors);
  tcase_add_test(tc, config_flag_forms);
  tcase_add_test(tc, config_flag_after_other_options);
  tcase_add_test(tc, config_flag_needs_value);
  tcase_add_test(tc, env_overrides_file);
  tcase_add_test(tc, flags_override_env);
  tcase_add_test(tc, flag_errors);
  tcase_add_test(tc, listen_parsing);
  tcase_add_test(tc, store_validation);
  tcase_add_test(tc, size_suffixes);
  tcase_add_test(tc, instance_id);
  tcase_add_test(tc, rest_index);
  tcase_add_test(tc, secret_file_options);
  tcase_add_test(tc, credentials_directory);
  tcase_add_test(tc, secret_files);
  tcase_add_test(tc, cache_options);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
