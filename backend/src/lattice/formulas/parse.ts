/**
 * Parser of member formulas (calculated members): arithmetic over member references, in the spirit
 * of MDX calculated members and TM1 rules.
 *
 * Grammar (keywords and function names are case-insensitive; whitespace is ignored between tokens):
 *
 * ```
 * formula    := comparison EOF
 * comparison := additive [ ("=" | "<>" | "<" | "<=" | ">" | ">=") additive ]   (does not chain)
 * additive   := term { ("+" | "-") term }
 * term       := unary { ("*" | "/") unary }
 * unary      := ("-" | "+") unary | primary
 * primary    := number
 *             | member                                   e.g. [Measures].[Store Sales]
 *             | "(" member { "," member } ")"            a tuple, when "(" member is followed by ","
 *             | "(" comparison ")"
 *             | ("IF" | "MIN" | "MAX" | "ABS") "(" comparison { "," comparison } ")"
 * number     := digits [ "." digits ] [ ("e" | "E") ["+" | "-"] digits ]   (or "." digits ...)
 * member     := "[" name "]" { "." "[" name "]" }       "]]" inside brackets stands for "]"
 * ```
 *
 * IF takes 3 arguments, ABS 1, MIN and MAX at least 1. Member names are kept as written; resolving
 * them against a cube is the job of `graph.ts`.
 *
 * The loader's caption expression parser (`loader/expression.ts`) is a single-purpose function
 * without a separate tokenizer, so this module keeps its own small scanner; a bracketed member name
 * is read by the one name parser of common/names.ts (`readBracketed`).
 */

import { readBracketed } from "../../../../common/names";

/** The binary operators, arithmetic and comparison. */
export type BinaryOp = "+" | "-" | "*" | "/" | "=" | "<>" | "<" | "<=" | ">" | ">=";

/** The built-in functions. */
export type FunctionName = "IF" | "MIN" | "MAX" | "ABS";

/**
 * A formula's syntax tree. `M` is how a member reference is held: the member's name as written
 * (`string`, from the parser) or a resolved member (see `graph.ts`). `pos` is the 1-based column
 * where the node starts in the source text.
 */
export type Expr<M = string> =
  | { kind: "number"; value: number; pos: number }
  | { kind: "ref"; members: M[]; text: string; pos: number }
  | { kind: "neg"; operand: Expr<M>; pos: number }
  | { kind: "binary"; op: BinaryOp; left: Expr<M>; right: Expr<M>; pos: number }
  | { kind: "call"; fn: FunctionName; args: Expr<M>[]; pos: number };

/** A syntax error: `column` is 1-based, `expected` says what the parser wanted there. */
export class FormulaSyntaxError extends Error {
  /**
   * @param column 1-based column of the offending token (source length + 1 at the end of input).
   * @param expected what would have been valid there, e.g. `an operand`.
   * @param found a description of what was found instead, e.g. `"*"` or `the end of the formula`.
   */
  constructor(
    readonly column: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`column ${column}: expected ${expected}, found ${found}`);
    this.name = "FormulaSyntaxError";
  }
}

type TokenKind = "num" | "member" | "ident" | "op" | "(" | ")" | "," | "eof";

interface Token {
  kind: TokenKind;
  /** Source text of the token (for `member`, the whole `[A].[B]` text). */
  text: string;
  /** 1-based column. */
  pos: number;
  value?: number;
}

const ARITY: Record<FunctionName, [number, number]> = {
  IF: [3, 3],
  MIN: [1, Number.POSITIVE_INFINITY],
  MAX: [1, Number.POSITIVE_INFINITY],
  ABS: [1, 1],
};

/** Deepest nesting of operands accepted (parentheses, function arguments, unary signs). */
const MAX_DEPTH = 200;

const COMPARISONS = new Set<string>(["=", "<>", "<", "<=", ">", ">="]);

function describe(t: Token): string {
  return t.kind === "eof" ? "the end of the formula" : JSON.stringify(t.text);
}

