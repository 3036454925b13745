/**
 * Answers from an accumulator: each requested cell summed over its box of segment tuples (directly,
 * or from a marginal with full axes summed out), and the direct pass for a single cell too wide
 * for an accumulator.
 */
import type { Dimension } from "../dimension";
import { type Axis, rangeOf } from "./axis";
import type { BatchResult, EvalStats, RowSource } from "./batch";

/** A box larger than this is summed from a marginal (its full axes summed out) when that is cheaper. */
const BOX_WALK_LIMIT = 4096;

/** Sums each requested cell's box of segment tuples, weighting each segment into the cell's member. */
export function answer(
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
export function evaluateSingle(
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
