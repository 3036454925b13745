/** Commits leaf writes: version check, new versions, audit records and outbox rows in one transaction. */
import type { SqlDriver } from "../driver";
import type { CommitOptions, CommitResult, CommittedChange, PendingWrite } from "../types";
import { compareCoords, epochMs, floatText, intArrayLiteral, toNumber } from "./codecs";
import { insertOutboxRows } from "./outbox";
import { commitDecisions } from "../../writes/conflicts";

/** The stored state of one cell during a commit. */
interface CellState {
  key: string;
  coords: number[];
  value: number | null;
  version: number;
  updatedBy: string | null;
  updatedAt: number | null;
  /** Whether this commit inserted the row as an empty placeholder (the cell was absent). */
  placeholder: boolean;
  /** Value after the writes applied so far in this commit. */
  current: number | null;
  /** Version after the writes applied so far; undefined while none applied. */
  newVersion?: number;
}

/**
 * Commits `writes` to cube `cubeId` in one transaction (see `Store.commitWrites`). Writes are
 * checked and applied in array order: a write applies when `baseVersion` equals the cell's stored
 * version at the start of the commit (an absent cell has version 0 and value null), so several
 * writes to one cell in a batch all apply, the last one winning, each with its own version and
 * audit record. An applied write gets a version from `cell_version_seq` (increasing in array
 * order) and an audit record whose old value is the cell's value before it (not `oldValue`). A
 * `newValue` of null or NaN clears the cell (it keeps its row and version). The affected rows are
 * locked (`FOR UPDATE`, in key order) for the whole transaction; absent cells get a placeholder
 * row first so that concurrent commits creating the same cell serialize too. Resolves after COMMIT
 * with one result per write and `at`, the transaction's timestamp in ms.
 * @throws Error `cube N is not stored`, or on a write whose coordinates do not match the cube's
 * dimension count; nothing is applied then, nor on any database error.
 */
