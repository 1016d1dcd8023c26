/* A growing NUL-terminated string, for building long statement parameters such as array literals. */
#ifndef WG_STRBUF_H
#define WG_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct wg_strbuf {
  char *s;
  size_t len, cap;
};

void wg_strbuf_printf(struct wg_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Builds a PostgreSQL array literal "{v0,v1,...}" of n integers. */
void wg_strbuf_int_array(struct wg_strbuf *b, const int64_t *v, size_t n);
/* Appends n bytes as lower-case hex digits. */
void wg_strbuf_hex(struct wg_strbuf *b, const uint8_t *data, size_t n);
/* Appends text as one quoted element of a PostgreSQL array literal ("a\"b"). */
void wg_strbuf_array_text(struct wg_strbuf *b, const char *text);
void wg_strbuf_free(struct wg_strbuf *b);

#endif
