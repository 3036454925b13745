import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Dimension } from "./dimension";
import { type LeafStore, type MemberColumn, newMemberColumn } from "./leaf-store";

/**
 * Values of a batch of cells, by request index. A cell is empty when `counts[i]` is 0 (then
 * `values[i]` is 0). `versions[i]` is the highest version of the leaves under the cell, cleared
 * leaves included, so a clear below a total changes the total's version too.
 */
export interface BatchResult {
  values: Float64Array;
  counts: Float64Array;
  versions: Float64Array;
}

/**
 * Most accumulator slots of one group of cells (16 bytes a slot, 4 MB in all); larger batches are
 * split. Small accumulators stay in cache: on 10M rows, 2^18 beat 2^16, 2^20, 2^21 and 2^23.
 */
const GROUP_LIMIT = 1 << 18;
/**
 * Key contribution of a member that no requested member covers: any key holding one is negative
 * (valid keys are below GROUP_LIMIT, and up to 31 of these still fit a 32-bit integer).
 */
const REJECT = -(2 ** 26);
/** A box larger than this is summed from a marginal (its full axes summed out) when that is cheaper. */
const BOX_WALK_LIMIT = 4096;

/** Statistics of evaluations, for benchmarks (no effect on results). */
export interface EvalStats {
  /** Passes over rows (leaf rows or a tile's rows), one per group of cells. */
  scans: number;
  rowsScanned: number;
  leafLookups: number;
  /** Tiles built (each one pass over the leaf rows). */
  tileBuilds: number;
}

/**
 * Rows a group of cells is computed from: the leaf store itself, or pre-aggregated rows whose
 * coordinates are consolidated members (a tile). Row `r` holds member `cols[d][r]` of dimension
 * `d`, the (weighted) sum `values[r]` of `counts[r]` non-empty leaves, and version `versions[r]`.
 */
export interface RowSource {
  count: number;
  cols: readonly MemberColumn[];
  values: Float64Array;
  /** Non-empty leaves per row; null for leaf rows (1 unless the value is NaN). */
  counts: Float64Array | null;
  versions: Float64Array;
  /** Rows whose version is above 0 are `versionRows[0..versionCount)`. */
  versionRows: Int32Array;
  versionCount: number;
  /**
   * Per dimension, the member ids rows use, in depth-first order; they partition the leaves (each
   * covers a contiguous run of leaf positions). Row values are weighted relative to these members.
   */
  domains: readonly Int32Array[];
}

/** The leaf store as a row source. */
export function leafSource(dims: readonly Dimension[], store: LeafStore): RowSource {
  return {
    count: store.count,
    cols: store.cols,
    values: store.values,
    counts: null,
    versions: store.versions,
    versionRows: store.writtenRows,
    versionCount: store.writtenCount,
    domains: dims.map((d) => d.leafAt),
  };
}

/**
 * Computes a batch of cells (leaf or consolidated) over a leaf store.
 *
 * Leaf cells are hash lookups. Consolidated cells are computed in groups, each in one pass over
 * the rows: along each dimension the group's members cut the depth-first leaf order into segments
 * (every member covers a contiguous run of leaves; a run is cut further where the weight of its
 * leaves relative to the finest requested member changes), each row is added into the accumulator
 * of its segment tuple, and each requested cell is then the weighted sum of the accumulators inside
 * its box of segments. Nested requests (a total and its children) cost no extra pass. Cells are
 * packed into groups whose accumulators stay small (GROUP_LIMIT slots). Cells under few leaves in
 * some dimension (scattered drill-down cells) are computed together in one candidate pass instead
 * (evaluateNarrow), when the cost estimate says so. Large passes over leaf rows are split over
 * helper threads (scanParallel).
 *
 * @param coords one member id per dimension for each cell, in dimension order.
 * @param source gives, per group, pre-aggregated rows to compute it from (a Tile), or null for the
 *   leaf rows.
 */
export function evaluateBatch(
  dims: readonly Dimension[],
  store: LeafStore,
  coords: readonly Int32Array[],
  stats?: EvalStats,
  source?: (group: readonly Int32Array[]) => RowSource | null,
): BatchResult {
  const n = coords.length;
  const out: BatchResult = {
    values: new Float64Array(n),
    counts: new Float64Array(n),
    versions: new Float64Array(n),
  };
  const consolidated: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = coords[i];
    let leaf = true;
    for (let d = 0; d < dims.length; d++) {
      if (!dims[d].isLeaf(c[d])) {
        leaf = false;
        break;
      }
    }
    if (!leaf) {
      consolidated.push(i);
      continue;
    }
    if (stats) stats.leafLookups++;
    const r = store.find(c);
    if (r < 0) continue;
    const v = store.values[r];
    out.versions[i] = store.versions[r];
    if (!Number.isNaN(v)) {
      out.values[i] = v;
      out.counts[i] = 1;
    }
  }
  if (consolidated.length === 0) return out;
  let leaves: RowSource | null = null;
  // Cells under few leaf rows in some dimension go through one candidate pass; the others in groups.
  const { narrow, broad, groups } = splitNarrow(dims, coords, consolidated, store.count);
  if (narrow.length > 0) {
    leaves = leafSource(dims, store);
    evaluateNarrow(dims, leaves, coords, narrow, out, stats);
  }
  if (broad.length === 0) return out;
  for (const group of groups) {
    let rows = source?.(group.map((i) => coords[i])) ?? leaves;
    if (rows === null) {
      leaves = leafSource(dims, store);
      rows = leaves;
    }
    evaluateGroup(dims, rows, coords, group, out, stats);
  }
  return out;
}

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
 */
