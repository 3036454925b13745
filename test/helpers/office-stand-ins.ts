/**
 * Stand-ins for the globals Excel gives a shared-runtime add-in, just enough for the functions
 * bundle and addin/src/host.ts: `CustomFunctions` (associate, Error, ErrorCode, streaming
 * invocations), `OfficeRuntime.storage`, `Office` (`onReady`, requirement sets, the dialog API:
 * see {@link officeStandIn}), and `Excel.run` over a small in-memory
 * workbook that behaves like Excel where writeback depends on it: entering a QATOM formula invokes
 * the associated function (streaming results land in the cell), overwriting it cancels the
 * invocation (`onCanceled`) *before* the worksheet's onChanged event fires, and writes through
 * `Range.formulas` fire onChanged too.
 */

/** CustomFunctions.ErrorCode's values. */
export const ErrorCode = {
  invalidValue: "#VALUE!",
  notAvailable: "#N/A",
  divisionByZero: "#DIV/0!",
  invalidNumber: "#NUM!",
  nullReference: "#NULL!",
  invalidName: "#NAME?",
  invalidReference: "#REF!",
} as const;

/** CustomFunctions.Error. */
export class StandInError {
  constructor(
    readonly code: string,
    readonly message?: string,
  ) {}
}

/** A CustomFunctions.StreamingInvocation that records every result. */
export class StreamingInvocationStub<T = unknown> {
  readonly results: (T | StandInError)[] = [];
  onCanceled?: () => void;
  canceled = false;
  /** Results set after `cancel` (there should be none). */
  resultsAfterCancel = 0;
  constructor(readonly address?: string) {}

  setResult = (value: T | StandInError): void => {
    if (this.canceled) this.resultsAfterCancel++;
    this.results.push(value);
  };

  get last(): T | StandInError | undefined {
    return this.results[this.results.length - 1];
  }

  /** What Excel does when the formula is deleted, overwritten or recalculated away. */
  cancel(): void {
    this.canceled = true;
    this.onCanceled?.();
  }
}

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

/** One cell of the fake workbook. */
export interface FakeCell {
  /** `=...` for a formula, otherwise the constant (number, text, boolean) or "" when empty. */
  formula: unknown;
  /** The computed value (a formula's last result). */
  value: unknown;
  invocation?: StreamingInvocationStub;
}

interface FakeSheet {
  id: string;
  name: string;
  cells: Map<string, FakeCell>;
}

/** Excel's WorksheetChangedEventArgs, the fields host.ts reads. */
interface ChangedArgs {
  worksheetId: string;
  address: string;
  changeType: string;
  source: string;
}

function splitAddress(address: string): { sheet: string; local: string } {
  const bang = address.lastIndexOf("!");
  let sheet = address.slice(0, bang);
  if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  return { sheet, local: address.slice(bang + 1).replace(/\$/g, "").toUpperCase() };
}

/** `Sheet1!B3`, or `'Plan 2025'!B3` when the sheet's name needs quotes (as Excel writes addresses). */
function excelAddress(sheet: string, local: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(sheet) ? `${sheet}!${local}` : `'${sheet.replace(/'/g, "''")}'!${local}`;
}

/** Splits a formula's argument list: string literals ("a""b") and numbers, comma-separated. */
function parseArgs(text: string): unknown[] {
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
      out.push(Number(text.slice(i, j).trim()));
      i = j;
    }
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
  }
  return out;
}

/**
 * A workbook with sheets of cells and a tiny calc engine for `=QATOM.CELL(...)` and
 * `=QATOM.COMMENT(...)` with literal arguments; `excel` is the `Excel` global over it.
 */
export class FakeWorkbook {
  readonly sheets: FakeSheet[] = [];
  private readonly handlers = new Set<(ev: ChangedArgs) => unknown>();
  /** Excel.run calls made (to see that reads are batched). */
  runs = 0;

  constructor(
    private readonly functions: Map<string, AnyFunction>,
    sheetNames: string[] = ["Sheet1", "Plan 2025"],
  ) {
    sheetNames.forEach((name, i) => {
      this.sheets.push({ id: `{sheet-${i + 1}}`, name, cells: new Map() });
    });
  }

  /** Number of worksheet onChanged handlers registered. */
  get handlerCount(): number {
    return this.handlers.size;
  }

  sheet(nameOrId: string): FakeSheet | undefined {
    const k = nameOrId.toLowerCase();
    return this.sheets.find((s) => s.id === nameOrId || s.name.toLowerCase() === k);
  }

