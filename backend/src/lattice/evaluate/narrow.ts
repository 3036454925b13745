/**
 * Narrow cells (under few leaves in some dimension, e.g. scattered drill-down cells): the cost model
 * that picks them out of a batch, and the candidate pass that computes them together.
 */
import type { Dimension } from "../dimension";
import type { BatchResult, EvalStats, RowSource } from "./batch";
import { planGroups } from "./groups";

/** Leaf rows from which cells under few rows are computed by a candidate pass (see evaluateNarrow). */
const NARROW_MIN_ROWS = 4096;
/**
 * Estimated nanoseconds of: a pass of a group over one row (groups of scattered cells have large,
 * cache-unfriendly accumulators); checking one candidate cell on one row in the narrow pass;
 * looking up one row's candidates in one dimension. Fitted on FoodMart (0.7M rows, 13 dimensions)
 * and the generated cube (10M rows, 6 dimensions) on 2 cores.
 */
const COST_GROUP_ROW = 6;
const COST_CANDIDATE = 10;
const COST_NARROW_ROW = 2;

/**
 * Splits consolidated cells into narrow ones (computed by evaluateNarrow) and groups of the others,
 * choosing how narrow "narrow" is (some dimension puts the cell under at most 1/8 ... 1/128 of the
 * leaves) by the estimated cost of the narrow pass and the group passes.
 * @param cells indexes into `coords` of consolidated cells; `rows` the leaf row count.
 * @returns the narrow cells, the broad ones, and the broad ones packed into groups (see planGroups).
 */
export function splitNarrow(
  dims: readonly Dimension[],
  coords: readonly Int32Array[],
  cells: number[],
  rows: number,
): { narrow: number[]; broad: number[]; groups: number[][] } {
  if (rows < NARROW_MIN_ROWS) return { narrow: [], broad: cells, groups: planGroups(dims, coords, cells) };
  // Fraction of the leaves under each cell's most selective member, and that dimension.
  const frac = new Float64Array(cells.length);
  const bestDim = new Int32Array(cells.length);
  cells.forEach((i, j) => {
    let min = Number.POSITIVE_INFINITY;
    for (let d = 0; d < dims.length; d++) {
      const dim = dims[d];
      const f = (dim.leafHi[coords[i][d]] - dim.leafLo[coords[i][d]]) / dim.leafCount;
      if (f < min) {
        min = f;
        bestDim[j] = d;
      }
    }
    frac[j] = min;
  });
  let best: { narrow: number[]; broad: number[]; groups: number[][]; cost: number } | null = null;
  for (const divisor of [0, 128, 64, 32, 16, 8]) {
    const narrow: number[] = [];
    const broad: number[] = [];
    const used = new Set<number>();
    let candidates = 0;
    cells.forEach((i, j) => {
      if (divisor > 0 && frac[j] <= 1 / divisor) {
        narrow.push(i);
        used.add(bestDim[j]);
        candidates += frac[j] * rows;
      } else {
        broad.push(i);
      }
    });
    const groups = broad.length > 0 ? planGroups(dims, coords, broad) : [];
    const cost = groups.length * rows * COST_GROUP_ROW + candidates * COST_CANDIDATE + used.size * rows * COST_NARROW_ROW;
    if (best === null || cost < best.cost) best = { narrow, broad, groups, cost };
    if (groups.length <= 1) break;
  }
  return best!;
}

/**
 * Computes narrow cells in one pass over the rows: each cell is listed under the leaves of its most
 * selective dimension (its member there covers few leaves), each row looks up the cells listed
 * under its leaves and checks them on the other dimensions. Costs about the rows under each cell's
 * most selective member, where groups of many-dimensional scattered cells would need many passes.
 * Writes the results of `cells` (indexes into `coords`) into `out`.
 */
