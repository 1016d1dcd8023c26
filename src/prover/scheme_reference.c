/* The reference proof scheme (docs/circuits.md): proof = "WGREF1" || BLAKE2s-256(witness blob).
 * Anyone holding the witness can make it, so it proves nothing; it exists so that the pipeline
 * runs and is checked end to end, behind the interface a real proving system would fill. */
#include "config.h"
#include "prover/scheme.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "tree/tree.h"

static const uint8_t reference_prefix[6] = {'W', 'G', 'R', 'E', 'F', '1'};

enum { REFERENCE_PROOF_LEN = sizeof reference_prefix + WG_HASH_LEN };

static void reference_proof(const uint8_t *witness, size_t witness_len, uint8_t out[REFERENCE_PROOF_LEN])
{
  memcpy(out, reference_prefix, sizeof reference_prefix);
  /* An empty witness may come as NULL; hash it from a valid pointer all the same. */
  wg_blake2s(witness != NULL ? (const void *)witness : (const void *)"", witness_len, out + sizeof reference_prefix);
}

static int reference_prove(const uint8_t *witness, size_t witness_len, uint8_t **proof, size_t *proof_len)
{
  uint8_t *buf = malloc(REFERENCE_PROOF_LEN);
  if (buf == NULL)
    return -1;
  reference_proof(witness, witness_len, buf);
  *proof = buf;
  *proof_len = REFERENCE_PROOF_LEN;
  return 0;
}

static bool reference_verify(const uint8_t *witness, size_t witness_len, const uint8_t *proof, size_t proof_len)
{
  uint8_t expected[REFERENCE_PROOF_LEN];
  if (proof == NULL || proof_len != REFERENCE_PROOF_LEN)
    return false;
  reference_proof(witness, witness_len, expected);
  /* Constant time, so that a real scheme dropped in later does not inherit a timing oracle. */
  return CRYPTO_memcmp(expected, proof, REFERENCE_PROOF_LEN) == 0;
}

const struct wg_proof_scheme wg_scheme_reference = {
  .name = "reference",
  .prove = reference_prove,
  .verify = reference_verify,
};
