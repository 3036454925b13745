/// <reference types="custom-functions-runtime" />
/**
 * The Excel edge: a QatomError becomes `CustomFunctions.Error` here and nowhere else
 * (`notAvailable` -> #N/A, `invalidValue` -> #VALUE!, with the message in the cell's tooltip).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-errors
 */
import type { QatomError } from "../../addin/src/contracts";
import { AddinError } from "../../addin/src/errors";

/** The Excel error for a QatomError. */
export function toExcelError(e: QatomError): CustomFunctions.Error {
  const code = e.code === "invalidValue" ? CustomFunctions.ErrorCode.invalidValue : CustomFunctions.ErrorCode.notAvailable;
  return new CustomFunctions.Error(code, e.message);
}

/** The Excel error for anything thrown: an AddinError keeps its code, anything else is #N/A. */
export function excelErrorOf(err: unknown): CustomFunctions.Error {
  if (err instanceof AddinError) return toExcelError(err);
  return toExcelError({ code: "notAvailable", message: err instanceof Error ? err.message : String(err) });
}

/**
 * A number with the format Excel shows it in: a formatted number (DoubleCellValue) of the custom
 * functions' data types, which Excel takes from CustomFunctionsRuntime 1.4 on.
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-data-types-concepts
 */
export interface FormattedNumber {
  type: "Double";
  basicValue: number;
  /** An Excel number format code (en-US), e.g. `0.0%`. */
  numberFormat: string;
}

/**
 * What a cell shows for `value`: a formatted number when the cell has a format and Excel takes
 * formatted numbers (`formatted`), else the plain number (the sheet's own format applies).
 */
export function excelNumber(value: number, format: string | undefined, formatted: boolean): number | FormattedNumber {
  return formatted && format ? { type: "Double", basicValue: value, numberFormat: format } : value;
}

/**
 * True when Excel calls the function only to preview a formula's value while it is edited
 * (CustomFunctionsRuntime 1.5; the typings declare the flag a string, Excel passes a boolean).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-formula-value-preview
 */
export function inValuePreview(invocation: CustomFunctions.Invocation | undefined): boolean {
  const flag: unknown = invocation?.isInValuePreview;
  return flag === true || flag === "true";
}

/**
 * What a QATOM function shows in formula value preview, instead of reading the server: #N/A with
 * the reason. Not a made-up number (Microsoft's example returns one): a QATOM cell never shows a
 * value that is not the server's.
 */
export function previewPlaceholder(): CustomFunctions.Error {
  return new CustomFunctions.Error(CustomFunctions.ErrorCode.notAvailable, "QATOM values are not read in formula value preview");
}
