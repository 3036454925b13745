/**
 * The consolidation engine: a batch of cells (leaf or consolidated) computed over a leaf store, in
 * groups scanned once each, from the leaf rows or from rollups (pre-aggregated rows).
 */
export { type BatchResult, type EvalStats, evaluateBatch, leafSource, type RowSource } from "./batch";
export { PARALLEL_MIN_ROWS, type ScanExecutor, serialExecutor } from "./executor";
export { ROLLUP_MAX_SLOTS, Rollup } from "./rollup";
export { type NarrowArgs, type NarrowOut, narrowRows } from "./narrow-kernel";
export { REJECT } from "./groups";
export { scanRows } from "./scan-kernel";
