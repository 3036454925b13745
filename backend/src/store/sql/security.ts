/**
 * Rights in the store: a cube's security document (saved with the cube, loaded with it), changed
 * atomically by the admin RPCs (the document, its audit record and its outbox row in one
 * transaction), and the security audit log.
 */
import type { SecurityModel, VersionedSecurity } from "../../security/model";
import type { SqlRunner } from "../driver";
import type { NewOutboxRow, SecurityAuditRecord, SecurityChangeResult } from "../types";
import { epochMs } from "./codecs";
import { insertOutboxRows } from "./outbox";

/** Writes a cube's security document at version 1, inside the caller's transaction (saveCube). */
export async function insertSecurity(tx: SqlRunner, cubeId: number, model: SecurityModel): Promise<void> {
  await tx.query("INSERT INTO cube_security (cube_id, model, version) VALUES ($1, $2::jsonb, 1)", [cubeId, JSON.stringify(model)]);
}

/** A cube's security and its version, or null for an open cube (no security document). */
export async function loadSecurity(db: SqlRunner, cubeId: number): Promise<VersionedSecurity | null> {
  const rows = await db.query<{ model: SecurityModel | string; version: unknown }>("SELECT model, version::text AS version FROM cube_security WHERE cube_id = $1", [cubeId]);
  if (rows.length === 0) return null;
  const model = typeof rows[0].model === "string" ? (JSON.parse(rows[0].model) as SecurityModel | null) : rows[0].model;
  return model === null ? null : { model, version: Number(rows[0].version) };
}

/**
 * Changes a cube's security in one transaction: locks its document (an open cube gets an empty one
 * at version 0 first, so two first changes serialize too), runs `change` on the current model (null
 * for an open cube), stores the result at the next version with an audit record, and writes the
 * outbox rows `outbox` makes of the new version and the commit time. If `change` throws, nothing
 * changes and the error is rethrown.
 * @throws the error `change` threw; the database error (e.g. the cube is not stored).
 */
export async function changeSecurity(
  db: { transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> },
  cubeId: number,
  actor: string,
  change: (current: SecurityModel | null) => { model: SecurityModel; action: string; detail: unknown; summary: string },
  outbox: (committed: { version: number; at: number }) => NewOutboxRow[],
): Promise<SecurityChangeResult> {
  return db.transaction(async (tx) => {
    await tx.query("INSERT INTO cube_security (cube_id, model, version) VALUES ($1, 'null'::jsonb, 0) ON CONFLICT (cube_id) DO NOTHING", [cubeId]);
    const [row] = await tx.query<{ model: SecurityModel | string | null; version: unknown; at: unknown }>(
      `SELECT model, version::text AS version, ${epochMs("now()")} AS at FROM cube_security WHERE cube_id = $1 FOR UPDATE`,
      [cubeId],
    );
    const stored = typeof row.model === "string" ? (JSON.parse(row.model) as SecurityModel | null) : row.model;
    const next = change(stored);
    const version = Number(row.version) + 1;
    const at = Number(row.at);
    await tx.query("UPDATE cube_security SET model = $2::jsonb, version = $3, updated_at = now() WHERE cube_id = $1", [cubeId, JSON.stringify(next.model), version]);
    const [audit] = await tx.query<{ id: unknown }>(
      "INSERT INTO security_audit (cube_id, version, actor, action, detail, summary) VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id::text AS id",
      [cubeId, version, actor, next.action, JSON.stringify(next.detail), next.summary],
    );
    await insertOutboxRows(tx, outbox({ version, at }));
    return { model: next.model, version, at, auditId: Number(audit.id) };
  });
}

/** The security audit records of a cube, newest first, at most `limit`. */
export async function securityAudit(db: SqlRunner, cubeId: number, limit: number): Promise<SecurityAuditRecord[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  const rows = await db.query<{ id: unknown; version: unknown; actor: string; action: string; detail: unknown; summary: string; at: unknown }>(
    `SELECT id::text AS id, version::text AS version, actor, action, detail::text AS detail, summary, ${epochMs("at")} AS at
     FROM security_audit WHERE cube_id = $1 ORDER BY id DESC LIMIT $2`,
    [cubeId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    version: Number(r.version),
    actor: r.actor,
    action: r.action,
    detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
    summary: r.summary,
    at: Number(r.at),
  }));
}
