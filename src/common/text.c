/* Cleaning client text and escaping printed text (see text.h). */
#include "config.h"
#include "common/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes) and its code point in *cp, or 0
 * when s[0] does not start one: overlong forms, surrogates and code points past U+10FFFF are
 * not valid. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
  if (n == 0)
    return 0;
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  size_t len;
  uint32_t c, min;
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, c = s[0] & 0x1fu, min = 0x80;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, c = s[0] & 0x0fu, min = 0x800;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, c = s[0] & 0x07u, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3fu);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return len;
}

static bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

char *wg_text_clean(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  struct wg_strbuf b = {0};
  wg_strbuf_printf(&b, "%s", "");
  size_t i = 0;
  while (i < len) {
    uint32_t cp;
    size_t n = utf8_char(p + i, len - i, &cp);
    if (n == 0) {
      wg_strbuf_printf(&b, "\xef\xbf\xbd"); /* U+FFFD */
      i++;
      continue;
    }
    if (!is_control(cp))
      wg_strbuf_printf(&b, "%.*s", (int)n, s + i);
    else if (cp >= '\t' && cp <= '\r')
      wg_strbuf_printf(&b, " ");
    i += n;
  }
  return b.s;
}

/* What wg_text_escape writes for the character of n bytes at s (code point cp, or none when n
 * is 0: an invalid byte), or NULL when it is kept as it is. */
static const char *escape_of(const unsigned char *s, size_t n, uint32_t cp, unsigned flags, char *out, size_t size)
{
  if (n == 0)
    snprintf(out, size, "\\x%02x", s[0]);
  else if (cp == '\n')
    return "\\n";
  else if (cp == '\r')
    return "\\r";
  else if (cp == '\t')
    return "\\t";
  else if (cp < 0x20 || cp == 0x7f)
    snprintf(out, size, "\\x%02x", (unsigned)cp);
  else if ((flags & WG_ESCAPE_QUOTES) && cp == '"')
    return "\\\"";
  else if ((flags & WG_ESCAPE_QUOTES) && cp == '\\')
    return "\\\\";
  else if (is_control(cp) || ((flags & WG_ESCAPE_ASCII) && cp >= 0x80))
    snprintf(out, size, "\\u{%x}", (unsigned)cp);
  else
    return NULL;
  return out;
}

void wg_text_escape(struct wg_strbuf *b, const char *s, unsigned flags)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s), i = 0;
  wg_strbuf_printf(b, "%s", "");
  while (i < len) {
    /* Runs that need nothing are copied whole. */
    size_t start = i;
    uint32_t cp = 0;
    size_t n = 0;
    char buf[16];
    const char *e = NULL;
    while (i < len) {
      n = utf8_char(p + i, len - i, &cp);
      e = escape_of(p + i, n, cp, flags, buf, sizeof buf);
      if (e != NULL)
        break;
      i += n;
    }
    if (i > start)
      wg_strbuf_printf(b, "%.*s", (int)(i - start), s + start);
    if (e != NULL) {
      wg_strbuf_printf(b, "%s", e);
      i += n > 0 ? n : 1;
    }
  }
}

bool wg_text_needs_escape(const char *s, unsigned flags)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s), i = 0;
  char buf[16];
  while (i < len) {
    uint32_t cp = 0;
    size_t n = utf8_char(p + i, len - i, &cp);
    if (escape_of(p + i, n, cp, flags, buf, sizeof buf) != NULL)
      return true;
    i += n;
  }
  return false;
}

char *wg_json_dumps_plain(const json_t *j, size_t flags)
{
  char *text = json_dumps(j, flags | JSON_ENSURE_ASCII);
  if (text == NULL || strchr(text, 0x7f) == NULL)
    return text;
  /* A raw DEL can only stand inside a string, where \u007F means the same. */
  struct wg_strbuf b = {0};
  for (const char *p = text; *p; p++) {
    const char *del = strchr(p, 0x7f);
    size_t run = del != NULL ? (size_t)(del - p) : strlen(p);
    wg_strbuf_printf(&b, "%.*s%s", (int)run, p, del != NULL ? "\\u007F" : "");
    if (del == NULL)
      break;
    p = del;
  }
  free(text);
  return b.s;
}
