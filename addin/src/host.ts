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
}

/** A formula to put back in a cell (address with sheet). */
export interface FormulaWrite {
  address: string;
  formula: string;
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

/** The Office surface the add-in runtime needs. */
export interface Host {
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
  /** Writes formulas (addresses with sheet) in one Excel.run. */
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

/** Queues loads of cells (addresses with sheet); after the one sync inside, the returned function gives them. */
async function loadCells(context: Excel.RequestContext, addresses: readonly string[]): Promise<() => SheetCell[]> {
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
  return () =>
    ranges.map(({ address, range }) => ({
      address,
      formula: range.formulas[0][0],
      valueType: String(range.valueTypes[0][0]),
      value: range.values[0][0],
    }));
}

function putFormulas(context: Excel.RequestContext, cells: readonly FormulaWrite[]): void {
  for (const { address, formula } of cells) {
    const { sheet, local } = splitAddress(address);
    context.workbook.worksheets.getItem(sheet).getRange(local).formulas = [[formula]];
  }
}

/**
 * The host over the real Office globals (Excel JavaScript API 1.9+: `worksheets.onChanged`).
 * @param scope where the globals are (default `globalThis`; tests pass an object of stand-ins).
 */
export function officeHost(scope?: object): Host {
  const g = (scope ?? globals()) as OfficeGlobals;
  const run = runner(g);
  return {
    async ready() {
      if (!g.Office) return false;
      await g.Office.onReady();
      return g.Excel !== undefined;
    },
    storage: g.OfficeRuntime?.storage ?? localStorageAdapter(g.localStorage),
    pageOrigin() {
      const loc = g.location;
      return loc?.origin && /^https?:$/.test(loc.protocol ?? "") ? loc.origin : null;
    },
    async readCells(addresses) {
      if (!g.Excel || addresses.length === 0) return [];
      return run(g.Excel, false, async (context) => {
        const cells = await loadCells(context, addresses);
        return cells();
      });
    },
    async writeFormulas(cells) {
      if (!g.Excel || cells.length === 0) return;
      await run(g.Excel, true, async (context) => {
        putFormulas(context, cells);
        await context.sync();
      });
    },
    async readAndRestore(addresses, decide) {
      if (!g.Excel || addresses.length === 0) return [];
      return run(g.Excel, true, async (context) => {
        const read = (await loadCells(context, addresses))();
        const writes = decide(read);
        if (writes.length > 0) {
          putFormulas(context, writes);
          await context.sync();
        }
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
