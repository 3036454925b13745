import type { Dimension } from "./dimension";
import type { LeafStore } from "./leaf-store";

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

/** Largest accumulator kept as dense typed arrays; larger ones use a hash map. */
const DENSE_LIMIT = 1 << 21;
/** Largest mixed-radix key; larger groups are split. */
const KEY_LIMIT = 2 ** 52;

/** Statistics of the last evaluation, for benchmarks (no effect on results). */
export interface EvalStats {
  scans: number;
  rowsScanned: number;
  leafLookups: number;
}

/**
 * Computes a batch of cells (leaf or consolidated) over a leaf store.
 *
 * Leaf cells are hash lookups. Consolidated cells are computed together in one pass over the leaf
 * rows: along each dimension the requested members cut the depth-first leaf order into segments
 * (every member covers a contiguous run of leaves), each row is added into the accumulator of its
 * segment tuple, and each requested cell is then the sum of the accumulators inside its box of
 * segments. Nested requests (a total and its children in one batch) cost no extra pass. Weighted
 * children (e.g. -1 to subtract) are applied per leaf relative to the finest requested member and
 * then from that member up to the requested one.
 *
 * @param coords one member id per dimension for each cell, in dimension order.
 */
export function evaluateBatch(
  dims: readonly Dimension[],
  store: LeafStore,
  coords: readonly Int32Array[],
  stats?: EvalStats,
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
    if (v === v) {
      out.values[i] = v;
      out.counts[i] = 1;
    }
  }
  if (consolidated.length > 0) evaluateGroup(dims, store, coords, consolidated, out, stats);
  return out;
}

/** One dimension along which a group of cells differs from "everything, unweighted". */
interface Axis {
  d: number;
  /** Segment index of each member id (only leaves matter); -1 when no requested member covers it. */
  segOf: Int32Array;
  /** Number of segments. */
  nseg: number;
  /** Per leaf member id, its weight relative to the finest requested member covering it (weighted dims only). */
  leafWeight: Float64Array | null;
  /** Finest requested member covering each segment (weighted dims only). */
  finest: Int32Array | null;
  /** Segment range [lo, hi) of each requested member. */
  range: Map<number, [number, number]>;
  /** Fraction of leaves covered, to order the scan (most selective first). */
  coverage: number;
  stride: number;
}

function buildAxis(dim: Dimension, d: number, members: Set<number>): Axis | null {
  if (members.size === 1 && !dim.weighted) {
    const only = members.values().next().value as number;
    if (dim.coversAll(only)) return null;
  }
  const bounds = new Set<number>();
  for (const m of members) {
    bounds.add(dim.leafLo[m]);
    bounds.add(dim.leafHi[m]);
  }
  const b = Array.from(bounds).sort((x, y) => x - y);
  const nseg = b.length - 1;
  const posToBound = new Map<number, number>();
  b.forEach((p, i) => posToBound.set(p, i));
  const range = new Map<number, [number, number]>();
  // Finest covering member per segment: mark by decreasing range width so narrower ones win.
  const finest = new Int32Array(nseg).fill(-1);
  // (A member with a single child has the child's range: the deeper one is the finer.)
  const byWidth = Array.from(members).sort(
    (x, y) => dim.leafHi[y] - dim.leafLo[y] - (dim.leafHi[x] - dim.leafLo[x]) || dim.depth[x] - dim.depth[y],
  );
  for (const m of byWidth) {
    const lo = posToBound.get(dim.leafLo[m])!;
    const hi = posToBound.get(dim.leafHi[m])!;
    range.set(m, [lo, hi]);
    for (let s = lo; s < hi; s++) finest[s] = m;
  }
  const segOf = new Int32Array(dim.size).fill(-1);
  let covered = 0;
  let s = 0;
  for (let p = 0; p < dim.leafCount; p++) {
    while (s < nseg && p >= b[s + 1]) s++;
    if (s < nseg && p >= b[s] && finest[s] >= 0) {
      segOf[dim.leafAt[p]] = s;
      covered++;
    }
  }
  let leafWeight: Float64Array | null = null;
  if (dim.weighted) {
    leafWeight = new Float64Array(dim.size);
    for (let p = 0; p < dim.leafCount; p++) {
      const leaf = dim.leafAt[p];
      const seg = segOf[leaf];
      if (seg >= 0) leafWeight[leaf] = dim.relativeWeight(leaf, finest[seg]);
    }
  }
  return {
    d,
    segOf,
    nseg,
    leafWeight,
    finest: dim.weighted ? finest : null,
    range,
    coverage: dim.leafCount === 0 ? 0 : covered / dim.leafCount,
    stride: 1,
  };
}

