/**
 * A stand-in for Excel's workbook, for the functions bundle and addin/src/host.ts, that behaves as
 * Microsoft documents Excel where writeback depends on it. Runs in Node (`vm`) and in Chromium
 * (bundled into test pages). Each behaviour names its source:
 *
 * - **Custom functions.** Entering a QATOM formula invokes the associated function; its streaming
 *   results land in the cell. Cells whose formulas call the same function with the same arguments
 *   share ONE invocation, whose `address` is the first cell's ("excel/custom-functions-web-reqs":
 *   Excel gives one stream to identical calls). Overwriting a cell cancels its invocation
 *   (`onCanceled`) once no cell uses it any more, *before* the change events fire.
 * - **Cell-edit mode** (Excel.RunOptions, "Delay execution while a cell is being edited"): while the
 *   user edits a cell ({@link FakeWorkbook.beginsEdit}) a batch's `sync()` fails with
 *   `InvalidOperationInCellEditMode` unless `Excel.run` got `{ delayForCellEdit: true }`, in which
 *   case it waits until the edit ends.
 * - **onChanged** (WorksheetCollection.onChanged, ExcelApi 1.9): one event per user action or per
 *   batch sync, over the changed range; `details` only for a single-cell change ("details ... can
 *   be retrieved when the changed event is triggered on a single cell"); `triggerSource`
 *   (ExcelApi 1.14) `ThisLocalAddin` for this add-in's own writes, `Unknown` otherwise; inserted or
 *   deleted rows and columns give `RowInserted`, `RowDeleted`, `ColumnInserted`, `ColumnDeleted`.
 * - **onFormulaChanged** (WorksheetCollection.onFormulaChanged, ExcelApi 1.13): for cells whose
 *   formula changed, `formulaDetails` with `cellAddress` and `previousFormula`; undefined above a
 *   size limit ("If the number of changed formulas ... exceeds a size limit, formulaDetails
 *   returns undefined").
 * - **Undo** ("excel/excel-add-ins-undo-capabilities"): user actions and the add-in's writes are on
 *   one undo stack; a batch run with `mergeUndoGroup` (ExcelApi 1.20) is one undo step, otherwise
 *   each sync that writes is one. {@link FakeWorkbook.userUndoes} is Ctrl+Z: it takes back the last
 *   step and fires the change events (source Local, trigger Unknown). Structural edits clear the
 *   stack here (a simplification: the add-in's handling of them does not depend on undo).
 * - **Styles** (Excel.Style, ExcelApi 1.7): `workbook.styles` with `add` and
 *   `getItemOrNullObject`; `Range.style` and `Range.numberFormat`; typing keeps a cell's style.
 * - **The 5 MB limit** of Excel on the web ("Resource limits and performance optimization": "Excel on
 *   the web has a payload size limit for requests and responses of 5MB"): a sync whose writes or
 *   reads are larger fails with `RequestPayloadSizeLimitExceeded`.
 *
 * Formulas may refer to cells of their sheet (`$A2`, `B$1`); when a referenced cell changes, the
 * formulas that refer to it are calculated again (Excel's recalculation of dependents: a streaming
 * function's invocation with the old arguments is canceled and one with the new starts); structural
 * edits move cells and adjust those references as Excel does (./fake-workbook-structure.ts).
 * `Range.format.font.bold` and `Range.format.indentLevel` are kept per cell.
 */
import {
  type Before,
  CellEditModeError,
  type ChangedArgs,
  cellsOf,
  colLetters,
  colNumber,
  excelAddress,
  FORMULA_DETAILS_LIMIT,
  type FakeCell,
  type FakeSheet,
  type FakeStyle,
  type FormulaChangedArgs,
  type Origin,
  PAYLOAD_LIMIT_BYTES,
  PayloadLimitError,
  parseArgs,
  type SheetEventArgs,
  type StandInRunOptions,
  splitAddress,
} from "./fake-workbook-addresses";
import { ErrorCode, StandInError, StreamingInvocationStub } from "./custom-functions-stand-in";
import { moveColumns, moveRows, type Move, renameInFormulas, sortRows } from "./fake-workbook-structure";

