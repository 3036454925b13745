/**
 * The model loader: reads a model file and its CSV tables, builds the cube's dimensions and
 * aggregates the fact rows into leaf cells, all in memory. Nothing is written anywhere; the caller
 * saves the result (store.saveCube, one transaction), so a failed load changes nothing.
 */
import { stat } from "node:fs/promises";
import { Dimension } from "../lattice/dimension";
import { buildFormulaGraph, FormulaGraphError } from "../lattice/formulas";
import type { CubeDef, CubeFormula, DimensionDef, LeafCells, MemberDef } from "../lattice/model";
import { Resolver } from "../lattice/resolver";
import { CsvRecordError, recordError, streamCsv } from "./csv";
import { describeBadDecimal, parseScaled, scaleOf } from "./decimal";
import { LoadError } from "./errors";
import {
  type ColumnRef,
  compileModel,
  type ModelPlan,
  type PlanExpr,
  type PlanFactor,
  type PlanFormula,
  type PlanMeasuresDimension,
  type PlanStaticDimension,
  type PlanTable,
  type PlanTableDimension,
  readModelFile,
} from "./model";
import { findMember, memberUniqueName, parseUniqueName } from "./names";

/**
 * Progress of a load: `done` of `total` units of one phase.
 * - `read`: reading the dimension tables; units are bytes of all of them together.
 * - `aggregate`: streaming the fact table into cells; units are bytes of the fact file.
 * - `build`: writing the leaf cell columns; units are leaf cells (rows).
 *
 * Each phase reports at least once, ending with done === total.
 */
export type LoadProgressFn = (phase: string, done: number, total: number) => void;

/** Options of {@link loadModel}. */
export interface LoadOptions {
  onProgress?: LoadProgressFn;
}

/** What {@link loadModel} returns: a cube definition and its leaf cells. */
export interface LoadResult {
  def: CubeDef;
  cells: LeafCells;
}

/** Member name of a level whose column is empty (SQL NULL), as Mondrian names it. */
export const NULL_MEMBER_NAME = "#null";

/**
 * Loads one cube from a model file and the CSV files it names.
 *
 * Rules (after Mondrian's FoodMart.xml semantics unless noted):
 * - Members are identified by their path: the same name under two parents is two members. Every row
 *   of a dimension table yields a member path, so members without facts are present (1998 months,
 *   stores without sales), while snowflake rows no dimension row refers to are not (product classes
 *   without products; Mondrian's default FilterChildlessSnowflakeMembers).
 * - A level with a `nameExpression` keys its members by its `column` (kept as MemberDef.key) and
 *   names them by the expression. Siblings whose names collide are disambiguated: the first in the
 *   table's file order keeps the name, each later one is named `<name> (<key>)` with the plain name
 *   as its caption.
 * - An empty value (SQL NULL) makes a member named `#null`.
 * - Siblings are sorted by name (the level's `order`), numbers numerically; `members` lists the
 *   hierarchy depth-first, each parent before its children; `level` indexes `levels`, which start
 *   with the All level when the dimension has one.
 * - Each fact row resolves through its joins to one leaf per dimension; rows with the same leaves
 *   are summed (duplicate fact keys add up). A row becomes one cell per stored measure and per fact
 *   leaf of each static dimension (e.g. Scenario Actual, and Plan when seeded from Actual).
 * - `sum` measures are summed exactly as integers scaled by 10^decimals (default 4) and converted
 *   to float64 at the end; `count` counts rows (or non-empty values of its column). A measure whose
 *   column is empty in every row of a cell has no cell.
 * - A seeded copy with a `seedFactor` (e.g. Plan = Actual × 1.05) is the exact product of the
 *   scaled integer sum and the factor, `sum × num / 10^(decimals + exp)` for a factor
 *   `num / 10^exp`, converted to float64 once: no rounding to the measure's decimals (a count of 3
 *   seeds 3.15), and Plan = Actual × factor holds at every leaf to float64's last bit.
 * - Formula members (calculated measures and static members with a `formula`) are members of their
 *   dimension with no leaf cells; the formulas are checked (syntax, members, cycles) against the
 *   built dimensions and returned in `CubeDef.formulas`.
 *
 * @param modelPath the model file (YAML or JSON); CSV paths in it are relative to its folder.
 * @throws LoadError for any bad input, naming the file (model or CSV), line and column: a model
 *   file that is missing, malformed or invalid, a missing CSV file, an unknown column (pointing at
 *   the model and listing the CSV's columns), an unparsable number, a foreign key without a match,
 *   a duplicate key, a name that breaks a level's `uniqueMembers`, a member formula with a syntax
 *   error, an unknown member or a cycle (at the formula's line and column; a cycle names its
 *   members in order).
 */
