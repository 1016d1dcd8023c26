/* The s3://BUCKET/PREFIX backend: blobs are objects of an S3-compatible bucket, addressed
 * path-style (ENDPOINT/BUCKET/PREFIX/KEY), so that daemons on several machines share them without
 * the database carrying their bytes. libcurl signs every request (AWS Signature V4); this file only
 * builds URLs and headers, maps answers onto statuses and retries what is transient.
 *
 * Durability: S3 acknowledges a PUT only once the object is stored, and a PUT replaces an object
 * whole, so a reader sees the old blob or the new one, never a torn one. Packs are spooled to a
 * file by store.c and written with one PUT that streams the file (s3_put_file).
 *
 * Each thread keeps its own curl handle (curl handles are not shareable between threads), which
 * keeps its connection to the endpoint open between requests.
 *
 * Answers are capped before they are read into memory: a ranged GET keeps at most the bytes it
 * asked for, a whole object at most the largest blob the daemon writes (--max-body or
 * --max-proof), a listing page S3_LIST_MAX, an error or any other answer S3_SMALL_ANSWER. A 2xx
 * answer over its cap is refused (the transfer stops there, and the call fails as the store being
 * unavailable), so that a broken or hostile endpoint cannot make the daemon buffer what it sends. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "config/settings.h"
#include "store/store_backend.h"

/* Transient failures are retried with doubling sleeps for at most this long per call; then the
 * caller gets WG_E_UNAVAILABLE, marked transient: a round tries the call again a few times
 * (store.c) before it gives its job back with a backoff. */
#define S3_RETRY_BUDGET_MS 4000
#define S3_FIRST_BACKOFF_MS 100
#define S3_CONNECT_TIMEOUT_MS 1000
/* A transfer slower than this for this long is a stalled connection: give up and retry. Packs
 * can be large, so there is no fixed limit on a whole transfer. */
#define S3_LOW_SPEED_BYTES 1024
#define S3_LOW_SPEED_SECONDS 3
/* ListObjectsV2 pages hold at most 1,000 keys of at most 1,024 bytes. */
#define S3_LIST_MAX (8 * 1024 * 1024)
/* Error bodies (kept for their <Code>), and the empty answers of PUT and DELETE. */
#define S3_SMALL_ANSWER (64 * 1024)

struct s3_store {
  struct wg_store base;
  char *endpoint; /* scheme://host[:port], no trailing '/' */
  char *bucket;
  char *prefix; /* "" or ending in '/' */
  char *sigv4;  /* "aws:amz:REGION:s3" */
  char *access_key, *secret_key;
  char *token_header; /* "x-amz-security-token: ..." or NULL */
  size_t max_object;  /* the most bytes a whole-object GET accepts */
};

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h) { curl_easy_cleanup(h); }

static void handle_key_make(void) { pthread_key_create(&handle_key, handle_free); }

/* This thread's handle, reset to defaults but keeping its open connections. */
static CURL *thread_handle(void)
{
  pthread_once(&handle_once, handle_key_make);
  CURL *h = pthread_getspecific(handle_key);
  if (h == NULL) {
    h = curl_easy_init();
    if (h != NULL)
      pthread_setspecific(handle_key, h);
  } else {
    curl_easy_reset(h);
  }
  return h;
}

/* Appends s to out, percent-encoding everything but RFC 3986's unreserved characters (and '/'
 * when keep_slash): the form SigV4 expects in a canonical path or query value. */
static bool url_encode(char *out, size_t n, size_t *used, const char *s, bool keep_slash)
{
  static const char hexdig[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                 *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/');
    if (*used + (plain ? 1 : 3) >= n)
      return false;
    if (plain) {
      out[(*used)++] = (char)*p;
    } else {
      out[(*used)++] = '%';
      out[(*used)++] = hexdig[*p >> 4];
      out[(*used)++] = hexdig[*p & 15];
    }
  }
  out[*used] = '\0';
  return true;
}

static bool append(char *out, size_t n, size_t *used, const char *s)
{
  size_t len = strlen(s);
  if (*used + len >= n)
    return false;
  memcpy(out + *used, s, len + 1);
  *used += len;
  return true;
}

struct s3_buf {
  uint8_t *data;
  size_t len, cap;
};

