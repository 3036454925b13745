/**
 * Formula text of QATOM.CELL cells: recognising a formula that is exactly one QATOM.CELL call (the
 * only kind whose cell a typed number can be written to), and writing one from its arguments.
 */
import type { CellRef } from "./contracts";

/** The custom functions' namespace (manifest.xml, `Functions.Namespace`). */
export const FUNCTION_NAMESPACE = "QATOM";

/** An Excel string literal: `"a""b"` for a"b. */
export function excelString(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** `=QATOM.CELL("Sales","[Store].[USA]")`: used to put a formula back when its text was never read. */
export function buildCellFormula(ref: CellRef): string {
  return `=${FUNCTION_NAMESPACE}.CELL(${[ref.cube, ...ref.members].map(excelString).join(",")})`;
}

/**
 * True when `formula` is one QATOM.CELL call and nothing else (`=QATOM.CELL(...)`), so that a
 * number typed over it means "write this cell". `=QATOM.CELL(...)*2` or a sum of two calls is not.
 */
export function isSingleCellCall(formula: string): boolean {
  const m = new RegExp(`^\\s*=\\s*${FUNCTION_NAMESPACE}\\.CELL\\s*\\(`, "i").exec(formula);
  if (!m) return false;
  let depth = 1;
  let inString = false;
  for (let i = m[0].length; i < formula.length; i++) {
    const ch = formula[i];
    if (inString) {
      if (ch === '"') {
        if (formula[i + 1] === '"') i++;
        else inString = false;
      }
    } else if (ch === '"') {
      inString = true;
    } else if (ch === "(") {
      depth++;
    } else if (ch === ")") {
      depth--;
      if (depth === 0) return formula.slice(i + 1).trim() === "";
    }
  }
  return false;
}
