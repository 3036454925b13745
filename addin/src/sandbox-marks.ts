/**
 * The sandbox style on the sheet: a QATOM.CELL cell read through a sandbox that changed it (or a
 * leaf below it: `Cell.sandbox_changed`) carries the add-in's sandbox cell style (host.ts
 * `SANDBOX_STYLE`), so the what-if stands out from the shared data; the mark goes when the cell
 * shows the base again (another choice, a commit, a discard), and the cell gets back the style it
 * had. A cell marked as pending (./pending-marks.ts) keeps that mark until it is submitted or
 * discarded; a cell whose style the user changed since is left as it is.
 */
import { cellKey } from "./address";
import type { FormulaCells } from "./contracts";
import { type Host, PENDING_STYLE, SANDBOX_STYLE } from "./host";
import type { PendingMarks } from "./pending-marks";
import { SerialSync } from "./serial-sync";
import { syncMarks } from "./style-marks";

/** Keeps the sandbox style on the formula cells a sandbox changed; see the module comment. */
export class SandboxMarks {
  /** Marked cells by key: their address and the style they had (null: `Normal` is set back). */
  private readonly marked = new Map<string, { address: string; style: string | null }>();
  private readonly syncs = new SerialSync(() => this.sync(), "the sandbox marks");
  private readonly stops: (() => void)[];

  /** @param pendingMarks its updates (after a submit, a discard) free cells from the pending mark, to be marked here. */
  constructor(
    private readonly host: Host,
    private readonly cells: FormulaCells,
    private readonly pendingMarks: Pick<PendingMarks, "isMarked" | "onUpdated">,
  ) {
    this.stops = [cells.subscribe(() => this.syncs.schedule()), pendingMarks.onUpdated(() => this.syncs.schedule())];
  }

  /** Resolves when the marks match the cells (tests). */
  settled(): Promise<void> {
    return this.syncs.settled();
  }

  dispose(): void {
    for (const stop of this.stops) stop();
    this.syncs.dispose();
  }

  private async sync(): Promise<void> {
    const want = new Map<string, string>();
    for (const c of this.cells.get()) if (c.snapshot?.sandboxChanged && !this.pendingMarks.isMarked(c.address)) want.set(cellKey(c.address), c.address);
    await syncMarks(this.host, want, this.marked, {
      unmark: (c, id) => {
        const m = this.marked.get(id);
        this.marked.delete(id);
        // Only a cell that still carries the mark: a style set since (the pending one too) stays.
        return m && c.style === SANDBOX_STYLE.name ? { address: c.address, style: m.style ?? "Normal" } : null;
      },
      mark: (c, id) => {
        if (c.style === PENDING_STYLE.name) return null;
        this.marked.set(id, { address: c.address, style: c.style && c.style !== SANDBOX_STYLE.name ? c.style : null });
        return { address: c.address, style: SANDBOX_STYLE.name };
      },
    });
  }
}
