/**
 * Limits of the API that both sides enforce: the server refuses a request over them (see
 * backend/src/domain/checks.ts and backend/src/services/field-limits.ts) and the add-in splits its
 * requests or refuses the formula or the typed value before sending, so that a big sheet never trips
 * them. The README's "Limits and errors" lists them all.
 */

/** Most cells in one GetCells or WatchCells request; the add-in's batcher sends larger waves in chunks. */
export const MAX_CELLS_PER_REQUEST = 20_000;

/** Most writes (and most holds) in one WriteCells request; the add-in's Submit sends more in several. */
export const MAX_WRITES_PER_REQUEST = 10_000;

/** Most members in one cell address; a QATOM function with more is `#VALUE!` before any request. */
export const MAX_MEMBERS_PER_ADDRESS = 64;

/**
 * Longest name, in characters (UTF-16 code units, as JavaScript counts them): a cube or dimension
 * name, a member name, and each bracketed part of a unique name (`[Store].[USA].[CA]` has three
 * parts). The server refuses a longer field before any lookup (invalid_argument naming the field),
 * and a longer part of an address is a per-cell INVALID_ADDRESS before any closest-name search.
 */
export const MAX_NAME_LENGTH = 256;

/**
 * Longest member text, in characters: one member of an address, a unique name with all its parts
 * (`[Product].[Food].[Canned Foods].[...]`), a GetMembers parent, a scenario copy's from, to and
 * slice members, a spread's reference members.
 */
export const MAX_MEMBER_TEXT_LENGTH = 4096;

/** Longest GetMembers search text, in characters. */
export const MAX_SEARCH_LENGTH = MAX_NAME_LENGTH;

/** Longest comment text, in characters (after surrounding blanks are trimmed). */
export const MAX_COMMENT_LENGTH = 4000;

/**
 * Longest value of a request string field the API has not listed with its own limit, in
 * characters: a new field is bounded until it is given one (backend/src/services/field-limits.ts).
 */
export const MAX_STRING_FIELD_LENGTH = MAX_NAME_LENGTH;

/**
 * Largest magnitude of a cell value the product stores: |value| ≤ 1e15. Excel shows 15 significant
 * digits (IEEE doubles hold 15 to 17), so larger values cannot be typed, read back or summed
 * without losing digits; and it keeps every consolidated total finite: a total sums at most as many
 * leaves as the cube holds, so |total| ≤ leaves × 1e15 × the largest product of consolidation
 * weights, far below the largest double (about 1.8e308), and never Infinity.
 *
 * Enforced per write (a `REJECTED` outcome whose message is {@link valueBoundProblem}'s): the value
 * typed, every leaf value a spread would produce, and every value a scenario copy would produce
 * (the copy is refused whole). The add-in refuses a typed value over it before sending.
 * @see https://learn.microsoft.com/office/troubleshoot/excel/floating-point-arithmetic-inaccurate-result
 */
export const MAX_ABS_VALUE = 1e15;

/**
 * The bound as messages state it: "beyond ±1e15, the largest magnitude a cell may hold (…)".
 * Every refusal of a value over MAX_ABS_VALUE, the server's and the add-in's, ends with it.
 */
export const VALUE_BOUND_TEXT = `beyond ±${MAX_ABS_VALUE.toExponential().replace("+", "")}, the largest magnitude a cell may hold (MAX_ABS_VALUE: Excel's 15 significant digits)`;

/**
 * Why `value` cannot be stored, or null when it can (null, or finite with |value| ≤ MAX_ABS_VALUE).
 * @param what what the value is, for the message.
 * @example valueBoundProblem(2e15) // "the value 2000000000000000 is beyond ±1e15, the largest magnitude a cell may hold (MAX_ABS_VALUE: Excel's 15 significant digits)"
 */
export function valueBoundProblem(value: number | null, what = "the value"): string | null {
  if (value === null || (Number.isFinite(value) && Math.abs(value) <= MAX_ABS_VALUE)) return null;
  return `${what} ${value} is ${VALUE_BOUND_TEXT}`;
}
