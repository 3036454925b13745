/**
 * Writeback from the grid: what an entry typed over a QATOM.CELL cell means (./sheet-edits.ts
 * finds the cells typed over, puts their formulas back and marks them):
 *
 * - a number, or a code such as `P%+10`, `S+200`, `LS*50`, `C`: a pending write, listed in the task
 *   pane until Submit; a consolidated cell's write is spread by the server (./spreading.ts says how
 *   each code reads over a leaf and over a consolidated cell);
 * - `SL>100:200`, `GR>100:10`, or any other code with a direction (`P%+>10`): one pending write per
 *   cell of the run of QATOM.CELL cells from the typed one in that direction (see {@link runFrom});
 * - `P`, `S` or `LS` with a direction (`P>300`): the run is one target, as in TM1 (see {@link applyRange});
 * - `H` / `HC` holds the cell, `RH` / `RC` releases it (./holds.ts);
 * - text that starts like a code but is not one (`P1OO`, `SL100`): the formula is put back and the
 *   pane shows the mistake, naming the bad part and where it is (as TM1 refuses a bad code);
 * - any other text (`n/a`, `see note`) is the user's own business: it stays, nothing is written.
 *
 * A formula made of more than one call (`=QATOM.CELL(...)*2`) is left as the user changed it.
 */
import { formatCell, parseCell } from "./address";
import type { FormulaCell, Holds, PendingWrite, PendingWrites, TypedOutcome } from "./contracts";
import { buildCellFormula, isSingleCellCall } from "./formula-text";
import type { SheetCell } from "./host";
import { CALCULATED_MESSAGE } from "./pending-writes";
import { spreadOverRange } from "../../common/spreading/range";
import { type CellEntry, DIRECTION_STEP, type Direction, entryForCode, isCellCode, isRangeCode, lineEntry, lineValues, parseTypedText, type RangeCode, type SpreadCode, type Typed } from "./spreading";

/**
 * The number a cell now holds, null when it was cleared, or undefined when it holds something that
 * is not a value to write (a formula, text, a boolean, an error). Codes: see {@link readTyped}.
 */
export function typedValue(cell: SheetCell): number | null | undefined {
  const f = cell.formula;
  if (typeof f === "string" && f.startsWith("=")) return undefined;
  if (cell.valueType === "Empty" || f === "" || f === null || f === undefined) return null;
  if (typeof f === "number" && Number.isFinite(f)) return f;
  if (cell.valueType === "Double" && typeof cell.value === "number" && Number.isFinite(cell.value)) return cell.value;
  return undefined;
}

/** What a sheet cell now holds, read as a value or a TM1 code; undefined when it is neither. */
export function readTyped(cell: SheetCell): Typed | undefined {
  const v = typedValue(cell);
  if (v !== undefined) return { kind: "value", value: v };
  const f = cell.formula;
  if (typeof f === "string" && !f.startsWith("=")) return parseTypedText(f);
  return undefined;
}

/** Content given to `typeOver` (a number, text, or null / "" for a cleared cell), read as the handler reads a cell. */
export function typedContent(content: unknown): Typed | undefined {
  if (content === null || content === undefined || content === "") return { kind: "value", value: null };
  if (typeof content === "number") return Number.isFinite(content) ? { kind: "value", value: content } : undefined;
  if (typeof content === "string") return content.startsWith("=") ? undefined : parseTypedText(content);
  return undefined;
}

/** What typing needs: the formula cells next to the typed one, the pending writes and the holds. */
export interface TypingTargets {
  cells: { find(address: string): FormulaCell | undefined };
  pending: PendingWrites;
  holds: Holds;
}

/** Why a code typed over a cell whose value has not arrived is refused (its kind and version are unknown). */
const NOT_ARRIVED = "the cell's value has not arrived yet: type the code again once it shows";

/** Longest run {@link runFrom} follows (Excel's widest row). */
const MAX_RUN = 16_384;

/**
 * The run of cells a code with a direction covers: the typed cell, then each next cell in that
 * direction while it holds a live QATOM.CELL formula that is one call, whose value has arrived and
 * that is not calculated (a read-only cell ends the run, as the first cell that is not a QATOM.CELL
 * does).
 */
