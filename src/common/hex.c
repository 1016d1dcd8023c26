/* Hex encoding and decoding. */
#include "config.h"
#include "common/hex.h"

#include <string.h>

int wg_hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool wg_hex_decode_fixed(const char *s, uint8_t *out, size_t len)
{
  if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    return false;
  s += 2;
  if (strlen(s) != 2 * len)
    return false;
  for (size_t i = 0; i < len; i++) {
    int hi = wg_hex_digit(s[2 * i]), lo = wg_hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

void wg_hex_encode(const uint8_t *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

void wg_hex_encode_0x(const uint8_t *in, size_t len, char *out)
{
  out[0] = '0';
  out[1] = 'x';
  wg_hex_encode(in, len, out + 2);
}

bool wg_hex_looks_like_text(const uint8_t *data, size_t len)
{
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' ' || data[len - 1] == '\t'))
    len--;
  if (len >= 2 && data[0] == '0' && (data[1] == 'x' || data[1] == 'X')) {
    data += 2;
    len -= 2;
  }
  if (len == 0 || len % 2 != 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (wg_hex_digit((char)data[i]) < 0)
      return false;
  return true;
}
