/**
 * Stand-ins for the globals Excel gives a shared-runtime add-in, just enough for the functions
 * bundle and addin/src/host.ts: `CustomFunctions` (associate, Error, ErrorCode, streaming
 * invocations), `OfficeRuntime.storage`, `Office` (`onReady`, requirement sets, the dialog API:
 * see ./office-dialog-stand-in.ts, re-exported here), and `Excel.run` over a small in-memory
 * workbook that behaves like Excel where writeback depends on it: entering a QATOM formula invokes
 * the associated function (streaming results land in the cell), overwriting it cancels the
 * invocation (`onCanceled`) *before* the worksheet's onChanged event fires, and writes through
 * `Range.formulas` fire onChanged too.
 *
 * Cell-edit mode as Excel documents it (Excel.RunOptions, "Delay execution while a cell is being
 * edited"): while the user edits a cell ({@link FakeWorkbook.beginsEdit}), a batch's `sync()` fails
 * with `InvalidOperationInCellEditMode` unless `Excel.run` was given `{ delayForCellEdit: true }`,
 * in which case it waits until the edit ends. onChanged's `details` (valueBefore / valueAfter) are
 * given only for a single-cell change ("details ... can be retrieved when the changed event is
 * triggered on a single cell"). Formulas may refer to cells of their sheet (`$A2`, `B$1`).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/excel-add-ins-delay-in-cell-edit
 * @see https://learn.microsoft.com/javascript/api/excel/excel.runoptions
 * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetchangedeventargs#excel-excel-worksheetchangedeventargs-details-member
 */

import { ErrorCode, StandInError, StreamingInvocationStub } from "./custom-functions-stand-in";

export { ErrorCode, StandInError, StreamingInvocationStub };

type AnyFunction = (...args: unknown[]) => unknown;

/** The CustomFunctions global: `associate` records the functions by id. */
export function customFunctionsStandIn() {
  const functions = new Map<string, AnyFunction>();
  return {
    functions,
    global: {
      Error: StandInError,
      ErrorCode,
      associate(idOrMap: string | Record<string, AnyFunction>, fn?: AnyFunction) {
        if (typeof idOrMap === "string") functions.set(idOrMap.toUpperCase(), fn!);
        else for (const [id, f] of Object.entries(idOrMap)) functions.set(id.toUpperCase(), f);
      },
    },
  };
}

/** OfficeRuntime.storage over a Map. */
export function storageStandIn(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    async getItem(key: string) {
      return items.get(key) ?? null;
    },
    async setItem(key: string, value: string) {
      items.set(key, value);
    },
    async removeItem(key: string) {
      items.delete(key);
    },
  };
}

/** The workbook (cells, events, undo, structural edits) lives in its own file; re-exported here. */
export * from "./fake-workbook";

/** Polls `cond` until it holds or `timeoutMs` passes; resolves to the time it took (ms). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "a condition"): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}

/** The `Office` global (requirement sets, the dialog API) lives in its own file; re-exported here. */
export * from "./office-dialog-stand-in";
