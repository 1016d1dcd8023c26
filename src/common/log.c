/* Levelled logging to stderr, one formatted line per call, as text or JSON. */
#include "config.h"
#include "common/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"

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

/* jansson refuses invalid UTF-8, and a log line must never be lost for a byte a client sent. */
static json_t *safe_string(const char *s)
{
  json_t *j = json_string(s);
  if (j != NULL)
    return j;
  char *copy = strdup(s);
  for (char *p = copy; p != NULL && *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  j = json_string(copy != NULL ? copy : "");
  free(copy);
  return j;
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
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    /* A single fprintf keeps lines from different threads whole. */
    fprintf(stderr, "%s\n", line != NULL ? line : "{\"msg\":\"out of memory\"}");
    free(line);
    return;
  }
  struct wg_strbuf b = {0};
  wg_strbuf_printf(&b, "%s", msg);
  for (size_t i = 0; i < n; i++) {
    bool quote = !fields[i].number && (fields[i].value[0] == '\0' || strpbrk(fields[i].value, " \"=") != NULL);
    wg_strbuf_printf(&b, quote ? " %s=\"%s\"" : " %s=%s", fields[i].key, fields[i].value);
  }
  fprintf(stderr, "%s %-5s %s\n", stamp, level_names[level], b.s != NULL ? b.s : msg);
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
  emit(level, msg, NULL, 0);
}

void wg_log_fields(enum wg_log_level level, const char *event, const struct wg_log_field *fields, size_t n)
{
  if (level < min_level)
    return;
  emit(level, event, fields, n);
}
