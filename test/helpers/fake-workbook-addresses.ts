/**
 * Cells, addresses, formula arguments, event shapes and Excel's errors for the fake workbook (./fake-workbook.ts).
 */
import type { StreamingInvocationStub } from "./custom-functions-stand-in";

/** One cell of the fake workbook. */
export interface FakeCell {
  /** `=...` for a formula, otherwise the constant (number, text, boolean) or "" when empty. */
  formula: unknown;
  /** The computed value (a formula's last result). */
  value: unknown;
  /** The cell style's name (Excel's default is "Normal"). */
  style: string;
  /** The number format ("General" by default). */
  numberFormat: string;
  /** `Range.format.font.bold` and `Range.format.indentLevel` (unset: not bold, 0). */
  bold?: boolean;
  indentLevel?: number;
  invocation?: StreamingInvocationStub;
}

/** A worksheet: cells by local address (`B3`). */
export interface FakeSheet {
  id: string;
  name: string;
  cells: Map<string, FakeCell>;
}

/** What a cell's contents were before a change (for undo and the events). */
export interface Before {
  sheet: FakeSheet;
  local: string;
  formula: unknown;
  value: unknown;
  style: string;
  numberFormat: string;
}

export type Origin = "user" | "addin" | "undo";


/** Excel's ChangedEventDetail (ExcelApi 1.9). */
export interface ChangedDetail {
  valueBefore: unknown;
  valueAfter: unknown;
  valueTypeBefore: string;
  valueTypeAfter: string;
}

/** Excel's WorksheetChangedEventArgs, the fields host.ts reads; `details` only for a single-cell change. */
export interface ChangedArgs {
  worksheetId: string;
  address: string;
  changeType: string;
  source: string;
  triggerSource: "ThisLocalAddin" | "Unknown";
  details?: ChangedDetail;
}

/** Excel's WorksheetFormulaChangedEventArgs (ExcelApi 1.13). */
export interface FormulaChangedArgs {
  worksheetId: string;
  source: string;
  formulaDetails?: { cellAddress: string; previousFormula: string }[];
}

/** Excel's WorksheetRowSortedEventArgs / WorksheetNameChangedEventArgs, the fields used. */
export interface SheetEventArgs {
  worksheetId: string;
  address?: string;
  nameBefore?: string;
  nameAfter?: string;
}

/** Excel.RunOptions, as a batch was given them. */
export interface StandInRunOptions {
  delayForCellEdit?: boolean;
  mergeUndoGroup?: boolean;
}

/** A named cell style (Excel.Style, the parts the stand-in keeps). */
export interface FakeStyle {
  name: string;
  fill: { color: string };
  font: { color: string; italic: boolean };
  includeNumber: boolean;
}


/** The error Excel gives a batch made while the user edits a cell (Excel.ErrorCodes.invalidOperationInCellEditMode; Office's own message). */
export class CellEditModeError extends Error {
  readonly code = "InvalidOperationInCellEditMode";
  constructor() {
    super("Excel is in cell-editing mode. Please exit the edit mode by pressing ENTER or TAB or selecting another cell, and then try again.");
    this.name = "RichApi.Error";
  }
}

/** The error Excel on the web gives a request or response over its payload limit (Excel.ErrorCodes.requestPayloadSizeLimitExceeded). */
export class PayloadLimitError extends Error {
  readonly code = "RequestPayloadSizeLimitExceeded";
  constructor(bytes: number) {
    super(`The request payload size has exceeded the limit (${bytes} bytes).`);
    this.name = "RichApi.Error";
  }
}

/** Excel on the web's request and response limit: 5 MB. */
export const PAYLOAD_LIMIT_BYTES = 5 * 1024 * 1024;

/** Above this many changed formulas, onFormulaChanged's `formulaDetails` is undefined. */
export const FORMULA_DETAILS_LIMIT = 1000;

export function splitAddress(address: string): { sheet: string; local: string } {
  const bang = address.lastIndexOf("!");
  let sheet = address.slice(0, bang);
  if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  return { sheet, local: address.slice(bang + 1).replace(/\$/g, "").toUpperCase() };
}

/** `Sheet1!B3`, or `'Plan 2025'!B3` when the sheet's name needs quotes (as Excel writes addresses). */
export function excelAddress(sheet: string, local: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(sheet) ? `${sheet}!${local}` : `'${sheet.replace(/'/g, "''")}'!${local}`;
}

export const colNumber = (l: string) => [...l].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
export const colLetters = (n: number) => {
  let out = "";
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) out = String.fromCharCode(65 + ((k - 1) % 26)) + out;
  return out;
};

/** The cells of `B2:D3` (or `B2`), row by row. */
export function cellsOf(local: string): string[] {
  const [from, to = from] = local.split(":");
  const a = /^([A-Z]+)(\d+)$/.exec(from)!;
  const b = /^([A-Z]+)(\d+)$/.exec(to)!;
  const out: string[] = [];
  for (let r = Number(a[2]); r <= Number(b[2]); r++) for (let c = colNumber(a[1]); c <= colNumber(b[1]); c++) out.push(`${colLetters(c)}${r}`);
  return out;
}

/** Splits a formula's argument list: string literals ("a""b"), numbers, and references to cells of the sheet. */
export function parseArgs(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === " ") i++;
    if (text[i] === '"') {
      let s = "";
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          s += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else {
          s += text[i++];
        }
      }
      out.push(s);
    } else {
      let j = i;
      while (j < text.length && text[j] !== ",") j++;
      const token = text.slice(i, j).trim();
      out.push(/^\$?[A-Za-z]{1,3}\$?\d+$/.test(token) ? { ref: token.replace(/\$/g, "").toUpperCase() } : Number(token));
      i = j;
    }
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
  }
  return out;
}