/** Splits the source into tokens. @throws FormulaSyntaxError on a character no token starts with. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(c)) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) throw new FormulaSyntaxError(start + 1, "a number", JSON.stringify(c));
      i += m[0].length;
      if (i < n && /[A-Za-z_]/.test(src[i])) {
        throw new FormulaSyntaxError(i + 1, "an operator after the number", JSON.stringify(src[i]));
      }
      out.push({ kind: "num", text: m[0], pos: start + 1, value: Number(m[0]) });
    } else if (c === "[") {
      // One or more bracketed parts joined by ".", e.g. [Measures].[Store Sales].
      for (;;) {
        const open = i;
        const seg = readBracketed(src, open);
        if (!seg.ok) throw new FormulaSyntaxError(n + 1, `"]" to close the "[" at column ${open + 1}`, "the end of the formula");
        i = seg.end;
        if (seg.name.trim() === "") throw new FormulaSyntaxError(open + 2, "a member name inside the brackets", `"${src.slice(open, i)}"`);
        if (src[i] === "." && src[i + 1] === "[") {
          i++;
          continue;
        }
        if (src[i] === ".") throw new FormulaSyntaxError(i + 2, `"[" after "."`, i + 1 < n ? JSON.stringify(src[i + 1]) : "the end of the formula");
        break;
      }
      out.push({ kind: "member", text: src.slice(start, i), pos: start + 1 });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < n && /\w/.test(src[i])) i++;
      out.push({ kind: "ident", text: src.slice(start, i), pos: start + 1 });
    } else if (c === "<" && (src[i + 1] === "=" || src[i + 1] === ">")) {
      i += 2;
      out.push({ kind: "op", text: src.slice(start, i), pos: start + 1 });
    } else if (c === ">" && src[i + 1] === "=") {
      i += 2;
      out.push({ kind: "op", text: ">=", pos: start + 1 });
    } else if ("+-*/=<>".includes(c)) {
      i++;
      out.push({ kind: "op", text: c, pos: start + 1 });
    } else if (c === "(" || c === ")" || c === ",") {
      i++;
      out.push({ kind: c, text: c, pos: start + 1 });
    } else {
      throw new FormulaSyntaxError(start + 1, "an operand or an operator", JSON.stringify(c));
    }
  }
  out.push({ kind: "eof", text: "", pos: n + 1 });
  return out;
}

/**
 * Parses a formula into its syntax tree; member references keep their names as written.
 * @throws FormulaSyntaxError naming the 1-based column and what was expected there.
 */
