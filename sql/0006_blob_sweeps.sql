-- Blob sweeps: the batches whose rows are deleted and whose blobs may still be in the store.
--
-- DELETE /batches/{n} (and wgctl delete) removes the rows and records the batch here in one
-- transaction, commits, and only then removes the blobs, so that no batch lock or row lock is
-- held while the object store is called (an S3 call can retry for seconds). Removing the blobs
-- drops the batch from this table; a daemon that stops between the two (a crash) leaves it here,
-- and every daemon's housekeeping sweeps what is left (store/sweep.c).
CREATE TABLE blob_sweeps (
  l1_batch_number bigint PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