/* Where an answer's body goes, and how much of it: the cap is chosen on the first bytes, once
 * the status is known. */
struct s3_sink {
  struct s3_buf buf;
  CURL *h;
  size_t max_ok;       /* the most bytes of a 2xx answer */
  uint64_t range_from; /* a ranged GET: its first byte and length (range_len 0: not ranged) */
  size_t range_len;
  bool started;
  size_t limit; /* the most bytes kept */
  uint64_t skip; /* bytes dropped before keeping any: a 200 answer to a ranged GET is the whole blob */
  bool cut;     /* past limit, keep what fits and stop (else past limit is refused) */
  bool enough;  /* stopped on purpose: the bytes kept are the answer */
  bool over;    /* a 2xx answer over its cap: refused */
};

static void sink_start(struct s3_sink *k)
{
  long code = 0;
  curl_off_t declared = -1;
  curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(k->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
  k->started = true;
  if (code < 200 || code >= 300) {
    k->limit = S3_SMALL_ANSWER;
    k->cut = true;
  } else if (code == 200 && k->range_len > 0) {
    /* A server that ignores Range answers with the whole blob: keep only the slice. */
    k->skip = k->range_from;
    k->limit = k->range_len;
    k->cut = true;
  } else {
    k->limit = k->range_len > 0 ? k->range_len : k->max_ok;
    k->cut = false;
    /* Refused before a byte is kept when its length says so. */
    if (declared > 0 && (uint64_t)declared > (uint64_t)k->limit)
      k->over = true;
  }
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
  struct s3_sink *k = arg;
  struct s3_buf *b = &k->buf;
  size_t n = size * nmemb;
  if (!k->started)
    sink_start(k);
  if (k->over)
    return 0; /* makes curl stop the transfer */
  if (k->skip > 0) {
    size_t d = k->skip < n ? (size_t)k->skip : n;
    ptr += d;
    n -= d;
    k->skip -= d;
  }
  if (n > k->limit - b->len) {
    if (!k->cut) {
      k->over = true;
      return 0;
    }
    n = k->limit - b->len;
    k->enough = true;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n + 1)
      cap *= 2;
    if (cap > k->limit + 1)
      cap = k->limit + 1;
    uint8_t *bigger = realloc(b->data, cap);
    if (bigger == NULL)
      return 0;
    b->data = bigger;
    b->cap = cap;
  }
  if (n > 0)
    memcpy(b->data + b->len, ptr, n);
  b->len += n;
  if (b->data != NULL)
    b->data[b->len] = '\0';
  return k->enough ? 0 : size * nmemb;
}

/* A PUT's body: bytes in memory, or a spooled pack's file (fd >= 0), read as curl sends it. */
struct s3_upload {
  const uint8_t *data;
  int fd;
  uint64_t len, pos;
};

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *arg)
{
  struct s3_upload *u = arg;
  size_t n = size * nmemb;
  if (n > u->len - u->pos)
    n = (size_t)(u->len - u->pos);
  if (u->fd < 0) {
    memcpy(ptr, u->data + u->pos, n);
  } else if (n > 0) {
    ssize_t r;
    do
      r = pread(u->fd, ptr, n, (off_t)u->pos);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
      return CURL_READFUNC_ABORT;
    n = (size_t)r;
  }
  u->pos += n;
  return n;
}

/* A rewind for a retried upload, or for curl's own resend after a redirect or an auth round. */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
  struct s3_upload *u = arg;
  if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > u->len)
    return CURL_SEEKFUNC_FAIL;
  u->pos = (uint64_t)offset;
  return CURL_SEEKFUNC_OK;
}

struct s3_request {
  const char *method; /* GET, PUT or DELETE */
  const char *key;    /* full object key (prefix included); NULL for a request on the bucket */
  const char *query;  /* canonical query (sorted, encoded) or NULL */
  const uint8_t *body;
  uint64_t body_len;
  int body_fd;                 /* >= 0: the body is the first body_len bytes of this file, not body */
  const uint8_t *body_sha256;  /* the body's digest when body_fd >= 0 */
  uint64_t range_from; /* a ranged GET of range_len bytes from range_from (range_len 0: the whole object) */
  size_t range_len;
  size_t max_answer; /* the most bytes of a 2xx answer that is not ranged; 0: S3_SMALL_ANSWER */
  curl_off_t *content_length; /* a HEAD: receives the object's Content-Length */
};

