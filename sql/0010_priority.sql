-- Priorities (docs/state-machine.md, priority): every batch has a priority, -100 to 100, set by an
-- admin; claims take higher priority first, then the usual order. The batch's priority lives on
-- its basic job (this table is the list of batches) and is copied onto every other job of the
-- batch: the rounds copy it when they insert jobs, and setting it updates the batch's rows in one
-- statement under the batch lock (db/repairs.c), so a claim reads it from the row it claims and
-- each partial index of queued rows can lead with it. A requeue leaves it alone.
ALTER TABLE basic_circuit_witness_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0
  CHECK (priority BETWEEN -100 AND 100);
ALTER TABLE leaf_aggregation_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
ALTER TABLE node_aggregation_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
ALTER TABLE scheduler_witness_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
ALTER TABLE prover_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
ALTER TABLE prover_jobs_archive ADD COLUMN priority smallint NOT NULL DEFAULT 0;

-- Each claim index leads with priority DESC, in the claim's order, so a claim stays a walk of
-- its index that stops at the first rows it can lock.
DROP INDEX basic_circuit_witness_jobs_queued;
CREATE INDEX basic_circuit_witness_jobs_queued
    ON basic_circuit_witness_jobs (priority DESC, l1_batch_number, id) WHERE status = 'queued';
DROP INDEX leaf_aggregation_jobs_queued;
CREATE INDEX leaf_aggregation_jobs_queued
    ON leaf_aggregation_jobs (priority DESC, l1_batch_number, id) WHERE status = 'queued';
DROP INDEX node_aggregation_jobs_queued;
CREATE INDEX node_aggregation_jobs_queued
    ON node_aggregation_jobs (priority DESC, l1_batch_number, depth, id) WHERE status = 'queued';
DROP INDEX scheduler_witness_jobs_queued;
CREATE INDEX scheduler_witness_jobs_queued
    ON scheduler_witness_jobs (priority DESC, l1_batch_number, id) WHERE status = 'queued';
DROP INDEX prover_jobs_queued;
CREATE INDEX prover_jobs_queued
    ON prover_jobs (priority DESC, l1_batch_number, aggregation_round, id) WHERE status = 'queued';
