-- Initial schema: the four witness job tables, prover jobs, access tokens and the blob store.
-- Every job table carries the same bookkeeping columns (attempts, error, picked_by, lease,
-- timings) so that claiming, leases and requeues work the same way everywhere (docs/state-machine.md).

CREATE TABLE tokens (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name <> ''),
    role          text NOT NULL CHECK (role IN ('tree', 'prover', 'viewer', 'admin')),
    token_sha256  bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

-- Blobs of the "postgres" object store backend, shared by daemons on several machines.
CREATE TABLE blobs (
    key         text PRIMARY KEY,
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One per batch: the uploaded merkle-proof input. This table is also the list of batches.
CREATE TABLE basic_circuit_witness_jobs (
    id                     bigserial PRIMARY KEY,
    l1_batch_number        bigint NOT NULL UNIQUE CHECK (l1_batch_number >= 0),
    protocol_version       integer NOT NULL,
    status                 text NOT NULL DEFAULT 'queued'
                           CHECK (status IN ('waiting_for_proofs', 'queued', 'in_progress', 'successful', 'failed')),
    input_sha256           bytea NOT NULL CHECK (octet_length(input_sha256) = 32),
    input_key              text NOT NULL,
    input_bytes            bigint NOT NULL,
    attempts               integer NOT NULL DEFAULT 0,
    error                  text,
    picked_by              text,
    lease_expires_at       timestamptz,
    processing_started_at  timestamptz,
    time_taken             interval,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX basic_circuit_witness_jobs_queued
    ON basic_circuit_witness_jobs (l1_batch_number, id) WHERE status = 'queued';
CREATE INDEX basic_circuit_witness_jobs_leased
    ON basic_circuit_witness_jobs (lease_expires_at) WHERE status = 'in_progress';

-- One per batch and basic circuit type with work: aggregates that type's basic proofs.
CREATE TABLE leaf_aggregation_jobs (
    id                        bigserial PRIMARY KEY,
    l1_batch_number           bigint NOT NULL CHECK (l1_batch_number >= 0),
    circuit_id                smallint NOT NULL CHECK (circuit_id > 0),
    protocol_version          integer NOT NULL,
    status                    text NOT NULL DEFAULT 'waiting_for_proofs'
                              CHECK (status IN ('waiting_for_proofs', 'queued', 'in_progress', 'successful', 'failed')),
    number_of_basic_circuits  integer NOT NULL CHECK (number_of_basic_circuits > 0),
    proofs_done               integer NOT NULL DEFAULT 0 CHECK (proofs_done >= 0),
    attempts                  integer NOT NULL DEFAULT 0,
    error                     text,
    picked_by                 text,
    lease_expires_at          timestamptz,
    processing_started_at     timestamptz,
    time_taken                interval,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (l1_batch_number, circuit_id)
);
CREATE INDEX leaf_aggregation_jobs_queued
    ON leaf_aggregation_jobs (l1_batch_number, id) WHERE status = 'queued';
CREATE INDEX leaf_aggregation_jobs_leased
    ON leaf_aggregation_jobs (lease_expires_at) WHERE status = 'in_progress';

-- One per batch, circuit type and depth. number_of_dependent_jobs is the count of proofs of the
-- layer below; it is unknown (NULL) for the depth-0 stub until the leaf round has run.
CREATE TABLE node_aggregation_jobs (
    id                        bigserial PRIMARY KEY,
    l1_batch_number           bigint NOT NULL CHECK (l1_batch_number >= 0),
    circuit_id                smallint NOT NULL CHECK (circuit_id > 0),
    depth                     integer NOT NULL CHECK (depth >= 0),
    protocol_version          integer NOT NULL,
    status                    text NOT NULL DEFAULT 'waiting_for_proofs'
                              CHECK (status IN ('waiting_for_proofs', 'queued', 'in_progress', 'successful', 'failed')),
    number_of_dependent_jobs  integer CHECK (number_of_dependent_jobs > 0),
    proofs_done               integer NOT NULL DEFAULT 0 CHECK (proofs_done >= 0),
    attempts                  integer NOT NULL DEFAULT 0,
    error                     text,
    picked_by                 text,
    lease_expires_at          timestamptz,
    processing_started_at     timestamptz,
    time_taken                interval,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (l1_batch_number, circuit_id, depth)
);
CREATE INDEX node_aggregation_jobs_queued
    ON node_aggregation_jobs (l1_batch_number, depth, id) WHERE status = 'queued';
CREATE INDEX node_aggregation_jobs_leased
    ON node_aggregation_jobs (lease_expires_at) WHERE status = 'in_progress';

-- One per batch: aggregates the final node proof of every circuit type with the public input.
CREATE TABLE scheduler_witness_jobs (
    id                        bigserial PRIMARY KEY,
    l1_batch_number           bigint NOT NULL UNIQUE CHECK (l1_batch_number >= 0),
    protocol_version          integer NOT NULL,
    status                    text NOT NULL DEFAULT 'waiting_for_proofs'
                              CHECK (status IN ('waiting_for_proofs', 'queued', 'in_progress', 'successful', 'failed')),
    number_of_dependent_jobs  integer NOT NULL CHECK (number_of_dependent_jobs > 0),
    proofs_done               integer NOT NULL DEFAULT 0 CHECK (proofs_done >= 0),
    previous_root_hash        bytea NOT NULL CHECK (octet_length(previous_root_hash) = 32),
    new_root_hash             bytea NOT NULL CHECK (octet_length(new_root_hash) = 32),
    attempts                  integer NOT NULL DEFAULT 0,
    error                     text,
    picked_by                 text,
    lease_expires_at          timestamptz,
    processing_started_at     timestamptz,
    time_taken                interval,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduler_witness_jobs_queued
    ON scheduler_witness_jobs (l1_batch_number, id) WHERE status = 'queued';
CREATE INDEX scheduler_witness_jobs_leased
    ON scheduler_witness_jobs (lease_expires_at) WHERE status = 'in_progress';

-- Every circuit of every round, proved by external provers over HTTP.
CREATE TABLE prover_jobs (
    id                     bigserial PRIMARY KEY,
    l1_batch_number        bigint NOT NULL CHECK (l1_batch_number >= 0),
    protocol_version       integer NOT NULL,
    aggregation_round      smallint NOT NULL CHECK (aggregation_round BETWEEN 0 AND 3),
    circuit_id             smallint NOT NULL CHECK (circuit_id >= 0),
    depth                  integer NOT NULL DEFAULT 0 CHECK (depth >= 0),
    sequence_number        integer NOT NULL CHECK (sequence_number >= 0),
    status                 text NOT NULL DEFAULT 'queued'
                           CHECK (status IN ('queued', 'in_progress', 'successful', 'failed')),
    proof_hash             bytea CHECK (octet_length(proof_hash) = 32),
    attempts               integer NOT NULL DEFAULT 0,
    error                  text,
    picked_by              text,
    lease_expires_at       timestamptz,
    processing_started_at  timestamptz,
    time_taken             interval,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (l1_batch_number, aggregation_round, circuit_id, depth, sequence_number)
);
CREATE INDEX prover_jobs_queued
    ON prover_jobs (l1_batch_number, aggregation_round, id) WHERE status = 'queued';
CREATE INDEX prover_jobs_leased
    ON prover_jobs (lease_expires_at) WHERE status = 'in_progress';
-- The proofs provers posted, one per successful prover job. They live in the database, not the
-- object store, so that a completion stores its proof and marks its job in one transaction.
CREATE TABLE proofs (
    prover_job_id    bigint PRIMARY KEY,
    l1_batch_number  bigint NOT NULL,
    proof            bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proofs_batch ON proofs (l1_batch_number);

-- Batch status needs "does the batch have a failed job" without scanning its circuits.
CREATE INDEX prover_jobs_failed
    ON prover_jobs (l1_batch_number) WHERE status = 'failed';
