/* Decoding gzip request bodies with a hard limit on the decoded size, so a small bomb cannot
 * become a large allocation, and with each allocation asked of the caller first (the memory
 * budget of http/budget.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "http/server.h"

enum wg_status wg_gunzip(const uint8_t *in, size_t in_len, size_t limit, wg_grow_fn grow, void *grow_arg,
                         uint8_t **out, size_t *out_len)
{
  z_stream z = {0};
  /* zlib counts in 32 bits; a compressed body that large is over any sane limit anyway. */
  if (in_len > UINT32_MAX)
    return WG_E_CONFLICT;
  size_t cap = in_len * 4 + 1024;
  if (cap > limit + 1)
    cap = limit + 1;
  if (grow != NULL && !grow(grow_arg, cap + 1))
    return WG_E_UNAVAILABLE;
  uint8_t *buf = malloc(cap + 1);
  if (buf == NULL)
    return WG_E_INTERNAL;
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    free(buf);
    return WG_E_INTERNAL;
  }
  enum wg_status s = WG_OK;
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)in_len;
  size_t used = 0;
  for (;;) {
    if (used == cap) {
      if (cap > limit) {
        s = WG_E_CONFLICT;
        break;
      }
      size_t more = (cap * 2 > limit + 1 ? limit + 1 : cap * 2) - cap;
      if (grow != NULL && !grow(grow_arg, more)) {
        s = WG_E_UNAVAILABLE;
        break;
      }
      cap += more;
      uint8_t *bigger = realloc(buf, cap + 1);
      if (bigger == NULL) {
        s = WG_E_INTERNAL;
        break;
      }
      buf = bigger;
    }
    z.next_out = buf + used;
    z.avail_out = (uInt)(cap - used);
    int r = inflate(&z, Z_NO_FLUSH);
    used = cap - z.avail_out;
    if (used > limit) {
      s = WG_E_CONFLICT;
      break;
    }
    if (r == Z_STREAM_END) {
      /* Trailing bytes after the gzip member are not part of a valid body. */
      if (z.avail_in != 0)
        s = WG_E_INVALID;
      break;
    }
    if (r != Z_OK && r != Z_BUF_ERROR) {
      s = WG_E_INVALID;
      break;
    }
    if (r == Z_BUF_ERROR && z.avail_in == 0) {
      s = WG_E_INVALID; /* truncated stream */
      break;
    }
  }
  inflateEnd(&z);
  if (s != WG_OK) {
    free(buf);
    return s;
  }
  buf[used] = '\0';
  *out = buf;
  *out_len = used;
  return WG_OK;
}
