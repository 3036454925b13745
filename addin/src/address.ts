/**
 * A1 addresses as Excel writes them: `Sheet1!B3`, `'My Sheet'!$B$3`, ranges `B3:D9`, whole
 * columns `B:D` and rows `3:5`. Pure functions, no Office calls.
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/excel-add-ins-ranges-get
 */

/** One cell: sheet name (unquoted) and 1-based column and row. */
export interface CellAddress {
  sheet: string;
  col: number;
  row: number;
}

/** A rectangle of cells on one sheet, inclusive; whole rows/columns use 1 and Infinity. */
export interface RangeAddress {
  sheet: string;
  colLo: number;
  colHi: number;
  rowLo: number;
  rowHi: number;
}

/** Splits `Sheet!A1` into the sheet name (quotes removed, `''` unescaped) and the rest. */
export function splitSheet(address: string): { sheet: string; local: string } {
  const bang = address.lastIndexOf("!");
  if (bang < 0) return { sheet: "", local: address.trim() };
  let sheet = address.slice(0, bang).trim();
  if (sheet.startsWith("'") && sheet.endsWith("'") && sheet.length >= 2) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  return { sheet, local: address.slice(bang + 1).trim() };
}

/** `A` -> 1, `Z` -> 26, `AA` -> 27. */
export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/** 1 -> `A`, 27 -> `AA`. */
export function columnLetters(col: number): string {
  let s = "";
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const CELL = /^\$?([A-Za-z]{1,3})\$?(\d+)$/;
const COLS = /^\$?([A-Za-z]{1,3})$/;
const ROWS = /^\$?(\d+)$/;

/** Parses one cell address (`Sheet1!$B$3`); null when it is not one. */
export function parseCell(address: string): CellAddress | null {
  const { sheet, local } = splitSheet(address);
  const m = CELL.exec(local);
  if (!m) return null;
  return { sheet, col: columnNumber(m[1]), row: Number(m[2]) };
}

/** Parses a range (`B3`, `B3:D9`, `B:D`, `3:5`, with or without a sheet); null when it is not one. */
export function parseRange(address: string, defaultSheet = ""): RangeAddress | null {
  const { sheet, local } = splitSheet(address);
  const [a, b = a] = local.split(":");
  const s = sheet || defaultSheet;
  const ca = CELL.exec(a);
  const cb = CELL.exec(b);
  if (ca && cb) {
    const c1 = columnNumber(ca[1]);
    const c2 = columnNumber(cb[1]);
    const r1 = Number(ca[2]);
    const r2 = Number(cb[2]);
    return { sheet: s, colLo: Math.min(c1, c2), colHi: Math.max(c1, c2), rowLo: Math.min(r1, r2), rowHi: Math.max(r1, r2) };
  }
  const ka = COLS.exec(a);
  const kb = COLS.exec(b);
  if (ka && kb) {
    const c1 = columnNumber(ka[1]);
    const c2 = columnNumber(kb[1]);
    return { sheet: s, colLo: Math.min(c1, c2), colHi: Math.max(c1, c2), rowLo: 1, rowHi: Number.POSITIVE_INFINITY };
  }
  const ra = ROWS.exec(a);
  const rb = ROWS.exec(b);
  if (ra && rb) {
    const r1 = Number(ra[1]);
    const r2 = Number(rb[1]);
    return { sheet: s, colLo: 1, colHi: Number.POSITIVE_INFINITY, rowLo: Math.min(r1, r2), rowHi: Math.max(r1, r2) };
  }
  return null;
}

/** True when the cell lies in the range (sheet names compare case-insensitively, as Excel does). */
export function rangeContains(range: RangeAddress, cell: CellAddress): boolean {
  return (
    range.sheet.toLowerCase() === cell.sheet.toLowerCase() &&
    cell.col >= range.colLo &&
    cell.col <= range.colHi &&
    cell.row >= range.rowLo &&
    cell.row <= range.rowHi
  );
}

/** A sheet's name as an address writes it: quoted when Excel would (`'My Sheet'`, `'B3'`), `'` doubled. */
export function quoteSheetName(name: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !CELL.test(name);
  return plain ? name : `'${name.replace(/'/g, "''")}'`;
}

/** `Sheet1!B3`, quoting the sheet name when Excel would (`'My Sheet'!B3`). */
export function formatCell(cell: CellAddress): string {
  return `${quoteSheetName(cell.sheet)}!${columnLetters(cell.col)}${cell.row}`;
}

/**
 * A key that is the same for every spelling of one cell's address (`Sheet1!$b$3` and
 * `'sheet1'!B3`); addresses that are not one cell are only trimmed and lower-cased.
 */
export function cellKey(address: string): string {
  const c = parseCell(address);
  if (!c) return address.trim().toLowerCase();
  return `${c.sheet.toLowerCase()}!${columnLetters(c.col)}${c.row}`;
}
