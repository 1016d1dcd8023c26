/* Witness blobs: the bytes a prover downloads with GET /jobs/{id}/witness. The layout is
 * documented in api/witness-format.md and pinned by golden vectors in tests/unit/.
 * Pure computation. Every blob starts with the format version. */
#ifndef WG_WITNESS_H
#define WG_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "tree/tree.h"

#define WG_WITNESS_FORMAT_VERSION 1

enum wg_witness_kind { WG_WITNESS_BASIC = 0, WG_WITNESS_LEAF = 1, WG_WITNESS_NODE = 2, WG_WITNESS_SCHEDULER = 3 };

/* The starting commitment of circuit type `circuit_id`'s queue in a batch; circuit 0's input
 * commitment. */
void wg_witness_queue_start(uint64_t l1_batch_number, int circuit_id, uint8_t out[WG_HASH_LEN]);

struct wg_basic_witness {
  uint64_t l1_batch_number;
  uint32_t protocol_version;
  int circuit_id;
  uint64_t sequence_number;
  uint64_t work_start, work_end; /* the half-open range [start, end) of the type's work units */
  uint8_t input_commitment[WG_HASH_LEN];
  /* storage_application circuits only (n_logs == 0 otherwise): */
  const struct wg_storage_log *logs;
  size_t n_logs;
  uint8_t root_before[WG_HASH_LEN];
  uint8_t root_after[WG_HASH_LEN];
};

/* Encodes a basic circuit witness into a malloc'd blob (*blob, *len) and writes the queue's
 * output commitment (the next circuit's input commitment) into output_commitment.
 * Returns 0, or -1 when out of memory. */
int wg_witness_encode_basic(const struct wg_basic_witness *w, uint8_t output_commitment[WG_HASH_LEN],
                            uint8_t **blob, size_t *len);

/* A proof that an aggregation circuit consumes. */
struct wg_proof_ref {
  int64_t prover_job_id;
  uint8_t proof_hash[WG_HASH_LEN]; /* BLAKE2s-256 of the proof bytes */
};

struct wg_aggregation_witness {
  enum wg_witness_kind kind; /* LEAF, NODE or SCHEDULER */
  uint64_t l1_batch_number;
  uint32_t protocol_version;
  int circuit_id; /* the basic type aggregated; 0 for the scheduler */
  int depth;
  uint64_t sequence_number;
  const struct wg_proof_ref *proofs;
  size_t n_proofs;
  /* scheduler only: the batch's public input */
  uint8_t previous_root[WG_HASH_LEN];
  uint8_t new_root[WG_HASH_LEN];
};

int wg_witness_encode_aggregation(const struct wg_aggregation_witness *w, uint8_t **blob, size_t *len);

/* Reads the common header of any blob. Returns 0, or -1 when the blob is too short or has an
 * unknown format version. */
struct wg_witness_header {
  uint32_t format_version;
  enum wg_witness_kind kind;
  uint64_t l1_batch_number;
  uint32_t protocol_version;
  int circuit_id;
  int depth;
  uint64_t sequence_number;
};
int wg_witness_decode_header(const uint8_t *blob, size_t len, struct wg_witness_header *out);

/* Decodes the proof list of a leaf, node or scheduler blob into a malloc'd array. Returns 0 or -1. */
int wg_witness_decode_proofs(const uint8_t *blob, size_t len, struct wg_proof_ref **proofs, size_t *n);

#endif
