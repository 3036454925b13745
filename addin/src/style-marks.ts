/**
 * One step of bringing a cell-style mark on the sheet in line with the cells that should carry it
 * (./pending-marks.ts, ./sandbox-marks.ts): the cells to mark and to unmark are read and rewritten
 * in one Excel.run (Host.readAndRestore), each mark's own rule deciding what to write from what the
 * cell holds now.
 */
import { cellKey } from "./address";
import type { FormulaWrite, Host, SheetCell } from "./host";

/** What a mark writes to a cell read back: `null` leaves it as it is. */
export interface MarkRules {
  /** A cell that should lose the mark (its key is `id`). */
  unmark(cell: SheetCell, id: string): FormulaWrite | null;
  /** A cell holding a formula that should carry the mark and does not yet. */
  mark(cell: SheetCell, id: string): FormulaWrite | null;
}

/**
 * Marks the cells of `want` (cell key -> address) not in `marked`, unmarks those of `marked` not in
 * `want`; nothing when both are in line or Office is not ready.
 */
export async function syncMarks(host: Pick<Host, "ready" | "readAndRestore">, want: ReadonlyMap<string, string>, marked: ReadonlyMap<string, { address: string }>, rules: MarkRules): Promise<void> {
  const toMark = [...want].filter(([id]) => !marked.has(id)).map(([, address]) => address);
  const toUnmark = [...marked].filter(([id]) => !want.has(id)).map(([, m]) => m.address);
  if (toMark.length === 0 && toUnmark.length === 0) return;
  if (!(await host.ready())) return;
  const unmarking = new Set(toUnmark.map(cellKey));
  await host.readAndRestore([...toMark, ...toUnmark], (cells) => {
    const writes: FormulaWrite[] = [];
    for (const c of cells) {
      const id = cellKey(c.address);
      const w = unmarking.has(id) ? rules.unmark(c, id) : typeof c.formula === "string" && c.formula.startsWith("=") && !marked.has(id) ? rules.mark(c, id) : null;
      if (w) writes.push(w);
    }
    return writes;
  });
}
