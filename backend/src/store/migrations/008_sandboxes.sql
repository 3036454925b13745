-- Sandboxes (quantatom.v1.SandboxService): a private layer of leaf values over a cube, owned by
-- its creator and shared with named users (read, or read and write). A sandbox's cells keep the
-- base version each had when the sandbox first changed it, which CommitSandbox checks against the
-- base. A committed sandbox is kept, read-only, for reference; a discarded one is deleted with
-- its cells, shares and audit records.

CREATE TABLE sandbox (
  id text PRIMARY KEY,
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  name text NOT NULL,
  owner text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'committed')),
  -- The base transaction that committed it, and when.
  committed_tx text,
  committed_at timestamptz
);
CREATE INDEX sandbox_cube_owner_idx ON sandbox (cube_id, owner);

CREATE TABLE sandbox_share (
  sandbox_id text NOT NULL REFERENCES sandbox (id) ON DELETE CASCADE,
  user_name text NOT NULL,
  can_write boolean NOT NULL,
  PRIMARY KEY (sandbox_id, user_name)
);
CREATE INDEX sandbox_share_user_idx ON sandbox_share (user_name);

-- One row per leaf the sandbox changed: its value there (NULL: emptied in the sandbox), its
-- version (drawn from cell_version_seq, like the base's), and the base version it changed.
CREATE TABLE sandbox_cell (
  sandbox_id text NOT NULL REFERENCES sandbox (id) ON DELETE CASCADE,
  coords int[] NOT NULL,
  value double precision,
  version bigint NOT NULL,
  base_version bigint NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (sandbox_id, coords)
);

-- Sandbox writes, one row per transaction, and one audit record per leaf changed.
CREATE TABLE sandbox_tx (
  tx_id text PRIMARY KEY,
  sandbox_id text NOT NULL REFERENCES sandbox (id) ON DELETE CASCADE,
  user_name text NOT NULL,
  at timestamptz NOT NULL,
  leaves int NOT NULL,
  -- As write_tx (migration 007): write, spread, copy or undo; what was asked for; the undone transaction.
  kind text NOT NULL CHECK (kind IN ('write', 'spread', 'copy', 'undo')),
  detail text NOT NULL,
  undoes text
);
CREATE INDEX sandbox_tx_idx ON sandbox_tx (sandbox_id, at DESC);

CREATE TABLE sandbox_audit (
  id bigserial PRIMARY KEY,
  sandbox_id text NOT NULL REFERENCES sandbox (id) ON DELETE CASCADE,
  tx_id text NOT NULL,
  coords int[] NOT NULL,
  old_value double precision,
  new_value double precision,
  version bigint NOT NULL
);
CREATE INDEX sandbox_audit_cell_idx ON sandbox_audit (sandbox_id, coords, id DESC);
-- A sandbox transaction's records, for its undo.
CREATE INDEX sandbox_audit_tx_idx ON sandbox_audit (tx_id, id);

-- A sandbox's commit is a transaction of the base of its own kind.
ALTER TABLE write_tx DROP CONSTRAINT write_tx_kind_check;
ALTER TABLE write_tx ADD CONSTRAINT write_tx_kind_check CHECK (kind IN ('write', 'spread', 'copy', 'undo', 'sandbox'));
