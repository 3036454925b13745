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
  details?: ChangedDetail;
}

/** Excel.RunOptions, as a batch was given them. */
export interface StandInRunOptions {
  delayForCellEdit?: boolean;
  mergeUndoGroup?: boolean;
}

/** The error Excel gives a batch made while the user edits a cell (Excel.ErrorCodes.invalidOperationInCellEditMode; Office's own message). */
export class CellEditModeError extends Error {
  readonly code = "InvalidOperationInCellEditMode";
  constructor() {
    super("Excel is in cell-editing mode. Please exit the edit mode by pressing ENTER or TAB or selecting another cell, and then try again.");
    this.name = "RichApi.Error";
  }
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
      const token = text.slice(i, j).trim();
      out.push(/^\$?[A-Za-z]{1,3}\$?\d+$/.test(token) ? { ref: token.replace(/\$/g, "").toUpperCase() } : Number(token));
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
  /** The options of each Excel.run, in order (`{}` when none were given). */
  readonly runOptions: StandInRunOptions[] = [];
  /** Batches that failed because the user was editing a cell. */
  failedInEditMode = 0;
  /** The cell the user is editing, null when none. */
  editing: string | null = null;
  private readonly editEnded: (() => void)[] = [];
  private writeFailures: { count: number; error: () => Error } = { count: 0, error: () => new Error() };

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

  /**
   * The user enters something in a cell (a formula or a constant) and presses Enter: as Excel, then
   * onChanged. An edit in progress ends with it (batches waiting for it run after the event).
   */
  userEnters(address: string, content: unknown): void {
    const wasEditing = this.editing !== null;
    this.editing = null;
    this.setContent(address, content);
    if (wasEditing) this.releaseWaiting();
  }

  /** The user starts typing in a cell (Excel's Enter / Edit mode): batches sync only with `delayForCellEdit`, after the edit. */
  beginsEdit(address: string): void {
    this.editing = address;
  }

  /** The user leaves the edit without a change (Esc): waiting batches run. */
  endsEdit(): void {
    this.editing = null;
    this.releaseWaiting();
  }

  /** The next `count` batches that write cells fail with `error` (as when the sheet is protected or Excel is busy). */
  failWrites(count: number, error: () => Error): void {
    this.writeFailures = { count, error };
  }

  private releaseWaiting(): void {
    for (const resume of this.editEnded.splice(0)) resume();
  }

  /**
   * The user fills a range with one entry (Ctrl+Enter over a selection, e.g. `Sheet1!B2:D2`): every
   * cell changes as by `userEnters`, then one onChanged fires for the whole range, as Excel does,
   * without `details` (Excel gives them for a single-cell change only).
   */
  userFills(range: string, content: unknown): void {
    const { sheet, local } = splitAddress(range);
    const s = this.sheet(sheet)!;
    const [from, to = from] = local.split(":");
    if (from === to) {
      this.userEnters(range, content);
      return;
    }
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
    const before = c.value;
    c.invocation?.cancel();
    c.invocation = undefined;
    c.formula = content;
    c.value = content;
    if (typeof content === "string" && content.startsWith("=")) this.evaluate(excelAddress(s.name, local), c);
    const details = { valueBefore: before, valueAfter: c.value, valueTypeBefore: this.valueType(before), valueTypeAfter: this.valueType(c.value) };
    this.fire({ worksheetId: s.id, address: local, changeType: "RangeEdited", source: "Local", details });
  }

  private evaluate(address: string, c: FakeCell): void {
    const m = /^=\s*QATOM\.(\w+)\((.*)\)\s*$/i.exec(String(c.formula));
    const fn = m && this.functions.get(m[1].toUpperCase());
    if (!m || !fn) {
      c.value = new StandInError(ErrorCode.invalidName);
      return;
    }
    const sheetName = splitAddress(address).sheet;
    const [first, ...rest] = parseArgs(m[2]).map((a) => (typeof a === "object" && a !== null ? this.cell(excelAddress(sheetName, (a as { ref: string }).ref)).value : a));
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
        // Excel.run(options, batch) or Excel.run(object, batch) (a previous object's context: no options).
        const given = typeof a === "object" && a !== null && !("workbook" in a) ? (a as StandInRunOptions) : {};
        const options: StandInRunOptions = {};
        if (given.delayForCellEdit !== undefined) options.delayForCellEdit = given.delayForCellEdit;
        if (given.mergeUndoGroup !== undefined) options.mergeUndoGroup = given.mergeUndoGroup;
        this.runOptions.push(options);
        return batch(this.requestContext(options));
      },
    };
  }

  private requestContext(options: StandInRunOptions) {
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
        // The batch reaches Excel now: in cell-edit mode it fails, or waits when asked to.
        // A delayed request runs as the edit ends, even if the user starts the next one right after.
        if (wb.editing !== null) {
          if (!options.delayForCellEdit) {
            wb.failedInEditMode++;
            queued.splice(0);
            throw new CellEditModeError();
          }
          await new Promise<void>((resume) => wb.editEnded.push(resume));
        }
        if (queued.length > 0 && wb.writeFailures.count > 0) {
          wb.writeFailures.count--;
          queued.splice(0);
          throw wb.writeFailures.error();
        }
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

/** The `Office` global (requirement sets, the dialog API) lives in its own file; re-exported here. */
export * from "./office-dialog-stand-in";