export async function loadModel(modelPath: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const progress = opts.onProgress ?? (() => {});
  const source = await readModelFile(modelPath);
  const plan = compileModel(source);

  // Every file must exist before any is read.
  const sizes = new Map<string, number>();
  for (const t of plan.tables.values()) {
    try {
      const s = await stat(t.file);
      if (!s.isFile()) throw source.error([...t.at, "file"], `${t.file} is not a file`);
      sizes.set(t.name, s.size);
    } catch (err) {
      if (err instanceof LoadError) throw err;
      throw source.error([...t.at, "file"], `table "${t.name}": file not found: ${t.file}`);
    }
  }

  // Dimension tables, parents (in join order) first.
  const data = new Map<string, TableData>();
  const dimTables = [...plan.tables.values()].filter((t) => t.name !== plan.fact);
  const readTotal = dimTables.reduce((s, t) => s + (sizes.get(t.name) ?? 0), 0);
  let readBase = 0;
  progress("read", 0, readTotal);
  for (const t of dimTables) {
    data.set(t.name, await readTable(plan, t, (b) => progress("read", readBase + b, readTotal)));
    readBase += sizes.get(t.name) ?? 0;
  }
  progress("read", readTotal, readTotal);
  await linkTables(plan, data);

  // Dimensions.
  const built: BuiltDimension[] = [];
  for (const d of plan.dimensions) {
    if (d.kind === "table") built.push(await buildTableDimension(plan, d, data));
    else if (d.kind === "static") built.push(buildStaticDimension(d));
    else built.push(buildMeasuresDimension(d));
  }
  for (let i = 0; i < built.length; i++) resolveDefaultMember(plan, plan.dimensions[i], built[i].def);
  const formulas = compileFormulas(plan, built);

  // Facts.
  const groups = factGroups(plan, data, built);
  const factTable = plan.tables.get(plan.fact)!;
  const measuresIndex = plan.dimensions.findIndex((d) => d.kind === "measures");
  const measures = (plan.dimensions[measuresIndex] as PlanMeasuresDimension).measures;
  const factSize = sizes.get(plan.fact) ?? 0;
  progress("aggregate", 0, factSize);
  const agg = await aggregateFacts(plan, factTable, groups, measures, (b) => progress("aggregate", b, factSize));
  progress("aggregate", factSize, factSize);

  const cells = buildCells(plan, built, groups, agg, measuresIndex, progress);
  const def: CubeDef = {
    name: plan.cube,
    ...(plan.description === undefined ? {} : { description: plan.description }),
    dimensions: built.map((b) => b.def),
    ...(formulas.length === 0 ? {} : { formulas }),
  };
  return { def, cells };
}

/**
 * The model's member formulas as the cube stores them, checked by compiling them against the built
 * dimensions (as the engine will).
 * @throws LoadError at the formula (the character at fault where known) for a syntax error, an
 *   unknown or invalid reference, or a cycle (naming its members in order).
 */
