/* The JSON shape of a prover job shared by claim, heartbeat and GET /jobs/{id} (docs/api.md). */
#include "config.h"

#include "common/hex.h"
#include "http/endpoints.h"

json_t *wg_prover_job_json(const struct wg_prover_job *j)
{
  json_t *o = json_pack("{s:I,s:I,s:i,s:i,s:i,s:i,s:I,s:s,s:i}", "id", (json_int_t)j->id, "l1_batch_number",
                        (json_int_t)j->l1_batch_number, "protocol_version", j->protocol_version, "aggregation_round",
                        j->aggregation_round, "circuit_id", j->circuit_id, "depth", j->depth, "sequence_number",
                        (json_int_t)j->sequence_number, "status", j->status, "attempts", j->attempts);
  /* The lease is shown to its claimant, once: a claim is the only reply that carries it. */
  if (j->lease[0] != '\0')
    json_object_set_new(o, "lease", json_string(j->lease));
  /* Prover and witness job ids are separate spaces; the kind says which one this id is in. */
  json_object_set_new(o, "kind", json_string("prover"));
  json_object_set_new(o, "lease_expires_at", j->lease_expires_at[0] ? json_string(j->lease_expires_at) : json_null());
  /* A queued job waiting out its retry backoff: when it can be claimed again. */
  json_object_set_new(o, "retry_at", j->retry_at[0] ? json_string(j->retry_at) : json_null());
  if (j->has_proof) {
    char hex[67];
    wg_hex_encode_0x(j->proof_hash, 32, hex);
    json_object_set_new(o, "proof_hash", json_string(hex));
  }
  return o;
}
