/* Levelled logging to stderr, one formatted line per call, as text or JSON. Messages and values
 * may quote what a client sent (a method, a token's name, a prover's error): the text format
 * escapes every control character (common/text.h) and quotes with escapes any value that is not
 * a plain word, so that a line is always one line of key=value pairs; the JSON format is written
 * as plain ASCII. */
#include "config.h"
#include "common/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"
#include "common/text.h"

static enum wg_log_level min_level = WG_LOG_INFO;
static bool json_format;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wg_log_set_level(enum wg_log_level level) { min_level = level; }

int wg_log_parse_level(const char *name)
{
  for (int i = 0; i < 4; i++)
    if (strcmp(name, level_names[i]) == 0)
      return i;
  return -1;
}

bool wg_log_set_format(const char *name)
{
  if (strcmp(name, "text") != 0 && strcmp(name, "json") != 0)
    return false;
  json_format = strcmp(name, "json") == 0;
  return true;
}

static void timestamp(char *out, size_t n)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, n, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000L);
}

/* jansson refuses invalid UTF-8, and a log line must never be lost for a byte a client sent:
 * such a string is logged escaped (its bad bytes as \xNN). */
static json_t *safe_string(const char *s)
{
  json_t *j = json_string(s);
  if (j != NULL)
    return j;
  struct wg_strbuf b = {0};
  wg_text_escape(&b, s, 0);
  j = json_string(b.s);
  free(b.s);
  return j;
}

/* A text value stays bare when it is a plain word; else it is quoted, with quotes, backslashes
 * and control characters escaped, as logfmt readers expect. */
static void text_value(struct wg_strbuf *b, const char *key, const char *value)
{
  if (value[0] != '\0' && strpbrk(value, " =") == NULL && !wg_text_needs_escape(value, WG_ESCAPE_QUOTES)) {
    wg_strbuf_printf(b, " %s=%s", key, value);
    return;
  }
  wg_strbuf_printf(b, " %s=\"", key);
  wg_text_escape(b, value, WG_ESCAPE_QUOTES);
  wg_strbuf_printf(b, "\"");
}

static void emit(enum wg_log_level level, const char *msg, const struct wg_log_field *fields, size_t n)
{
  char stamp[64];
  timestamp(stamp, sizeof stamp);
  if (json_format) {
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(stamp));
    json_object_set_new(o, "level", json_string(level_names[level]));
    json_object_set_new(o, "msg", safe_string(msg));
    for (size_t i = 0; i < n; i++) {
      json_t *v = fields[i].number ? json_loads(fields[i].value, JSON_DECODE_ANY, NULL) : NULL;
      json_object_set_new(o, fields[i].key, v != NULL ? v : safe_string(fields[i].value));
    }
    char *line = wg_json_dumps_plain(o, JSON_COMPACT);
    json_decref(o);
    /* A single fprintf keeps lines from different threads whole. */
    fprintf(stderr, "%s\n", line != NULL ? line : "{\"msg\":\"out of memory\"}");
    free(line);
    return;
  }
  struct wg_strbuf b = {0};
  wg_text_escape(&b, msg, 0);
  for (size_t i = 0; i < n; i++) {
    if (fields[i].number)
      wg_strbuf_printf(&b, " %s=%s", fields[i].key, fields[i].value);
    else
      text_value(&b, fields[i].key, fields[i].value);
  }
  fprintf(stderr, "%s %-5s %s\n", stamp, level_names[level], b.s);
  free(b.s);
}

void wg_log(enum wg_log_level level, const char *fmt, ...)
{
  if (level < min_level)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* libpq's messages end with a line break; the line ends anyway, so it is not written as \n. */
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  emit(level, msg, NULL, 0);
}

void wg_log_fields(enum wg_log_level level, const char *event, const struct wg_log_field *fields, size_t n)
{
  if (level < min_level)
    return;
  emit(level, event, fields, n);
}