  /** The cell at `Sheet!A1` (created empty when missing). */
  cell(address: string): FakeCell {
    const { sheet, local } = splitAddress(address);
    const s = this.sheet(sheet);
    if (!s) throw new Error(`no sheet ${sheet}`);
    let c = s.cells.get(local);
    if (!c) {
      c = { formula: "", value: "" };
      s.cells.set(local, c);
    }
    return c;
  }

  /** The user enters something in a cell (a formula or a constant): as Excel, then onChanged. */
  userEnters(address: string, content: unknown): void {
    this.setContent(address, content);
  }

  /**
   * The user fills a range with one entry (Ctrl+Enter over a selection, e.g. `Sheet1!B2:D2`): every
   * cell changes as by `userEnters`, then one onChanged fires for the whole range, as Excel does.
   */
  userFills(range: string, content: unknown): void {
    const { sheet, local } = splitAddress(range);
    const s = this.sheet(sheet)!;
    const [from, to = from] = local.split(":");
    const [, c1, r1] = /^([A-Z]+)(\d+)$/.exec(from)!;
    const [, c2, r2] = /^([A-Z]+)(\d+)$/.exec(to)!;
    const col = (l: string) => [...l].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
    const letters = (n: number) => {
      let out = "";
      for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) out = String.fromCharCode(65 + ((k - 1) % 26)) + out;
      return out;
    };
    for (let r = Number(r1); r <= Number(r2); r++) {
      for (let c = col(c1); c <= col(c2); c++) {
        const cell = this.cell(excelAddress(s.name, `${letters(c)}${r}`));
        cell.invocation?.cancel();
        cell.invocation = undefined;
        cell.formula = content;
        cell.value = content;
      }
    }
    this.fire({ worksheetId: s.id, address: local, changeType: "RangeEdited", source: "Local" });
  }

  private setContent(address: string, content: unknown): void {
    const { sheet, local } = splitAddress(address);
    const s = this.sheet(sheet)!;
    const c = this.cell(address);
    c.invocation?.cancel();
    c.invocation = undefined;
    c.formula = content;
    c.value = content;
    if (typeof content === "string" && content.startsWith("=")) this.evaluate(excelAddress(s.name, local), c);
    this.fire({ worksheetId: s.id, address: local, changeType: "RangeEdited", source: "Local" });
  }

  private evaluate(address: string, c: FakeCell): void {
    const m = /^=\s*QATOM\.(\w+)\((.*)\)\s*$/i.exec(String(c.formula));
    const fn = m && this.functions.get(m[1].toUpperCase());
    if (!m || !fn) {
      c.value = new StandInError(ErrorCode.invalidName);
      return;
    }
    const [first, ...rest] = parseArgs(m[2]);
    const inv = new StreamingInvocationStub(address);
    inv.setResult = (v: unknown) => {
      if (inv.canceled) inv.resultsAfterCancel++;
      inv.results.push(v);
      c.value = v;
    };
    c.invocation = inv;
    c.value = "#BUSY!";
    fn(
      first,
      rest.map((v) => [[v]]),
      inv,
    );
  }

  private fire(ev: ChangedArgs): void {
    for (const h of this.handlers) void h(ev);
  }

  private valueType(v: unknown): string {
    if (v === "" || v === null || v === undefined) return "Empty";
    if (typeof v === "number") return "Double";
    if (typeof v === "boolean") return "Boolean";
    if (v instanceof StandInError) return "Error";
    return "String";
  }

  /** The `Excel` global: `Excel.run(batch)` and `Excel.run(context, batch)`. */
  get excel() {
    return {
      run: async (a: unknown, b?: unknown) => {
        this.runs++;
        const batch = (typeof a === "function" ? a : b) as (ctx: unknown) => Promise<unknown>;
        return batch(this.requestContext());
      },
    };
  }

  private requestContext() {
    const wb = this;
    const queued: (() => void)[] = [];
    const rangeOf = (sheet: FakeSheet, local: string) => {
      const address = excelAddress(sheet.name, local.replace(/\$/g, "").toUpperCase());
      return {
        load(_props?: string) {},
        get formulas() {
          return [[wb.cell(address).formula]];
        },
        set formulas(v: unknown[][]) {
          queued.push(() => wb.setContent(address, v[0][0]));
        },
        get values() {
          return [[wb.cell(address).value]];
        },
        get valueTypes() {
          return [[wb.valueType(wb.cell(address).value)]];
        },
      };
    };
    const context = {
      workbook: {
        worksheets: {
          items: [] as { name: string }[],
          load(_props?: string) {
            this.items = wb.sheets.map((s) => ({ name: s.name }));
          },
          getItem(key: string) {
            const sheet = wb.sheet(key);
            if (!sheet) throw new Error(`ItemNotFound: ${key}`);
            return { name: sheet.name, load(_p?: string) {}, getRange: (local: string) => rangeOf(sheet, local) };
          },
          onChanged: {
            add(handler: (ev: ChangedArgs) => unknown) {
              wb.handlers.add(handler);
              return {
                context,
                remove() {
                  wb.handlers.delete(handler);
                },
              };
            },
          },
        },
      },
      async sync() {
        await Promise.resolve();
        for (const q of queued.splice(0)) q();
      },
    };
    return context;
  }
}

