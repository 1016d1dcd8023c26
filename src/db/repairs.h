/* Operator repairs and retention: requeue, delete a batch, archive old prover jobs. */
#ifndef WG_DB_REPAIRS_H
#define WG_DB_REPAIRS_H

#include "db/db.h"

extern const struct wg_stmt wg_sql_repairs[];

/* Every failed job of a batch, witness and prover, back to queued. *requeued counts them;
 * WG_E_NOT_FOUND when the batch does not exist. */
enum wg_status wg_repair_requeue_batch(struct wg_dbconn *c, int64_t batch, int *requeued);
/* One failed prover job back to queued. WG_E_NOT_FOUND; WG_E_CONFLICT when it is not failed
 * (*status then holds its status). */
enum wg_status wg_repair_requeue_job(struct wg_dbconn *c, int64_t id, char status[24]);
/* One failed witness job of a round (0-3) back to queued, waking that round. WG_E_NOT_FOUND;
 * WG_E_CONFLICT when it is not failed (*status then holds its status). */
enum wg_status wg_repair_requeue_witness_job(struct wg_dbconn *c, int round, int64_t id, char status[24]);
/* Inside the caller's transaction: removes every row of a batch and records it in blob_sweeps;
 * the caller removes its blobs after the commit (store/sweep.h). WG_E_NOT_FOUND when unknown. */
enum wg_status wg_repair_delete_batch(struct wg_dbconn *c, int64_t batch);
/* Inside the caller's transaction: starts a batch over from its stored input. Removes every row
 * but the basic job's, which goes back to queued keeping its input (the caller removes the derived
 * blobs, wg_key_round_prefix), and wakes the basic round. WG_E_NOT_FOUND when unknown. */
enum wg_status wg_repair_restart_batch(struct wg_dbconn *c, int64_t batch);
/* The batches that have a failed job of any kind, in order; *batches is malloc'd. */
enum wg_status wg_repair_failed_batches(struct wg_dbconn *c, int64_t **batches, int *count);
/* Moves the basic, leaf and node prover jobs of batches proven more than age_seconds ago into
 * prover_jobs_archive (the scheduler job stays: it carries the batch's proof and status). */
enum wg_status wg_repair_archive(struct wg_dbconn *c, int64_t age_seconds, int *archived);

#endif
