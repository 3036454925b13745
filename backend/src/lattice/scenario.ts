/**
 * Scenario copy: the leaf changes that make one member of a dimension (a scenario, e.g. Plan) hold
 * another's leaf values (e.g. Actual) times a factor, optionally within a slice of the other
 * dimensions. Pure: reads the cube's leaf store, changes nothing; the caller commits the changes
 * in one transaction and applies them to the lattice.
 */
import type { Cube } from "./cube";
import type { CellWriter } from "./model";
import type { LeafPlan } from "./plan";

/** What to copy. */
export interface ScenarioCopySpec {
  /** Index of the dimension holding the scenarios. */
  dim: number;
  /** Source and target members of that dimension (leaves, distinct). */
  from: number;
  to: number;
  /** Multiplier of every copied value (finite). */
  factor: number;
  /**
   * Per dimension, a member whose leaves bound the copy, or -1 for the whole dimension. The entry
   * of `dim` is ignored.
   */
  slice: Int32Array;
}

/**
 * The leaf changes of a copy (see LeafPlan), all at the target member. Target leaves whose value
 * already equals the source's are left out.
 */
export interface ScenarioCopyPlan extends LeafPlan {
  /** Changes that clear a target leaf (the source has no value there). */
  cleared: number;
  /** Highest version of the target's leaves in the slice before the copy (0 when never written). */
  targetVersion: number;
  /** Who wrote the leaf holding `targetVersion`, or null (never written, or version from the load). */
  targetWriter: CellWriter | null;
}

/**
 * Plans a scenario copy: every source leaf in the slice becomes `value * factor` at the target;
 * every target leaf in the slice with no source value is cleared.
 * @throws Error when the members are not leaves of `dim` or are the same (a caller bug: the API
 *   checks them first).
 */
export function planScenarioCopy(cube: Cube, spec: ScenarioCopySpec): ScenarioCopyPlan {
  const { dims, store } = cube;
  const nd = dims.length;
  const sd = spec.dim;
  const dim = dims[sd];
  if (!dim.isLeaf(spec.from) || !dim.isLeaf(spec.to) || spec.from === spec.to) {
    throw new Error(`scenario copy needs two distinct leaf members of ${dim.name}`);
  }
  const bounded: number[] = [];
  for (let d = 0; d < nd; d++) if (d !== sd && spec.slice[d] >= 0 && !dims[d].coversAll(spec.slice[d])) bounded.push(d);
  const lo = bounded.map((d) => dims[d].leafLo[spec.slice[d]]);
  const hi = bounded.map((d) => dims[d].leafHi[spec.slice[d]]);
  const cols = bounded.map((d) => store.cols[d]);
  const pos = bounded.map((d) => dims[d].leafPos);
  const scol = store.cols[sd];
  const count = store.count;
  const values = store.values;

  // Target rows in the slice: marked, so that those not reached by a source can be cleared.
  const isTarget = new Uint8Array(count);
  let targetVersion = 0;
  let targetVersionRow = -1;
  const sources: number[] = [];
  rows: for (let r = 0; r < count; r++) {
    const s = scol[r];
    if (s !== spec.from && s !== spec.to) continue;
    for (let k = 0; k < bounded.length; k++) {
      const p = pos[k][cols[k][r]];
      if (p < lo[k] || p >= hi[k]) continue rows;
    }
    if (s === spec.to) {
      isTarget[r] = 1;
      const v = store.versions[r];
      if (v > targetVersion) {
        targetVersion = v;
        targetVersionRow = r;
      }
    } else if (values[r] === values[r]) {
      sources.push(r);
    }
  }

  const outCoords: number[] = [];
  const oldValues: number[] = [];
  const newValues: number[] = [];
  const outRows: number[] = [];
  const baseVersions: number[] = [];
  const coords = new Int32Array(nd);
  for (const r of sources) {
    for (let d = 0; d < nd; d++) coords[d] = store.cols[d][r];
    coords[sd] = spec.to;
    const t = store.find(coords);
    const next = values[r] * spec.factor;
    let old = Number.NaN;
    if (t >= 0) {
      isTarget[t] = 2; // reached by a source
      old = values[t];
      if (old === next) continue;
    }
    for (let d = 0; d < nd; d++) outCoords.push(coords[d]);
    oldValues.push(old);
    newValues.push(next);
    outRows.push(t);
    baseVersions.push(t < 0 ? 0 : store.versions[t]);
  }
  let cleared = 0;
  for (let r = 0; r < count; r++) {
    if (isTarget[r] !== 1 || values[r] !== values[r]) continue;
    for (let d = 0; d < nd; d++) outCoords.push(store.cols[d][r]);
    oldValues.push(values[r]);
    newValues.push(Number.NaN);
    outRows.push(r);
    baseVersions.push(store.versions[r]);
    cleared++;
  }
  return {
    count: outRows.length,
    dims: nd,
    coords: Int32Array.from(outCoords),
    oldValues: Float64Array.from(oldValues),
    newValues: Float64Array.from(newValues),
    baseVersions: Float64Array.from(baseVersions),
    rows: Int32Array.from(outRows),
    cleared,
    targetVersion,
    targetWriter: targetVersionRow < 0 ? null : (cube.writers.get(targetVersionRow) ?? null),
  };
}
