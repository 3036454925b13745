/// <reference types="office-js" />
/// <reference types="office-runtime" />
/**
 * The ONE module that touches Office: `Office.onReady`, `Excel.run`, `OfficeRuntime.storage`, the
 * page's location, requirement-set checks and the dialog API (sign-in's fallback). Everything else
 * talks to the `Host` interface, so tests (and runtimes without Office, such as a plain browser
 * page) pass their own.
 *
 * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetcollection#excel-excel-worksheetcollection-onchanged-member
 * @see https://learn.microsoft.com/javascript/api/office-runtime/officeruntime.storage
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/dialog-api-in-office-add-ins
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/dialog-handle-errors-events
 *
 * Every `Excel.run` here passes `{ delayForCellEdit: true }`: by default Excel fails a batch with
 * `InvalidOperationInCellEditMode` while the user is editing a cell, which is exactly when the
 * onChanged handler runs after "type a number, Enter, type the next". With the option the batch
 * waits until the edit ends ("Delay execution while a cell is being edited", Excel.RunOptions).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/excel-add-ins-delay-in-cell-edit
 * @see https://learn.microsoft.com/javascript/api/excel/excel.runoptions
 */
import { quoteSheetName, splitSheet } from "./address";

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
  /**
   * The value after the change, from the event's `details` (ExcelApi 1.9): Excel gives it only
   * when one cell changed; absent for a multi-cell change.
   * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetchangedeventargs#excel-excel-worksheetchangedeventargs-details-member
   */
  valueAfter?: unknown;
  /**
   * Who made the change (ExcelApi 1.14 `triggerSource`): `ThisLocalAddin` for this add-in's own
   * writes, `Unknown` for the user's edits, undo included; absent where Excel does not say.
   * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetchangedeventargs#excel-excel-worksheetchangedeventargs-triggersource-member
   */
  triggerSource?: "ThisLocalAddin" | "Unknown";
}

/**
 * Formulas changed on a worksheet (WorksheetFormulaChangedEventArgs, ExcelApi 1.13): what each
 * changed cell held before. `cells` is null when Excel left the details out (above its size limit).
 * @see https://learn.microsoft.com/javascript/api/excel/excel.worksheetformulachangedeventargs
 */
export interface FormulaChange {
  sheet: string;
  source: "Local" | "Remote";
  /** Addresses with sheet (`Sheet1!B3`) and the formula each held before (`previousFormula`). */
  cells: { address: string; previousFormula: string }[] | null;
}

/** A sheet-level change that moves cells: a sort of rows (`address`: the range) or a rename. */
export type SheetStructureChange = { kind: "rowsSorted"; sheet: string; address: string } | { kind: "renamed"; from: string; to: string };

/**
 * What to write to a cell (address with sheet): a formula to put back, a cell style, a number
 * format; fields left out are left as they are.
 */
export interface FormulaWrite {
  address: string;
  formula?: string;
  /** A cell style's name (`Range.style`); the add-in's styles are created on first use (see {@link PENDING_STYLE}, {@link SANDBOX_STYLE}). */
  style?: string;
  /** Excel number format code to set back (`Range.numberFormat`). */
  numberFormat?: string;
  /** Bold font (`Range.format.font.bold`) and indent (`Range.format.indentLevel`, 0-250, ExcelApi 1.9): report headers. */
  bold?: boolean;
  indentLevel?: number;
}

/**
 * The cell style the add-in owns for values typed but not yet submitted, as TM1 colours values
 * not yet committed: a fill only (number format, font, borders and alignment stay the cell's).
 * Users may change its colour in Excel's Cell Styles; the add-in finds it by name.
 * @see https://learn.microsoft.com/javascript/api/excel/excel.style
 */
export const PENDING_STYLE = { name: "QuantatomAI Pending", fill: "#FCE4B6", font: "#7A4A00" } as const;

