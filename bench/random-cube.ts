/**
 * Random ragged, weighted hierarchies and a brute-force weighted sum over leaf rows, for the
 * engine's and the executors' brute-force comparison tests and verify-engine.ts.
 */
import type { DimensionDef } from "../backend/src/lattice";

/**
 * A random ragged hierarchy of `size` members under `All <name>` (levels capped at 4), each with
 * weight -1 (15%), 0.5 (about 4%, none with `unitWeights`) or 1. The same `rand` draws give the
 * same hierarchy whatever `unitWeights` says, apart from the weights.
 */
export function randomDim(name: string, rand: () => number, size: number, unitWeights = false): DimensionDef {
  const members: DimensionDef["members"] = [{ name: `All ${name}`, parent: -1, level: 0 }];
  const depth = [0];
  for (let i = 1; i < size; i++) {
    const parent = Math.floor(rand() * i);
    depth.push(depth[parent] + 1);
    const weight = rand() < 0.15 ? -1 : rand() < 0.05 && !unitWeights ? 0.5 : 1;
    members.push({ name: `${name}${i}`, parent, level: Math.min(depth[i], 4), weight });
  }
  return { name, levels: ["(All)", "L1", "L2", "L3", "L4"], hasAll: true, members };
}

/** The product of weights from `leaf` up to `ancestor` (1 for the leaf itself), or null when `ancestor` is not above it. */
export function weightTo(def: DimensionDef, leaf: number, ancestor: number): number | null {
  let w = 1;
  for (let m = leaf; m >= 0; m = def.members[m].parent) {
    if (m === ancestor) return w;
    w *= def.members[m].weight ?? 1;
  }
  return null;
}

/**
 * The weighted sum of the rows below `addr` (one member id per dimension), each row its leaf ids
 * then its value (NaN rows are empty cells, skipped); null when no non-empty row lies below.
 */
export function weightedSum(dims: readonly DimensionDef[], rows: readonly number[][], addr: ArrayLike<number>): number | null {
  const nd = dims.length;
  let sum = 0;
  let any = false;
  for (const r of rows) {
    if (Number.isNaN(r[nd])) continue;
    let w = 1;
    for (let d = 0; d < nd && !Number.isNaN(w); d++) w *= weightTo(dims[d], r[d], addr[d]) ?? Number.NaN;
    if (Number.isNaN(w)) continue;
    any = true;
    sum += w * r[nd];
  }
  return any ? sum : null;
}
