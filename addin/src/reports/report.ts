/**
 * A report built in the task pane (taskpane/src/ReportBuilder.tsx): what it shows, how it lies on
 * the sheet, and how it is reshaped. Pure functions, no Office calls; ./workbook-reports.ts writes
 * layouts to the sheet and keeps the definitions in the workbook.
 *
 * The layout, from the report's top-left cell (the anchor), as TM1's Dynamic Reports and Smart
 * View's ad hoc grids lay theirs out:
 *
 * ```
 *   Cube       Sales                         <- the cube's name (a plain cell the formulas read)
 *   Measures   [Measures].[Unit Sales]       <- the context: one member of every other dimension
 *   Product    [Product].[All Products]
 *   (blank)
 *              [Time].[1997].[Q1] [Time]…    <- one header row per column dimension
 *   Store
 *   [Store].[USA]   =QATOM.CELL($B$1,$B$2,$B$3,$A7,B$5) …
 * ```
 *
 * Headers hold member unique names, so that the formulas refer to them; each header shows the
 * member's caption through its number format (the text section of an Excel number format,
 * `;;;"Caption"`, shows that text in place of the cell's), so the sheet reads like a report while the
 * cell holds what the formulas need. A header typed over keeps its old caption's format until the
 * report is reshaped. Headers are bold; row headers are indented by their depth below the
 * shallowest member of their axis. Every data cell is one QATOM.CELL whose arguments are references:
 * the cube and context cells absolutely (`$B$1`), row headers by column (`$A7`), column headers by
 * row (`B$5`), so changing a header or a context cell re-points the report as Excel recalculates.
 * @see https://support.microsoft.com/office/review-guidelines-for-customizing-a-number-format-c0a1d1fa-d3f4-4018-96b7-9c9354dd99f5
 */
import { columnLetters, parseCell, quoteSheetName } from "../address";

/** A member on a report axis, as GetMembers gives it. */
export interface ReportMember {
  /** MDX unique name, e.g. `[Store].[USA].[CA]`. */
  uniqueName: string;
  caption: string;
  /** Depth below the top of its hierarchy (0 = top level). */
  depth: number;
  isLeaf: boolean;
}

/** One dimension on rows or columns, with its members in order. */
export interface ReportAxis {
  dimension: string;
  members: ReportMember[];
}

/** The member shown for a dimension on neither axis. */
export interface ReportContext {
  dimension: string;
  /** MDX unique name. */
  member: string;
  caption: string;
}

/** A report: what it shows and where its top-left cell is. */
export interface ReportDef {
  /** Stable id (the workbook setting's key). */
  id: string;
  cube: string;
  /** The sheet's name and the anchor's local address (`B2`). */
  sheet: string;
  anchor: string;
  context: ReportContext[];
  /** Outermost first; the rows are every combination of their members (nested). */
  rows: ReportAxis[];
  columns: ReportAxis[];
  /** The measure's Excel number format for the data cells; none: left as it is. */
  numberFormat?: string;
}

/** One cell of a layout, at offsets from the anchor (0-based). */
export interface ReportCell {
  row: number;
  col: number;
  /** What to write: a formula, a unique name, a label; "" clears. */
  content: string;
  bold: boolean;
  indentLevel: number;
  numberFormat: string;
  /** For a data cell: its row and column members (see {@link dataKey}). */
  key?: string;
}

/** A report's cells and its size. */
export interface ReportLayout {
  rows: number;
  cols: number;
  cells: ReportCell[];
}

/** Which part of a report a cell is. */
export type ReportPart =
  | { kind: "row" | "column"; axis: number; member: ReportMember }
  | { kind: "data"; row: ReportMember[]; column: ReportMember[] }
  | { kind: "context"; index: number }
  | { kind: "label" };

/** Rows or columns. */
export type AxisName = "rows" | "columns";

/** A report's size in rows and columns above this is refused (Excel on the web's request limits and sense). */
export const MAX_REPORT_CELLS = 20_000;

const GENERAL = "General";

/** `;;;"CA"`: the caption as the text section of a number format (quotes doubled as `\"`). */
export function captionFormat(caption: string): string {
  return `;;;"${caption.replace(/["\\]/g, (c) => `"\\${c}"`)}"`;
}

/** Every combination of the axes' members, outermost axis slowest. */
export function tuples(axes: readonly ReportAxis[]): ReportMember[][] {
  let out: ReportMember[][] = [[]];
  for (const a of axes) out = out.flatMap((t) => a.members.map((m) => [...t, m]));
  return axes.length === 0 ? [] : out;
}