export function runFrom(cells: TypingTargets["cells"], start: FormulaCell, direction: Direction): FormulaCell[] {
  const at = parseCell(start.address);
  if (!at) return [start];
  const step = DIRECTION_STEP[direction];
  const out = [start];
  for (let k = 1; k < MAX_RUN; k++) {
    const col = at.col + step.col * k;
    const row = at.row + step.row * k;
    if (col < 1 || row < 1) break;
    const c = cells.find(formatCell({ sheet: at.sheet, col, row }));
    if (!c?.snapshot || c.snapshot.calculated || !isSingleCellCall(c.formula ?? buildCellFormula(c))) break;
    out.push(c);
  }
  return out;
}

/** Records one cell's entry: a pending write, or the reason it cannot be written. */
function record(t: TypingTargets, cell: FormulaCell, text: string, entry: CellEntry): PendingWrite {
  return entry.ok ? t.pending.add(cell, entry.value, { spread: entry.spread, code: text }) : t.pending.reject(cell, text, entry.message);
}

/**
 * SL or GR over a run of cells, in order: the line's values, held cells skipped without shifting
 * the line (TM1's applyRow), the first cell written even when held (the user typed over it).
 */
export function applyLine(t: TypingTargets, run: FormulaCell[], code: Extract<SpreadCode, { kind: "SL" | "GR" }>, text: string): TypedOutcome {
  const values = lineValues(code, run.length);
  const writes: PendingWrite[] = [];
  run.forEach((cell, k) => {
    if (k > 0 && t.holds.isHeld(cell)) return;
    const snap = cell.snapshot;
    if (!snap) writes.push(t.pending.reject(cell, text, NOT_ARRIVED));
    else if (snap.calculated) writes.push(t.pending.reject(cell, text, CALCULATED_MESSAGE));
    else writes.push(record(t, cell, text, lineEntry(code.action, values[k], snap)));
  });
  return { kind: "writes", writes };
}

/**
 * The cells a code with directions covers, in sheet order: the run towards `<` or `^` (nearest
 * last), the typed cell, then the run towards `>` or `|` (`P<>100` covers the row both ways).
 */
export function runCells(t: TypingTargets, cell: FormulaCell, directions: readonly Direction[]): FormulaCell[] {
  const before: FormulaCell[] = [];
  const after: FormulaCell[] = [];
  const seen = new Set([cell.address]);
  for (const d of directions) {
    for (const c of runFrom(t.cells, cell, d).slice(1)) {
      if (seen.has(c.address)) continue;
      seen.add(c.address);
      (d === "<" || d === "^" ? before : after).push(c);
    }
  }
  return [...before.reverse(), cell, ...after];
}

/**
 * `P`, `S` or `LS` with a direction over a run of cells (`P>300`, `S+<>200`): the run is one
 * target, filtered first as TM1 filters a range (IBM "Spreading to a range"): of cells at mixed
 * levels only the leaf cells stay (a consolidated cell of the run is left as it is), and held
 * cells are dropped; the remaining cells' total becomes the value (or grows or shrinks by it),
 * shared as common/spreading/range.ts says. A run of consolidated cells only gives each a
 * proportional spread of its share. A calculated cell in the run, or a run that is all held, is
 * refused with the reason.
 */
export function applyRange(t: TypingTargets, run: FormulaCell[], code: RangeCode, text: string): TypedOutcome {
  const calculated = run.find((c) => c.snapshot?.calculated);
  if (calculated) return { kind: "refused", write: t.pending.reject(calculated, text, CALCULATED_MESSAGE) };
  const lowest = run.some((c) => !c.snapshot!.consolidated) ? run.filter((c) => !c.snapshot!.consolidated) : run;
  const held = lowest.map((c) => t.holds.isHeld(c));
  const result = spreadOverRange(code.kind === "P" ? "P" : "S", code.action, code.value, lowest.map((c, k) => ({ value: c.snapshot!.value, held: held[k] })));
  if (!result.ok) return { kind: "refused", write: t.pending.reject(run[0], text, result.message) };
  const writes: PendingWrite[] = [];
  lowest.forEach((c, k) => {
    if (!held[k]) writes.push(record(t, c, text, lineEntry("replace", result.values[k] as number, c.snapshot!)));
  });
  return { kind: "writes", writes };
}

