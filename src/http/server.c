/* The libmicrohttpd glue: one access handler that routes, authorizes, checks the body's type
 * and size, reads (and if needed decodes) the body, and calls the route's handler.
 *
 * Everything that can be refused from the headers alone (unknown path, wrong method, missing or
 * wrong token, wrong content type, a Content-Length over the route's limit) is decided on the first
 * callback. When a body is on its way the refusal is held while the body is read and discarded
 * (bounded in bytes and time), because a client that writes its whole body before it reads would
 * otherwise see its connection reset under it and never read the reply.
 *
 * Bodies are held in memory, and all requests together hold at most --max-buffered-bytes of them
 * (http/budget.h): a request reserves its declared Content-Length before its body is read (a
 * chunked one as its buffer grows, a gzip one also as it decodes) and gives it back when it ends.
 * One that would pass the budget is answered 503 with Retry-After at once, its body thrown away
 * as a refusal's is; a chunked one that outgrows the budget is read to its end and thrown away.
 *
 * A request has --request-timeout seconds from the moment its connection is ready for it until
 * its last body byte: libmicrohttpd's own timeout is an idle one, which a client sending a byte
 * now and then never reaches, so a reaper thread shuts such connections down. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <sys/time.h>
#include <errno.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/db.h"
#include "http/budget.h"
#include "http/metrics.h"
#include "http/server.h"
#include "common/clock.h"

/* Body limits of the routes that do not take a witness input or a proof. */
#define SMALL_BODY (16 * 1024)
/* A held refusal reads the body up to the route's limit plus this much, for at most LINGER_MS. */
#define LINGER_BYTES (1024 * 1024)
#define LINGER_MS 5000
/* Our own header limits, answered in JSON; libmicrohttpd's (an HTML 414 or 431, which no option
 * of 0.9.75 lets us replace) then only meets requests far over these. */
#define MAX_URL 16384
#define MAX_HEADER 32768
#define CONNECTION_MEMORY (64 * 1024)
/* GnuTLS's defaults less TLS 1.0 and 1.1, CBC ciphers and key exchanges without forward secrecy. */
#define TLS_PRIORITIES                                                                                           \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"      \
  "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA"

/* A connection as the request-timeout reaper sees it. */
struct conn_track {
  MHD_socket fd;
  atomic_llong deadline_ms; /* 0 while a handler runs or its reply is sent */
  bool reaped;
  bool linger; /* answered before its body arrived: drain the body after the close */
  struct conn_track *prev, *next;
};

struct wg_server {
  struct MHD_Daemon *mhd;
  struct wg_app *app;
  char *tls_cert;
  bool quiesced;
  atomic_int in_flight; /* requests begun and not yet completed */
  pthread_mutex_t conns_lock;
  struct conn_track *conns;
  pthread_t reaper;
  bool reaper_started;
  atomic_bool stopping;
};

