/**
 * Structural edits of the fake workbook (./fake-workbook.ts), as Excel makes them: inserting or
 * deleting rows and columns moves the cells below or to the right and adjusts every reference to
 * a moved cell, `$` or not (a reference to a deleted cell becomes `#REF!`); sorting moves whole
 * rows (contents and formats) and a formula's relative row references move with its row, as a
 * copy would; renaming a sheet renames it in formulas.
 * @see https://support.microsoft.com/office/move-or-copy-a-formula-1f5cf825-9b07-41b1-8719-bf88b07450c6
 */
import type { FakeCell } from "./fake-workbook";
import { colLetters, colNumber } from "./fake-workbook-addresses";

/** Rows or columns inserted (count > 0) or deleted (count < 0) at `at` (1-based). */
export interface Move {
  axis: "row" | "col";
  at: number;
  count: number;
}

/** A cell reference in a formula (outside string literals): `$A$3`, `B$1`, `C7`. */
const REF = /(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\d(])/g;

/** Applies `f` to every cell reference of a formula, outside its string literals. */
function mapRefs(formula: string, f: (col: number, row: number, colAbs: boolean, rowAbs: boolean) => string): string {
  return formula
    .split(/("(?:[^"]|"")*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(REF, (_m, ca: string, c: string, ra: string, r: string) => f(colNumber(c), Number(r), ca === "$", ra === "$"))))
    .join("");
}

const ref = (col: number, row: number, colAbs: boolean, rowAbs: boolean) => `${colAbs ? "$" : ""}${colLetters(col)}${rowAbs ? "$" : ""}${row}`;

/** Where a row or column index goes: the new index, or null when it was deleted. */
function shift(i: number, m: Move): number | null {
  if (i < m.at) return i;
  if (m.count > 0) return i + m.count;
  return i < m.at - m.count ? null : i + m.count;
}

function moveCells(cells: Map<string, FakeCell>, m: Move): Map<string, FakeCell> {
  const out = new Map<string, FakeCell>();
  for (const [local, c] of cells) {
    const [, l, r] = /^([A-Z]+)(\d+)$/.exec(local)!;
    const col = m.axis === "col" ? shift(colNumber(l), m) : colNumber(l);
    const row = m.axis === "row" ? shift(Number(r), m) : Number(r);
    if (col === null || row === null) {
      c.invocation?.cancel();
      continue;
    }
    if (typeof c.formula === "string" && c.formula.startsWith("=")) {
      c.formula = mapRefs(c.formula, (fc, fr, ca, ra) => {
        const nc = m.axis === "col" ? shift(fc, m) : fc;
        const nr = m.axis === "row" ? shift(fr, m) : fr;
        return nc === null || nr === null ? "#REF!" : ref(nc, nr, ca, ra);
      });
    }
    out.set(`${colLetters(col)}${row}`, c);
  }
  return out;
}

/** Inserts or deletes rows. */
export function moveRows(cells: Map<string, FakeCell>, m: Move): Map<string, FakeCell> {
  return moveCells(cells, m);
}

/** Inserts or deletes columns. */
export function moveColumns(cells: Map<string, FakeCell>, m: Move): Map<string, FakeCell> {
  return moveCells(cells, m);
}

/** Sorts the rows of `range` (`A3:F9`) by column `by`'s values, ascending (numbers before text, empty last). */
export function sortRows(cells: Map<string, FakeCell>, range: string, by: string): Map<string, FakeCell> {
  const [, c1, r1, c2, r2] = /^([A-Z]+)(\d+):([A-Z]+)(\d+)$/.exec(range)!;
  const [lo, hi, left, right] = [Number(r1), Number(r2), colNumber(c1), colNumber(c2)];
  const key = (row: number) => cells.get(`${by}${row}`)?.value;
  const rows = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  const rank = (v: unknown) => (typeof v === "number" ? 0 : v === "" || v === undefined || v === null ? 2 : 1);
  const sorted = [...rows].sort((a, b) => {
    const va = key(a);
    const vb = key(b);
    if (rank(va) !== rank(vb)) return rank(va) - rank(vb);
    if (typeof va === "number" && typeof vb === "number") return va - vb;
    return String(va ?? "").localeCompare(String(vb ?? ""));
  });
  const out = new Map(cells);
  for (let c = left; c <= right; c++) for (const r of rows) out.delete(`${colLetters(c)}${r}`);
  sorted.forEach((from, k) => {
    const to = lo + k;
    for (let c = left; c <= right; c++) {
      const cell = cells.get(`${colLetters(c)}${from}`);
      if (!cell) continue;
      if (typeof cell.formula === "string" && cell.formula.startsWith("=") && to !== from) {
        cell.formula = mapRefs(cell.formula, (fc, fr, ca, ra) => ref(fc, ra ? fr : fr + (to - from), ca, ra));
      }
      out.set(`${colLetters(c)}${to}`, cell);
    }
  });
  return out;
}

/** A sheet's name as a formula refers to it (`Sheet1`, `'Plan 2025'`). */
const sheetRef = (name: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`);

/** Renames sheet `from` to `to` in a formula's references (`Plan!B3`, `'Plan 2025'!B3`). */
export function renameInFormulas(formula: string, from: string, to: string): string {
  return formula
    .split(/("(?:[^"]|"")*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.split(`${sheetRef(from)}!`).join(`${sheetRef(to)}!`)))
    .join("");
}
