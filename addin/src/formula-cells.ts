/**
 * The formula-cell registry: which QATOM.CELL formula sits at which sheet address, with its formula
 * text and the snapshot its cell last showed. Streaming invocations register themselves by
 * `invocation.address` (the function needs `@requiresAddress`); the formula text is read from the
 * sheet in batches shortly after, so it can be put back after the user types over it.
 *
 * Typing over a formula makes Excel cancel its invocation, and the worksheet's onChanged event can
 * arrive after that, so a released cell stays findable for `graceMs`.
 */
import { type RangeAddress, cellKey, parseCell, rangeContains } from "./address";
import type { CellRef, CellSnapshot, FormulaCell, FormulaCells } from "./contracts";
import { refKey } from "./observable";

/** Timing of the registry. */
export interface FormulaCellOptions {
  /** How long a canceled formula stays findable for the writeback handler. */
  graceMs: number;
  /** Wait after a registration before reading formula texts (one read per wave). */
  readDelayMs: number;
}

/** Defaults: a released cell is kept 10 s; formulas are read 100 ms after the last registration. */
export const DEFAULT_FORMULA_CELL_OPTIONS: FormulaCellOptions = { graceMs: 10_000, readDelayMs: 100 };

/** Reads formula texts (addresses with sheet); absent entries are cells that could not be read. */
export type ReadFormulas = (addresses: string[]) => Promise<Map<string, unknown>>;

/** One address on a sheet. */
interface Slot {
  key: string;
  address: string;
  /** The last invocation's reference and snapshot (kept after release, for writeback). */
  ref: CellRef;
  snapshot: CellSnapshot | null;
  formula: string | null;
  /** Live invocations at this address (a formula with two QATOM.CELL calls has two). */
  holders: Map<object, string>;
  /** True when live invocations at this address show different cells. */
  mixed: boolean;
  expiry: ReturnType<typeof setTimeout> | null;
  view: FormulaCell | null;
}

/** The registry; see the module comment. */
export class FormulaCellRegistry implements FormulaCells {
  private readonly slots = new Map<string, Slot>();
  private readonly byToken = new Map<object, Slot>();
  private readonly toRead = new Set<string>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private cached: readonly FormulaCell[] = [];
  private listStale = true;
  private notifyQueued = false;

  constructor(
    private readonly readFormulas: ReadFormulas,
    private readonly opts: FormulaCellOptions = DEFAULT_FORMULA_CELL_OPTIONS,
  ) {}

  /** Registers a live invocation at `address`; returns its token for `update` and `release`. */
  register(address: string, ref: CellRef): object {
    const key = cellKey(address);
    const token = {};
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { key, address, ref, snapshot: null, formula: null, holders: new Map(), mixed: false, expiry: null, view: null };
      this.slots.set(key, slot);
    }
    if (slot.expiry) clearTimeout(slot.expiry);
    slot.expiry = null;
    if (refKey(slot.ref) !== refKey(ref)) {
      // A different cell at this address: the old snapshot and formula text no longer apply.
      slot.snapshot = null;
      slot.formula = null;
    }
    slot.ref = ref;
    slot.address = address;
    slot.holders.set(token, refKey(ref));
    slot.mixed = new Set(slot.holders.values()).size > 1;
    this.byToken.set(token, slot);
    this.toRead.add(slot.address);
    this.readTimer ??= setTimeout(() => void this.readNow(), this.opts.readDelayMs);
    this.changed(slot);
    return token;
  }

  /** Records what the invocation's cell shows now. */
  update(token: object, snapshot: CellSnapshot | null): void {
    const slot = this.byToken.get(token);
    if (!slot || slot.holders.get(token) !== refKey(slot.ref)) return;
    slot.snapshot = snapshot;
    this.changed(slot);
  }

  /** The invocation ended (onCanceled); the slot is dropped after the grace period unless re-registered. */
  release(token: object): void {
    const slot = this.byToken.get(token);
    if (!slot) return;
    this.byToken.delete(token);
    slot.holders.delete(token);
    slot.mixed = new Set(slot.holders.values()).size > 1;
    if (slot.holders.size === 0) {
      slot.expiry = setTimeout(() => {
        if (slot.holders.size === 0 && this.slots.get(slot.key) === slot) {
          this.slots.delete(slot.key);
          this.changed(null);
        }
      }, this.opts.graceMs);
    }
    this.changed(slot);
  }

  /** Live formula cells (shaped for `useSyncExternalStore`). */
  get(): readonly FormulaCell[] {
    if (this.listStale) {
      this.listStale = false;
      this.cached = Array.from(this.slots.values())
        .filter((s) => s.holders.size > 0)
        .map((s) => this.view(s));
    }
    return this.cached;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  find(address: string): FormulaCell | undefined {
    const slot = this.slots.get(cellKey(address));
    return slot && slot.holders.size > 0 ? this.view(slot) : undefined;
  }

  /**
   * Cells inside a changed range, live or released within the grace period, for the writeback
   * handler; `ambiguous` when the address holds calls for different cells.
   */
  within(range: RangeAddress): { cell: FormulaCell; ambiguous: boolean }[] {
    const out: { cell: FormulaCell; ambiguous: boolean }[] = [];
    for (const slot of this.slots.values()) {
      const c = parseCell(slot.address);
      if (c && rangeContains(range, c)) out.push({ cell: this.view(slot), ambiguous: slot.mixed });
    }
    return out;
  }

  /**
   * Moves slots after rows or columns moved or a sheet was renamed (`move` gives a cell's new
   * address, null when it was deleted): Excel keeps a streaming invocation running when its cell
   * moves, with the address it started at, so the registry follows the cell itself.
   */
  moveAddresses(move: (address: string) => string | null): void {
    const moved: Slot[] = [];
    for (const slot of Array.from(this.slots.values())) {
      const to = move(slot.address);
      if (to === slot.address) continue;
      this.slots.delete(slot.key);
      if (to === null) {
        for (const token of slot.holders.keys()) this.byToken.delete(token);
        if (slot.expiry) clearTimeout(slot.expiry);
        this.changed(null);
        continue;
      }
      slot.address = to;
      slot.key = cellKey(to);
      moved.push(slot);
    }
    for (const slot of moved) {
      this.slots.set(slot.key, slot);
      this.changed(slot);
    }
  }

  /** Drops every timer (the runtime is shutting down). */
  dispose(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = null;
    for (const s of this.slots.values()) if (s.expiry) clearTimeout(s.expiry);
  }

  private view(slot: Slot): FormulaCell {
    slot.view ??= { cube: slot.ref.cube, members: slot.ref.members, address: slot.address, formula: slot.formula, snapshot: slot.snapshot };
    return slot.view;
  }

  private changed(slot: Slot | null): void {
    if (slot) slot.view = null;
    this.listStale = true;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    // One notification per burst (a stream message can touch thousands of cells).
    setTimeout(() => {
      this.notifyQueued = false;
      for (const fn of Array.from(this.listeners)) fn();
    }, 0);
  }

  private async readNow(): Promise<void> {
    this.readTimer = null;
    const addresses = Array.from(this.toRead);
    this.toRead.clear();
    let texts: Map<string, unknown>;
    try {
      texts = await this.readFormulas(addresses);
    } catch (err) {
      console.warn("quantatom: could not read formula texts", err);
      return;
    }
    for (const address of addresses) {
      const slot = this.slots.get(cellKey(address));
      const text = texts.get(address);
      if (slot && typeof text === "string" && text.startsWith("=")) {
        slot.formula = text;
        this.changed(slot);
      }
    }
  }
}
