/**
 * Spreading on a cube: turns a write to one consolidated cell into the new values of the leaf
 * cells below it, with holds, following TM1's data spreading (see `methods.ts` for the methods and
 * their sources). Pure: reads the cube's leaf store, changes nothing; the caller commits the plan
 * (one transaction) and applies it to the lattice, or drops it.
 *
 * Which leaves take part:
 * - Every stored leaf row under the target (cells holding a value, and cleared cells).
 * - TM1's `*` (LS*, LR*), and `P` or `S` over leaves whose unheld base is zero (TM1's
 *   ProportionSpreadToZeroCells: proportional becomes equal leaves; an equal spread into an empty
 *   total reaches its empty children likewise), take every leaf under the target, stored or not:
 *   the cartesian product of the target's leaves on its consolidated dimensions.
 * - `RP` and `R%` also take the leaves where the reference cell's matching leaf holds a value.
 * Leaves not stored are empty cells; writing one creates it. A plan that would create more than
 * `maxNewCells` cells is refused (`TOO_MANY_NEW_CELLS`) with the count.
 *
 * The target's immediate children (for `S` and `R`) are the combinations of the immediate
 * children of its consolidated members, one per consolidated dimension.
 */
import type { Cube } from "../cube";
import type { Dimension } from "../dimension";
import type { LeafPlan } from "../plan";
import { allSteps } from "../steps";
import type { SpreadMethodCode } from "../../../../common/spreading/codes";
import { type DataAction, type LeafMethod, type SpreadErrorCode, spreadLeaves } from "./methods";
import { rowsUnder } from "./rows-under";

/** A spread method over the leaves of a consolidated cell (TM1 codes; SL and GR are row methods); declared in common/. */
export type { SpreadMethodCode };

/** What to spread into one consolidated cell. */
export interface SpreadSpec {
  method: SpreadMethodCode;
  action: DataAction;
  /** LS and LR: TM1's `*`, every leaf including empty ones. */
  includeEmpty: boolean;
  /** P, S, LS, R, LR, RP: the amount (with the data action). */
  value: number;
  /** P% and R%: the percentage (10 = 10%). */
  percent: number;
  /** RP and R%: the reference cell, one member id per dimension. */
  reference: Int32Array | null;
}

/** Why a spread cannot be planned: the codes of `spreadLeaves`, and those of the cube. */
export type SpreadPlanErrorCode = SpreadErrorCode | "TOO_MANY_NEW_CELLS" | "BAD_REFERENCE" | "NOT_CONSOLIDATED";

/** A refused spread: nothing may change. */
export interface SpreadPlanError {
  ok: false;
  code: SpreadPlanErrorCode;
  message: string;
}

/**
 * The leaf changes of a planned spread (see LeafPlan: leaves whose value stays the same are left
 * out), with what the spread adds.
 */
export interface SpreadPlan extends LeafPlan {
  ok: true;
  /** Changed leaves that do not exist yet. */
  newCells: number;
  /** Leaves the spread considered (held ones included). */
  leaves: number;
  /** The consolidated cell's value after the spread (weighted sum of its leaves; empty = 0). */
  total: number;
  /**
   * Leaves kept as they are because `writable` (see planSpread) does not allow them, not counting
   * those a hold keeps anyway: the writer's rights acting as holds.
   */
  heldByRights: number;
}

/**
 * Which leaf cells a spread may change, per dimension: `masks[d][m]` is 1 when leaf member `m` of
 * dimension `d` may be written, and a null entry allows every member of `d`. A leaf cell may change
 * only when every dimension allows its member; the others are held. The engine knows no users: the
 * backend derives the masks from the writer's rights (security/).
 */
export type LeafWriteMasks = readonly (Uint8Array | null)[];

/** Result of {@link planSpread}. */
export type SpreadPlanResult = SpreadPlan | SpreadPlanError;

/** Limits of {@link planSpread}. */
export interface SpreadLimits {
  /** Most leaf cells a spread may create (cells that do not exist yet). */
  maxNewCells: number;
}

