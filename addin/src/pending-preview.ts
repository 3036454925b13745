/**
 * What a QATOM.CELL shows while a value typed over it waits for Submit: the typed value (TM1 shows
 * an entry not yet committed in its cell too), not the server's. The formula stays in the cell and
 * shows the pending value through its stream; Submit brings the server's value (the same, once
 * applied), Discard brings the server's back. Cells that show the same cube cell elsewhere show it
 * too (it is one cell of the cube).
 *
 * Only writes that will be sent, or wait on the user (pending, submitting, conflict, error), are
 * previewed; a refused entry shows the server's value.
 */
import type { CellOutcome, CellRef, PendingStatus, PendingWrite, PendingWrites } from "./contracts";
import { refKey } from "./observable";

/** Statuses whose value is shown in the cell and marked with the pending style. */
export const SHOWN_STATUSES: ReadonlySet<PendingStatus> = new Set<PendingStatus>(["pending", "submitting", "conflict", "error"]);

/**
 * The value a pending write will give its cell: the typed value for a leaf; for a consolidated cell
 * the total the spread aims at (P, S, LS: the value, or the seen total plus or minus it; P%: the
 * seen total grown by the percentage; C: empty). Undefined where the total is not known before the
 * server spreads it (R, LR, RP, R%): the cell keeps the server's value.
 */
export function previewValue(w: PendingWrite): number | null | undefined {
  if (!SHOWN_STATUSES.has(w.status)) return undefined;
  if (!w.consolidated || !w.spread) return w.value;
  const seen = w.seenValue ?? 0;
  const { method, action } = w.spread;
  if (method === "C") return null;
  if (w.value === null) return undefined;
  if (method === "P%") return seen * (1 + w.value / 100);
  if (method !== "P" && method !== "S" && method !== "LS") return undefined;
  if (action === "add") return seen + w.value;
  if (action === "subtract") return seen - w.value;
  return w.value;
}

interface Shown {
  key: string;
  last: CellOutcome | null;
  onResult: (o: CellOutcome) => void;
}

/** Overlays pending values on the outcomes of opened cells; see the module comment. */
export class PendingPreview {
  private readonly open = new Map<string, Set<Shown>>();
  private values = new Map<string, number | null>();
  private readonly stop: () => void;

  constructor(private readonly pending: PendingWrites) {
    this.stop = pending.subscribe(() => this.refresh());
  }

  /**
   * Follows one formula's cell: `deliver` each server outcome; `onResult` gets it with the pending
   * value in place of the server's while there is one.
   */
  watch(ref: CellRef, onResult: (o: CellOutcome) => void): { deliver(o: CellOutcome): void; close(): void } {
    const shown: Shown = { key: refKey(ref), last: null, onResult };
    const set = this.open.get(shown.key) ?? new Set<Shown>();
    this.open.set(shown.key, set);
    set.add(shown);
    return {
      deliver: (o) => {
        shown.last = o;
        this.emit(shown);
      },
      close: () => {
        set.delete(shown);
        if (set.size === 0 && this.open.get(shown.key) === set) this.open.delete(shown.key);
      },
    };
  }

  /** Stops following the pending writes. */
  dispose(): void {
    this.stop();
  }

  private emit(s: Shown): void {
    const o = s.last;
    if (!o) return;
    if (o.ok && this.values.has(s.key)) s.onResult({ ok: true, snapshot: { ...o.snapshot, value: this.values.get(s.key) ?? null } });
    else s.onResult(o);
  }

  private refresh(): void {
    const next = new Map<string, number | null>();
    for (const w of this.pending.list()) {
      const v = previewValue(w);
      if (v !== undefined) next.set(refKey(w), v);
    }
    const before = this.values;
    this.values = next;
    for (const key of new Set([...before.keys(), ...next.keys()])) {
      if (before.get(key) === next.get(key) && before.has(key) === next.has(key)) continue;
      for (const s of this.open.get(key) ?? []) this.emit(s);
    }
  }
}