export function parseFormula(src: string): Expr<string> {
  const tokens = tokenize(src);
  let k = 0;
  const peek = (ahead = 0): Token => tokens[Math.min(k + ahead, tokens.length - 1)];
  const next = (): Token => tokens[k++];
  const expect = (kind: TokenKind, what: string): Token => {
    const t = peek();
    if (t.kind !== kind) throw new FormulaSyntaxError(t.pos, what, describe(t));
    return next();
  };
  const OPERAND = `an operand (a number, a [member], a function or "(")`;

  const comparison = (): Expr<string> => {
    const left = additive();
    const t = peek();
    if (t.kind === "op" && COMPARISONS.has(t.text)) {
      next();
      const right = additive();
      const after = peek();
      if (after.kind === "op" && COMPARISONS.has(after.text)) {
        throw new FormulaSyntaxError(after.pos, `an arithmetic operator or the end of the comparison (comparisons do not chain; use parentheses)`, describe(after));
      }
      return { kind: "binary", op: t.text as BinaryOp, left, right, pos: left.pos };
    }
    return left;
  };

  const additive = (): Expr<string> => {
    let left = term();
    for (;;) {
      const t = peek();
      if (t.kind !== "op" || (t.text !== "+" && t.text !== "-")) return left;
      next();
      left = { kind: "binary", op: t.text, left, right: term(), pos: left.pos };
    }
  };

  const term = (): Expr<string> => {
    let left = unary();
    for (;;) {
      const t = peek();
      if (t.kind !== "op" || (t.text !== "*" && t.text !== "/")) return left;
      next();
      left = { kind: "binary", op: t.text, left, right: unary(), pos: left.pos };
    }
  };

  // Every nesting (parentheses, arguments, unary signs) passes through `unary`; bound it so that a
  // pathological formula gets a syntax error rather than a stack overflow.
  let depth = 0;
  const unary = (): Expr<string> => {
    const t = peek();
    if (++depth > MAX_DEPTH) throw new FormulaSyntaxError(t.pos, `at most ${MAX_DEPTH} levels of nesting`, "more");
    try {
      if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
        next();
        const operand = unary();
        return t.text === "-" ? { kind: "neg", operand, pos: t.pos } : operand;
      }
      return primary();
    } finally {
      depth--;
    }
  };

  const primary = (): Expr<string> => {
    const t = peek();
    switch (t.kind) {
      case "num":
        next();
        return { kind: "number", value: t.value!, pos: t.pos };
      case "member":
        next();
        return { kind: "ref", members: [t.text], text: t.text, pos: t.pos };
      case "(": {
        if (peek(1).kind === "member" && peek(2).kind === ",") return tuple();
        next();
        const inner = comparison();
        expect(")", `")" to close the "(" at column ${t.pos}`);
        return inner;
      }
      case "ident": {
        const fn = t.text.toUpperCase();
        if (!(fn in ARITY)) {
          throw new FormulaSyntaxError(t.pos, `a function (IF, MIN, MAX or ABS) or a [member]; member names go in brackets`, describe(t));
        }
        return call(fn as FunctionName);
      }
      default:
        throw new FormulaSyntaxError(t.pos, OPERAND, describe(t));
    }
  };

  /** `(` member { `,` member } `)`, known to start with `(` member `,`. */
  const tuple = (): Expr<string> => {
    const open = next();
    const members: string[] = [];
    for (;;) {
      members.push(expect("member", "a [member] in the tuple").text);
      const t = peek();
      if (t.kind === ")") break;
      if (t.kind !== ",") throw new FormulaSyntaxError(t.pos, `"," or ")" in the tuple opened at column ${open.pos}`, describe(t));
      next();
    }
    const close = next();
    return { kind: "ref", members, text: src.slice(open.pos - 1, close.pos), pos: open.pos };
  };

  const call = (fn: FunctionName): Expr<string> => {
    const name = next();
    expect("(", `"(" after ${fn}`);
    const args: Expr<string>[] = [];
    const [lo, hi] = ARITY[fn];
    if (peek().kind !== ")") {
      for (;;) {
        args.push(comparison());
        const t = peek();
        if (t.kind === ")") break;
        if (t.kind !== ",") throw new FormulaSyntaxError(t.pos, `"," or ")" in the arguments of ${fn}`, describe(t));
        if (args.length >= hi) throw new FormulaSyntaxError(t.pos, `")": ${fn} takes ${hi === lo ? lo : `at most ${hi}`} argument${hi === 1 ? "" : "s"}`, describe(t));
        next();
      }
    }
    const close = next();
    if (args.length < lo) {
      const want = lo === hi ? `${lo}` : `at least ${lo}`;
      throw new FormulaSyntaxError(close.pos, `${want} argument${lo === 1 ? "" : "s"} for ${fn}`, `${args.length}`);
    }
    return { kind: "call", fn, args, pos: name.pos };
  };

  const root = comparison();
  const end = peek();
  if (end.kind !== "eof") {
    throw new FormulaSyntaxError(end.pos, end.kind === ")" ? `an operator or the end of the formula (unbalanced ")")` : "an operator or the end of the formula", describe(end));
  }
  return root;
}

/** Visits every member reference of a tree, in source order. */
export function forEachRef<M>(expr: Expr<M>, visit: (ref: Extract<Expr<M>, { kind: "ref" }>) => void): void {
  switch (expr.kind) {
    case "number":
      return;
    case "ref":
      visit(expr);
      return;
    case "neg":
      forEachRef(expr.operand, visit);
      return;
    case "binary":
      forEachRef(expr.left, visit);
      forEachRef(expr.right, visit);
      return;
    case "call":
      for (const a of expr.args) forEachRef(a, visit);
  }
}
