/**
 * Check, the rights part: what the writer may change, checked once per write before any version
 * check or plan (so a refused write never learns a value, a version or a writer). The rules (see
 * security/rights.ts for how a cell's right is found):
 * - A leaf cell needs Write.
 * - A consolidated cell needs Spread (Jedox's splash right: "S ... includes writing into
 *   consolidated cells and (indirectly) their children",
 *   https://knowledgebase.jedox.com/jedox/security/rights-users.htm); the leaves below it the writer
 *   may not write are held (`leafMasks`), and a spread those holds make unreachable is refused.
 * - A spread relative to a reference cell (RP, R%) needs Read on the reference.
 * - A scenario copy needs Write on every leaf of its target slice, and Read on its source slice.
 */
import type { Cube, LeafWriteMasks, ScenarioCopySpec } from "../lattice";
import { RIGHT, type Right, type UserRights } from "../security";
import { lackingRight } from "../domain/access";
import { DomainError } from "../domain/errors";
import type { WriteOutcome } from "./types";

/**
 * Refuses the writes the writer may not make (REJECTED, with the reason and nothing about the cell's
 * value): a leaf without Write, a consolidated cell without Spread. Skips writes that have an outcome.
 */
export function rejectUnwritable(cube: Cube, targets: readonly (Int32Array | null)[], outcomes: WriteOutcome[], rights: UserRights): void {
  targets.forEach((coords, i) => {
    if (!coords || outcomes[i]) return;
    const consolidated = cube.isConsolidated(coords);
    const need = consolidated ? RIGHT.spread : RIGHT.write;
    if (rights.cell(coords) >= need) return;
    const why = lackingRight(cube, rights, coords, need);
    outcomes[i] = {
      status: "REJECTED",
      message: consolidated
        ? `you may not spread into this consolidated cell: it needs the spread right, and ${why}`
        : `you may not write this cell: it needs the write right, and ${why}`,
    };
  });
}

/** Why the writer may not spread relative to `reference` (it needs Read on it), or null when it may. */
export function referenceRefused(cube: Cube, rights: UserRights, reference: Int32Array): string | null {
  if (rights.cell(reference) >= RIGHT.read) return null;
  return `you may not read the reference cell: ${lackingRight(cube, rights, reference, RIGHT.read)}`;
}

/** The leaves a spread by this writer may change, per dimension, for the spread planner (lattice planSpread). */
export function leafMasks(rights: UserRights): LeafWriteMasks {
  return rights.writeMasks();
}

/** Member `id` of dimension `d` as the writer may be told it: its unique name, or its nearest visible ancestor's. */
function named(cube: Cube, rights: UserRights, d: number, id: number): string {
  const dim = cube.dims[d];
  let m = id;
  while (m >= 0 && !rights.visible(d, m)) m = dim.parent[m];
  return m === id ? dim.uniqueName(id) : m >= 0 ? `a member below ${dim.uniqueName(m)}` : `a member of ${dim.name}`;
}

/** The first member of a slice (per dimension: the slice's member, or every top-level one) lacking `need` on some leaf, as a message; "" when none. */
function sliceLacking(cube: Cube, spec: ScenarioCopySpec, rights: UserRights, member: number, need: Right): string {
  const sd = spec.dim;
  if (rights.member(sd, member) < need) return named(cube, rights, sd, member);
  for (let d = 0; d < cube.dims.length; d++) {
    if (d === sd) continue;
    const tops = spec.slice[d] >= 0 ? [spec.slice[d]] : Array.from(cube.dims[d].roots);
    for (const top of tops) {
      const first = rights.firstLacking(d, top, need);
      if (first >= 0) return named(cube, rights, d, first);
    }
  }
  return "";
}

/**
 * Checks a scenario copy against the writer's rights: Write on every leaf of the target slice (the
 * target member, and on every other dimension the slice's member or the whole dimension), and Read
 * on every leaf of the source slice (the copy puts the source's values where the writer reads them).
 * @throws DomainError permission_denied naming the first member lacking the right.
 */
export function checkCopyRights(cube: Cube, spec: ScenarioCopySpec, rights: UserRights): void {
  const target = sliceLacking(cube, spec, rights, spec.to, RIGHT.write);
  if (target) {
    throw new DomainError(`CopyScenario needs the write right on the whole target slice; you may not write ${target} (at ${cube.dims[spec.dim].uniqueName(spec.to)})`, "permission_denied");
  }
  const source = sliceLacking(cube, spec, rights, spec.from, RIGHT.read);
  if (source) {
    throw new DomainError(`CopyScenario needs the read right on the whole source slice; you may not read ${source} (at ${cube.dims[spec.dim].uniqueName(spec.from)})`, "permission_denied");
  }
}