/** Polls `cond` until it holds or `timeoutMs` passes; resolves to the time it took (ms). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "a condition"): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}

/** What `Office.context.ui.displayDialogAsync` passes its callback (Office.AsyncResult<Dialog>, the fields used). */
export interface StandInAsyncResult {
  status: "succeeded" | "failed";
  value?: StandInDialogObject;
  error?: { code: number; name: string; message: string };
}

/** Office.Dialog as the opener sees it. */
export interface StandInDialogObject {
  addEventHandler(eventType: string, handler: (arg: { message: string; origin: string | undefined } | { error: number }) => void): void;
  close(): void;
}

/**
 * An open dialog, as the page loaded in it sees it: `office` is the dialog page's own `Office`
 * global (its `context.ui.messageParent` reaches the opener); the test plays the user.
 */
export interface StandInDialog {
  /** The URL the dialog was opened on. */
  readonly url: string;
  /** The options passed to displayDialogAsync. */
  readonly options: Record<string, unknown>;
  /** The dialog page's `Office` global (onReady, context.ui.messageParent, no requirements of a workbook). */
  readonly office: OfficeStandIn;
  /** True once the opener closed it or the user did. */
  readonly closed: boolean;
  /** The user closes the dialog with its X: the opener gets DialogEventReceived with error 12006. */
  userCloses(): void;
  /** The page could not be loaded: DialogEventReceived with error 12002. */
  failsToLoad(): void;
}

/** The `Office` global of {@link officeStandIn}. */
export interface OfficeStandIn {
  onReady(): Promise<{ host: string; platform: string }>;
  EventType: { DialogMessageReceived: "dialogMessageReceived"; DialogEventReceived: "dialogEventReceived" };
  AsyncResultStatus: { Succeeded: "succeeded"; Failed: "failed" };
  context: {
    requirements: { isSetSupported(name: string, minVersion?: string): boolean };
    ui: {
      displayDialogAsync(startAddress: string, optionsOrCallback?: unknown, callback?: (result: StandInAsyncResult) => void): void;
      messageParent(message: string, messageOptions?: { targetOrigin: string }): void;
    };
  };
}

