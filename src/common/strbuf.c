/* Growing strings. Allocation failure aborts: these buffers are small next to the daemon's
 * limits, and a half-built statement parameter must never be sent. */
#include "config.h"
#include "common/strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wg_strbuf_printf(struct wg_strbuf *b, const char *fmt, ...)
{
  for (;;) {
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -1;
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (n >= 0 && cap < b->len + (size_t)n + 1)
      cap *= 2;
    char *s = realloc(b->s, cap);
    if (s == NULL)
      abort();
    b->s = s;
    b->cap = cap;
    b->s[b->len] = '\0';
  }
}

void wg_strbuf_int_array(struct wg_strbuf *b, const int64_t *v, size_t n)
{
  wg_strbuf_printf(b, "{");
  for (size_t i = 0; i < n; i++)
    wg_strbuf_printf(b, "%s%" PRId64, i ? "," : "", v[i]);
  wg_strbuf_printf(b, "}");
}

/* Makes room for n more characters and the NUL. */
static void reserve(struct wg_strbuf *b, size_t n)
{
  if (b->s != NULL && b->len + n < b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap <= b->len + n)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (s == NULL)
    abort();
  b->s = s;
  b->cap = cap;
}

void wg_strbuf_hex(struct wg_strbuf *b, const uint8_t *data, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  reserve(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    b->s[b->len++] = digits[data[i] >> 4];
    b->s[b->len++] = digits[data[i] & 15];
  }
  b->s[b->len] = '\0';
}

void wg_strbuf_array_text(struct wg_strbuf *b, const char *text)
{
  reserve(b, 2 * strlen(text) + 2);
  b->s[b->len++] = '"';
  for (const char *t = text; *t; t++) {
    if (*t == '"' || *t == '\\')
      b->s[b->len++] = '\\';
    b->s[b->len++] = *t;
  }
  b->s[b->len++] = '"';
  b->s[b->len] = '\0';
}

void wg_strbuf_free(struct wg_strbuf *b)
{
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}
