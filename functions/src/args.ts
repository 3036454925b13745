/**
 * Argument checks of the QATOM functions, done before any request: a wrong type is `#VALUE!`
 * (invalidValue) with a message naming the argument. Names are otherwise the server's business
 * (an unknown or ambiguous one is `#N/A` with the server's message).
 */
import { invalidValue } from "../../addin/src/errors";
import { MAX_MEMBER_TEXT_LENGTH, MAX_MEMBERS_PER_ADDRESS, MAX_NAME_LENGTH } from "../../common/limits";

/** Most members in one address: the server's limit (common/limits.ts). */
export const MAX_MEMBERS = MAX_MEMBERS_PER_ADDRESS;

function describe(v: unknown): string {
  if (v === null || v === undefined) return "empty";
  if (typeof v === "object") return "an error or a non-scalar value";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** `name` when it is at most `max` characters. @throws AddinError invalidValue naming the argument and the server's limit. */
function bounded(name: string, what: string, max: number): string {
  if (name.length > max) throw invalidValue(`${what} has ${name.length} characters; the limit is ${max}`);
  return name;
}

/**
 * A name argument: text, or a whole number (Excel stores a typed `1997` as a number, and members
 * such as years and months are named so). Empty gives "".
 * @throws AddinError invalidValue for booleans, fractions, errors and other values.
 */
export function nameArg(v: unknown, what: string): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  throw invalidValue(`${what} must be text (a name), got ${describe(v)}`);
}

/** The cube argument: a non-empty name of at most MAX_NAME_LENGTH characters. */
export function cubeArg(v: unknown): string {
  const cube = nameArg(v, "cube");
  if (!cube) throw invalidValue('cube is required: the cube\'s name, e.g. "Sales"');
  return bounded(cube, "cube", MAX_NAME_LENGTH);
}

/** QATOM.MEMBERS' dimension argument: a non-empty name of at most MAX_NAME_LENGTH characters. */
export function dimensionArg(v: unknown): string {
  const dim = nameArg(v, "dimension");
  if (!dim) throw invalidValue('dimension is required: the dimension\'s name, e.g. "Store"');
  return bounded(dim, "dimension", MAX_NAME_LENGTH);
}

/** QATOM.MEMBERS' parent argument: a member's text of at most MAX_MEMBER_TEXT_LENGTH characters, or "". */
export function parentArg(v: unknown): string {
  return bounded(nameArg(v, "parent"), "parent", MAX_MEMBER_TEXT_LENGTH);
}

/**
 * The members of a repeating member argument: each argument is a single name or a range of names
 * (a matrix); empty cells of a range are skipped.
 * @throws AddinError invalidValue for a value that is not a name, a name over
 *   MAX_MEMBER_TEXT_LENGTH characters, no member at all, or over 64.
 */
export function membersArg(args: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const what = `member ${out.length + 1}`;
    const name = bounded(nameArg(v, what), what, MAX_MEMBER_TEXT_LENGTH);
    if (name) out.push(name);
  };
  visit(args);
  if (out.length === 0) throw invalidValue('give at least one member, e.g. "[Measures].[Unit Sales]" or a range of member names');
  if (out.length > MAX_MEMBERS) throw invalidValue(`${out.length} members; a cell has at most ${MAX_MEMBERS}`);
  return out;
}

/** QATOM.MEMBERS' depth: omitted is 1 (the children), 0 is every level below. */
export function depthArg(v: unknown): number {
  if (v === null || v === undefined || v === "") return 1;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  throw invalidValue(`depth must be a whole number of 0 or more (0: every level below), got ${describe(v)}`);
}