const char *wg_request_header(struct wg_request *rq, const char *name)
{
  return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *wg_request_arg(struct wg_request *rq, const char *name)
{
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct wg_dbconn *wg_request_db(struct wg_request *rq)
{
  if (rq->dbc == NULL)
    rq->dbc = wg_db_acquire(rq->app->db, 5000);
  return rq->dbc;
}

void wg_request_db_release(struct wg_request *rq)
{
  wg_db_release(rq->dbc);
  rq->dbc = NULL;
}

static size_t body_limit(const struct wg_request *rq)
{
  switch (rq->route != NULL ? rq->route->body : WG_BODY_NONE) {
  case WG_BODY_INPUT:
    return (size_t)rq->app->cfg->max_body;
  case WG_BODY_OCTET:
    return (size_t)rq->app->cfg->max_proof;
  case WG_BODY_JSON:
  case WG_BODY_NONE:
    break;
  }
  return SMALL_BODY;
}

/* Takes n more bytes of the budget for rq; false when they would pass it. */
static bool reserve(struct wg_request *rq, size_t n)
{
  if (rq->app->budget == NULL)
    return true;
  if (!wg_budget_reserve(rq->app->budget, n))
    return false;
  rq->reserved += n;
  return true;
}

static bool reserve_grow(void *rq, size_t n) { return reserve(rq, n); }

/* Gives back n bytes of what rq holds of the budget. */
static void release(struct wg_request *rq, size_t n)
{
  if (n > rq->reserved)
    n = rq->reserved;
  if (rq->app->budget != NULL && n > 0)
    wg_budget_release(rq->app->budget, n);
  rq->reserved -= n;
}

/* Throws the body away (it is over a limit), and what it held of the budget with it. */
static void drop_body(struct wg_request *rq)
{
  free(rq->body);
  rq->body = NULL;
  rq->body_len = rq->body_cap = 0;
  release(rq, rq->reserved);
}

static int reply_over_budget(struct wg_request *rq)
{
  rq->over_budget = true;
  double mib = 1024.0 * 1024.0;
  return wg_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                        "this body would take the request bodies held in memory past --max-buffered-bytes (%.1f MiB,"
                        " %.1f MiB held now): retry later", (double)wg_budget_limit(rq->app->budget) / mib,
                        (double)wg_budget_used(rq->app->budget) / mib);
}

/* Reserves a declared body before any of it is read; false after replying 503. A chunked body
 * declares nothing: it reserves as it grows (take_upload). */
static bool reserve_declared_body(struct wg_request *rq)
{
  if (rq->route->body == WG_BODY_NONE)
    return true;
  const char *cl = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl == NULL)
    return true;
  char *end;
  unsigned long long n = strtoull(cl, &end, 10);
  /* refuse_early let through only lengths within the route's limit. */
  if (*end != '\0' || n == 0 || n > body_limit(rq))
    return true;
  if (reserve(rq, (size_t)n + 1))
    return true;
  reply_over_budget(rq);
  return false;
}

static enum MHD_Result add_arg_length(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  *(size_t *)cls += strlen(key) + 2 + (value ? strlen(value) : 0);
  return MHD_YES;
}

/* "application/json" or "application/json; charset=utf-8" match "application/json". */
static bool media_type_is(const char *header, const char *want)
{
  if (header == NULL)
    return false;
  size_t n = strlen(want);
  if (strncasecmp(header, want, n) != 0)
    return false;
  return header[n] == '\0' || header[n] == ';' || header[n] == ' ';
}

