/**
 * Axes of a group of cells: along each dimension, the segments (runs of leaves in depth-first
 * order) that the group's members cut, and each member's range of segments.
 */
import type { Dimension } from "../dimension";
import type { ScanAxis } from "./scan-kernel";

/** One dimension along which a group of cells differs from "everything, unweighted". */
export interface Axis extends ScanAxis {
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

/** First index of the sorted array `a` whose value is not below `x` (a.length when none). */
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

/**
 * The axis of dimension `dim` (index `d`) for a group whose members there are `members`, over the
 * rows' `domain` members; null when the group spans the whole dimension unweighted (no axis needed).
 */
export function buildAxis(dim: Dimension, d: number, members: Set<number>, domain: Int32Array): Axis | null {
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
export function rangeOf(dim: Dimension, axis: Axis, m: number): [number, number] {
  return [lowerBound(axis.segStart, dim.leafLo[m]), lowerBound(axis.segStart, dim.leafHi[m])];
}