/* The <Code> of an S3 error body, or "" (for logs). */
static void error_code_of(const struct s3_buf *b, char *out, size_t n)
{
  out[0] = '\0';
  const char *p = b->data ? strstr((const char *)b->data, "<Code>") : NULL;
  const char *e = p ? strstr(p, "</Code>") : NULL;
  if (e != NULL && (size_t)(e - p - 6) < n)
    snprintf(out, n, "%.*s", (int)(e - p - 6), p + 6);
}

/* One attempt. Returns the curl result; *code is the HTTP status (0 without an answer). A
 * transfer the sink stopped because it had what it needed is a success. */
static CURLcode perform(struct s3_store *s, CURL *h, const struct s3_request *rq, const char *url, bool fresh,
                        struct s3_sink *out, long *code)
{
  uint8_t digest[SHA256_DIGEST_LENGTH];
  char hex[2 * SHA256_DIGEST_LENGTH + 1], header[2 * SHA256_DIGEST_LENGTH + 64], range[96];
  if (rq->body_fd >= 0)
    memcpy(digest, rq->body_sha256, sizeof digest);
  else
    SHA256(rq->body != NULL ? rq->body : (const uint8_t *)"", (size_t)rq->body_len, digest);
  wg_hex_encode(digest, sizeof digest, hex);
  /* libcurl signs the headers it is given but does not add the payload hash S3 requires; sent
   * here, it is signed with the rest. */
  snprintf(header, sizeof header, "x-amz-content-sha256: %s", hex);
  struct curl_slist *headers = curl_slist_append(NULL, header);
  if (s->token_header != NULL)
    headers = curl_slist_append(headers, s->token_header);
  if (rq->range_len > 0) {
    snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)rq->range_from,
             (unsigned long long)(rq->range_from + rq->range_len - 1));
    headers = curl_slist_append(headers, range);
  }
  *out = (struct s3_sink){.h = h, .max_ok = rq->max_answer ? rq->max_answer : S3_SMALL_ANSWER,
                          .range_from = rq->range_from, .range_len = rq->range_len};
  struct s3_upload up = {rq->body, rq->body_fd, rq->body_len, 0};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  /* After a failure the kept connection may be half-broken: a retry starts on a fresh one. */
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
  curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
  curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)S3_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)S3_LOW_SPEED_BYTES);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)S3_LOW_SPEED_SECONDS);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  if (strcmp(rq->method, "PUT") == 0) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
  } else if (strcmp(rq->method, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (strcmp(rq->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK && rq->content_length != NULL)
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, rq->content_length);
  if (rc == CURLE_WRITE_ERROR && out->enough)
    rc = CURLE_OK;
  *code = 0;
  if (rc == CURLE_OK || out->over)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
  curl_slist_free_all(headers);
  return rc;
}

/* Runs a request, retrying transport failures, 5xx and 429 within the retry budget. On WG_OK
 * *out holds the body of a 2xx answer and *code its status. 404 is WG_E_NOT_FOUND, 416 (a range
 * past the end) too; 403 is WG_E_DENIED; other answers are WG_E_INTERNAL. */
static enum wg_status s3_call(struct s3_store *s, const struct s3_request *rq, struct s3_buf *out, long *code)
{
  char url[2048];
  size_t used = 0;
  bool ok = append(url, sizeof url, &used, s->endpoint) && append(url, sizeof url, &used, "/") &&
            url_encode(url, sizeof url, &used, s->bucket, false);
  if (ok && rq->key != NULL)
    ok = append(url, sizeof url, &used, "/") && url_encode(url, sizeof url, &used, rq->key, true);
  if (ok && rq->query != NULL)
    ok = append(url, sizeof url, &used, "?") && append(url, sizeof url, &used, rq->query);
  if (!ok) {
    wg_store_error("s3 key too long: %.200s", rq->key ? rq->key : "");
    return WG_E_INTERNAL;
  }
  const char *what = rq->key != NULL ? rq->key : "(bucket listing)";
  CURL *h = thread_handle();
  if (h == NULL)
    return WG_E_INTERNAL;
  int64_t deadline = wg_monotonic_ms() + S3_RETRY_BUDGET_MS;
  long backoff = S3_FIRST_BACKOFF_MS;
  for (int attempt = 1;; attempt++) {
    struct s3_sink sink;
    CURLcode rc = perform(s, h, rq, url, attempt > 1, &sink, code);
    if (sink.over) {
      /* Not retried: the same endpoint would send the same again. */
      free(sink.buf.data);
      wg_store_error("s3 %s %s: HTTP %ld with an answer over %zu bytes, the most it may have; refused", rq->method, what,
                     *code, sink.limit);
      return WG_E_UNAVAILABLE;
    }
    bool transient = rc != CURLE_OK || *code >= 500 || *code == 429;
    if (!transient && *code >= 200 && *code < 300) {
      *out = sink.buf;
      return WG_OK;
    }
    char s3code[128];
    error_code_of(&sink.buf, s3code, sizeof s3code);
    free(sink.buf.data);
    if (!transient) {
      /* A missing bucket is a configuration error, not a missing blob: a round must not fail its
       * batch for an input "missing" from a bucket that is not there. */
      if (*code == 404 && strcmp(s3code, "NoSuchBucket") == 0) {
        wg_store_error("s3 %s %s: the bucket %s does not exist at %s", rq->method, what, s->bucket, s->endpoint);
        return WG_E_INTERNAL;
      }
      if (*code == 404 || *code == 416)
        return WG_E_NOT_FOUND;
      if (*code == 403) {
        wg_store_error("s3 %s %s: %s (%s)", rq->method, what, WG_STORE_DENIED_REASON, s3code);
        return WG_E_DENIED;
      }
      wg_store_error("s3 %s %s: HTTP %ld %s", rq->method, what, *code, s3code);
      return WG_E_INTERNAL;
    }
    if (wg_monotonic_ms() + backoff > deadline) {
      wg_warn("store: s3 %s %s: %s after %d attempts; giving up for now", rq->method, what,
              rc != CURLE_OK ? curl_easy_strerror(rc) : "server error", attempt);
      if (rc != CURLE_OK)
        wg_store_set_reason("s3 %s %s: %s", rq->method, what, curl_easy_strerror(rc));
      else
        wg_store_set_reason("s3 %s %s: HTTP %ld %s", rq->method, what, *code, s3code);
      wg_store_set_transient(); /* a round tries the call again (store.c) */
      return WG_E_UNAVAILABLE;
    }
    wg_debug("store: s3 %s %s: attempt %d: %s %ld %s; retrying in %ld ms", rq->method, what, attempt,
             rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP", *code, s3code, backoff);
    wg_store_count_retry();
    struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    backoff *= 2;
  }
}

static char *full_key(const struct s3_store *s, const char *key)
{
  size_t n = strlen(s->prefix) + strlen(key) + 1;
  char *k = malloc(n);
  if (k != NULL)
    snprintf(k, n, "%s%s", s->prefix, key);
  return k;
}

static enum wg_status s3_put(struct wg_store *st, struct wg_dbconn *c, const char *key, const void *data, size_t len)
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  char *k = full_key(s, key);
  if (k == NULL)
    return WG_E_INTERNAL;
  struct s3_request rq = {.method = "PUT", .key = k, .body = data, .body_len = len, .body_fd = -1};
  struct s3_buf out = {0};
  long code;
  enum wg_status r = s3_call(s, &rq, &out, &code);
  free(out.data);
  free(k);
  return r;
}

/* A spooled pack (store.c): one PUT whose body curl reads from the file as it sends it, so the
 * pack is never in memory; a retry rewinds it (on_seek). */
static enum wg_status s3_put_file(struct wg_store *st, struct wg_dbconn *c, const char *key, int fd, uint64_t len,
                                  const uint8_t sha256[32])
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  char *k = full_key(s, key);
  if (k == NULL)
    return WG_E_INTERNAL;
  struct s3_request rq = {.method = "PUT", .key = k, .body_len = len, .body_fd = fd, .body_sha256 = sha256};
  struct s3_buf out = {0};
  long code;
  enum wg_status r = s3_call(s, &rq, &out, &code);
  free(out.data);
  free(k);
  return r;
}

