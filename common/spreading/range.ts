import type { DataAction } from "./codes";

/**
 * Range methods of TM1 data spreading: a proportional (`P`) or equal (`S`, `LS`) spread typed with
 * a direction over a run of cells in a view (`P>300`, `S<>1200`, `P+>30`) treats the run as one
 * target: the run's total becomes the value (replace), or grows or shrinks by it (`+`, `~`), and
 * the cells share the change. Pure arithmetic, shared so that the add-in and any server-side range
 * spread read a code the same way.
 *
 * Sources (IBM Planning Analytics 2.1.0 documentation):
 * - "Data spreading and hold syntax reference table": `P<>100` "proportionally spreads the value
 *   100 to all leaf cells" of the range, `S+200` "equally spreads the value 200 … and adds the
 *   product of spreading to the existing cell values"
 *   (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table);
 * - "Spreading to a range": the range is filtered first, then spread: of cells at mixed levels
 *   only the lowest level stays, and held cells (leaf holds, or consolidation holds when the lowest
 *   level is consolidated) are dropped; "spreading is performed on the remaining cells"
 *   (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=overview-spreading-range). So a
 *   held cell neither changes nor counts: `P>300` over 10, 30 (held), 60 makes the other two 300.
 * - "ProportionSpreadToZeroCells": a proportional spread over cells that are all zero or empty
 *   becomes an equal spread instead of an error
 *   (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=parameters-proportionspreadtozerocells).
 *
 * Repeat (`R`, `LR`), percent change (`P%`) and clear (`C`) need no range arithmetic: over a run
 * they act on each cell alone, which is what TM1 does with them in a view.
 */

/** One cell of a run: its value (null when empty) and whether a hold keeps it as it is. */
export interface RangeCell {
  value: number | null;
  held: boolean;
}

/** The run's new values (held cells keep theirs and are left out; a proportional spread leaves empty cells empty), or why not. */
export type RangeResult = { ok: true; values: (number | null)[] } | { ok: false; message: string };

/** The methods spread over a run as a whole. */
export type RangeMethod = "P" | "S";

/**
 * Spreads `value` over a run of cells as one target (see the module comment).
 * @example
 * // IBM's proportional example numbers: 10, 30, 60 spread to 300 → 30, 90, 180
 * spreadOverRange("P", "replace", 300, [{ value: 10, held: false }, { value: 30, held: false }, { value: 60, held: false }]);
 * @returns the new value of every cell of the run, in order; `ok: false` when every cell is held.
 */
export function spreadOverRange(method: RangeMethod, action: DataAction, value: number, cells: readonly RangeCell[]): RangeResult {
  const free = cells.map((c, i) => (c.held ? -1 : i)).filter((i) => i >= 0);
  if (free.length === 0) return { ok: false, message: "every cell of the run is held: release one (RH) to spread into it" };
  // Held cells are dropped from the range before the spread (IBM "Spreading to a range").
  const total = free.reduce((s, i) => s + (cells[i].value ?? 0), 0);
  const target = action === "replace" ? value : action === "add" ? total + value : total - value;
  const out = cells.map((c) => c.value);
  const proportional = method === "P" && total !== 0 && free.some((i) => (cells[i].value ?? 0) !== 0);
  if (proportional) {
    const k = target / total;
    for (const i of free) out[i] = cells[i].value === null ? null : (cells[i].value as number) * k;
  } else if (method === "P" || action === "replace") {
    // Equal shares: S replace, and P over cells that are all zero or empty (ProportionSpreadToZeroCells).
    for (const i of free) out[i] = target / free.length;
  } else {
    // S+ / S~: each cell gets an equal share of the amount added to (or taken from) its value.
    const share = (action === "add" ? value : -value) / free.length;
    for (const i of free) out[i] = (cells[i].value ?? 0) + share;
  }
  return { ok: true, values: out };
}
