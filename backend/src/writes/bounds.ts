/**
 * The value bound of every write (common/limits.ts MAX_ABS_VALUE, |value| ≤ 1e15): the value typed,
 * each leaf value a spread would produce, each value a scenario copy would produce. Checked in the
 * plan step, before anything is committed; a write over it is REJECTED with a message naming the
 * bound, and a scenario copy over it is refused whole.
 */
import type { Cube, LeafPlan } from "../lattice";
import { VALUE_BOUND_TEXT, valueBoundProblem } from "../domain/limits";
import type { WriteInput, WriteOutcome } from "./types";

/**
 * The REJECTED outcome of a write whose typed value is beyond the bound, or null. For a spread that
 * adds or subtracts, the typed value is the amount, which is bounded too.
 */
export function typedValueRejected(w: WriteInput): WriteOutcome | null {
  const problem = valueBoundProblem(w.value);
  return problem ? { status: "REJECTED", message: problem } : null;
}

/**
 * Why a plan of leaf changes cannot be stored: the first planned leaf value beyond the bound, with
 * the leaf's unique names and how many leaves are over; or null when every value is within it.
 * Linear in the plan's size; unique names are built only for the leaf reported.
 */
export function planBoundProblem(cube: Cube, plan: LeafPlan): string | null {
  let first = -1;
  let over = 0;
  for (let k = 0; k < plan.count; k++) {
    const v = plan.newValues[k];
    if (v !== v) continue; // NaN: the leaf is cleared
    if (valueBoundProblem(v) !== null) {
      over++;
      if (first < 0) first = k;
    }
  }
  if (first < 0) return null;
  const coords = plan.coords.subarray(first * plan.dims, (first + 1) * plan.dims);
  const more = over > 1 ? `; so would ${over - 1} more ${over === 2 ? "leaf" : "leaves"}` : "";
  return `leaf (${cube.uniqueNames(coords).join(", ")}) would become ${plan.newValues[first]}, which is ${VALUE_BOUND_TEXT}${more}`;
}
