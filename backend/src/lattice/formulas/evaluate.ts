/**
 * Evaluation of member formulas for one cell, and the base members a formula reads.
 *
 * A formula is computed from the values of the cells its references point at, at the same address
 * with the referenced members substituted; those values are consolidated values when the address
 * is consolidated. So `[Measures].[Profit] / [Measures].[Store Sales]` at `[Store].[USA]` divides
 * the USA profit by the USA sales: a ratio of totals, not a total of ratios.
 *
 * Empty cells (`null`):
 * - A formula that reads cells and finds them all empty is empty, whatever constants it holds:
 *   `[Measures].[Sales] * 1.1` or `IF([Measures].[Sales] > 0, 1, 0)` over an empty region stays
 *   empty instead of filling the (sparse) cube with values. A formula reading no cells (`42`) is
 *   its value.
 * - Otherwise `+ - * /` and comparisons treat an empty operand as 0, but when both operands are
 *   empty the result is empty (so `MAX([A] - [B], [C])` ignores an empty `[A] - [B]`); unary minus
 *   and ABS of empty are empty.
 * - Division by zero (or by an empty cell) is empty. TM1 rules have two operators here: `/`
 *   "returns an undefined value" on division by zero and `\` returns zero (IBM Planning Analytics
 *   2.1 docs, "Arithmetic operators"); Excel gives #DIV/0!. Values here are numbers or empty, with
 *   no error values, and a zero would look like a real result and add into totals, so division by
 *   zero gives empty, the nearest to TM1's "undefined".
 * - A result that is not a finite number (a quotient beyond the largest double, such as 1e15 over
 *   a value of 1e-300, or Infinity - Infinity on the way) is empty for the same reason: no
 *   Infinity or NaN ever reaches a reader (stored values are bounded, common/limits.ts MAX_ABS_VALUE).
 * - A comparison gives 1 (true) or 0 (false). IF takes its condition as true when it is non-empty
 *   and not 0 (empty is false, as in Excel), and evaluates only the branch taken.
 * - MIN and MAX skip empty arguments (as Excel's MIN/MAX skip blank cells); all empty gives empty.
 */
import type { Dimension } from "../dimension";
import { forEachRef } from "./parse";
import { type FormulaGraph, type FormulaMember, memberKey, type ResolvedExpr } from "./graph";

/**
 * Returns the value of a cell given its coordinates (one member id per dimension, in dimension
 * order): the (consolidated) value, or null when the cell is empty.
 */
export type CellValue = (coords: Int32Array) => number | null;

/**
 * Evaluates a resolved formula at one cell.
 * @param expr the formula (a `CompiledFormula.expr`).
 * @param cell the address being computed: one member id per dimension.
 * @param value the value of any cell; called with `cell` where each reference's members replace
 *   the coordinates of their dimensions. When a reference names another formula member, `value`
 *   must compute that formula (the engine evaluates formulas in `FormulaGraph.order`).
 * @returns the value, or null for empty (see the module comment for the rules).
 */
