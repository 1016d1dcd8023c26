-- Retention: prover jobs of proven batches move here after a configurable age, so that
-- prover_jobs (and its claim index) stays small. Same columns as prover_jobs, plus when.
CREATE TABLE prover_jobs_archive (LIKE prover_jobs INCLUDING DEFAULTS);
ALTER TABLE prover_jobs_archive ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE prover_jobs_archive ADD PRIMARY KEY (id);
CREATE INDEX prover_jobs_archive_batch ON prover_jobs_archive (l1_batch_number);