const fail = (code: SpreadPlanErrorCode, message: string): SpreadPlanError => ({ ok: false, code, message });

/** Per consolidated dimension of the target: its leaf range and, per leaf position, weight and child. */
interface RangeDim {
  d: number;
  lo: number;
  hi: number;
  /** Weight of the leaf at position `lo + k` into the target member. */
  weight: Float64Array;
  /** Index of the target's immediate child holding the leaf at `lo + k`. */
  child: Int32Array;
  children: number;
}

/** Leaves a plan works through between two steps (its row scan: rows-under.ts ROW_STEP). */
const LEAF_STEP = 1 << 16;

/**
 * Plans a spread of `spec` into the consolidated cell `target`, all at once: see
 * {@link planSpreadSteps} (the same plan in steps) for the parameters and the result.
 */
export function planSpread(...args: Parameters<typeof planSpreadSteps>): SpreadPlanResult {
  return allSteps(planSpreadSteps(...args));
}

/**
 * Plans a spread of `spec` into the consolidated cell `target` in steps: the generator pauses
 * (yields) after every ROW_STEP store rows of its scan (rows-under.ts) and every LEAF_STEP leaves of its other
 * passes (a few milliseconds each), so that a caller may let other work run in between
 * (compute/turns.ts `inTurns` gives the event loop a turn), and returns the plan. Between steps the
 * cube may take other writes (another instance's, applied as they arrive): each leaf's value and
 * version are read together, in one step, so the commit's version check catches a leaf that
 * changed after it was read; a leaf created under the target after the scan is left out, as it
 * would be by a write that lands after the plan. Nothing is changed.
 * @param holds held cells (leaf or consolidated), one member id per dimension each: leaves under a
 *   held cell keep their values.
 * @param writable leaves the writer may change (see LeafWriteMasks); the others are held too and
 *   counted in `heldByRights`. None: every leaf.
 * @returns the leaf changes, or an error naming why nothing can change (all leaves held, target not
 *   met within 1e-8, too many new cells, a reference of another shape); when leaves held by
 *   `writable` took part, the error says how many.
 */