static enum wg_status s3_size(struct wg_store *st, struct wg_dbconn *c, const char *key, uint64_t *len)
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  char *k = full_key(s, key);
  if (k == NULL)
    return WG_E_INTERNAL;
  curl_off_t declared = -1;
  struct s3_request rq = {.method = "HEAD", .key = k, .body_fd = -1, .content_length = &declared};
  struct s3_buf out = {0};
  long code;
  enum wg_status r = s3_call(s, &rq, &out, &code);
  free(out.data);
  free(k);
  if (r == WG_OK && declared < 0) {
    wg_store_error("s3 HEAD %s: no Content-Length in the answer", key);
    return WG_E_INTERNAL;
  }
  if (r == WG_OK)
    *len = (uint64_t)declared;
  return r;
}

static enum wg_status s3_get(struct wg_store *st, struct wg_dbconn *c, const char *key, uint8_t **data, size_t *len)
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  char *k = full_key(s, key);
  if (k == NULL)
    return WG_E_INTERNAL;
  struct s3_request rq = {.method = "GET", .key = k, .body_fd = -1, .max_answer = s->max_object};
  struct s3_buf out = {0};
  long code;
  enum wg_status r = s3_call(s, &rq, &out, &code);
  free(k);
  if (r != WG_OK)
    return r;
  if (out.data == NULL && (out.data = malloc(1)) == NULL)
    return WG_E_INTERNAL;
  out.data[out.len] = '\0';
  *data = out.data;
  *len = out.len;
  return WG_OK;
}

