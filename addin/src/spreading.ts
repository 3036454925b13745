/**
 * TM1 spreading codes typed over QATOM.CELL cells, turned into pending writes: which text is a code,
 * what a code means for one cell (a leaf, or a consolidated cell whose write the server spreads),
 * the values of a straight line or growth over a run of cells, and the proto's `Spread`. Pure: no
 * Office, no I/O. The grammar and the SL / GR arithmetic are shared with the server
 * (common/spreading/parse.ts and line.ts, pure modules bundled into the add-in), so Excel and the
 * server read a code the same way.
 *
 * What a code does over a cell (the add-in's choices, documented in addin/src/README.md):
 *
 * | typed | consolidated cell | leaf cell |
 * |---|---|---|
 * | `500`, `P500` | proportional spread to 500 | 500 |
 * | `S+200`, `LS*50`, `R~5`, `LR25` | that method and data action | the data action on its value (`+200`: value + 200) |
 * | `P%+10`, `P%~5`, `P%50` | percent change of every unheld leaf | the same on its own value (10 → 11, 9.5, 5) |
 * | `RP100`, `R%+20` | spread relative to a reference cell chosen in the task pane | `RP100` writes 100; `R%` is refused |
 * | `C`, a cleared cell | clears every unheld leaf | clears it |
 * | `SL100:200`, `GR100:10` | one write per cell of the run (see {@link lineValues}); a consolidated cell of the run gets a proportional spread of its value | |
 * | `H`, `HC` / `RH`, `RC` | holds / releases the cell | holds / releases the cell |
 *
 * Directions (`>` right, `<` left, `|` down, `^` up) extend a code over the QATOM.CELL cells next to
 * the typed one, as TM1 does in a view: `P%+>10` raises the typed cell and every cell to its right;
 * `P>300`, `S>300`, `LS>300` spread 300 over the run as one target (10, 30, 60 become 30, 90, 180),
 * held cells left out ({@link isRangeCode}).
 * TM1 writes them after the method (`SL>100:200`); written last (`SL100:200>`) they are accepted too.
 */
import { growth, straightLine } from "../../common/spreading/line";
import { type Direction, parseSpreadCode, type SpreadCode } from "../../common/spreading/parse";
import { DataAction, SpreadMethod, type SpreadSchema } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CellSnapshot, PendingSpread, SpreadAction, SpreadMethodCode } from "./contracts";

export type { Direction, SpreadCode };

/** What the user typed over a QATOM.CELL cell, read as a value or a TM1 code. */
export type Typed =
  /** A number, or null for a cleared cell. */
  | { kind: "value"; value: number | null }
  /** A TM1 spreading or hold code (`P%+10`, `SL>100:200`, `H`), as typed (`text`). */
  | { kind: "code"; code: SpreadCode; text: string }
  /** Text that starts like a code but is not one: `message` names the bad part and where it is. */
  | { kind: "bad"; text: string; message: string };

/**
 * A method code followed by something a code has next (a modifier, a digit, a colon) or by
 * nothing: `P100`, `S+2`, `C`, `H`, `P%+10`, `SL>1:2` look like codes; `Plan`, `Check`, `n/a`,
 * `R&D`, `TBD` do not (they are a note the user typed, left alone as before).
 */
const LOOKS_LIKE_CODE = /^(?:P%|R%|RP|LS|LR|SL|GR|RH|HC|RC|P|S|R|C|H)(?:[+~|^<>*:.\d-]|$)/i;

/** A direction written after the arguments (`SL100:200>`): moved to after the method, TM1's place. */
const TRAILING_DIRECTIONS = /^(P%|R%|RP|LS|LR|SL|GR|P|S|R|C)([^|^<>]*[\d.])([|^<>]+)$/i;

/** True when `text` reads as an attempt at a TM1 code (see {@link LOOKS_LIKE_CODE}). */
export function looksLikeCode(text: string): boolean {
  return LOOKS_LIKE_CODE.test(text.trim());
}

/**
 * Reads text typed over a QATOM.CELL cell: a number written as text is a value, a TM1 code is a
 * code, a code with a mistake is `bad` (the parser's message with the 1-based character), and
 * anything else is not for the add-in (undefined: the text stays in the cell).
 */
export function parseTypedText(input: string): Typed | undefined {
  const text = input.trim();
  if (text === "") return { kind: "value", value: null };
  const first = parseSpreadCode(text);
  if (first.ok && first.code.kind === "P" && !/^[a-z]/i.test(text)) return { kind: "value", value: first.code.value };
  if (!looksLikeCode(text)) return undefined;
  if (first.ok) return { kind: "code", code: first.code, text };
  const moved = TRAILING_DIRECTIONS.exec(text);
  if (moved) {
    const again = parseSpreadCode(`${moved[1]}${moved[3]}${moved[2]}`);
    if (again.ok) return { kind: "code", code: again.code, text };
  }
  const where = first.part ? `"${first.part}" at character ${first.position + 1}` : `character ${first.position + 1}`;
  return { kind: "bad", text, message: `"${text}" is not a spreading code (${where}): ${first.message}` };
}

