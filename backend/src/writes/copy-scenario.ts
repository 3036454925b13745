/**
 * CopyScenario through the write pipeline: resolve the scenario members and the slice (among the
 * members the writer sees) → check rights (rights.ts: Write on the whole target slice, Read on the
 * source) → plan the leaf changes (lattice/scenario.ts) → check the target's version (conflicts.ts)
 * → commit in one transaction, all or nothing (commit.ts) → apply → publish. Runs in the cube's
 * write queue.
 */
import type { Cube, MemberFilter, ScenarioCopySpec } from "../lattice";
import type { UserRights } from "../security";
import { planScenarioCopySteps } from "../lattice";
import { dimensionOf, memberOf } from "../domain/addresses";
import { checkMembers } from "../domain/checks";
import type { ServedCube } from "../domain/cube-registry";
import { DomainError } from "../domain/errors";
import { applyColumnsNewer, catchUp } from "./apply";
import { planBoundProblem } from "./bounds";
import { commitPending } from "./commit";
import { describeCopy } from "./describe";
import { checkCopyTarget, staleLeafBelow } from "./conflicts";
import type { WriteContext } from "./context";
import { leafWriteSteps } from "./plan";
import { inTurns } from "../compute/turns";
import { checkCopyRights } from "./rights";
import type { ScenarioCopyInput, ScenarioCopyOutcome } from "./types";

/**
 * Resolves a scenario copy's members and slice, among the members the writer sees (`visible`).
 * @throws DomainError not_found for an unknown (or hidden) dimension member; invalid_argument for a
 *   factor that is not finite, a member of another dimension, a consolidated or calculated member,
 *   the same member twice, or a slice on the scenario dimension.
 */
export function resolveScenarioCopy(cube: Cube, input: ScenarioCopyInput, visible?: MemberFilter): ScenarioCopySpec {
  const sd = dimensionOf(cube, input.dimension.trim() || "Scenario", "dimension");
  const dim = cube.dims[sd];
  if (!Number.isFinite(input.factor)) throw new DomainError(`factor is ${input.factor}; it must be a finite number`, "invalid_argument");
  const member = (text: string, field: string): number => {
    if (!text.trim()) throw new DomainError(`${field} is required (a member of ${dim.name}, e.g. "Actual")`, "invalid_argument");
    const id = memberOf(cube, sd, text, field, visible);
    if (!dim.isLeaf(id)) throw new DomainError(`${field} ${dim.uniqueName(id)} is consolidated; copy between leaf members`, "invalid_argument");
    if (cube.memberFormula(sd, id)) {
      throw new DomainError(`${field} ${dim.uniqueName(id)} is calculated by a formula; copy between stored members`, "invalid_argument");
    }
    return id;
  };
  const from = member(input.from, "from");
  const to = member(input.to, "to");
  if (from === to) throw new DomainError(`from and to are both ${dim.uniqueName(from)}`, "invalid_argument");
  checkMembers(input.slice, "slice");
  const slice = new Int32Array(cube.dims.length).fill(-1);
  input.slice.forEach((text, i) => {
    const m = cube.member(text, visible);
    if ("message" in m) throw new DomainError(`slice[${i}]: ${m.message}`, "not_found");
    if (m.dim === sd) throw new DomainError(`slice[${i}] ${text} is on the scenario dimension ${dim.name}`, "invalid_argument");
    if (slice[m.dim] >= 0) throw new DomainError(`slice names two members of ${cube.dims[m.dim].name}`, "invalid_argument");
    if (cube.memberFormula(m.dim, m.id)) throw new DomainError(`slice[${i}] ${text} is a calculated member`, "invalid_argument");
    slice[m.dim] = m.id;
  });
  return { dim: sd, from, to, factor: input.factor, slice };
}

/**
 * Copies one scenario onto another (see CopyScenario in lattice.proto): the target's leaf cells in
 * the slice become the source's times the factor, and target cells with no source are cleared, in
 * one transaction with an audit record per changed leaf; all or nothing.
 * @param baseVersion the target's version the caller saw, 0 for no check.
 * @param rights the writer's rights on the cube now.
 * @throws DomainError permission_denied when the writer may not write the whole target slice or read
 *   the source (writes/rights.ts); invalid_argument when a value it would store is beyond
 *   MAX_ABS_VALUE (nothing is copied); the store's error (nothing committed).
 */
export async function copyScenario(
  ctx: WriteContext,
  served: ServedCube,
  spec: ScenarioCopySpec,
  baseVersion: number,
  user: string,
  rights: UserRights,
): Promise<ScenarioCopyOutcome> {
  const { cube } = served;
  checkCopyRights(cube, spec, rights);
  // Planned in steps: other requests are answered between them (a 10M-cell copy plans for about a second).
  const plan = await inTurns(planScenarioCopySteps(cube, spec));
  const overBound = planBoundProblem(cube, plan);
  if (overBound) throw new DomainError(`the copy would store values out of range (factor ${spec.factor}): ${overBound}`, "invalid_argument");
  const conflict = checkCopyTarget({ version: plan.targetVersion, writer: plan.targetWriter }, baseVersion);
  if (conflict) return conflict;
  if (plan.count === 0) return { status: "APPLIED", leavesChanged: 0, leavesCleared: 0, version: plan.targetVersion, txId: "" };
  const pending = await inTurns(leafWriteSteps(plan, 0));
  // The target's new cells get their (empty) store rows in steps while the commit runs, so that the
  // one-step apply below only sets values (a 10M-cell copy: seconds out of that step).
  const preparing = inTurns(cube.prepareRowsSteps(plan));
  let committed: Awaited<ReturnType<typeof commitPending>>;
  try {
    committed = await commitPending(ctx, served, user, pending, describeCopy(cube, spec));
  } finally {
    await preparing;
  }
  const { results, at, txId } = committed;
  const bad = results.findIndex((r) => !r.ok && !r.groupFailed);
  if (bad >= 0) {
    const r = results[bad];
    if (!r.ok) {
      await catchUp(ctx.store, served, [Int32Array.from(pending[bad].coords)]).catch(() => undefined);
      return { status: "CONFLICT", version: r.currentVersion, message: staleLeafBelow("copying", cube.uniqueNames(pending[bad].coords), r) };
    }
  }
  const versions = new Float64Array(plan.count);
  let version = 0;
  results.forEach((r, k) => {
    const v = r.ok ? r.version : 0;
    if (v > version) version = v;
    versions[k] = v;
  });
  applyColumnsNewer(served, { count: plan.count, coords: plan.coords, values: plan.newValues, versions, rows: plan.rows }, { user, at });
  ctx.publisher?.kick();
  return { status: "APPLIED", leavesChanged: plan.count, leavesCleared: plan.cleared, version, txId };
}