/** The cell style the add-in owns for cells a sandbox changed, read through it (./sandbox-marks.ts): a fill only, as PENDING_STYLE. */
export const SANDBOX_STYLE = { name: "QuantatomAI Sandbox", fill: "#DCEBFA", font: "#0F4C81" } as const;

/** The add-in's own cell styles, created on first use. */
const OWN_STYLES = [PENDING_STYLE, SANDBOX_STYLE];

/** Most cells read in one sync, and most bytes of formulas written in one: well under Excel on the web's 5 MB per request and response. */
export const MAX_CELLS_PER_SYNC = 500;
export const MAX_WRITE_BYTES_PER_SYNC = 1_000_000;

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
  /** The cell's style name (`Range.style`), e.g. `Normal`. */
  style?: string;
  /** The cell's number format (`Range.numberFormat`). */
  numberFormat?: string;
}

/**
 * A dialog box opened by `Host.displayDialog` (Office.Dialog, narrowed to what sign-in uses). Its
 * page talks back with `Host.messageParent`.
 */
export interface HostDialog {
  /** Handles the messages the dialog's page sends with `messageParent` (Office's DialogMessageReceived). */
  onMessage(handler: (message: string) => void): void;
  /**
   * Handles the dialog's events (Office's DialogEventReceived), by error number: 12002 the page
   * could not be loaded, 12003 it went to an http URL, 12006 the user closed the dialog.
   */
  onEvent(handler: (code: number) => void): void;
  /** Closes the dialog (asynchronously, as Office does). */
  close(): void;
}

/**
 * `displayDialogAsync` could not open the dialog. Codes (Microsoft's "Handle errors and events in the
 * Office dialog box"): 12004 the URL's domain is not the host page's, 12005 the URL is http, 12007 a
 * dialog is already open from this page, 12009 the user chose to ignore the dialog, 12011 the
 * browser blocked the pop-up (Office on the web); 0 when Office has no dialog API here.
 */
export class DialogOpenError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "DialogOpenError";
  }
}

/** Error number of DialogEventReceived when the user closed the dialog (Microsoft's dialog error table). */
export const DIALOG_CLOSED_BY_USER = 12006;

/**
 * The workbook's own settings (Office.context.document.settings): saved in the file with it.
 * @see https://learn.microsoft.com/javascript/api/office/office.settings
 */
export interface DocumentSettings {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  /** saveAsync: keeps what was set in the workbook. @throws Error with Office's message. */
  save(): Promise<void>;
}

