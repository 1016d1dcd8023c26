/* The one hex codec of the project: "0x"-prefixed on the wire, either case accepted. */
#ifndef WG_HEX_H
#define WG_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The value of one hex digit, or -1. */
int wg_hex_digit(char c);
/* Decodes "0x" followed by exactly 2*len hex digits into out. Returns false otherwise. */
bool wg_hex_decode_fixed(const char *s, uint8_t *out, size_t len);
/* Whether a byte string reads as hex text ("0x" optional, trailing whitespace allowed): an even,
 * non-zero number of hex digits and nothing else. Used to tell a client that sent hex where raw
 * bytes were expected. */
bool wg_hex_looks_like_text(const uint8_t *data, size_t len);
/* Writes 2*len lowercase digits and a NUL into out (no prefix). out must hold 2*len+1 bytes. */
void wg_hex_encode(const uint8_t *in, size_t len, char *out);
/* Same, with a "0x" prefix; out must hold 2*len+3 bytes. */
void wg_hex_encode_0x(const uint8_t *in, size_t len, char *out);

#endif
