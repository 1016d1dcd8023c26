/* The HTTP server: libmicrohttpd with a thread pool, request bodies with limits and gzip, and
 * the reply helpers every handler uses. */
#ifndef WG_SERVER_H
#define WG_SERVER_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "common/status.h"
#include "http/router.h"

struct wg_config;
struct wg_db;
struct wg_dbconn;
struct wg_store;
struct wg_auth;
struct wg_completer;
struct wg_claimer;
struct wg_claim_waiters;
struct wg_toucher;
struct wg_job_cache;
struct wg_health;
struct wg_budget;

/* A client's X-Request-Id is used when it is 1 to this many of [A-Za-z0-9._:-]; otherwise the
 * daemon makes one, so that a hostile header can neither bloat nor forge log lines. */
#define WG_REQUEST_ID_MAX 64

/* What handlers may use: shared, long-lived, thread-safe. */
struct wg_app {
  const struct wg_config *cfg;
  struct wg_db *db;
  struct wg_auth *auth;
  struct wg_store *store;
  struct wg_completer *completer; /* group commit of prover job completions */
  struct wg_claimer *claimer;     /* combined claims of prover jobs */
  struct wg_claim_waiters *waiters; /* claims waiting for work ("wait_ms") */
  struct wg_toucher *toucher;       /* combined witness downloads' lease fencing */
  struct wg_job_cache *jobs;      /* where claimed jobs' witnesses lie */
  struct wg_health *health;       /* whether the database answers, for /readyz */
  struct wg_budget *budget;       /* request bodies held at once (--max-buffered-bytes) */
  atomic_bool closing; /* set at shutdown: no new request starts, connections are not kept alive */
};

struct MHD_Connection;
struct MHD_Response;

struct wg_request {
  struct wg_app *app;
  struct MHD_Connection *conn;
  const struct wg_route *route;
  int64_t params[WG_MAX_PATH_PARAMS];
  enum wg_role role;
  const char *method;
  uint8_t *body; /* the decoded body, body_len bytes, NUL-terminated for convenience */
  size_t body_len;
  /* internal */
  size_t body_cap;
  bool first_call_done;
  bool too_large;
  bool over_budget; /* refused for --max-buffered-bytes: 503, the body read and thrown away */
  size_t reserved;  /* bytes of app->budget this request holds, given back when it ends */
  bool gzip;
  bool replied;
  struct wg_dbconn *dbc;
  char allow[64]; /* the Allow header of a 405 */
  unsigned status; /* the status replied */
  int64_t started_us;
  char request_id[WG_REQUEST_ID_MAX + 1]; /* echoed in X-Request-Id and logged */
  char token_name[WG_TOKEN_NAME_MAX + 1]; /* the caller's token's name, for the access log */
  char method_copy[16];                   /* the method as the access log names it */
  /* An early refusal of a request whose body is on its way is held until that body has been
   * read (a lingering close): clients that send the whole body before reading see the reply. */
  bool hold_reply;             /* set by the server: reply helpers store the reply in held */
  struct MHD_Response *held;   /* the refusal waiting for the end of the body */
  size_t body_seen;            /* body bytes received, kept or discarded */
  int64_t linger_until_ms;     /* a held refusal stops waiting for the body at this time */
  /* Set by a handler whose reply hands something over (a claim): called once when the request
   * ends, with delivered false when the reply did not reach the client whole. */
  void (*on_end)(struct wg_request *rq, bool delivered);
  void *on_end_arg;
  /* A request parked by its handler (wg_request_suspend, a claim waiting for work) holds no
   * thread; wg_request_resume has on_resume make its reply on an HTTP thread. */
  bool suspended;
  int (*_Atomic on_resume)(struct wg_request *rq);
};

/* Starts serving; NULL on failure (the reason is logged). With --tls-cert the key is
 * cfg->secrets.tls_key, which GnuTLS has parsed by the time this returns: the caller wipes it. */
struct wg_server *wg_server_start(struct wg_app *app);
/* The port actually bound (useful with port 0). */
int wg_server_port(struct wg_server *s);
/* Stops accepting connections; requests in flight go on. */
void wg_server_quiesce(struct wg_server *s);
/* Waits until no request is in flight, at most timeout_ms; false on timeout. */
bool wg_server_drain(struct wg_server *s, long timeout_ms);
void wg_server_stop(struct wg_server *s);

/* The request's database connection, taken from the pool on first use and returned when the
 * request completes. NULL when the database is unreachable. */