/** The Office surface the add-in runtime needs. */
export interface Host {
  /** The workbook's settings, or null where there is none (a plain page, Office not ready); absent: none. */
  documentSettings?(): DocumentSettings | null;
  /**
   * Resolves true once Office is ready in a workbook, false at once when there is no Office (a plain
   * page). Where Office is but Excel is not (a dialog's page) it waits for Office and resolves false.
   */
  ready(): Promise<boolean>;
  /** OfficeRuntime.storage, else the page's localStorage (a shared runtime has both), else null. */
  readonly storage: KeyValueStorage | null;
  /** Origin of the page that loaded the add-in (`https://localhost:3000`), when it is http(s). */
  pageOrigin(): string | null;
  /** Reads cells (addresses with sheet) in one Excel.run; cells of missing sheets are left out. */
  readCells(addresses: readonly string[]): Promise<SheetCell[]>;
  /** Writes formulas, styles and number formats (addresses with sheet) in one Excel.run. */
  writeFormulas(cells: readonly FormulaWrite[]): Promise<void>;
  /**
   * Reads cells, lets `decide` record what they mean and name the formulas to put back, and writes
   * those, all in one Excel.run: no edit of the user's can fall between the read and the write, and
   * where Excel offers `mergeUndoGroup` (ExcelApi 1.20) the restore is one undo step.
   * @returns the cells read (cells of missing sheets left out).
   * @throws Excel's error when the batch fails; `decide` may have run (its records stay).
   */
  readAndRestore(addresses: readonly string[], decide: (cells: SheetCell[]) => FormulaWrite[]): Promise<SheetCell[]>;
  /** Listens to cell changes on every worksheet of the workbook; resolves to a function that stops listening. */
  onSheetChanged(handler: (change: SheetChange) => void): Promise<() => Promise<void>>;
  /**
   * Listens to formula changes on every worksheet (`worksheets.onFormulaChanged`, ExcelApi 1.13);
   * resolves to null where Excel does not offer it.
   */
  onFormulaChanged(handler: (change: FormulaChange) => void): Promise<(() => Promise<void>) | null>;
  /** Listens to row sorts (`onRowSorted`, ExcelApi 1.10) and sheet renames (`onNameChanged`, ExcelApi 1.17) where offered. */
  onSheetStructure(handler: (change: SheetStructureChange) => void): Promise<() => Promise<void>>;
  /**
   * Whether Office supports a requirement set at `minVersion` or later
   * (`Office.context.requirements.isSetSupported`); false where there is no Office. Call after `ready()`.
   * @example host.isSetSupported("NestedAppAuth", "1.1") // nested app authentication (MSAL in the add-in)
   */
  isSetSupported(name: string, minVersion: string): boolean;
  /**
   * Opens a dialog box on a page of the add-in's own origin (`Office.context.ui.displayDialogAsync`;
   * `height` and `width` in percent of the screen).
   * @throws DialogOpenError with Office's error number when it cannot be opened.
   */
  displayDialog(url: string, options: { height: number; width: number }): Promise<HostDialog>;
  /**
   * From a page opened as a dialog: sends `message` to the page that opened it
   * (`Office.context.ui.messageParent`).
   * @throws Error when this page is not an Office dialog.
   */
  messageParent(message: string): void;
  /**
   * Asks Office to enable or disable the add-in's ribbon controls (`Office.ribbon.requestUpdate`,
   * RibbonApi 1.1); the ids are the manifest's tab, group and control ids. Office queues the update:
   * the promise settles when it is queued, not when the ribbon repaints. Absent on hosts without a
   * ribbon (tests' plain hosts).
   * @throws Error where Office lacks RibbonApi 1.1, and Office's error when it refuses the update
   *   (`HostRestartNeeded` after the add-in's commands changed; an id the manifest does not declare).
   * @see https://learn.microsoft.com/office/dev/add-ins/design/disable-add-in-commands
   * @see https://learn.microsoft.com/javascript/api/office/office.ribbon#office-office-ribbon-requestupdate-member(1)
   */
  requestRibbonUpdate?(update: RibbonUpdate): Promise<void>;
  /**
   * Maps an action id (a ribbon button's `FunctionName`, an action of shortcuts.json) to a function
   * of the shared runtime (`Office.actions.associate`). Office passes a ribbon button's handler an
   * event whose `completed()` it must call; a keyboard shortcut's handler gets none. Absent on hosts
   * without add-in commands.
   * @returns false where Office has no `Office.actions` (the id stays unassociated).
   * @see https://learn.microsoft.com/office/dev/add-ins/design/keyboard-shortcuts
   * @see https://learn.microsoft.com/javascript/api/office/office.actions#office-office-actions-associate-member(1)
   */
  associateAction?(id: string, handler: (event?: CommandEvent) => unknown): boolean;
  /**
   * Shows the task pane of the shared runtime (`Office.addin.showAsTaskpane`, SharedRuntime 1.1),
   * e.g. from a ribbon button or a shortcut. Absent on hosts without a task pane.
   * @throws Error where Office lacks `Office.addin`, and Office's error when it cannot show it.
   * @see https://learn.microsoft.com/javascript/api/office/office.addin#office-office-addin-showastaskpane-member(1)
   */
  showTaskpane?(): Promise<void>;
}