/** The proto's spreading method of each TM1 code. */
export const SPREAD_METHOD: Record<SpreadMethodCode, SpreadMethod> = {
  P: SpreadMethod.PROPORTIONAL,
  S: SpreadMethod.EQUAL,
  LS: SpreadMethod.EQUAL_LEAVES,
  R: SpreadMethod.REPEAT,
  LR: SpreadMethod.REPEAT_LEAVES,
  "P%": SpreadMethod.PERCENT_CHANGE,
  RP: SpreadMethod.RELATIVE_PROPORTIONAL,
  "R%": SpreadMethod.RELATIVE_PERCENT,
  C: SpreadMethod.CLEAR,
};

/** The proto's data action of each action. */
export const DATA_ACTION: Record<SpreadAction, DataAction> = {
  replace: DataAction.REPLACE,
  add: DataAction.ADD,
  subtract: DataAction.SUBTRACT,
};

/** Names for people (the task pane's method picker), in the picker's order. */
export const SPREAD_METHOD_NAMES: Record<SpreadMethodCode, string> = {
  P: "Proportional",
  S: "Equal",
  LS: "Equal leaves",
  R: "Repeat",
  LR: "Repeat leaves",
  "P%": "Percent change",
  RP: "Relative proportional",
  "R%": "Relative percent",
  C: "Clear",
};

/** Names of the data actions for people. */
export const SPREAD_ACTION_NAMES: Record<SpreadAction, string> = { replace: "Replace", add: "Add (+)", subtract: "Subtract (~)" };

const ACTION_SYMBOL: Record<SpreadAction, string> = { replace: "", add: "+", subtract: "~" };

/** True for the methods whose argument is a percentage (CellWrite.value is not sent). */
export function isPercentMethod(m: SpreadMethodCode): boolean {
  return m === "P%" || m === "R%";
}

/** True for the methods that need a reference cell. */
export function needsReference(m: SpreadMethodCode): boolean {
  return m === "RP" || m === "R%";
}

/** The default spread of a value written to a consolidated cell: proportional replace, clear for null. */
export function defaultSpread(value: number | null, patch: Partial<PendingSpread> = {}): PendingSpread {
  const s: PendingSpread = { method: value === null ? "C" : "P", action: "replace", includeEmpty: false, reference: [], ...patch };
  if (s.method === "C") s.action = "replace";
  return s;
}

/**
 * Why a consolidated write with this spread cannot be sent, or null when it can: a method that
 * needs a number without one, RP or R% without a reference cell.
 */
export function spreadProblem(spread: PendingSpread, value: number | null): string | null {
  const name = `${SPREAD_METHOD_NAMES[spread.method]} (${spread.method})`;
  if (spread.method !== "C" && (value === null || !Number.isFinite(value))) {
    return `${name} needs ${isPercentMethod(spread.method) ? "a percentage" : "a value"}: type it over the cell (e.g. ${spread.method}${isPercentMethod(spread.method) ? "+10" : "100"})`;
  }
  if (needsReference(spread.method) && spread.reference.every((m) => m.trim() === "")) {
    return `${name} needs a reference cell: give its members under Reference (e.g. [Scenario].[Actual]); they replace this cell's members of the same dimensions`;
  }
  return null;
}

/**
 * The TM1 code of a spread with its argument, as a person would type it: `P%+10`, `LS*50`, `C`;
 * a proportional replace is just its number (`500`).
 */
export function spreadCodeText(spread: PendingSpread, value: number | null): string {
  if (spread.method === "C") return "C";
  const star = spread.includeEmpty && (spread.method === "LS" || spread.method === "LR") ? "*" : "";
  const n = value === null ? "" : String(value);
  if (spread.method === "P" && spread.action === "replace") return n;
  return `${spread.method}${ACTION_SYMBOL[spread.action]}${star}${n}`;
}

/** The proto `Spread` of a pending spread and its argument (the percentage for P% and R%). */
export function toProtoSpread(spread: PendingSpread, value: number | null): MessageInitShape<typeof SpreadSchema> {
  return {
    method: SPREAD_METHOD[spread.method],
    action: DATA_ACTION[spread.action],
    includeEmpty: spread.includeEmpty,
    percent: isPercentMethod(spread.method) ? (value ?? 0) : 0,
    reference: spread.reference.map((m) => m.trim()).filter((m) => m !== ""),
  };
}

