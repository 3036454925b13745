/**
 * The load's dimensions: a member tree built from the rows of a dimension table (through snowflake
 * joins), or from the listed members of a static dimension, or the measures; then the default
 * member resolved.
 */
import type { DimensionDef, MemberDef } from "../lattice";
import { recordError } from "./csv";
import type { ColumnRef, ModelPlan, PlanExpr, PlanFactor, PlanMeasuresDimension, PlanStaticDimension, PlanTableDimension } from "./model";
import { findMember, memberUniqueName, parseUniqueName } from "./names";
import { rowMap, type TableData } from "./tables";

/** Member name of a level whose column is empty (SQL NULL), as Mondrian names it. */
export const NULL_MEMBER_NAME = "#null";

/** A dimension definition and, for a table dimension, the leaf member of each dimension-table row. */
export interface BuiltDimension {
  def: DimensionDef;
  /** Table dimensions: leaf member index for each row of the dimension table. */
  leafOfRow?: Int32Array;
  /** Static dimensions: member indexes of the leaves that receive facts. */
  factLeaves?: number[];
  /** Static dimensions: per fact leaf, the factor its copy of the facts is multiplied by. */
  factFactors?: PlanFactor[];
}

interface TreeNode {
  /** Identity under the parent: the level column's value. */
  id: string;
  name: string;
  caption?: string;
  key?: string;
  /** 0-based level below the All level. */
  depth: number;
  children: Map<string, TreeNode>;
  /** Row where the member first appears (table file order). */
  firstRow: number;
  index: number;
}

/** Reads one column (or expression) of the dimension table's rows, through snowflake joins. */
interface ColumnReader {
  (row: number): string;
  /** Where a value of a row lives, for error messages. */
  locate(row: number): { file: string; record: number; column: number };
}

function columnReader(plan: ModelPlan, data: Map<string, TableData>, dimTable: string, ref: ColumnRef): ColumnReader {
  const t = data.get(ref.table)!;
  const values = t.values.get(ref.column)!;
  const column = t.header.indexOf(ref.column) + 1;
  if (ref.table === dimTable) {
    const read = ((row: number) => values[row]) as ColumnReader;
    read.locate = (row) => ({ file: t.plan.file, record: row, column });
    return read;
  }
  const map = rowMap(plan, data, dimTable, ref.table);
  const read = ((row: number) => values[map[row]]) as ColumnReader;
  read.locate = (row) => ({ file: t.plan.file, record: map[row], column });
  return read;
}

function exprReader(plan: ModelPlan, data: Map<string, TableData>, dimTable: string, expr: PlanExpr): (row: number) => string {
  const parts = expr.map((term) => (term.kind === "literal" ? term.text : columnReader(plan, data, dimTable, term.ref)));
  if (parts.length === 1 && typeof parts[0] !== "string") return parts[0];
  return (row) => {
    let s = "";
    for (const p of parts) s += typeof p === "string" ? p : p(row);
    return s;
  };
}

