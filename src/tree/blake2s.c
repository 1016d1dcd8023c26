/* BLAKE2s-256 (RFC 7693), unkeyed, written out here rather than called through OpenSSL's EVP.
 *
 * Why not EVP: the tree hashes almost nothing but 64-byte pairs and 40-byte leaves, one
 * compression each, and EVP's per-message init/update/final costs about as much as the compression
 * itself (see bench/bench_tree.c, which measures both). OpenSSL stays the reference: the unit
 * tests compare this code with EVP "BLAKE2S-256" on random inputs of many lengths. */
#include "config.h"

#include <string.h>

#include "tree/tree.h"

#define BLAKE2S_BLOCK 64

static const uint32_t blake2s_iv[8] = {
  0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
  0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

static const uint8_t blake2s_sigma[10][16] = {
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
  {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
  {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
  {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
  {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
  {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
  {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
  {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
  {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
  {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static inline uint32_t load32_le(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t rotr32(uint32_t x, unsigned n)
{
  return x >> n | x << (32 - n);
}

/* The mixing function G and one round, spelled out so that every sigma index is a constant the
 * compiler can resolve: the rounds are unrolled below rather than looped. */
#define G(r, i, a, b, c, d)                          \
  do {                                               \
    a = a + b + m[blake2s_sigma[r][2 * (i)]];        \
    d = rotr32(d ^ a, 16);                           \
    c = c + d;                                       \
    b = rotr32(b ^ c, 12);                           \
    a = a + b + m[blake2s_sigma[r][2 * (i) + 1]];    \
    d = rotr32(d ^ a, 8);                            \
    c = c + d;                                       \
    b = rotr32(b ^ c, 7);                            \
  } while (0)

#define ROUND(r)                                     \
  do {                                               \
    G(r, 0, v0, v4, v8, v12);                        \
    G(r, 1, v1, v5, v9, v13);                        \
    G(r, 2, v2, v6, v10, v14);                       \
    G(r, 3, v3, v7, v11, v15);                       \
    G(r, 4, v0, v5, v10, v15);                       \
    G(r, 5, v1, v6, v11, v12);                       \
    G(r, 6, v2, v7, v8, v13);                        \
    G(r, 7, v3, v4, v9, v14);                        \
  } while (0)

/* Compresses one 64-byte block into h. t is the byte count so far including this block; last
 * marks the final block. */
static void blake2s_compress(uint32_t h[8], const uint8_t block[BLAKE2S_BLOCK], uint64_t t, int last)
{
  uint32_t m[16];
  for (int i = 0; i < 16; i++)
    m[i] = load32_le(block + 4 * i);

  uint32_t v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
  uint32_t v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
  uint32_t v8 = blake2s_iv[0], v9 = blake2s_iv[1], v10 = blake2s_iv[2], v11 = blake2s_iv[3];
  uint32_t v12 = blake2s_iv[4] ^ (uint32_t)t, v13 = blake2s_iv[5] ^ (uint32_t)(t >> 32);
  uint32_t v14 = last ? ~blake2s_iv[6] : blake2s_iv[6], v15 = blake2s_iv[7];

  ROUND(0);
  ROUND(1);
  ROUND(2);
  ROUND(3);
  ROUND(4);
  ROUND(5);
  ROUND(6);
  ROUND(7);
  ROUND(8);
  ROUND(9);

  h[0] ^= v0 ^ v8;
  h[1] ^= v1 ^ v9;
  h[2] ^= v2 ^ v10;
  h[3] ^= v3 ^ v11;
  h[4] ^= v4 ^ v12;
  h[5] ^= v5 ^ v13;
  h[6] ^= v6 ^ v14;
  h[7] ^= v7 ^ v15;
}

#undef ROUND
#undef G

/* The initial state of unkeyed BLAKE2s-256: parameter block digest length 32, fanout 1, depth 1. */
static void blake2s_init(uint32_t h[8])
{
  memcpy(h, blake2s_iv, sizeof blake2s_iv);
  h[0] ^= 0x01010000u | WG_HASH_LEN;
}

static void blake2s_output(const uint32_t h[8], uint8_t out[WG_HASH_LEN])
{
  for (int i = 0; i < 8; i++)
    store32_le(out + 4 * i, h[i]);
}

void wg_blake2s(const void *data, size_t len, uint8_t out[WG_HASH_LEN])
{
  const uint8_t *p = data;
  uint32_t h[8];
  uint64_t t = 0;
  blake2s_init(h);
  /* Every block but the last is full; the last (possibly the only, possibly empty) block is
   * zero-padded and flagged final. */
  while (len > BLAKE2S_BLOCK) {
    t += BLAKE2S_BLOCK;
    blake2s_compress(h, p, t, 0);
    p += BLAKE2S_BLOCK;
    len -= BLAKE2S_BLOCK;
  }
  uint8_t last[BLAKE2S_BLOCK] = {0};
  if (len > 0)
    memcpy(last, p, len);
  t += len;
  blake2s_compress(h, last, t, 1);
  blake2s_output(h, out);
}

void wg_blake2s_pair(const uint8_t left[WG_HASH_LEN], const uint8_t right[WG_HASH_LEN],
                     uint8_t out[WG_HASH_LEN])
{
  uint8_t block[BLAKE2S_BLOCK];
  uint32_t h[8];
  memcpy(block, left, WG_HASH_LEN);
  memcpy(block + WG_HASH_LEN, right, WG_HASH_LEN);
  blake2s_init(h);
  blake2s_compress(h, block, BLAKE2S_BLOCK, 1);
  blake2s_output(h, out);
}
