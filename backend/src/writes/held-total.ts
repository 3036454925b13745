/**
 * TM1's consolidation hold under a leaf write: a leaf written below a held consolidated cell moves
 * its unheld sibling leaves so that the held total stays as it is.
 *
 * Source: IBM Planning Analytics, "Data spreading and hold syntax reference table" (`HC` "holds
 * all consolidated cells": the consolidation keeps its value while the cells below it change,
 * https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table),
 * and "Spreading to a consolidated cell" (the change goes to the updateable leaves without a hold,
 * in proportion to their values,
 * https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=overview-spreading-consolidated-cell).
 * The offset is therefore a proportional spread of the opposite of the leaf's change into the held
 * consolidation, with the written leaf (and every other hold) held.
 *
 * Our choices, where IBM's pages say nothing:
 * - Siblings that are all held, zero or empty: the write is REJECTED (the total cannot be kept).
 *   ProportionSpreadToZeroCells is not applied to the offset: a leaf write should not fill every
 *   empty cell beside it with a negative share.
 * - Held consolidations above the leaf that nest: the innermost is kept by the offset, and so are
 *   the ones around it (their leaves outside it do not move). Held consolidations that do not nest
 *   (e.g. a quarter held on one dimension, a region on another) cannot all be kept by one
 *   proportional offset: the write is REJECTED with the reason.
 * - Several leaves of one request below the same held consolidation are offset together: their
 *   changes add up, they are all held in the offset, and they apply all or none with it.
 */
import type { Cube, SpreadPlan } from "../lattice";
import { planSpread } from "../lattice";
import type { UserRights } from "../security";
import { planBoundProblem } from "./bounds";
import { leafMasks } from "./rights";
import type { WriteOutcome } from "./types";

/** True when every leaf under `inner` lies under `outer` (both cells, one member id per dimension). */
function within(cube: Cube, inner: ArrayLike<number>, outer: ArrayLike<number>): boolean {
  return cube.dims.every((dim, d) => dim.leafLo[inner[d]] >= dim.leafLo[outer[d]] && dim.leafHi[inner[d]] <= dim.leafHi[outer[d]]);
}

/** True when the leaf cell `leaf` lies under the cell `cell`. */
function under(cube: Cube, leaf: ArrayLike<number>, cell: ArrayLike<number>): boolean {
  return cube.dims.every((dim, d) => dim.contains(cell[d], leaf[d]));
}

/**
 * The held consolidated cell whose total a write to `leaf` must keep: the innermost of the held
 * consolidations above it. Returns null when none is held, or the REJECTED outcome when they do
 * not nest.
 */
export function heldTotalAbove(cube: Cube, leaf: Int32Array, holds: readonly Int32Array[]): Int32Array | null | WriteOutcome {
  const above = holds.filter((h) => cube.isConsolidated(h) && under(cube, leaf, h));
  if (above.length === 0) return null;
  const inner = above.find((h) => above.every((o) => within(cube, h, o)));
  if (inner) return inner;
  return {
    status: "REJECTED",
    message: `${cube.uniqueNames(leaf).join(", ")} lies under held consolidated cells that do not nest (${above.map((h) => cube.uniqueNames(h).join(", ")).join("; ")}): their totals cannot all be kept; release one of the holds (RC)`,
  };
}

/**
 * Why an offset plan is refused for want of a base: a proportional spread changes only leaves
 * holding a value unless those are all zero or empty (ProportionSpreadToZeroCells), which the
 * offset does not do (see the module comment).
 */
function zeroBase(plan: SpreadPlan): string | null {
  for (let k = 0; k < plan.count; k++) {
    const old = plan.oldValues[k];
    if (old !== old || old === 0) return "its other unheld leaves are all zero or empty: nothing to take the change in proportion";
  }
  return null;
}

/** One leaf written below a held total: its cell, and its value before and after. */
export interface HeldTotalLeaf {
  coords: Int32Array;
  oldValue: number | null;
  newValue: number | null;
}

/**
 * Plans the offset that keeps the held consolidated cell `total` as it is when the leaves `written`
 * below it change (see the module comment): a proportional spread of their weighted change, taken
 * away from the other unheld leaves below `total` (the written leaves are held in it).
 * @returns the sibling changes (the written leaves are not in the plan), or the REJECTED outcome
 *   that says why the total cannot be kept (no unheld sibling, a sibling beyond MAX_ABS_VALUE, …).
 */
export function planHeldTotalOffset(
  cube: Cube,
  written: readonly HeldTotalLeaf[],
  total: Int32Array,
  holds: readonly Int32Array[],
  maxNewCells: number,
  rights: UserRights,
): SpreadPlan | WriteOutcome {
  let change = 0;
  for (const leaf of written) {
    let weight = 1;
    cube.dims.forEach((dim, d) => {
      weight *= dim.relativeWeight(leaf.coords[d], total[d]);
    });
    change += weight * ((leaf.newValue ?? 0) - (leaf.oldValue ?? 0));
  }
  const others = holds.filter((h) => !(cube.isConsolidated(h) && within(cube, total, h)));
  const plan = planSpread(
    cube,
    total,
    { method: "P", action: "subtract", includeEmpty: false, value: change, percent: 0, reference: null },
    [...others, ...written.map((l) => l.coords)],
    { maxNewCells },
    leafMasks(rights),
  );
  const problem = plan.ok ? (zeroBase(plan) ?? planBoundProblem(cube, plan)) : plan.message;
  if (plan.ok && problem === null) return plan;
  const names = written.map((l) => cube.uniqueNames(l.coords).join(", ")).join("; ");
  return {
    status: "REJECTED",
    message: `${cube.uniqueNames(total).join(", ")} is held (a consolidation hold): writing ${names} must move its other leaves to keep that total, and cannot: ${problem}`,
  };
}
