/**
 * Commits leaf writes: the version check, new versions, the cells, the transaction row, one audit
 * record per applied write and the outbox rows, in one database transaction. Two ways to the same
 * result: a bulk path for large batches of distinct cells (commit-bulk.ts: COPY into a temporary
 * table and set-based statements) and a row path for the rest, and whenever the bulk path finds a
 * conflict (commit-rows.ts: rows locked in key order and checked one by one).
 */
import type { SqlDriver, SqlRunner } from "../driver";
import type { CommitOptions, CommitResult, CommittedChange, PendingWrite } from "../types";
import { compareCoords, epochMs, intArrayLiteral, keyOrderSteps } from "./codecs";
import { inTurns, Turns } from "../../compute/turns";
import { insertOutboxRows } from "./outbox";
import { markSandboxCommitted } from "./sandboxes";
import { commitBulk } from "./commit-bulk";
import { commitRows } from "./commit-rows";

/** One write a commit applied: its index in the batch, the cell's value before it, and its version. */
export interface AppliedWrite {
  index: number;
  /** The cell's stored value before this write (null when empty or absent). */
  old: number | null;
  /** The new value (null clears). */
  value: number | null;
  version: number;
}

/**
 * Commits `writes` to cube `cubeId` in one transaction (see `Store.commitWrites`). Writes are
 * checked and applied in array order: a write applies when `baseVersion` equals the cell's stored
 * version at the start of the commit (an absent cell has version 0 and value null), so several
 * writes to one cell in a batch all apply, the last one winning, each with its own version and
 * audit record; writes sharing a `group` apply all or none. An applied write gets a version from
 * `cell_version_seq` (increasing in array order) and an audit record whose old value is the cell's
 * value before it (not `oldValue`). A `newValue` of null or NaN clears the cell (it keeps its row and
 * version). The transaction gets a `write_tx` row (author, time, leaves changed, `options.transaction`
 * and the range of its audit ids) when at least one write applies; its audit rows name it and the
 * cell's member ids (the names are the cube's).
 * Resolves after COMMIT with one result per write and `at`, the transaction's timestamp in ms.
 * @param sizes `batchCells`: distinct cells per statement of the row path (and rows per COPY chunk);
 *   `bulkMinWrites`: fewest writes (of distinct cells) for the bulk path; `stats`, when given,
 *   counts bulk commits and bulk attempts that fell back to the row path.
 * @throws Error `cube N is not stored`, or on a write whose coordinates do not match the cube's
 * dimension count; nothing is applied then, nor on any database error or an error thrown by
 * `options.outbox`.
 */
export async function commitWrites(
  db: SqlDriver,
  sizes: { batchCells: number; bulkMinWrites: number; stats?: { bulkCommits: number; bulkFallbacks: number } },
  cubeId: number,
  txId: string,
  user: string,
  writes: PendingWrite[],
  options: CommitOptions = {},
): Promise<{ results: CommitResult[]; at: number }> {
  return db.transaction(async (tx) => {
    const head = await tx.query<{ dims: number; at: unknown; loaded_at: unknown }>(
      `SELECT jsonb_array_length(def -> 'dimensions') AS dims, ${epochMs("now()")} AS at,
              ${epochMs("loaded_at")} AS loaded_at
       FROM cube WHERE id = $1 FOR KEY SHARE`,
      [cubeId],
    );
    if (head.length === 0) throw new Error(`cube ${cubeId} is not stored`);
    // Every audit id drawn from now on is above this one: the transaction's records lie above it.
    const [{ after }] = await tx.query<{ after: string }>(
      "SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS after FROM audit_log_id_seq",
    );
    const dims = Number(head[0].dims);
    const at = Number(head[0].at);
    writes.forEach((w, i) => {
      if (w.coords.length !== dims) {
        throw new Error(`writes[${i}] has ${w.coords.length} coordinates, cube ${cubeId} has ${dims} dimensions`);
      }
    });
    if (writes.length === 0) return { results: [], at };

    const { batchCells, bulkMinWrites, stats } = sizes;
    // The bulk path takes distinct cells only: sorted by key (the order it writes in), no two alike.
    // Large batches are sorted, and their results gathered, in slices between turns of the event loop.
    const turns = new Turns();
    const order = writes.length >= bulkMinWrites && tx.copyFrom !== undefined ? await inTurns(keyOrderSteps(writes, dims)) : null;
    const tryBulk = order !== null && order.every((i, k) => k === 0 || compareCoords(writes[order[k - 1]].coords, writes[i].coords) !== 0);
    const bulk = tryBulk ? await commitBulk(tx, db.kind, batchCells, cubeId, txId, user, writes, order, turns) : null;
    if (stats && tryBulk) {
      if (bulk) stats.bulkCommits++;
      else stats.bulkFallbacks++;
    }
    // The row path keys its cells by their array literals (the bulk path makes them chunk by chunk).
    const keys = bulk ? [] : writes.map((w, i) => intArrayLiteral(w.coords, `writes[${i}].coords`));
    const { results, applied } = bulk ?? (await withDeadlockRetry(tx, () => commitRows(tx, batchCells, cubeId, txId, user, keys, writes, db.kind)));

    if (applied.length > 0) {
      const info = options.transaction ?? { kind: "write", detail: "" };
      await tx.query(
        `INSERT INTO write_tx (tx_id, cube_id, user_name, at, leaves, kind, detail, undoes, audit_after, audit_last)
         VALUES ($1, $2, $3, now(), $4, $5, $6, $7, $8::bigint, currval('audit_log_id_seq'))`,
        [txId, cubeId, user, applied.length, info.kind, info.detail.slice(0, MAX_DETAIL), info.undoes ?? null, after],
      );
    }
    if (options.sandboxCommitted !== undefined && applied.length > 0) await markSandboxCommitted(tx, options.sandboxCommitted, txId);
    if (options.outbox && applied.length > 0) {
      // The cube's generation: its id and load time (a reloaded cube, or another database, differs).
      const loadedAt = Number(head[0].loaded_at);
      const changes: CommittedChange[] = new Array(applied.length);
      for (let k = 0; k < applied.length; k++) {
        const a = applied[k];
        changes[k] = { coords: writes[a.index].coords, members: writes[a.index].members, oldValue: a.old, value: a.value, version: a.version };
        if ((k & 0xffff) === 0xffff) await turns.turn();
      }
      await insertOutboxRows(tx, options.outbox({ at, loadedAt, changes }));
    }
    return { results, at };
  });
}

/** Characters of TransactionInfo.detail kept. */
const MAX_DETAIL = 2000;

/** Tries of the row path when the database picks it as a deadlock's victim. */
const DEADLOCK_TRIES = 5;

/**
 * Runs `fn` (statements of the open transaction `tx`) under a savepoint and runs it again, up to
 * DEADLOCK_TRIES times, when PostgreSQL aborts it as a deadlock's victim (SQLSTATE 40P01): the
 * other transaction then goes on, and the next try waits for it and sees what it committed.
 * @throws the last error; any other error at once.
 */
async function withDeadlockRetry<T>(tx: SqlRunner, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await tx.exec("SAVEPOINT qatom_rows");
    try {
      const result = await fn();
      await tx.exec("RELEASE SAVEPOINT qatom_rows");
      return result;
    } catch (err) {
      if ((err as { code?: string }).code !== "40P01" || attempt >= DEADLOCK_TRIES) throw err;
      await tx.exec("ROLLBACK TO SAVEPOINT qatom_rows; RELEASE SAVEPOINT qatom_rows");
    }
  }
}
