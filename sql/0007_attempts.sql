-- Attempt records (docs/state-machine.md, attempts): every claim of a prover job is kept, with who
-- claimed it, when it ended and how, also after the job succeeds, so that an operator can read a
-- job's history (GET /jobs/{id}/attempts).
--
-- A record is written and ended by the very statements that claim, complete, fail, expire and
-- give back the job, so none can be missed. It is numbered by prover_jobs.claims, which every
-- claim adds 1 to and nothing takes back: `attempts` cannot number them, because a claim given
-- back takes its attempt back and the next claim would reuse the number. The record of the claim
-- that holds a job is therefore (id, claims), found by its primary key.
--
-- The archive leaves this table alone: records stay keyed by job id, and GET /jobs/{id}/attempts
-- answers for an archived job too. Deleting or restarting a batch removes its records
-- (l1_batch_number), so that nothing of an old incarnation is shown for a new one.
ALTER TABLE prover_jobs ADD COLUMN claims integer NOT NULL DEFAULT 0;
ALTER TABLE prover_jobs_archive ADD COLUMN claims integer NOT NULL DEFAULT 0;
-- Jobs claimed before this migration have no records; their next claim is numbered after the
-- claims they already used.
UPDATE prover_jobs SET claims = attempts WHERE attempts > 0;
UPDATE prover_jobs_archive SET claims = attempts WHERE attempts > 0;

CREATE TABLE prover_job_attempts (
  prover_job_id   bigint NOT NULL,
  attempt         integer NOT NULL CHECK (attempt >= 1),
  l1_batch_number bigint NOT NULL,
  prover_id       text,
  token_name      text,
  claimed_at      timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz,
  outcome         text NOT NULL DEFAULT 'in_progress'
                  CHECK (outcome IN ('in_progress', 'successful', 'failed', 'expired', 'released', 'requeued')),
  error           text,
  PRIMARY KEY (prover_job_id, attempt)
);
CREATE INDEX prover_job_attempts_batch ON prover_job_attempts (l1_batch_number);