static enum wg_status s3_get_range(struct wg_store *st, struct wg_dbconn *c, const char *key, uint64_t offset,
                                   size_t len, uint8_t **data)
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  if (len == 0) {
    /* An empty range cannot be written as a Range header: check the blob is long enough. */
    uint8_t *all;
    size_t all_len;
    enum wg_status r = s3_get(st, c, key, &all, &all_len);
    if (r == WG_OK && all_len < offset) {
      free(all);
      r = WG_E_NOT_FOUND;
    }
    if (r == WG_OK)
      all[0] = '\0', *data = all;
    return r;
  }
  char *k = full_key(s, key);
  if (k == NULL)
    return WG_E_INTERNAL;
  struct s3_request rq = {.method = "GET", .key = k, .body_fd = -1, .range_from = offset, .range_len = len};
  struct s3_buf out = {0};
  long code;
  enum wg_status r = s3_call(s, &rq, &out, &code);
  free(k);
  if (r != WG_OK)
    return r;
  /* The sink kept at most len bytes, also of a 200 answer that ignored the Range. */
  if (out.len != len) {
    free(out.data);
    return WG_E_NOT_FOUND; /* shorter than asked */
  }
  out.data[len] = '\0';
  *data = out.data;
  return WG_OK;
}

/* The text between <tag> and </tag> after *from, entity-decoded into out; advances *from past
 * it. False when there is none, or it does not fit, or it holds an entity we do not know. */
static bool xml_next(const char **from, const char *tag, char *out, size_t n)
{
  char open[64], close[64];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  const char *p = strstr(*from, open);
  const char *e = p ? strstr(p, close) : NULL;
  if (e == NULL)
    return false;
  p += strlen(open);
  *from = e + strlen(close);
  static const struct {
    const char *name;
    char c;
  } entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  size_t k = 0;
  while (p < e) {
    char c = *p;
    if (c == '&') {
      size_t i = 0, len = 0;
      for (; i < sizeof entities / sizeof entities[0]; i++) {
        len = strlen(entities[i].name);
        if ((size_t)(e - p) >= len && strncmp(p, entities[i].name, len) == 0)
          break;
      }
      if (i == sizeof entities / sizeof entities[0])
        return false;
      c = entities[i].c;
      p += len;
    } else {
      p++;
    }
    if (k + 1 >= n)
      return false;
    out[k++] = c;
  }
  out[k] = '\0';
  return true;
}

struct key_list {
  char **keys;
  size_t n, cap;
};

