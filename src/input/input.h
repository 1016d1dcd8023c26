/* The basic witness input that the tree service uploads (docs/input-format.md): parsing, validation,
 * and the circuit counts it implies. Pure computation: knows nothing of HTTP or SQL. */
#ifndef WG_INPUT_H
#define WG_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "circuits/circuits.h"
#include "tree/tree.h"

struct wg_input {
  uint64_t l1_batch_number;
  uint32_t protocol_version;
  uint8_t previous_root[WG_HASH_LEN];
  uint8_t new_root[WG_HASH_LEN];
  struct wg_storage_log *logs; /* n_logs entries, owned */
  size_t n_logs;
  uint8_t (*paths)[WG_HASH_LEN]; /* every log's path siblings, back to back; owned */
  uint64_t workload[WG_MAX_CIRCUIT_ID + 1]; /* work per circuit id; [10] = n_logs */
};

/* A validation failure: `path` is the JSON path of the first problem ("$.storage_logs[3].merkle_path[7]"),
 * `message` says what is wrong with it. `bad_json` is true when the body does not parse as JSON at
 * all (the HTTP layer answers bad_request), false when it parses but breaks the contract
 * (invalid_input). `internal` is true when parsing ran out of memory: not the client's fault (the
 * HTTP layer answers internal). Path and message are valid UTF-8 without control characters. */
struct wg_input_error {
  bool bad_json;
  bool internal;
  char path[256];
  char message[512];
};

/* Parses and fully validates body[0..len). expected_batch is {n} from the request path.
 * On success fills *out (free with wg_input_free) and returns true; else fills *err and returns
 * false, leaving *out empty. */
bool wg_input_parse(const char *body, size_t len, uint64_t expected_batch, struct wg_input *out,
                    struct wg_input_error *err);
void wg_input_free(struct wg_input *in);

/* The canonical JSON of an input (the shape of docs/input-format.md, compact, keys in its order, hex
 * lowercase with 0x; value_written always written (zero for a read), root_hash only when
 * present; circuit_workload lists only nonzero work, never storage_application).
 * wg_input_parse of the result gives back an equal input. Returns a malloc'd string, or NULL when
 * out of memory. */
char *wg_input_to_json(const struct wg_input *in);

/* The SHA-256 of wg_input_to_json(in) with every merkle_path in its shortest form (without the
 * leaf-level empty subtrees that may be left out), computed without building it: one digest for
 * every serialisation of one input (key order, whitespace, hex case, a read's value_written absent
 * or zero, a null root_hash or none, a path with or without its leaf-level empty subtrees). False
 * when out of memory. */
bool wg_input_canonical_sha256(const struct wg_input *in, uint8_t out[32]);

/* Basic circuits per circuit id (index 1..WG_MAX_CIRCUIT_ID; [0] is 0), and their total.
 * storage_application (id 10) work is n_logs. */
uint64_t wg_input_circuit_counts(const struct wg_input *in, uint64_t counts[WG_MAX_CIRCUIT_ID + 1]);

#endif
