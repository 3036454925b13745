/**
 * The lattice engine: dimensions, leaf store, consolidation, member formulas and change feed. Pure:
 * it imports no transport, storage or framework code, so it runs the same in the request thread, a
 * worker or a test.
 */
export { CubeFormulas, type FormulaInfo } from "./calculated";
export { Cube, type CellState, type CellWatch, type LeafChange, type LeafState } from "./cube";
export { Dimension, escapeName, parseMemberName } from "./dimension";
export type { CellWriter, CubeDef, CubeFormula, DimensionDef, LeafCells, MemberDef } from "./model";
export type { AddressError, AddressErrorCode } from "./resolver";
export type { DataAction } from "./spread/methods";
export { lastWrittenBelow, overlaps, planSpread, type SpreadMethodCode, type SpreadPlan, type SpreadSpec } from "./spread/target";
export { planScenarioCopy, type ScenarioCopyPlan, type ScenarioCopySpec } from "./scenario";
export type { LeafPlan } from "./plan";
export type { MemberRef } from "./resolver";
