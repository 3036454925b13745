/**
 * The pending style on the sheet: a cell whose typed value waits for Submit carries the add-in's
 * cell style (host.ts `PENDING_STYLE`), as TM1 colours values not yet committed; the mark goes when
 * the value is applied or discarded, and the cell gets back the style and number format it had.
 *
 * The writeback handler marks the typed cells in the same Excel.run that puts their formulas back
 * (one undo step: Ctrl+Z takes back the mark and the restore together, which is how the handler
 * recognises an undone entry) and records them here; everything else (Submit, Discard, conflicts
 * resolved, writes recorded without the sheet) is synced from the pending writes in one Excel.run
 * per burst of changes. A cell whose style the user changed since is left as it is.
 */
import { cellKey } from "./address";
import type { PendingWrites } from "./contracts";
import { type FormulaWrite, type Host, PENDING_STYLE } from "./host";
import { SHOWN_STATUSES } from "./pending-preview";
import { SerialSync } from "./serial-sync";
import { syncMarks } from "./style-marks";

/** A marked cell and what it looked like before. */
interface Mark {
  address: string;
  /** The style it had (null when unknown: `Normal` is set back). */
  style: string | null;
  numberFormat: string | null;
}

/** Keeps the pending style on the cells of shown pending writes; see the module comment. */
export class PendingMarks {
  private readonly marked = new Map<string, Mark>();
  private readonly updated = new Set<() => void>();
  private readonly syncs = new SerialSync(
    () => this.sync(),
    "the pending marks",
    () => {
      for (const fn of [...this.updated]) fn();
    },
  );
  private readonly stop: () => void;

  constructor(
    private readonly host: Host,
    private readonly pending: PendingWrites,
  ) {
    this.stop = pending.subscribe(() => this.syncs.schedule());
  }

  /** The cell at `address` was marked by the handler; `style` and `numberFormat` are what it had. */
  recordMarked(address: string, style: string | null | undefined, numberFormat: string | null | undefined): void {
    const id = cellKey(address);
    const had = this.marked.get(id);
    // Typed over again while marked: what it had before the first mark stays.
    if (had) return;
    this.marked.set(id, { address, style: style && style !== PENDING_STYLE.name ? style : null, numberFormat: numberFormat ?? null });
  }

  /** True when the add-in marked the cell (and has not unmarked it). */
  isMarked(address: string): boolean {
    return this.marked.has(cellKey(address));
  }

  /** The write that takes the mark off (style and number format as they were), and forgets it. */
  unmarkWrite(address: string): FormulaWrite | null {
    const id = cellKey(address);
    const m = this.marked.get(id);
    if (!m) return null;
    this.marked.delete(id);
    const w: FormulaWrite = { address, style: m.style ?? "Normal" };
    if (m.numberFormat !== null) w.numberFormat = m.numberFormat;
    return w;
  }

  /** Forgets a mark Excel took back (Ctrl+Z undid it with the restore). */
  forget(address: string): void {
    this.marked.delete(cellKey(address));
  }

  /** Moves marks after rows or columns moved or a sheet was renamed (null: the cell was deleted). */
  moveAddresses(move: (address: string) => string | null): void {
    const moved: Mark[] = [];
    for (const [id, m] of Array.from(this.marked)) {
      const to = move(m.address);
      if (to === m.address) continue;
      this.marked.delete(id);
      if (to !== null) moved.push({ ...m, address: to });
    }
    // Set after every removal: in a sort two cells may swap places.
    for (const m of moved) this.marked.set(cellKey(m.address), m);
  }

  /** Resolves when the marks match the pending writes (tests; the pane never waits). */
  settled(): Promise<void> {
    return this.syncs.settled();
  }

  dispose(): void {
    this.stop();
    this.syncs.dispose();
  }

  /** Calls `fn` after each update of the marks on the sheet (./sandbox-marks.ts marks the cells freed); returns an unsubscribe function. */
  onUpdated(fn: () => void): () => void {
    this.updated.add(fn);
    return () => this.updated.delete(fn);
  }

  private async sync(): Promise<void> {
    const shown = new Map<string, string>();
    for (const w of this.pending.list()) if (SHOWN_STATUSES.has(w.status) && w.address) shown.set(w.id, w.address);
    await syncMarks(this.host, shown, this.marked, {
      unmark: (c) => {
        // Only a cell that still carries the mark: a style the user set since stays.
        const w = this.unmarkWrite(c.address);
        return w && c.style === PENDING_STYLE.name ? w : null;
      },
      mark: (c) => {
        this.recordMarked(c.address, c.style, c.numberFormat);
        return { address: c.address, style: PENDING_STYLE.name };
      },
    });
  }
}
