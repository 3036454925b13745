/**
 * The lattice engine: dimensions, leaf store, consolidation, member formulas and change feed. Pure:
 * it imports no transport, storage or framework code (no `node:*` module either), so it runs the
 * same in the request thread, a worker or a test. Services and adapters use the engine through this
 * module only.
 */
export { CubeFormulas, type FormulaInfo } from "./calculated";
export {
  type CellState,
  type CellWatch,
  Cube,
  type CubeOptions,
  type LeafChange,
  type LeafState,
  type RollupPolicy,
} from "./cube";
export { Dimension, escapeName, memberUniqueNames, parseMemberName } from "./dimension";
export { LeafOverlay, type OverlayChange } from "./overlay";
export {
  type BatchResult,
  type EvalStats,
  type NarrowArgs,
  type NarrowOut,
  narrowRows,
  PARALLEL_MIN_ROWS,
  REJECT,
  ROLLUP_MAX_SLOTS,
  Rollup,
  type ScanExecutor,
  scanRows,
  serialExecutor,
} from "./evaluate";
export { buildFormulaGraph, FormulaGraphError } from "./formulas";
export { type MemberColumn, SHARED_MIN_ROWS } from "./leaf-store";
export type { CellWriter, CubeDef, CubeFormula, DimensionDef, LeafCells, LeafColumns, MemberDef } from "./model";
export type { LeafPlan } from "./plan";
export { type AddressError, type AddressErrorCode, type MemberFilter, type MemberRef, Resolver } from "./resolver";
export { planScenarioCopy, planScenarioCopySteps, type ScenarioCopyPlan, type ScenarioCopySpec } from "./scenario";
export { allSteps } from "./steps";
export type { DataAction } from "./spread/methods";
export {
  type LeafWriteMasks,
  lastWrittenBelow,
  overlaps,
  planSpread,
  planSpreadSteps,
  type SpreadLimits,
  type SpreadMethodCode,
  type SpreadPlan,
  type SpreadPlanError,
  type SpreadPlanErrorCode,
  type SpreadPlanResult,
  type SpreadSpec,
} from "./spread/target";