/** The key of a data cell: its row and column members, whichever axis they are on (the same after a swap). */
export function dataKey(row: readonly ReportMember[], column: readonly ReportMember[]): string {
  return JSON.stringify([...row, ...column].map((m) => m.uniqueName).sort());
}

/** Where the header rows start (offset from the anchor): after the cube, the context and a blank row. */
const headerTop = (def: ReportDef) => def.context.length + 2;

/**
 * Lays a report out (see the module comment).
 * @throws Error naming the problem: an axis without members, or more than {@link MAX_REPORT_CELLS} cells.
 */
export function layoutReport(def: ReportDef): ReportLayout {
  if (def.rows.length === 0 || def.columns.length === 0) throw new Error("A report needs a dimension on rows and one on columns.");
  for (const a of [...def.rows, ...def.columns]) if (a.members.length === 0) throw new Error(`The report's ${a.dimension} axis has no members: choose at least one.`);
  const rowTuples = tuples(def.rows);
  const colTuples = tuples(def.columns);
  const nr = def.rows.length;
  const nc = def.columns.length;
  const size = (headerTop(def) + nc + rowTuples.length) * (nr + colTuples.length);
  if (size > MAX_REPORT_CELLS) throw new Error(`The report would have ${size.toLocaleString("en-US")} cells; at most ${MAX_REPORT_CELLS.toLocaleString("en-US")}: choose fewer members.`);

  const [anchorCol, anchorRow] = splitLocal(def.anchor);
  const abs = (r: number, c: number) => `$${columnLetters(anchorCol + c)}$${anchorRow + r}`;
  const cells: ReportCell[] = [];
  const put = (row: number, col: number, content: string, extra: Partial<ReportCell> = {}) =>
    cells.push({ row, col, content, bold: false, indentLevel: 0, numberFormat: GENERAL, ...extra });

  put(0, 0, "Cube", { bold: true });
  put(0, 1, def.cube);
  def.context.forEach((c, i) => {
    put(1 + i, 0, c.dimension, { bold: true });
    put(1 + i, 1, c.member, { numberFormat: captionFormat(c.caption) });
  });
  const top = headerTop(def);
  def.columns.forEach((_, j) => {
    colTuples.forEach((t, i) => {
      put(top + j, nr + i, t[j].uniqueName, { bold: true, numberFormat: captionFormat(t[j].caption) });
    });
  });
  def.rows.forEach((a, k) => {
    put(top + nc - 1, k, a.dimension, { bold: true });
  });
  const shallowest = def.rows.map((a) => Math.min(...a.members.map((m) => m.depth)));
  const fixed = [abs(0, 1), ...def.context.map((_, i) => abs(1 + i, 1))];
  rowTuples.forEach((t, r) => {
    const row = top + nc + r;
    t.forEach((m, k) => {
      put(row, k, m.uniqueName, { bold: true, indentLevel: Math.min(m.depth - shallowest[k], 15), numberFormat: captionFormat(m.caption) });
    });
    const rowRefs = t.map((_, k) => `$${columnLetters(anchorCol + k)}${anchorRow + row}`);
    colTuples.forEach((ct, i) => {
      const col = nr + i;
      const colRefs = ct.map((_, j) => `${columnLetters(anchorCol + col)}$${anchorRow + top + j}`);
      const formula = `=QATOM.CELL(${[...fixed, ...rowRefs, ...colRefs].join(",")})`;
      put(row, col, formula, { numberFormat: def.numberFormat ?? GENERAL, key: dataKey(t, ct) });
    });
  });
  return { rows: top + nc + rowTuples.length, cols: nr + colTuples.length, cells };
}

/** `B12` -> [2, 12]. @throws Error when it is not one cell's address. */
function splitLocal(local: string): [number, number] {
  const c = parseCell(local);
  if (!c) throw new Error(`Not a cell address: ${local}`);
  return [c.col, c.row];
}

/** An address with sheet (`'My Sheet'!$C$7`) as the report functions take it: the sheet and the local address (`C7`); null when it is not one cell. */
export function sheetAndLocal(address: string): { sheet: string; local: string } | null {
  const c = parseCell(address);
  return c ? { sheet: c.sheet, local: `${columnLetters(c.col)}${c.row}` } : null;
}

