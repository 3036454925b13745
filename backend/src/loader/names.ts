/**
 * MDX unique names of the members the loader produces, as the engine forms them:
 * `[Dimension].[top member].[...].[member]`, the path of names from the top-level member down. The
 * All member is not part of the path (`[Store].[USA].[CA]`, not `[Store].[All Stores].[USA].[CA]`);
 * its own unique name is `[Dimension].[All member name]`. A `]` inside a name is written `]]`.
 */
import { bracket, joinUniqueName, parseUniqueName as parseName } from "../../../common/names";
import { memberUniqueNames } from "../lattice";
import type { DimensionDef } from "../lattice";

/** `[name]` with `]` escaped as `]]` (common/names.ts). */
export { bracket };

/**
 * The unique name of member `index` of `dim`, e.g. `[Customers].[USA].[WA].[Seattle]`, by the
 * engine's rule (memberUniqueNames).
 * @throws RangeError when `index` is not a member index of `dim`.
 */
export function memberUniqueName(dim: DimensionDef, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= dim.members.length) {
    throw new RangeError(`no member ${index} in dimension ${dim.name}`);
  }
  return memberUniqueNames(dim)[index];
}

/**
 * Splits an MDX unique name into its names: `[Time].[1997].[Q1]` -> `["Time", "1997", "Q1"]`.
 * Parts may be unbracketed when they need no brackets (`Time.1997`). Parsed by the one parser of
 * common/names.ts, with dotted bare names.
 * @throws Error when the text is not a well-formed unique name, saying what is wrong and at which
 *   character (e.g. `"[Time": unbalanced "[" at character 1 (no closing "]")`).
 */
export function parseUniqueName(text: string): string[] {
  const r = parseName(text, { bareNames: "dotted" });
  if (!r.ok) throw new Error(r.message);
  return r.parts;
}

/**
 * Finds the member of `dim` with the given unique name (as produced by {@link memberUniqueName}).
 * @returns its index, or -1 when there is none.
 */
export function findMember(dim: DimensionDef, uniqueName: string): number {
  let parts: string[];
  try {
    parts = parseUniqueName(uniqueName);
  } catch {
    return -1;
  }
  if (parts[0] !== dim.name || parts.length < 2) return -1;
  return memberUniqueNames(dim).indexOf(joinUniqueName(parts));
}