static bool key_list_add(struct key_list *l, const char *key)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    char **bigger = realloc(l->keys, cap * sizeof *bigger);
    if (bigger == NULL)
      return false;
    l->keys = bigger;
    l->cap = cap;
  }
  if ((l->keys[l->n] = strdup(key)) == NULL)
    return false;
  l->n++;
  return true;
}

static void key_list_free(struct key_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->keys[i]);
  free(l->keys);
}

/* Every key under full_prefix, through ListObjectsV2 pages. */
static enum wg_status list_keys(struct s3_store *s, const char *full_prefix, struct key_list *l)
{
  char token[1024] = "", key[1100], query[4096];
  for (;;) {
    /* SigV4 signs the query in canonical form: parameters sorted by name, values encoded. */
    size_t used = 0;
    bool ok = true;
    if (token[0] != '\0')
      ok = append(query, sizeof query, &used, "continuation-token=") && url_encode(query, sizeof query, &used, token, false) &&
           append(query, sizeof query, &used, "&");
    ok = ok && append(query, sizeof query, &used, "list-type=2&prefix=") &&
         url_encode(query, sizeof query, &used, full_prefix, false);
    if (!ok)
      return WG_E_INTERNAL;
    struct s3_request rq = {.method = "GET", .query = query, .body_fd = -1, .max_answer = S3_LIST_MAX};
    struct s3_buf out = {0};
    long code;
    enum wg_status r = s3_call(s, &rq, &out, &code);
    if (r != WG_OK)
      return r;
    const char *p = out.data ? (const char *)out.data : "";
    while (xml_next(&p, "Key", key, sizeof key)) {
      /* Never act on a key outside what was asked for, whatever the answer says. */
      if (strncmp(key, full_prefix, strlen(full_prefix)) != 0 || !key_list_add(l, key)) {
        free(out.data);
        return WG_E_INTERNAL;
      }
    }
    p = out.data ? (const char *)out.data : "";
    char truncated[16] = "";
    bool more = xml_next(&p, "IsTruncated", truncated, sizeof truncated) && strcmp(truncated, "true") == 0;
    p = out.data ? (const char *)out.data : "";
    if (more && !xml_next(&p, "NextContinuationToken", token, sizeof token)) {
      wg_store_error("s3 listing of %s is truncated without a continuation token", full_prefix);
      free(out.data);
      return WG_E_INTERNAL;
    }
    free(out.data);
    if (!more)
      return WG_OK;
  }
}

static enum wg_status s3_delete_prefix(struct wg_store *st, struct wg_dbconn *c, const char *prefix)
{
  (void)c;
  struct s3_store *s = (struct s3_store *)st;
  /* An empty prefix would mean the whole bucket (or store prefix): never asked for. */
  if (prefix[0] == '\0')
    return WG_E_INTERNAL;
  char *fp = full_key(s, prefix);
  if (fp == NULL)
    return WG_E_INTERNAL;
  struct key_list l = {0};
  enum wg_status r = list_keys(s, fp, &l);
  /* One DELETE per key: a batch holds an input and one pack per layer, so there are few, and a
   * plain DELETE needs no XML body. A key already gone is not an error. */
  for (size_t i = 0; r == WG_OK && i < l.n; i++) {
    struct s3_request rq = {.method = "DELETE", .key = l.keys[i], .body_fd = -1};
    struct s3_buf out = {0};
    long code;
    r = s3_call(s, &rq, &out, &code);
    free(out.data);
    if (r == WG_E_NOT_FOUND)
      r = WG_OK;
  }
  key_list_free(&l);
  free(fp);
  return r;
}

static void s3_close(struct wg_store *st)
{
  struct s3_store *s = (struct s3_store *)st;
  free(s->endpoint);
  free(s->bucket);
  free(s->prefix);
  free(s->sigv4);
  wg_secret_free(s->access_key);
  wg_secret_free(s->secret_key);
  wg_secret_free(s->token_header);
  free(s);
}

static const struct wg_store_ops s3_ops = {.put = s3_put, .get = s3_get, .get_range = s3_get_range,
                                           .put_file = s3_put_file, .size = s3_size, .delete_prefix = s3_delete_prefix,
                                           .close = s3_close, .database_backed = false};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static bool global_ok;

