-- Throughput and retries.
--
-- Witness packs: a round writes the witnesses of one layer as a single pack blob, made durable
-- with one flush, and each prover job records where its witness lies in it. The pack's key is
-- derived from the job (batch, round, circuit type, depth) and the attempt of the witness job
-- that wrote it, so a stale round that lost its lease can never overwrite the pack a newer
-- attempt committed. Rows without a pack (witness_pack NULL) have one blob of their own.
ALTER TABLE prover_jobs ADD COLUMN witness_pack integer;
ALTER TABLE prover_jobs ADD COLUMN witness_offset bigint CHECK (witness_offset >= 0);
ALTER TABLE prover_jobs ADD COLUMN witness_length integer CHECK (witness_length >= 0);
ALTER TABLE prover_jobs_archive ADD COLUMN witness_pack integer;
ALTER TABLE prover_jobs_archive ADD COLUMN witness_offset bigint;
ALTER TABLE prover_jobs_archive ADD COLUMN witness_length integer;

-- Retry backoff: a prover job sent back to queued after a fail or an expired lease is not
-- claimable before retry_at.
ALTER TABLE prover_jobs ADD COLUMN retry_at timestamptz;
ALTER TABLE prover_jobs_archive ADD COLUMN retry_at timestamptz;

-- An operator requeue grants max_attempts more claims from where the job stands: attempts only
-- grows (leases are fenced on it), and the limit is checked against attempts - attempts_base.
ALTER TABLE prover_jobs ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;
ALTER TABLE prover_jobs_archive ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;
ALTER TABLE basic_circuit_witness_jobs ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;
ALTER TABLE leaf_aggregation_jobs ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;
ALTER TABLE node_aggregation_jobs ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;
ALTER TABLE scheduler_witness_jobs ADD COLUMN attempts_base integer NOT NULL DEFAULT 0;

-- Packs are read by slices: stored uncompressed, substring() reads only the chunks it needs.
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;


-- Every claim and completion leaves a dead row version behind and a dead entry in the claim
-- index. Vacuum prover_jobs after 2% of it changed (not the default 20%), so that the partial
-- index of queued rows, which every claim walks, stays small however many batches went through.
ALTER TABLE prover_jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05,
                             autovacuum_analyze_scale_factor = 0.05);
