/**
 * The bulk path of a commit (see commit.ts), for large batches of distinct cells such as a spread or
 * a scenario copy: the writes go in with one COPY into a temporary table, then set-based statements
 * insert the absent cells, update the present ones whose version (and value) are what the writer
 * based the write on, and add the audit rows. It applies every write or, when any cell is not as
 * the writer saw it, nothing (the transaction goes back to a savepoint and the row path decides
 * write by write).
 */
import type { SqlRunner } from "../driver";
import type { CommitResult, PendingWrite } from "../types";
import type { AppliedWrite } from "./commit";
import { BinaryCopyWriter } from "./copy-binary-writer";
import { valueOrNull } from "./codecs";
import { nextVersions } from "./commit-rows";
import type { Turns } from "../../compute/turns";

/** Fewest writes for the bulk path; smaller batches take the row path (fewer statements). */
export const BULK_MIN_WRITES = 256;

/** The temporary table of a bulk commit (one per database session, emptied at every commit). */
const BULK_TABLE = `CREATE TEMP TABLE IF NOT EXISTS qatom_commit_rows (
  i int NOT NULL,
  coords int[] NOT NULL,
  old_value float8,
  new_value float8,
  base bigint NOT NULL,
  version bigint NOT NULL,
  inserted boolean NOT NULL DEFAULT false
) ON COMMIT DELETE ROWS`;

/**
 * Applies every write of `writes` (distinct cells, `order` their indexes sorted by coordinates)
 * inside `tx` (gathering the results between `turns` of the event loop), in
 * chunks of `batchRows` writes (COPY, then the set-based statements, per chunk), or none: resolves
 * to null when a cell's stored version is not the write's base version, or its stored value not
 * the writer's `oldValue` (an absent cell counts as version 0), or when another
 * transaction deadlocked with this one; the caller then runs the row path in the same transaction.
 * Versions are drawn for every write first (numbers a fallback does not use are skipped, as
 * sequences do). The UPDATE joins the temporary table to `cell` by its primary key with hash and
 * merge joins off, so that a large cube is never scanned whole.
 * @throws the database's error (other than a deadlock); Error naming the write whose coordinates
 * are not integers.
 */