export * from "./fake-workbook-addresses";
export { ErrorCode, StandInError, StreamingInvocationStub };

type AnyFunction = (...args: unknown[]) => unknown;

const isFormula = (v: unknown): v is string => typeof v === "string" && v.startsWith("=");

/**
 * A workbook with sheets of cells and a tiny calc engine for `=QATOM.<FN>(...)` with literal and
 * reference arguments; `excel` is the `Excel` global over it. See the module comment.
 */
export class FakeWorkbook {
  readonly sheets: FakeSheet[] = [];
  readonly styles = new Map<string, FakeStyle>([["normal", { name: "Normal", fill: { color: "" }, font: { color: "#000000", italic: false }, includeNumber: true }]]);
  private readonly handlers = new Set<(ev: ChangedArgs) => unknown>();
  private readonly formulaHandlers = new Set<(ev: FormulaChangedArgs) => unknown>();
  private readonly sortHandlers = new Set<(ev: SheetEventArgs) => unknown>();
  private readonly nameHandlers = new Set<(ev: SheetEventArgs) => unknown>();
  /** Live invocations by function and arguments: identical calls share one. */
  private readonly shared = new Map<string, { inv: StreamingInvocationStub; cells: Set<FakeCell> }>();
  /** The undo stack: each step, the cells' contents before it (in the order they changed). */
  private readonly undoStack: Before[][] = [];
  /** Excel.run calls made (to see that reads are batched). */
  runs = 0;
  /** The options of each Excel.run, in order (`{}` when none were given). */
  readonly runOptions: StandInRunOptions[] = [];
  /** Batches that failed because the user was editing a cell. */
  failedInEditMode = 0;
  /** The cell the user is editing, null when none. */
  editing: string | null = null;
  /** The request / response limit (Excel on the web: 5 MB; tests lower it). */
  payloadLimit = PAYLOAD_LIMIT_BYTES;
  /** The largest request or response a sync made, in bytes. */
  largestPayload = 0;
  private readonly editEnded: (() => void)[] = [];
  private writeFailures: { count: number; error: () => Error } = { count: 0, error: () => new Error() };
  private nextSheetId = 1;

  constructor(
    private readonly functions: Map<string, AnyFunction>,
    sheetNames: string[] = ["Sheet1", "Plan 2025"],
  ) {
    for (const name of sheetNames) this.addSheet(name);
  }

  private addSheet(name: string): FakeSheet {
    const s = { id: `{sheet-${this.nextSheetId++}}`, name, cells: new Map<string, FakeCell>() };
    this.sheets.push(s);
    return s;
  }

  /** Number of worksheet onChanged handlers registered. */
  get handlerCount(): number {
    return this.handlers.size;
  }

  /** Number of onFormulaChanged handlers registered. */
  get formulaHandlerCount(): number {
    return this.formulaHandlers.size;
  }

  /** Steps on the undo stack. */
  get undoDepth(): number {
    return this.undoStack.length;
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
    return this.cellIn(s, local);
  }

  private cellIn(s: FakeSheet, local: string): FakeCell {
    let c = s.cells.get(local);
    if (!c) {
      c = { formula: "", value: "", style: "Normal", numberFormat: "General" };
      s.cells.set(local, c);
    }
    return c;
  }

  /**
   * The user enters something in a cell (a formula or a constant) and presses Enter: one undo step,
   * then the events. An edit in progress ends with it (batches waiting for it run after the events).
   */
  userEnters(address: string, content: unknown): void {
    const { sheet, local } = splitAddress(address);
    this.userAction(this.sheet(sheet)!, [[local, content]]);
  }

  /**
   * The user fills a range with one entry (Ctrl+Enter over a selection, or the fill handle; e.g.
   * `Sheet1!B2:D2`): one undo step and one onChanged for the whole range, without `details`.
   */
  userFills(range: string, content: unknown): void {
    const { sheet, local } = splitAddress(range);
    this.userAction(
      this.sheet(sheet)!,
      cellsOf(local).map((l) => [l, content]),
    );
  }

