/**
 * MDX-style member unique names, the one address syntax of every RPC, the loader's model files and
 * member formulas: `[Dimension].[top member].[...].[member]`. Inside brackets `]]` stands for `]`
 * (MDX's escaping of identifiers); a name without brackets is "bare".
 *
 * This is the one parser of that syntax: the server's address resolver, the model loader, the
 * formula tokenizer (through {@link readBracketed}) and the task pane use it. Its errors say what is
 * wrong and at which character (1-based in the messages, 0-based in `position`).
 *
 * Source of the syntax: Microsoft's MDX reference, "Identifiers (MDX)" and "Delimited identifiers"
 * (https://learn.microsoft.com/sql/mdx/identifiers-mdx).
 */

/**
 * Escapes a name for use inside brackets: `]` becomes `]]`.
 * @example escapeName("a]b") // "a]]b"
 */
export function escapeName(name: string): string {
  return name.replace(/]/g, "]]");
}

/**
 * A name in brackets, with `]` escaped.
 * @example bracket("Q1") // "[Q1]"; bracket("a]b") // "[a]]b]"
 */
export function bracket(name: string): string {
  return `[${escapeName(name)}]`;
}

/**
 * The unique name of a path of names, every part bracketed.
 * @example joinUniqueName(["Store", "USA", "CA"]) // "[Store].[USA].[CA]"
 */
export function joinUniqueName(parts: readonly string[]): string {
  return parts.map(bracket).join(".");
}

/**
 * What is wrong with a name (the closed set of {@link NameSyntaxError} codes):
 * - `EMPTY`: the text is empty or blank.
 * - `MIXED`: a bare name holds a bracket (`CA]`, `US[A`) where bare names are taken whole.
 * - `UNCLOSED`: a `[` without its closing `]`.
 * - `EMPTY_NAME`: nothing but blanks between brackets (`[ ]`).
 * - `EXPECTED_OPEN`: a part that must be bracketed is not (`[Store].USA` where bare names are taken whole).
 * - `BAD_BARE_NAME`: a dotted bare part is empty or holds a bracket (`Time..Q1`, `Time.Q1]`).
 * - `EXPECTED_DOT`: something other than `.` after a part (`[Store]x`).
 * - `ENDS_WITH_DOT`: nothing after the last `.` (`[Store].`).
 */
export type NameErrorCode = "EMPTY" | "MIXED" | "UNCLOSED" | "EMPTY_NAME" | "EXPECTED_OPEN" | "BAD_BARE_NAME" | "EXPECTED_DOT" | "ENDS_WITH_DOT";

/** A malformed name: what is wrong (`code`, `message`) and where (`position`, 0-based in the text given). */
export interface NameSyntaxError {
  ok: false;
  code: NameErrorCode;
  /** 0-based index of the offending character in the text given (its length when something is missing at the end). */
  position: number;
  /** For people: the text, what is wrong, and the 1-based character, e.g. `"[Store]x": expected "." at character 8`. */
  message: string;
}

/** One bracketed name read by {@link readBracketed}. */
export interface BracketedName {
  ok: true;
  /** The name with `]]` turned into `]`, blanks kept. */
  name: string;
  /** Index just after the closing `]`. */
  end: number;
}

/**
 * Reads one bracketed name starting at `start`, where `text[start]` is `[`: up to the first `]`
 * that is not doubled. Checks nothing after it (the caller decides what may follow) and accepts a
 * blank name (the caller decides whether one is allowed).
 * @returns the unescaped name and the index after its `]`; `EXPECTED_OPEN` when `text[start]` is
 *   not `[`, `UNCLOSED` (position: the `[`) when no `]` closes it. Messages do not quote `text`.
 * @example readBracketed("x + [a]]b].[c]", 4) // { ok: true, name: "a]b", end: 10 }
 */
