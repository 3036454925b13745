/**
 * The stored rows under a cell: the first pass of a spread plan, over every row of the leaf store.
 * It runs its most selective check alone, in a tight loop over one narrow member column, and the
 * other checks only on the rows that pass it; a check every leaf passes (a range over all of a
 * dimension's leaves) is not made.
 */
import type { Dimension } from "../dimension";
import type { LeafStore } from "../leaf-store";

/** Store rows a scan works through between two steps. */
export const ROW_STEP = 1 << 20;

/** One check of a row: its member on dimension `d` is `id` (`lo` = -1), or its leaf position lies in `[lo, hi)`. */
interface Check {
  d: number;
  id: number;
  lo: number;
  hi: number;
  /** The share of the dimension's leaves that pass (the check's expected selectivity). */
  share: number;
}

/**
 * Stored rows whose leaf lies under `target`: on each dimension of `ranges` its leaf position lies in
 * the range's `[lo, hi)`, on each of `fixed` its member is the target's. Scans the rows stored when
 * it starts, in ascending order, pausing (yielding) after every ROW_STEP rows; the columns are read
 * again after each pause (a store that grew meanwhile has new ones).
 */
export function* rowsUnder(
  store: LeafStore,
  dims: readonly Dimension[],
  target: ArrayLike<number>,
  ranges: readonly { d: number; lo: number; hi: number }[],
  fixed: readonly number[],
): Generator<void, Int32Array> {
  const checks: Check[] = [
    ...fixed.map((d) => ({ d, id: target[d], lo: -1, hi: -1, share: 1 / dims[d].leafCount })),
    ...ranges.filter((g) => g.hi - g.lo < dims[g.d].leafCount).map((g) => ({ d: g.d, id: -1, lo: g.lo, hi: g.hi, share: (g.hi - g.lo) / dims[g.d].leafCount })),
  ].sort((a, b) => a.share - b.share);
  const count = store.count;
  let out = new Int32Array(1024);
  let n = 0;
  for (let lo = 0; lo < count; lo += ROW_STEP) {
    const hi = Math.min(count, lo + ROW_STEP);
    if (out.length < n + (hi - lo)) {
      const grown = new Int32Array(Math.max(out.length * 2, n + (hi - lo)));
      grown.set(out.subarray(0, n));
      out = grown;
    }
    const start = n;
    const cols = store.cols;
    if (checks.length === 0) {
      for (let r = lo; r < hi; r++) out[n++] = r;
    } else {
      const first = checks[0];
      n = first.lo < 0 ? equalRows(cols[first.d], first.id, lo, hi, out, n) : rangeRows(cols[first.d], dims[first.d].leafPos, first.lo, first.hi, lo, hi, out, n);
      for (let k = 1; k < checks.length; k++) {
        const c = checks[k];
        n = c.lo < 0 ? keepEqual(cols[c.d], c.id, out, start, n) : keepRange(cols[c.d], dims[c.d].leafPos, c.lo, c.hi, out, start, n);
      }
    }
    if (hi < count) yield;
  }
  return out.slice(0, n);
}

/** Appends to `out` (from `n`) the rows of `[lo, hi)` whose member in `col` is `id`; returns the new length. */
function equalRows(col: ArrayLike<number>, id: number, lo: number, hi: number, out: Int32Array, n: number): number {
  for (let r = lo; r < hi; r++) if (col[r] === id) out[n++] = r;
  return n;
}

/** Appends to `out` the rows of `[lo, hi)` whose member's leaf position lies in `[plo, phi)`. */
function rangeRows(col: ArrayLike<number>, pos: Int32Array, plo: number, phi: number, lo: number, hi: number, out: Int32Array, n: number): number {
  for (let r = lo; r < hi; r++) {
    const p = pos[col[r]];
    if (p >= plo && p < phi) out[n++] = r;
  }
  return n;
}

/** Keeps, of the rows `out[start..n)`, those whose member in `col` is `id` (in place); returns the new length. */
function keepEqual(col: ArrayLike<number>, id: number, out: Int32Array, start: number, n: number): number {
  let m = start;
  for (let i = start; i < n; i++) {
    const r = out[i];
    if (col[r] === id) out[m++] = r;
  }
  return m;
}

/** Keeps, of the rows `out[start..n)`, those whose member's leaf position lies in `[plo, phi)`. */
function keepRange(col: ArrayLike<number>, pos: Int32Array, plo: number, phi: number, out: Int32Array, start: number, n: number): number {
  let m = start;
  for (let i = start; i < n; i++) {
    const r = out[i];
    const p = pos[col[r]];
    if (p >= plo && p < phi) out[m++] = r;
  }
  return m;
}
