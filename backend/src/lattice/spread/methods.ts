/**
 * Pure core of TM1-style data spreading: given the leaf cells under one consolidated target, compute
 * their new values. No cube access, no I/O: the caller gathers the leaves (depth-first leaf order of
 * the target, see `Dimension.leafLo/leafHi/leafAt`), their weights relative to the target and a
 * hold mask, calls {@link spreadLeaves}, and writes the result back or rolls back on error.
 *
 * Sources (IBM Planning Analytics 2.x documentation):
 * - "Data spreading and hold syntax reference table"
 *   https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table
 * - "Spreading to a consolidated cell" (hold handling)
 *   https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=overview-spreading-consolidated-cell
 * - "ProportionSpreadToZeroCells" (P falls back to LS* when the leaves are all zero)
 *   https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=parameters-proportionspreadtozerocells
 * - "Equal leaves data spreading method", "Repeat leaves data spreading method", "Percent change",
 *   "Relative proportional data spreading method", "Relative percent adjustment",
 *   "Straight line data spreading method".
 *
 * Conventions:
 * - `NaN` is an empty cell. It counts as 0 in every sum; a method that leaves a cell's value at 0
 *   because it was empty (proportional share of an empty leaf, percent change of an empty leaf)
 *   keeps it `NaN`.
 * - A leaf is *writable* when it is not held (`hold[i] === 0`) and its weight is not 0 (a weight-0
 *   leaf cannot move the target, so it is never written).
 * - The target is met when `|achieved - wanted| <= TARGET_TOLERANCE * max(1, |wanted|)`: absolute
 *   1e-8 for targets below 1 in magnitude, relative 1e-8 above.
 */

import type { DataAction } from "../../../../common/spreading/codes";
import type { SpreadCode } from "../../../../common/spreading/parse";

/** How the spread amount combines with the existing leaf values (TM1 data action: none, `+`, `~`); declared in common/. */
export type { DataAction };

/**
 * A spreading method over the leaves of one consolidated target, with its arguments. Codes follow
 * the IBM "Data spreading and hold syntax reference table".
 */
export type LeafMethod =
  /** Proportional Spread `P`: in proportion to the current (unheld) leaf values. */
  | { kind: "P"; value: number }
  /** Equal Spread `S`: equally over the target's immediate children (`groups`), proportionally inside each. */
  | { kind: "S"; value: number }
  /** Equal Leaves Spread `LS`: equally over the leaves; `allLeaves` is TM1's `*` (include empty/zero leaves). */
  | { kind: "LS"; value: number; allLeaves: boolean }
  /** Repeat `R`: the value repeated into each immediate child (`groups`), spread proportionally inside each. */
  | { kind: "R"; value: number }
  /** Repeat Leaves `LR`: the value copied to each leaf; `allLeaves` is TM1's `*`. */
  | { kind: "LR"; value: number; allLeaves: boolean }
  /** Percent Change `P%`: each leaf's product `value * percent / 100` replaces, is added or subtracted. */
  | { kind: "P%"; percent: number }
  /** Clear `C`: empties every unheld leaf. */
  | { kind: "C" }
  /** Relative Proportional Spread `RP`: in proportion to a reference slice's leaves (same order). */
  | { kind: "RP"; value: number; reference: Float64Array }
  /** Relative Percent Adjustment `R%`: each leaf gets `reference * (1 + percent / 100)`. */
  | { kind: "R%"; percent: number; reference: Float64Array };

/** Why a spread could not be applied; the caller rolls back. */
export type SpreadErrorCode =
  | "NO_LEAVES"
  | "LENGTH_MISMATCH"
  | "BAD_ARGUMENT"
  | "ALL_HELD"
  | "NO_ELIGIBLE_LEAVES"
  | "REFERENCE_ZERO"
  | "TARGET_NOT_MET";

/** A failed spread: a code and a message naming the reason. */
export interface SpreadError {
  ok: false;
  code: SpreadErrorCode;
  message: string;
}

/** A successful spread: the new value of every leaf (held leaves unchanged) and their weighted sum. */
export interface SpreadOk {
  ok: true;
  values: Float64Array;
  /** Weighted sum of `values` (empty = 0): the target's new value. */
  total: number;
}

/** Result of {@link spreadLeaves}. */
export type SpreadResult = SpreadOk | SpreadError;

