import type { DataAction } from "./codes";

/**
 * Parser for TM1 data spreading codes typed into a cell, per IBM Planning Analytics "Data spreading
 * and hold syntax reference table"
 * (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table)
 * and the REST "spreading command codes" examples (`P%+|^<>10`, `LR+*200`, `RP9999`, `R%+20`).
 *
 * Grammar (case-insensitive, surrounding blanks ignored):
 *
 *     code     := method [modifier...] [args]
 *     method   := P% | R% | RP | LS | LR | SL | GR | RH | HC | RC | P | S | R | C | H
 *     modifier := "+" (add) | "~" (subtract)       at most one data action; none = replace
 *               | "|" | "^" | "<" | ">"             directions (down, up, left, right) for view ranges
 *               | "*"                               all leaves, also empty ones (LS and LR only)
 *     args     := number                            P S R LS LR RP (value), P% R% (percent)
 *               | number ":" number                SL (start:end), GR (start:growth %)
 *     number   := ["-"] digits ["." digits] [("e"|"E") ["+"|"-"] digits]
 *
 * `C`, `H`, `RH`, `HC`, `RC` take no data action and no argument. A bare number (`250`) is what a user
 * types into a consolidated cell without a code: TM1 spreads it proportionally, so it parses as `P250`.
 * Note `P%-5` is a *replace* with percent -5 (each leaf becomes -5% of itself); to decrease by 5% type
 * `P%~5` or `P%+-5`.
 */

/** Directions of a view-range spread, in TM1's symbols. */
export type Direction = "|" | "^" | "<" | ">";

/** A parsed spreading or hold code. */
export type SpreadCode =
  | { kind: "P" | "S" | "R" | "RP"; action: DataAction; directions: Direction[]; value: number }
  | { kind: "LS" | "LR"; action: DataAction; directions: Direction[]; allLeaves: boolean; value: number }
  | { kind: "P%" | "R%"; action: DataAction; directions: Direction[]; percent: number }
  | { kind: "SL"; action: DataAction; directions: Direction[]; start: number; end: number }
  | { kind: "GR"; action: DataAction; directions: Direction[]; start: number; rate: number }
  | { kind: "C"; directions: Direction[] }
  | { kind: "H" | "RH" | "HC" | "RC" };

/** A code that could not be parsed: the offending part and its 0-based position in the trimmed text. */
export interface SpreadParseError {
  ok: false;
  code: "PARSE_ERROR";
  /** The offending part of the input ("" when something is missing at the end). */
  part: string;
  position: number;
  message: string;
}

/** Result of {@link parseSpreadCode}. */
export type SpreadParseResult = { ok: true; code: SpreadCode } | SpreadParseError;

const METHODS = ["P%", "R%", "RP", "LS", "LR", "SL", "GR", "RH", "HC", "RC", "P", "S", "R", "C", "H"] as const;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?/i;

const err = (part: string, position: number, message: string): SpreadParseError => ({
  ok: false,
  code: "PARSE_ERROR",
  part,
  position,
  message,
});

/**
 * Parses a TM1 spreading code such as `P100`, `P+100`, `P~100`, `S+200`, `LS*50`, `R12`, `P%+10`,
 * `SL100:200`, `GR300:25`, `C` or `H` (grammar in the module comment).
 * @returns the typed code, or a `PARSE_ERROR` naming the bad part and where it is; never throws.
 */
export function parseSpreadCode(input: string): SpreadParseResult {
  const text = input.trim();
  if (text === "") return err("", 0, "empty spreading code");
  const upper = text.toUpperCase();

  const bare = NUMBER.exec(upper);
  if (bare && bare[0].length === upper.length) {
    return { ok: true, code: { kind: "P", action: "replace", directions: [], value: Number(bare[0]) } };
  }

  const method = METHODS.find((m) => upper.startsWith(m));
  if (!method) {
    const word = /^[A-Z%]+/.exec(upper)?.[0] ?? upper[0];
    return err(text.slice(0, word.length), 0, `unknown spreading method "${text.slice(0, word.length)}"; expected one of ${METHODS.join(", ")}`);
  }
  let pos = method.length;

  let action: DataAction = "replace";
  let actionAt = -1;
  const directions: Direction[] = [];
  let allLeaves = false;
  while (pos < upper.length && "+~|^<>*".includes(upper[pos])) {
    const c = upper[pos];
    if (c === "+" || c === "~") {
      if (actionAt >= 0) return err(c, pos, `second data action "${c}" (already "${upper[actionAt]}" at ${actionAt})`);
      action = c === "+" ? "add" : "subtract";
      actionAt = pos;
    } else if (c === "*") {
      if (method !== "LS" && method !== "LR") return err(c, pos, `"*" (all leaves) applies only to LS and LR, not ${method}`);
      if (allLeaves) return err(c, pos, `"*" given twice`);
      allLeaves = true;
    } else {
      if (directions.includes(c as Direction)) return err(c, pos, `direction "${c}" given twice`);
      directions.push(c as Direction);
    }
    pos++;
  }

  if (method === "H" || method === "RH" || method === "HC" || method === "RC" || method === "C") {
    if (actionAt >= 0) return err(upper[actionAt], actionAt, `${method} takes no data action`);
    if (pos < upper.length) return err(text.slice(pos), pos, `${method} takes no argument, got "${text.slice(pos)}"`);
    if (method === "C") return { ok: true, code: { kind: "C", directions } };
    if (directions.length > 0) return err(directions[0], method.length, `${method} takes no direction`);
    return { ok: true, code: { kind: method } };
  }

  const readNumber = (what: string): number | SpreadParseError => {
    const m = NUMBER.exec(upper.slice(pos));
    if (!m) {
      const rest = text.slice(pos);
      return rest === ""
        ? err("", pos, `${method}: missing ${what}`)
        : err(rest, pos, `${method}: ${what} expected, got "${rest}"`);
    }
    pos += m[0].length;
    return Number(m[0]);
  };

  const first = readNumber(method === "P%" || method === "R%" ? "percentage" : method === "SL" || method === "GR" ? "start value" : "value");
  if (typeof first !== "number") return first;
  let second = Number.NaN;
  if (method === "SL" || method === "GR") {
    if (upper[pos] !== ":") {
      const rest = text.slice(pos);
      return err(rest, pos, `${method}: expected ":" then ${method === "SL" ? "the end value" : "the growth percentage"}${rest ? `, got "${rest}"` : ""}`);
    }
    pos++;
    const s = readNumber(method === "SL" ? "end value" : "growth percentage");
    if (typeof s !== "number") return s;
    second = s;
  }
  if (pos < upper.length) return err(text.slice(pos), pos, `${method}: unexpected "${text.slice(pos)}" after the argument`);

  switch (method) {
    case "P":
    case "S":
    case "R":
    case "RP":
      return { ok: true, code: { kind: method, action, directions, value: first } };
    case "LS":
    case "LR":
      return { ok: true, code: { kind: method, action, directions, allLeaves, value: first } };
    case "P%":
    case "R%":
      return { ok: true, code: { kind: method, action, directions, percent: first } };
    case "SL":
      return { ok: true, code: { kind: "SL", action, directions, start: first, end: second } };
    case "GR":
      return { ok: true, code: { kind: "GR", action, directions, start: first, rate: second } };
  }
}
