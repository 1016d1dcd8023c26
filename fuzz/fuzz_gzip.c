/* libFuzzer target: the gzip decoder of request bodies must never crash, leak, read out of bounds
 * or hand back more than its limit, whatever the bytes. The first two input bytes choose the
 * limit (so that small limits and bombs meet often); the rest is the body. A body it accepts must
 * come back unchanged through a fresh gzip of its output, accepted at exactly its size and
 * refused one byte below it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip of in, malloc'd; NULL if zlib fails. */
static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
  z_stream z = {0};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  size_t cap = deflateBound(&z, (uLong)len) + 32;
  uint8_t *out = malloc(cap);
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  int r = out != NULL ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  if (r != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  size_t limit = (size_t)data[0] << 8 | data[1];
  uint8_t *out = NULL;
  size_t out_len = 0;
  enum wg_status s = wg_gunzip(data + 2, size - 2, limit, NULL, NULL, &out, &out_len);
  if (s != WG_OK && s != WG_E_INVALID && s != WG_E_CONFLICT)
    abort();
  if (s != WG_OK)
    return 0;
  if (out_len > limit || out[out_len] != '\0')
    abort();
  size_t z_len;
  uint8_t *z = gzip(out, out_len, &z_len);
  if (z == NULL)
    abort();
  uint8_t *again = NULL;
  size_t again_len = 0;
  if (wg_gunzip(z, z_len, out_len, NULL, NULL, &again, &again_len) != WG_OK || again_len != out_len ||
      memcmp(again, out, out_len) != 0)
    abort();
  free(again);
  if (out_len > 0 && wg_gunzip(z, z_len, out_len - 1, NULL, NULL, &again, &again_len) != WG_E_CONFLICT)
    abort();
  free(z);
  free(out);
  return 0;
}
