-- Pauses and the queue report.
--
-- A pause stops claims of the prover jobs it matches: a NULL field matches everything, so a pause
-- with no filter pauses every prover job. The claim reads this table in its own statement, so a
-- pause is honoured by every daemon at once. The same filter is stored once (NULLS NOT DISTINCT);
-- lists are stored sorted and without repeats so that equal filters compare equal.
CREATE TABLE queue_pauses (
    id bigserial PRIMARY KEY,
    protocol_version integer,
    rounds smallint[],
    circuit_ids smallint[],
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX queue_pauses_filter ON queue_pauses (protocol_version, rounds, circuit_ids) NULLS NOT DISTINCT;

-- The queue report counts the completions of the last 60 s; successful rows are the bulk of the
-- table until the archiver moves them, so they are reached through their completion time.
CREATE INDEX prover_jobs_successful_at ON prover_jobs (updated_at) WHERE status = 'successful';
