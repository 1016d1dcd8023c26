-- Witness job backoff: a witness job given back after a failure that retrying may cure (the
-- object store full or unreachable, the database lost mid-round) waits retry_at before it can be
-- claimed again, like a prover job, instead of burning its attempts within seconds. The claim
-- still walks each table's partial index of queued rows in claim order and skips rows not yet due.
ALTER TABLE basic_circuit_witness_jobs ADD COLUMN retry_at timestamptz;
ALTER TABLE leaf_aggregation_jobs ADD COLUMN retry_at timestamptz;
ALTER TABLE node_aggregation_jobs ADD COLUMN retry_at timestamptz;
ALTER TABLE scheduler_witness_jobs ADD COLUMN retry_at timestamptz;
