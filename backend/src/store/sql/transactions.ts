/**
 * Committed transactions (write_tx, migrations 006-007): a user's recent ones, one by id, and the
 * leaf changes one committed (its audit records), for LatticeService ListTransactions and
 * UndoTransaction.
 */
import type { SqlRunner } from "../driver";
import type { StoredTransaction, TransactionChanges, TransactionKind } from "../types";
import { epochMs } from "./codecs";

/** Audit records read per statement by transactionChanges. */
const CHANGES_PAGE_ROWS = 50_000;

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

const TX_COLUMNS = `t.tx_id, t.user_name, ${epochMs("t.at")} AS at, t.leaves, t.kind, t.detail, t.undoes,
  (SELECT string_agg(u.tx_id, ',' ORDER BY u.at, u.tx_id) FROM write_tx AS u
   WHERE u.cube_id = t.cube_id AND u.undoes = t.tx_id) AS undone_by`;

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
 * Transactions of cube `cubeId`, newest first, at most `limit`: those of `user`, or every user's
 * when `user` is null. Each with the undos that restored it.
 * @throws Error when `limit` is not a non-negative integer.
 */
export async function listTransactions(db: SqlRunner, cubeId: number, user: string | null, limit: number): Promise<StoredTransaction[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  const rows = await db.query<TxRow>(
    `SELECT ${TX_COLUMNS} FROM write_tx AS t
     WHERE t.cube_id = $1 AND ($2::text IS NULL OR t.user_name = $2::text)
     ORDER BY t.at DESC, t.tx_id DESC LIMIT $3`,
    [cubeId, user, limit],
  );
  return rows.map(toTransaction);
}

/** Transaction `txId` of cube `cubeId`, or null when there is none. */
export async function getTransaction(db: SqlRunner, cubeId: number, txId: string): Promise<StoredTransaction | null> {
  const rows = await db.query<TxRow>(`SELECT ${TX_COLUMNS} FROM write_tx AS t WHERE t.cube_id = $1 AND t.tx_id = $2`, [cubeId, txId]);
  return rows.length > 0 ? toTransaction(rows[0]) : null;
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
  const last = head[0].last;
  let cursor = head[0].after ?? "0";
  const coords: number[] = [];
  const oldValues: number[] = [];
  const newValues: number[] = [];
  const versions: number[] = [];
  let dims = 0;
  for (;;) {
    const rows = await db.query<{ id: string; coords: string; old_value: unknown; new_value: unknown; version: string }>(
      // ORDER BY names the table's column: an output column of the same name (the text) would win.
      `SELECT id::text AS id, array_to_string(coords, ',') AS coords, old_value, new_value, version::text AS version
       FROM audit_log
       WHERE id > $1::bigint AND ($2::bigint IS NULL OR id <= $2::bigint) AND tx_id = $3 AND cube_id = $4
       ORDER BY audit_log.id LIMIT $5`,
      [cursor, last, txId, cubeId, CHANGES_PAGE_ROWS],
    );
    for (const r of rows) {
      const c = r.coords.split(",");
      if (dims === 0) dims = c.length;
      for (const x of c) coords.push(Number(x));
      oldValues.push(r.old_value === null ? Number.NaN : Number(r.old_value));
      newValues.push(r.new_value === null ? Number.NaN : Number(r.new_value));
      versions.push(Number(r.version));
    }
    if (rows.length < CHANGES_PAGE_ROWS) break;
    cursor = rows[rows.length - 1].id;
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