/** Input of {@link spreadLeaves}: the leaves under the target, in one order shared by every array. */
export interface LeafSpreadInput {
  /** Current leaf values (`NaN` = empty). Not modified. */
  values: Float64Array;
  /** Weight of each leaf into the target (product of the weights on the path; usually 1 or -1). */
  weights: Float64Array;
  /**
   * 1 where the leaf must keep its value: a leaf hold, or the leaf lies under a held consolidated
   * cell (the caller expands consolidation holds into this mask). Omitted = nothing held.
   */
  hold?: Uint8Array;
  /** Immediate child of the target each leaf lies under (0-based), for `S` and `R`. Omitted = one child per leaf. */
  groups?: Int32Array;
}

/** Tolerance of the target check; see the module comment for how it is applied. */
export const TARGET_TOLERANCE = 1e-8;

const fail = (code: SpreadErrorCode, message: string): SpreadError => ({ ok: false, code, message });

const num = (v: number): number => (Number.isNaN(v) ? 0 : v);

/** Weighted sum of leaf values with empty cells as 0. */
export function weightedTotal(values: Float64Array, weights: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += weights[i] * num(values[i]);
  return s;
}

/** True when `achieved` meets `wanted` within {@link TARGET_TOLERANCE} (absolute below 1, relative above). */
export function targetMet(achieved: number, wanted: number): boolean {
  return Math.abs(achieved - wanted) <= TARGET_TOLERANCE * Math.max(1, Math.abs(wanted));
}

/**
 * Distributes `amount` (a weighted contribution) over the leaves `idx`, in proportion to `base`;
 * when the weighted base is 0, equally (IBM "ProportionSpreadToZeroCells": `P` becomes `LS*`).
 * Returns the per-leaf shares (index-aligned with `idx`) or an error when the weights cancel.
 */
function proportionalShares(
  amount: number,
  idx: number[],
  base: Float64Array,
  weights: Float64Array,
  fallbackEqual: boolean,
  what: string,
): Float64Array | SpreadError {
  const out = new Float64Array(idx.length);
  let b = 0;
  for (const i of idx) b += weights[i] * num(base[i]);
  if (b !== 0) {
    const k = amount / b;
    idx.forEach((i, j) => {
      out[j] = num(base[i]) * k;
    });
    return out;
  }
  if (!fallbackEqual) return fail("REFERENCE_ZERO", `${what}: the reference leaves sum to zero, nothing to be proportional to`);
  return equalShares(amount, idx, weights, what);
}

/** Equal shares of `amount` over `idx`: each leaf gets `amount / sum(weights)`. */
function equalShares(amount: number, idx: number[], weights: Float64Array, what: string): Float64Array | SpreadError {
  let w = 0;
  for (const i of idx) w += weights[i];
  if (w === 0) {
    return fail("TARGET_NOT_MET", `${what}: the weights of the ${idx.length} writable leaves cancel out (sum 0), no equal value reaches the target`);
  }
  return new Float64Array(idx.length).fill(amount / w);
}

/**
 * Computes the new leaf values of a spread from a consolidated target (IBM Planning Analytics data
 * spreading; see the module comment for sources).
 *
 * Targeted methods (`P`, `S`, `LS`, `RP`) meet a target `T`: with data action replace `T = value`,
 * with add `T = current total + value`, with subtract `T = current total - value`. Following IBM's
 * "Spreading to a consolidated cell" procedure, the held leaves' weighted sum `H` is taken out first
 * and `T - H` (replace) or the value itself (add/subtract, as a delta added to / subtracted from the
 * existing leaf values) is spread over the writable leaves. The result is checked against `T`.
 *
 * - `P`: shares proportional to the current writable values; when they sum (weighted) to 0, equal
 *   over all writable leaves (`LS*`). Empty leaves stay empty unless the fallback applies.
 * - `S`: `groups` gives each leaf's immediate child. The amount is split equally between the children
 *   that have a writable leaf (each child's weighted contribution gets the same share), then
 *   proportionally inside each child (equal inside a child whose leaves are all zero).
 * - `LS`: equal over the writable leaves (only those holding a non-zero value unless `allLeaves`).
 * - `R`: every child that has a writable leaf gets the value as its own weighted contribution (replace:
 *   the child's held leaves count towards it) or gets the value added/subtracted, spread
 *   proportionally inside the child (equally when its writable leaves are all zero). The target's
 *   new total is whatever results (no target check); without `groups` every leaf is its own child.
 * - `LR`: every writable leaf (non-zero only unless `allLeaves`) is set to / increased by / decreased by the value.
 * - `P%`: product `v * percent / 100` of each writable leaf replaces, is added to or subtracted from `v`.
 * - `C`: writable leaves become empty (data actions do not apply).
 * - `RP`: like `P` with the proportions of `reference` (no fall-back: `REFERENCE_ZERO`).
 * - `R%`: product `reference * (1 + percent / 100)` replaces, is added to or subtracted from each writable leaf.
 *
 * @returns the new values (a fresh array) and their weighted total, or an error; never throws.
 */
