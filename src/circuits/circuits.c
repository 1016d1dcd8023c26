/* The basic circuit table of each supported protocol version. */
#include "config.h"
#include "circuits/circuits.h"

#include <stdio.h>
#include <string.h>

/* Protocol version 24: zkSync Era's base layer with its 1.5.3 geometry. */
static const struct wg_circuit_type table_v24[] = {
  {1, "main_vm", 5390},
  {2, "decommitments_sorter", 111250},
  {3, "code_decommitter", 2845},
  {4, "log_demuxer", 58125},
  {5, "keccak256", 293},
  {6, "sha256", 2206},
  {7, "ecrecover", 7},
  {8, "ram_permutation", 127145},
  {9, "storage_sorter", 44171},
  {10, "storage_application", 33},
  {11, "events_sorter", 31287},
  {12, "l1_messages_sorter", 31287},
  {13, "l1_messages_hasher", 774},
  {14, "transient_storage_sorter", 50875},
  {15, "secp256r1_verify", 4},
};

static const uint32_t versions[] = {24};

size_t wg_protocol_versions(const uint32_t **out)
{
  *out = versions;
  return sizeof versions / sizeof versions[0];
}

void wg_protocol_versions_text(char *buf, size_t cap)
{
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof versions / sizeof versions[0] && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%u", i ? ", " : "", (unsigned)versions[i]);
}

const struct wg_circuit_type *wg_circuit_table(uint32_t protocol_version, size_t *count)
{
  if (protocol_version == 24) {
    *count = sizeof table_v24 / sizeof table_v24[0];
    return table_v24;
  }
  *count = 0;
  return NULL;
}

const struct wg_circuit_type *wg_circuit_by_key(uint32_t protocol_version, const char *key)
{
  size_t n;
  const struct wg_circuit_type *t = wg_circuit_table(protocol_version, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].workload_key, key) == 0)
      return &t[i];
  return NULL;
}

const struct wg_circuit_type *wg_circuit_by_id(uint32_t protocol_version, int id)
{
  size_t n;
  const struct wg_circuit_type *t = wg_circuit_table(protocol_version, &n);
  for (size_t i = 0; i < n; i++)
    if (t[i].id == id)
      return &t[i];
  return NULL;
}

uint64_t wg_circuits_needed(uint64_t work, uint64_t capacity)
{
  return work / capacity + (work % capacity != 0);
}

uint64_t wg_aggregation_circuits(uint64_t proofs, uint64_t arity)
{
  return wg_circuits_needed(proofs, arity);
}
