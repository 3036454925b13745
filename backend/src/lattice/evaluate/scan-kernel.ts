/**
 * The scan kernel: one pass over rows adding each into the accumulator slot its members' table
 * entries name, and the matching pass over versions. Large passes over leaf rows go to a
 * ScanExecutor, which may run `scanRows`'s source text in helper threads.
 */
import type { MemberColumn } from "../leaf-store";
import type { EvalStats, RowSource } from "./batch";
import type { ScanExecutor } from "./executor";

/** Leaf rows from which a scan goes to the executor (smaller ones always run in the calling thread). */
export const PARALLEL_MIN_ROWS = 1 << 19;

/** What a pass over rows needs of an axis: its dimension and each member's key contribution. */
export interface ScanAxis {
  d: number;
  /** Key contribution of each member id (REJECT: the row is skipped). */
  table: Int32Array;
}

/**
 * One pass over the rows, adding each into the sum and count of its segment tuple (`acc`: sum at
 * `2 * key`, count at `2 * key + 1`). Passes over at least `executor.minRows` (default
 * PARALLEL_MIN_ROWS) leaf rows run on `executor`.
 */
export function scan(source: RowSource, axes: readonly ScanAxis[], acc: Float64Array, executor: ScanExecutor, stats?: EvalStats): void {
  const rows = source.count;
  const values = source.values;
  const counts = source.counts;
  if (stats) {
    stats.scans++;
    stats.rowsScanned += rows;
  }
  const cols = axes.map((a) => source.cols[a.d]);
  const tables = axes.map((a) => a.table);
  if (counts === null && rows >= (executor.minRows ?? PARALLEL_MIN_ROWS) && axes.length > 0) {
    executor.scan(rows, cols, tables, values, acc);
    return;
  }
  scanRows(0, rows, cols, tables, values, counts, acc);
}

/**
 * The scan kernel over rows [lo, hi): adds each row whose key (the sum of its members' table
 * entries) is not negative into `acc` (sum at 2 * key, count at 2 * key + 1). Self-contained (it
 * references nothing outside itself) because helper threads run its source text.
 * @param counts non-empty leaves per row for pre-aggregated rows, or null for leaf rows.
 */
export function scanRows(
  lo: number,
  hi: number,
  cols: readonly MemberColumn[],
  tables: readonly Int32Array[],
  values: Float64Array,
  counts: Float64Array | null,
  acc: Float64Array,
): void {
  const na = tables.length;
  if (counts !== null || na === 0 || na > 5) {
    // Pre-aggregated rows (few), no axis, or many axes: the general loop.
    nextRow: for (let r = lo; r < hi; r++) {
      let key = 0;
      for (let k = 0; k < na; k++) {
        key += tables[k][cols[k][r]];
        if (key < 0) continue nextRow;
      }
      const v = values[r];
      if (counts !== null) {
        acc[2 * key] += v;
        acc[2 * key + 1] += counts[r];
      } else if (!Number.isNaN(v)) {
        acc[2 * key] += v;
        acc[2 * key + 1]++;
      }
    }
    return;
  }
  // Leaf rows: one loop per number of axes, most selective axis first.
  const c0 = cols[0];
  const t0 = tables[0];
  if (na === 1) {
    for (let r = lo; r < hi; r++) {
      const key = t0[c0[r]];
      if (key < 0) continue;
      const v = values[r];
      if (!Number.isNaN(v)) {
        acc[2 * key] += v;
        acc[2 * key + 1]++;
      }
    }
    return;
  }
  const c1 = cols[1];
  const t1 = tables[1];
  if (na === 2) {
    for (let r = lo; r < hi; r++) {
      let key = t0[c0[r]];
      if (key < 0) continue;
      key += t1[c1[r]];
      if (key < 0) continue;
      const v = values[r];
      if (!Number.isNaN(v)) {
        acc[2 * key] += v;
        acc[2 * key + 1]++;
      }
    }
    return;
  }
  const c2 = cols[2];
  const t2 = tables[2];
  if (na === 3) {
    for (let r = lo; r < hi; r++) {
      let key = t0[c0[r]];
      if (key < 0) continue;
      key += t1[c1[r]];
      if (key < 0) continue;
      key += t2[c2[r]];
      if (key < 0) continue;
      const v = values[r];
      if (!Number.isNaN(v)) {
        acc[2 * key] += v;
        acc[2 * key + 1]++;
      }
    }
    return;
  }
  const c3 = cols[3];
  const t3 = tables[3];
  if (na === 4) {
    for (let r = lo; r < hi; r++) {
      let key = t0[c0[r]];
      if (key < 0) continue;
      key += t1[c1[r]];
      if (key < 0) continue;
      key += t2[c2[r]] + t3[c3[r]];
      if (key < 0) continue;
      const v = values[r];
      if (!Number.isNaN(v)) {
        acc[2 * key] += v;
        acc[2 * key + 1]++;
      }
    }
    return;
  }
  const c4 = cols[4];
  const t4 = tables[4];
  for (let r = lo; r < hi; r++) {
    let key = t0[c0[r]];
    if (key < 0) continue;
    key += t1[c1[r]];
    if (key < 0) continue;
    key += t2[c2[r]] + t3[c3[r]] + t4[c4[r]];
    if (key < 0) continue;
    const v = values[r];
    if (!Number.isNaN(v)) {
      acc[2 * key] += v;
      acc[2 * key + 1]++;
    }
  }
}

/**
 * Highest version per segment tuple (`total` of them), from the rows with a version (few: the
 * written ones).
 */
export function scanVersions(source: RowSource, axes: readonly ScanAxis[], total: number): Float64Array {
  const ver = new Float64Array(total);
  for (let i = 0; i < source.versionCount; i++) {
    const r = source.versionRows[i];
    let key = 0;
    for (let k = 0; k < axes.length && key >= 0; k++) key += axes[k].table[source.cols[axes[k].d][r]];
    if (key >= 0 && source.versions[r] > ver[key]) ver[key] = source.versions[r];
  }
  return ver;
}
