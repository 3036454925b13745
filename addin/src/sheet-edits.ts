/**
 * The worksheet event handlers of writeback: what the user did to QATOM.CELL cells, told apart by
 * what the cells hold now (read in the same Excel.run that answers), so that the order in which
 * Excel delivers its events does not matter.
 *
 * - **Typed over** (onChanged over cells the registry knows, or onFormulaChanged with a
 *   `previousFormula` that is one QATOM.CELL call, ExcelApi 1.13: this finds cells that share one
 *   invocation, which the registry never sees): the entry is recorded (./writeback.ts `applyTyped`),
 *   the formula is put back (its own text, references and all) and the cell is marked with the
 *   pending style, in one Excel.run (one undo step); the formula then shows the typed value
 *   (./pending-preview.ts) until Submit or Discard.
 * - **Ctrl+Z** right after typing takes back that step: the cell holds the typed value again,
 *   without the mark. The pending change is dropped and the formula put back (no mark): the entry is
 *   gone and the formula stays, as the user asked. A formula back without its mark (a second Ctrl+Z)
 *   drops it too.
 * - **Delete** over a QATOM cell removes the formula, as everywhere in Excel (and drops the cell's
 *   pending change with it); clearing the data is the `C` code.
 * - **Structural edits** (rows or columns inserted or deleted, a sheet renamed, rows sorted): every
 *   address the add-in keeps (formula registry, pending changes, marks, restore problems) moves with
 *   its cell; a pending change whose cell was deleted is refused (never sent for another cell).
 *
 * Events are handled one at a time, in order.
 */
import { cellKey, formatCell, parseCell, parseRange, rangeContains } from "./address";
import type { CellRef, CellSnapshot, FormulaCell, Holds, PendingWrite, PendingWrites, TypedOutcome } from "./contracts";
import { parseCellCall, referencedCells, resolveCellCall } from "./formula-args";
import type { FormulaCellRegistry } from "./formula-cells";
import { refKey } from "./observable";
import { isSingleCellCall } from "./formula-text";
import { type FormulaChange, type FormulaWrite, type Host, PENDING_STYLE, type SheetCell, type SheetChange, type SheetStructureChange } from "./host";
import type { PendingMarks } from "./pending-marks";
import { SHOWN_STATUSES } from "./pending-preview";
import type { RestoreProblems } from "./restores";
import { structuralMove } from "./sheet-moves";
import type { SpreadCode, Typed } from "./spreading";
import { applyLine, applyTyped, filledLines, readTyped, shownText } from "./writeback";

/** What the handlers work on. */
export interface SheetEditTargets {
  host: Host;
  cells: FormulaCellRegistry;
  pending: PendingWrites & { moveAddresses?(move: (address: string) => string | null): void; batch?<T>(fn: () => T): T };
  holds: Holds;
  restores?: RestoreProblems;
  marks?: PendingMarks;
  /** The last snapshot the runtime has of a cell (for a cell typed over that the registry does not know). */
  snapshotOf?: (ref: CellRef) => CellSnapshot | null;
}

/** The three handlers; register them with the host's events. Each resolves when its event is handled. */
export interface SheetEditHandlers {
  onChanged(change: SheetChange): Promise<void>;
  onFormulaChanged(change: FormulaChange): Promise<void>;
  onStructure(change: SheetStructureChange): Promise<void>;
}

/** A cell to look at: its address (with sheet) and, from onFormulaChanged, what it held before. */
interface Candidate {
  address: string;
  previousFormula?: string;
}