/* Checks made on the first callback, from the headers alone. Returns true if a reply was queued. */
static bool refuse_early(struct wg_request *rq, const char *url)
{
  size_t url_len = strlen(url);
  MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg_length, &url_len);
  if (url_len > MAX_URL) {
    wg_reply_error(rq, MHD_HTTP_URI_TOO_LONG, "bad_request", "the URL is over the limit of %d bytes", MAX_URL);
    return true;
  }
  const union MHD_ConnectionInfo *hs = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (hs != NULL && hs->header_size > MAX_HEADER) {
    wg_reply_error(rq, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "bad_request",
                   "the request headers are over the limit of %d bytes", MAX_HEADER);
    return true;
  }

  struct wg_route_match m;
  /* HEAD is GET without the body (libmicrohttpd leaves the body out). */
  const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
  switch (wg_route_find(wg_routes, wg_routes_count, method, url, &m)) {
  case WG_ROUTE_NOT_FOUND:
    wg_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such path: %s", url);
    return true;
  case WG_ROUTE_BAD_METHOD:
    snprintf(rq->allow, sizeof rq->allow, "%s", m.allow);
    wg_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "%s is not allowed on %s; use %s",
                   rq->method, url, m.allow);
    return true;
  case WG_ROUTE_BAD_PARAM:
    wg_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "\"%s\" in %s is not a valid id (a decimal integer "
                   "from 0 to 9223372036854775807)", m.bad, url);
    return true;
  case WG_ROUTE_OK:
    break;
  }
  rq->route = m.route;
  memcpy(rq->params, m.params, sizeof rq->params);

  if (rq->route->role != WG_ROLE_ANYONE) {
    const char *header = wg_request_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = wg_bearer_token(header);
    if (token == NULL) {
      wg_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                     header ? "malformed Authorization header; expected \"Bearer TOKEN\""
                            : "this route needs a bearer token (Authorization: Bearer TOKEN)");
      return true;
    }
    enum wg_status s = wg_auth_lookup(rq->app->auth, token, &rq->role, rq->token_name, sizeof rq->token_name);
    if (s != WG_OK) {
      wg_reply_status(rq, s, "cannot check the token: the database is unavailable");
      return true;
    }
    if (rq->role == WG_ROLE_NONE) {
      wg_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized", "unknown or revoked token");
      return true;
    }
    if (!wg_role_allows(rq->role, rq->route->role, strcmp(method, "GET") == 0)) {
      wg_reply_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "role %s may not call %s %s (needs %s)",
                     wg_role_name(rq->role), rq->method, rq->route->pattern, wg_role_name(rq->route->role));
      return true;
    }
  }

  if (rq->route->body != WG_BODY_NONE) {
    const char *ct = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    bool json = rq->route->body == WG_BODY_JSON || rq->route->body == WG_BODY_INPUT;
    const char *want = json ? "application/json" : "application/octet-stream";
    if (!media_type_is(ct, want)) {
      wg_reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                     "%s %s takes Content-Type %s, got %s", rq->method, rq->route->pattern, want, ct ? ct : "none");
      return true;
    }
    const char *enc = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc != NULL && strcasecmp(enc, "identity") != 0) {
      if (strcasecmp(enc, "gzip") != 0 || !json) {
        wg_reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                       "Content-Encoding %s is not supported here", enc);
        return true;
      }
      rq->gzip = true;
    }
  }

  const char *cl = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl != NULL) {
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (*end == '\0' && n > (unsigned long long)body_limit(rq)) {
      wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                     "the body of %llu bytes is over the limit of %zu bytes for %s %s", n, body_limit(rq), rq->method,
                     rq->route->pattern);
      return true;
    }
  }
  return false;
}

/* Keeps upload data up to the route's limit; beyond it, reads and discards the rest. */
static void take_upload(struct wg_request *rq, const char *data, size_t size)
{
  size_t limit = body_limit(rq);
  if (rq->too_large || rq->over_budget)
    return;
  if (rq->body_seen > limit) {
    rq->too_large = true;
    drop_body(rq);
    return;
  }
  if (rq->route->body == WG_BODY_NONE)
    return;
  if (rq->body_len + size + 1 > rq->body_cap) {
    /* A declared body (reserved whole) is allocated whole; a chunked one doubles. */
    size_t cap = rq->body_cap ? rq->body_cap : rq->reserved > 0 ? rq->reserved : 4096;
    while (cap < rq->body_len + size + 1)
      cap *= 2;
    if (cap > limit + 1)
      cap = limit + 1;
    /* Until the body is complete, all the request holds of the budget is for this buffer. */
    if (cap > rq->reserved && !reserve(rq, cap - rq->reserved)) {
      drop_body(rq);
      rq->over_budget = true;
      return;
    }
    uint8_t *bigger = realloc(rq->body, cap);
    if (bigger == NULL) {
      rq->too_large = true;
      return;
    }
    rq->body = bigger;
    rq->body_cap = cap;
  }
  memcpy(rq->body + rq->body_len, data, size);
  rq->body_len += size;
  rq->body[rq->body_len] = '\0';
}

static int finish_body(struct wg_request *rq)
{
  if (rq->too_large)
    return wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                          "the body is over the limit of %zu bytes for %s %s", body_limit(rq), rq->method,
                          rq->route->pattern);
  if (rq->over_budget)
    return reply_over_budget(rq);
  if (rq->gzip) {
    uint8_t *plain;
    size_t plain_len, wire = rq->reserved;
    enum wg_status s = wg_gunzip(rq->body, rq->body_len, body_limit(rq), reserve_grow, rq, &plain, &plain_len);
    if (s == WG_E_UNAVAILABLE) {
      drop_body(rq);
      return reply_over_budget(rq);
    }
    if (s == WG_E_CONFLICT)
      return wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                            "the body decodes to more than the limit of %zu bytes for %s %s", body_limit(rq),
                            rq->method, rq->route->pattern);
    if (s != WG_OK)
      return wg_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "the body is not valid gzip");
    free(rq->body);
    release(rq, wire);
    rq->body = plain;
    rq->body_len = plain_len;
    rq->body_cap = plain_len + 1;
  }
  if (rq->body == NULL) {
    rq->body = calloc(1, 1);
    rq->body_cap = 1;
  }
  return -1;
}

