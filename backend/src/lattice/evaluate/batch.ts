/**
 * Batch evaluation: the entry point of the consolidation engine (evaluateBatch), its result and
 * statistics, and the rows a group of cells is computed from.
 */
import type { Dimension } from "../dimension";
import type { LeafStore, MemberColumn } from "../leaf-store";
import { type ScanExecutor, serialExecutor } from "./executor";
import { evaluateGroup } from "./groups";
import { evaluateNarrow, splitNarrow } from "./narrow";

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


/** Statistics of evaluations, for benchmarks (no effect on results). */
export interface EvalStats {
  /** Passes over rows (leaf rows or a rollup's rows), one per group of cells. */
  scans: number;
  rowsScanned: number;
  leafLookups: number;
  /** Rollups built (each one pass over the leaf rows). */
  rollupBuilds: number;
}

/**
 * Rows a group of cells is computed from: the leaf store itself, or pre-aggregated rows whose
 * coordinates are consolidated members (a Rollup). Row `r` holds member `cols[d][r]` of dimension
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
 * (evaluateNarrow), when the cost estimate says so. Large passes over leaf rows go to `executor`
 * (which may split them over helper threads; see ScanExecutor).
 *
 * @param coords one member id per dimension for each cell, in dimension order.
 * @param source gives, per group, pre-aggregated rows to compute it from (a Rollup), or null for
 *   the leaf rows.
 * @param executor runs large passes over leaf rows; the serial kernel by default.
 */
export function evaluateBatch(
  dims: readonly Dimension[],
  store: LeafStore,
  coords: readonly Int32Array[],
  stats?: EvalStats,
  source?: (group: readonly Int32Array[]) => RowSource | null,
  executor: ScanExecutor = serialExecutor,
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
    evaluateNarrow(dims, leaves, coords, narrow, out, stats, executor);
  }
  if (broad.length === 0) return out;
  for (const group of groups) {
    let rows = source?.(group.map((i) => coords[i])) ?? leaves;
    if (rows === null) {
      leaves = leafSource(dims, store);
      rows = leaves;
    }
    evaluateGroup(dims, rows, coords, group, out, stats, executor);
  }
  return out;
}
