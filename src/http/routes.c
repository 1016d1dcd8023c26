/* The daemon's routing table: every route, the role it requires and the body it takes
 * (docs/api.md). The OpenAPI document in api/openapi.yaml describes the same table. */
#include "config.h"

#include "http/endpoints.h"
#include "http/router.h"

const struct wg_route wg_routes[] = {
  {"GET", "/healthz", wg_h_healthz_get, WG_ROLE_ANYONE, WG_BODY_NONE},
  {"GET", "/readyz", wg_h_readyz_get, WG_ROLE_ANYONE, WG_BODY_NONE},
  {"GET", "/metrics", wg_h_metrics_get, WG_ROLE_ANYONE, WG_BODY_NONE},
  {"POST", "/batches/{n}/witness-inputs", wg_h_witness_inputs_post, WG_ROLE_TREE, WG_BODY_INPUT},
  {"POST", "/jobs/claim", wg_h_jobs_claim_post, WG_ROLE_PROVER, WG_BODY_JSON},
  {"GET", "/jobs/{id}/witness", wg_h_jobs_witness_get, WG_ROLE_HOLDER, WG_BODY_NONE},
  {"POST", "/jobs/{id}/heartbeat", wg_h_jobs_heartbeat_post, WG_ROLE_PROVER, WG_BODY_NONE},
  {"POST", "/proofs/{id}/complete", wg_h_proofs_complete_post, WG_ROLE_PROVER, WG_BODY_OCTET},
  {"POST", "/proofs/{id}/fail", wg_h_proofs_fail_post, WG_ROLE_PROVER, WG_BODY_JSON},
  {"GET", "/batches", wg_h_batches_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"GET", "/batches/{n}", wg_h_batch_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"GET", "/batches/{n}/jobs", wg_h_batch_jobs_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"GET", "/batches/{n}/proof", wg_h_batch_proof_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"GET", "/jobs/{id}", wg_h_job_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"GET", "/jobs/{id}/attempts", wg_h_job_attempts_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"POST", "/batches/{n}/requeue", wg_h_batch_requeue_post, WG_ROLE_ADMIN, WG_BODY_NONE},
  {"POST", "/batches/{n}/priority", wg_h_batch_priority_post, WG_ROLE_ADMIN, WG_BODY_JSON},
  {"POST", "/jobs/{id}/requeue", wg_h_job_requeue_post, WG_ROLE_ADMIN, WG_BODY_NONE},
  {"GET", "/witness-jobs/{round}/{id}", wg_h_witness_job_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"POST", "/witness-jobs/{round}/{id}/requeue", wg_h_witness_job_requeue_post, WG_ROLE_ADMIN, WG_BODY_NONE},
  {"DELETE", "/batches/{n}", wg_h_batch_delete, WG_ROLE_ADMIN, WG_BODY_NONE},
  {"GET", "/queue", wg_h_queue_get, WG_ROLE_VIEWER, WG_BODY_NONE},
  {"POST", "/queue/pause", wg_h_queue_pause_post, WG_ROLE_ADMIN, WG_BODY_JSON},
  {"POST", "/queue/resume", wg_h_queue_resume_post, WG_ROLE_ADMIN, WG_BODY_JSON},
  {"GET", "/ui", wg_h_ui_get, WG_ROLE_ANYONE, WG_BODY_NONE},
};
const size_t wg_routes_count = sizeof wg_routes / sizeof wg_routes[0];
