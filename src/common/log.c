/* Levelled logging to stderr, one formatted line per call. */
#include "config.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum wg_log_level min_level = WG_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wg_log_set_level(enum wg_log_level level) { min_level = level; }

int wg_log_parse_level(const char *name)
{
  for (int i = 0; i < 4; i++)
    if (strcmp(name, level_names[i]) == 0)
      return i;
  return -1;
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

  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  /* A single fprintf keeps lines from different threads whole. */
  fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level], msg);
}
