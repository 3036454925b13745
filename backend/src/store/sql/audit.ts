/** Reading back what was committed: a leaf cell's audit records, and leaf cells' stored states. */
import type { SqlRunner } from "../driver";
import type { StoredAuditRecord, StoredCellState, TransactionKind } from "../types";
import { epochMs, intArrayLiteral, toNumber } from "./codecs";

/**
 * Audit records of the leaf cell at `coords` in cube `cubeId`, newest first, at most `limit`. The
 * author and time come from the record's transaction row (`write_tx`, migration 006), or from the
 * record itself when it was written before that; `members` are the names the record was written
 * with, or null when it holds member ids only (the caller names them from the cube); the
 * transaction's kind and, for an undo, the transaction it undid (migration 007).
 * @throws Error when `coords` are not integers or `limit` is not a non-negative integer.
 */
export async function cellHistory(db: SqlRunner, cubeId: number, coords: number[], limit: number): Promise<StoredAuditRecord[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  const rows = await db.query<AuditRow>(
    `SELECT a.tx_id, coalesce(a.user_name, t.user_name) AS user_name, ${epochMs("coalesce(a.at, t.at)")} AS at,
            a.old_value, a.new_value, a.version::text AS version, a.members, t.kind, t.undoes
     FROM audit_log AS a LEFT JOIN write_tx AS t ON t.cube_id = a.cube_id AND t.tx_id = a.tx_id
     WHERE a.cube_id = $1 AND hash_array(a.coords) = hash_array($2::int[]) AND a.coords = $2::int[]
     ORDER BY a.id DESC LIMIT $3`,
    [cubeId, intArrayLiteral(coords, "coords"), limit],
  );
  return rows.map(toAuditRecord);
}

/** An audit record row as the history queries select it (the base's, and a sandbox's in sql/sandboxes.ts). */
export type AuditRow = {
  tx_id: string;
  user_name: string;
  at: unknown;
  old_value: unknown;
  new_value: unknown;
  version: unknown;
  members: string[] | null;
  kind: string | null;
  undoes: string | null;
};

/** An audit record row as a StoredAuditRecord. */
export function toAuditRecord(r: AuditRow): StoredAuditRecord {
  return {
    txId: r.tx_id,
    user: r.user_name,
    at: Number(r.at),
    oldValue: toNumber(r.old_value),
    newValue: toNumber(r.new_value),
    version: Number(r.version),
    members: r.members,
    ...(r.kind ? { kind: r.kind as TransactionKind } : {}),
    ...(r.undoes ? { undoes: r.undoes } : {}),
  };
}

/**
 * The stored state of leaf cells of cube `cubeId` (value, version, last writer), in the order of
 * `coords`; an absent cell is empty with version 0. For an instance whose lattice fell behind.
 */
export async function readCells(db: SqlRunner, cubeId: number, coords: number[][]): Promise<StoredCellState[]> {
  if (coords.length === 0) return [];
  const keys = coords.map((c, i) => intArrayLiteral(c, `coords[${i}]`));
  const rows = await db.query<{ k: string; value: unknown; version: unknown; updated_by: string | null; updated_at: unknown }>(
    `SELECT c.coords::text AS k, c.value, c.version::text AS version, c.updated_by, ${epochMs("c.updated_at")} AS updated_at
     FROM cell AS c WHERE c.cube_id = $1 AND c.coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))`,
    [cubeId, keys],
  );
  const byKey = new Map(rows.map((r) => [r.k, r]));
  return keys.map((k) => {
    const r = byKey.get(k);
    if (!r) return { value: null, version: 0, updatedBy: null, updatedAt: null };
    return { value: toNumber(r.value), version: Number(r.version), updatedBy: r.updated_by, updatedAt: toNumber(r.updated_at) };
  });
}