/** Numbers (integers or decimals) compare numerically, other text by code units. */
const NUMERIC = /^-?\d+(\.\d+)?$/;
function compareNames(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds a table dimension from its table's rows: members identified by their path, named by the
 * level's column or name expression (sibling name clashes disambiguated), sorted by the level's
 * `order`, depth-first with parents first; and the leaf member of each row.
 * @throws LoadError at the record that breaks `uniqueMembers` or a sibling name's uniqueness.
 */
export async function buildTableDimension(
  plan: ModelPlan,
  d: PlanTableDimension,
  data: Map<string, TableData>,
): Promise<BuiltDimension> {
  const table = data.get(d.table)!;
  const levels = d.levels.map((l) => ({
    plan: l,
    id: columnReader(plan, data, d.table, l.column),
    name: l.nameExpr ? exprReader(plan, data, d.table, l.nameExpr) : undefined,
    caption: l.captionExpr ? exprReader(plan, data, d.table, l.captionExpr) : undefined,
    /** uniqueMembers: identity -> the node holding it. */
    seen: l.uniqueMembers ? new Map<string, TreeNode>() : undefined,
  }));
  const root: TreeNode = { id: "", name: "", depth: -1, children: new Map(), firstRow: 0, index: -1 };
  const leafNodes: TreeNode[] = new Array(table.rows);
  for (let r = 0; r < table.rows; r++) {
    let node = root;
    for (let li = 0; li < levels.length; li++) {
      const level = levels[li];
      let id = level.id(r);
      if (id === "") id = NULL_MEMBER_NAME;
      let child = node.children.get(id);
      if (child === undefined) {
        let name = id;
        let caption: string | undefined;
        if (level.name) {
          name = level.name(r) || NULL_MEMBER_NAME;
        }
        if (level.caption) {
          const c = level.caption(r);
          if (c !== name) caption = c;
        }
        child = { id, name, depth: li, children: new Map(), firstRow: r, index: -1 };
        if (caption !== undefined) child.caption = caption;
        if (level.name) child.key = id;
        if (level.seen) {
          const other = level.seen.get(id);
          if (other !== undefined) {
            const loc = level.id.locate(r);
            throw await recordError(
              loc.file,
              loc.record,
              loc.column,
              `level "${level.plan.name}" of dimension "${d.name}" declares uniqueMembers, but ${JSON.stringify(id)} appears under two different parents`,
              level.id.locate(other.firstRow).record,
            );
          }
          level.seen.set(id, child);
        }
        node.children.set(id, child);
      }
      node = child;
    }
    leafNodes[r] = node;
  }

  // Distinct sibling names on key levels: later duplicates get "<name> (<key>)".
  const disambiguate = async (node: TreeNode) => {
    if (node.children.size === 0) return;
    const first = node.children.values().next().value as TreeNode;
    if (levels[first.depth].name) {
      const used = new Map<string, TreeNode>();
      const inFileOrder = [...node.children.values()].sort((a, b) => a.firstRow - b.firstRow);
      for (const child of inFileOrder) {
        if (used.has(child.name)) {
          const plain = child.name;
          const renamed = `${plain} (${child.id})`;
          if (used.has(renamed)) {
            const loc = levels[first.depth].id.locate(child.firstRow);
            throw await recordError(
              loc.file,
              loc.record,
              loc.column,
              `member name ${JSON.stringify(renamed)} in dimension "${d.name}" is not unique among its siblings`,
            );
          }
          child.caption ??= plain;
          child.name = renamed;
        }
        used.set(child.name, child);
      }
    }
    for (const child of node.children.values()) await disambiguate(child);
  };
  await disambiguate(root);

  // Depth-first, siblings sorted, parents before children.
  const members: MemberDef[] = [];
  const offset = d.hasAll ? 1 : 0;
  if (d.hasAll) members.push({ name: d.allMemberName, parent: -1, level: 0 });
  const emit = (node: TreeNode, parent: number) => {
    const children = [...node.children.values()];
    if (children.length === 0) return;
    const order = d.levels[children[0].depth].order;
    if (order === "name") children.sort((a, b) => compareNames(a.name, b.name));
    else if (order === "key") children.sort((a, b) => compareNames(a.id, b.id));
    else children.sort((a, b) => a.firstRow - b.firstRow);
    for (const child of children) {
      const m: MemberDef = { name: child.name, parent, level: child.depth + offset };
      if (child.caption !== undefined) m.caption = child.caption;
      if (child.key !== undefined) m.key = child.key;
      child.index = members.length;
      members.push(m);
      emit(child, child.index);
    }
  };
  emit(root, d.hasAll ? 0 : -1);
  const leafOfRow = new Int32Array(table.rows);
  for (let r = 0; r < table.rows; r++) leafOfRow[r] = leafNodes[r].index;
  const def: DimensionDef = {
    name: d.name,
    levels: [...(d.hasAll ? [d.allLevelName] : []), ...d.levels.map((l) => l.name)],
    hasAll: d.hasAll,
    members,
  };
  return { def, leafOfRow };
}

/** The definition of a static dimension, with the member indexes and factors of its fact leaves. */
export function buildStaticDimension(d: PlanStaticDimension): BuiltDimension {
  const offset = d.hasAll ? 1 : 0;
  const members: MemberDef[] = [];
  if (d.hasAll) members.push({ name: d.allMemberName, parent: -1, level: 0 });
  for (const m of d.members) {
    const def: MemberDef = { name: m.name, parent: m.parent === -1 ? (d.hasAll ? 0 : -1) : m.parent + offset, level: m.depth + offset };
    if (m.caption !== undefined) def.caption = m.caption;
    if (m.weight !== undefined) def.weight = m.weight;
    if (m.formatString !== undefined) def.formatString = m.formatString;
    members.push(def);
  }
  return {
    def: {
      name: d.name,
      levels: [...(d.hasAll ? [d.allLevelName] : []), ...d.levels],
      hasAll: d.hasAll,
      members,
    },
    factLeaves: d.factLeaves.map((i) => i + offset),
    factFactors: d.factFactors,
  };
}

/** The definition of the measures dimension: every listed measure, stored or calculated, at one level. */
export function buildMeasuresDimension(d: PlanMeasuresDimension): BuiltDimension {
  return {
    def: {
      name: d.name,
      levels: [d.levelName],
      hasAll: false,
      members: d.members.map((m) => ({
        name: m.name,
        parent: -1,
        level: 0,
        ...(m.caption ? { caption: m.caption } : {}),
        ...(m.formatString ? { formatString: m.formatString } : {}),
      })),
    },
  };
}

/**
 * Sets `defaultMember` to the unique name of the model's default member, given in the model as a
 * unique name (`[Time].[1997]`) or as a member name that occurs once in the dimension (`1997`,
 * `[All Promotions]`). It stays unset when that is the All member (the engine's default); without
 * an All level it defaults to the first top-level member and is always set.
 */
export function resolveDefaultMember(plan: ModelPlan, d: ModelPlan["dimensions"][number], def: DimensionDef): void {
  const given = d.defaultMember;
  if (given === undefined) {
    if (!def.hasAll && def.members.length > 0) def.defaultMember = memberUniqueName(def, 0);
    return;
  }
  let parts: string[] | undefined;
  try {
    parts = parseUniqueName(given);
  } catch {
    parts = undefined;
  }
  let index = -1;
  if (given.startsWith("[") && parts !== undefined && parts.length > 1) {
    index = findMember(def, given);
  } else {
    // A bare member name, bracketed or not (Mondrian writes e.g. "[All Promotions]").
    const name = given.startsWith("[") && parts?.length === 1 ? parts[0] : given;
    const hits = def.members.flatMap((m, i) => (m.name === name ? [i] : []));
    if (hits.length > 1) {
      throw plan.source.error([...d.at, "defaultMember"], `member name "${given}" is ambiguous in dimension "${d.name}"; write its unique name, e.g. ${memberUniqueName(def, hits[0])}`);
    }
    index = hits.length === 1 ? hits[0] : -1;
  }
  if (index === -1) {
    throw plan.source.error([...d.at, "defaultMember"], `no member ${JSON.stringify(given)} in dimension "${d.name}"`);
  }
  if (def.hasAll && index === 0) return;
  def.defaultMember = memberUniqueName(def, index);
}
