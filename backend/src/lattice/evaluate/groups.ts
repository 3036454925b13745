/**
 * Groups of consolidated cells computed in one pass over rows each: packing cells into groups whose
 * accumulators stay small, and evaluating one group (axes, scan, boxes).
 */
import type { Dimension } from "../dimension";
import { type Axis, buildAxis } from "./axis";
import type { BatchResult, EvalStats, RowSource } from "./batch";
import { answer, evaluateSingle } from "./boxes";
import { type ScanExecutor, serialExecutor } from "./executor";
import { scan, scanVersions } from "./scan-kernel";

/**
 * Most accumulator slots of one group of cells (16 bytes a slot, 4 MB in all); larger batches are
 * split. Small accumulators stay in cache: on 10M rows, 2^18 beat 2^16, 2^20, 2^21 and 2^23.
 */
export const GROUP_LIMIT = 1 << 18;
/**
 * Key contribution of a member that no requested member covers: any key holding one is negative
 * (valid keys are below GROUP_LIMIT, and up to 31 of these still fit a 32-bit integer).
 */
export const REJECT = -(2 ** 26);

/**
 * Packs cells into groups whose accumulators stay within GROUP_LIMIT slots: cells sorted by the
 * depths of their members (similar cells share segments), added greedily while the product of
 * the dimensions' covered segment counts allows.
 * @param cells indexes into `coords`; the groups hold the same indexes.
 */
export function planGroups(dims: readonly Dimension[], coords: readonly Int32Array[], cells: number[]): number[][] {
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

/**
 * Computes one group of cells (indexes into `coords`) from `source` in one pass, writing their
 * results into `out`. A group over GROUP_LIMIT slots is split in two (or, a single cell, computed
 * by a direct weighted pass).
 */
export function evaluateGroup(
  dims: readonly Dimension[],
  source: RowSource,
  coords: readonly Int32Array[],
  group: number[],
  out: BatchResult,
  stats?: EvalStats,
  executor?: ScanExecutor,
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
      evaluateGroup(dims, source, coords, sorted.slice(0, half), out, stats, executor);
      evaluateGroup(dims, source, coords, sorted.slice(half), out, stats, executor);
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
  scan(source, axes, acc, executor ?? serialExecutor, stats);
  const ver = source.versionCount > 0 ? scanVersions(source, axes, total) : null;
  answer(dims, coords, group, axes, total, acc, ver, out);
}
