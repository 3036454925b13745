/**
 * Where cells go when the sheet's structure changes, as Excel moves them: rows inserted above a
 * cell push it down, rows deleted above pull it up, a deleted cell is gone; likewise columns; a
 * renamed sheet keeps its cells under the new name. Pure functions over addresses with sheet.
 *
 * Excel reports inserted and deleted rows and columns as worksheet onChanged events with
 * `changeType` RowInserted, RowDeleted, ColumnInserted or ColumnDeleted and the address of the
 * rows or columns (`3:4`, `C:D`, or the same as a range such as `A3:XFD4`); a rename through
 * onNameChanged (ExcelApi 1.17). Cells inserted or deleted with a shift inside one row or column
 * (CellInserted, CellDeleted) are not followed.
 * @see https://learn.microsoft.com/javascript/api/excel/excel.datachangetype
 */
import { formatCell, parseCell, parseRange } from "./address";
import type { SheetChange, SheetStructureChange } from "./host";

/** Maps an address (with sheet) to where its cell is now, null when the cell was deleted. */
export type AddressMove = (address: string) => string | null;

/** Excel's full sheet: rows and columns. */
const LAST_ROW = 1_048_576;
const LAST_COL = 16_384;

/** One index after an insert (count > 0) or delete (count < 0) of `count` at `at`. */
function shifted(i: number, at: number, count: number): number | null {
  if (i < at) return i;
  if (count > 0) return i + count;
  return i < at - count ? null : i + count;
}

/**
 * The move a structural change makes, or null when it moves nothing the add-in follows (a sort is
 * handled by reading the sorted range: ./sheet-edits.ts).
 */
export function structuralMove(change: SheetChange | SheetStructureChange): AddressMove | null {
  if ("kind" in change) {
    if (change.kind !== "renamed") return null;
    const from = change.from.toLowerCase();
    return (address) => {
      const c = parseCell(address);
      return c && c.sheet.toLowerCase() === from ? formatCell({ ...c, sheet: change.to }) : address;
    };
  }
  const range = parseRange(change.address, change.sheet);
  if (!range) return null;
  const sheet = change.sheet.toLowerCase();
  const rows = change.changeType === "RowInserted" || change.changeType === "RowDeleted";
  const cols = change.changeType === "ColumnInserted" || change.changeType === "ColumnDeleted";
  if (!rows && !cols) return null;
  const lo = rows ? range.rowLo : range.colLo;
  const hi = rows ? Math.min(range.rowHi, LAST_ROW) : Math.min(range.colHi, LAST_COL);
  const n = hi - lo + 1;
  const count = change.changeType.endsWith("Inserted") ? n : -n;
  return (address) => {
    const c = parseCell(address);
    if (!c || c.sheet.toLowerCase() !== sheet) return address;
    const i = shifted(rows ? c.row : c.col, lo, count);
    if (i === null) return null;
    return formatCell(rows ? { ...c, row: i } : { ...c, col: i });
  };
}
