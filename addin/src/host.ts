/// <reference types="office-js" />
/// <reference types="office-runtime" />
/**
 * The ONE module that touches Office: `Office.onReady`, `Excel.run`, `OfficeRuntime.storage` and the
 * page's location. Everything else talks to the `Host` interface, so tests (and runtimes without
 * Office, such as a plain browser page) pass their own.
 *
 * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetcollection#excel-excel-worksheetcollection-onchanged-member
 * @see https://learn.microsoft.com/javascript/api/office-runtime/officeruntime.storage
 */

/** Persistent key-value storage (OfficeRuntime.storage's shape). */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
}

/** A change of cells on a worksheet, as Excel reports it (WorksheetChangedEventArgs, simplified). */
export interface SheetChange {
  /** The worksheet's name. */
  sheet: string;
  /** The changed range on that sheet, without the sheet name, e.g. `B3` or `B3:D9`. */
  address: string;
  /** Excel's changeType: `RangeEdited` for typing, pasting and clearing; others for inserts and deletes. */
  changeType: string;
  /** `Local` for this user's edits, `Remote` for a co-author's. */
  source: "Local" | "Remote";
}

/** What a sheet cell holds now. */
export interface SheetCell {
  /** Address with sheet, as asked for. */
  address: string;
  /** Excel's `Range.formulas` entry: the formula text (`=...`), or the constant (number, text, boolean, ""). */
  formula: unknown;
  /** Excel's `Range.valueTypes` entry: `Empty`, `Double`, `String`, `Boolean`, `Error`, ... */
  valueType: string;
  /** Excel's `Range.values` entry. */
  value: unknown;
}

/** The Office surface the add-in runtime needs. */
export interface Host {
  /** Resolves true once Office is ready, false at once when there is no Office (a plain page). */
  ready(): Promise<boolean>;
  /** OfficeRuntime.storage, else the page's localStorage (a shared runtime has both), else null. */
  readonly storage: KeyValueStorage | null;
  /** Origin of the page that loaded the add-in (`https://localhost:3000`), when it is http(s). */
  pageOrigin(): string | null;
  /** Reads cells (addresses with sheet) in one Excel.run; cells of missing sheets are left out. */
  readCells(addresses: readonly string[]): Promise<SheetCell[]>;
  /** Writes formulas (addresses with sheet) in one Excel.run. */
  writeFormulas(cells: readonly { address: string; formula: string }[]): Promise<void>;
  /** Listens to cell changes on every worksheet of the workbook; resolves to a function that stops listening. */
  onSheetChanged(handler: (change: SheetChange) => void): Promise<() => Promise<void>>;
}

/** The part of the Office globals used below, declared loosely: the add-in may load where Office is absent. */
type OfficeGlobals = {
  Office?: { onReady(): Promise<unknown> };
  Excel?: typeof Excel;
  OfficeRuntime?: { storage?: KeyValueStorage };
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  location?: { origin?: string; protocol?: string };
};

function globals(): OfficeGlobals {
  return globalThis as unknown as OfficeGlobals;
}

function splitAddress(address: string): { sheet: string; local: string } {
  const bang = address.lastIndexOf("!");
  let sheet = address.slice(0, bang);
  if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  return { sheet, local: address.slice(bang + 1) };
}

function localStorageAdapter(ls: OfficeGlobals["localStorage"]): KeyValueStorage | null {
  if (!ls) return null;
  return {
    getItem: async (key) => ls.getItem(key),
    setItem: async (key, value) => ls.setItem(key, value),
  };
}

/** The host over the real Office globals (Excel JavaScript API 1.9+: `worksheets.onChanged`). */
export function officeHost(): Host {
  const g = globals();
  return {
    async ready() {
      if (!g.Office || !g.Excel) return false;
      await g.Office.onReady();
      return true;
    },
    storage: g.OfficeRuntime?.storage ?? localStorageAdapter(g.localStorage),
    pageOrigin() {
      const loc = g.location;
      return loc?.origin && /^https?:$/.test(loc.protocol ?? "") ? loc.origin : null;
    },
    async readCells(addresses) {
      if (!g.Excel || addresses.length === 0) return [];
      return g.Excel.run(async (context) => {
        const sheets = context.workbook.worksheets;
        sheets.load("items/name");
        await context.sync();
        const present = new Set(sheets.items.map((s) => s.name.toLowerCase()));
        const ranges: { address: string; range: Excel.Range }[] = [];
        for (const address of addresses) {
          const { sheet, local } = splitAddress(address);
          if (!present.has(sheet.toLowerCase())) continue;
          const range = sheets.getItem(sheet).getRange(local);
          range.load("formulas,values,valueTypes");
          ranges.push({ address, range });
        }
        await context.sync();
        return ranges.map(({ address, range }) => ({
          address,
          formula: range.formulas[0][0],
          valueType: String(range.valueTypes[0][0]),
          value: range.values[0][0],
        }));
      });
    },
    async writeFormulas(cells) {
      if (!g.Excel || cells.length === 0) return;
      await g.Excel.run(async (context) => {
        for (const { address, formula } of cells) {
          const { sheet, local } = splitAddress(address);
          context.workbook.worksheets.getItem(sheet).getRange(local).formulas = [[formula]];
        }
        await context.sync();
      });
    },
    async onSheetChanged(handler) {
      const excel = g.Excel;
      if (!excel) return async () => {};
      const registered = await excel.run(async (context) => {
        const result = context.workbook.worksheets.onChanged.add(async (ev) => {
          // The name is read each time: sheets can be renamed while the handler lives.
          const sheet = await excel.run(async (c) => {
            const ws = c.workbook.worksheets.getItem(ev.worksheetId);
            ws.load("name");
            await c.sync();
            return ws.name;
          });
          handler({ sheet, address: ev.address, changeType: String(ev.changeType), source: ev.source === "Remote" ? "Remote" : "Local" });
        });
        await context.sync();
        return result;
      });
      return async () => {
        await excel.run(registered.context, async (context) => {
          registered.remove();
          await context.sync();
        });
      };
    },
  };
}