export async function commitBulk(
  tx: SqlRunner,
  kind: "pglite" | "postgres",
  batchRows: number,
  cubeId: number,
  txId: string,
  user: string,
  writes: readonly PendingWrite[],
  order: readonly number[],
  turns: Turns,
): Promise<{ results: CommitResult[]; applied: AppliedWrite[] } | null> {
  const n = writes.length;
  const versions = await nextVersions(tx, n, kind);
  await tx.exec(`SAVEPOINT qatom_bulk; ${BULK_TABLE}; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off`);
  const wasAbsent = new Uint8Array(n);
  try {
    // Chunk by chunk: each statement works on at most `batchRows` rows (on PGlite, which holds the
    // event loop for a statement, other requests wait one short statement at most).
    // In key order (`order`), as the row path locks rows, so that concurrent commits seldom deadlock.
    for (let lo = 0; lo < n; lo += batchRows) {
      const hi = Math.min(n, lo + batchRows);
      await tx.copyFrom!("COPY qatom_commit_rows (i, coords, old_value, new_value, base, version) FROM STDIN (FORMAT binary)", [
        copyRows(writes, versions, order, lo, hi),
      ]);
      // Absent cells written on version 0: marked (their audit records them as empty before), then
      // inserted. Only a write whose writer saw the cell empty (no old value) may find it absent:
      // one that saw a value and finds no row matches no UPDATE below and sends the batch to the
      // row path. So the probe skips the cells a load stored (version 0, a value), which a spread
      // after a load writes by the million.
      await tx.query(
        `UPDATE qatom_commit_rows AS w SET inserted = true
         WHERE w.base = 0 AND w.old_value IS NULL AND NOT EXISTS (SELECT 1 FROM cell AS c WHERE c.cube_id = $1 AND c.coords = w.coords)`,
        [cubeId],
      );
      const [{ inserted }] = await tx.query<{ inserted: unknown }>(
        `WITH ins AS (
           INSERT INTO cell (cube_id, coords, value, version, updated_by, updated_at)
           SELECT $1, w.coords, w.new_value, w.version, $2, now() FROM qatom_commit_rows AS w WHERE w.inserted
           ON CONFLICT (cube_id, coords) DO NOTHING
           RETURNING 1)
         SELECT count(*)::int AS inserted FROM ins`,
        [cubeId, user],
      );
      const [{ updated }] = await tx.query<{ updated: unknown }>(
        `WITH upd AS (
           UPDATE cell AS c SET value = w.new_value, version = w.version, updated_by = $2, updated_at = now()
           FROM qatom_commit_rows AS w
           WHERE NOT w.inserted AND c.cube_id = $1 AND c.coords = w.coords
             AND c.version = w.base AND c.value IS NOT DISTINCT FROM w.old_value
           RETURNING 1)
         SELECT count(*)::int AS updated FROM upd`,
        [cubeId, user],
      );
      if (Number(inserted) + Number(updated) !== hi - lo) {
        await tx.exec("ROLLBACK TO SAVEPOINT qatom_bulk; RELEASE SAVEPOINT qatom_bulk");
        return null;
      }
      await tx.query(
        `INSERT INTO audit_log (tx_id, cube_id, coords, old_value, new_value, version)
         SELECT $1, $2, w.coords, w.old_value, w.new_value, w.version FROM qatom_commit_rows AS w ORDER BY w.i`,
        [txId, cubeId],
      );
      // The old values as stored: the writer's, except for the cells that were absent.
      const [{ absent }] = await tx.query<{ absent: string | null }>(
        "SELECT string_agg(i::text, ',') AS absent FROM qatom_commit_rows WHERE inserted",
      );
      if (absent) for (const i of absent.split(",")) wasAbsent[Number(i)] = 1;
      await tx.exec("TRUNCATE qatom_commit_rows");
    }
    await tx.exec("RELEASE SAVEPOINT qatom_bulk; SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT");
    const results: CommitResult[] = new Array(n);
    const applied: AppliedWrite[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const w = writes[i];
      const value = valueOrNull(w.newValue);
      const old = wasAbsent[i] ? null : valueOrNull(w.oldValue);
      results[i] = { ok: true, version: versions[i] };
      applied[i] = { index: i, old, value, version: versions[i] };
      if ((i & 0xffff) === 0xffff) await turns.turn();
    }
    return { results, applied };
  } catch (err) {
    // 40P01: deadlock detected (the bulk UPDATE locks rows in join order); the row path locks in key order.
    if ((err as { code?: string }).code === "40P01") {
      await tx.exec("ROLLBACK TO SAVEPOINT qatom_bulk; RELEASE SAVEPOINT qatom_bulk");
      return null;
    }
    throw err;
  }
}

/** Rows `order[lo..hi)` of the temporary table in binary COPY format. @throws Error naming the write whose coordinates are not 32-bit integers. */
function copyRows(writes: readonly PendingWrite[], versions: readonly number[], order: readonly number[], lo: number, hi: number): Uint8Array {
  const dims = hi > lo ? writes[order[lo]].coords.length : 0;
  const out = new BinaryCopyWriter((hi - lo) * (70 + 8 * dims));
  for (let k = lo; k < hi; k++) {
    const i = order[k];
    const w = writes[i];
    out.tuple(6);
    out.int4(i);
    out.int4Array(w.coords, `writes[${i}].coords`);
    out.float8OrNull(w.oldValue);
    out.float8OrNull(w.newValue);
    out.int8(w.baseVersion, `writes[${i}].baseVersion`);
    out.int8(versions[i]);
  }
  return out.finish();
}
