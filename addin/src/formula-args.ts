/**
 * Recovering the cell a `=QATOM.CELL(…)` formula shows from its text, for a formula the registry
 * does not know (Excel gives one invocation, and so one address, to all cells whose calls have the
 * same arguments: "excel/custom-functions-web-reqs"). The text comes from onFormulaChanged's
 * `previousFormula`; its references are evaluated by reading the referenced cells.
 *
 * Arguments understood: string literals (`"Sales"`, `"a""b"`), numbers, and references to cells or
 * ranges (`B$1`, `$A3`, `'Plan 2025'!A1`, `A1:A3`). Anything else (a nested function, a defined
 * name) makes the formula unrecoverable: null, and the caller falls back to the registry.
 */
import { formatCell, parseRange } from "./address";
import type { CellRef } from "./contracts";
import { FUNCTION_NAMESPACE, isSingleCellCall } from "./formula-text";

/** One argument of the call. */
export type FormulaArg = { kind: "text"; value: string } | { kind: "number"; value: number } | { kind: "ref"; addresses: string[] };

/** Most cells one range argument may cover (a cell has at most a few dozen members). */
const MAX_RANGE_CELLS = 256;

/** Splits the argument list at top-level commas, outside string literals. */
function splitArgs(body: string): string[] | null {
  const out: string[] = [];
  let cur = "";
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (inString) {
      cur += ch;
      if (ch === '"') {
        if (body[i + 1] === '"') cur += body[++i];
        else inString = false;
      }
    } else if (ch === '"') {
      inString = true;
      cur += ch;
    } else if (ch === ",") {
      out.push(cur.trim());
      cur = "";
    } else if (ch === "(" || ch === ")") {
      return null;
    } else {
      cur += ch;
    }
  }
  if (inString) return null;
  out.push(cur.trim());
  return out;
}

/** The addresses (with sheet) a reference covers; null when it is not a reference or too large. */
function refAddresses(token: string, sheet: string): string[] | null {
  const r = parseRange(token, sheet);
  if (!r || !Number.isFinite(r.colHi) || !Number.isFinite(r.rowHi)) return null;
  if ((r.colHi - r.colLo + 1) * (r.rowHi - r.rowLo + 1) > MAX_RANGE_CELLS) return null;
  const out: string[] = [];
  for (let row = r.rowLo; row <= r.rowHi; row++) for (let col = r.colLo; col <= r.colHi; col++) out.push(formatCell({ sheet: r.sheet, col, row }));
  return out;
}

/**
 * The arguments of a formula that is one QATOM.CELL call, on sheet `sheet` (references without a
 * sheet are to it); null when it is not one call or an argument is not understood.
 */
export function parseCellCall(formula: string, sheet: string): FormulaArg[] | null {
  if (!isSingleCellCall(formula)) return null;
  const open = formula.indexOf("(", formula.toUpperCase().indexOf(`${FUNCTION_NAMESPACE}.CELL`));
  const body = formula.slice(open + 1, formula.lastIndexOf(")"));
  const parts = splitArgs(body);
  if (!parts || parts.length < 2) return null;
  const args: FormulaArg[] = [];
  for (const p of parts) {
    if (p.startsWith('"') && p.endsWith('"') && p.length >= 2) args.push({ kind: "text", value: p.slice(1, -1).replace(/""/g, '"') });
    else if (p !== "" && Number.isFinite(Number(p))) args.push({ kind: "number", value: Number(p) });
    else {
      const addresses = refAddresses(p, sheet);
      if (!addresses) return null;
      args.push({ kind: "ref", addresses });
    }
  }
  return args;
}

/** Every cell the arguments refer to (to read them in the same batch as the typed cells). */
export function referencedCells(args: readonly FormulaArg[]): string[] {
  return args.flatMap((a) => (a.kind === "ref" ? a.addresses : []));
}

/** A referenced cell's value as QATOM.CELL reads a member name: text trimmed, whole numbers as text, empty skipped. */
function nameOf(v: unknown): string | null {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  return null;
}

/**
 * The cell the call shows, given the referenced cells' values (by address with sheet, as
 * {@link referencedCells} named them); null when a value is not a name (an error, a boolean) or
 * the cube or every member is missing, as QATOM.CELL itself would refuse them.
 */
export function resolveCellCall(args: readonly FormulaArg[], values: ReadonlyMap<string, unknown>): CellRef | null {
  const names: string[][] = [];
  for (const a of args) {
    if (a.kind === "text") names.push([a.value.trim()]);
    else if (a.kind === "number") names.push(Number.isSafeInteger(a.value) ? [String(a.value)] : []);
    else {
      const list: string[] = [];
      for (const address of a.addresses) {
        const n = nameOf(values.get(address));
        if (n === null) return null;
        list.push(n);
      }
      names.push(list);
    }
  }
  const [cube, ...rest] = names;
  if (cube.length !== 1 || !cube[0]) return null;
  const members = rest.flat().filter((m) => m !== "");
  return members.length > 0 ? { cube: cube[0], members } : null;
}
