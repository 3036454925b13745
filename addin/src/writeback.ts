/**
 * Writeback from the grid: a worksheet onChanged handler. When the user types a number over a
 * QATOM.CELL cell (or clears it), the handler records a pending write for that cell, taken from the
 * formula it replaced, and puts the formula back; the task pane lists the write until Submit.
 *
 * Only this user's edits (`source: Local`) of cell contents (`changeType: RangeEdited`) count; a
 * formula made of more than one call (`=QATOM.CELL(...)*2`) is left as the user changed it.
 */
import { parseRange } from "./address";
import type { PendingWrites } from "./contracts";
import type { FormulaCellRegistry } from "./formula-cells";
import { buildCellFormula, isSingleCellCall } from "./formula-text";
import type { Host, SheetCell, SheetChange } from "./host";

/**
 * The number a cell now holds, null when it was cleared, or undefined when it holds something that
 * is not a value to write (a formula, text, a boolean, an error).
 */
export function typedValue(cell: SheetCell): number | null | undefined {
  const f = cell.formula;
  if (typeof f === "string" && f.startsWith("=")) return undefined;
  if (cell.valueType === "Empty" || f === "" || f === null || f === undefined) return null;
  if (typeof f === "number" && Number.isFinite(f)) return f;
  if (cell.valueType === "Double" && typeof cell.value === "number" && Number.isFinite(cell.value)) return cell.value;
  return undefined;
}

/** Builds the handler; register it with `host.onSheetChanged`. Resolves when the change is handled. */
export function createWritebackHandler(host: Host, cells: FormulaCellRegistry, pending: PendingWrites): (change: SheetChange) => Promise<void> {
  return async (change) => {
    if (change.source !== "Local" || change.changeType !== "RangeEdited") return;
    const range = parseRange(change.address, change.sheet);
    if (!range) return;
    const candidates = cells.within(range).filter((c) => !c.ambiguous);
    if (candidates.length === 0) return;
    const now = await host.readCells(candidates.map((c) => c.cell.address));
    const byAddress = new Map(now.map((c) => [c.address, c]));
    const restore: { address: string; formula: string }[] = [];
    for (const { cell } of candidates) {
      const sheetCell = byAddress.get(cell.address);
      if (!sheetCell) continue;
      const value = typedValue(sheetCell);
      if (value === undefined) continue;
      const formula = cell.formula ?? buildCellFormula(cell);
      if (!isSingleCellCall(formula)) continue;
      pending.add(cell, value);
      restore.push({ address: cell.address, formula });
    }
    await host.writeFormulas(restore);
  };
}
