/**
 * Formulas the writeback handler could not put back: the Excel batch failed (the workbook was
 * busy, a sheet protected, the user's edit never ended), or the handler never knew the formula's
 * text (the user typed over the cell before the registry read it). Each is listed for the task pane
 * until it is put back or dismissed; the failed ones are retried (1 s, 5 s, then every 30 s) and on
 * the pane's Retry.
 *
 * The add-in never writes a formula it rebuilt from member names: `=QATOM.CELL("Demo","[Region]...")`
 * in place of the user's `=QATOM.CELL($B$1,B$2,$A3)` would silently break their references (and
 * every copy of the formula along the row). A cell whose text is unknown is reported instead.
 */
import { cellKey } from "./address";
import type { FormulaWrite } from "./host";

/** A formula that is not back in its cell. */
export interface RestoreProblem {
  /** The cell's key (lower-case sheet, as pending writes' ids). */
  id: string;
  /** The cell, with its sheet. */
  address: string;
  /** The formula to put back; null when its text was never read (nothing can be put back). */
  formula: string | null;
  /** What the user typed over it, as the sheet showed it. */
  typed: string;
  /** What went wrong, for the pane. */
  message: string;
  /** Attempts to put it back so far. */
  attempts: number;
}

/** Why a cell whose formula text was not known is reported rather than rebuilt. */
export const UNKNOWN_FORMULA_MESSAGE =
  "The formula's text had not been read yet, so it was not put back and nothing was recorded: type the QATOM.CELL formula in again (with its references), then the value.";

/** Delays before each retry, in ms; the last repeats. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000];

/** The list of formulas not put back, shaped for `useSyncExternalStore`; see the module comment. */
export class RestoreProblems {
  private items: readonly RestoreProblem[] = [];
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** @param write puts formulas back (`Host.writeFormulas`, one Excel.run that waits for cell edit). */
  constructor(
    private readonly write: (cells: FormulaWrite[]) => Promise<void>,
    private readonly delaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
  ) {}

  list(): readonly RestoreProblem[] {
    return this.items;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** The batch that should have put these formulas back failed with `err`: list them and retry. */
  failed(writes: readonly FormulaWrite[], typed: ReadonlyMap<string, string>, err: unknown): void {
    const message = `The formula could not be put back: ${errorText(err)}`;
    for (const w of writes) {
      if (w.formula !== undefined) this.put({ id: cellKey(w.address), address: w.address, formula: w.formula, typed: typed.get(w.address) ?? "", message, attempts: 1 });
    }
    this.schedule();
  }

  /** A cell typed over whose formula text was never read: reported, never rebuilt. */
  unknownFormula(address: string, typed: string): void {
    this.put({ id: cellKey(address), address, formula: null, typed, message: UNKNOWN_FORMULA_MESSAGE, attempts: 0 });
  }

  /**
   * Excel refused the batch before the add-in could read what was typed: nothing was recorded, and
   * putting the formula back would erase the entry, so the cell is only reported.
   */
  notRead(address: string, typed: unknown, err: unknown): void {
    this.put({
      id: cellKey(address),
      address,
      formula: null,
      typed: typed === undefined || typed === null ? "" : String(typed),
      message: `Excel did not let the add-in read what was typed (${errorText(err)}), so nothing was recorded: type it again.`,
      attempts: 0,
    });
  }

  /**
   * A value typed over a QATOM.CELL cell whose formula was put back but whose cell could not be
   * worked out (an argument the add-in cannot evaluate): nothing was recorded; the pane says so.
   */
  notRecorded(address: string, typed: string, reason: string): void {
    this.put({ id: cellKey(address), address, formula: null, typed, message: `Nothing was recorded for what was typed: ${reason}. Type it again, or enter the members as text.`, attempts: 0 });
  }

  /**
   * A QATOM.CELL formula whose invocation came without an address (Excel did not give one): a number
   * typed over it is recognised only through onFormulaChanged (ExcelApi 1.13), so it is listed.
   * `id` is the cell's key (cube and members); {@link dismiss} it when the formula goes.
   */
  noAddress(id: string, description: string): void {
    this.put({ id, address: "", formula: null, typed: "", message: `${description} runs without a cell address from Excel: a value typed over it is recorded only where Excel reports changed formulas (ExcelApi 1.13).`, attempts: 0 });
  }

  /** Moves listed cells after rows or columns moved or a sheet was renamed (`move` gives the new address, null when deleted). */
  moveAddresses(move: (address: string) => string | null): void {
    let changed = false;
    const next = this.items.flatMap((p) => {
      if (!p.address) return [p];
      const to = move(p.address);
      if (to === p.address) return [p];
      changed = true;
      return to === null ? [] : [{ ...p, id: cellKey(to), address: to }];
    });
    if (changed) this.commit(next);
  }

  /** The formula is back (the handler put it back later, or the user re-entered it): drop the item. */
  resolved(address: string): void {
    const id = cellKey(address);
    if (this.items.some((p) => p.id === id)) this.commit(this.items.filter((p) => p.id !== id));
  }

  /** Tries again now to put back every listed formula that is known. */
  async retry(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const due = this.items.filter((p) => p.formula !== null);
    if (due.length === 0) return;
    try {
      await this.write(due.map((p) => ({ address: p.address, formula: p.formula! })));
      const done = new Set(due);
      this.commit(this.items.filter((p) => !done.has(p)));
    } catch (err) {
      const message = `The formula could not be put back: ${errorText(err)}`;
      this.commit(this.items.map((p) => (due.includes(p) ? { ...p, attempts: p.attempts + 1, message } : p)));
      this.schedule();
    }
  }

  /** The user let it go (the pane's Dismiss): the cell keeps what they typed. */
  dismiss(id: string): void {
    this.commit(this.items.filter((p) => p.id !== id));
  }

  /** Stops retrying (the runtime is shutting down). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) return;
    const attempts = Math.max(1, ...this.items.filter((p) => p.formula !== null).map((p) => p.attempts));
    const delay = this.delaysMs[Math.min(attempts - 1, this.delaysMs.length - 1)];
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.retry();
    }, delay);
  }

  private put(p: RestoreProblem): void {
    const i = this.items.findIndex((x) => x.id === p.id);
    this.commit(i >= 0 ? this.items.map((x, j) => (j === i ? p : x)) : [...this.items, p]);
  }

  private commit(items: readonly RestoreProblem[]): void {
    this.items = items;
    for (const fn of Array.from(this.listeners)) fn();
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? `${e.code}: ` : "";
  return `${code}${typeof e?.message === "string" ? e.message : String(err)}`;
}