export function* planSpreadSteps(
  cube: Cube,
  target: Int32Array,
  spec: SpreadSpec,
  holds: readonly Int32Array[],
  limits: SpreadLimits,
  writable?: LeafWriteMasks,
): Generator<void, SpreadPlanResult> {
  const { dims, store } = cube;
  const nd = dims.length;
  if (!cube.isConsolidated(target)) return fail("NOT_CONSOLIDATED", "the cell is a leaf cell: write its value instead of spreading");
  const ranges: RangeDim[] = [];
  const fixed: number[] = [];
  for (let d = 0; d < nd; d++) {
    const dim = dims[d];
    const m = target[d];
    if (dim.isLeaf(m)) {
      fixed.push(d);
      continue;
    }
    const lo = dim.leafLo[m];
    const hi = dim.leafHi[m];
    const weight = new Float64Array(hi - lo);
    const child = new Int32Array(hi - lo);
    const kids = dim.children[m];
    kids.forEach((c, k) => {
      for (let p = dim.leafLo[c]; p < dim.leafHi[c]; p++) child[p - lo] = k;
    });
    for (let p = lo; p < hi; p++) weight[p - lo] = dim.relativeWeight(dim.leafAt[p], m);
    ranges.push({ d, lo, hi, weight, child, children: kids.length });
  }

  // Reference (RP, R%): same leaf counts on the target's consolidated dimensions, leaves elsewhere.
  let refOffset: Int32Array | null = null;
  if (spec.method === "RP" || spec.method === "R%") {
    const ref = spec.reference;
    if (!ref) return fail("BAD_REFERENCE", `${spec.method} needs a reference cell (Spread.reference)`);
    refOffset = new Int32Array(nd);
    for (let d = 0; d < nd; d++) {
      const dim = dims[d];
      const t = target[d];
      const r = ref[d];
      if (dim.isLeaf(t)) {
        if (!dim.isLeaf(r)) {
          return fail("BAD_REFERENCE", `the reference's ${dim.uniqueName(r)} is consolidated where the target's ${dim.uniqueName(t)} is a leaf`);
        }
        continue;
      }
      const n = dim.leafHi[t] - dim.leafLo[t];
      const rn = dim.leafHi[r] - dim.leafLo[r];
      if (n !== rn) {
        return fail("BAD_REFERENCE", `the reference's ${dim.uniqueName(r)} has ${rn} leaves where the target's ${dim.uniqueName(t)} has ${n}`);
      }
      refOffset[d] = dim.leafLo[r] - dim.leafLo[t];
    }
  }

  // Stored rows under the target.
  const rowList = yield* rowsUnder(store, dims, target, ranges, fixed);
  /** Leaves: coordinates (flat) and store row (-1 = not stored). */
  let leafRows: Int32Array = rowList;
  let leafCoords = new Int32Array(rowList.length * nd);
  for (let i = 0; i < rowList.length; i++) {
    const r = rowList[i];
    for (let d = 0; d < nd; d++) leafCoords[i * nd + d] = store.cols[d][r];
    if (i % LEAF_STEP === LEAF_STEP - 1) yield;
  }

  const dense = spec.includeEmpty && (spec.method === "LS" || spec.method === "LR");
  const denseLeaves = (): SpreadPlanError | null => {
    let total = 1;
    for (const g of ranges) total *= g.hi - g.lo;
    const created = total - rowList.length;
    if (created > limits.maxNewCells) {
      return fail(
        "TOO_MANY_NEW_CELLS",
        `the spread would create ${fmtInt(created)} new leaf cells (${fmtInt(total)} leaves below the cell, ${fmtInt(rowList.length)} stored); the limit is ${fmtInt(limits.maxNewCells)}: spread into a smaller cell, or hold or narrow the target`,
      );
    }
    leafCoords = new Int32Array(total * nd);
    leafRows = new Int32Array(total);
    const pos = ranges.map((g) => g.lo);
    const coords = Int32Array.from(target);
    for (let i = 0; i < total; i++) {
      ranges.forEach((g, k) => {
        coords[g.d] = dims[g.d].leafAt[pos[k]];
      });
      leafCoords.set(coords, i * nd);
      leafRows[i] = store.find(coords);
      for (let k = ranges.length - 1; k >= 0; k--) {
        if (++pos[k] < ranges[k].hi) break;
        pos[k] = ranges[k].lo;
      }
    }
    return null;
  };
  if (dense) {
    const err = denseLeaves();
    if (err) return err;
  }

  let reference: Float64Array | null = null;
  if (refOffset && spec.reference) {
    // Add the leaves where the reference holds a value and the target has no row.
    const refRanges = ranges.map((g) => ({ ...g, lo: g.lo + refOffset![g.d], hi: g.hi + refOffset![g.d] }));
    const refRows = yield* rowsUnder(store, dims, spec.reference, refRanges, fixed);
    const rowSet = new Set<number>();
    for (let i = 0; i < rowList.length; i++) rowSet.add(rowList[i]);
    const extra: number[] = [];
    const coords = new Int32Array(nd);
    for (let i = 0; i < refRows.length; i++) {
      const r = refRows[i];
      const v = store.values[r];
      if (v !== v || v === 0) continue;
      toTarget(cube, r, target, refOffset, coords);
      const tr = store.find(coords);
      if (tr >= 0 && rowSet.has(tr)) continue;
      extra.push(...coords);
    }
    if (extra.length > 0) {
      const n0 = leafRows!.length;
      const add = extra.length / nd;
      if (add > limits.maxNewCells) {
        return fail("TOO_MANY_NEW_CELLS", `the spread would create ${fmtInt(add)} new leaf cells; the limit is ${fmtInt(limits.maxNewCells)}`);
      }
      const c2 = new Int32Array((n0 + add) * nd);
      c2.set(leafCoords!);
      c2.set(extra, n0 * nd);
      const r2 = new Int32Array(n0 + add).fill(-1);
      r2.set(leafRows!);
      leafCoords = c2;
      leafRows = r2;
    }
    const n = leafRows!.length;
    reference = new Float64Array(n);
    const rc = new Int32Array(nd);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < nd; d++) rc[d] = leafCoords![i * nd + d];
      for (const g of ranges) rc[g.d] = dims[g.d].leafAt[dims[g.d].leafPos[rc[g.d]] + refOffset[g.d]];
      for (const d of fixed) rc[d] = spec.reference[d];
      const r = store.find(rc);
      reference[i] = r < 0 ? Number.NaN : store.values[r];
    }
  }

  const method = leafMethod(spec, reference);
  const masks = writable?.some((m) => m !== null) ? writable : undefined;
  let attempt = yield* compute(cube, target, ranges, holds, masks, leafCoords!, leafRows!, method, spec.action);
  if ((spec.method === "P" || spec.method === "S") && !attempt.baseNonZero && !dense) {
    // ProportionSpreadToZeroCells: the unheld leaves hold nothing, so spread equally over every leaf.
    // S too (our reading): an equal spread into a total whose leaves are all empty gives each
    // immediate child its equal share, equally over the child's leaves, instead of failing for
    // want of stored leaves.
    const err = denseLeaves();
    if (err) return err;
    attempt = yield* compute(cube, target, ranges, holds, masks, leafCoords!, leafRows!, method, spec.action);
  }
  const res = attempt.result;
  if (!res.ok) {
    const n = attempt.heldByRights;
    const why = n > 0 ? ` (${fmtInt(n)} leaf cell${n === 1 ? " is" : "s are"} held because you may not write ${n === 1 ? "it" : "them"})` : "";
    return fail(res.code, `${res.message}${why}`);
  }

  // Keep the leaves whose value changes.
  const n = leafRows!.length;
  const oldValues = attempt.values;
  const oldVersions = attempt.versions;
  let count = 0;
  for (let i = 0; i < n; i++) if (changed(oldValues[i], res.values[i])) count++;
  yield;
  const common = { ok: true as const, count, dims: nd, newCells: 0, leaves: n, total: res.total, heldByRights: attempt.heldByRights };
  let plan: SpreadPlan;
  if (count === n) {
    // Every leaf changes (the usual spread): the gathered columns are the plan, no copy.
    plan = { ...common, coords: leafCoords!, oldValues, newValues: res.values, baseVersions: oldVersions, rows: leafRows! };
    for (let i = 0; i < n; i++) if (leafRows![i] < 0) plan.newCells++;
  } else {
    plan = {
      ...common,
      coords: new Int32Array(count * nd),
      oldValues: new Float64Array(count),
      newValues: new Float64Array(count),
      baseVersions: new Float64Array(count),
      rows: new Int32Array(count),
    };
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (!changed(oldValues[i], res.values[i])) continue;
      for (let d = 0; d < nd; d++) plan.coords[j * nd + d] = leafCoords![i * nd + d];
      plan.oldValues[j] = oldValues[i];
      plan.newValues[j] = res.values[i];
      plan.rows[j] = leafRows![i];
      plan.baseVersions[j] = oldVersions[i];
      if (leafRows![i] < 0) plan.newCells++;
      j++;
      if (j % LEAF_STEP === 0) yield;
    }
  }
  if (plan.newCells > limits.maxNewCells) {
    return fail("TOO_MANY_NEW_CELLS", `the spread would create ${fmtInt(plan.newCells)} new leaf cells; the limit is ${fmtInt(limits.maxNewCells)}`);
  }
  return plan;
}

