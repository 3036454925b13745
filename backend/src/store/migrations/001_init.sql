-- Initial schema: cubes, their leaf cells, the audit log of cell writes, and cell comments.

CREATE TABLE cube (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  -- The CubeDef as JSON (dimensions, members, levels).
  def jsonb NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);

-- One row per stored leaf cell. coords[d] is the member index in dimension d (0-based, in the
-- order of cube.def.dimensions). value NULL is a cleared (empty) cell that keeps its version.
-- Loaded facts have version 0 and no writer.
CREATE TABLE cell (
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  coords int[] NOT NULL,
  value float8,
  version bigint NOT NULL DEFAULT 0,
  updated_by text,
  updated_at timestamptz,
  PRIMARY KEY (cube_id, coords)
);

-- Versions of written cells, one global increasing sequence.
CREATE SEQUENCE cell_version_seq AS bigint;

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  tx_id text NOT NULL,
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  coords int[] NOT NULL,
  members text[] NOT NULL,
  old_value float8,
  new_value float8,
  version bigint NOT NULL,
  user_name text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_cell_idx ON audit_log (cube_id, coords, id DESC);

CREATE TABLE cell_comment (
  id bigserial PRIMARY KEY,
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  coords int[] NOT NULL,
  members text[] NOT NULL,
  body text NOT NULL,
  author text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cell_comment_cube_idx ON cell_comment (cube_id, id DESC);
