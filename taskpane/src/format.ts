/** How the pane writes values, times and cell addresses for people. */

import { parseUniqueName } from "../../common/names";

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A cell value; an empty cell is "empty" (Excel shows 0, but the pane should tell them apart). */
export function formatValue(v: number | null | undefined): string {
  return v === null || v === undefined ? "empty" : numberFormat.format(v);
}

/** A time (ms since the epoch, or a Date) in the user's locale; "unknown time" for 0. */
export function formatTime(t: number | Date | undefined): string {
  const ms = t instanceof Date ? t.getTime() : t;
  return ms ? timeFormat.format(ms) : "unknown time";
}

/**
 * The member's own name: `[Region].[North].[Oslo]` -> `Oslo`, `[a]]b]` -> `a]b` (the shared parser
 * of common/names.ts); a bare or malformed name stays as it is.
 */
export function memberName(uniqueName: string): string {
  const r = parseUniqueName(uniqueName);
  return r.ok && uniqueName.trim().startsWith("[") ? r.parts[r.parts.length - 1] : uniqueName;
}

/** A short label for a cell: its members' own names, e.g. `Oslo · Widget · Plan`. */
export function cellLabel(members: readonly string[]): string {
  return members.map(memberName).join(" · ");
}

/**
 * The members of `members` that differ from `base` (same dimension order, as the server returns
 * full addresses), to tell the cells below a consolidated cell apart.
 */
export function differingMembers(members: readonly string[], base: readonly string[]): string[] {
  const baseSet = new Set(base);
  return members.filter((m) => !baseSet.has(m));
}
