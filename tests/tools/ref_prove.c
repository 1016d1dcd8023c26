/* ref_prove: the reference proof of a witness blob, for the integration tests, which prove jobs
 * by hand with curl. Reads the blob from FILE (or stdin when FILE is absent or "-") and writes
 * the proof bytes of wg_scheme_reference to stdout: "WGREF1" || BLAKE2s-256(blob).
 *
 *   ref_prove [FILE] > proof */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prover/scheme.h"

/* Reads all of f into a malloc'd buffer. Returns 0 or -1. */
static int read_all(FILE *f, uint8_t **out, size_t *out_len)
{
  size_t cap = 65536, len = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL)
    return -1;
  for (;;) {
    if (len == cap) {
      uint8_t *bigger = realloc(buf, cap * 2);
      if (bigger == NULL)
        goto fail;
      buf = bigger;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f))
        goto fail;
      break;
    }
  }
  *out = buf;
  *out_len = len;
  return 0;
fail:
  free(buf);
  return -1;
}

int main(int argc, char **argv)
{
  if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
    fprintf(stderr, "usage: ref_prove [WITNESS_FILE|-] > PROOF\n");
    return 2;
  }
  const char *path = argc == 2 ? argv[1] : "-";
  FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (in == NULL) {
    fprintf(stderr, "ref_prove: %s: %s\n", path, strerror(errno));
    return 1;
  }
  uint8_t *witness = NULL, *proof = NULL;
  size_t witness_len = 0, proof_len = 0;
  int rc = 1;
  if (read_all(in, &witness, &witness_len) != 0) {
    fprintf(stderr, "ref_prove: %s: read error\n", path);
    goto done;
  }
  if (wg_scheme_reference.prove(witness, witness_len, &proof, &proof_len) != 0) {
    fprintf(stderr, "ref_prove: out of memory\n");
    goto done;
  }
  if (fwrite(proof, 1, proof_len, stdout) != proof_len || fflush(stdout) != 0) {
    fprintf(stderr, "ref_prove: write error\n");
    goto done;
  }
  rc = 0;
done:
  free(proof);
  free(witness);
  if (in != stdin)
    fclose(in);
  return rc;
}