function compileFormulas(plan: ModelPlan, built: BuiltDimension[]): CubeFormula[] {
  const formulas: CubeFormula[] = [];
  const where = new Map<string, PlanFormula>();
  plan.dimensions.forEach((d, i) => {
    const def = built[i].def;
    const listed = d.kind === "measures" ? d.members : d.kind === "static" ? d.members : [];
    const offset = d.kind === "static" && d.hasAll ? 1 : 0;
    listed.forEach((m, j) => {
      if (m.formula === undefined) return;
      const member = memberUniqueName(def, j + offset);
      const f: CubeFormula = { member, expression: m.formula.expression };
      if (m.formula.solveOrder !== undefined) f.solveOrder = m.formula.solveOrder;
      formulas.push(f);
      where.set(member, m.formula);
    });
  });
  if (formulas.length === 0) return formulas;
  const resolver = new Resolver(built.map((b) => new Dimension(b.def)));
  try {
    buildFormulaGraph(formulas, (name) => resolver.member(name));
  } catch (err) {
    if (!(err instanceof FormulaGraphError)) throw err;
    const issue = err.issues[0];
    const at = where.get(issue.member)!;
    const pos = plan.source.textPosition(at.at, issue.column ?? 1);
    const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem${err.issues.length > 2 ? "s" : ""} with formulas)` : "";
    throw new LoadError(plan.source.file, pos.line, pos.column, `${issue.message}${more}`);
  }
  return formulas;
}

// ---------------------------------------------------------------------------------------------
// Tables

/** The needed columns of a dimension table, in memory. */
interface TableData {
  plan: PlanTable;
  header: string[];
  rows: number;
  /** Values by column name (only the columns the model uses). */
  values: Map<string, string[]>;
  /** For a join target: value of the target column -> row. */
  index?: Map<string, number>;
  /** For a table reached from a dimension table: row of this table for each row of its parent. */
  link?: Int32Array;
}

/** Checks a CSV header against the columns the model uses; returns column name -> field index. */
function checkHeader(plan: ModelPlan, t: PlanTable, header: string[]): Map<string, number> {
  const positions = new Map<string, number>();
  for (const [column, at] of t.columns) {
    const i = header.indexOf(column);
    if (i === -1) {
      throw plan.source.error(
        at,
        `table "${t.name}" (${t.file}) has no column "${column}"; its columns are: ${header.join(", ")}`,
      );
    }
    if (header.indexOf(column, i + 1) !== -1) {
      throw new LoadError(t.file, 1, header.indexOf(column, i + 1) + 1, `column "${column}" appears twice in the header`);
    }
    positions.set(column, i);
  }
  return positions;
}

async function readTable(plan: ModelPlan, t: PlanTable, onBytes: (bytes: number) => void): Promise<TableData> {
  const values = new Map<string, string[]>();
  for (const c of t.columns.keys()) values.set(c, []);
  let header: string[] = [];
  let cols: string[][] = [];
  let fields: number[] = [];
  const keyColumn = t.join?.to.column;
  let keyField = -1;
  let index: Map<string, number> | undefined;
  const { records } = await streamCsv(t.file, {
    onHeader(h) {
      header = h;
      const positions = checkHeader(plan, t, h);
      fields = [...t.columns.keys()].map((c) => positions.get(c)!);
      cols = [...t.columns.keys()].map((c) => values.get(c)!);
      if (keyColumn !== undefined) {
        keyField = positions.get(keyColumn)!;
        index = new Map();
      }
    },
    onRecord(record, i) {
      for (let c = 0; c < fields.length; c++) cols[c].push(record[fields[c]]);
      if (index !== undefined) {
        const key = record[keyField];
        const first = index.get(key);
        if (first !== undefined) {
          throw new CsvRecordError(
            i,
            keyField + 1,
            `duplicate key ${keyColumn} = ${JSON.stringify(key)} in table "${t.name}"`,
            first,
          );
        }
        index.set(key, i);
      }
    },
    onBytes,
  });
  return { plan: t, header, rows: records, values, index };
}


/** Resolves the snowflake joins (dimension table -> table) row by row. */
async function linkTables(plan: ModelPlan, data: Map<string, TableData>): Promise<void> {
  for (const t of data.values()) {
    const j = t.plan.join!;
    if (j.from.table === plan.fact) continue;
    const parent = data.get(j.from.table)!;
    const fk = parent.values.get(j.from.column)!;
    const link = new Int32Array(parent.rows);
    for (let r = 0; r < parent.rows; r++) {
      const row = t.index!.get(fk[r]);
      if (row === undefined) {
        throw await recordError(
          parent.plan.file,
          r,
          parent.header.indexOf(j.from.column) + 1,
          `${j.from.table}.${j.from.column} = ${JSON.stringify(fk[r])} has no match in ${j.to.table}.${j.to.column}`,
        );
      }
      link[r] = row;
    }
    t.link = link;
  }
}

/** For each row of `from`, the row of `to` it reaches through the joins (`to` below `from`). */
function rowMap(plan: ModelPlan, data: Map<string, TableData>, from: string, to: string): Int32Array {
  const chain: TableData[] = [];
  for (let t = to; t !== from; t = plan.tables.get(t)!.join!.from.table) chain.unshift(data.get(t)!);
  const rows = data.get(from)!.rows;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let x = r;
    for (const t of chain) x = t.link![x];
    out[r] = x;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dimensions

/** A dimension definition and, for a table dimension, the leaf member of each dimension-table row. */
interface BuiltDimension {
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

async function buildTableDimension(
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

function buildStaticDimension(d: PlanStaticDimension): BuiltDimension {
  const offset = d.hasAll ? 1 : 0;
  const members: MemberDef[] = [];
  if (d.hasAll) members.push({ name: d.allMemberName, parent: -1, level: 0 });
  for (const m of d.members) {
    const def: MemberDef = { name: m.name, parent: m.parent === -1 ? (d.hasAll ? 0 : -1) : m.parent + offset, level: m.depth + offset };
    if (m.caption !== undefined) def.caption = m.caption;
    if (m.weight !== undefined) def.weight = m.weight;
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

function buildMeasuresDimension(d: PlanMeasuresDimension): BuiltDimension {
  return {
    def: {
      name: d.name,
      levels: [d.levelName],
      hasAll: false,
      members: d.members.map((m) => ({ name: m.name, parent: -1, level: 0, ...(m.caption ? { caption: m.caption } : {}) })),
    },
  };
}

/**
 * Sets `defaultMember` to the unique name of the model's default member, given in the model as a
 * unique name (`[Time].[1997]`) or as a member name that occurs once in the dimension (`1997`,
 * `[All Promotions]`). It stays unset when that is the All member (the engine's default); without
 * an All level it defaults to the first top-level member and is always set.
 */
function resolveDefaultMember(plan: ModelPlan, d: ModelPlan["dimensions"][number], def: DimensionDef): void {
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

// ---------------------------------------------------------------------------------------------
// Facts

/**
 * The table dimensions reached through one foreign key of the fact table. Each row of the joined
 * table maps to a tuple of leaves (one per dimension of the group); rows with equal tuples (e.g. the
 * days of one month) are one tuple.
 */
interface FactGroup {
  /** The fact column holding the foreign key. */
  fkColumn: string;
  /** The joined table and its key index. */
  table: TableData;
  /** Index into `built`/`plan.dimensions` of the group's dimensions. */
  dims: number[];
  /** Tuple id of each row of the joined table. */
  tupleOfRow: Int32Array;
  /** Leaves of each tuple, one array per dimension of `dims`. */
  tupleLeaves: Int32Array[];
  tuples: number;
}

function factGroups(plan: ModelPlan, data: Map<string, TableData>, built: BuiltDimension[]): FactGroup[] {
  const groups: FactGroup[] = [];
  for (const t of data.values()) {
    const j = t.plan.join!;
    if (j.from.table !== plan.fact) continue;
    const dims: number[] = [];
    const leaves: Int32Array[] = [];
    plan.dimensions.forEach((d, i) => {
      if (d.kind !== "table") return;
      let top = d.table;
      while (plan.tables.get(top)!.join!.from.table !== plan.fact) top = plan.tables.get(top)!.join!.from.table;
      if (top !== t.plan.name) return;
      dims.push(i);
      const leafOfRow = built[i].leafOfRow!;
      if (d.table === top) leaves.push(leafOfRow);
      else {
        const map = rowMap(plan, data, top, d.table);
        leaves.push(Int32Array.from(map, (r) => leafOfRow[r]));
      }
    });
    if (dims.length === 0) continue;
    // Intern the tuples of leaves.
    const radices = dims.map((i) => built[i].def.members.length);
    const numeric = radices.reduce((p, r) => p * r, 1) < Number.MAX_SAFE_INTEGER;
    const ids = new Map<number | string, number>();
    const tupleOfRow = new Int32Array(t.rows);
    const tupleLeaves: number[][] = dims.map(() => []);
    for (let r = 0; r < t.rows; r++) {
      let key: number | string;
      if (numeric) {
        let k = 0;
        for (let x = 0; x < dims.length; x++) k = k * radices[x] + leaves[x][r];
        key = k;
      } else {
        key = leaves.map((l) => l[r]).join(",");
      }
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
        for (let x = 0; x < dims.length; x++) tupleLeaves[x].push(leaves[x][r]);
      }
      tupleOfRow[r] = id;
    }
    groups.push({
      fkColumn: j.from.column,
      table: t,
      dims,
      tupleOfRow,
      tupleLeaves: tupleLeaves.map((l) => Int32Array.from(l)),
      tuples: ids.size,
    });
  }
  return groups;
}

/** Aggregated facts: one entry per distinct tuple of group tuples. */
interface Aggregate {
  cells: number;
  /** Tuple id per group, per cell. */
  cellTuples: Int32Array[];
  /** Per measure: scaled sums (or counts) per cell. */
  sums: Float64Array[];
  /** Per measure: whether the cell has a value (undefined for row counts: always). */
  present: (Uint8Array | undefined)[];
}

async function aggregateFacts(
  plan: ModelPlan,
  fact: PlanTable,
  groups: FactGroup[],
  measures: PlanMeasuresDimension["measures"],
  onBytes: (bytes: number) => void,
): Promise<Aggregate> {
  const G = groups.length;
  const M = measures.length;
  let fkField: number[] = [];
  let measureField: number[] = [];
  const indexes = groups.map((g) => g.table.index!);
  const tupleOfRow = groups.map((g) => g.tupleOfRow);
  const radices = groups.map((g) => Math.max(1, g.tuples));
  const numericKey = radices.reduce((p, r) => p * r, 1) < Number.MAX_SAFE_INTEGER;
  const decimals = measures.map((m) => m.decimals);
  const isSum = measures.map((m) => m.aggregator === "sum");
  const cellOf = new Map<number | string, number>();
  let capacity = 1024;
  let cells = 0;
  let cellTuples: Int32Array[] = groups.map(() => new Int32Array(capacity));
  let sums: Float64Array[] = measures.map(() => new Float64Array(capacity));
  let present: (Uint8Array | undefined)[] = measures.map((m) =>
    m.column === undefined ? undefined : new Uint8Array(capacity),
  );
  const tuple = new Int32Array(G);
  const grow = () => {
    capacity *= 2;
    cellTuples = cellTuples.map((a) => growInt32(a, capacity));
    sums = sums.map((a) => growFloat64(a, capacity));
    present = present.map((a) => (a === undefined ? undefined : growUint8(a, capacity)));
  };
  await streamCsv(fact.file, {
    onHeader(header) {
      const positions = checkHeader(plan, fact, header);
      fkField = groups.map((g) => positions.get(g.fkColumn)!);
      measureField = measures.map((m) => (m.column === undefined ? -1 : positions.get(m.column.column)!));
    },
    onRecord(record, rowIndex) {
      let nkey = 0;
      for (let g = 0; g < G; g++) {
        const value = record[fkField[g]];
        const row = indexes[g].get(value);
        if (row === undefined) {
          const j = groups[g].table.plan.join!;
          throw new CsvRecordError(
            rowIndex,
            fkField[g] + 1,
            `foreign key ${j.from.column} = ${JSON.stringify(value)} has no match in ${j.to.table}.${j.to.column}`,
          );
        }
        const t = tupleOfRow[g][row];
        tuple[g] = t;
        nkey = nkey * radices[g] + t;
      }
      const key = numericKey ? nkey : tuple.join(",");
      let cell = cellOf.get(key);
      if (cell === undefined) {
        if (cells === capacity) grow();
        cell = cells++;
        cellOf.set(key, cell);
        for (let g = 0; g < G; g++) cellTuples[g][cell] = tuple[g];
      }
      for (let m = 0; m < M; m++) {
        const field = measureField[m];
        if (field === -1) {
          sums[m][cell] += 1;
          continue;
        }
        const text = record[field];
        if (text === "") continue;
        if (isSum[m]) {
          const v = parseScaled(text, decimals[m]);
          if (Number.isNaN(v)) throw new CsvRecordError(rowIndex, field + 1, `column ${measures[m].column!.column}: ${describeBadDecimal(text, decimals[m])}`);
          sums[m][cell] += v;
        } else {
          sums[m][cell] += 1;
        }
        present[m]![cell] = 1;
      }
    },
    onBytes,
  });
  for (let m = 0; m < M; m++) {
    const s = sums[m];
    for (let c = 0; c < cells; c++) {
      if (!(Math.abs(s[c]) <= Number.MAX_SAFE_INTEGER)) {
        throw plan.source.error(measures[m].at, `measure "${measures[m].name}": a cell's sum exceeds the range where it can be summed exactly with ${decimals[m]} decimals`);
      }
    }
  }
  return { cells, cellTuples, sums, present };
}

