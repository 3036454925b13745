/**
 * The Office globals of the workbook test page (./workbook-page.tsx), set before the functions
 * bundle's modules run: `CustomFunctions`, `Office` (requirement sets, the dialog API, and the
 * ribbon, add-in commands and shortcuts of ./ribbon-stand-in.ts), `Excel` over the workbook
 * stand-in (./fake-workbook.ts), and `OfficeRuntime.storage` remembering a development sign-in, as
 * after a sign-in in the task pane. Imported first: modules run in import order.
 */
import { OPTIONS_KEY } from "../../addin/src/context";
import type { AddinOptions } from "../../addin/src/context";
import { customFunctionsStandIn, FakeWorkbook, officeStandIn } from "./office-stand-ins";
import { type RibbonModel, ribbonStandIn } from "./ribbon-stand-in";

declare global {
  interface Window {
    qatomRibbonModel: RibbonModel;
    /** The development user the runtime remembers as signed in. */
    qatomUser: string;
    /** How many columns (A, B, …) and rows of the sheet the page draws (default 8 by 9). */
    qatomGridSize?: { cols: number; rows: number };
  }
}

const cf = customFunctionsStandIn();
/** The workbook every Excel call of the page reaches. */
export const workbook = new FakeWorkbook(cf.functions, ["Sheet1"]);
/** The ribbon, add-in commands and shortcuts. */
export const ribbon = ribbonStandIn(window.qatomRibbonModel);
const office = officeStandIn({
  pageOrigin: location.origin,
  // A current Excel: undo groups (1.20), onFormulaChanged (1.13), triggerSource (1.14), formatted numbers.
  requirementSets: { ExcelApi: "1.20", CustomFunctionsRuntime: "1.4", RibbonApi: "1.1", SharedRuntime: "1.1", KeyboardShortcuts: "1.1" },
}).office;
const items = new Map<string, string>([
  ["quantatom.connection", JSON.stringify({ serverUrl: location.origin })],
  ["quantatom.signin", JSON.stringify({ serverUrl: location.origin, user: window.qatomUser })],
]);
const g = globalThis as unknown as Record<string | symbol, unknown>;
g.CustomFunctions = cf.global;
g.Office = { ...office, ribbon: ribbon.Office.ribbon, actions: ribbon.Office.actions, addin: ribbon.Office.addin };
g.Excel = workbook.excel;
g.OfficeRuntime = {
  storage: {
    getItem: async (k: string) => items.get(k) ?? null,
    setItem: async (k: string, v: string) => {
      items.set(k, v);
    },
  },
};
g[OPTIONS_KEY] = {
  batchWindowMs: 16,
  streams: { debounceMs: 30, backoffBaseMs: 100, backoffMaxMs: 400 },
  formulaCells: { graceMs: 2000, readDelayMs: 20 },
} satisfies AddinOptions;