/** The part of the Office globals used below, declared loosely: the add-in may load where Office is absent. */
type OfficeGlobals = {
  Office?: {
    onReady(): Promise<unknown>;
    context?: {
      document?: { settings?: { get(name: string): unknown; set(name: string, value: unknown): void; saveAsync(cb: (r: OfficeAsyncResult) => void): void } };
      requirements?: { isSetSupported(name: string, minVersion?: string): boolean };
      ui?: {
        displayDialogAsync?(url: string, options: { height: number; width: number; displayInIframe?: boolean }, callback: (result: OfficeAsyncResult) => void): void;
        messageParent?(message: string): void;
      };
    };
    EventType?: { DialogMessageReceived?: string; DialogEventReceived?: string };
    AsyncResultStatus?: { Succeeded?: string; Failed?: string };
  };
  Excel?: typeof Excel;
  OfficeRuntime?: { storage?: KeyValueStorage };
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  location?: { origin?: string; protocol?: string };
};

/** Office.AsyncResult<Office.Dialog>, the fields read here. */
type OfficeAsyncResult = {
  status: string;
  value?: { addEventHandler(type: string, handler: (arg: { message?: string; error?: number }) => void): void; close(): void };
  error?: { code: number; message: string };
};

function globals(): OfficeGlobals {
  return globalThis as unknown as OfficeGlobals;
}


function localStorageAdapter(ls: OfficeGlobals["localStorage"]): KeyValueStorage | null {
  if (!ls) return null;
  return {
    getItem: async (key) => ls.getItem(key),
    setItem: async (key, value) => ls.setItem(key, value),
  };
}

/** `B3` (one cell), not `B3:D9`. */
function singleCell(address: string): boolean {
  return !address.includes(":");
}

/**
 * The body of `officeHost`: `Excel.run` with `delayForCellEdit` always, and `mergeUndoGroup` for a
 * batch that writes where ExcelApi 1.20 is supported (RunOptions: "[API set: ExcelApi 1.20]").
 */
function runner(g: OfficeGlobals) {
  const canMerge = () => g.Office?.context?.requirements?.isSetSupported("ExcelApi", "1.20") === true;
  return <T>(excel: typeof Excel, writes: boolean, batch: (context: Excel.RequestContext) => Promise<T>): Promise<T> => {
    const options: Excel.RunOptions = { delayForCellEdit: true };
    if (writes && canMerge()) options.mergeUndoGroup = true;
    return excel.run(options, batch);
  };
}

/** True for Excel's error for a request or response over its payload limit (Excel on the web: 5 MB). */
function isPayloadLimit(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "RequestPayloadSizeLimitExceeded" || code === "ResponsePayloadSizeLimitExceeded";
}

/**
 * Loads cells (addresses with sheet), at most MAX_CELLS_PER_SYNC per sync, halving the batch
 * while Excel refuses a response as too large; cells of missing sheets are left out.
 */
async function loadCells(context: Excel.RequestContext, addresses: readonly string[]): Promise<SheetCell[]> {
  const sheets = context.workbook.worksheets;
  sheets.load("items/name");
  await context.sync();
  const present = new Set(sheets.items.map((s) => s.name.toLowerCase()));
  const wanted = addresses.filter((a) => present.has(splitSheet(a).sheet.toLowerCase()));
  const out: SheetCell[] = [];
  let size = MAX_CELLS_PER_SYNC;
  for (let lo = 0; lo < wanted.length; ) {
    const ranges = wanted.slice(lo, lo + size).map((address) => {
      const { sheet, local } = splitSheet(address);
      const range = sheets.getItem(sheet).getRange(local);
      range.load("formulas,values,valueTypes,style,numberFormat");
      return { address, range };
    });
    try {
      await context.sync();
    } catch (err) {
      if (!isPayloadLimit(err) || size === 1) throw err;
      size = Math.ceil(size / 2);
      continue;
    }
    for (const { address, range } of ranges) {
      out.push({
        address,
        formula: range.formulas[0][0],
        valueType: String(range.valueTypes[0][0]),
        value: range.values[0][0],
        style: typeof range.style === "string" ? range.style : undefined,
        numberFormat: range.numberFormat ? String(range.numberFormat[0][0]) : undefined,
      });
    }
    lo += ranges.length;
  }
  return out;
}