  /** The user pastes a block of values (rows of columns) with its top-left at `topLeft`: one step, one event. */
  userPastes(topLeft: string, rows: unknown[][]): void {
    const { sheet, local } = splitAddress(topLeft);
    const m = /^([A-Z]+)(\d+)$/.exec(local)!;
    const entries: [string, unknown][] = [];
    rows.forEach((row, r) => {
      row.forEach((v, c) => {
        entries.push([`${colLetters(colNumber(m[1]) + c)}${Number(m[2]) + r}`, v]);
      });
    });
    this.userAction(this.sheet(sheet)!, entries);
  }

  /** The user presses Delete over a range: contents cleared (formats kept), as Excel's Delete key. */
  userDeletes(range: string): void {
    this.userFills(range, "");
  }

  /** Ctrl+Z: takes back the last undo step (the user's or the add-in's) and fires the events. */
  userUndoes(): boolean {
    const step = this.undoStack.pop();
    if (!step) return false;
    const changed: Before[] = [];
    for (const b of [...step].reverse()) {
      const c = this.cellIn(b.sheet, b.local);
      changed.push(this.snapshotOf(b.sheet, b.local));
      c.style = b.style;
      c.numberFormat = b.numberFormat;
      this.place(b.sheet, b.local, b.formula);
    }
    this.endEdit();
    this.dispatch(changed, "undo");
    return true;
  }

  private userAction(s: FakeSheet, entries: [string, unknown][]): void {
    const wasEditing = this.editing !== null;
    this.editing = null;
    const step: Before[] = [];
    for (const [local, content] of entries) {
      step.push(this.snapshotOf(s, local));
      this.place(s, local, content);
    }
    this.undoStack.push(step);
    this.dispatch(step, "user");
    if (wasEditing) this.releaseWaiting();
  }

  /** The user starts typing in a cell (Excel's Enter / Edit mode): batches sync only with `delayForCellEdit`, after the edit. */
  beginsEdit(address: string): void {
    this.editing = address;
  }

  /** The user leaves the edit without a change (Esc): waiting batches run. */
  endsEdit(): void {
    this.endEdit();
  }