/** A report's size in rows and columns (what {@link layoutReport} lays out), without laying it out. */
export function reportSize(def: ReportDef): { rows: number; cols: number } {
  const count = (axes: readonly ReportAxis[]) => (axes.length === 0 ? 0 : axes.reduce((n, a) => n * a.members.length, 1));
  return { rows: headerTop(def) + def.columns.length + count(def.rows), cols: def.rows.length + count(def.columns) };
}

/** A layout cell's local address (`C7`). */
export function cellAddress(def: ReportDef, c: { row: number; col: number }): string {
  const [col, row] = splitLocal(def.anchor);
  return `${columnLetters(col + c.col)}${row + c.row}`;
}

/** Which part of the report a local address (`C7`) is; null outside it. */
export function locate(def: ReportDef, local: string): ReportPart | null {
  let at: [number, number];
  try {
    at = splitLocal(local);
  } catch {
    return null;
  }
  const [col0, row0] = splitLocal(def.anchor);
  const r = at[1] - row0;
  const c = at[0] - col0;
  const rowTuples = tuples(def.rows);
  const colTuples = tuples(def.columns);
  const nr = def.rows.length;
  const nc = def.columns.length;
  const top = headerTop(def);
  if (r < 0 || c < 0 || r >= top + nc + rowTuples.length || c >= nr + colTuples.length) return null;
  if (r >= 1 && r <= def.context.length && c === 1) return { kind: "context", index: r - 1 };
  if (r >= top && r < top + nc && c >= nr) return { kind: "column", axis: r - top, member: colTuples[c - nr][r - top] };
  if (r >= top + nc && c < nr) return { kind: "row", axis: c, member: rowTuples[r - top - nc][c] };
  if (r >= top + nc && c >= nr) return { kind: "data", row: rowTuples[r - top - nc], column: colTuples[c - nr] };
  return { kind: "label" };
}

/**
 * Where each data cell of `before` is in `after` (by its row and column members): a function from
 * an address with sheet to its new address, null for a data cell that is gone, the address itself
 * outside the old report. For moving pending changes with their cells (../sheet-edits.ts).
 */
export function reportMove(before: ReportDef, after: ReportDef): (address: string) => string | null {
  const from = new Map<string, string>();
  for (const c of layoutReport(before).cells) if (c.key) from.set(cellAddress(before, c), c.key);
  const to = new Map<string, string>();
  for (const c of layoutReport(after).cells) if (c.key) to.set(c.key, cellAddress(after, c));
  return (address) => {
    const at = sheetAndLocal(address);
    if (!at || at.sheet.toLowerCase() !== before.sheet.toLowerCase()) return address;
    const key = from.get(at.local);
    if (key === undefined) return address;
    const moved = to.get(key);
    return moved === undefined ? null : `${quoteSheetName(at.sheet)}!${moved}`;
  };
}

const withAxis = (def: ReportDef, axis: AxisName, index: number, members: ReportMember[]): ReportDef => {
  const axes = def[axis].map((a, i) => (i === index ? { ...a, members } : a));
  return { ...def, [axis]: axes };
};

const isBelow = (m: ReportMember, ancestor: string) => m.uniqueName.startsWith(`${ancestor.slice(0, -1)}].`);

/**
 * Zoom in: the member is replaced by its children (TM1's drill down, without keeping the parent);
 * a child already elsewhere on the axis moves to its place among them.
 */
export function zoomIn(def: ReportDef, axis: AxisName, index: number, member: string, children: ReportMember[]): ReportDef {
  if (children.length === 0) throw new Error(`${member} has no children to zoom into.`);
  const isChild = new Set(children.map((c) => c.uniqueName));
  const members = def[axis][index].members.flatMap((m) => (m.uniqueName === member ? children : isChild.has(m.uniqueName) ? [] : [m]));
  return withAxis(def, axis, index, members);
}

/** Zoom out: the member, and every other member below the same parent, are replaced by the parent (once, where the first was). */
export function zoomOut(def: ReportDef, axis: AxisName, index: number, parent: ReportMember): ReportDef {
  const members: ReportMember[] = [];
  for (const m of def[axis][index].members) {
    const replaced = isBelow(m, parent.uniqueName) || m.uniqueName === parent.uniqueName;
    if (!replaced) members.push(m);
    else if (!members.some((x) => x.uniqueName === parent.uniqueName)) members.push(parent);
  }
  return withAxis(def, axis, index, members);
}

/** Keep only this member on its axis. */
export function keepOnly(def: ReportDef, axis: AxisName, index: number, member: string): ReportDef {
  return withAxis(def, axis, index, def[axis][index].members.filter((m) => m.uniqueName === member));
}

