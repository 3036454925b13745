-- Tenants: every cube belongs to one (the `tid` of its users' tokens; 'default' for tokens without
-- one). Cube names are unique within a tenant; two tenants may each have a cube called "Sales".
-- A cube's cells, audit records, comments, security and outbox rows hang off its id, so they are
-- the tenant's too.
ALTER TABLE cube ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE cube DROP CONSTRAINT cube_name_key;
CREATE UNIQUE INDEX cube_tenant_name ON cube (tenant, name);
