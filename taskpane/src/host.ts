/// <reference types="office-js" />
/**
 * The task pane's only door to Office. Every `Excel.run` and Office event the pane needs is here;
 * the React components receive a {@link TaskpaneHost} and never touch `Office` or `Excel`, so they
 * render and test in a plain browser with a fake host (see test/helpers/taskpane-page.tsx).
 *
 * Both batches pass `{ delayForCellEdit: true }`: the selection is read from Office's selection
 * event and the formula registry's changes, which come while the user types in a cell, when Excel
 * fails a batch made without it (`InvalidOperationInCellEditMode`).
 *
 * @see https://github.com/OfficeDev/Office-Addin-TaskPane-React (its `excel.ts`)
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/excel-add-ins-delay-in-cell-edit
 */
import type { FormulaCell, FormulaCells } from "../../addin/src/contracts";

/** The cell selected on the sheet, and the QATOM formula in it if there is one. */
export interface SelectedCell {
  /** Address with sheet, as Excel gives it, e.g. `Sheet1!B3` (the top-left cell of a range). */
  address: string;
  /** The QATOM.CELL formula in that cell, or null when the cell holds none. */
  cell: FormulaCell | null;
}

/** What the task pane asks of its host (Excel, or a fake in tests). */
export interface TaskpaneHost {
  /** The selected cell now. */
  getSelectedCell(): Promise<SelectedCell>;
  /** Calls `fn` whenever the selection moves; returns a function that stops it. */
  onSelectionChanged(fn: () => void): () => void;
  /** Selects a cell by its address (`Sheet1!B3`), e.g. from a row of the pending list. */
  selectCell(address: string): Promise<void>;
}

/**
 * The host inside Excel. The QATOM formula at an address comes from the shared runtime's formula
 * registry, which the custom functions keep current; when the formula at the selected address
 * appears, goes or changes cell, that counts as a selection change too.
 */
export function createOfficeHost(formulaCells: FormulaCells): TaskpaneHost {
  let lastAddress: string | null = null;
  let lastRef = "";
  const refOf = (c: FormulaCell | null | undefined) => (c ? JSON.stringify([c.cube, c.members]) : "");
  return {
    async getSelectedCell() {
      const address = await Excel.run({ delayForCellEdit: true }, async (ctx) => {
        const cell = ctx.workbook.getSelectedRange().getCell(0, 0);
        cell.load("address");
        await ctx.sync();
        return cell.address;
      });
      const cell = formulaCells.find(address) ?? null;
      lastAddress = address;
      lastRef = refOf(cell);
      return { address, cell };
    },

    onSelectionChanged(fn) {
      // Registered through the document (Office's common API): unlike Excel's event objects it
      // needs no request context kept alive, and it fires for every sheet.
      const handler = () => fn();
      Office.context.document.addHandlerAsync(Office.EventType.DocumentSelectionChanged, handler);
      const stopWatching = formulaCells.subscribe(() => {
        if (lastAddress !== null && refOf(formulaCells.find(lastAddress)) !== lastRef) fn();
      });
      return () => {
        stopWatching();
        Office.context.document.removeHandlerAsync(Office.EventType.DocumentSelectionChanged, { handler });
      };
    },

    async selectCell(address) {
      await Excel.run({ delayForCellEdit: true }, async (ctx) => {
        const bang = address.lastIndexOf("!");
        const sheet = bang < 0 ? ctx.workbook.worksheets.getActiveWorksheet() : ctx.workbook.worksheets.getItem(unquoteSheet(address.slice(0, bang)));
        sheet.activate();
        sheet.getRange(bang < 0 ? address : address.slice(bang + 1)).select();
        await ctx.sync();
      });
    },
  };
}

/** `'My Sheet'` -> `My Sheet` (Excel quotes sheet names with spaces; `''` is an escaped quote). */
function unquoteSheet(name: string): string {
  return name.startsWith("'") && name.endsWith("'") ? name.slice(1, -1).replace(/''/g, "'") : name;
}