/** Remove this member from its axis. @throws Error when it is the axis's last member. */
export function removeMember(def: ReportDef, axis: AxisName, index: number, member: string): ReportDef {
  const members = def[axis][index].members.filter((m) => m.uniqueName !== member);
  if (members.length === 0) throw new Error(`${member} is the last member of the ${def[axis][index].dimension} axis: a report needs at least one.`);
  return withAxis(def, axis, index, members);
}

/** Rows become columns and columns rows. */
export function swapAxes(def: ReportDef): ReportDef {
  return { ...def, rows: def.columns, columns: def.rows };
}

/** Shows another member of a context dimension. */
export function setContext(def: ReportDef, index: number, member: ReportMember): ReportDef {
  return { ...def, context: def.context.map((c, i) => (i === index ? { ...c, member: member.uniqueName, caption: member.caption } : c)) };
}

/** The unique name of a member's parent from its own (`[Store].[USA].[CA]` -> `[Store].[USA]`); "" at the top. */
export function parentName(uniqueName: string): string {
  const cut = uniqueName.lastIndexOf("].[");
  return cut < 0 ? "" : `${uniqueName.slice(0, cut)}]`;
}

/**
 * Adds a member to a selection in hierarchy order where the selection says it: after its parent's
 * last descendant there (so "USA", then its states, reads USA, CA, OR, WA; and a level of states
 * added after a level of countries falls under each country), before its first descendant there,
 * else at the end. A member already selected is left where it is.
 */
export function insertInOrder(selected: readonly ReportMember[], m: ReportMember): ReportMember[] {
  if (selected.some((s) => s.uniqueName === m.uniqueName)) return [...selected];
  const out = [...selected];
  const parent = parentName(m.uniqueName);
  const p = parent ? out.findIndex((s) => s.uniqueName === parent) : -1;
  if (p >= 0) {
    let at = p + 1;
    while (at < out.length && isBelow(out[at], parent)) at++;
    out.splice(at, 0, m);
    return out;
  }
  const child = out.findIndex((s) => isBelow(s, m.uniqueName));
  if (child >= 0) out.splice(child, 0, m);
  else out.push(m);
  return out;
}

/**
 * The report as its sheet shows it: a header or context cell typed over with another unique name
 * (`[Store].[USA].[OR]`, which re-points its row, column or the report as Excel recalculates) replaces
 * that member in the definition, so a reshape starts from what the user sees. `read` gives the
 * content of local addresses. Headers of a nested axis repeat on every row; they are read only
 * where the axis is the only one on its side. A typed member's caption is its name; its depth is the
 * replaced member's.
 */
export function withSheetHeaders(def: ReportDef, read: ReadonlyMap<string, unknown>): ReportDef {
  const typed = (local: string, current: string): string | null => {
    const v = read.get(local);
    return typeof v === "string" && v.startsWith("[") && v.endsWith("]") && v !== current ? v : null;
  };
  const captionOf = (u: string) => u.slice(u.lastIndexOf("[") + 1, -1);
  let next = def;
  def.context.forEach((c, i) => {
    const u = typed(cellAddress(def, { row: 1 + i, col: 1 }), c.member);
    if (u) next = { ...next, context: next.context.map((x, k) => (k === i ? { ...x, member: u, caption: captionOf(u) } : x)) };
  });
  const top = headerTop(def);
  const single = (axis: AxisName, at: (k: number) => { row: number; col: number }) => {
    if (def[axis].length !== 1) return;
    const members = def[axis][0].members.map((m, k) => {
      const u = typed(cellAddress(def, at(k)), m.uniqueName);
      return u ? { uniqueName: u, caption: captionOf(u), depth: m.depth, isLeaf: false } : m;
    });
    next = { ...next, [axis]: [{ ...def[axis][0], members }] };
  };
  single("rows", (k) => ({ row: top + def.columns.length + k, col: 0 }));
  single("columns", (k) => ({ row: top, col: def.rows.length + k }));
  return next;
}

/** The local addresses {@link withSheetHeaders} reads: the context members and the headers of single axes. */
export function headerAddresses(def: ReportDef): string[] {
  return layoutReport(def)
    .cells.filter((c) => !c.key && (c.row >= 1 && c.row <= def.context.length ? c.col === 1 : c.row >= headerTop(def)))
    .map((c) => cellAddress(def, c));
}
