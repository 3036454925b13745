/**
 * Committed transactions (write_tx, migrations 006-007; a sandbox's in sandbox_tx, migration 008):
 * a user's recent ones, one by id, and the leaf changes one committed (its audit records), for
 * LatticeService ListTransactions and UndoTransaction.
 */
import type { SqlRunner } from "../driver";
import type { StoredTransaction, TransactionChanges, TransactionKind } from "../types";
import { epochMs } from "./codecs";

/** Audit records read per statement by transactionChanges. */
const CHANGES_PAGE_ROWS = 50_000;

/** A transaction row as TX_COLUMNS selects it. */
type TxRow = {
  tx_id: string;
  user_name: string;
  at: unknown;
  leaves: unknown;
  kind: string;
  detail: string;
  undoes: string | null;
  undone_by: string | null;
};

/**
 * Where transaction rows are kept: the base's of a cube (`write_tx`), or a sandbox's (`sandbox_tx`,
 * migration 008), each table with the column that names its scope.
 */
export type TransactionScope = { table: "write_tx"; key: "cube_id" } | { table: "sandbox_tx"; key: "sandbox_id" };

const BASE: TransactionScope = { table: "write_tx", key: "cube_id" };

/** The columns of a transaction row `t`, with the ids of the undos of the same scope that restored it. */
function txColumns({ table, key }: TransactionScope): string {
  return `t.tx_id, t.user_name, ${epochMs("t.at")} AS at, t.leaves, t.kind, t.detail, t.undoes,
  (SELECT string_agg(u.tx_id, ',' ORDER BY u.at, u.tx_id) FROM ${table} AS u
   WHERE u.${key} = t.${key} AND u.undoes = t.tx_id) AS undone_by`;
}

function toTransaction(r: TxRow): StoredTransaction {
  return {
    txId: r.tx_id,
    user: r.user_name,
    at: Number(r.at),
    leaves: Number(r.leaves),
    kind: r.kind as TransactionKind,
    detail: r.detail,
    ...(r.undoes ? { undoes: r.undoes } : {}),
    undoneBy: r.undone_by ? r.undone_by.split(",") : [],
  };
}

/**
 * Transactions of one cube's base or one sandbox (`scope`, whose key column is `id`), newest first,
 * at most `limit`: those of `user`, or every user's when `user` is null. Each with the undos that
 * restored it.
 * @throws Error when `limit` is not a non-negative integer.
 */
export async function listScopedTransactions(db: SqlRunner, scope: TransactionScope, id: number | string, user: string | null, limit: number): Promise<StoredTransaction[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  const rows = await db.query<TxRow>(
    `SELECT ${txColumns(scope)} FROM ${scope.table} AS t
     WHERE t.${scope.key} = $1 AND ($2::text IS NULL OR t.user_name = $2::text)
     ORDER BY t.at DESC, t.tx_id DESC LIMIT $3`,
    [id, user, limit],
  );
  return rows.map(toTransaction);
}

/** Transaction `txId` of one cube's base or one sandbox (`scope`, key `id`), or null when there is none. */
export async function getScopedTransaction(db: SqlRunner, scope: TransactionScope, id: number | string, txId: string): Promise<StoredTransaction | null> {
  const rows = await db.query<TxRow>(`SELECT ${txColumns(scope)} FROM ${scope.table} AS t WHERE t.${scope.key} = $1 AND t.tx_id = $2`, [id, txId]);
  return rows.length > 0 ? toTransaction(rows[0]) : null;
}

/** Transactions of cube `cubeId`'s base (see listScopedTransactions). */
export function listTransactions(db: SqlRunner, cubeId: number, user: string | null, limit: number): Promise<StoredTransaction[]> {
  return listScopedTransactions(db, BASE, cubeId, user, limit);
}

/** Transaction `txId` of cube `cubeId`'s base, or null when there is none. */
export function getTransaction(db: SqlRunner, cubeId: number, txId: string): Promise<StoredTransaction | null> {
  return getScopedTransaction(db, BASE, cubeId, txId);
}