/** `1.10` > `1.9`: requirement-set versions compare numerically, part by part. */
function versionAtLeast(have: string, want: string): boolean {
  const a = have.split(".").map(Number);
  const b = want.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Options of {@link officeStandIn}. */
export interface OfficeStandInOptions {
  /** The origin of the page that runs the add-in (the task pane / shared runtime), e.g. `https://localhost:3000`. */
  pageOrigin: string;
  /** Requirement sets this "Office" supports, by name, with their highest version, e.g. `{ NestedAppAuth: "1.1" }`. */
  requirementSets?: Record<string, string>;
  /** Called (asynchronously, as a page loads) with each dialog that opens: the test's dialog page. */
  onDialog?: (dialog: StandInDialog) => void | Promise<void>;
}

/**
 * The `Office` global of a page, with the parts Microsoft documents for requirement sets and the
 * dialog API, behaving as documented:
 *
 * - `context.requirements.isSetSupported(name, minVersion)`: true when the set is supported at that
 *   version or later; a missing `minVersion` means 1.1 ("Office versions and requirement sets").
 * - `context.ui.displayDialogAsync(url, [options], callback)`: fails with 12005 for an http URL,
 *   12004 for a URL outside the opener's origin (protocol, host and port), 12007 while a dialog
 *   from this page is open; otherwise succeeds with a Dialog whose `addEventHandler` takes
 *   `DialogMessageReceived` (`{message, origin}`) and `DialogEventReceived` (`{error}`: 12002 page
 *   not loaded, 12006 closed by the user), and whose `close()` closes it
 *   ("Handle errors and events in the Office dialog box", Office.Dialog).
 * - `context.ui.messageParent(message)` in the dialog's page: delivered to the opener's
 *   `DialogMessageReceived` handlers while the dialog is open. Messages must be strings.
 * - In the opener, `messageParent` throws: it is not a dialog.
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/dialog-handle-errors-events
 * @see https://learn.microsoft.com/javascript/api/office/office.ui
 */
export function officeStandIn(opts: OfficeStandInOptions): { office: OfficeStandIn; dialogs: StandInDialog[] } {
  const dialogs: StandInDialog[] = [];
  let open: StandInDialog | null = null;
  const sets = opts.requirementSets ?? {};
  const base = (ui: OfficeStandIn["context"]["ui"], requirements: Record<string, string>): OfficeStandIn => ({
    onReady: async () => ({ host: "Excel", platform: "PC" }),
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    context: {
      requirements: {
        isSetSupported: (name, minVersion = "1.1") => name in requirements && versionAtLeast(requirements[name], minVersion),
      },
      ui,
    },
  });
  const fail = (callback: ((r: StandInAsyncResult) => void) | undefined, code: number, message: string) =>
    setTimeout(() => callback?.({ status: "failed", error: { code, name: "Display Dialog Error", message } }), 0);

  const office = base(
    {
      displayDialogAsync(startAddress, optionsOrCallback, maybeCallback) {
        const callback = (typeof optionsOrCallback === "function" ? optionsOrCallback : maybeCallback) as ((r: StandInAsyncResult) => void) | undefined;
        const options = typeof optionsOrCallback === "object" && optionsOrCallback !== null ? (optionsOrCallback as Record<string, unknown>) : {};
        let url: URL;
        try {
          url = new URL(startAddress);
        } catch {
          fail(callback, 12004, "The domain of the URL is not included in the AppDomains element in the manifest, and is not subdomain of source location.");
          return;
        }
        if (url.protocol === "http:" && !opts.pageOrigin.startsWith("http:")) {
          fail(callback, 12005, "The URL uses the HTTP protocol. HTTPS is required.");
          return;
        }
        if (url.origin !== new URL(opts.pageOrigin).origin) {
          fail(callback, 12004, "The domain of the URL is not included in the AppDomains element in the manifest, and is not subdomain of source location.");
          return;
        }
        if (open && !open.closed) {
          fail(callback, 12007, "A dialog box is already opened from this host window.");
          return;
        }
        const handlers = { message: [] as ((a: { message: string; origin: string | undefined }) => void)[], event: [] as ((a: { error: number }) => void)[] };
        let closed = false;
        const close = () => {
          closed = true;
          if (open === dialog) open = null;
        };
        const dialogObject: StandInDialogObject = {
          addEventHandler(type, handler) {
            if (type === "dialogMessageReceived") handlers.message.push(handler as (a: { message: string; origin: string | undefined }) => void);
            else if (type === "dialogEventReceived") handlers.event.push(handler as (a: { error: number }) => void);
            else throw new Error(`Invalid event type ${type}`);
          },
          close,
        };
        const event = (code: number) => {
          if (closed) return;
          close();
          for (const h of handlers.event) h({ error: code });
        };
        const dialogOffice = base(
          {
            displayDialogAsync: (_u, a, b) => fail((typeof a === "function" ? a : b) as ((r: StandInAsyncResult) => void) | undefined, 12007, "A dialog box cannot open another."),
            messageParent(message) {
              if (typeof message !== "string") throw new TypeError("messageParent takes a string");
              if (closed) return;
              setTimeout(() => {
                if (!closed) for (const h of handlers.message) h({ message, origin: url.origin });
              }, 0);
            },
          },
          {},
        );
        const dialog: StandInDialog = {
          url: startAddress,
          options,
          office: dialogOffice,
          get closed() {
            return closed;
          },
          userCloses: () => event(12006),
          failsToLoad: () => event(12002),
        };
        open = dialog;
        dialogs.push(dialog);
        setTimeout(() => {
          callback?.({ status: "succeeded", value: dialogObject });
          // The page loads after the opener has its Dialog (and has registered its handlers).
          setTimeout(() => void opts.onDialog?.(dialog), 0);
        }, 0);
      },
      messageParent() {
        throw new Error("messageParent is available only in a page opened by displayDialogAsync");
      },
    },
    sets,
  );
  return { office, dialogs };
}