export function spreadLeaves(input: LeafSpreadInput, method: LeafMethod, action: DataAction = "replace"): SpreadResult {
  const { values, weights, hold, groups } = input;
  const n = values.length;
  if (n === 0) return fail("NO_LEAVES", "the target has no leaves to spread to");
  if (weights.length !== n) return fail("LENGTH_MISMATCH", `weights has ${weights.length} entries, values has ${n}`);
  if (hold && hold.length !== n) return fail("LENGTH_MISMATCH", `hold has ${hold.length} entries, values has ${n}`);
  if (groups && groups.length !== n) return fail("LENGTH_MISMATCH", `groups has ${groups.length} entries, values has ${n}`);
  if ((method.kind === "RP" || method.kind === "R%") && method.reference.length !== n) {
    return fail("LENGTH_MISMATCH", `reference has ${method.reference.length} entries, values has ${n}`);
  }
  const arg = method.kind === "C" ? 0 : method.kind === "P%" || method.kind === "R%" ? method.percent : method.value;
  if (!Number.isFinite(arg)) return fail("BAD_ARGUMENT", `${method.kind}: argument ${arg} is not a finite number`);

  const writable: number[] = [];
  for (let i = 0; i < n; i++) if (!hold?.[i] && weights[i] !== 0) writable.push(i);
  if (writable.length === 0) {
    return fail("ALL_HELD", `${method.kind}: all ${n} leaves are held (or have weight 0), nothing can change`);
  }

  const out = Float64Array.from(values);
  const current = weightedTotal(values, weights);
  let held = 0;
  for (let i = 0; i < n; i++) if (hold?.[i] || weights[i] === 0) held += weights[i] * num(values[i]);
  const sign = action === "subtract" ? -1 : 1;
  /** Writes shares (aligned with idx) as new values (replace) or as deltas (add/subtract). */
  const apply = (idx: number[], shares: Float64Array, keepEmpty: boolean) => {
    idx.forEach((i, j) => {
      const s = shares[j];
      if (action === "replace") out[i] = keepEmpty && Number.isNaN(values[i]) && s === 0 ? Number.NaN : s;
      else out[i] = keepEmpty && Number.isNaN(values[i]) && s === 0 ? Number.NaN : num(values[i]) + sign * s;
    });
  };
  // Targeted methods: amount to place on the writable leaves, and the target to verify.
  const target = action === "replace" ? arg : current + sign * arg;
  const amount = action === "replace" ? arg - held : arg;

  switch (method.kind) {
    case "P": {
      const shares = proportionalShares(amount, writable, values, weights, true, "P");
      if (!(shares instanceof Float64Array)) return shares;
      apply(writable, shares, true);
      return finish(out, weights, target, "P");
    }
    case "RP": {
      const shares = proportionalShares(amount, writable, method.reference, weights, false, "RP");
      if (!(shares instanceof Float64Array)) return shares;
      apply(writable, shares, true);
      return finish(out, weights, target, "RP");
    }
    case "LS": {
      const idx = method.allLeaves ? writable : writable.filter((i) => num(values[i]) !== 0);
      if (idx.length === 0) {
        return fail("NO_ELIGIBLE_LEAVES", "LS: no writable leaf holds a non-zero value; use LS* to spread to empty leaves");
      }
      // Leaves left out hold 0, so the eligible ones take the whole amount.
      const shares = equalShares(amount, idx, weights, "LS");
      if (!(shares instanceof Float64Array)) return shares;
      apply(idx, shares, false);
      return finish(out, weights, target, "LS");
    }
    case "S":
    case "R": {
      const byChild = new Map<number, number[]>();
      for (const i of writable) {
        const g = groups ? groups[i] : i;
        const list = byChild.get(g);
        if (list) list.push(i);
        else byChild.set(g, [i]);
      }
      const m = byChild.size;
      // R replace: each child's own held leaves already contribute part of the repeated value.
      const heldIn = new Map<number, number>();
      if (method.kind === "R" && action === "replace") {
        for (let i = 0; i < n; i++) {
          if (hold?.[i] || weights[i] === 0) {
            const g = groups ? groups[i] : i;
            heldIn.set(g, (heldIn.get(g) ?? 0) + weights[i] * num(values[i]));
          }
        }
      }
      for (const [g, idx] of byChild) {
        const per = method.kind === "S" ? amount / m : arg - (heldIn.get(g) ?? 0);
        const shares = proportionalShares(per, idx, values, weights, true, `${method.kind} child ${g}`);
        if (!(shares instanceof Float64Array)) return shares;
        apply(idx, shares, true);
      }
      if (method.kind === "S") return finish(out, weights, target, "S");
      return { ok: true, values: out, total: weightedTotal(out, weights) };
    }
    case "LR": {
      const idx = method.allLeaves ? writable : writable.filter((i) => num(values[i]) !== 0);
      if (idx.length === 0) {
        return fail("NO_ELIGIBLE_LEAVES", "LR: no writable leaf holds a non-zero value; use LR* to copy to empty leaves");
      }
      apply(idx, new Float64Array(idx.length).fill(arg), false);
      return { ok: true, values: out, total: weightedTotal(out, weights) };
    }
    case "P%": {
      apply(writable, Float64Array.from(writable, (i) => (num(values[i]) * arg) / 100), true);
      return { ok: true, values: out, total: weightedTotal(out, weights) };
    }
    case "R%": {
      const ref = method.reference;
      apply(writable, Float64Array.from(writable, (i) => num(ref[i]) * (1 + arg / 100)), true);
      return { ok: true, values: out, total: weightedTotal(out, weights) };
    }
    case "C": {
      for (const i of writable) out[i] = Number.NaN;
      return { ok: true, values: out, total: weightedTotal(out, weights) };
    }
  }
}

