/* Building replies: JSON bodies, raw bytes and the one error format of docs/api.md. JSON is
 * written as plain ASCII (common/text.h), so that not even a row stored before client text was
 * cleaned puts a control byte on the terminal of someone reading the API with curl. Every reply,
 * the early refusals and held 413s of server.c included, leaves through queue(), which adds the
 * headers that every reply carries. */
#include "config.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/text.h"
#include "http/server.h"

static int queue(struct wg_request *rq, unsigned status, struct MHD_Response *resp, const char *content_type)
{
  if (resp == NULL)
    return MHD_NO;
  if (content_type != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  /* A browser must not read a JSON error quoting client input, or a blob, as HTML. */
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (rq->request_id[0] != '\0')
    MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
  if (atomic_load(&rq->app->closing))
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  if (rq->hold_reply) {
    rq->held = resp;
    rq->status = status;
    rq->replied = true;
    return MHD_YES;
  }
  enum MHD_Result r = MHD_queue_response(rq->conn, status, resp);
  rq->status = status;
  MHD_destroy_response(resp);
  rq->replied = true;
  return r;
}

int wg_reply_bytes(struct wg_request *rq, unsigned status, const char *content_type, void *data, size_t len)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL)
    free(data);
  return queue(rq, status, resp, content_type);
}

int wg_reply_page(struct wg_request *rq, const char *html, size_t len, const char *csp)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)html, MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Security-Policy", csp);
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  return queue(rq, 200, resp, "text/html; charset=utf-8");
}

int wg_reply_json(struct wg_request *rq, unsigned status, json_t *body)
{
  char *text = wg_json_dumps_plain(body, JSON_COMPACT);
  json_decref(body);
  if (text == NULL)
    return MHD_NO;
  size_t len = strlen(text);
  return wg_reply_bytes(rq, status, "application/json", text, len);
}

int wg_reply_empty(struct wg_request *rq, unsigned status)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  return queue(rq, status, resp, NULL);
}

char *wg_error_body(const char *code, const char *message)
{
  json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
  char *text = body ? wg_json_dumps_plain(body, JSON_COMPACT) : NULL;
  json_decref(body);
  return text;
}

static int reply_error_v(struct wg_request *rq, unsigned status, const char *code, const char *fmt, va_list ap)
{
  char raw[1024];
  vsnprintf(raw, sizeof raw, fmt, ap);
  /* Messages may quote client input (a path, a key, a header, cut at any byte): cleaned like
   * every client text, which also leaves the valid UTF-8 that jansson needs. */
  char *message = wg_text_clean(raw, strlen(raw));
  char *text = wg_error_body(code, message);
  free(message);
  if (text == NULL)
    return MHD_NO;
  struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(text);
    return MHD_NO;
  }
  if (status == MHD_HTTP_UNAUTHORIZED)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED && rq->allow[0] != '\0')
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
  if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  return queue(rq, status, resp, "application/json");
}

int wg_reply_error(struct wg_request *rq, unsigned status, const char *code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = reply_error_v(rq, status, code, fmt, ap);
  va_end(ap);
  return r;
}

unsigned wg_http_status_of(enum wg_status s)
{
  switch (s) {
  case WG_OK: return MHD_HTTP_OK;
  case WG_E_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
  case WG_E_CONFLICT: return MHD_HTTP_CONFLICT;
  case WG_E_LEASE_LOST: return MHD_HTTP_CONFLICT;
  case WG_E_INVALID: return MHD_HTTP_BAD_REQUEST;
  case WG_E_UNAVAILABLE: return MHD_HTTP_SERVICE_UNAVAILABLE;
  case WG_E_INTERNAL: return MHD_HTTP_INTERNAL_SERVER_ERROR;
  case WG_E_DENIED: return MHD_HTTP_BAD_GATEWAY;
  }
  return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

const char *wg_error_code_of(enum wg_status s) { return wg_status_name(s); }

int wg_reply_status(struct wg_request *rq, enum wg_status s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = reply_error_v(rq, wg_http_status_of(s), wg_error_code_of(s), fmt, ap);
  va_end(ap);
  return r;
}
