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