export async function commitWrites(
  db: SqlDriver,
  batchCells: number,
  cubeId: number,
  txId: string,
  user: string,
  writes: PendingWrite[],
  options: CommitOptions = {},
): Promise<{ results: CommitResult[]; at: number }> {
  const keys = writes.map((w, i) => intArrayLiteral(w.coords, `writes[${i}].coords`));
  return db.transaction(async (tx) => {
    const head = await tx.query<{ dims: number; at: unknown; loaded_at: unknown }>(
      `SELECT jsonb_array_length(def -> 'dimensions') AS dims, ${epochMs("now()")} AS at,
              ${epochMs("loaded_at")} AS loaded_at
       FROM cube WHERE id = $1 FOR KEY SHARE`,
      [cubeId],
    );
    if (head.length === 0) throw new Error(`cube ${cubeId} is not stored`);
    const dims = Number(head[0].dims);
    const at = Number(head[0].at);
    writes.forEach((w, i) => {
      if (w.coords.length !== dims) {
        throw new Error(`writes[${i}] has ${w.coords.length} coordinates, cube ${cubeId} has ${dims} dimensions`);
      }
    });
    if (writes.length === 0) return { results: [], at };

    // Distinct cells in key order, so that concurrent commits lock rows in the same order.
    const cells = new Map<string, CellState>();
    writes.forEach((w, i) => {
      if (!cells.has(keys[i])) {
        cells.set(keys[i], {
          key: keys[i],
          coords: w.coords,
          value: null,
          version: 0,
          updatedBy: null,
          updatedAt: null,
          placeholder: false,
          current: null,
        });
      }
    });
    const sorted = [...cells.values()].sort((a, b) => compareCoords(a.coords, b.coords));

    for (let s = 0; s < sorted.length; s += batchCells) {
      const batch = sorted.slice(s, s + batchCells).map((c) => c.key);
      const inserted = await tx.query<{ k: string }>(
        `INSERT INTO cell (cube_id, coords)
         SELECT $1, k.k::int[] FROM unnest($2::text[]) AS k(k) ORDER BY 2
         ON CONFLICT (cube_id, coords) DO NOTHING
         RETURNING coords::text AS k`,
        [cubeId, batch],
      );
      for (const r of inserted) cells.get(r.k)!.placeholder = true;
      const locked = await tx.query<{
        k: string;
        value: unknown;
        version: unknown;
        updated_by: string | null;
        updated_at: unknown;
      }>(
        `SELECT c.coords::text AS k, c.value, c.version::text AS version, c.updated_by,
                ${epochMs("c.updated_at")} AS updated_at
         FROM cell AS c
         WHERE c.cube_id = $1 AND c.coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))
         ORDER BY c.coords
         FOR UPDATE`,
        [cubeId, batch],
      );
      for (const r of locked) {
        const cell = cells.get(r.k)!;
        cell.value = toNumber(r.value);
        cell.current = cell.value;
        cell.version = Number(r.version);
        cell.updatedBy = r.updated_by;
        cell.updatedAt = toNumber(r.updated_at);
      }
    }

    const results: CommitResult[] = new Array(writes.length);
    const applied: { index: number; cell: CellState; old: number | null; value: number | null; version: number }[] =
      [];
    // The version check and all-or-none groups: writes/conflicts.ts, the one home of conflict rules.
    const decisions = commitDecisions(writes, (i) => cells.get(keys[i])!.version);
    writes.forEach((w, i) => {
      const cell = cells.get(keys[i])!;
      const decision = decisions[i];
      if (!decision.ok) {
        results[i] = {
          ok: false,
          ...(decision.groupFailed ? { groupFailed: true } : {}),
          currentValue: cell.value,
          currentVersion: cell.version,
          updatedBy: cell.updatedBy,
          updatedAt: cell.updatedAt,
        };
        return;
      }
      const value = w.newValue === null || Number.isNaN(w.newValue) ? null : w.newValue;
      applied.push({ index: i, cell, old: cell.current, value, version: 0 });
      cell.current = value;
    });

    if (applied.length > 0) {
      const seq = await tx.query<{ v: unknown }>(
        "SELECT nextval('cell_version_seq')::text AS v FROM generate_series(1, $1::int)",
        [applied.length],
      );
      const versions = seq.map((r) => Number(r.v)).sort((a, b) => a - b);
      applied.forEach((a, j) => {
        a.version = versions[j];
        a.cell.newVersion = versions[j];
        results[a.index] = { ok: true, version: versions[j] };
      });
    }

    const written = sorted.filter((c) => c.newVersion !== undefined);
    for (let s = 0; s < written.length; s += batchCells) {
      const batch = written
        .slice(s, s + batchCells)
        .map((c) => ({ k: c.key, v: floatText(c.current), ver: c.newVersion }));
      await tx.query(
        `UPDATE cell AS c
         SET value = x.v::float8, version = x.ver, updated_by = $2, updated_at = now()
         FROM jsonb_to_recordset($3::text::jsonb) AS x(k text, v text, ver bigint)
         WHERE c.cube_id = $1 AND c.coords = x.k::int[]`,
        [cubeId, user, JSON.stringify(batch)],
      );
    }
    for (let s = 0; s < applied.length; s += batchCells) {
      const batch = applied.slice(s, s + batchCells).map((a) => ({
        i: a.index,
        k: a.cell.key,
        m: writes[a.index].members,
        o: floatText(a.old),
        n: floatText(a.value),
        ver: a.version,
      }));
      await tx.query(
        `INSERT INTO audit_log (tx_id, cube_id, coords, members, old_value, new_value, version, user_name, at)
         SELECT $1, $2, x.k::int[], x.m, x.o::float8, x.n::float8, x.ver, $3, now()
         FROM jsonb_to_recordset($4::text::jsonb) AS x(i int, k text, m text[], o text, n text, ver bigint)
         ORDER BY x.i`,
        [txId, cubeId, user, JSON.stringify(batch)],
      );
    }
    if (options.outbox && applied.length > 0) {
      // The cube's generation: its id and load time (a reloaded cube, or another database, differs).
      const loadedAt = Number(head[0].loaded_at);
      const changes: CommittedChange[] = applied.map((a) => ({
        coords: a.cell.coords,
        members: writes[a.index].members,
        oldValue: a.old,
        value: a.value,
        version: a.version,
      }));
      await insertOutboxRows(tx, options.outbox({ at, loadedAt, changes }));
    }
    const unused = sorted.filter((c) => c.placeholder && c.newVersion === undefined).map((c) => c.key);
    for (let s = 0; s < unused.length; s += batchCells) {
      await tx.query(
        "DELETE FROM cell WHERE cube_id = $1 AND coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))",
        [cubeId, unused.slice(s, s + batchCells)],
      );
    }
    return { results, at };
  });
}
