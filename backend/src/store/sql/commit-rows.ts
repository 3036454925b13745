/**
 * The row path of a commit (see commit.ts): the cells' rows locked in key order and each write
 * checked on its own, so that conflicts and all-or-none groups get their exact results.
 */
import type { SqlRunner } from "../driver";
import type { CommitResult, PendingWrite } from "../types";
import { compareCoords, epochMs, floatText, toNumber, valueOrNull } from "./codecs";
import { commitDecisions } from "../../writes/conflicts";
import type { AppliedWrite } from "./commit";

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
 * Checks and applies `writes` (with their cells' array-literal `keys`) inside the open transaction
 * `tx`, as commit.ts describes: the affected rows are locked (`FOR UPDATE`, in key order) for the
 * whole transaction; absent cells get a placeholder row first so that concurrent commits creating
 * the same cell serialize too (placeholders no write applied to are deleted again). Writes the
 * cell values, versions and audit rows (`tx_id`, member ids, old and new value, version); the
 * caller writes the transaction row and the outbox.
 * @returns one result per write, and the applied writes in array order.
 */
export async function commitRows(
  tx: SqlRunner,
  batchCells: number,
  cubeId: number,
  txId: string,
  user: string,
  keys: readonly string[],
  writes: readonly PendingWrite[],
  kind: "pglite" | "postgres",
): Promise<{ results: CommitResult[]; applied: AppliedWrite[] }> {
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
  const applied: (AppliedWrite & { cell: CellState })[] = [];
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
    const value = valueOrNull(w.newValue);
    applied.push({ index: i, cell, old: cell.current, value, version: 0 });
    cell.current = value;
  });

  if (applied.length > 0) {
    const versions = await nextVersions(tx, applied.length, kind);
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
      o: floatText(a.old),
      n: floatText(a.value),
      ver: a.version,
    }));
    await tx.query(
      `INSERT INTO audit_log (tx_id, cube_id, coords, old_value, new_value, version)
       SELECT $1, $2, x.k::int[], x.o::float8, x.n::float8, x.ver
       FROM jsonb_to_recordset($3::text::jsonb) AS x(i int, k text, o text, n text, ver bigint)
       ORDER BY x.i`,
      [txId, cubeId, JSON.stringify(batch)],
    );
  }
  const unused = sorted.filter((c) => c.placeholder && c.newVersion === undefined).map((c) => c.key);
  for (let s = 0; s < unused.length; s += batchCells) {
    await tx.query(
      "DELETE FROM cell WHERE cube_id = $1 AND coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))",
      [cubeId, unused.slice(s, s + batchCells)],
    );
  }
  return { results, applied: applied.map(({ cell: _c, ...a }) => a) };
}

/**
 * `n` new versions from `cell_version_seq`, ascending. On PGlite (one connection: no other
 * transaction runs meanwhile) the block is reserved with one `setval`; on a PostgreSQL server one
 * `nextval` per version, as concurrent transactions may draw from the sequence at the same time.
 * The server answers with the range alone when the versions it drew are consecutive (no other
 * transaction drew meanwhile, the usual case), else with the list, so that a million versions do
 * not come back as a million rows.
 */
export async function nextVersions(tx: SqlRunner, n: number, kind: "pglite" | "postgres"): Promise<number[]> {
  if (n === 0) return [];
  if (kind === "pglite") {
    const [{ last }] = await tx.query<{ last: unknown }>(
      "SELECT setval('cell_version_seq', nextval('cell_version_seq') + $1::bigint - 1)::text AS last",
      [n],
    );
    return range(Number(last) - n + 1, n);
  }
  // The list's subquery runs only when its CASE branch is taken (a gap in the drawn versions).
  const [{ lo, list }] = await tx.query<{ lo: unknown; list: string | null }>(
    `WITH s AS MATERIALIZED (SELECT nextval('cell_version_seq') AS v FROM generate_series(1, $1::int)),
          r AS (SELECT min(v) AS lo, max(v) AS hi, count(*) AS n FROM s)
     SELECT r.lo::text AS lo,
            CASE WHEN r.hi - r.lo + 1 = r.n THEN NULL ELSE (SELECT string_agg(v::text, ',' ORDER BY v) FROM s) END AS list
     FROM r`,
    [n],
  );
  return list === null ? range(Number(lo), n) : list.split(",").map(Number);
}

/** `n` consecutive integers from `first`. */
function range(first: number, n: number): number[] {
  const out: number[] = new Array(n);
  for (let j = 0; j < n; j++) out[j] = first + j;
  return out;
}