export function evaluateFormula(expr: ResolvedExpr, cell: ArrayLike<number>, value: CellValue): number | null {
  let reads = 0;
  let found = 0;
  const ev = (e: ResolvedExpr): number | null => {
    switch (e.kind) {
      case "number":
        return e.value;
      case "ref": {
        const coords = Int32Array.from(cell);
        for (const m of e.members) coords[m.dim] = m.id;
        const v = value(coords);
        reads++;
        if (v !== null) found++;
        return v;
      }
      case "neg": {
        const v = ev(e.operand);
        return v === null ? null : -v;
      }
      case "binary": {
        const a = ev(e.left);
        const b = ev(e.right);
        if (a === null && b === null) return null;
        const x = a ?? 0;
        const y = b ?? 0;
        switch (e.op) {
          case "+":
            return x + y;
          case "-":
            return x - y;
          case "*":
            return x * y;
          case "/":
            return y === 0 ? null : x / y;
          case "=":
            return x === y ? 1 : 0;
          case "<>":
            return x !== y ? 1 : 0;
          case "<":
            return x < y ? 1 : 0;
          case "<=":
            return x <= y ? 1 : 0;
          case ">":
            return x > y ? 1 : 0;
          case ">=":
            return x >= y ? 1 : 0;
        }
        return null;
      }
      case "call": {
        switch (e.fn) {
          case "IF": {
            const c = ev(e.args[0]);
            return ev(c !== null && c !== 0 ? e.args[1] : e.args[2]);
          }
          case "ABS": {
            const v = ev(e.args[0]);
            return v === null ? null : Math.abs(v);
          }
          case "MIN":
          case "MAX": {
            let best: number | null = null;
            for (const a of e.args) {
              const v = ev(a);
              if (v === null) continue;
              if (best === null || (e.fn === "MIN" ? v < best : v > best)) best = v;
            }
            return best;
          }
        }
      }
    }
  };
  const result = ev(expr);
  if (result !== null && !Number.isFinite(result)) return null;
  return reads > 0 && found === 0 ? null : result;
}

/**
 * The base (non-formula) cells a formula reads, following references to other formulas down to
 * base members: each read is a tuple of members, sorted by dimension, that replaces those
 * coordinates of the cell being computed (dimensions it leaves out keep the cell's member). When F
 * reads `([Measures].[G], [Scenario].[Actual])` and G reads `[Measures].[X]`, F reads
 * `([Measures].[X], [Scenario].[Actual])`; a member named inside G overrides the one named outside.
 * Reads are listed once, in order of first occurrence.
 * @param graph the compiled formulas (acyclic, as `buildFormulaGraph` guarantees).
 * @param index the formula's index in `graph.formulas`.
 */
export function formulaBaseReads(graph: FormulaGraph, index: number): FormulaMember[][] {
  const out = new Map<string, FormulaMember[]>();
  const expand = (tuple: FormulaMember[], depth: number): void => {
    if (depth > graph.formulas.length) throw new Error("formula references nest deeper than the number of formulas (a cycle?)");
    const j = tuple.findIndex((m) => graph.byMember.has(memberKey(m)));
    if (j < 0) {
      const sorted = [...tuple].sort((a, b) => a.dim - b.dim);
      const key = sorted.map(memberKey).join(",");
      if (!out.has(key)) out.set(key, sorted);
      return;
    }
    const f = graph.formulas[graph.byMember.get(memberKey(tuple[j]))!];
    forEachRef(f.expr, (r) => expand(override(tuple, r.members), depth + 1));
  };
  forEachRef(graph.formulas[index].expr, (r) => expand(r.members, 0));
  return [...out.values()];
}

/** `outer` with the members of `inner` replacing or adding to it, dimension by dimension. */
function override(outer: readonly FormulaMember[], inner: readonly FormulaMember[]): FormulaMember[] {
  const res = outer.filter((o) => !inner.some((i) => i.dim === o.dim));
  res.push(...inner);
  return res;
}

/** One dimension of a leaf-level read: the leaf member ids it covers. */
export interface LeafRead {
  dim: number;
  /** Leaf member ids under the referenced member (the member itself when it is a leaf). */
  leaves: Int32Array;
}

/**
 * The leaf-level base members a formula reads, for change feeds: `formulaBaseReads` with each
 * referenced member expanded to the leaves under it. A change to a leaf cell can change the
 * formula's value at some address only when, for some read, the leaf's member on every dimension
 * the read names is among that dimension's `leaves` (the other dimensions follow the address).
 * @param dims the cube's dimensions, in order.
 */
export function formulaLeafReads(graph: FormulaGraph, index: number, dims: readonly Dimension[]): LeafRead[][] {
  return formulaBaseReads(graph, index).map((tuple) =>
    tuple.map((m) => {
      const d = dims[m.dim];
      return { dim: m.dim, leaves: d.leafAt.slice(d.leafLo[m.id], d.leafHi[m.id]) };
    }),
  );
}