/**
 * The store row of the most recently written leaf under `cell` (highest version), or -1 when no
 * leaf below it was written since the load. Reads only the written rows.
 */
export function lastWrittenBelow(cube: Cube, cell: ArrayLike<number>): number {
  const { store, dims } = cube;
  let best = -1;
  let bestVersion = 0;
  for (let k = 0; k < store.writtenCount; k++) {
    const r = store.writtenRows[k];
    const v = store.versions[r];
    if (v <= bestVersion) continue;
    let inside = true;
    for (let d = 0; d < dims.length && inside; d++) inside = dims[d].contains(cell[d], store.cols[d][r]);
    if (inside) {
      best = r;
      bestVersion = v;
    }
  }
  return best;
}

/** Coordinates of the target leaf matching the reference's store row `r`: back by `offset` leaf positions on consolidated dims, fixed dims from `target`. */
function toTarget(cube: Cube, r: number, target: Int32Array, offset: Int32Array, out: Int32Array): void {
  const { dims, store } = cube;
  for (let d = 0; d < dims.length; d++) {
    const dim = dims[d];
    if (dim.isLeaf(target[d])) {
      out[d] = target[d];
      continue;
    }
    out[d] = dim.leafAt[dim.leafPos[store.cols[d][r]] - offset[d]];
  }
}

