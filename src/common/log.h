/* Levelled logging to stderr, as text or as one JSON object a line (--log-format). Thread-safe:
 * each line is written with one call. */
#ifndef WG_LOG_H
#define WG_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum wg_log_level { WG_LOG_DEBUG = 0, WG_LOG_INFO, WG_LOG_WARN, WG_LOG_ERROR };

void wg_log_set_level(enum wg_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int wg_log_parse_level(const char *name);
/* "text" (the default) or "json"; false for anything else. */
bool wg_log_set_format(const char *name);
void wg_log(enum wg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A named value of a structured line: a JSON string, or a JSON number when number is set (the
 * value is then written as it is, so it must be a valid number). */
struct wg_log_field {
  const char *key;
  const char *value;
  bool number;
};
/* One line with an event name and fields: in text "EVENT key=value …" (a value that is not a
 * plain word quoted, with ", \ and control characters escaped), in JSON {"ts", "level",
 * "msg": EVENT, key: value, …}, so that a log pipeline can select on fields rather than parse
 * messages. */
void wg_log_fields(enum wg_log_level level, const char *event, const struct wg_log_field *fields, size_t n);

#define wg_debug(...) wg_log(WG_LOG_DEBUG, __VA_ARGS__)
#define wg_info(...) wg_log(WG_LOG_INFO, __VA_ARGS__)
#define wg_warn(...) wg_log(WG_LOG_WARN, __VA_ARGS__)
#define wg_error(...) wg_log(WG_LOG_ERROR, __VA_ARGS__)

#endif
