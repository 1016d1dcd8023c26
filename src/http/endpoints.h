/* Every endpoint's handler; one file each under http/endpoints/, named for its path and method. */
#ifndef WG_ENDPOINTS_H
#define WG_ENDPOINTS_H

#include "db/prover_jobs.h"
#include "db/queue.h"
#include "http/server.h"

int wg_h_healthz_get(struct wg_request *rq);
int wg_h_readyz_get(struct wg_request *rq);
int wg_h_metrics_get(struct wg_request *rq);
int wg_h_witness_inputs_post(struct wg_request *rq);
int wg_h_jobs_claim_post(struct wg_request *rq);
int wg_h_jobs_witness_get(struct wg_request *rq);
int wg_h_jobs_heartbeat_post(struct wg_request *rq);
int wg_h_proofs_complete_post(struct wg_request *rq);
int wg_h_proofs_fail_post(struct wg_request *rq);
int wg_h_batches_get(struct wg_request *rq);
int wg_h_batch_get(struct wg_request *rq);
int wg_h_batch_jobs_get(struct wg_request *rq);
int wg_h_job_get(struct wg_request *rq);
int wg_h_job_attempts_get(struct wg_request *rq);
int wg_h_batch_proof_get(struct wg_request *rq);
int wg_h_batch_requeue_post(struct wg_request *rq);
int wg_h_batch_priority_post(struct wg_request *rq);
int wg_h_job_requeue_post(struct wg_request *rq);
int wg_h_batch_delete(struct wg_request *rq);
int wg_h_witness_job_get(struct wg_request *rq);
int wg_h_witness_job_requeue_post(struct wg_request *rq);
int wg_h_queue_get(struct wg_request *rq);
int wg_h_queue_pause_post(struct wg_request *rq);
int wg_h_queue_resume_post(struct wg_request *rq);
int wg_h_ui_get(struct wg_request *rq);

/* The body of POST /queue/pause and /queue/resume: {"protocol_version","rounds","circuit_ids"},
 * all optional (its keys, for wg_request_json, in wg_queue_filter_keys); bad values are replied
 * 400 (false). The filter points into the buffer. */
extern const char *const wg_queue_filter_keys[];
struct wg_queue_filter_buf {
  struct wg_pause_filter filter;
  char rounds[512], circuit_ids[512];
};
bool wg_queue_filter_parse(struct wg_request *rq, json_t *body, struct wg_queue_filter_buf *fb);

/* The JSON of a prover job (claim, heartbeat, GET /jobs/{id}). */
json_t *wg_prover_job_json(const struct wg_prover_job *job);

#endif