function evaluateGroup(
  dims: readonly Dimension[],
  store: LeafStore,
  coords: readonly Int32Array[],
  group: number[],
  out: BatchResult,
  stats?: EvalStats,
): void {
  const axes: Axis[] = [];
  for (let d = 0; d < dims.length; d++) {
    const members = new Set<number>();
    for (const i of group) members.add(coords[i][d]);
    const axis = buildAxis(dims[d], d, members);
    if (axis) axes.push(axis);
  }
  let total = 1;
  for (const a of axes) total *= a.nseg;
  if (total > KEY_LIMIT && group.length > 1) {
    // Split on the axis with the most segments, keeping nearby members together.
    let widest = axes[0];
    for (const a of axes) if (a.nseg > widest.nseg) widest = a;
    const dim = dims[widest.d];
    const sorted = [...group].sort((x, y) => dim.leafLo[coords[x][widest.d]] - dim.leafLo[coords[y][widest.d]]);
    const half = sorted.length >> 1;
    evaluateGroup(dims, store, coords, sorted.slice(0, half), out, stats);
    evaluateGroup(dims, store, coords, sorted.slice(half), out, stats);
    return;
  }
  // Most selective axis first, so most rows are rejected after one lookup.
  axes.sort((x, y) => x.coverage - y.coverage);
  let stride = 1;
  for (let k = axes.length - 1; k >= 0; k--) {
    axes[k].stride = stride;
    stride *= axes[k].nseg;
  }
  const acc = total <= DENSE_LIMIT ? new DenseAcc(total) : new SparseAcc();
  scan(store, axes, acc, stats);
  answer(dims, coords, group, axes, acc, out);
}

interface Acc {
  add(key: number, v: number, version: number, weight: number): void;
  get(key: number): number;
  entries(): Iterable<number>;
  size(): number;
  sum: Float64Array | number[];
  count: Float64Array | number[];
  ver: Float64Array | number[];
}

class DenseAcc implements Acc {
  sum: Float64Array;
  count: Float64Array;
  ver: Float64Array;
  private touched: Uint8Array;
  private n = 0;
  constructor(total: number) {
    this.sum = new Float64Array(total);
    this.count = new Float64Array(total);
    this.ver = new Float64Array(total);
    this.touched = new Uint8Array(total);
  }
  add(key: number, v: number, version: number, weight: number): void {
    if (this.touched[key] === 0) {
      this.touched[key] = 1;
      this.n++;
    }
    if (v === v) {
      this.sum[key] += v * weight;
      this.count[key]++;
    }
    if (version > this.ver[key]) this.ver[key] = version;
  }
  get(key: number): number {
    return this.touched[key] === 1 ? key : -1;
  }
  *entries(): Iterable<number> {
    for (let k = 0; k < this.touched.length; k++) if (this.touched[k] === 1) yield k;
  }
  size(): number {
    return this.n;
  }
}

class SparseAcc implements Acc {
  private slots = new Map<number, number>();
  private keys: number[] = [];
  sum: number[] = [];
  count: number[] = [];
  ver: number[] = [];
  add(key: number, v: number, version: number, weight: number): void {
    let s = this.slots.get(key);
    if (s === undefined) {
      s = this.keys.length;
      this.slots.set(key, s);
      this.keys.push(key);
      this.sum.push(0);
      this.count.push(0);
      this.ver.push(0);
    }
    if (v === v) {
      this.sum[s] += v * weight;
      this.count[s]++;
    }
    if (version > this.ver[s]) this.ver[s] = version;
  }
  get(key: number): number {
    return this.slots.get(key) ?? -1;
  }
  /** Keys of the entries; an entry's slot is `get(key)`. */
  entries(): Iterable<number> {
    return this.keys;
  }
  size(): number {
    return this.keys.length;
  }
}

