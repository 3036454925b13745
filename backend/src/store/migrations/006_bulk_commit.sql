-- Bulk commits (planning-scale writes): a transaction row holds a commit's author, time and size
-- once, and the audit rows of the commits from now on carry the cell's member ids (coords) and the
-- transaction id only; GetCellHistory joins the author and time back from the transaction row and
-- the member names from the cube. Rows written before keep their names, author and time.

CREATE TABLE write_tx (
  tx_id text NOT NULL,
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  user_name text NOT NULL,
  at timestamptz NOT NULL,
  -- Leaf cells the transaction changed (its audit rows).
  leaves int NOT NULL,
  PRIMARY KEY (cube_id, tx_id)
);
CREATE INDEX write_tx_cube_idx ON write_tx (cube_id, at DESC);

ALTER TABLE audit_log ALTER COLUMN members DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN user_name DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN at DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN at DROP DEFAULT;

-- A foreign key costs a trigger (a lookup in cube) per inserted audit row, a fifth of a bulk
-- commit; saveCube deletes a replaced cube's audit rows itself (as it does its cells, migration 003),
-- and commits lock their cube row FOR KEY SHARE first.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_cube_id_fkey;

-- Room on every page for the new version of a row, so that a commit's UPDATE of a cell stays on its
-- page without touching the primary key index (a HOT update): about 2.5 times faster for a large
-- spread. Pages written from now on (loads, inserts) keep 30% free.
ALTER TABLE cell SET (fillfactor = 70);

-- Outbox payloads are JSON text made by the event contract (events/contract.ts) and relayed as
-- text: stored as text, they are not parsed into jsonb on every commit and printed back on every
-- claim (a large spread's events are megabytes).
ALTER TABLE outbox ALTER COLUMN payload TYPE text USING payload::text;
-- Out of line but not compressed: compressing a large event costs more than it saves for rows that
-- live until they are relayed and pruned.
ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;

-- History looks audit rows up by cell: an index on a hash of the coordinates (an int4) costs a bulk
-- commit's audit INSERT about half of what a btree over the int[] does; the lookup checks the
-- coordinates themselves too (sql/audit.ts), so a hash collision never mixes two cells' histories.
DROP INDEX audit_log_cell_idx;
CREATE INDEX audit_log_cell_idx ON audit_log (cube_id, hash_array(coords), id DESC);
