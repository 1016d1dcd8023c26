/* Daemon configuration (docs/command-line.md): built-in defaults, then the config file, then WG_*
 * environment variables, then command-line flags, each overriding the one before. */
#ifndef WG_CONFIG_H
#define WG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config/secrets.h"

struct wg_config {
  char *config_file;
  char *db;          /* libpq conninfo */
  char *listen;      /* HOST:PORT as given */
  char *listen_host; /* parsed from listen */
  int listen_port;
  char *store;       /* "file:DIR", "postgres" or "s3://BUCKET/PREFIX" */
  bool store_given;  /* store came from a flag, WG_STORE or the config file, not the default */
  char *cache_dir;   /* local pack cache of an s3:// or postgres store (store/pack_cache.h); default
                        ./var/cache/INSTANCE-ID */
  long cache_bytes;  /* most bytes of packs it keeps; 0: it only spools packs being written */
  char *s3_endpoint; /* NULL: AWS's endpoint of s3_region */
  char *s3_region;
  char *instance_id; /* default: host name and listen port */
  char *log_level;
  char *log_format;  /* "text" or "json" */
  long workers;      /* worker threads per round */
  long http_threads;
  long db_pool;      /* database connections for HTTP handlers; 0 = http_threads + 2, at most 16 */
  long lease;        /* prover job lease, seconds */
  long claim_grace;  /* a claimed prover job not yet downloaded nor heartbeaten is held this long */
  long witness_lease;
  long witness_job_timeout; /* seconds one run of a witness job may take; its lease is renewed no longer */
  long max_attempts;
  long retry_base_ms; /* backoff before a failed prover job's first retry, doubled per attempt */
  long retry_max_ms;  /* longest backoff */
  long max_circuits_in_flight; /* basic jobs wait while this many prover jobs are queued or in progress; 0 = off */
  long leaf_arity;
  long node_arity;
  long max_body;     /* witness-input bodies: bytes, on the wire and after decoding */
  long max_proof;    /* proof bodies, bytes */
  long max_buffered_bytes; /* request bodies held by all requests in flight at once (http/budget.h) */
  long poll_ms;      /* round workers' fallback poll when no notification arrives */
  long housekeeping_ms;
  long db_deadline_ms; /* longest wait for a statement's answer (db.h, WG_DB_DEFAULT_DEADLINE_MS) */
  long connection_timeout; /* seconds an idle or slow client may hold a connection */
  long request_timeout;    /* seconds from a connection's readiness to a request's last body byte */
  long max_connections_per_ip; /* 0: no limit */
  long archive_after;      /* seconds after which proven batches' prover jobs are archived; 0 = never */
  char *tls_cert;
  /* Files holding secrets (config/secrets.h): named by an option, or else the file of that name
   * in $CREDENTIALS_DIRECTORY, set by wg_config_load. Their contents are read by wg_secrets_load
   * into secrets, never by wg_config_load. */
  char *tls_key_file;        /* --tls-key-file, formerly --tls-key */
  char *db_password_file;    /* added to the libpq connection as its password */
  char *s3_credentials_file; /* access_key_id=..., secret_access_key=..., session_token=... */
  struct wg_secrets secrets;
};

/* Outcome of wg_config_load. */
enum wg_config_result { WG_CONFIG_OK = 0, WG_CONFIG_HELP, WG_CONFIG_ERROR };

/* Fills *c from defaults, the config file (--config or WG_CONFIG), the environment and argv.
 * Parsing stops at the first argument that is not an option (its index is stored in *rest, when
 * rest is not NULL, so that wgctl can read its command after the options); without rest such an
 * argument is an error. On WG_CONFIG_ERROR err holds a message naming the bad option or line. */
enum wg_config_result wg_config_load(struct wg_config *c, int argc, char **argv, int *rest, char *err,
                                     size_t err_len);
/* Frees c and wipes its secrets. */
void wg_config_free(struct wg_config *c);
/* Writes the option list for --help. */
void wg_config_usage(const char *program, void *file);

#endif
