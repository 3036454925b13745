/**
 * Plan, the step that turns writes into leaf changes: a leaf write is one pending leaf write; a
 * write to a consolidated cell is spread over the leaves below it (TM1's data spreading,
 * lattice/spread/) into one all-or-nothing group; a scenario copy (copy-scenario.ts) likewise.
 */
import type { Cube, LeafPlan, SpreadMethodCode, SpreadPlan } from "../lattice";
import { allSteps, planSpreadSteps } from "../lattice";
import { inTurns } from "../compute/turns";
import type { UserRights } from "../security";
import { leafMasks, referenceRefused } from "./rights";
import type { PendingWrite } from "../store/types";
import { planBoundProblem } from "./bounds";
import type { SpreadInput, WriteInput, WriteOutcome } from "./types";

/**
 * The pending writes of planned leaf changes (a spread's or a scenario copy's columns), all in
 * `group`, each based on its leaf's version in the lattice when planned (0 for a cell not stored yet),
 * without member names (see PendingWrite.members).
 */
export function leafWrites(plan: LeafPlan, group: number): PendingWrite[] {
  return allSteps(leafWriteSteps(plan, group));
}

/** {@link leafWrites} in steps of LEAF_WRITE_STEP writes (for compute/turns.ts `inTurns`). */
export function* leafWriteSteps(plan: LeafPlan, group: number): Generator<void, PendingWrite[]> {
  const nd = plan.dims;
  const out: PendingWrite[] = new Array(plan.count);
  for (let k = 0; k < plan.count; k++) {
    // A plain array filled in place: no typed-array view per leaf (a million leaves per spread).
    const coords: number[] = new Array(nd);
    for (let d = 0; d < nd; d++) coords[d] = plan.coords[k * nd + d];
    const old = plan.oldValues[k];
    const next = plan.newValues[k];
    out[k] = {
      coords,
      oldValue: old === old ? old : null,
      newValue: next === next ? next : null,
      baseVersion: plan.baseVersions[k],
      group,
    };
    if (k % LEAF_WRITE_STEP === LEAF_WRITE_STEP - 1) yield;
  }
  return out;
}

/** Pending writes made per step of leafWriteSteps. */
const LEAF_WRITE_STEP = 1 << 16;

/** A spread as a person reads it: its TM1 code, e.g. `P+`, `LS*`, `P%~`. */
export function describeSpread(method: SpreadMethodCode, sp: SpreadInput | undefined): string {
  const action = sp?.action === "add" ? "+" : sp?.action === "subtract" ? "~" : "";
  return `${method}${action}${sp?.includeEmpty ? "*" : ""}`;
}

/**
 * Repeat `R` typed on one consolidated cell is a proportional spread of the value (with its data
 * action): the repeat's range is that one cell, which takes the value, and "with the exception of
 * functions that act on leaves, spreading to a consolidated cell means proportionally spreading to
 * all updateable leaves that have no holds applied" (IBM Planning Analytics, "Spreading to a
 * consolidated cell",
 * https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=overview-spreading-consolidated-cell).
 * Repeating into each leaf is `LR` (a function that acts on leaves). Earlier versions repeated the
 * value into each immediate child; `planSpread` still can, for callers that ask for it.
 */
export function repeatAsProportional(method: SpreadMethodCode): SpreadMethodCode {
  return method === "R" ? "P" : method;
}

/**
 * Plans the spread of a write to a consolidated cell (whose version and rights were checked): the
 * method (P unless `spread` says otherwise; C for an empty value; R as P, see
 * {@link repeatAsProportional}), its reference cell for RP and R%
 * (resolved among the members the writer sees, and readable by the writer), and the leaf changes
 * with `holds` kept, and the leaves the writer may not write held too. Returns the plan, or the
 * REJECTED outcome that says why it cannot be spread (a method that needs a value or a reference, a
 * calculated or unreadable reference, a target out of reach, too many new cells, a leaf value
 * beyond MAX_ABS_VALUE). The plan is made in steps (lattice `planSpreadSteps`, run by
 * compute/turns.ts `inTurns`), so that other users' reads are answered while a large spread is
 * planned.
 */
export async function planConsolidated(
  cube: Cube,
  coords: Int32Array,
  w: WriteInput,
  holds: readonly Int32Array[],
  maxNewCells: number,
  rights: UserRights,
): Promise<SpreadPlan | WriteOutcome> {
  const sp = w.spread;
  const method = repeatAsProportional(sp?.method ?? (w.value === null ? "C" : "P"));
  if (w.value === null && method !== "C" && method !== "P%" && method !== "R%") {
    return { status: "REJECTED", message: `spreading ${method} needs a value (an empty value clears the cell: method C)` };
  }
  let reference: Int32Array | null = null;
  if (method === "RP" || method === "R%") {
    const names = sp?.reference ?? [];
    if (names.length === 0) {
      return { status: "REJECTED", message: `spreading ${method} needs a reference cell (Spread.reference, e.g. ["[Scenario].[Actual]"])` };
    }
    reference = Int32Array.from(coords);
    for (const name of names) {
      const m = cube.member(name, rights.visible);
      if ("message" in m) return { status: "REJECTED", message: `reference: ${m.message}`, error: m };
      reference[m.dim] = m.id;
    }
    if (cube.formulaOf(reference)) {
      return { status: "REJECTED", message: "the reference cell is calculated by a formula; spread relative to stored cells" };
    }
    const refused = referenceRefused(cube, rights, reference);
    if (refused) return { status: "REJECTED", message: refused };
  }
  const spec = { method, action: sp?.action ?? "replace", includeEmpty: sp?.includeEmpty ?? false, value: w.value ?? 0, percent: sp?.percent ?? 0, reference } as const;
  const plan = await inTurns(planSpreadSteps(cube, coords, spec, holds, { maxNewCells }, leafMasks(rights)));
  const problem = plan.ok ? planBoundProblem(cube, plan) : plan.message;
  if (plan.ok && problem === null) return plan;
  return { status: "REJECTED", message: `could not spread ${describeSpread(method, sp)} into ${cube.uniqueNames(coords).join(", ")}: ${problem}` };
}

