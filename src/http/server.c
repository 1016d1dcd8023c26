/* The libmicrohttpd glue: one access handler that routes, authorizes, checks the body's type
 * and size, reads (and if needed decodes) the body, and calls the route's handler.
 *
 * Everything that can be refused from the headers alone (unknown path, wrong method, missing or
 * wrong token, wrong content type, a Content-Length over --max-body) is refused on the first
 * callback, before any of the body is read. */
#include "config.h"

#include <arpa/inet.h>
#include <stdatomic.h>
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
#include "http/metrics.h"
#include "http/server.h"
#include "common/clock.h"

struct wg_server {
  struct MHD_Daemon *mhd;
  struct wg_app *app;
  char *tls_cert, *tls_key;
  bool quiesced;
  atomic_int in_flight; /* requests begun and not yet completed */
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
    enum wg_status s = wg_auth_lookup(rq->app->auth, token, &rq->role);
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
    const char *want = rq->route->body == WG_BODY_JSON ? "application/json" : "application/octet-stream";
    if (!media_type_is(ct, want)) {
      wg_reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                     "%s %s takes Content-Type %s, got %s", rq->method, rq->route->pattern, want, ct ? ct : "none");
      return true;
    }
    const char *enc = wg_request_header(rq, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc != NULL && strcasecmp(enc, "identity") != 0) {
      if (strcasecmp(enc, "gzip") != 0 || rq->route->body != WG_BODY_JSON) {
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
    if (*end == '\0' && n > (unsigned long long)rq->app->cfg->max_body) {
      wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                     "the body of %llu bytes is over the limit of %ld bytes", n, rq->app->cfg->max_body);
      return true;
    }
  }
  return false;
}

/* Keeps upload data up to --max-body; beyond it, reads and discards the rest. */
static void take_upload(struct wg_request *rq, const char *data, size_t size)
{
  size_t limit = (size_t)rq->app->cfg->max_body;
  if (rq->too_large || rq->route->body == WG_BODY_NONE)
    return;
  if (rq->body_len + size > limit) {
    rq->too_large = true;
    free(rq->body);
    rq->body = NULL;
    rq->body_len = rq->body_cap = 0;
    return;
  }
  if (rq->body_len + size + 1 > rq->body_cap) {
    size_t cap = rq->body_cap ? rq->body_cap : 4096;
    while (cap < rq->body_len + size + 1)
      cap *= 2;
    if (cap > limit + 1)
      cap = limit + 1;
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
    return wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", "the body is over the limit of %ld bytes",
                          rq->app->cfg->max_body);
  if (rq->gzip) {
    uint8_t *plain;
    size_t plain_len;
    enum wg_status s = wg_gunzip(rq->body, rq->body_len, (size_t)rq->app->cfg->max_body, &plain, &plain_len);
    if (s == WG_E_CONFLICT)
      return wg_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                            "the body decodes to more than the limit of %ld bytes", rq->app->cfg->max_body);
    if (s != WG_OK)
      return wg_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "the body is not valid gzip");
    free(rq->body);
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
    rq->started_us = wg_monotonic_us();
    *con_cls = rq;
    /* A request that arrives on a kept-alive connection after shutdown began is not started: it
     * could commit work (a claim) whose reply the closing daemon might never send. */
    if (atomic_load(&srv->app->closing)) {
      wg_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the daemon is shutting down");
      return MHD_YES;
    }
    /* A refusal is queued now; otherwise the body (if any) follows in the next calls. */
    (void)refuse_early(rq, url);
    return MHD_YES;
  }
  if (rq->replied) {
    /* Refused early: discard whatever body is still arriving. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    take_upload(rq, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  int r = finish_body(rq);
  if (r >= 0)
    return (enum MHD_Result)r;
  r = rq->route->handler(rq);
  /* The reply is built: the connection goes back to the pool now, not after a slow client has
   * read the whole response. */
  wg_request_db_release(rq);
  if (!rq->replied)
    r = wg_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the handler did not reply");
  return (enum MHD_Result)r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
  (void)conn, (void)toe;
  struct wg_server *srv = cls;
  struct wg_request *rq = *con_cls;
  if (rq == NULL)
    return;
  atomic_fetch_sub(&srv->in_flight, 1);
  if (rq->status != 0)
    wg_metrics_http(rq->route ? (int)(rq->route - wg_routes) : -1, rq->status, wg_monotonic_us() - rq->started_us);
  wg_db_release(rq->dbc);
  free(rq->body);
  free(rq);
  *con_cls = NULL;
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

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf != NULL)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

struct wg_server *wg_server_start(struct wg_app *app)
{
  const struct wg_config *cfg = app->cfg;
  struct wg_server *srv = calloc(1, sizeof *srv);
  srv->app = app;

  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)cfg->listen_port);
  if (inet_pton(AF_INET, strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host,
                &addr.sin_addr) != 1) {
    wg_error("listen: \"%s\" is not an IPv4 address", cfg->listen_host);
    free(srv);
    return NULL;
  }

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (cfg->tls_cert != NULL) {
    srv->tls_cert = read_file(cfg->tls_cert);
    srv->tls_key = read_file(cfg->tls_key);
    if (srv->tls_cert == NULL || srv->tls_key == NULL) {
      wg_error("cannot read the TLS certificate %s or key %s", cfg->tls_cert, cfg->tls_key);
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
    {cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert},
    {cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->tls_key},
    {MHD_OPTION_END, 0, NULL},
  };
  srv->mhd = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL, NULL, &on_access, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
  if (srv->mhd == NULL) {
    wg_error("cannot listen on %s", cfg->listen);
    wg_server_stop(srv);
    return NULL;
  }
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
  if (s->mhd != NULL)
    MHD_stop_daemon(s->mhd);
  free(s->tls_cert);
  free(s->tls_key);
  free(s);
}