function splitNarrow(
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
 */
function evaluateNarrow(
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

/**
 * Packs cells into groups whose accumulators stay within GROUP_LIMIT slots: cells sorted by the
 * depths of their members (similar cells share segments), added greedily while the product of
 * the dimensions' covered segment counts allows.
 */
function planGroups(dims: readonly Dimension[], coords: readonly Int32Array[], cells: number[]): number[][] {
  const nd = dims.length;
  const segmentsOf = (d: number, members: Iterable<number>): number => {
    const dim = dims[d];
    // Weighted dimensions also cut where leaf weights change: count as the axis would.
    if (dim.weighted) return buildAxis(dim, d, new Set(members), dim.leafAt)?.nseg ?? 1;
    const ranges: [number, number][] = [];
    for (const m of members) ranges.push([dim.leafLo[m], dim.leafHi[m]]);
    return coveredSegments(ranges);
  };
  // Usually the whole batch fits one group.
  let all = 1;
  for (let d = 0; d < nd && all <= GROUP_LIMIT; d++) all *= segmentsOf(d, new Set(cells.map((i) => coords[i][d])));
  if (all <= GROUP_LIMIT) return [cells];
  const sorted = [...cells].sort((x, y) => {
    for (let d = 0; d < nd; d++) {
      const dx = dims[d].depth[coords[x][d]];
      const dy = dims[d].depth[coords[y][d]];
      if (dx !== dy) return dx - dy;
    }
    return 0;
  });
  const groups: number[][] = [];
  let cur: number[] = [];
  let members: Set<number>[] = dims.map(() => new Set());
  let segs: number[] = dims.map(() => 1);
  for (const i of sorted) {
    const c = coords[i];
    // Segment counts with this cell added, for the dimensions where its member is new.
    const next = segs.slice();
    let total = 1;
    for (let d = 0; d < nd; d++) {
      if (!members[d].has(c[d])) next[d] = segmentsOf(d, [...members[d], c[d]]);
      total *= next[d];
    }
    if (cur.length > 0 && total > GROUP_LIMIT) {
      groups.push(cur);
      cur = [];
      members = dims.map(() => new Set());
      for (let d = 0; d < nd; d++) next[d] = 1;
    }
    cur.push(i);
    for (let d = 0; d < nd; d++) members[d].add(c[d]);
    segs = next;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** Number of elementary intervals, between consecutive range ends, that some range covers. */
function coveredSegments(ranges: [number, number][]): number {
  if (ranges.length <= 1) return 1;
  const events: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    events.push([lo, 1], [hi, -1]);
  }
  events.sort((x, y) => x[0] - y[0]);
  let depth = 0;
  let count = 0;
  for (let k = 0; k < events.length; k++) {
    depth += events[k][1];
    // The interval from this bound to the next distinct one is a segment when something covers it.
    if (k + 1 < events.length && events[k + 1][0] !== events[k][0] && depth > 0) count++;
  }
  return Math.max(1, count);
}

/** What a pass over rows needs of an axis: its dimension and each member's key contribution. */
interface ScanAxis {
  d: number;
  /** Key contribution of each member id (REJECT: the row is skipped). */
  table: Int32Array;
}

/** One dimension along which a group of cells differs from "everything, unweighted". */
interface Axis extends ScanAxis {
  d: number;
  /** Segment of each member id of the source's domain (-1: no requested member covers it). */
  segOf: Int32Array;
  nseg: number;
  /** First leaf position of each segment. */
  segStart: Int32Array;
  /** A domain member in each segment (all its members weigh the same into any requested member). */
  rep: Int32Array;
  /** True when the dimension has weights other than 1 (segments then weigh into each requested member). */
  weighted: boolean;
  /** Fraction of leaves covered, to order the scan (most selective first). */
  coverage: number;
  stride: number;
  /** Key contribution of each member id (segment * stride, or REJECT). */
  table: Int32Array;
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function buildAxis(dim: Dimension, d: number, members: Set<number>, domain: Int32Array): Axis | null {
  const only = members.size === 1 ? (members.values().next().value as number) : -1;
  if (only >= 0 && !dim.weighted && dim.coversAll(only)) return null;
  const bset = new Set<number>();
  for (const m of members) {
    bset.add(dim.leafLo[m]);
    bset.add(dim.leafHi[m]);
  }
  const b = Array.from(bset).sort((x, y) => x - y);
  const nb = b.length - 1;
  const posToBound = new Map<number, number>();
  for (let i = 0; i < b.length; i++) posToBound.set(b[i], i);
  // Finest requested member per bound interval: mark by decreasing width so narrower ones win
  // (a member with a single child has the child's range: the deeper one is the finer).
  const finest = new Int32Array(nb).fill(-1);
  const byWidth = Array.from(members).sort(
    (x, y) => dim.leafHi[y] - dim.leafLo[y] - (dim.leafHi[x] - dim.leafLo[x]) || dim.depth[x] - dim.depth[y],
  );
  for (const m of byWidth) {
    const lo = posToBound.get(dim.leafLo[m])!;
    const hi = posToBound.get(dim.leafHi[m])!;
    for (let s = lo; s < hi; s++) finest[s] = m;
  }
  // Walk the domain in leaf order: a new segment starts at each bound and where the weight into
  // the finest requested member changes.
  const segOf = new Int32Array(dim.size).fill(-1);
  const segStart: number[] = [];
  const rep: number[] = [];
  let covered = 0;
  let s0 = 0;
  let prevInterval = -1;
  let prevWeight = Number.NaN;
  for (let k = 0; k < domain.length; k++) {
    const x = domain[k];
    const p = dim.leafLo[x];
    while (s0 < nb && p >= b[s0 + 1]) s0++;
    if (s0 >= nb || p < b[s0] || finest[s0] < 0) {
      prevInterval = -1;
      continue;
    }
    const w = dim.weighted ? dim.relativeWeight(x, finest[s0]) : 1;
    if (s0 !== prevInterval || w !== prevWeight) {
      segStart.push(p);
      rep.push(x);
    }
    prevInterval = s0;
    prevWeight = w;
    segOf[x] = segStart.length - 1;
    covered += dim.leafHi[x] - dim.leafLo[x];
  }
  const nseg = segStart.length;
  return {
    d,
    segOf,
    nseg,
    segStart: Int32Array.from(segStart),
    rep: Int32Array.from(rep),
    weighted: dim.weighted,
    coverage: dim.leafCount === 0 ? 0 : covered / dim.leafCount,
    stride: 1,
    table: segOf,
  };
}

/** Segment range [lo, hi) of a requested member on an axis. */
function rangeOf(dim: Dimension, axis: Axis, m: number): [number, number] {
  return [lowerBound(axis.segStart, dim.leafLo[m]), lowerBound(axis.segStart, dim.leafHi[m])];
}

function evaluateGroup(
  dims: readonly Dimension[],
  source: RowSource,
  coords: readonly Int32Array[],
  group: number[],
  out: BatchResult,
  stats?: EvalStats,
): void {
  const axes: Axis[] = [];
  for (let d = 0; d < dims.length; d++) {
    const members = new Set<number>();
    for (const i of group) members.add(coords[i][d]);
    const axis = buildAxis(dims[d], d, members, source.domains[d]);
    if (axis) axes.push(axis);
  }
  let total = 1;
  for (const a of axes) total *= a.nseg;
  if (total > GROUP_LIMIT) {
    if (group.length > 1) {
      // Split on the axis with the most segments, keeping nearby members together.
      let widest = axes[0];
      for (const a of axes) if (a.nseg > widest.nseg) widest = a;
      const dim = dims[widest.d];
      const sorted = [...group].sort((x, y) => dim.leafLo[coords[x][widest.d]] - dim.leafLo[coords[y][widest.d]]);
      const half = sorted.length >> 1;
      evaluateGroup(dims, source, coords, sorted.slice(0, half), out, stats);
      evaluateGroup(dims, source, coords, sorted.slice(half), out, stats);
    } else {
      evaluateSingle(dims, source, coords[group[0]], group[0], out, stats);
    }
    return;
  }
  // Most selective axis first, so most rows are rejected after one lookup.
  axes.sort((x, y) => x.coverage - y.coverage);
  let stride = 1;
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k];
    a.stride = stride;
    stride *= a.nseg;
    const table = new Int32Array(a.segOf.length).fill(REJECT);
    for (let m = 0; m < table.length; m++) if (a.segOf[m] >= 0) table[m] = a.segOf[m] * a.stride;
    a.table = table;
  }
  const acc = new Float64Array(total * 2);
  scan(source, axes, acc, stats);
  const ver = source.versionCount > 0 ? scanVersions(source, axes, total) : null;
  answer(dims, coords, group, axes, total, acc, ver, out);
}

/** One pass over the rows, adding each into the sum and count of its segment tuple. */
function scan(source: RowSource, axes: readonly ScanAxis[], acc: Float64Array, stats?: EvalStats): void {
  const rows = source.count;
  const values = source.values;
  const counts = source.counts;
  if (stats) {
    stats.scans++;
    stats.rowsScanned += rows;
  }
  const cols = axes.map((a) => source.cols[a.d]);
  const tables = axes.map((a) => a.table);
  if (counts === null && rows >= PARALLEL_MIN_ROWS && axes.length > 0) {
    scanParallel(rows, cols, tables, values, acc);
    return;
  }
  scanRows(0, rows, cols, tables, values, counts, acc);
}

/**
 * The scan kernel over rows [lo, hi): adds each row whose key (the sum of its members' table
 * entries) is not negative into `acc` (sum at 2 * key, count at 2 * key + 1). Self-contained (it
 * references nothing outside itself) because helper threads run its source text.
 */
function scanRows(
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

/** Leaf rows from which a scan is split over helper threads. */
const PARALLEL_MIN_ROWS = 1 << 19;
/** How long a read waits for a helper's range before running it itself (a helper that hangs). */
const HELPER_TIMEOUT_MS = 30_000;

/**
 * A helper thread running scanRows on a range of rows whose columns live in shared memory.
 * `ctrl[0]` is the job's ticket: J when job J is posted, -J once the helper took it, 0 when done
 * or cancelled; `ctrl[1]` is 1 when the helper failed. A message that arrives after its job was
 * cancelled finds another ticket and is ignored.
 */
interface Helper {
  worker: Worker;
  ctrl: Int32Array;
}

let helpers: Helper[] | null = null;
let lastTicket = 0;

/**
 * Starts the scan helper threads ahead of the first large read (they take tens of milliseconds to
 * start) when a store of `rows` leaf rows will be split over them.
 */
export function warmScanHelpers(rows: number): void {
  if (rows >= PARALLEL_MIN_ROWS) scanHelpers();
}

/** The helper threads (one fewer than the available cores, at most 3), started on first use. */
function scanHelpers(): Helper[] {
  if (helpers !== null) return helpers;
  helpers = [];
  const n = Math.min(3, Math.max(0, availableParallelism() - 1));
  const source = `const { parentPort } = require("node:worker_threads");
const scanRows = (${scanRows.toString()});
parentPort.on("message", (job) => {
  const ctrl = job.ctrl;
  if (Atomics.compareExchange(ctrl, 0, job.ticket, -job.ticket) !== job.ticket) return;
  try {
    scanRows(job.lo, job.hi, job.cols, job.tables, job.values, null, job.acc);
    Atomics.store(ctrl, 1, 0);
  } catch (err) {
    Atomics.store(ctrl, 1, 1);
  }
  Atomics.store(ctrl, 0, 0);
  Atomics.notify(ctrl, 0);
});`;
  for (let i = 0; i < n; i++) {
    try {
      const worker = new Worker(source, { eval: true });
      worker.unref();
      // A helper that fails is dropped; its jobs are then never taken and the caller runs them.
      worker.on("error", () => {
        helpers = helpers?.filter((h) => h.worker !== worker) ?? null;
      });
      helpers.push({ worker, ctrl: new Int32Array(new SharedArrayBuffer(8)) });
    } catch {
      break;
    }
  }
  return helpers;
}

/**
 * Splits a scan of leaf rows over this thread and the helpers when the columns live in shared
 * memory (LeafStore allocates large stores so): each helper sums its range into its own
 * accumulator, merged here after. A range no helper has taken when this thread is done with its
 * own is run here, so a slow or missing helper never stalls a read.
 */
function scanParallel(
  rows: number,
  cols: readonly MemberColumn[],
  tables: readonly Int32Array[],
  values: Float64Array,
  acc: Float64Array,
): void {
  const shared = values.buffer instanceof SharedArrayBuffer && cols.every((c) => c.buffer instanceof SharedArrayBuffer);
  const pool = shared ? scanHelpers() : [];
  if (pool.length === 0) {
    scanRows(0, rows, cols, tables, values, null, acc);
    return;
  }
  const parts = pool.length + 1;
  const bounds: number[] = [];
  for (let i = 0; i <= parts; i++) bounds.push(Math.floor((rows * i) / parts));
  const jobs = pool.map((h, i) => {
    const part = new Float64Array(new SharedArrayBuffer(acc.byteLength));
    lastTicket = (lastTicket % 0x3fffffff) + 1;
    const ticket = lastTicket;
    Atomics.store(h.ctrl, 1, 0);
    Atomics.store(h.ctrl, 0, ticket);
    h.worker.postMessage({ ctrl: h.ctrl, ticket, lo: bounds[i + 1], hi: bounds[i + 2], cols, tables, values, acc: part });
    return { h, ticket, part, lo: bounds[i + 1], hi: bounds[i + 2] };
  });
  scanRows(bounds[0], bounds[1], cols, tables, values, null, acc);
  for (const { h, ticket, part, lo, hi } of jobs) {
    if (Atomics.compareExchange(h.ctrl, 0, ticket, 0) === ticket) {
      // Not taken yet (the helper is busy starting or gone): run the range here.
      scanRows(lo, hi, cols, tables, values, null, acc);
      continue;
    }
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    while (Atomics.load(h.ctrl, 0) === -ticket && Date.now() < deadline) Atomics.wait(h.ctrl, 0, -ticket, 100);
    if (Atomics.load(h.ctrl, 0) === -ticket) {
      // A helper that hangs is dropped for good, so that it can never report on a later ticket.
      helpers = helpers?.filter((x) => x !== h) ?? null;
      void h.worker.terminate();
      scanRows(lo, hi, cols, tables, values, null, acc);
      continue;
    }
    if (Atomics.load(h.ctrl, 1) !== 0) {
      scanRows(lo, hi, cols, tables, values, null, acc);
      continue;
    }
    for (let k = 0; k < acc.length; k++) acc[k] += part[k];
  }
}

/** Highest version per segment tuple, from the rows with a version (few: the written ones). */
function scanVersions(source: RowSource, axes: readonly ScanAxis[], total: number): Float64Array {
  const ver = new Float64Array(total);
  for (let i = 0; i < source.versionCount; i++) {
    const r = source.versionRows[i];
    let key = 0;
    for (let k = 0; k < axes.length && key >= 0; k++) key += axes[k].table[source.cols[axes[k].d][r]];
    if (key >= 0 && source.versions[r] > ver[key]) ver[key] = source.versions[r];
  }
  return ver;
}

/** Sums each requested cell's box of segment tuples, weighting each segment into the cell's member. */
function answer(
  dims: readonly Dimension[],
  coords: readonly Int32Array[],
  group: number[],
  axes: Axis[],
  total: number,
  acc: Float64Array,
  ver: Float64Array | null,
  out: BatchResult,
): void {
  const na = axes.length;
  if (na === 0) {
    let v = 0;
    if (ver) for (let k = 0; k < ver.length; k++) if (ver[k] > v) v = ver[k];
    for (const i of group) {
      out.values[i] = acc[1] > 0 ? acc[0] : 0;
      out.counts[i] = acc[1];
      out.versions[i] = v;
    }
    return;
  }
  // First pass: each cell's box, and how much box walking the cells spanning the same axes need.
  const boxes: { lo: Int32Array; hi: Int32Array; factors: (Float64Array | null)[]; volume: number; full: string }[] = [];
  const walkCost = new Map<string, number>();
  for (const i of group) {
    const c = coords[i];
    const lo = new Int32Array(na);
    const hi = new Int32Array(na);
    const factors: (Float64Array | null)[] = new Array(na).fill(null);
    let volume = 1;
    let full = "";
    for (let k = 0; k < na; k++) {
      const a = axes[k];
      const dim = dims[a.d];
      const m = c[a.d];
      const [l, h] = rangeOf(dim, a, m);
      lo[k] = l;
      hi[k] = h;
      volume *= h - l;
      if (a.weighted) {
        const f = new Float64Array(h - l);
        for (let s = l; s < h; s++) f[s - l] = dim.relativeWeight(a.rep[s], m);
        factors[k] = f;
      }
      if (l === 0 && h === a.nseg && h > 1) full += `${k}:${a.weighted ? m : -1},`;
    }
    boxes.push({ lo, hi, factors, volume, full });
    if (full !== "" && volume > BOX_WALK_LIMIT) walkCost.set(full, (walkCost.get(full) ?? 0) + volume);
  }
  // A marginal costs about one walk over the whole accumulator; build it where the walks it saves cost more.
  const marginals = new Map<string, Marginal>();
  group.forEach((i, j) => {
    const { lo, hi, factors, full } = boxes[j];
    let res: { sum: number; count: number; ver: number };
    if (full !== "" && (walkCost.get(full) ?? 0) > 2 * total) {
      let mar = marginals.get(full);
      if (!mar) {
        mar = marginal(axes, total, acc, ver, lo, hi, factors);
        marginals.set(full, mar);
      }
      res = walkMarginal(mar, lo, hi, factors);
    } else {
      res = walkBox(axes, acc, ver, lo, hi, factors);
    }
    out.values[i] = res.count > 0 ? res.sum : 0;
    out.counts[i] = res.count;
    out.versions[i] = res.ver;
  });
}

/** Sums (weighted) and counts the slots of a box with an odometer; the last axis is the inner loop. */
function walkBox(
  axes: Axis[],
  acc: Float64Array,
  ver: Float64Array | null,
  lo: Int32Array,
  hi: Int32Array,
  factors: (Float64Array | null)[],
): { sum: number; count: number; ver: number } {
  const na = axes.length;
  const cur = Int32Array.from(lo);
  const last = na - 1;
  const fLast = factors[last];
  let sum = 0;
  let count = 0;
  let v = 0;
  for (;;) {
    let base = 0;
    let w = 1;
    for (let k = 0; k < last; k++) {
      base += cur[k] * axes[k].stride;
      const f = factors[k];
      if (f !== null) w *= f[cur[k] - lo[k]];
    }
    for (let s = lo[last]; s < hi[last]; s++) {
      const key = base + s;
      const x = acc[2 * key];
      sum += fLast === null ? x * w : x * w * fLast[s - lo[last]];
      count += acc[2 * key + 1];
      if (ver !== null && ver[key] > v) v = ver[key];
    }
    let k = last - 1;
    while (k >= 0) {
      cur[k]++;
      if (cur[k] < hi[k]) break;
      cur[k] = lo[k];
      k--;
    }
    if (k < 0) break;
  }
  return { sum, count, ver: v };
}

/** An accumulator with some full axes summed out (for cells whose boxes span those axes). */
interface Marginal {
  /** Axes kept, in order. */
  kept: number[];
  strides: Int32Array;
  acc: Float64Array;
  ver: Float64Array | null;
}

/** Sums `acc` over the axes that [lo, hi) spans fully, weighting those axes by `factors`. */
function marginal(
  axes: Axis[],
  total: number,
  acc: Float64Array,
  ver: Float64Array | null,
  lo: Int32Array,
  hi: Int32Array,
  factors: (Float64Array | null)[],
): Marginal {
  const na = axes.length;
  const kept: number[] = [];
  for (let k = 0; k < na; k++) if (!(lo[k] === 0 && hi[k] === axes[k].nseg && hi[k] > 1)) kept.push(k);
  const strides = new Int32Array(kept.length);
  let size = 1;
  for (let j = kept.length - 1; j >= 0; j--) {
    strides[j] = size;
    size *= axes[kept[j]].nseg;
  }
  // Stride of each axis in the marginal (0 for summed-out axes) and the weight of its segments.
  const mstride = new Int32Array(na);
  kept.forEach((k, j) => {
    mstride[k] = strides[j];
  });
  const wOf = axes.map((_, k) => (kept.includes(k) ? null : factors[k]));
  const out = new Float64Array(size * 2);
  const outVer = ver ? new Float64Array(size) : null;
  const digit = new Int32Array(na);
  for (let key = 0; key < total; key++) {
    let idx = 0;
    let w = 1;
    for (let k = 0; k < na; k++) {
      idx += digit[k] * mstride[k];
      const f = wOf[k];
      if (f !== null) w *= f[digit[k]];
    }
    out[2 * idx] += acc[2 * key] * w;
    out[2 * idx + 1] += acc[2 * key + 1];
    if (outVer !== null && ver![key] > outVer[idx]) outVer[idx] = ver![key];
    for (let k = na - 1; k >= 0; k--) {
      if (++digit[k] < axes[k].nseg) break;
      digit[k] = 0;
    }
  }
  return { kept, strides, acc: out, ver: outVer };
}

/** Walks a box over a marginal's kept axes. */
function walkMarginal(
  mar: Marginal,
  lo: Int32Array,
  hi: Int32Array,
  factors: (Float64Array | null)[],
): { sum: number; count: number; ver: number } {
  const kept = mar.kept;
  const nk = kept.length;
  let sum = 0;
  let count = 0;
  let v = 0;
  if (nk === 0) {
    return { sum: mar.acc[0], count: mar.acc[1], ver: mar.ver ? mar.ver[0] : 0 };
  }
  const cur = new Int32Array(nk);
  for (let j = 0; j < nk; j++) cur[j] = lo[kept[j]];
  for (;;) {
    let key = 0;
    let w = 1;
    for (let j = 0; j < nk; j++) {
      const k = kept[j];
      key += cur[j] * mar.strides[j];
      const f = factors[k];
      if (f !== null) w *= f[cur[j] - lo[k]];
    }
    sum += mar.acc[2 * key] * w;
    count += mar.acc[2 * key + 1];
    if (mar.ver !== null && mar.ver[key] > v) v = mar.ver[key];
    let j = nk - 1;
    while (j >= 0) {
      cur[j]++;
      if (cur[j] < hi[kept[j]]) break;
      cur[j] = lo[kept[j]];
      j--;
    }
    if (j < 0) break;
  }
  return { sum, count, ver: v };
}

/**
 * One cell whose segments alone exceed the accumulator limit (a weighted dimension whose leaves
 * alternate weights): a direct weighted pass over the rows.
 */
function evaluateSingle(
  dims: readonly Dimension[],
  source: RowSource,
  c: Int32Array,
  i: number,
  out: BatchResult,
  stats?: EvalStats,
): void {
  // Per dimension: weight of each domain member into the cell's member (NaN when outside it).
  const weights = dims.map((dim, d) => {
    const w = new Float64Array(dim.size).fill(Number.NaN);
    for (const x of source.domains[d]) {
      if (dim.leafLo[x] >= dim.leafLo[c[d]] && dim.leafHi[x] <= dim.leafHi[c[d]]) w[x] = dim.relativeWeight(x, c[d]);
    }
    return w;
  });
  if (stats) {
    stats.scans++;
    stats.rowsScanned += source.count;
  }
  let sum = 0;
  let count = 0;
  let ver = 0;
  for (let r = 0; r < source.count; r++) {
    let w = 1;
    for (let d = 0; d < dims.length && !Number.isNaN(w); d++) w *= weights[d][source.cols[d][r]];
    if (Number.isNaN(w)) continue;
    const v = source.values[r];
    if (source.counts !== null) {
      sum += v * w;
      count += source.counts[r];
    } else if (!Number.isNaN(v)) {
      sum += v * w;
      count++;
    }
    if (source.versions[r] > ver) ver = source.versions[r];
  }
  out.values[i] = count > 0 ? sum : 0;
  out.counts[i] = count;
  out.versions[i] = ver;
}

/** Most slots (combinations of tile members) of a tile. */
const TILE_MAX_SLOTS = 1 << 21;

/**
 * Pre-aggregated rows at coarser levels: for a depth per dimension, one row per non-empty
 * combination of "tile members" (each leaf's ancestor at that depth, or the leaf itself when it
 * is shallower), holding the sum of the leaves below weighted into the tile member, their count
 * and highest version. A RowSource for any group of cells whose members are no deeper than the
 * tile's depths; kept current by `apply` on every leaf change, so reads after writes need no pass
 * over the leaf rows.
 */
export class Tile implements RowSource {
  /** Most slots of a tile. */
  static readonly MAX_SLOTS = TILE_MAX_SLOTS;
  readonly depths: Int32Array;
  readonly domains: Int32Array[];
  count = 0;
  cols: MemberColumn[];
  values: Float64Array;
  counts: Float64Array;
  versions: Float64Array;
  versionRows: Int32Array = new Int32Array(16);
  versionCount = 0;
  /** Number of slots (combinations of tile members). */
  readonly slots: number;
  /** Last use (a counter kept by the owner), to evict the least recently used. */
  lastUsed = 0;
  /** Per dimension, slot contribution of each tile member id (its index in the domain * stride). */
  private readonly slotOf: Int32Array[];
  /** Per dimension, tile member id of each leaf member id. */
  private readonly memberOf: Int32Array[];
  /** Per weighted dimension, weight of each leaf member id into its tile member (null: unweighted). */
  private readonly weightOf: (Float64Array | null)[];
  /** Row of each slot, or -1. */
  private readonly rowOf: Int32Array;

  private constructor(dims: readonly Dimension[], depths: Int32Array, domains: Int32Array[]) {
    this.depths = depths;
    this.domains = domains;
    let slots = 1;
    const strides = new Array<number>(dims.length);
    for (let d = dims.length - 1; d >= 0; d--) {
      strides[d] = slots;
      slots *= domains[d].length;
    }
    this.slots = slots;
    this.slotOf = [];
    this.memberOf = [];
    this.weightOf = [];
    dims.forEach((dim, d) => {
      const slotOf = new Int32Array(dim.size).fill(-1);
      const memberOf = new Int32Array(dim.size).fill(-1);
      const weightOf = dim.weighted ? new Float64Array(dim.size) : null;
      for (let i = 0; i < domains[d].length; i++) slotOf[domains[d][i]] = i * strides[d];
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        let t = leaf;
        while (dim.depth[t] > depths[d]) t = dim.parent[t];
        memberOf[leaf] = t;
        if (weightOf) weightOf[leaf] = dim.relativeWeight(leaf, t);
      }
      this.slotOf.push(slotOf);
      this.memberOf.push(memberOf);
      this.weightOf.push(weightOf);
    });
    this.rowOf = new Int32Array(slots).fill(-1);
    const cap = 1024;
    this.cols = dims.map((dim) => newMemberColumn(dim.size, cap));
    this.values = new Float64Array(cap);
    this.counts = new Float64Array(cap);
    this.versions = new Float64Array(cap);
  }

  /** Tile members of a dimension at a depth: members at that depth and shallower leaves, in leaf order. */
  static domain(dim: Dimension, depth: number): Int32Array {
    const out: number[] = [];
    for (let p = 0; p < dim.leafCount; ) {
      let t = dim.leafAt[p];
      while (dim.depth[t] > depth) t = dim.parent[t];
      out.push(t);
      p = dim.leafHi[t];
    }
    return Int32Array.from(out);
  }

  /** Number of slots a tile at `depths` would have. */
  static slotCount(dims: readonly Dimension[], depths: ArrayLike<number>): number {
    let n = 1;
    for (let d = 0; d < dims.length; d++) n *= Tile.domain(dims[d], depths[d]).length;
    return n;
  }

  /**
   * Builds a tile in one pass over the leaf rows.
   * @throws Error when it would have more than TILE_MAX_SLOTS slots.
   */
  static build(dims: readonly Dimension[], store: LeafStore, depths: ArrayLike<number>, stats?: EvalStats): Tile {
    const domains = dims.map((dim, d) => Tile.domain(dim, depths[d]));
    const tile = new Tile(dims, Int32Array.from(depths), domains);
    if (tile.slots > TILE_MAX_SLOTS) throw new Error(`a tile of ${tile.slots} slots is over the limit of ${TILE_MAX_SLOTS}`);
    // Pass over the leaf rows with the fast kernel: per dimension, one key class per (tile member,
    // weight of the leaf into it), so the rows add unweighted; the classes fold into slots after.
    const axes: ScanAxis[] = [];
    const classMember: Int32Array[] = [];
    const classWeight: Float64Array[] = [];
    const classStride: number[] = [];
    let total = 1;
    dims.forEach((dim, d) => {
      if (domains[d].length === 1 && !dim.weighted) return;
      const classes = new Map<string, number>();
      const members: number[] = [];
      const weights: number[] = [];
      const ofLeaf = new Int32Array(dim.size).fill(REJECT);
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        const t = tile.memberOf[d][leaf];
        const w = tile.weightOf[d]?.[leaf] ?? 1;
        const key = `${t}|${w}`;
        let c = classes.get(key);
        if (c === undefined) {
          c = members.length;
          classes.set(key, c);
          members.push(t);
          weights.push(w);
        }
        ofLeaf[leaf] = c;
      }
      axes.push({ d, table: ofLeaf });
      classMember.push(Int32Array.from(members));
      classWeight.push(Float64Array.from(weights));
      total *= members.length;
    });
    if (total > 4 * TILE_MAX_SLOTS) throw new Error(`a tile pass of ${total} classes is over the limit`);
    let stride = 1;
    for (let k = axes.length - 1; k >= 0; k--) {
      classStride[k] = stride;
      const t = axes[k].table;
      for (let m = 0; m < t.length; m++) if (t[m] >= 0) t[m] *= stride;
      stride *= classMember[k].length;
    }
    const acc = new Float64Array(total * 2);
    scan(leafSource(dims, store), axes, acc, stats);
    const ver = store.writtenCount > 0 ? scanVersions(leafSource(dims, store), axes, total) : null;
    if (stats) stats.tileBuilds++;
    // Fold the classes into rows.
    const na = axes.length;
    const digit = new Int32Array(na);
    const coords = new Int32Array(dims.length);
    dims.forEach((_, d) => {
      coords[d] = domains[d][0];
    });
    for (let key = 0; key < total; key++) {
      const n = acc[2 * key + 1];
      const v = ver ? ver[key] : 0;
      if (n > 0 || v > 0) {
        let w = 1;
        for (let k = 0; k < na; k++) {
          coords[axes[k].d] = classMember[k][digit[k]];
          w *= classWeight[k][digit[k]];
        }
        const r = tile.rowFor(coords);
        tile.values[r] += acc[2 * key] * w;
        tile.counts[r] += n;
        if (v > tile.versions[r]) tile.setVersion(r, v);
      }
      for (let k = na - 1; k >= 0; k--) {
        if (++digit[k] < classMember[k].length) break;
        digit[k] = 0;
      }
    }
    return tile;
  }

  /** True when the tile can answer cells whose members are at most `depths` deep. */
  covers(depths: ArrayLike<number>): boolean {
    for (let d = 0; d < this.depths.length; d++) if (this.depths[d] < depths[d]) return false;
    return true;
  }

  /** Applies one leaf change (values NaN when empty), as Cube.applyChanges does to the leaf store. */
  apply(leaf: ArrayLike<number>, oldValue: number, newValue: number, version: number): void {
    let w = 1;
    const coords = new Int32Array(leaf.length);
    for (let d = 0; d < leaf.length; d++) {
      coords[d] = this.memberOf[d][leaf[d]];
      const wd = this.weightOf[d];
      if (wd) w *= wd[leaf[d]];
    }
    const r = this.rowFor(coords);
    if (!Number.isNaN(oldValue)) {
      this.values[r] -= w * oldValue;
      this.counts[r]--;
    }
    if (!Number.isNaN(newValue)) {
      this.values[r] += w * newValue;
      this.counts[r]++;
    }
    if (this.counts[r] === 0) this.values[r] = 0;
    if (version > this.versions[r]) this.setVersion(r, version);
  }

  /** Bytes held by the typed arrays. */
  byteSize(): number {
    return (
      this.cols.reduce((n, c) => n + c.byteLength, 0) +
      this.values.byteLength +
      this.counts.byteLength +
      this.versions.byteLength +
      this.versionRows.byteLength +
      this.rowOf.byteLength +
      this.slotOf.reduce((n, c) => n + c.byteLength, 0) +
      this.memberOf.reduce((n, c) => n + c.byteLength, 0)
    );
  }

  /** The row of a combination of tile members, created empty when missing. */
  private rowFor(members: Int32Array): number {
    let key = 0;
    for (let d = 0; d < members.length; d++) key += this.slotOf[d][members[d]];
    let r = this.rowOf[key];
    if (r >= 0) return r;
    if (this.count === this.values.length) this.grow();
    r = this.count++;
    for (let d = 0; d < members.length; d++) this.cols[d][r] = members[d];
    this.rowOf[key] = r;
    return r;
  }

  private setVersion(r: number, version: number): void {
    if (this.versions[r] === 0 && version !== 0) {
      if (this.versionCount === this.versionRows.length) {
        const grown = new Int32Array(this.versionRows.length * 2);
        grown.set(this.versionRows);
        this.versionRows = grown;
      }
      this.versionRows[this.versionCount++] = r;
    }
    this.versions[r] = version;
  }

  private grow(): void {
    const cap = this.values.length * 2;
    this.cols = this.cols.map((c) => {
      const n = newMemberColumn(c instanceof Int32Array ? undefined : c instanceof Uint16Array ? 0x10000 : 0x100, cap);
      n.set(c);
      return n;
    });
    for (const k of ["values", "counts", "versions"] as const) {
      const n = new Float64Array(cap);
      n.set(this[k]);
      this[k] = n;
    }
  }
}
