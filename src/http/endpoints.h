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

/* POST /queue/pause and /queue/resume: reads the body's filter {"protocol_version","rounds",
 * "circuit_ids"} (all optional; bad values are a 400), applies op (wg_queue_pause or
 * wg_queue_resume) and replies with the pauses in force; what ("pause", "resume") names the
 * action in an error. */
typedef enum wg_status (*wg_queue_pause_op)(struct wg_dbconn *c, const struct wg_pause_filter *f, json_t **out);
int wg_queue_filter_apply(struct wg_request *rq, wg_queue_pause_op op, const char *what);

/* The JSON of a prover job (claim, heartbeat, GET /jobs/{id}). */
json_t *wg_prover_job_json(const struct wg_prover_job *job);

#endif
