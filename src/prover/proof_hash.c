/* How proofs are named, whatever scheme made them: aggregation witnesses list the hash of each
 * proof they consume, and a repeated completion is compared by it. */
#include "config.h"
#include "prover/scheme.h"

#include "tree/tree.h"

void wg_proof_hash(const uint8_t *proof, size_t len, uint8_t out[32])
{
  wg_blake2s(proof != NULL ? (const void *)proof : (const void *)"", len, out);
}
