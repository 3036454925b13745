-- Rights on members: one security document per secured cube (a cube without a row is open to every
-- user), kept as JSON in the canonical form of backend/src/security/model.ts, with a version that
-- every change increments; and the audit log of security changes (who, when, what). Both go with
-- their cube: a reload of the cube replaces them.

CREATE TABLE cube_security (
  cube_id int PRIMARY KEY REFERENCES cube (id) ON DELETE CASCADE,
  -- {admins: [id], groups: [{name, rights: {dimension: {member: right}}}], users: [{id, name, groups}]}
  model jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE security_audit (
  id bigserial PRIMARY KEY,
  cube_id int NOT NULL REFERENCES cube (id) ON DELETE CASCADE,
  -- The security version the change made.
  version bigint NOT NULL,
  -- Who made it (the user id of the request).
  actor text NOT NULL,
  -- What: the operation (set_right, create_group, ...), its details as JSON, and a sentence.
  action text NOT NULL,
  detail jsonb NOT NULL,
  summary text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX security_audit_cube_idx ON security_audit (cube_id, id DESC);