/** Checks the achieved total against the target (see {@link targetMet}). */
function finish(out: Float64Array, weights: Float64Array, target: number, what: string): SpreadResult {
  const total = weightedTotal(out, weights);
  if (!Number.isFinite(total) || !targetMet(total, target)) {
    return fail("TARGET_NOT_MET", `${what}: leaves sum to ${total}, target ${target} (tolerance ${TARGET_TOLERANCE})`);
  }
  return { ok: true, values: out, total };
}

/**
 * Combines a row method's computed values (from `straightLine` or `growth` in common/spreading/line.ts, or a repeated
 * value for a row `R`) with the row's current values under a data action; held cells keep their
 * values (their computed value is skipped, the sequence is not shifted).
 * @returns a fresh array, or `LENGTH_MISMATCH` / `ALL_HELD`.
 */
export function applyRow(
  current: Float64Array,
  computed: Float64Array,
  action: DataAction = "replace",
  hold?: Uint8Array,
): Float64Array | SpreadError {
  const n = current.length;
  if (computed.length !== n || (hold && hold.length !== n)) {
    return fail("LENGTH_MISMATCH", `row has ${n} cells, computed ${computed.length}${hold ? `, hold ${hold.length}` : ""}`);
  }
  const out = Float64Array.from(current);
  let changed = 0;
  for (let k = 0; k < n; k++) {
    if (hold?.[k]) continue;
    changed++;
    out[k] = action === "replace" ? computed[k] : num(current[k]) + (action === "add" ? 1 : -1) * computed[k];
  }
  if (n > 0 && changed === 0) return fail("ALL_HELD", `all ${n} cells of the row are held`);
  return out;
}

/**
 * Turns a parsed code into the {@link LeafMethod} and data action of a spread from a consolidated
 * cell. `RP` and `R%` need the reference slice's leaf values. Row methods (`SL`, `GR`) and holds are
 * not leaf spreads: they return `BAD_ARGUMENT` (use `straightLine` / `growth` / `applyRow`).
 */
export function toLeafMethod(code: SpreadCode, reference?: Float64Array): { method: LeafMethod; action: DataAction } | SpreadError {
  const bad = (message: string): SpreadError => ({ ok: false, code: "BAD_ARGUMENT", message });
  switch (code.kind) {
    case "P":
    case "S":
    case "R":
      return { method: { kind: code.kind, value: code.value }, action: code.action };
    case "LS":
    case "LR":
      return { method: { kind: code.kind, value: code.value, allLeaves: code.allLeaves }, action: code.action };
    case "P%":
      return { method: { kind: "P%", percent: code.percent }, action: code.action };
    case "RP":
      if (!reference) return bad("RP needs the reference cell's leaf values");
      return { method: { kind: "RP", value: code.value, reference }, action: code.action };
    case "R%":
      if (!reference) return bad("R% needs the reference cell's leaf values");
      return { method: { kind: "R%", percent: code.percent, reference }, action: code.action };
    case "C":
      return { method: { kind: "C" }, action: "replace" };
    default:
      return bad(`${code.kind} is not a spread over the leaves of a consolidated cell`);
  }
}