/** Builds the handlers; see the module comment. */
export function createSheetEditHandlers(t: SheetEditTargets): SheetEditHandlers {
  let queue: Promise<void> = Promise.resolve();
  const serial = (job: () => Promise<void>): Promise<void> => {
    const next = queue.then(job);
    queue = next.catch(() => undefined);
    return next;
  };

  /** The shown pending writes by id (one pass over the list, however many cells an edit covers). */
  const shownPending = (): Map<string, PendingWrite> => new Map(t.pending.list().flatMap((w) => (SHOWN_STATUSES.has(w.status) ? [[w.id, w] as const] : [])));

  async function process(candidates: Candidate[]): Promise<void> {
    const parsed = new Map<string, ReturnType<typeof parseCellCall>>();
    const extra: string[] = [];
    for (const c of candidates) {
      if (!c.previousFormula || !isSingleCellCall(c.previousFormula)) continue;
      const args = parseCellCall(c.previousFormula, parseCell(c.address)?.sheet ?? "");
      parsed.set(c.address, args);
      if (args) extra.push(...referencedCells(args));
    }
    const addresses = [...new Set([...candidates.map((c) => c.address), ...extra])];
    const restore: FormulaWrite[] = [];
    const shown = new Map<string, string>();
    let decided = false;
    const decide = (now: SheetCell[]): FormulaWrite[] => {
      decided = true;
      const byKey = new Map(now.map((c) => [cellKey(c.address), c]));
      const values = new Map(now.map((c) => [c.address, c.value]));
      const typedCells: { cell: FormulaCell; typed: Typed; before: SheetCell }[] = [];
      const drops: string[] = [];
      const pendingById = shownPending();
      for (const cand of candidates) {
        const sc = byKey.get(cellKey(cand.address));
        if (!sc) continue;
        const id = cellKey(cand.address);
        const w = pendingById.get(id);
        const marked = sc.style === PENDING_STYLE.name;
        if (typeof sc.formula === "string" && sc.formula.startsWith("=")) {
          // The formula is there: an entry whose mark is gone was taken back (Ctrl+Z).
          if (w && !marked && isSingleCellCall(sc.formula)) {
            drops.push(id);
            t.marks?.forget(cand.address);
          } else if (!w && marked && !t.marks?.isMarked(cand.address)) {
            // A mark with no entry under it (Ctrl+Z after Submit put it back): it goes.
            restore.push({ address: cand.address, style: "Normal" });
          }
          continue;
        }
        const range = parseRange(cand.address);
        const reg = range ? t.cells.within(range).find((x) => !x.ambiguous)?.cell : undefined;
        const prev = cand.previousFormula && isSingleCellCall(cand.previousFormula) ? cand.previousFormula : null;
        if (!prev && !reg) continue;
        const typed = readTyped(sc);
        if (typed === undefined) continue;
        const formula = prev ?? reg?.formula ?? null;
        if (sc.valueType === "Empty" || sc.formula === "" || sc.formula === null) {
          // Delete removes the formula, as everywhere in Excel, and the entry on it with it.
          if (w) {
            drops.push(id);
            const unmark = t.marks?.unmarkWrite(cand.address);
            if (unmark && marked) restore.push(unmark);
          }
          continue;
        }
        if (w && !marked && sameEntry(w, typed)) {
          // Ctrl+Z took back the restore and its mark: the entry goes, the formula comes back.
          drops.push(id);
          t.marks?.forget(cand.address);
          if (formula) restore.push({ address: cand.address, formula });
          continue;
        }
        if (formula === null) {
          // Never a formula rebuilt from member names: it would lose the user's references.
          t.restores?.unknownFormula(cand.address, shownText(sc));
          continue;
        }
        if (!isSingleCellCall(formula)) continue;
        const args = parsed.get(cand.address);
        const ref: CellRef | null = prev ? (args ? resolveCellCall(args, values) : null) : reg!;
        if (!ref) {
          restore.push({ address: cand.address, formula });
          t.restores?.notRecorded(cand.address, shownText(sc), "the add-in could not work out the cell from the formula's arguments");
          continue;
        }
        const sameAsRegistry = reg && refKey(reg) === refKey(ref);
        const snapshot = (sameAsRegistry ? reg.snapshot : null) ?? t.snapshotOf?.(ref) ?? null;
        typedCells.push({ cell: { cube: ref.cube, members: ref.members, address: cand.address, formula, snapshot }, typed, before: sc });
        restore.push({ address: cand.address, formula });
        shown.set(cand.address, shownText(sc));
      }
      const step = () => {
        if (drops.length > 0) t.pending.discard(drops);
        markWrites(record(typedCells), typedCells, restore);
      };
      // One change of the pending list for the whole edit (a paste of many cells is one step).
      if (t.pending.batch) t.pending.batch(step);
      else step();
      return restore;
    };
    try {
      await t.host.readAndRestore(addresses, decide);
      for (const w of restore) if (w.formula !== undefined) t.restores?.resolved(w.address);
    } catch (err) {
      if (!t.restores) throw err;
      if (!decided) {
        // Excel refused even the read: nothing was recorded, and the cells keep what was typed.
        for (const c of candidates) if (t.cells.find(c.address) || c.previousFormula) t.restores.notRead(c.address, undefined, err);
      } else if (restore.some((w) => w.formula !== undefined)) {
        for (const w of restore) t.marks?.forget(w.address);
        t.restores.failed(restore, shown, err);
      } else {
        throw err;
      }
    }
  }

  /** Records the typed entries (SL / GR filled over a range as one line each). */
  function record(typedCells: { cell: FormulaCell; typed: Typed }[]): TypedOutcome[] {
    const targets = { cells: t.cells, pending: t.pending, holds: t.holds };
    const lines = filledLines(typedCells);
    if (lines) {
      const typed = typedCells[0].typed as Extract<Typed, { kind: "code" }>;
      return lines.map((line) => applyLine(targets, line, typed.code as Extract<SpreadCode, { kind: "SL" | "GR" }>, typed.text));
    }
    return typedCells.map(({ cell, typed }) => applyTyped(targets, cell, typed));
  }

  /** Adds the pending style to the restore of every cell whose entry is shown, in the same batch. */
  function markWrites(outcomes: TypedOutcome[], typedCells: { cell: FormulaCell; before: SheetCell }[], restore: FormulaWrite[]): void {
    if (!t.marks) return;
    const before = new Map(typedCells.map((x) => [cellKey(x.cell.address), x.before]));
    const writes = outcomes.flatMap((o) => (o.kind === "writes" ? o.writes : o.kind === "refused" ? [o.write] : []));
    const restoreAt = new Map(restore.map((r) => [cellKey(r.address), r]));
    for (const w of writes) {
      const at = restoreAt.get(w.id);
      const was = before.get(w.id);
      if (!SHOWN_STATUSES.has(w.status)) {
        // A refused entry over a marked cell: its earlier entry was replaced; the mark goes.
        if (was?.style === PENDING_STYLE.name) {
          const unmark = t.marks.unmarkWrite(w.address);
          if (unmark && at) Object.assign(at, { style: unmark.style, numberFormat: unmark.numberFormat });
        }
        continue;
      }
      t.marks.recordMarked(w.address, was?.style ?? null, was?.numberFormat ?? null);
      if (at) at.style = PENDING_STYLE.name;
      else {
        const mark: FormulaWrite = { address: w.address, style: PENDING_STYLE.name };
        restore.push(mark);
        restoreAt.set(w.id, mark);
      }
    }
  }

  /**
   * After a sort of rows, finds where each kept cell of the sorted range went: the range's formulas
   * are read and evaluated, and each cell goes to the address whose formula shows the same cube
   * cell (a cell with a pending entry to one that carries the pending mark, which moves with it).
   */
  async function relocateSorted(sheet: string, address: string): Promise<void> {
    const range = parseRange(address, sheet);
    if (!range || !Number.isFinite(range.colHi) || !Number.isFinite(range.rowHi)) return;
    const inRange = (a: string) => {
      const c = parseCell(a);
      return c !== null && rangeContains(range, c);
    };
    const tracked = new Map<string, { address: string; ref: string; pending: boolean }>();
    for (const { cell } of t.cells.within(range)) tracked.set(cellKey(cell.address), { address: cell.address, ref: refKey(cell), pending: false });
    for (const w of t.pending.list()) if (inRange(w.address)) tracked.set(w.id, { address: w.address, ref: refKey(w), pending: true });
    if (tracked.size === 0) return;
    const all: string[] = [];
    for (let row = range.rowLo; row <= range.rowHi; row++) for (let col = range.colLo; col <= range.colHi; col++) all.push(formatCell({ sheet: range.sheet, col, row }));
    const read = await t.host.readCells(all);
    const values = new Map(read.map((c) => [c.address, c.value]));
    const parsed = new Map<string, NonNullable<ReturnType<typeof parseCellCall>>>();
    for (const c of read) {
      const args = typeof c.formula === "string" ? parseCellCall(c.formula, range.sheet) : null;
      if (args) parsed.set(c.address, args);
    }
    const missing = [...new Set([...parsed.values()].flatMap(referencedCells))].filter((a) => !values.has(a));
    if (missing.length > 0) for (const c of await t.host.readCells(missing)) values.set(c.address, c.value);
    const byRef = new Map<string, { address: string; marked: boolean }[]>();
    for (const c of read) {
      const args = parsed.get(c.address);
      const ref = args ? resolveCellCall(args, values) : null;
      if (!ref) continue;
      const key = refKey(ref);
      const list = byRef.get(key) ?? [];
      list.push({ address: c.address, marked: c.style === PENDING_STYLE.name });
      byRef.set(key, list);
    }
    const used = new Set<string>();
    const mapping = new Map<string, string>();
    // Cells with a pending entry first: they take the marked cells.
    for (const [id, k] of [...tracked].sort((a, b) => Number(b[1].pending) - Number(a[1].pending))) {
      const free = (byRef.get(k.ref) ?? []).filter((c) => !used.has(cellKey(c.address)));
      const pick = free.find((c) => c.marked === k.pending) ?? free[0];
      if (!pick) continue;
      used.add(cellKey(pick.address));
      mapping.set(id, pick.address);
    }
    moveAll((a) => mapping.get(cellKey(a)) ?? a);
  }

  /** Moves every kept address (registry, pending changes, marks, restore problems). */
  function moveAll(move: (address: string) => string | null): void {
    t.cells.moveAddresses(move);
    t.pending.moveAddresses?.(move);
    t.marks?.moveAddresses(move);
    t.restores?.moveAddresses(move);
  }

  return {
    onChanged: (change) =>
      serial(async () => {
        if (change.source !== "Local" || change.triggerSource === "ThisLocalAddin") return;
        if (change.changeType !== "RangeEdited") {
          const move = structuralMove(change);
          if (move) moveAll(move);
          return;
        }
        const range = parseRange(change.address, change.sheet);
        if (!range) return;
        const at = new Set<string>();
        for (const { cell, ambiguous } of t.cells.within(range)) if (!ambiguous) at.add(cell.address);
        for (const w of t.pending.list()) {
          const c = parseCell(w.address);
          if (c && rangeContains(range, c)) at.add(w.address);
        }
        if (at.size > 0) await process([...at].map((address) => ({ address })));
      }),
    onFormulaChanged: (change) =>
      serial(async () => {
        if (change.source !== "Local" || !change.cells) return;
        // Cells that held a QATOM.CELL call (the add-in's own restores held a typed value: skipped).
        const candidates = change.cells.filter((c) => isSingleCellCall(c.previousFormula));
        if (candidates.length > 0) await process(candidates);
      }),
    onStructure: (change) =>
      serial(async () => {
        if (change.kind === "rowsSorted") await relocateSorted(change.sheet, change.address);
        const move = structuralMove(change);
        if (move) moveAll(move);
      }),
  };
}

/** True when what the cell holds is the entry a pending write recorded (Excel's undo put it back). */
function sameEntry(w: PendingWrite, typed: Typed): boolean {
  if (typed.kind === "value") return w.code === undefined && w.value === typed.value;
  if (typed.kind === "code") return w.code !== undefined && w.code.trim().toUpperCase() === typed.text.trim().toUpperCase();
  return false;
}