  private endEdit(): void {
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

  private snapshotOf(s: FakeSheet, local: string): Before {
    const c = this.cellIn(s, local);
    return { sheet: s, local, formula: c.formula, value: c.value, style: c.style, numberFormat: c.numberFormat };
  }

  /** Sets a cell's content: leaves its shared invocation, then evaluates a formula. */
  private place(s: FakeSheet, local: string, content: unknown): void {
    const c = this.cellIn(s, local);
    this.leaveInvocation(c);
    c.formula = content;
    c.value = content;
    if (isFormula(content)) this.evaluate(s, local, c);
    this.recalcDependents(s, local);
  }

  /** Calculates again the QATOM formulas of the sheet that refer to `local` (one level: QATOM results are not referred to here). */
  private recalcDependents(s: FakeSheet, local: string): void {
    for (const [at, d] of s.cells) {
      if (at === local || !isFormula(d.formula) || !/QATOM\./i.test(d.formula)) continue;
      const args = /\((.*)\)\s*$/.exec(d.formula)?.[1] ?? "";
      if (!parseArgs(args).some((a) => typeof a === "object" && a !== null && (a as { ref: string }).ref === local)) continue;
      this.leaveInvocation(d);
      this.evaluate(s, at, d);
    }
  }

  private leaveInvocation(c: FakeCell): void {
    const inv = c.invocation;
    if (!inv) return;
    c.invocation = undefined;
    for (const [key, sh] of this.shared) {
      if (sh.inv !== inv) continue;
      sh.cells.delete(c);
      if (sh.cells.size === 0) {
        this.shared.delete(key);
        inv.cancel();
      }
    }
  }

  private evaluate(s: FakeSheet, local: string, c: FakeCell): void {
    const m = /^=\s*QATOM\.(\w+)\((.*)\)\s*$/i.exec(String(c.formula));
    const fn = m && this.functions.get(m[1].toUpperCase());
    if (!m || !fn) {
      c.value = new StandInError(ErrorCode.invalidName);
      return;
    }
    const args = parseArgs(m[2]).map((a) => (typeof a === "object" && a !== null ? this.cellIn(s, (a as { ref: string }).ref).value : a));
    const key = JSON.stringify([m[1].toUpperCase(), args]);
    const live = this.shared.get(key);
    if (live) {
      // One invocation for identical calls: this cell shows its results too.
      live.cells.add(c);
      c.invocation = live.inv;
      c.value = live.inv.last ?? "#BUSY!";
      return;
    }
    const inv = new StreamingInvocationStub(excelAddress(s.name, local));
    const cells = new Set([c]);
    inv.setResult = (v: unknown) => {
      if (inv.canceled) inv.resultsAfterCancel++;
      inv.results.push(v);
      for (const x of cells) x.value = v;
    };
    this.shared.set(key, { inv, cells });
    c.invocation = inv;
    c.value = "#BUSY!";
    const [first, ...rest] = args;
    fn(
      first,
      rest.map((v) => [[v]]),
      inv,
    );
  }

  /** Fires onChanged (and onFormulaChanged for changed formulas) for cells changed by one action or sync. */
  private dispatch(changed: Before[], origin: Origin): void {
    const bySheet = new Map<FakeSheet, Before[]>();
    for (const b of changed) bySheet.set(b.sheet, [...(bySheet.get(b.sheet) ?? []), b]);
    for (const [s, list] of bySheet) {
      const locals = [...new Set(list.map((b) => b.local))];
      const cols = locals.map((l) => colNumber(/^[A-Z]+/.exec(l)![0]));
      const rows = locals.map((l) => Number(/\d+$/.exec(l)![0]));
      const from = `${colLetters(Math.min(...cols))}${Math.min(...rows)}`;
      const to = `${colLetters(Math.max(...cols))}${Math.max(...rows)}`;
      const ev: ChangedArgs = {
        worksheetId: s.id,
        address: from === to ? from : `${from}:${to}`,
        changeType: "RangeEdited",
        source: "Local",
        triggerSource: origin === "addin" ? "ThisLocalAddin" : "Unknown",
      };
      if (from === to) {
        const b = list[0];
        const now = this.cellIn(s, b.local).value;
        ev.details = { valueBefore: b.value, valueAfter: now, valueTypeBefore: this.valueType(b.value), valueTypeAfter: this.valueType(now) };
      }
      const formulaDetails = list
        .filter((b) => {
          const after = this.cellIn(s, b.local).formula;
          return (isFormula(b.formula) || isFormula(after)) && b.formula !== after;
        })
        .map((b) => ({ cellAddress: b.local, previousFormula: b.formula === null || b.formula === undefined ? "" : String(b.formula) }));
      for (const h of this.handlers) void h(ev);
      if (formulaDetails.length > 0) {
        const fev: FormulaChangedArgs = { worksheetId: s.id, source: "Local" };
        if (formulaDetails.length <= FORMULA_DETAILS_LIMIT) fev.formulaDetails = formulaDetails;
        for (const h of this.formulaHandlers) void h(fev);
      }
    }
  }

  private valueType(v: unknown): string {
    if (v === "" || v === null || v === undefined) return "Empty";
    if (typeof v === "number") return "Double";
    if (typeof v === "object" && v !== null && (v as { type?: string }).type === "Double") return "Double";
    if (typeof v === "boolean") return "Boolean";
    if (v instanceof StandInError) return "Error";
    return "String";
  }

  /** Inserts (count > 0) or deletes (count < 0) rows at `row` of a sheet, as Excel's Insert / Delete rows. */
  userInsertsRows(sheet: string, row: number, count: number): void {
    this.structural(sheet, { axis: "row", at: row, count });
  }

  /** Inserts (count > 0) or deletes (count < 0) columns at `col` (1-based) of a sheet. */
  userInsertsColumns(sheet: string, col: number, count: number): void {
    this.structural(sheet, { axis: "col", at: col, count });
  }

  private structural(sheetName: string, move: Move): void {
    const s = this.sheet(sheetName)!;
    s.cells = move.axis === "row" ? moveRows(s.cells, move) : moveColumns(s.cells, move);
    this.undoStack.length = 0;
    const n = Math.abs(move.count);
    const address = move.axis === "row" ? `${move.at}:${move.at + n - 1}` : `${colLetters(move.at)}:${colLetters(move.at + n - 1)}`;
    const changeType = `${move.axis === "row" ? "Row" : "Column"}${move.count > 0 ? "Inserted" : "Deleted"}`;
    for (const h of this.handlers) void h({ worksheetId: s.id, address, changeType, source: "Local", triggerSource: "Unknown" });
  }

  /** Sorts the rows of `range` (e.g. `Sheet1!A3:F9`) by the values of `byColumn` (ascending), as Data > Sort; fires onRowSorted. */
  userSortsRows(range: string, byColumn: string): void {
    const { sheet, local } = splitAddress(range);
    const s = this.sheet(sheet)!;
    s.cells = sortRows(s.cells, local, byColumn);
    this.undoStack.length = 0;
    for (const h of this.sortHandlers) void h({ worksheetId: s.id, address: local });
  }

  /** Renames a sheet (formulas of other sheets follow, as in Excel); fires onNameChanged. */
  userRenamesSheet(from: string, to: string): void {
    const s = this.sheet(from)!;
    const before = s.name;
    s.name = to;
    for (const other of this.sheets) for (const c of other.cells.values()) if (isFormula(c.formula)) c.formula = renameInFormulas(c.formula, before, to);
    for (const h of this.nameHandlers) void h({ worksheetId: s.id, nameBefore: before, nameAfter: to });
  }

  /** Moves a sheet to another position in the tab order (nothing about its cells changes). */
  userMovesSheet(name: string, position: number): void {
    const s = this.sheet(name)!;
    this.sheets.splice(this.sheets.indexOf(s), 1);
    this.sheets.splice(position, 0, s);
  }

  /** Copies a sheet (Move or Copy > Create a copy): the copy's formulas are entered anew. */
  userCopiesSheet(name: string, copyName: string): void {
    const from = this.sheet(name)!;
    const copy = this.addSheet(copyName);
    for (const [local, c] of from.cells) {
      const nc = this.cellIn(copy, local);
      nc.style = c.style;
      nc.numberFormat = c.numberFormat;
    }
    // Constants first (formulas may refer to them), then the formulas.
    for (const [local, c] of from.cells) if (!isFormula(c.formula)) this.place(copy, local, c.formula);
    for (const [local, c] of from.cells) if (isFormula(c.formula)) this.place(copy, local, c.formula);
  }

  /** The `Excel` global: `Excel.run(batch)`, `Excel.run(options, batch)` and `Excel.run(object, batch)`. */
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
        const group: Before[] = [];
        try {
          return await batch(this.requestContext(options, group));
        } finally {
          if (options.mergeUndoGroup && group.length > 0) this.undoStack.push(group);
        }
      },
    };
  }

  private requestContext(options: StandInRunOptions, group: Before[]) {
    const wb = this;
    const queued: { bytes: number; apply: () => Before[] }[] = [];
    const loads: (() => number)[] = [];
    const setter = (s: FakeSheet, local: string, bytes: number, change: (c: FakeCell) => void) =>
      queued.push({
        bytes,
        apply: () => {
          const before = wb.snapshotOf(s, local);
          change(wb.cellIn(s, local));
          return [before];
        },
      });
    const rangeOf = (s: FakeSheet, address: string) => {
      const local = address.replace(/\$/g, "").toUpperCase();
      const locals = cellsOf(local);
      const grid = <T>(f: (c: FakeCell) => T): T[][] => {
        const rows = new Map<string, T[]>();
        for (const l of locals) {
          const r = /\d+$/.exec(l)![0];
          rows.set(r, [...(rows.get(r) ?? []), f(wb.cellIn(s, l))]);
        }
        return [...rows.values()];
      };
      const one = (v: unknown[][]) => v[0][0];
      return {
        load(_props?: string) {
          loads.push(() => locals.reduce((n, l) => n + JSON.stringify(wb.cellIn(s, l).formula ?? "").length + 16, 0));
        },
        get formulas() {
          return grid((c) => c.formula);
        },
        set formulas(v: unknown[][]) {
          const content = one(v);
          setter(s, locals[0], JSON.stringify(content ?? "").length + 16, () => wb.place(s, locals[0], content));
        },
        get values() {
          return grid((c) => c.value);
        },
        get valueTypes() {
          return grid((c) => wb.valueType(c.value));
        },
        get style() {
          return wb.cellIn(s, locals[0]).style;
        },
        set style(name: string) {
          const st = wb.styles.get(name.toLowerCase());
          if (!st) throw new Error(`ItemNotFound: style ${name}`);
          for (const l of locals) setter(s, l, name.length + 16, (c) => {
            c.style = st.name;
          });
        },
        get numberFormat() {
          return grid((c) => c.numberFormat);
        },
        set numberFormat(v: unknown[][]) {
          setter(s, locals[0], 32, (c) => {
            c.numberFormat = String(one(v));
          });
        },
        format: {
          font: {
            set bold(b: boolean) {
              for (const l of locals) setter(s, l, 16, (c) => {
                c.bold = b;
              });
            },
          },
          set indentLevel(n: number) {
            for (const l of locals) setter(s, l, 16, (c) => {
              c.indentLevel = n;
            });
          },
        },
      };
    };
    const styleProxy = (name: string) => {
      const st = wb.styles.get(name.toLowerCase());
      return st ? Object.assign(st, { isNullObject: false, load() {} }) : { isNullObject: true, load() {} };
    };
    const context = {
      workbook: {
        styles: {
          getItemOrNullObject: (name: string) => styleProxy(name),
          getItem: (name: string) => {
            const st = styleProxy(name);
            if (st.isNullObject) throw new Error(`ItemNotFound: style ${name}`);
            return st;
          },
          add: (name: string) => {
            const existing = wb.styles.get(name.toLowerCase());
            if (existing) {
              queued.push({
                bytes: name.length,
                apply: () => {
                  throw new Error(`InvalidArgument: the style ${name} exists`);
                },
              });
              return existing;
            }
            const st: FakeStyle = { name, fill: { color: "" }, font: { color: "#000000", italic: false }, includeNumber: true };
            wb.styles.set(name.toLowerCase(), st);
            return st;
          },
        },
        worksheets: {
          items: [] as { name: string }[],
          load(_props?: string) {
            this.items = wb.sheets.map((s) => ({ name: s.name }));
          },
          getItem(key: string) {
            const sheet = wb.sheet(key);
            if (!sheet) throw new Error(`ItemNotFound: ${key}`);
            return { name: sheet.name, id: sheet.id, load(_p?: string) {}, getRange: (local: string) => rangeOf(sheet, local) };
          },
          onChanged: { add: (h: (ev: ChangedArgs) => unknown) => wb.listen(wb.handlers, h, context) },
          onFormulaChanged: { add: (h: (ev: FormulaChangedArgs) => unknown) => wb.listen(wb.formulaHandlers, h, context) },
          onRowSorted: { add: (h: (ev: SheetEventArgs) => unknown) => wb.listen(wb.sortHandlers, h, context) },
          onNameChanged: { add: (h: (ev: SheetEventArgs) => unknown) => wb.listen(wb.nameHandlers, h, context) },
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
            loads.splice(0);
            throw new CellEditModeError();
          }
          await new Promise<void>((resume) => wb.editEnded.push(resume));
        }
        const request = queued.reduce((n, q) => n + q.bytes, 0);
        const response = loads.reduce((n, f) => n + f(), 0);
        loads.splice(0);
        wb.largestPayload = Math.max(wb.largestPayload, request, response);
        if (request > wb.payloadLimit || response > wb.payloadLimit) {
          queued.splice(0);
          throw new PayloadLimitError(Math.max(request, response));
        }
        if (queued.length > 0 && wb.writeFailures.count > 0) {
          wb.writeFailures.count--;
          queued.splice(0);
          throw wb.writeFailures.error();
        }
        if (queued.length === 0) return;
        const changed: Before[] = [];
        for (const q of queued.splice(0)) changed.push(...q.apply());
        if (changed.length === 0) return;
        if (options.mergeUndoGroup) group.push(...changed);
        else wb.undoStack.push(changed);
        wb.dispatch(changed, "addin");
      },
    };
    return context;
  }

  private listen<T>(set: Set<(ev: T) => unknown>, handler: (ev: T) => unknown, context: unknown) {
    set.add(handler);
    return {
      context,
      remove() {
        set.delete(handler);
      },
    };
  }
}
