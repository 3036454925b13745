/**
 * Narrow cells (under few leaves in some dimension, e.g. scattered drill-down cells): the cost model
 * that picks them out of a batch, and the candidate pass that computes them together.
 */
import type { Dimension } from "../dimension";
import type { BatchResult, EvalStats, RowSource } from "./batch";
import { type ScanExecutor, serialExecutor } from "./executor";
import { planGroups } from "./groups";
import { type NarrowArgs, type NarrowOut, narrowRows } from "./narrow-kernel";
import { PARALLEL_MIN_ROWS } from "./scan-kernel";

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
 * Buckets of a second dimension's leaf positions under which the narrow pass also lists its cells
 * (see evaluateNarrow); dimensions of fewer leaves are not used as a second one.
 */
const SECOND_BUCKETS = 16;

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
  executor: ScanExecutor = serialExecutor,
): void {
  const nd = dims.length;
  const nc = cells.length;
  const rows = source.count;
  const big = rows >= (executor.minRows ?? PARALLEL_MIN_ROWS);
  /** Arrays the kernel reads: in shared memory for a large pass, so helper threads read them in place. */
  const ints = (n: number) => new Int32Array(big ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  const toInts = (xs: ArrayLike<number>) => {
    const t = ints(xs.length);
    t.set(xs);
    return t;
  };
  /** Share of dimension `d`'s leaves under cell j's member there. */
  const share = (j: number, d: number) => {
    const m = coords[cells[j]][d];
    return (dims[d].leafHi[m] - dims[d].leafLo[m]) / dims[d].leafCount;
  };
  // Most selective dimension of each cell, and the other dimensions it constrains or weighs.
  const best = new Int32Array(nc);
  const conStart = ints(nc + 1);
  const conD: number[] = [];
  const conLo: number[] = [];
  const conHi: number[] = [];
  for (let j = 0; j < nc; j++) {
    const c = coords[cells[j]];
    let b = 0;
    let bw = Number.POSITIVE_INFINITY;
    for (let d = 0; d < nd; d++) {
      const w = share(j, d);
      if (w < bw) {
        bw = w;
        b = d;
      }
    }
    best[j] = b;
    conStart[j] = conD.length;
    // The cell's constraints, most selective first (a row outside the cell fails early).
    const order: number[] = [];
    for (let d = 0; d < nd; d++) {
      const dim = dims[d];
      if (d === b && !dim.weighted) continue;
      if (!dim.weighted && dim.coversAll(c[d])) continue;
      order.push(d);
    }
    order.sort((x, y) => share(j, x) - share(j, y));
    for (const d of order) {
      conD.push(d);
      conLo.push(dims[d].leafLo[c[d]]);
      conHi.push(dims[d].leafHi[c[d]]);
    }
  }
  conStart[nc] = conD.length;
  // Per dimension used as a cell's most selective one: the cells listed under each leaf member and,
  // when the cells of that dimension mostly constrain another one too (`second[d]`), under each
  // bucket of that dimension's leaf positions as well, so that a row meets only the cells whose
  // range in both dimensions it may lie in (the checks below still decide).
  const offsets: (Int32Array | null)[] = new Array(nd).fill(null);
  const entries: (Int32Array | null)[] = new Array(nd).fill(null);
  const second = new Int32Array(nd).fill(-1);
  const buckets = new Int32Array(nd).fill(1);
  const bucketOf: (Int32Array | null)[] = new Array(nd).fill(null);
  for (let d = 0; d < nd; d++) {
    const votes = new Float64Array(nd);
    for (let j = 0; j < nc; j++) {
      if (best[j] !== d) continue;
      let s2 = -1;
      let f2 = 0.5; // a second dimension that halves the candidates at least
      for (let e = 0; e < nd; e++) {
        if (e === d || dims[e].leafCount < SECOND_BUCKETS) continue;
        const f = share(j, e);
        if (f < f2) {
          f2 = f;
          s2 = e;
        }
      }
      if (s2 >= 0) votes[s2]++;
    }
    let top = -1;
    for (let e = 0; e < nd; e++) if (votes[e] > 0 && (top < 0 || votes[e] > votes[top])) top = e;
    if (top < 0) continue;
    second[d] = top;
    buckets[d] = SECOND_BUCKETS;
    const sd = dims[top];
    const of = ints(sd.size);
    for (let m = 0; m < sd.size; m++) if (sd.leafPos[m] >= 0) of[m] = Math.floor((sd.leafPos[m] * SECOND_BUCKETS) / sd.leafCount);
    bucketOf[d] = of;
  }
  /** The buckets [b0, b1] of dimension `second[d]` that cell j's range there overlaps ([0, 0] without one). */
  const bucketRange = (j: number, d: number): [number, number] => {
    const s2 = second[d];
    if (s2 < 0) return [0, 0];
    const dim = dims[s2];
    const m = coords[cells[j]][s2];
    return [Math.floor((dim.leafLo[m] * SECOND_BUCKETS) / dim.leafCount), Math.floor(((dim.leafHi[m] - 1) * SECOND_BUCKETS) / dim.leafCount)];
  };
  for (let d = 0; d < nd; d++) {
    const dim = dims[d];
    const nb = buckets[d];
    const counts = ints(dim.size * nb + 1);
    let any = false;
    for (let j = 0; j < nc; j++) {
      if (best[j] !== d) continue;
      any = true;
      const m = coords[cells[j]][d];
      const [b0, b1] = bucketRange(j, d);
      for (let p = dim.leafLo[m]; p < dim.leafHi[m]; p++) for (let b = b0; b <= b1; b++) counts[dim.leafAt[p] * nb + b + 1]++;
    }
    if (!any) continue;
    for (let k = 0; k < dim.size * nb; k++) counts[k + 1] += counts[k];
    const list = ints(counts[dim.size * nb]);
    const fill = counts.slice(0, dim.size * nb);
    for (let j = 0; j < nc; j++) {
      if (best[j] !== d) continue;
      const m = coords[cells[j]][d];
      const [b0, b1] = bucketRange(j, d);
      for (let p = dim.leafLo[m]; p < dim.leafHi[m]; p++) for (let b = b0; b <= b1; b++) list[fill[dim.leafAt[p] * nb + b]++] = j;
    }
    offsets[d] = counts;
    entries[d] = list;
  }
  const used = [];
  for (let d = 0; d < nd; d++) if (offsets[d] !== null) used.push(d);
  // Per constraint of a weighted dimension: the weight of each leaf position in its range relative
  // to the cell's member (wOff[k] into `weights`; -1 for an unweighted dimension).
  const wOff = ints(conD.length).fill(-1);
  let wLen = 0;
  for (let k = 0; k < conD.length; k++) {
    if (dims[conD[k]].weighted) {
      wOff[k] = wLen;
      wLen += conHi[k] - conLo[k];
    }
  }
  const weights = new Float64Array(big ? new SharedArrayBuffer(wLen * 8) : new ArrayBuffer(wLen * 8));
  for (let j = 0; j < nc; j++) {
    for (let k = conStart[j]; k < conStart[j + 1]; k++) {
      if (wOff[k] < 0) continue;
      const dim = dims[conD[k]];
      const member = coords[cells[j]][conD[k]];
      for (let p = conLo[k]; p < conHi[k]; p++) weights[wOff[k] + p - conLo[k]] = dim.relativeWeight(dim.leafAt[p], member);
    }
  }
  const args: NarrowArgs = {
    used: Int32Array.from(used),
    offsets: used.map((d) => offsets[d]!),
    lists: used.map((d) => entries[d]!),
    buckets: Int32Array.from(used, (d) => buckets[d]),
    second: Int32Array.from(used, (d) => second[d]),
    bucketOf: used.map((d) => bucketOf[d] ?? ints(dims[d].size)),
    conStart,
    conD: toInts(conD),
    conLo: toInts(conLo),
    conHi: toInts(conHi),
    wOff,
    weights,
    leafPos: dims.map((dim) => toInts(dim.leafPos)),
    cols: source.cols,
    values: source.values,
    versions: source.versions,
    versionRows: source.versionRows,
    versionCount: source.versionCount,
  };
  const res: NarrowOut = { sum: new Float64Array(nc), count: new Float64Array(nc), ver: new Float64Array(nc) };
  if (stats) {
    stats.scans++;
    stats.rowsScanned += rows;
  }
  if (big) executor.narrow(rows, args, res);
  else narrowRows(0, rows, args, res);
  const { sum, count, ver } = res;
  for (let j = 0; j < nc; j++) {
    const i = cells[j];
    out.values[i] = count[j] > 0 ? sum[j] : 0;
    out.counts[i] = count[j];
    out.versions[i] = ver[j];
  }
}
