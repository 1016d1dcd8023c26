/* A generator of valid, zkSync-compatible basic witness inputs from a synthetic tree of its own,
 * for the demo, the tests and the benchmarks (wgctl gen-input). Pure computation. */
#ifndef WG_GENERATE_H
#define WG_GENERATE_H

#include <stdint.h>

#include "input/input.h"

struct wg_gen_options {
  uint64_t l1_batch_number;
  uint32_t protocol_version;
  uint64_t seed;
  uint64_t initial_keys; /* keys in the tree before the batch */
  uint64_t logs;         /* storage logs of the batch */
  uint64_t workload[WG_MAX_CIRCUIT_ID + 1];
};

/* Builds an input whose logs replay correctly; paths are shortened (their leaf-level empty
 * siblings left out). Returns false when out of memory. Free with wg_input_free. */
bool wg_generate_input(const struct wg_gen_options *o, struct wg_input *out);

/* Parses "key=value[,key=value...]" into workload[]; false with a message on a bad entry. */
bool wg_generate_parse_workload(const char *spec, uint32_t protocol_version, uint64_t workload[WG_MAX_CIRCUIT_ID + 1],
                                char *err, size_t err_len);

#endif