static void global_init(void) { global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

struct wg_store *wg_store_s3_open(const char *location, const struct wg_config *cfg, char *err, size_t err_len)
{
  /* location: "BUCKET" or "BUCKET/PREFIX". */
  const char *slash = strchr(location, '/');
  size_t bucket_len = slash ? (size_t)(slash - location) : strlen(location);
  const char *prefix = slash ? slash + 1 : "";
  if (bucket_len == 0) {
    snprintf(err, err_len, "store s3://BUCKET/PREFIX needs a bucket, got \"s3://%s\"", location);
    return NULL;
  }
  /* The credentials file (--s3-credentials-file or $CREDENTIALS_DIRECTORY/s3-credentials), read at
   * start, comes first; the AWS_* variables, which `systemctl show` or /proc/PID/environ can reveal,
   * are still taken for compatibility. */
  const struct wg_secrets *sec = &cfg->secrets;
  bool from_file = sec->s3_access_key_id != NULL;
  const char *key = from_file ? sec->s3_access_key_id : getenv("AWS_ACCESS_KEY_ID");
  const char *secret = from_file ? sec->s3_secret_access_key : getenv("AWS_SECRET_ACCESS_KEY");
  const char *token = from_file ? sec->s3_session_token : getenv("AWS_SESSION_TOKEN");
  if (key == NULL || key[0] == '\0' || secret == NULL || secret[0] == '\0') {
    snprintf(err, err_len, "the s3 store needs credentials: --s3-credentials-file, $CREDENTIALS_DIRECTORY/%s, or "
             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment", WG_CREDENTIAL_S3);
    return NULL;
  }
  /* Once, before any thread makes a handle: curl_global_init is not safe to race with them. */
  pthread_once(&global_once, global_init);
  if (!global_ok) {
    snprintf(err, err_len, "could not initialise libcurl");
    return NULL;
  }
  struct s3_store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->base.ops = &s3_ops;
  const char *region = cfg->s3_region;
  char endpoint[512];
  if (cfg->s3_endpoint != NULL && cfg->s3_endpoint[0] != '\0')
    snprintf(endpoint, sizeof endpoint, "%s", cfg->s3_endpoint);
  else
    snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", region);
  size_t n = strlen(endpoint);
  while (n > 0 && endpoint[n - 1] == '/')
    endpoint[--n] = '\0';
  s->endpoint = strdup(endpoint);
  s->bucket = strndup(location, bucket_len);
  size_t plen = strlen(prefix);
  s->prefix = malloc(plen + 2);
  if (s->prefix != NULL)
    snprintf(s->prefix, plen + 2, "%s%s", prefix, plen > 0 && prefix[plen - 1] != '/' ? "/" : "");
  size_t sl = strlen(region) + 16;
  s->sigv4 = malloc(sl);
  if (s->sigv4 != NULL)
    snprintf(s->sigv4, sl, "aws:amz:%s:s3", region);
  s->max_object = (size_t)(cfg->max_body > cfg->max_proof ? cfg->max_body : cfg->max_proof);
  s->access_key = strdup(key);
  s->secret_key = strdup(secret);
  if (token != NULL && token[0] != '\0') {
    size_t tl = strlen(token) + 32;
    if ((s->token_header = malloc(tl)) != NULL)
      snprintf(s->token_header, tl, "x-amz-security-token: %s", token);
  }
  if (s->endpoint == NULL || s->bucket == NULL || s->prefix == NULL || s->sigv4 == NULL || s->access_key == NULL ||
      s->secret_key == NULL || (token != NULL && token[0] != '\0' && s->token_header == NULL)) {
    s3_close(&s->base);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  if (strncmp(s->endpoint, "http://", 7) != 0 && strncmp(s->endpoint, "https://", 8) != 0) {
    snprintf(err, err_len, "s3-endpoint must be an http:// or https:// URL, got \"%s\"", s->endpoint);
    s3_close(&s->base);
    return NULL;
  }
  wg_info("store: s3 bucket %s%s%s at %s (region %s, credentials from %s)", s->bucket, s->prefix[0] ? ", prefix " : "",
          s->prefix, s->endpoint, region, from_file ? cfg->s3_credentials_file : "the environment");
  return &s->base;
}