/**
 * The leaf changes transaction `txId` of cube `cubeId` committed, in commit order (its audit
 * records by id), read in pages through the primary key within the transaction's range of audit ids
 * (write_tx.audit_after/audit_last; by tx_id alone for transactions committed before migration 007).
 * Empty (dims 0) for an unknown transaction.
 */
export async function transactionChanges(db: SqlRunner, cubeId: number, txId: string): Promise<TransactionChanges> {
  const head = await db.query<{ after: string | null; last: string | null; leaves: unknown }>(
    "SELECT audit_after::text AS after, audit_last::text AS last, leaves FROM write_tx WHERE cube_id = $1 AND tx_id = $2",
    [cubeId, txId],
  );
  const empty = { count: 0, dims: 0, coords: new Int32Array(0), oldValues: new Float64Array(0), newValues: new Float64Array(0), versions: new Float64Array(0) };
  if (head.length === 0) return empty;
  const expected = Number(head[0].leaves);
  let cursor = head[0].after ?? "0";
  const coords: number[] = [];
  const oldValues: number[] = [];
  const newValues: number[] = [];
  const versions: number[] = [];
  let dims = 0;
  // A page comes back as one row of comma-separated fields (the shortest exact text of each
  // float8), not one driver row per record: a fifth of the time on PGlite for a large spread.
  const ranged = head[0].after !== null && head[0].last !== null;
  const lastId = ranged ? BigInt(head[0].last!) : 0n;
  for (;;) {
    // With the transaction's id range: pages are id ranges, index range scans of the primary key
    // (no sort; a row of another transaction inside the range is filtered out). Without one (a
    // transaction committed before migration 007): the first rows of the transaction after the cursor.
    const upper = ranged ? BigInt(cursor) + BigInt(CHANGES_PAGE_ROWS) : 0n;
    const where = ranged
      ? "id > $1::bigint AND id <= $2::bigint AND tx_id = $3 AND cube_id = $4"
      : "id > $1::bigint AND tx_id = $3 AND cube_id = $4 AND $2::bigint IS NULL ORDER BY id LIMIT $5";
    const [page] = await db.query<{ n: number; last_id: string | null; dims_lo: number | null; dims_hi: number | null; fields: string | null }>(
      `WITH p AS (SELECT id, coords, old_value, new_value, version FROM audit_log WHERE ${where})
       SELECT count(*)::int AS n, max(id)::text AS last_id,
              min(array_length(coords, 1)) AS dims_lo, max(array_length(coords, 1)) AS dims_hi,
              string_agg(concat(array_to_string(coords, ','), ',', old_value::text, ',', new_value::text, ',', version::text), ',' ORDER BY id) AS fields
       FROM p`,
      ranged ? [cursor, String(upper < lastId ? upper : lastId), txId, cubeId] : [cursor, null, txId, cubeId, CHANGES_PAGE_ROWS],
    );
    const n = Number(page.n);
    if (n > 0) {
      if (page.dims_lo !== page.dims_hi || (dims !== 0 && page.dims_lo !== dims)) {
        throw new Error(`transaction ${txId} of cube ${cubeId} has audit records of different dimension counts`);
      }
      dims = Number(page.dims_lo);
      // Each record: its coordinates, old value, new value (empty: NULL) and version.
      const f = page.fields!.split(",");
      const stride = dims + 3;
      for (let at = 0; at < f.length; at += stride) {
        for (let d = 0; d < dims; d++) coords.push(Number(f[at + d]));
        oldValues.push(f[at + dims] === "" ? Number.NaN : Number(f[at + dims]));
        newValues.push(f[at + dims + 1] === "" ? Number.NaN : Number(f[at + dims + 1]));
        versions.push(Number(f[at + dims + 2]));
      }
    }
    if (ranged) {
      if (upper >= lastId) break;
      cursor = String(upper);
    } else {
      if (n < CHANGES_PAGE_ROWS) break;
      cursor = page.last_id!;
    }
  }
  if (versions.length !== expected) {
    throw new Error(`transaction ${txId} of cube ${cubeId} has ${versions.length} audit records, its row says ${expected}`);
  }
  return {
    count: versions.length,
    dims,
    coords: Int32Array.from(coords),
    oldValues: Float64Array.from(oldValues),
    newValues: Float64Array.from(newValues),
    versions: Float64Array.from(versions),
  };
}