/** Member names separated by commas outside brackets (`[Scenario].[Actual], [Time].[1997]`): the pane's Reference field. */
export function splitMembers(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "[") depth++;
    else if (ch === "]") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((m) => m !== "");
}

/** CellWrite.value of a pending write: unset for clear and for percentages (the server does not use it). */
export function wireValue(value: number | null, spread: PendingSpread | undefined): number | undefined {
  if (spread && (spread.method === "C" || isPercentMethod(spread.method))) return undefined;
  return value ?? undefined;
}

/** A data action on a leaf's value (empty counts as 0). */
function combine(action: SpreadAction, seen: number | null, v: number): number {
  if (action === "replace") return v;
  return (seen ?? 0) + (action === "add" ? v : -v);
}

/** How to write one cell: the value (and spread, for a consolidated cell), or why not. */
export type CellEntry = { ok: true; value: number | null; spread?: Partial<PendingSpread> } | { ok: false; message: string };

/** Methods that are not one cell's write (SL, GR over a run; holds). */
export type CellCode = Extract<SpreadCode, { kind: "P" | "S" | "R" | "RP" | "LS" | "LR" | "P%" | "R%" | "C" }>;

/** True for a code that writes one cell (not SL, GR, or a hold). */
export function isCellCode(code: SpreadCode): code is CellCode {
  return !["SL", "GR", "H", "RH", "HC", "RC"].includes(code.kind);
}

/** A code spread over a run as one target when typed with a direction: `P`, `S`, `LS` (see common/spreading/range.ts). */
export type RangeCode = { kind: "P" | "S" | "LS"; action: SpreadAction; directions: Direction[]; value: number };

/**
 * True for `P`, `S` and `LS`: with a direction they spread over the run as a whole (TM1: `P<>100`
 * "proportionally spreads the value 100 to all leaf cells" of the range; "Data spreading and hold
 * syntax reference table"). `R`, `LR`, `P%` and `C` act on each cell of a run alone; `RP` and `R%`
 * too (a run has no reference cells of its own).
 */
export function isRangeCode(code: SpreadCode): code is SpreadCode & RangeCode {
  return code.kind === "P" || code.kind === "S" || code.kind === "LS";
}

/**
 * What a code typed over one cell writes (see the table in the module comment). A consolidated
 * cell gets the code's spread; a leaf the code applied to its own value, as TM1 does when a code is
 * typed into a leaf.
 */
export function entryForCode(code: CellCode, snap: CellSnapshot): CellEntry {
  if (snap.consolidated) {
    switch (code.kind) {
      case "C":
        return { ok: true, value: null, spread: { method: "C", action: "replace" } };
      case "P%":
      case "R%":
        return { ok: true, value: code.percent, spread: { method: code.kind, action: code.action } };
      case "LS":
      case "LR":
        return { ok: true, value: code.value, spread: { method: code.kind, action: code.action, includeEmpty: code.allLeaves } };
      default:
        return { ok: true, value: code.value, spread: { method: code.kind, action: code.action } };
    }
  }
  const seen = snap.value;
  switch (code.kind) {
    case "C":
      return { ok: true, value: null };
    case "P%": {
      if (seen === null) return { ok: true, value: null };
      const p = code.percent;
      const v = code.action === "replace" ? (seen * p) / 100 : (seen * (100 + (code.action === "add" ? p : -p))) / 100;
      return { ok: true, value: v };
    }
    case "R%":
      return { ok: false, message: "R% (relative percent) adjusts the leaves of a consolidated cell from a reference cell; over a leaf cell, type its new value instead" };
    default:
      return { ok: true, value: combine(code.action, seen, code.value) };
  }
}

/** The values of a straight line (SL) or growth (GR) over `n` cells, in order. */
export function lineValues(code: Extract<SpreadCode, { kind: "SL" | "GR" }>, n: number): Float64Array {
  return code.kind === "SL" ? straightLine(n, code.start, code.end) : growth(n, code.start, code.rate);
}

/**
 * One cell of an SL or GR run: a leaf gets the line's value under the code's data action, a
 * consolidated cell a proportional spread of it.
 */
export function lineEntry(action: SpreadAction, v: number, snap: CellSnapshot): CellEntry {
  if (snap.consolidated) return { ok: true, value: v, spread: { method: "P", action } };
  return { ok: true, value: combine(action, snap.value, v) };
}

/** Column and row steps of each direction. */
export const DIRECTION_STEP: Record<Direction, { col: number; row: number }> = {
  ">": { col: 1, row: 0 },
  "<": { col: -1, row: 0 },
  "|": { col: 0, row: 1 },
  "^": { col: 0, row: -1 },
};