/**
 * What typing `typed` over `cell` does (see the module comment). Codes with directions reach the
 * live QATOM.CELL cells next to it through `t.cells`; SL and GR without a direction fill to the
 * right (months usually run across), unless the handler saw the code filled over a range.
 */
export function applyTyped(t: TypingTargets, cell: FormulaCell, typed: Typed): TypedOutcome {
  if (typed.kind === "value") return { kind: "writes", writes: [t.pending.add(cell, typed.value)] };
  if (typed.kind === "bad") return { kind: "refused", write: t.pending.reject(cell, typed.text, typed.message) };
  const { code, text } = typed;
  if (code.kind === "RH" || code.kind === "RC") {
    t.holds.release(cell);
    return { kind: "released", cell };
  }
  // A hold goes with every WriteCells of the cube, so only a cell the server has answered for is held.
  if (!cell.snapshot) return { kind: "refused", write: t.pending.reject(cell, text, NOT_ARRIVED) };
  if (code.kind === "H" || code.kind === "HC") {
    if (cell.snapshot.calculated) return { kind: "refused", write: t.pending.reject(cell, text, `${CALCULATED_MESSAGE} Holding it means nothing: spreads never change it.`) };
    t.holds.hold(cell);
    return { kind: "held", cell };
  }
  if (code.kind === "SL" || code.kind === "GR") {
    if (code.directions.length > 1) {
      return { kind: "refused", write: t.pending.reject(cell, text, `${code.kind} fills one direction: give one of > (right), < (left), | (down), ^ (up), e.g. ${code.kind}>100:200`) };
    }
    return applyLine(t, runFrom(t.cells, cell, code.directions[0] ?? ">"), code, text);
  }
  if (!isCellCode(code)) return { kind: "ignored" };
  if (code.directions.length > 0 && isRangeCode(code)) return applyRange(t, runCells(t, cell, code.directions), code, text);
  const cells = [cell];
  for (const d of code.directions) for (const c of runFrom(t.cells, cell, d).slice(1)) if (!t.holds.isHeld(c)) cells.push(c);
  const writes = cells.map((c) =>
    c.snapshot!.calculated ? t.pending.reject(c, text, CALCULATED_MESSAGE) : record(t, c, text, entryForCode(code, c.snapshot!)),
  );
  return { kind: "writes", writes };
}

/**
 * SL / GR without a direction, filled over several cells at once (Ctrl+Enter over a selected
 * range, as a TM1 user selects the range to spread): the range's cells are the run, each row
 * left to right (a single column top to bottom).
 */
export function filledLines(typedCells: { cell: FormulaCell; typed: Typed }[]): FormulaCell[][] | null {
  if (typedCells.length < 2) return null;
  const first = typedCells[0].typed;
  if (first.kind !== "code" || (first.code.kind !== "SL" && first.code.kind !== "GR") || first.code.directions.length > 0) return null;
  const text = first.text.trim().toUpperCase();
  if (!typedCells.every((x) => x.typed.kind === "code" && x.typed.text.trim().toUpperCase() === text)) return null;
  const placed = typedCells.map((x) => ({ cell: x.cell, at: parseCell(x.cell.address) }));
  if (placed.some((p) => !p.at)) return null;
  const oneColumn = new Set(placed.map((p) => p.at!.col)).size === 1;
  if (oneColumn) return [placed.sort((a, b) => a.at!.row - b.at!.row).map((p) => p.cell)];
  const rows = new Map<number, typeof placed>();
  for (const p of placed) rows.set(p.at!.row, [...(rows.get(p.at!.row) ?? []), p]);
  return [...rows.keys()].sort((a, b) => a - b).map((r) => rows.get(r)!.sort((a, b) => a.at!.col - b.at!.col).map((p) => p.cell));
}

/** What the sheet shows a cell holds, as the pane lists it. */
export function shownText(cell: SheetCell): string {
  return cell.formula === null || cell.formula === undefined ? "" : String(cell.formula);
}
