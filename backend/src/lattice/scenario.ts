/**
 * Scenario copy: the leaf changes that make one member of a dimension (a scenario, e.g. Plan) hold
 * another's leaf values (e.g. Actual) times a factor, optionally within a slice of the other
 * dimensions. Pure: reads the cube's leaf store, changes nothing; the caller commits the changes
 * in one transaction and applies them to the lattice.
 */
import type { Cube } from "./cube";
import type { CellWriter } from "./model";
import type { LeafPlan } from "./plan";
import { allSteps } from "./steps";

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

/** Store rows (first and last pass) or source leaves (middle pass) a copy plan works through per step. */
const COPY_STEP = 1 << 20;

/**
 * Plans a scenario copy, all at once: see {@link planScenarioCopySteps} (the same plan in steps).
 * @throws as planScenarioCopySteps.
 */
export function planScenarioCopy(cube: Cube, spec: ScenarioCopySpec): ScenarioCopyPlan {
  return allSteps(planScenarioCopySteps(cube, spec));
}

/**
 * Plans a scenario copy in steps (the generator yields after every `step` (default COPY_STEP)
 * rows or source leaves, so that a caller may let other work run in between): every source leaf in the slice
 * becomes `value * factor` at the target; every target leaf in the slice with no source value is
 * cleared. Between steps the cube may take other writes: each target leaf's value and version are
 * read together in one step (the commit's version check catches a later change), and a leaf
 * stored after the first pass is left as it is, as by a write that lands after the plan.
 * @throws Error when the members are not leaves of `dim` or are the same (a caller bug: the API
 *   checks them first).
 */
export function* planScenarioCopySteps(cube: Cube, spec: ScenarioCopySpec, step = COPY_STEP): Generator<void, ScenarioCopyPlan> {
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
  const pos = bounded.map((d) => dims[d].leafPos);
  const count = store.count;
  // The store's arrays, read again after every pause (a store that grew meanwhile has new ones).
  let cols = bounded.map((d) => store.cols[d]);
  let scol = store.cols[sd];
  let storeCols = store.cols;
  let values = store.values;
  const pause = function* (): Generator<void, void> {
    yield;
    cols = bounded.map((d) => store.cols[d]);
    scol = store.cols[sd];
    storeCols = store.cols;
    values = store.values;
  };

  // Target rows in the slice: marked, so that those not reached by a source can be cleared.
  // Every column below is a preallocated typed array: a 10M-cell copy makes no object per cell.
  const isTarget = new Uint8Array(count);
  let targetVersion = 0;
  let targetVersionRow = -1;
  let targets = 0;
  const sources = new Int32Array(count);
  let nSources = 0;
  rows: for (let r = 0; r < count; r++) {
    if (r % step === step - 1) yield* pause();
    const s = scol[r];
    if (s !== spec.from && s !== spec.to) continue;
    for (let k = 0; k < bounded.length; k++) {
      const p = pos[k][cols[k][r]];
      if (p < lo[k] || p >= hi[k]) continue rows;
    }
    if (s === spec.to) {
      isTarget[r] = 1;
      targets++;
      const v = store.versions[r];
      if (v > targetVersion) {
        targetVersion = v;
        targetVersionRow = r;
      }
    } else if (values[r] === values[r]) {
      sources[nSources++] = r;
    }
  }

  const most = nSources + targets;
  const outCoords = new Int32Array(most * nd);
  const oldValues = new Float64Array(most);
  const newValues = new Float64Array(most);
  const outRows = new Int32Array(most);
  const baseVersions = new Float64Array(most);
  let n = 0;
  const coords = new Int32Array(nd);
  for (let i = 0; i < nSources; i++) {
    if (i % step === step - 1) yield* pause();
    const r = sources[i];
    const next = values[r] * spec.factor;
    let t = -1;
    let old = Number.NaN;
    if (targets > 0) {
      for (let d = 0; d < nd; d++) coords[d] = storeCols[d][r];
      coords[sd] = spec.to;
      t = store.find(coords);
      if (t >= 0) {
        isTarget[t] = 2; // reached by a source
        old = values[t];
        if (old === next) continue;
      }
    }
    const base = n * nd;
    for (let d = 0; d < nd; d++) outCoords[base + d] = storeCols[d][r];
    outCoords[base + sd] = spec.to;
    oldValues[n] = old;
    newValues[n] = next;
    outRows[n] = t;
    baseVersions[n] = t < 0 ? 0 : store.versions[t];
    n++;
  }
  let cleared = 0;
  for (let r = 0; r < count && targets > 0; r++) {
    if (r % step === step - 1) yield* pause();
    if (isTarget[r] !== 1 || values[r] !== values[r]) continue;
    for (let d = 0; d < nd; d++) outCoords[n * nd + d] = storeCols[d][r];
    oldValues[n] = values[r];
    newValues[n] = Number.NaN;
    outRows[n] = r;
    baseVersions[n] = store.versions[r];
    n++;
    cleared++;
  }
  return {
    count: n,
    dims: nd,
    coords: outCoords.subarray(0, n * nd),
    oldValues: oldValues.subarray(0, n),
    newValues: newValues.subarray(0, n),
    baseVersions: baseVersions.subarray(0, n),
    rows: outRows.subarray(0, n),
    cleared,
    targetVersion,
    targetWriter: targetVersionRow < 0 ? null : (cube.writers.get(targetVersionRow) ?? null),
  };
}