/** Creates one of the add-in's styles when the workbook lacks it (Excel.StyleCollection, ExcelApi 1.7). */
async function ensureStyle(context: Excel.RequestContext, spec: (typeof OWN_STYLES)[number]): Promise<void> {
  const existing = context.workbook.styles.getItemOrNullObject(spec.name);
  existing.load("name");
  await context.sync();
  if (!existing.isNullObject) return;
  context.workbook.styles.add(spec.name);
  const style = context.workbook.styles.getItem(spec.name);
  style.includeNumber = false;
  style.includeAlignment = false;
  style.includeBorder = false;
  style.includeProtection = false;
  style.includeFont = true;
  style.includePatterns = true;
  style.fill.color = spec.fill;
  style.font.color = spec.font;
  await context.sync();
}

/**
 * The add-in's styles known to exist in the workbook: checked (and created) once, not on every
 * typed entry; a batch that fails while using one checks again next time (the user may have
 * deleted the style).
 */
interface StyleState {
  known: Set<string>;
}

/** Queues the writes, syncing every MAX_WRITE_BYTES_PER_SYNC bytes of formula text (Excel on the web's 5 MB request limit). */
async function putCells(context: Excel.RequestContext, cells: readonly FormulaWrite[], styles: StyleState): Promise<void> {
  const used = OWN_STYLES.filter((st) => cells.some((c) => c.style === st.name));
  if (used.length === 0) return queueWrites(context, cells);
  try {
    for (const st of used) if (!styles.known.has(st.name)) await ensureStyle(context, st);
    await queueWrites(context, cells);
    for (const st of used) styles.known.add(st.name);
  } catch (err) {
    styles.known.clear();
    throw err;
  }
}

async function queueWrites(context: Excel.RequestContext, cells: readonly FormulaWrite[]): Promise<void> {
  let bytes = 0;
  for (const { address, formula, style, numberFormat, bold, indentLevel } of cells) {
    const { sheet, local } = splitSheet(address);
    const range = context.workbook.worksheets.getItem(sheet).getRange(local);
    if (formula !== undefined) range.formulas = [[formula]];
    if (style !== undefined) range.style = style;
    if (numberFormat !== undefined) range.numberFormat = [[numberFormat]];
    if (bold !== undefined) range.format.font.bold = bold;
    if (indentLevel !== undefined) range.format.indentLevel = indentLevel;
    bytes += (formula?.length ?? 0) + (style?.length ?? 0) + (numberFormat?.length ?? 0) + address.length + 64;
    if (bytes >= MAX_WRITE_BYTES_PER_SYNC) {
      await context.sync();
      bytes = 0;
    }
  }
  if (bytes > 0) await context.sync();
}

/** The current name of a worksheet by id (read each time: sheets can be renamed while a handler lives). */
async function sheetName(excel: typeof Excel, run: ReturnType<typeof runner>, worksheetId: string): Promise<string> {
  return run(excel, false, async (c) => {
    const ws = c.workbook.worksheets.getItem(worksheetId);
    ws.load("name");
    await c.sync();
    return ws.name;
  });
}

/** Removes an event handler in its own context. */
async function removeHandler(excel: typeof Excel, registered: OfficeExtension.EventHandlerResult<unknown>): Promise<void> {
  await excel.run(registered.context, async (context) => {
    registered.remove();
    await context.sync();
  });
}

/**
 * The host over the real Office globals (Excel JavaScript API 1.9+: `worksheets.onChanged`).
 * @param scope where the globals are (default `globalThis`; tests pass an object of stand-ins).
 */
