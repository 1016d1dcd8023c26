-- The object store the daemons use, recorded by each daemon at start (db/store_config.c).
--
-- wgctl's restart and delete remove blobs as well as rows: they must open the daemons' store,
-- not a default of their own (a wrong directory would leave the batch's blobs behind and report
-- success). They use the store recorded here when none is given and refuse a different one. One
-- row: daemons that share a database share their store.
CREATE TABLE store_config (
  id integer PRIMARY KEY CHECK (id = 1),
  url text NOT NULL,
  recorded_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
