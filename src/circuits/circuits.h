/* Basic circuit types per protocol version, and how a batch's workload splits into circuits
 * (docs/circuits.md). Pure computation. */
#ifndef WG_CIRCUITS_H
#define WG_CIRCUITS_H

#include <stddef.h>
#include <stdint.h>

#define WG_MAX_CIRCUIT_ID 15        /* basic circuit ids are 1..WG_MAX_CIRCUIT_ID */
#define WG_SCHEDULER_CIRCUIT_ID 0
#define WG_STORAGE_APPLICATION_ID 10
#define WG_SCHEDULER_CAPACITY 28000 /* most basic circuits one batch may need */

enum wg_round { WG_ROUND_BASIC = 0, WG_ROUND_LEAF = 1, WG_ROUND_NODE = 2, WG_ROUND_SCHEDULER = 3 };

struct wg_circuit_type {
  int id;
  const char *workload_key; /* key in "circuit_workload" */
  uint64_t capacity;        /* work units per circuit */
};

/* The circuit table of a protocol version, ordered by id, with *count entries; NULL when the
 * version is unknown. */
const struct wg_circuit_type *wg_circuit_table(uint32_t protocol_version, size_t *count);
/* The protocol versions this build serves, ascending; returns their count. */
size_t wg_protocol_versions(const uint32_t **versions);
/* The same as text for messages: "24" or "24, 25". */
void wg_protocol_versions_text(char *buf, size_t cap);
/* The entry for a workload key, or NULL. */
const struct wg_circuit_type *wg_circuit_by_key(uint32_t protocol_version, const char *key);
/* The entry for an id, or NULL. */
const struct wg_circuit_type *wg_circuit_by_id(uint32_t protocol_version, int id);

/* Circuits needed by work w at capacity c: ceil(w / c). */
uint64_t wg_circuits_needed(uint64_t work, uint64_t capacity);

/* Number of aggregation circuits over k proofs at the given arity: ceil(k / arity). */
uint64_t wg_aggregation_circuits(uint64_t proofs, uint64_t arity);

#endif