function leafMethod(spec: SpreadSpec, reference: Float64Array | null): LeafMethod {
  switch (spec.method) {
    case "P":
    case "S":
    case "R":
      return { kind: spec.method, value: spec.value };
    case "LS":
    case "LR":
      return { kind: spec.method, value: spec.value, allLeaves: spec.includeEmpty };
    case "P%":
      return { kind: "P%", percent: spec.percent };
    case "RP":
      return { kind: "RP", value: spec.value, reference: reference! };
    case "R%":
      return { kind: "R%", percent: spec.percent, reference: reference! };
    case "C":
      return { kind: "C" };
  }
}

/**
 * Gathers values with their versions, weights, holds (`holds`, and leaves `masks` forbid) and
 * groups of the leaves (pausing after every LEAF_STEP leaves) and runs the method.
 */
function* compute(
  cube: Cube,
  target: Int32Array,
  ranges: readonly RangeDim[],
  holds: readonly Int32Array[],
  masks: LeafWriteMasks | undefined,
  coords: Int32Array,
  rows: Int32Array,
  method: LeafMethod,
  action: DataAction,
) {
  const { dims, store } = cube;
  const nd = dims.length;
  const n = rows.length;
  const values = new Float64Array(n);
  const versions = new Float64Array(n);
  const weights = new Float64Array(n);
  const groups = new Int32Array(n);
  const hold = new Uint8Array(n);
  // Only holds that overlap the target matter.
  const relevant = holds.filter((h) => dims.every((dim, d) => overlaps(dim, h[d], target[d])));
  let base = 0;
  let heldByRights = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    values[i] = r < 0 ? Number.NaN : store.values[r];
    versions[i] = r < 0 ? 0 : store.versions[r];
    let w = 1;
    let g = 0;
    for (const rg of ranges) {
      const dim = dims[rg.d];
      const k = dim.leafPos[coords[i * nd + rg.d]] - rg.lo;
      w *= rg.weight[k];
      g = g * rg.children + rg.child[k];
    }
    weights[i] = w;
    groups[i] = g;
    for (const h of relevant) {
      let inside = true;
      for (let d = 0; d < nd && inside; d++) inside = dims[d].contains(h[d], coords[i * nd + d]);
      if (inside) {
        hold[i] = 1;
        break;
      }
    }
    if (masks && !hold[i]) {
      for (let d = 0; d < nd; d++) {
        const mask = masks[d];
        if (mask && !mask[coords[i * nd + d]]) {
          hold[i] = 1;
          heldByRights++;
          break;
        }
      }
    }
    if (!hold[i] && w !== 0) {
      const v = values[i];
      if (v === v) base += w * v;
    }
    if (i % LEAF_STEP === LEAF_STEP - 1) yield;
  }
  const result = spreadLeaves({ values, weights, hold, groups }, method, action);
  return { result, values, versions, baseNonZero: base !== 0, heldByRights };
}

/** True when the member ranges of `a` and `b` on one dimension share a leaf. */
export function overlaps(dim: Dimension, a: number, b: number): boolean {
  return dim.leafLo[a] < dim.leafHi[b] && dim.leafLo[b] < dim.leafHi[a];
}

function changed(a: number, b: number): boolean {
  if (a !== a) return b === b;
  return a !== b;
}

function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}
