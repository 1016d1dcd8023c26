-- Leases that cannot be confused (docs/state-machine.md, fencing).
--
-- A claim's lease is a random string the daemon makes and returns once; the row keeps only its
-- SHA-256 (lease_hash) and the name of the token that claimed it (lease_token). Heartbeat,
-- completion, failure and the witness download are applied only when both match, so no other
-- token, no viewer and no claim of another incarnation can act on the job.
--
-- A claim whose reply never reached its prover must not strand the job for the whole lease: the
-- claim first holds the job for --claim-grace only, and the first witness download or heartbeat
-- (lease_touched) extends it to --lease. Expiry of an untouched claim requeues with no backoff.
ALTER TABLE prover_jobs ADD COLUMN lease_hash bytea CHECK (octet_length(lease_hash) = 32);
ALTER TABLE prover_jobs ADD COLUMN lease_token text;
ALTER TABLE prover_jobs ADD COLUMN lease_touched boolean NOT NULL DEFAULT false;
ALTER TABLE prover_jobs_archive ADD COLUMN lease_hash bytea;
ALTER TABLE prover_jobs_archive ADD COLUMN lease_token text;
ALTER TABLE prover_jobs_archive ADD COLUMN lease_touched boolean NOT NULL DEFAULT false;

-- Nothing is reused: a witness pack's key carries a random 63-bit id chosen by the round that
-- wrote it, so a re-upload, an operator restart or a failover that lost commits never writes a
-- key twice, and a location remembered for an old job can never point into a new pack. Rows of
-- packs written before this migration keep witness_pack (the attempt) and its key.
ALTER TABLE prover_jobs ADD COLUMN witness_pack_id bigint;
ALTER TABLE prover_jobs_archive ADD COLUMN witness_pack_id bigint;
