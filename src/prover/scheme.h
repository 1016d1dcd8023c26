/* The proof scheme: how a proof is made from a witness blob and checked against it. One small
 * interface so that a real proving system can replace the reference scheme (docs/circuits.md). */
#ifndef WG_SCHEME_H
#define WG_SCHEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_proof_scheme {
  const char *name;
  /* Makes the proof of a witness blob into a malloc'd buffer. Returns 0 or -1. */
  int (*prove)(const uint8_t *witness, size_t witness_len, uint8_t **proof, size_t *proof_len);
  /* True when proof is a valid proof of witness. */
  bool (*verify)(const uint8_t *witness, size_t witness_len, const uint8_t *proof, size_t proof_len);
};

/* proof = "WGREF1" || BLAKE2s-256(witness). Not zero-knowledge; it lets the pipeline run end to end. */
extern const struct wg_proof_scheme wg_scheme_reference;

/* BLAKE2s-256 of proof bytes: how proofs are named in witnesses and compared on repeats. */
void wg_proof_hash(const uint8_t *proof, size_t len, uint8_t out[32]);

#endif