/* How much of a body is read before the connection is closed instead: the route's limit (the
 * largest one while the route is unknown) plus the slack of a held refusal. */
static size_t read_budget(const struct wg_request *rq)
{
  const struct wg_config *cfg = rq->app->cfg;
  size_t limit = rq->route != NULL ? body_limit(rq) : (size_t)(cfg->max_body > cfg->max_proof ? cfg->max_body : cfg->max_proof);
  return limit + LINGER_BYTES;
}

/* Whether a body is still to come that its client sends without waiting for "100 Continue" (a
 * client that waits is best answered before it sends anything). */
static bool body_follows(struct wg_request *rq)
{
  const char *expect = wg_request_header(rq, MHD_HTTP_HEADER_EXPECT);
  if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
    return false;
  const char *cl = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl != NULL)
    return strspn(cl, "0") != strlen(cl);
  return wg_request_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static enum MHD_Result queue_held(struct wg_request *rq)
{
  enum MHD_Result r = MHD_queue_response(rq->conn, rq->status, rq->held);
  MHD_destroy_response(rq->held);
  rq->held = NULL;
  return r;
}

static struct conn_track *track_of(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci != NULL ? ci->socket_context : NULL;
}

/* The client's X-Request-Id when it is sane, else 16 random hex digits. */
static void take_request_id(struct wg_request *rq)
{
  const char *given = wg_request_header(rq, "X-Request-Id");
  size_t n = given != NULL ? strlen(given) : 0;
  if (n > 0 && n <= WG_REQUEST_ID_MAX &&
      strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n) {
    memcpy(rq->request_id, given, n + 1);
    return;
  }
  uint8_t raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    static atomic_ullong fallback;
    unsigned long long v = atomic_fetch_add(&fallback, 1) ^ (unsigned long long)wg_monotonic_us();
    memcpy(raw, &v, sizeof raw);
  }
  wg_hex_encode(raw, sizeof raw, rq->request_id);
}

