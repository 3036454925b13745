-- Undo (LatticeService ListTransactions / UndoTransaction): a transaction row says what kind of
-- change it was and what was asked for, which transaction it undoes (an undo is a transaction
-- too, and can itself be undone), and the range of audit_log ids its records lie in, so that an
-- undo reads a transaction's records through the primary key without an index on tx_id (which
-- would cost every audit row of a large spread an index entry).

-- write (leaf writes only), spread (a write to a consolidated cell among them), copy (a scenario
-- copy) or undo. Transactions committed before this migration are writes.
ALTER TABLE write_tx ADD COLUMN kind text NOT NULL DEFAULT 'write'
  CHECK (kind IN ('write', 'spread', 'copy', 'undo'));
-- What was asked for, as a person reads it (e.g. `P spread into [Store].[USA], [Time].[1997]`).
ALTER TABLE write_tx ADD COLUMN detail text NOT NULL DEFAULT '';
-- The transaction an undo restored (kind = 'undo').
ALTER TABLE write_tx ADD COLUMN undoes text;
-- The transaction's audit records have ids in (audit_after, audit_last]; null for transactions
-- committed before this migration (their records are found by tx_id alone).
ALTER TABLE write_tx ADD COLUMN audit_after bigint;
ALTER TABLE write_tx ADD COLUMN audit_last bigint;

-- A user's recent transactions, newest first.
CREATE INDEX write_tx_user_idx ON write_tx (cube_id, user_name, at DESC);
-- Which undo restored a transaction.
CREATE INDEX write_tx_undoes_idx ON write_tx (cube_id, undoes) WHERE undoes IS NOT NULL;