export function officeHost(scope?: object): Host {
  const g = (scope ?? globals()) as OfficeGlobals;
  const run = runner(g);
  const styles: StyleState = { known: new Set() };
  return {
    async ready() {
      if (!g.Office) return false;
      await g.Office.onReady();
      return g.Excel !== undefined;
    },
    storage: g.OfficeRuntime?.storage ?? localStorageAdapter(g.localStorage),
    documentSettings() {
      const s = g.Office?.context?.document?.settings;
      if (!s) return null;
      const failed = g.Office?.AsyncResultStatus?.Failed ?? "failed";
      const save = () => new Promise<void>((ok, fail) => s.saveAsync((r) => (r.status === failed ? fail(new Error(r.error?.message ?? "the workbook's settings were not saved")) : ok())));
      return { get: (name) => s.get(name), set: (name, value) => s.set(name, value), save };
    },
    pageOrigin() {
      const loc = g.location;
      return loc?.origin && /^https?:$/.test(loc.protocol ?? "") ? loc.origin : null;
    },
    async readCells(addresses) {
      if (!g.Excel || addresses.length === 0) return [];
      return run(g.Excel, false, (context) => loadCells(context, addresses));
    },
    async writeFormulas(cells) {
      if (!g.Excel || cells.length === 0) return;
      await run(g.Excel, true, (context) => putCells(context, cells, styles));
    },
    async readAndRestore(addresses, decide) {
      if (!g.Excel || addresses.length === 0) return [];
      return run(g.Excel, true, async (context) => {
        const read = await loadCells(context, addresses);
        const writes = decide(read);
        if (writes.length > 0) await putCells(context, writes, styles);
        return read;
      });
    },
    async onSheetChanged(handler) {
      const excel = g.Excel;
      if (!excel) return async () => {};
      const registered = await run(excel, false, async (context) => {
        const result = context.workbook.worksheets.onChanged.add(async (ev) => {
          // The name is read each time: sheets can be renamed while the handler lives.
          const sheet = await run(excel, false, async (c) => {
            const ws = c.workbook.worksheets.getItem(ev.worksheetId);
            ws.load("name");
            await c.sync();
            return ws.name;
          });
          const change: SheetChange = { sheet, address: ev.address, changeType: String(ev.changeType), source: ev.source === "Remote" ? "Remote" : "Local" };
          const trigger = (ev as { triggerSource?: string }).triggerSource;
          if (trigger === "ThisLocalAddin" || trigger === "Unknown") change.triggerSource = trigger;
          // Excel gives details only for a single-cell change; reading them otherwise may throw.
          const details = singleCell(ev.address) ? (ev as { details?: { valueAfter?: unknown } }).details : undefined;
          if (details && "valueAfter" in details) change.valueAfter = details.valueAfter;
          handler(change);
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
    async onFormulaChanged(handler) {
      const excel = g.Excel;
      if (!excel || g.Office?.context?.requirements?.isSetSupported("ExcelApi", "1.13") !== true) return null;
      const registered = await run(excel, false, async (context) => {
        const result = context.workbook.worksheets.onFormulaChanged.add(async (ev) => {
          const sheet = await sheetName(excel, run, ev.worksheetId);
          const details = ev.formulaDetails as Excel.FormulaChangedEventDetail[] | undefined;
          handler({
            sheet,
            source: ev.source === "Remote" ? "Remote" : "Local",
            cells: details ? details.map((d) => ({ address: `${quoteSheetName(sheet)}!${d.cellAddress.replace(/\$/g, "")}`, previousFormula: String(d.previousFormula ?? "") })) : null,
          });
        });
        await context.sync();
        return result;
      });
      return () => removeHandler(excel, registered);
    },
    async onSheetStructure(handler) {
      const excel = g.Excel;
      const supported = (v: string) => g.Office?.context?.requirements?.isSetSupported("ExcelApi", v) === true;
      if (!excel) return async () => {};
      const results = await run(excel, false, async (context) => {
        const out: OfficeExtension.EventHandlerResult<unknown>[] = [];
        const sheets = context.workbook.worksheets;
        if (supported("1.10")) {
          out.push(
            sheets.onRowSorted.add(async (ev) => {
              handler({ kind: "rowsSorted", sheet: await sheetName(excel, run, ev.worksheetId), address: ev.address });
            }),
          );
        }
        if (supported("1.17")) {
          out.push(
            sheets.onNameChanged.add(async (ev) => {
              handler({ kind: "renamed", from: ev.nameBefore, to: ev.nameAfter });
            }),
          );
        }
        await context.sync();
        return out;
      });
      return async () => {
        for (const r of results) await removeHandler(excel, r);
      };
    },
    isSetSupported(name, minVersion) {
      const requirements = g.Office?.context?.requirements;
      return requirements ? requirements.isSetSupported(name, minVersion) === true : false;
    },
    displayDialog(url, options) {
      const office = g.Office;
      const ui = office?.context?.ui;
      if (!ui?.displayDialogAsync) return Promise.reject(new DialogOpenError(0, "Office's dialog API is not available here"));
      const messageEvent = office?.EventType?.DialogMessageReceived ?? "dialogMessageReceived";
      const dialogEvent = office?.EventType?.DialogEventReceived ?? "dialogEventReceived";
      const failed = office?.AsyncResultStatus?.Failed ?? "failed";
      return new Promise((resolve, reject) => {
        // displayInIframe false: a sign-in page must not be framed (Microsoft's dialog API guidance).
        ui.displayDialogAsync!(url, { ...options, displayInIframe: false }, (result) => {
          if (result.status === failed || !result.value) {
            reject(new DialogOpenError(result.error?.code ?? 0, result.error?.message ?? "the dialog could not be opened"));
            return;
          }
          const dialog = result.value;
          resolve({
            onMessage: (handler) => dialog.addEventHandler(messageEvent, (arg) => handler(String(arg.message ?? ""))),
            onEvent: (handler) => dialog.addEventHandler(dialogEvent, (arg) => handler(Number(arg.error))),
            close: () => dialog.close(),
          });
        });
      });
    },
    messageParent(message) {
      const ui = g.Office?.context?.ui;
      if (!ui?.messageParent) throw new Error("this page is not an Office dialog: Office.context.ui.messageParent is missing");
      ui.messageParent(message);
    },
    requestRibbonUpdate(update) {
      const ribbon = (g as CommandGlobals).Office?.ribbon;
      // RibbonApi 1.1 cannot be required in an add-in-only manifest; it is asked at run time.
      if (!ribbon || g.Office?.context?.requirements?.isSetSupported("RibbonApi", "1.1") !== true) return Promise.reject(new Error("Office's ribbon API (RibbonApi 1.1) is not available here"));
      return Promise.resolve(ribbon.requestUpdate(update));
    },
    associateAction(id, handler) {
      const actions = (g as CommandGlobals).Office?.actions;
      if (!actions) return false;
      actions.associate(id, handler);
      return true;
    },
    async showTaskpane() {
      const addin = (g as CommandGlobals).Office?.addin;
      if (!addin) throw new Error("Office.addin (SharedRuntime 1.1) is not available here");
      await addin.showAsTaskpane();
    },
  };
}

/**
 * What `Host.requestRibbonUpdate` sends (Office.RibbonUpdaterData, narrowed to enabling controls):
 * the tab, its groups and their controls, by the manifest's ids.
 * @example { tabs: [{ id: "Quantatom.Tab", groups: [{ id: "Quantatom.Changes", controls: [{ id: "Quantatom.Submit", enabled: false }] }] }] }
 */
export interface RibbonUpdate {
  tabs: { id: string; groups: { id: string; controls: { id: string; enabled: boolean }[] }[] }[];
}

/** What Office passes a ribbon button's ExecuteFunction handler (Office.AddinCommands.Event, the part used). */
export interface CommandEvent {
  /** Tells Office the command is done; Office waits for it before the button may run again. */
  completed(): void;
}

/** The add-in-command globals (RibbonApi 1.1, Office.actions, Office.addin), declared loosely as OfficeGlobals are. */
type CommandGlobals = {
  Office?: {
    ribbon?: { requestUpdate(input: RibbonUpdate): Promise<void> | void };
    actions?: { associate(actionId: string, action: (event?: CommandEvent) => unknown): void };
    addin?: { showAsTaskpane(): Promise<void> };
  };
};