export function evaluateNarrow(
  dims: readonly Dimension[],
  source: RowSource,
  coords: readonly Int32Array[],
  cells: number[],
  out: BatchResult,
  stats?: EvalStats,
): void {
  const nd = dims.length;
  const nc = cells.length;
  // Most selective dimension of each cell, and the other dimensions it constrains or weighs.
  const best = new Int32Array(nc);
  const conStart = new Int32Array(nc + 1);
  const conD: number[] = [];
  const conLo: number[] = [];
  const conHi: number[] = [];
  for (let j = 0; j < nc; j++) {
    const c = coords[cells[j]];
    let b = 0;
    let bw = Number.POSITIVE_INFINITY;
    for (let d = 0; d < nd; d++) {
      const w = (dims[d].leafHi[c[d]] - dims[d].leafLo[c[d]]) / dims[d].leafCount;
      if (w < bw) {
        bw = w;
        b = d;
      }
    }
    best[j] = b;
    conStart[j] = conD.length;
    for (let d = 0; d < nd; d++) {
      const dim = dims[d];
      if (d === b && !dim.weighted) continue;
      if (!dim.weighted && dim.coversAll(c[d])) continue;
      conD.push(d);
      conLo.push(dim.leafLo[c[d]]);
      conHi.push(dim.leafHi[c[d]]);
    }
  }
  conStart[nc] = conD.length;
  // Per dimension used as a cell's most selective one: the cells listed under each leaf member.
  const offsets: (Int32Array | null)[] = new Array(nd).fill(null);
  const entries: (Int32Array | null)[] = new Array(nd).fill(null);
  for (let d = 0; d < nd; d++) {
    const dim = dims[d];
    const counts = new Int32Array(dim.size + 1);
    let any = false;
    for (let j = 0; j < nc; j++) {
      if (best[j] !== d) continue;
      any = true;
      const m = coords[cells[j]][d];
      for (let p = dim.leafLo[m]; p < dim.leafHi[m]; p++) counts[dim.leafAt[p] + 1]++;
    }
    if (!any) continue;
    for (let m = 0; m < dim.size; m++) counts[m + 1] += counts[m];
    const list = new Int32Array(counts[dim.size]);
    const fill = counts.slice(0, dim.size);
    for (let j = 0; j < nc; j++) {
      if (best[j] !== d) continue;
      const m = coords[cells[j]][d];
      for (let p = dim.leafLo[m]; p < dim.leafHi[m]; p++) list[fill[dim.leafAt[p]]++] = j;
    }
    offsets[d] = counts;
    entries[d] = list;
  }
  const used = [];
  for (let d = 0; d < nd; d++) if (offsets[d] !== null) used.push(d);
  const sum = new Float64Array(nc);
  const count = new Float64Array(nc);
  const ver = new Float64Array(nc);
  const rows = source.count;
  const values = source.values;
  const versions = source.versions;
  const cols = source.cols;
  const leafPos = dims.map((dim) => dim.leafPos);
  if (stats) {
    stats.scans++;
    stats.rowsScanned += rows;
  }
  for (const d of used) {
    const off = offsets[d]!;
    const list = entries[d]!;
    const col = cols[d];
    for (let r = 0; r < rows; r++) {
      const m = col[r];
      const a = off[m];
      const b = off[m + 1];
      if (a === b) continue;
      for (let e = a; e < b; e++) {
        const j = list[e];
        let ok = true;
        let w = 1;
        for (let k = conStart[j]; k < conStart[j + 1]; k++) {
          const dk = conD[k];
          const leaf = cols[dk][r];
          const p = leafPos[dk][leaf];
          if (p < conLo[k] || p >= conHi[k]) {
            ok = false;
            break;
          }
          if (dims[dk].weighted) w *= dims[dk].relativeWeight(leaf, coords[cells[j]][dk]);
        }
        if (!ok) continue;
        const v = values[r];
        if (!Number.isNaN(v)) {
          sum[j] += v * w;
          count[j]++;
        }
        if (versions[r] > ver[j]) ver[j] = versions[r];
      }
    }
  }
  for (let j = 0; j < nc; j++) {
    const i = cells[j];
    out.values[i] = count[j] > 0 ? sum[j] : 0;
    out.counts[i] = count[j];
    out.versions[i] = ver[j];
  }
}