function growInt32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
function growFloat64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function growUint8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}

/**
 * Lays the aggregate out as leaf cells: for each combination of fact leaves of the static
 * dimensions (Actual, then Plan), each fact cell, each measure with a value.
 */
function buildCells(
  plan: ModelPlan,
  built: BuiltDimension[],
  groups: FactGroup[],
  agg: Aggregate,
  measuresIndex: number,
  progress: LoadProgressFn,
): LeafCells {
  const D = built.length;
  const M = agg.sums.length;
  const measures = (plan.dimensions[measuresIndex] as PlanMeasuresDimension).measures;
  // Rows per copy.
  let perCopy = 0;
  for (let m = 0; m < M; m++) {
    const p = agg.present[m];
    if (p === undefined) perCopy += agg.cells;
    else for (let c = 0; c < agg.cells; c++) perCopy += p[c];
  }
  const staticDims = built.flatMap((b, i) => (b.factLeaves ? [i] : []));
  // Each combination of fact leaves (Actual, Plan, ...) with the factor of its copy of the facts.
  let combos: { leaves: number[]; factor: PlanFactor }[] = [{ leaves: [], factor: { num: 1, exp: 0, at: null } }];
  for (const i of staticDims) {
    const next: typeof combos = [];
    for (const combo of combos) {
      built[i].factLeaves!.forEach((leaf, k) => {
        const f = built[i].factFactors![k];
        const factor = { num: combo.factor.num * f.num, exp: combo.factor.exp + f.exp, at: combo.factor.at ?? f.at };
        if (!Number.isSafeInteger(factor.num) || factor.exp > 12) {
          throw plan.source.error(factor.at ?? [], "the seed factors of several static dimensions multiply to a number that cannot be held exactly");
        }
        next.push({ leaves: [...combo.leaves, leaf], factor });
      });
    }
    combos = next;
  }
  const count = perCopy * combos.length;
  const coords = built.map(() => new Int32Array(count));
  const values = new Float64Array(count);
  // Where each dimension's coordinate comes from.
  const source: ({ kind: "group"; g: number; x: number } | { kind: "static"; s: number } | { kind: "measure" })[] = [];
  for (let d = 0; d < D; d++) {
    if (d === measuresIndex) source.push({ kind: "measure" });
    else if (built[d].factLeaves) source.push({ kind: "static", s: staticDims.indexOf(d) });
    else {
      const g = groups.findIndex((gr) => gr.dims.includes(d));
      source.push({ kind: "group", g, x: groups[g].dims.indexOf(d) });
    }
  }
  const scales = measures.map((m) => scaleOf(m.decimals));
  const step = 1 << 16;
  progress("build", 0, count);
  let row = 0;
  for (const { leaves: combo, factor } of combos) {
    const start = row;
    const seeded = factor.num !== 1 || factor.exp !== 0;
    // Seeded copies: the exact product of the scaled sum and the factor, converted once.
    const seededScales = measures.map((m) => 10 ** (m.decimals + factor.exp));
    for (let c = 0; c < agg.cells; c++) {
      for (let m = 0; m < M; m++) {
        const p = agg.present[m];
        if (p !== undefined && p[c] === 0) continue;
        if (seeded) {
          const product = agg.sums[m][c] * factor.num;
          if (!Number.isSafeInteger(product)) {
            throw plan.source.error(
              factor.at ?? [],
              `measure "${measures[m].name}": ${agg.sums[m][c] / scales[m]} times the seed factor cannot be computed exactly (beyond 2^53 at ${measures[m].decimals + factor.exp} decimal places)`,
            );
          }
          values[row] = product / seededScales[m];
        } else {
          values[row] = agg.sums[m][c] / scales[m];
        }
        coords[measuresIndex][row] = measures[m].member;
        row++;
      }
    }
    const end = row;
    // Dimension columns, filled per dimension for locality.
    for (let d = 0; d < D; d++) {
      const src = source[d];
      const col = coords[d];
      if (src.kind === "measure") continue;
      if (src.kind === "static") {
        col.fill(combo[src.s], start, end);
        continue;
      }
      const tuples = agg.cellTuples[src.g];
      const leaves = groups[src.g].tupleLeaves[src.x];
      let r = start;
      for (let c = 0; c < agg.cells; c++) {
        const leaf = leaves[tuples[c]];
        for (let m = 0; m < M; m++) {
          const p = agg.present[m];
          if (p !== undefined && p[c] === 0) continue;
          col[r++] = leaf;
        }
      }
    }
    if (combos.length > 1 || end - start >= step) progress("build", end, count);
  }
  progress("build", count, count);
  return { count, coords, values };
}