/** One pass over the leaf rows, adding each into its segment tuple. */
function scan(store: LeafStore, axes: Axis[], acc: Acc, stats?: EvalStats): void {
  const rows = store.count;
  const values = store.values;
  const versions = store.versions;
  const na = axes.length;
  const cols = axes.map((a) => store.cols[a.d]);
  const segs = axes.map((a) => a.segOf);
  const strides = axes.map((a) => a.stride);
  const weights = axes.map((a) => a.leafWeight);
  const weighted = weights.some((w) => w !== null);
  if (stats) {
    stats.scans++;
    stats.rowsScanned += rows;
  }
  if (na === 0) {
    for (let r = 0; r < rows; r++) acc.add(0, values[r], versions[r], 1);
    return;
  }
  const col0 = cols[0];
  const seg0 = segs[0];
  const stride0 = strides[0];
  const dense = acc instanceof DenseAcc ? acc : null;
  rows: for (let r = 0; r < rows; r++) {
    const s0 = seg0[col0[r]];
    if (s0 < 0) continue;
    let key = s0 * stride0;
    for (let k = 1; k < na; k++) {
      const s = segs[k][cols[k][r]];
      if (s < 0) continue rows;
      key += s * strides[k];
    }
    let w = 1;
    if (weighted) {
      for (let k = 0; k < na; k++) {
        const lw = weights[k];
        if (lw !== null) w *= lw[cols[k][r]];
      }
    }
    if (dense !== null) dense.add(key, values[r], versions[r], w);
    else acc.add(key, values[r], versions[r], w);
  }
}

/** Sums each requested cell's box of segment tuples. */
function answer(
  dims: readonly Dimension[],
  coords: readonly Int32Array[],
  group: number[],
  axes: Axis[],
  acc: Acc,
  out: BatchResult,
): void {
  const na = axes.length;
  const lo = new Int32Array(na);
  const hi = new Int32Array(na);
  const cur = new Int32Array(na);
  // Weight from the finest requested member of segment s up to requested member m, per axis.
  const factor = (k: number, s: number, m: number): number => {
    const a = axes[k];
    return a.finest === null ? 1 : dims[a.d].relativeWeight(a.finest[s], m);
  };
  for (const i of group) {
    const c = coords[i];
    let volume = 1;
    for (let k = 0; k < na; k++) {
      const r = axes[k].range.get(c[axes[k].d])!;
      lo[k] = r[0];
      hi[k] = r[1];
      volume *= r[1] - r[0];
    }
    let sum = 0;
    let count = 0;
    let ver = 0;
    const visit = (slot: number, digits: Int32Array): void => {
      let w = 1;
      for (let k = 0; k < na; k++) {
        if (axes[k].finest !== null) w *= factor(k, digits[k], c[axes[k].d]);
      }
      sum += acc.sum[slot] * w;
      count += acc.count[slot];
      if (acc.ver[slot] > ver) ver = acc.ver[slot];
    };
    if (volume <= acc.size()) {
      // Walk the box with an odometer.
      for (let k = 0; k < na; k++) cur[k] = lo[k];
      for (;;) {
        let key = 0;
        for (let k = 0; k < na; k++) key += cur[k] * axes[k].stride;
        const slot = acc.get(key);
        if (slot >= 0) visit(slot, cur);
        let k = na - 1;
        while (k >= 0) {
          cur[k]++;
          if (cur[k] < hi[k]) break;
          cur[k] = lo[k];
          k--;
        }
        if (k < 0) break;
      }
    } else {
      // Fewer occupied tuples than the box holds: test each one.
      for (const key of acc.entries()) {
        let ok = true;
        let rest = key;
        for (let k = 0; k < na; k++) {
          const digit = Math.floor(rest / axes[k].stride);
          rest -= digit * axes[k].stride;
          cur[k] = digit;
          if (digit < lo[k] || digit >= hi[k]) {
            ok = false;
            break;
          }
        }
        if (ok) visit(acc.get(key), cur);
      }
    }
    out.values[i] = count > 0 ? sum : 0;
    out.counts[i] = count;
    out.versions[i] = ver;
  }
}