/* One line per answered request: who (the token's name, never the token), what, how it ended. */
static void log_access(const struct wg_request *rq, int64_t micros)
{
  char status[8], ms[32];
  snprintf(status, sizeof status, "%u", rq->status);
  snprintf(ms, sizeof ms, "%.3f", (double)micros / 1000.0);
  struct wg_log_field f[] = {
    {"request_id", rq->request_id, false},
    {"method", rq->method_copy, false},
    {"route", rq->route != NULL ? rq->route->pattern : "unmatched", false},
    {"status", status, true},
    {"duration_ms", ms, true},
    {"token_name", rq->token_name, false},
  };
  wg_log_fields(WG_LOG_INFO, "access", f, sizeof f / sizeof f[0]);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
  (void)version;
  struct wg_server *srv = cls;
  struct wg_request *rq = *con_cls;
  if (rq == NULL) {
    rq = calloc(1, sizeof *rq);
    if (rq == NULL)
      return MHD_NO;
    rq->app = srv->app;
    rq->conn = conn;
    atomic_fetch_add(&srv->in_flight, 1);
    rq->method = method;
    snprintf(rq->method_copy, sizeof rq->method_copy, "%s", method);
    rq->started_us = wg_monotonic_us();
    take_request_id(rq);
    *con_cls = rq;
    /* A request that arrives on a kept-alive connection after shutdown began is not started: it
     * could commit work (a claim) whose reply the closing daemon might never send. */
    if (atomic_load(&srv->app->closing)) {
      wg_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the daemon is shutting down");
      return MHD_YES;
    }
    /* A refusal is held while its body arrives, unless that body is declared over the limit or
     * over the budget: then it is answered at once, and the connection lingers after its close
     * (linger_after_close) so that a client that writes its whole body first still reads it. */
    rq->hold_reply = body_follows(rq);
    if (!refuse_early(rq, url))
      (void)reserve_declared_body(rq);
    rq->hold_reply = false;
    if (rq->held != NULL && (rq->status == MHD_HTTP_CONTENT_TOO_LARGE || rq->over_budget)) {
      struct conn_track *t = track_of(conn);
      if (t != NULL)
        t->linger = true;
      return queue_held(rq);
    }
    rq->linger_until_ms = wg_monotonic_ms() + LINGER_MS;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    rq->body_seen += *upload_data_size;
    /* Bounded: past this the client gets a reset rather than an endless read. */
    if (rq->body_seen > read_budget(rq) || (rq->held != NULL && wg_monotonic_ms() > rq->linger_until_ms))
      return MHD_NO;
    if (!rq->replied)
      take_upload(rq, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  struct conn_track *track = track_of(conn);
  if (track != NULL)
    atomic_store(&track->deadline_ms, 0);
  if (rq->held != NULL)
    return queue_held(rq);
  int (*resume)(struct wg_request *) = atomic_exchange(&rq->on_resume, NULL);
  int r;
  if (resume != NULL) {
    rq->suspended = false;
    r = resume(rq);
  } else {
    if (rq->replied || rq->suspended)
      return MHD_YES;
    r = finish_body(rq);
    if (r >= 0)
      return (enum MHD_Result)r;
    r = rq->route->handler(rq);
  }
  /* The reply is built: the connection goes back to the pool now, not after a slow client has
   * read the whole response. */
  wg_request_db_release(rq);
  if (rq->suspended)
    return MHD_YES;
  if (!rq->replied)
    r = wg_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the handler did not reply");
  return (enum MHD_Result)r;
}

void wg_request_suspend(struct wg_request *rq)
{
  rq->suspended = true;
  MHD_suspend_connection(rq->conn);
}

void wg_request_resume(struct wg_request *rq, int (*fn)(struct wg_request *rq))
{
  atomic_store(&rq->on_resume, fn);
  MHD_resume_connection(rq->conn);
}

bool wg_request_client_gone(struct wg_request *rq)
{
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == NULL)
    return false;
  struct pollfd p = {info->connect_fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
  struct wg_server *srv = cls;
  struct wg_request *rq = *con_cls;
  if (rq == NULL)
    return;
  atomic_fetch_sub(&srv->in_flight, 1);
  if (rq->on_end != NULL)
    rq->on_end(rq, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
  /* A kept-alive connection has the whole --request-timeout for its next request. */
  struct conn_track *track = track_of(conn);
  if (track != NULL)
    atomic_store(&track->deadline_ms, wg_monotonic_ms() + srv->app->cfg->request_timeout * 1000);
  if (rq->held != NULL)
    MHD_destroy_response(rq->held);
  if (rq->status != 0) {
    int64_t micros = wg_monotonic_us() - rq->started_us;
    wg_metrics_http(rq->route ? (int)(rq->route - wg_routes) : -1, rq->status, micros);
    log_access(rq, micros);
  }
  wg_db_release(rq->dbc);
  drop_body(rq);
  free(rq);
  *con_cls = NULL;
}

/* A lingering close: the body of a request answered before it arrived is read and thrown away
 * on a duplicate of the socket, so that closing it does not reset the connection under a client
 * still sending, which would lose the reply it has not read yet. It ends when the client closes,
 * after 64 MiB, when the client has sent nothing for --connection-timeout, or after
 * --request-timeout (the limits of any connection and of any request's body): in a flood of
 * refused uploads on a loaded machine a client may wait seconds for its turn to send. Budget
 * refusals come in floods (every upload past the budget is one), hence room for as many as the
 * per-address limit lets four addresses hold; each thread keeps a small stack and reads into a
 * 16 KiB buffer, so they cost little memory. */
static atomic_int lingering;
#define LINGER_MAX_CONNECTIONS 256
#define LINGER_STACK (256 * 1024)

struct lingering_close {
  int fd;
  int64_t deadline_ms;
  int64_t idle_ms;
};

static void *linger_main(void *arg)
{
  struct lingering_close l = *(struct lingering_close *)arg;
  free(arg);
  struct timeval tv = {0, 200 * 1000};
  setsockopt(l.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int64_t now = wg_monotonic_ms(), idle_until = now + l.idle_ms;
  size_t drained = 0;
  char buf[16384];
  while (now < l.deadline_ms && now < idle_until && drained < 64u * 1024 * 1024) {
    ssize_t n = recv(l.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      break;
    now = wg_monotonic_ms();
    if (n > 0) {
      drained += (size_t)n;
      idle_until = now + l.idle_ms;
    }
  }
  close(l.fd);
  atomic_fetch_sub(&lingering, 1);
  return NULL;
}

static void linger_after_close(MHD_socket fd, const struct wg_config *cfg)
{
  if (atomic_fetch_add(&lingering, 1) >= LINGER_MAX_CONNECTIONS) {
    atomic_fetch_sub(&lingering, 1);
    return;
  }
  struct lingering_close *l = malloc(sizeof *l);
  int copy = l != NULL ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  pthread_attr_t attr;
  pthread_t thread;
  bool started = false;
  if (copy >= 0 && pthread_attr_init(&attr) == 0) {
    *l = (struct lingering_close){copy, wg_monotonic_ms() + cfg->request_timeout * 1000, cfg->connection_timeout * 1000};
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, LINGER_STACK);
    started = pthread_create(&thread, &attr, linger_main, l) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!started) {
    if (copy >= 0)
      close(copy);
    free(l);
    atomic_fetch_sub(&lingering, 1);
  }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  struct wg_server *srv = cls;
  struct conn_track *t = *socket_context;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    t = ci != NULL ? calloc(1, sizeof *t) : NULL;
    if (t == NULL)
      return;
    t->fd = ci->connect_fd;
    atomic_init(&t->deadline_ms, wg_monotonic_ms() + srv->app->cfg->request_timeout * 1000);
    pthread_mutex_lock(&srv->conns_lock);
    t->next = srv->conns;
    if (srv->conns != NULL)
      srv->conns->prev = t;
    srv->conns = t;
    pthread_mutex_unlock(&srv->conns_lock);
    *socket_context = t;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && t != NULL) {
    /* libmicrohttpd closes the socket after this returns, so the reaper, which shuts sockets
     * down under the same lock, never touches a descriptor that was closed and reused. */
    pthread_mutex_lock(&srv->conns_lock);
    if (t->prev != NULL)
      t->prev->next = t->next;
    else
      srv->conns = t->next;
    if (t->next != NULL)
      t->next->prev = t->prev;
    pthread_mutex_unlock(&srv->conns_lock);
    if (t->linger && !t->reaped)
      linger_after_close(t->fd, srv->app->cfg);
    free(t);
    *socket_context = NULL;
  }
}

/* Shutting a socket down makes libmicrohttpd's own thread see the end of the stream and close
 * the connection, the only safe way to end it from another thread. */
static void *reap_slow_requests(void *arg)
{
  struct wg_server *srv = arg;
  while (!atomic_load(&srv->stopping)) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    int64_t now = wg_monotonic_ms();
    pthread_mutex_lock(&srv->conns_lock);
    for (struct conn_track *t = srv->conns; t != NULL; t = t->next) {
      long long deadline = atomic_load(&t->deadline_ms);
      if (!t->reaped && deadline != 0 && now > deadline) {
        t->reaped = true;
        shutdown(t->fd, SHUT_RDWR);
      }
    }
    pthread_mutex_unlock(&srv->conns_lock);
  }
  return NULL;
}

/* Percent-decoding of the path and query arguments that leaves "%00" as it is: a decoded NUL
 * would cut the string short, and "/healthz%00junk" would be routed as "/healthz". */
static size_t unescape_keeping_nul(void *cls, struct MHD_Connection *conn, char *s)
{
  (void)cls, (void)conn;
  char *w = s;
  for (const char *r = s; *r != '\0';) {
    int hi = r[0] == '%' ? wg_hex_digit(r[1]) : -1, lo = hi >= 0 ? wg_hex_digit(r[2]) : -1;
    if (lo >= 0 && (hi | lo) != 0) {
      *w++ = (char)(hi * 16 + lo);
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  if (n > 0 && msg[n - 1] == '\n')
    msg[n - 1] = '\0';
  wg_debug("http: %s", msg);
}

/* The certificate (public; the key was read at start by wg_secrets_load, with its mode checked). */
static char *read_file(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  size_t n = (size_t)st.st_size, got = 0;
  char *buf = malloc(n + 1);
  while (buf != NULL && got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) {
      free(buf);
      buf = NULL;
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (buf != NULL)
    buf[n] = '\0';
  return buf;
}

struct wg_server *wg_server_start(struct wg_app *app)
{
  const struct wg_config *cfg = app->cfg;
  struct wg_server *srv = calloc(1, sizeof *srv);
  srv->app = app;
  pthread_mutex_init(&srv->conns_lock, NULL);

  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)cfg->listen_port);
  if (inet_pton(AF_INET, strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host,
                &addr.sin_addr) != 1) {
    wg_error("listen: \"%s\" is not an IPv4 address", cfg->listen_host);
    free(srv);
    return NULL;
  }

  unsigned flags =
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (cfg->tls_cert != NULL) {
    srv->tls_cert = read_file(cfg->tls_cert);
    if (srv->tls_cert == NULL || cfg->secrets.tls_key == NULL) {
      wg_error("cannot read the TLS certificate %s%s", cfg->tls_cert, srv->tls_cert ? " (no key was loaded)" : "");
      wg_server_stop(srv);
      return NULL;
    }
    flags |= MHD_USE_TLS;
  }

  struct MHD_OptionItem opts[] = {
    {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->http_threads, NULL},
    {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->connection_timeout, NULL},
    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
    {MHD_OPTION_SOCK_ADDR, 0, &addr},
    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
    {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_keeping_nul, NULL},
    {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)cfg->max_connections_per_ip, NULL},
    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL},
    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv},
    {cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert},
    {cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, cfg->secrets.tls_key},
    {cfg->tls_cert ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0, TLS_PRIORITIES},
    {MHD_OPTION_END, 0, NULL},
  };
  srv->mhd = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL, NULL, &on_access, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
  if (srv->mhd == NULL) {
    wg_error("cannot listen on %s", cfg->listen);
    wg_server_stop(srv);
    return NULL;
  }
  if (pthread_create(&srv->reaper, NULL, reap_slow_requests, srv) != 0) {
    wg_error("cannot start the request-timeout thread");
    wg_server_stop(srv);
    return NULL;
  }
  srv->reaper_started = true;
  return srv;
}

int wg_server_port(struct wg_server *s)
{
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : -1;
}

void wg_server_quiesce(struct wg_server *s)
{
  if (s == NULL || s->mhd == NULL || s->quiesced)
    return;
  s->quiesced = true;
  atomic_store(&s->app->closing, true);
  /* In epoll mode MHD takes the listen socket out of its polling at once; closing it now makes
   * new clients see a refused connection (which they retry elsewhere or later) instead of
   * waiting in the kernel's backlog until the daemon exits and then being reset. */
  MHD_socket fd = MHD_quiesce_daemon(s->mhd);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
}

bool wg_server_drain(struct wg_server *s, long timeout_ms)
{
  int64_t deadline = wg_monotonic_ms() + timeout_ms;
  while (atomic_load(&s->in_flight) > 0) {
    if (wg_monotonic_ms() > deadline)
      return false;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return true;
}

void wg_server_stop(struct wg_server *s)
{
  if (s == NULL)
    return;
  atomic_store(&s->stopping, true);
  if (s->reaper_started)
    pthread_join(s->reaper, NULL);
  if (s->mhd != NULL)
    MHD_stop_daemon(s->mhd);
  pthread_mutex_destroy(&s->conns_lock);
  free(s->tls_cert);
  free(s);
}