export function readBracketed(text: string, start: number): BracketedName | NameSyntaxError {
  if (text[start] !== "[") {
    return { ok: false, code: "EXPECTED_OPEN", position: start, message: `expected "[" at character ${start + 1}` };
  }
  let name = "";
  let i = start + 1;
  for (;;) {
    if (i >= text.length) {
      return { ok: false, code: "UNCLOSED", position: start, message: `unbalanced "[" at character ${start + 1} (no closing "]")` };
    }
    const ch = text[i];
    if (ch === "]") {
      if (text[i + 1] === "]") {
        name += "]";
        i += 2;
        continue;
      }
      return { ok: true, name, end: i + 1 };
    }
    name += ch;
    i++;
  }
}

/** How {@link parseUniqueName} reads parts without brackets. */
export interface ParseNameOptions {
  /**
   * `"whole"` (default, the server's address resolver): a text that does not start with `[` is one
   * bare member name, dots and all (`St. Louis`), and every part of a bracketed name is bracketed.
   * `"dotted"` (the loader's model files): parts are split at dots and may each be bare or
   * bracketed (`Time.1997`, `[Time].1997`); a bare part is trimmed.
   */
  bareNames?: "whole" | "dotted";
}

/** Result of {@link parseUniqueName}: the names of the path, unescaped, or what is wrong. */
export type NameParseResult = { ok: true; parts: string[] } | NameSyntaxError;

/**
 * Splits a member name into its parts: `[Store].[USA].[CA]` gives `["Store", "USA", "CA"]`,
 * `[a]]b]` gives `["a]b"]`, a bare `CA` gives `["CA"]`. Blanks around the whole text are ignored;
 * between parts only `.` may stand. A bracketed part may not be blank.
 * @returns the parts, or a {@link NameSyntaxError} naming what is wrong and at which character
 *   (e.g. `"[Store].[USA": unbalanced "[" at character 9 (no closing "]")`); never throws.
 */
export function parseUniqueName(text: string, options: ParseNameOptions = {}): NameParseResult {
  const dotted = options.bareNames === "dotted";
  const lead = text.length - text.trimStart().length;
  const s = text.trim();
  const fail = (code: NameErrorCode, at: number, what: string): NameSyntaxError => ({
    ok: false,
    code,
    position: lead + at,
    message: `"${text}": ${what}`,
  });
  if (s.length === 0) return { ok: false, code: "EMPTY", position: 0, message: "the member name is empty" };
  if (!dotted && s[0] !== "[") {
    const b = s.search(/[[\]]/);
    if (b >= 0) return { ok: false, code: "MIXED", position: lead + b, message: `"${text}" mixes bare text with brackets (at character ${lead + b + 1})` };
    return { ok: true, parts: [s] };
  }
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === "[") {
      const seg = readBracketed(s, i);
      if (!seg.ok) return fail(seg.code, seg.position, `unbalanced "[" at character ${lead + seg.position + 1} (no closing "]")`);
      if (seg.name.trim() === "") return fail("EMPTY_NAME", i, `empty name in brackets at character ${lead + i + 1}`);
      parts.push(seg.name);
      i = seg.end;
    } else if (dotted) {
      const dot = s.indexOf(".", i);
      const end = dot === -1 ? s.length : dot;
      const name = s.slice(i, end).trim();
      if (name === "" || name.includes("[") || name.includes("]")) {
        return fail("BAD_BARE_NAME", i, `${name === "" ? "empty name" : `malformed name ${JSON.stringify(name)}`} at character ${lead + i + 1}`);
      }
      parts.push(name);
      i = end;
    } else {
      return fail("EXPECTED_OPEN", i, `expected "[" at character ${lead + i + 1}`);
    }
    if (i >= s.length) return { ok: true, parts };
    if (s[i] !== ".") return fail("EXPECTED_DOT", i, `expected "." at character ${lead + i + 1}`);
    i++;
    if (i >= s.length) return fail("ENDS_WITH_DOT", i, `ends with "." (character ${lead + i})`);
  }
}
