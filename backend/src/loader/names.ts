/**
 * MDX unique names of the members the loader produces, as the engine forms them:
 * `[Dimension].[top member].[...].[member]`, the path of names from the top-level member down. The
 * All member is not part of the path (`[Store].[USA].[CA]`, not `[Store].[All Stores].[USA].[CA]`);
 * its own unique name is `[Dimension].[All member name]`. A `]` inside a name is written `]]`.
 */
import { escapeName, memberUniqueNames } from "../lattice/dimension";
import type { DimensionDef } from "../lattice/model";

/** `[name]` with `]` escaped as `]]`. */
export function bracket(name: string): string {
  return `[${escapeName(name)}]`;
}

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
 * Parts may be unbracketed when they need no brackets (`Time.1997`).
 * @throws Error when the text is not a well-formed unique name.
 */
export function parseUniqueName(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text[i] === "[") {
      let name = "";
      i++;
      for (;;) {
        if (i >= n) throw new Error(`unclosed [ in ${JSON.stringify(text)}`);
        if (text[i] === "]") {
          if (text[i + 1] === "]") {
            name += "]";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i++];
      }
      parts.push(name);
    } else {
      const dot = text.indexOf(".", i);
      const end = dot === -1 ? n : dot;
      const name = text.slice(i, end).trim();
      if (name === "" || name.includes("[") || name.includes("]")) {
        throw new Error(`malformed unique name ${JSON.stringify(text)}`);
      }
      parts.push(name);
      i = end;
    }
    if (i >= n) return parts;
    if (text[i] !== ".") throw new Error(`expected "." at character ${i + 1} of ${JSON.stringify(text)}`);
    i++;
  }
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
  return memberUniqueNames(dim).indexOf(parts.map(bracket).join("."));
}