struct wg_dbconn *wg_request_db(struct wg_request *rq);
/* Gives the request's connection back to the pool early (it is given back anyway when the
 * request completes). */
void wg_request_db_release(struct wg_request *rq);
/* Whether the client has closed its side of the connection (it gave up waiting): a reply would
 * reach no one. */
bool wg_request_client_gone(struct wg_request *rq);
/* Parks the request: the handler returns without replying and no HTTP thread is held; the
 * request ends only through wg_request_resume (or the client's connection closing). Only from a
 * handler. */
void wg_request_suspend(struct wg_request *rq);
/* From any thread: wakes a parked request, whose reply fn then makes on an HTTP thread (with
 * the request's database connection available as in a handler). */
void wg_request_resume(struct wg_request *rq, int (*fn)(struct wg_request *rq));
/* A query-string argument, or NULL. */
const char *wg_request_arg(struct wg_request *rq, const char *name);
/* A request header, or NULL. */
const char *wg_request_header(struct wg_request *rq, const char *name);

/* Replies. Each returns the value the MHD access handler must return. Every reply carries
 * Cache-Control: no-store, X-Content-Type-Options: nosniff and the request's X-Request-Id. */
int wg_reply_json(struct wg_request *rq, unsigned status, json_t *body); /* steals body */
int wg_reply_bytes(struct wg_request *rq, unsigned status, const char *content_type, void *data, size_t len); /* takes ownership of malloc'd data */
int wg_reply_empty(struct wg_request *rq, unsigned status);
/* A static HTML page (not copied, not freed) under the given Content-Security-Policy, with no
 * referrer. */
int wg_reply_page(struct wg_request *rq, const char *html, size_t len, const char *csp);
/* The one JSON error reply: {"error":{"code":CODE,"message":MESSAGE}}. */
int wg_reply_error(struct wg_request *rq, unsigned status, const char *code, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* An error for a non-OK result of a lower layer, with its conventional status and code. */
int wg_reply_status(struct wg_request *rq, enum wg_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* HTTP status and error code for a wg_status (e.g. WG_E_LEASE_LOST -> 409 "lease_lost"). */
unsigned wg_http_status_of(enum wg_status s);
const char *wg_error_code_of(enum wg_status s);
/* The error body, as a string the caller frees (exported for unit tests). */
char *wg_error_body(const char *code, const char *message);

/* Asked for `bytes` more before an allocation; false refuses them. */
typedef bool (*wg_grow_fn)(void *arg, size_t bytes);
/* Decodes a gzip body into a malloc'd buffer of at most limit bytes. grow, unless NULL, is asked
 * for every byte the output buffer allocates, as it grows (what it granted is the caller's to
 * give back, whatever the result). Returns WG_OK, WG_E_INVALID for a corrupt stream,
 * WG_E_CONFLICT when the output would exceed limit, or WG_E_UNAVAILABLE when grow refused. */
enum wg_status wg_gunzip(const uint8_t *in, size_t in_len, size_t limit, wg_grow_fn grow, void *grow_arg,
                         uint8_t **out, size_t *out_len);

#endif

/* Request helpers shared by handlers. Each returns false after replying with a 400. */
/* Parses the body as a JSON object into *out (the caller decrefs). Every key of the object must
 * be one of keys[] (NULL-terminated), the keys its route reads; any other is a 400 invalid_input
 * naming it (docs/api.md#errors), so that a misspelt filter never changes what a request does. */
bool wg_request_json(struct wg_request *rq, const char *const keys[], json_t **out);
/* The caller as the holder of a job: the hash of its X-WG-Lease header and its token's name. A
 * missing header is a 400 (a request that never held a lease); any value present is taken as it
 * is, so that a wrong lease and another token's job get the same answer (409 lease_lost). */
struct wg_holder;
bool wg_request_holder(struct wg_request *rq, struct wg_holder *h);
/* Reads an optional non-negative integer query argument, *out = def when absent. */
bool wg_request_int_arg(struct wg_request *rq, const char *name, int64_t def, int64_t max, int64_t *out);
/* Reads body's optional field, a JSON array of at most 64 integers from 0 to max, as a PostgreSQL
 * array literal into buf (n bytes: 512 holds 64 values up to 255); absent, null or an empty array
 * leaves buf empty, which means every value (no filter). */
bool wg_request_int_list(struct wg_request *rq, json_t *body, const char *field, int max, char *buf, size_t n);
