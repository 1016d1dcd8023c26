/* Levelled logging to stderr. Thread-safe: each line is written with one call. */
#ifndef WG_LOG_H
#define WG_LOG_H

enum wg_log_level { WG_LOG_DEBUG = 0, WG_LOG_INFO, WG_LOG_WARN, WG_LOG_ERROR };

void wg_log_set_level(enum wg_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int wg_log_parse_level(const char *name);
void wg_log(enum wg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wg_debug(...) wg_log(WG_LOG_DEBUG, __VA_ARGS__)
#define wg_info(...) wg_log(WG_LOG_INFO, __VA_ARGS__)
#define wg_warn(...) wg_log(WG_LOG_WARN, __VA_ARGS__)
#define wg_error(...) wg_log(WG_LOG_ERROR, __VA_ARGS__)

#endif
