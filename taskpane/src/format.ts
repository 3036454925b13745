/** How the pane writes values, times and cell addresses for people. */

import type { ConnectionState } from "../../addin/src/contracts";
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

/** The browser's limit of HTTP/1.1 connections per host (Chromium's, Firefox's and Safari's). */
const HTTP1_CONNECTIONS_PER_HOST = 6;

/**
 * The line about the runtime's streams, or null when there is nothing to say (no stream and no
 * failure): "Live: 10 streams over one HTTP/2 connection", "Reconnecting in 8 s…" (while a failed
 * stream waits for its retry), "Offline: <why>" (no retry pending).
 * @param now the time to count the retry down from (ms since the epoch).
 */
export function streamsLine(c: ConnectionState, now: number): { ok: boolean; text: string; seconds?: number } | null {
  if (c.status === "disconnected") {
    if (c.retryAt === undefined) return { ok: false, text: `Offline: ${c.message ?? "the server cannot be reached"}` };
    return { ok: false, text: "Reconnecting", seconds: Math.max(0, Math.ceil((c.retryAt - now) / 1000)) };
  }
  if (c.status !== "connected" || !c.streams) return null;
  const n = `${c.streams} ${c.streams === 1 ? "stream" : "streams"}`;
  if (c.protocol === "h2") return { ok: true, text: `Live: ${n} over one HTTP/2 connection` };
  if (c.protocol === "http/1.1") {
    const full = c.streams >= HTTP1_CONNECTIONS_PER_HOST ? `, which hold the browser's ${HTTP1_CONNECTIONS_PER_HOST} connections to the server: reads and writes wait` : "";
    return { ok: !full, text: `Live: ${n} over HTTP/1.1${full}` };
  }
  return { ok: true, text: `Live: ${n}` };
}
