/**
 * The declarative model file: a YAML (or JSON, which is YAML) document that maps the CSV tables of
 * a star or snowflake schema to one cube. This module parses and validates it (zod for the shape,
 * then cross-references), reporting every problem as a {@link LoadError} with the model file's path
 * and the YAML line and column of the offending key.
 *
 * Shape (see data/foodmart/model.yaml for a full example):
 *
 * ```yaml
 * cube: Sales                       # cube name
 * description: ...                  # optional
 * tables:                           # table name -> CSV file (relative to the model file) and key
 *   sales_fact_1997: { file: sales_fact_1997.csv }
 *   product:         { file: product.csv, key: product_id }
 *   product_class:   { file: product_class.csv, key: product_class_id }
 * fact: sales_fact_1997             # the fact table
 * joins:                            # fact -> dimension table, and snowflake table -> table
 *   - { from: sales_fact_1997.product_id, to: product }          # to the table's key
 *   - { from: product.product_class_id, to: product_class.product_class_id }
 * dimensions:                       # in coordinate order; the kind follows from the keys present
 *   - name: Product                 # levels: members from the rows of a dimension table
 *     table: product
 *     allMemberName: All Products   # hasAll: true by default; name defaults to "All <name>s"
 *     levels:
 *       - { name: Product Family, column: product_class.product_family, uniqueMembers: true }
 *       - { name: Product Name, column: product_name, uniqueMembers: true }
 *   - name: Gender                  # attribute: one level from one column of a dimension table
 *     attribute: customer.gender
 *     allMemberName: All Gender
 *   - name: Scenario                # static: listed members; facts go to factMember
 *     members: [Actual, { name: Plan, seedFrom: Actual }]
 *     factMember: Actual
 *   - name: Measures                # measures: sum of a fact column, or count of fact rows
 *     measures:
 *       - { name: Unit Sales, aggregator: sum, column: unit_sales }
 *       - { name: Sales Count, aggregator: count }
 * ```
 *
 * Notes:
 * - A column is `table.column` when the part before the first `.` is a declared table, else a
 *   column of the dimension's table (of the fact table for measures). A level's table must be the
 *   dimension table or be reached from it by joins (snowflake).
 * - Joins form a tree rooted at the fact table: a table is the target of at most one join (declare
 *   a table twice under two names, same file, to join it twice). Only tables that a dimension uses,
 *   and those on the way to them, are read; others are ignored.
 * - Level options: `uniqueMembers` (Mondrian's flag: the member's identity is unique in the whole
 *   level, checked against the data), `nameExpression` / `captionExpression` (e.g.
 *   `fname + ' ' + lname`; with a nameExpression the members are keyed by `column`), `order`
 *   (`name`, the default, `key` or `file`).
 * - `hasAll` (default true, false for static and measures dimensions), `allMemberName` (default
 *   `All <name>s`, without doubling a final s), `allLevelName` (default `(All)`), `defaultMember`
 *   (a unique name like `[Time].[1997]`, or a member name that occurs once).
 * - Measures: `aggregator: sum` of a fact `column`, summed exactly with `decimals` (default 4)
 *   places, or `aggregator: count` of fact rows (of non-empty values when a column is given).
 * - Member formulas (calculated members): a measure, or a member of a static `members:` list, may
 *   have `formula: "<expression>"` instead of data (a measure then has no aggregator, column or
 *   decimals), and an optional `solveOrder` (default 0), e.g.
 *   `- { name: Profit, formula: "[Measures].[Store Sales] - [Measures].[Store Cost]" }`. The
 *   language (member references of any dimension, tuples, + - * /, comparisons, IF, MIN, MAX, ABS)
 *   is in backend/src/lattice/formulas/parse.ts. A formula member has no stored cells and must not
 *   add into a consolidated member: it is a top-level member of a dimension without an All level
 *   (measures, `hasAll: false` static dimensions), without children, and neither the fact member
 *   nor seeded nor a seed. Syntax errors, unknown members and cycles between formulas are reported
 *   at the formula's line and column. When an address holds formula members of several
 *   dimensions, the highest solveOrder computes the cell (ties: the dimension listed first).
 * - Seeding: `seedFrom: Actual` makes a static leaf member start as a copy of another's cells;
 *   `seedFactor: 1.05` multiplies the copy (a decimal with at most 6 places; chained seeds multiply
 *   their factors). The copy is computed exactly: the source's scaled integer sum times the factor,
 *   converted to float64 once, with no rounding to the measure's decimals (Store Cost 0.6318 seeds
 *   0.66339 at 1.05).
 * - A dimension may state its kind (`kind: levels | attribute | static | measures`); by default it
 *   follows from the keys present.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { parseScaled } from "./decimal";
import { LoadError } from "./errors";
import { type ExprTerm, parseExpression } from "./expression";

/** A path into the model document, e.g. `["dimensions", 3, "levels", 0, "column"]`. */
export type ModelPath = (string | number)[];

const nonEmpty = z.string().min(1);

const TableSchema = z.strictObject({
  file: nonEmpty,
  key: nonEmpty.optional(),
});

const JoinSchema = z.strictObject({
  from: nonEmpty,
  to: nonEmpty,
});

const LevelSchema = z.strictObject({
  name: nonEmpty,
  column: nonEmpty,
  nameExpression: nonEmpty.optional(),
  captionExpression: nonEmpty.optional(),
  uniqueMembers: z.boolean().default(false),
  order: z.enum(["name", "key", "file"]).default("name"),
});

/** A listed member of a static dimension (a bare name in the file is short for `{ name }`). */
export interface ModelStaticMember {
  name: string;
  caption?: string;
  /** Weight with which it adds into its parent (default 1). */
  weight?: number;
  /** Name of the member whose cells this one starts as a copy of (e.g. Plan from Actual). */
  seedFrom?: string;
  /** With `seedFrom`: the copy is the source times this factor (a decimal, e.g. 1.05; default 1). */
  seedFactor?: number;
  /** A member formula: the member's cells are calculated, not stored (see lattice/formulas). */
  formula?: string;
  /** With `formula`: its solve order (MDX's SOLVE_ORDER; default 0). */
  solveOrder?: number;
  children?: ModelStaticMember[];
}

const StaticMemberSchema: z.ZodType<ModelStaticMember> = z.preprocess(
  (v) => (typeof v === "string" || typeof v === "number" ? { name: String(v) } : v),
  z.strictObject({
    name: nonEmpty,
    caption: nonEmpty.optional(),
    weight: z.number().optional(),
    seedFrom: nonEmpty.optional(),
    seedFactor: z.number().optional(),
    formula: nonEmpty.optional(),
    solveOrder: z.number().optional(),
    children: z.array(z.lazy(() => StaticMemberSchema)).optional(),
  }),
) as z.ZodType<ModelStaticMember>;

/** A measure: stored (`aggregator`, with `column` and `decimals`) or calculated (`formula`, `solveOrder`). */
const MeasureSchema = z.strictObject({
  name: nonEmpty,
  caption: nonEmpty.optional(),
  aggregator: z.enum(["sum", "count"]).optional(),
  column: nonEmpty.optional(),
  decimals: z.number().int().min(0).max(9).optional(),
  formula: nonEmpty.optional(),
  solveOrder: z.number().optional(),
});

const common = {
  name: nonEmpty,
  defaultMember: z.union([nonEmpty, z.number()]).transform(String).optional(),
};

const LevelsDimensionSchema = z.strictObject({
  kind: z.literal("levels"),
  ...common,
  table: nonEmpty,
  hasAll: z.boolean().default(true),
  allMemberName: nonEmpty.optional(),
  allLevelName: nonEmpty.optional(),
  levels: z.array(LevelSchema).min(1),
});

const AttributeDimensionSchema = z.strictObject({
  kind: z.literal("attribute"),
  ...common,
  attribute: nonEmpty,
  levelName: nonEmpty.optional(),
  hasAll: z.boolean().default(true),
  allMemberName: nonEmpty.optional(),
  allLevelName: nonEmpty.optional(),
  nameExpression: nonEmpty.optional(),
  captionExpression: nonEmpty.optional(),
  order: z.enum(["name", "key", "file"]).default("name"),
});

const StaticDimensionSchema = z.strictObject({
  kind: z.literal("static"),
  ...common,
  hasAll: z.boolean().default(false),
  allMemberName: nonEmpty.optional(),
  allLevelName: nonEmpty.optional(),
  levels: z.array(nonEmpty).min(1).optional(),
  members: z.array(StaticMemberSchema).min(1),
  factMember: nonEmpty.optional(),
});

const MeasuresDimensionSchema = z.strictObject({
  kind: z.literal("measures"),
  ...common,
  levelName: nonEmpty.optional(),
  measures: z.array(MeasureSchema).min(1),
});

/** Which kind a dimension is when it does not say: by the key that only that kind has. */
function inferKind(v: Record<string, unknown>): string {
  if ("measures" in v) return "measures";
  if ("members" in v) return "static";
  if ("attribute" in v) return "attribute";
  return "levels";
}

const DimensionSchema = z.preprocess(
  (v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && (v as Record<string, unknown>).kind === undefined
      ? { ...v, kind: inferKind(v as Record<string, unknown>) }
      : v,
  z.discriminatedUnion("kind", [
    LevelsDimensionSchema,
    AttributeDimensionSchema,
    StaticDimensionSchema,
    MeasuresDimensionSchema,
  ]),
);

/** The zod schema of a model file (shape only; cross-references are checked by {@link compileModel}). */
export const ModelFileSchema = z.strictObject({
  cube: nonEmpty,
  description: z.string().optional(),
  tables: z.record(nonEmpty, TableSchema),
  fact: nonEmpty,
  joins: z.array(JoinSchema).default([]),
  dimensions: z.array(DimensionSchema).min(1),
});

/** A model file as validated by {@link ModelFileSchema}, with defaults filled in. */
export type ModelFile = z.output<typeof ModelFileSchema>;
/** A level of a `levels` dimension, with defaults filled in. */
export type ModelLevel = z.output<typeof LevelSchema>;
/** One measure of the measures dimension. */
export type ModelMeasure = z.output<typeof MeasureSchema>;

/** A parsed model file with the means to point at its parts. */
export interface ModelSource {
  /** Absolute path of the model file. */
  file: string;
  /** Folder of the model file: CSV paths are relative to it. */
  dir: string;
  /** The validated content. */
  model: ModelFile;
  /**
   * 1-based line and column of the node at `p`: of the key when the last step is a map key, of the
   * item when it is a sequence index. When `p` does not exist in the document (e.g. a missing
   * required key), of the deepest node on the way that does.
   */
  position(p: ModelPath): { line: number; column: number };
  /** A LoadError in the model file at `p`. */
  error(p: ModelPath, detail: string): LoadError;
  /**
   * 1-based line and column of the `column`-th character (1-based) of the string value at `p`
   * (e.g. a formula), when the value is a one-line plain or quoted scalar whose escapes can be
   * followed; otherwise of the value's start.
   */
  textPosition(p: ModelPath, column: number): { line: number; column: number };
}

/**
 * Reads and validates a model file.
 * @param modelPath path of the YAML or JSON file (relative paths resolve against the working folder).
 * @throws LoadError when the file is missing, is not valid YAML, or does not match the schema
 *   (e.g. `model.yaml:12:9: dimensions[2].levels[0]: Unrecognized key: "colum"`).
 */
export async function readModelFile(modelPath: string): Promise<ModelSource> {
  const file = path.resolve(modelPath);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LoadError(
      file,
      undefined,
      undefined,
      code === "ENOENT" ? "model file not found" : `cannot read model file: ${(err as Error).message}`,
    );
  }
  return parseModelText(text, file);
}

/**
 * Parses and validates model file text; `file` is used for error messages and as the base of the
 * CSV paths. See {@link readModelFile}.
 */
export function parseModelText(text: string, file: string): ModelSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new LoadError(file, pos.line, pos.col, `invalid YAML: ${e.message.split("\n")[0]}`);
  }
  const position = (p: ModelPath): { line: number; column: number } => {
    const offset = nodeOffset(doc.contents, p);
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const error = (p: ModelPath, detail: string): LoadError => {
    const pos = position(p);
    return new LoadError(file, pos.line, pos.column, detail);
  };
  const textPosition = (p: ModelPath, column: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(scalarCharOffset(text, valueNode(doc.contents, p), column) ?? nodeOffset(doc.contents, p));
    return { line: pos.line, column: pos.col };
  };
  const raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  const parsed = ModelFileSchema.safeParse(raw);
  if (!parsed.success) {
    // An unknown key is usually why a required one is missing (a typo): report it first.
    const issues = parsed.error.issues;
    const issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
    let p: ModelPath = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) p = [...p, issue.keys[0]];
    const where = formatPath(p);
    throw error(p, `${where ? `${where}: ` : ""}${issue.message}`);
  }
  return { file, dir: path.dirname(file), model: parsed.data, position, error, textPosition };
}

/** `dimensions[2].levels[0].column`: a model path as one would write it. */
export function formatPath(p: ModelPath): string {
  let s = "";
  for (const seg of p) {
    if (typeof seg === "number") s += `[${seg}]`;
    else s += s === "" ? seg : `.${seg}`;
  }
  return s;
}

/** Offset of the node at `p` (see ModelSource.position). */
function nodeOffset(root: Node | null, p: ModelPath): number {
  let node: Node | null = root;
  let offset = root?.range?.[0] ?? 0;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return offset;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      node = node.items[seg] as Node | null;
      offset = node?.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

/** The value node at `p` (for a map key, the value under it), or null. */
function valueNode(root: Node | null, p: ModelPath): Node | null {
  let node: Node | null = root;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return null;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      node = node.items[seg] as Node | null;
    } else {
      return null;
    }
  }
  return node;
}

/**
 * Offset in `text` of the `column`-th character (1-based) of the value of a one-line scalar node:
 * plain, single-quoted (`''` is one character) or double-quoted (a backslash and the character after
 * it are one character; longer escapes give up). Null when the node is not such a scalar.
 */
function scalarCharOffset(text: string, node: Node | null, column: number): number | null {
  if (!isScalar(node) || !node.range || typeof node.value !== "string") return null;
  const [start, end] = node.range;
  const src = text.slice(start, end);
  if (src.includes("\n") || src.includes("\r")) return null;
  if (node.type === "PLAIN") return src === node.value && column <= src.length + 1 ? start + column - 1 : null;
  if (node.type !== "QUOTE_SINGLE" && node.type !== "QUOTE_DOUBLE") return null;
  let i = 1; // after the opening quote
  for (let c = 1; c < column; c++) {
    if (i >= src.length - 1) return null;
    if (node.type === "QUOTE_SINGLE" && src[i] === "'" && src[i + 1] === "'") i += 2;
    else if (node.type === "QUOTE_DOUBLE" && src[i] === "\\") {
      if ("xuUN_LP".includes(src[i + 1])) return null;
      i += 2;
    } else i++;
  }
  return start + i;
}

// ---------------------------------------------------------------------------------------------
// Cross-reference validation: from the validated model file to a plan the loader executes.

/** A column of a table, with where the model first refers to it. */
export interface ColumnRef {
  table: string;
  column: string;
  /** Where in the model file the reference is (for "unknown column" errors). */
  at: ModelPath;
}

/** A compiled name or caption expression. */
export type PlanExpr = ({ kind: "literal"; text: string } | { kind: "column"; ref: ColumnRef })[];

/** A table the load reads. */
export interface PlanTable {
  name: string;
  /** Absolute path of the CSV file. */
  file: string;
  /** Where the table is declared (`tables.<name>`). */
  at: ModelPath;
  /** The join that reaches this table (absent for the fact table). */
  join?: PlanJoin;
  /** Columns the load reads, each with its first reference in the model. */
  columns: Map<string, ModelPath>;
}

/** A join `from.table.fromColumn -> to.table.toColumn`; the target column must be unique. */
export interface PlanJoin {
  from: ColumnRef;
  to: ColumnRef;
  /** Index in `joins`. */
  index: number;
}

/** A level of a table dimension. */
export interface PlanLevel {
  name: string;
  /** The column whose value identifies a member under its parent. */
  column: ColumnRef;
  /** The member name, when it is not the column's value (members are then keyed by `column`). */
  nameExpr?: PlanExpr;
  captionExpr?: PlanExpr;
  uniqueMembers: boolean;
  order: "name" | "key" | "file";
  at: ModelPath;
}

/** A dimension whose members come from the rows of a table. */
export interface PlanTableDimension {
  kind: "table";
  name: string;
  /** The dimension table: one of its rows per fact row. */
  table: string;
  hasAll: boolean;
  allMemberName: string;
  allLevelName: string;
  defaultMember?: string;
  levels: PlanLevel[];
  at: ModelPath;
}

/** A member formula as declared in the model file. */
export interface PlanFormula {
  expression: string;
  solveOrder?: number;
  /** Where the formula is (the `formula` key): its errors point into its text. */
  at: ModelPath;
}

/** A seed factor as an exact decimal: `num / 10^exp` (1.05 is 105 / 10^2). */
export interface PlanFactor {
  num: number;
  exp: number;
  /** Where the factor was given (the first `seedFactor` on the chain), for errors. */
  at: ModelPath | null;
}

/** A listed member of a static dimension, flattened parents first. */
export interface PlanStaticMember {
  name: string;
  caption?: string;
  weight?: number;
  /** Index of the parent in the flattened list, or -1. */
  parent: number;
  depth: number;
  /** Set for a calculated member. */
  formula?: PlanFormula;
  at: ModelPath;
}

/** A dimension with listed members. */
export interface PlanStaticDimension {
  kind: "static";
  name: string;
  hasAll: boolean;
  allMemberName: string;
  allLevelName: string;
  levels: string[];
  members: PlanStaticMember[];
  defaultMember?: string;
  /** Indexes into `members` of the leaves that receive the facts: the fact member, then the seeded copies. */
  factLeaves: number[];
  /** Per fact leaf: the factor its copy of the facts is multiplied by (1 for the fact member). */
  factFactors: PlanFactor[];
  at: ModelPath;
}

/** One stored measure. */
export interface PlanMeasure {
  name: string;
  caption?: string;
  /** Index of the measure among the listed measures: its member id in the measures dimension. */
  member: number;
  aggregator: "sum" | "count";
  /** The fact column summed, or counted when not empty; absent for a count of rows. */
  column?: ColumnRef;
  /** Decimal places kept exactly: values are summed as integers scaled by 10^decimals. */
  decimals: number;
  at: ModelPath;
}

/** The measures dimension. */
export interface PlanMeasuresDimension {
  kind: "measures";
  name: string;
  levelName: string;
  /** Every listed measure, stored or calculated, in order: the members of the dimension. */
  members: { name: string; caption?: string; formula?: PlanFormula }[];
  /** The stored measures (those with an aggregator), in order. */
  measures: PlanMeasure[];
  defaultMember?: string;
  at: ModelPath;
}

/** One dimension of the plan. */
export type PlanDimension = PlanTableDimension | PlanStaticDimension | PlanMeasuresDimension;

/** What the loader executes: a model file with every cross-reference resolved. */
export interface ModelPlan {
  source: ModelSource;
  cube: string;
  description?: string;
  /** The tables the load reads, the fact table first, then each table after the one joining to it. */
  tables: Map<string, PlanTable>;
  fact: string;
  dimensions: PlanDimension[];
}

/**
 * Resolves a validated model file's cross-references: tables, joins (a tree rooted at the fact
 * table: each table is the target of at most one join), the tables and columns of levels,
 * expressions, static members, measures, and name uniqueness.
 * @throws LoadError pointing at the offending key of the model file.
 */
export function compileModel(source: ModelSource): ModelPlan {
  const { model, error } = source;
  const declared = model.tables;
  if (!Object.hasOwn(declared, model.fact)) {
    throw error(["fact"], `fact table "${model.fact}" is not declared under tables`);
  }
  const tables = new Map<string, PlanTable>();
  const tableEntry = (name: string): PlanTable => {
    let t = tables.get(name);
    if (!t) {
      t = {
        name,
        file: path.resolve(source.dir, declared[name].file),
        at: ["tables", name],
        columns: new Map(),
      };
      tables.set(name, t);
    }
    return t;
  };
  const need = (ref: ColumnRef) => {
    const t = tableEntry(ref.table);
    if (!t.columns.has(ref.column)) t.columns.set(ref.column, ref.at);
  };

  // Joins: parse, check, and index by target table.
  const joinTo = new Map<string, PlanJoin>();
  model.joins.forEach((j, index) => {
    const [fromTable, fromColumn] = splitQualified(j.from);
    if (fromColumn === undefined) {
      throw error(["joins", index, "from"], `join "from" must be <table>.<column>, got "${j.from}"`);
    }
    if (!Object.hasOwn(declared, fromTable)) {
      throw error(["joins", index, "from"], `table "${fromTable}" is not declared under tables`);
    }
    const [toTable, toColumnGiven] = splitQualified(j.to);
    if (!Object.hasOwn(declared, toTable)) {
      throw error(["joins", index, "to"], `table "${toTable}" is not declared under tables`);
    }
    const toColumn = toColumnGiven ?? declared[toTable].key;
    if (toColumn === undefined) {
      throw error(
        ["joins", index, "to"],
        `join to "${toTable}" names no column and the table declares no key (write ${toTable}.<column> or give it a key)`,
      );
    }
    if (toTable === model.fact) throw error(["joins", index, "to"], "a join cannot lead to the fact table");
    if (toTable === fromTable) throw error(["joins", index, "to"], "a join cannot lead from a table to itself");
    if (joinTo.has(toTable)) {
      throw error(
        ["joins", index, "to"],
        `table "${toTable}" is already the target of joins[${joinTo.get(toTable)!.index}]; declare the table a second time under another name to join it twice`,
      );
    }
    const toAt: ModelPath = toColumnGiven === undefined ? ["tables", toTable, "key"] : ["joins", index, "to"];
    joinTo.set(toTable, {
      from: { table: fromTable, column: fromColumn, at: ["joins", index, "from"] },
      to: { table: toTable, column: toColumn, at: toAt },
      index,
    });
  });
  // Every join must hang off the fact table (directly or through other joins).
  const rootOf = (table: string, seen = new Set<string>()): string => {
    const j = joinTo.get(table);
    if (!j) return table;
    if (seen.has(table)) return table;
    seen.add(table);
    return rootOf(j.from.table, seen);
  };
  for (const j of joinTo.values()) {
    if (rootOf(j.to.table) !== model.fact) {
      throw error(
        ["joins", j.index, "from"],
        `table "${j.from.table}" is not reached from the fact table "${model.fact}" by the joins`,
      );
    }
  }
  /** Tables on the way from the fact table to `table`, the fact table first. */
  const chain = (table: string): string[] => {
    const out = [table];
    let t = table;
    while (joinTo.has(t)) {
      t = joinTo.get(t)!.from.table;
      out.unshift(t);
    }
    return out;
  };
  /** Adds `table` and the tables and join columns on the way to it. */
  const use = (table: string) => {
    const c = chain(table);
    tableEntry(c[0]);
    for (let i = 1; i < c.length; i++) {
      const j = joinTo.get(c[i])!;
      const t = tableEntry(c[i]);
      t.join = j;
      need(j.from);
      need(j.to);
    }
  };
  use(model.fact);

  /**
   * Resolves a column reference written in the model: `table.column` when the part before the first
   * `.` is a declared table, else a column of `defaultTable`. The table must be `defaultTable` or be
   * reached from it by joins.
   */
  const columnRef = (text: string, defaultTable: string, at: ModelPath): ColumnRef => {
    const [t, c] = splitQualified(text);
    let table = defaultTable;
    let column = text;
    if (c !== undefined && Object.hasOwn(declared, t)) {
      table = t;
      column = c;
    }
    if (table !== defaultTable && !chain(table).includes(defaultTable)) {
      throw error(at, `table "${table}" is not reached from table "${defaultTable}" by the joins`);
    }
    const ref = { table, column, at };
    use(table);
    need(ref);
    return ref;
  };
  const expr = (text: string, defaultTable: string, at: ModelPath): PlanExpr => {
    let terms: ExprTerm[];
    try {
      terms = parseExpression(text);
    } catch (err) {
      throw error(at, `invalid expression ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
    return terms.map((term) =>
      term.kind === "literal" ? term : { kind: "column" as const, ref: columnRef(term.ref, defaultTable, at) },
    );
  };

  /** A measure's column: a column of the fact table. */
  const factColumn = (text: string, at: ModelPath): ColumnRef => {
    const ref = columnRef(text, model.fact, at);
    if (ref.table !== model.fact) throw error(at, `a measure's column must be a column of the fact table "${model.fact}"`);
    return ref;
  };

  const dimensions: PlanDimension[] = [];
  const dimNames = new Map<string, number>();
  let measuresCount = 0;
  model.dimensions.forEach((d, di) => {
    const at: ModelPath = ["dimensions", di];
    if (dimNames.has(d.name)) {
      throw error([...at, "name"], `dimension "${d.name}" is defined twice (also dimensions[${dimNames.get(d.name)}])`);
    }
    dimNames.set(d.name, di);
    const allMemberName =
      "allMemberName" in d && d.allMemberName ? d.allMemberName : `All ${d.name}${d.name.endsWith("s") ? "" : "s"}`;
    const allLevelName = "allLevelName" in d && d.allLevelName ? d.allLevelName : "(All)";
    switch (d.kind) {
      case "levels":
      case "attribute": {
        let table: string;
        let levels: { name: string; column: string; nameExpression?: string; captionExpression?: string; uniqueMembers: boolean; order: "name" | "key" | "file"; at: ModelPath; columnAt: ModelPath }[];
        if (d.kind === "levels") {
          table = d.table;
          if (!Object.hasOwn(declared, table)) throw error([...at, "table"], `table "${table}" is not declared under tables`);
          levels = d.levels.map((l, li) => ({ ...l, at: [...at, "levels", li], columnAt: [...at, "levels", li, "column"] }));
        } else {
          const [t, c] = splitQualified(d.attribute);
          if (c === undefined || !Object.hasOwn(declared, t)) {
            throw error([...at, "attribute"], `attribute must be <table>.<column> of a declared table, got "${d.attribute}"`);
          }
          table = t;
          levels = [
            {
              name: d.levelName ?? d.name,
              column: c,
              nameExpression: d.nameExpression,
              captionExpression: d.captionExpression,
              uniqueMembers: true,
              order: d.order,
              at,
              columnAt: [...at, "attribute"],
            },
          ];
        }
        if (table === model.fact) {
          throw error(
            [...at, d.kind === "levels" ? "table" : "attribute"],
            "a dimension on the fact table itself (a degenerate dimension) is not supported; use a dimension table",
          );
        }
        if (!joinTo.has(table)) {
          throw error(
            [...at, d.kind === "levels" ? "table" : "attribute"],
            `table "${table}" is not reached from the fact table "${model.fact}" by the joins`,
          );
        }
        use(table);
        const levelNames = new Set<string>([allLevelName]);
        const planLevels: PlanLevel[] = levels.map((l) => {
          if (levelNames.has(l.name)) throw error([...l.at, "name"], `level name "${l.name}" is used twice in dimension "${d.name}"`);
          levelNames.add(l.name);
          return {
            name: l.name,
            column: columnRef(l.column, table, l.columnAt),
            nameExpr: l.nameExpression === undefined ? undefined : expr(l.nameExpression, table, d.kind === "levels" ? [...l.at, "nameExpression"] : [...at, "nameExpression"]),
            captionExpr:
              l.captionExpression === undefined
                ? undefined
                : expr(l.captionExpression, table, d.kind === "levels" ? [...l.at, "captionExpression"] : [...at, "captionExpression"]),
            uniqueMembers: l.uniqueMembers,
            order: l.order,
            at: l.at,
          };
        });
        dimensions.push({
          kind: "table",
          name: d.name,
          table,
          hasAll: d.hasAll,
          allMemberName,
          allLevelName,
          defaultMember: d.defaultMember,
          levels: planLevels,
          at,
        });
        break;
      }
      case "static":
        dimensions.push(compileStatic(source, d, at, allMemberName, allLevelName));
        break;
      case "measures": {
        measuresCount++;
        if (measuresCount > 1) throw error(at, "a cube has one measures dimension; this is the second");
        const names = new Set<string>();
        const members: PlanMeasuresDimension["members"] = [];
        const measures: PlanMeasure[] = [];
        d.measures.forEach((m, mi) => {
          const mat: ModelPath = [...at, "measures", mi];
          if (names.has(m.name)) throw error([...mat, "name"], `measure "${m.name}" is defined twice`);
          names.add(m.name);
          if (m.formula !== undefined) {
            for (const key of ["aggregator", "column", "decimals"] as const) {
              if (m[key] !== undefined) {
                throw error([...mat, key], `measure "${m.name}" has a formula, so it has no ${key}: its cells are calculated, not loaded`);
              }
            }
            members.push({ name: m.name, caption: m.caption, formula: { expression: m.formula, solveOrder: m.solveOrder, at: [...mat, "formula"] } });
            return;
          }
          if (m.solveOrder !== undefined) throw error([...mat, "solveOrder"], `measure "${m.name}": solveOrder applies to a formula`);
          if (m.aggregator === undefined) {
            throw error(mat, `measure "${m.name}" needs an aggregator (sum or count) or a formula`);
          }
          if (m.aggregator === "sum" && m.column === undefined) {
            throw error(mat, `measure "${m.name}": aggregator sum needs a column`);
          }
          members.push({ name: m.name, caption: m.caption });
          measures.push({
            name: m.name,
            caption: m.caption,
            member: mi,
            aggregator: m.aggregator,
            column: m.column === undefined ? undefined : factColumn(m.column, [...mat, "column"]),
            decimals: m.aggregator === "count" ? 0 : (m.decimals ?? 4),
            at: mat,
          });
        });
        if (measures.length === 0) throw error([...at, "measures"], "the measures dimension needs at least one stored measure (with an aggregator)");
        dimensions.push({
          kind: "measures",
          name: d.name,
          levelName: d.levelName ?? "MeasuresLevel",
          members,
          measures,
          defaultMember: d.defaultMember,
          at,
        });
        break;
      }
    }
  });
  if (measuresCount === 0) {
    throw error(["dimensions"], "the cube needs a measures dimension (a dimension with `measures:`)");
  }
  return { source, cube: model.cube, description: model.description, tables, fact: model.fact, dimensions };
}

function compileStatic(
  source: ModelSource,
  d: Extract<ModelFile["dimensions"][number], { kind: "static" }>,
  at: ModelPath,
  allMemberName: string,
  allLevelName: string,
): PlanStaticDimension {
  const { error } = source;
  const members: PlanStaticMember[] = [];
  const seeds: { member: number; from: string; factor: PlanFactor; at: ModelPath }[] = [];
  let maxDepth = 0;
  const walk = (list: ModelStaticMember[], parent: number, depth: number, listAt: ModelPath) => {
    const siblings = new Set<string>();
    list.forEach((m, i) => {
      const mat: ModelPath = [...listAt, i];
      if (siblings.has(m.name)) throw error(mat, `member "${m.name}" is listed twice under the same parent`);
      siblings.add(m.name);
      const index = members.length;
      const member: PlanStaticMember = { name: m.name, caption: m.caption, weight: m.weight, parent, depth, at: mat };
      members.push(member);
      maxDepth = Math.max(maxDepth, depth);
      if (m.formula !== undefined) {
        member.formula = { expression: m.formula, solveOrder: m.solveOrder, at: [...mat, "formula"] };
        if (d.hasAll) {
          throw error(
            [...mat, "formula"],
            `member "${m.name}" has a formula, but the dimension has an All member, into which every member adds: a formula member must not add into a consolidated member (set hasAll: false)`,
          );
        }
        if (parent !== -1) {
          throw error(
            [...mat, "formula"],
            `member "${m.name}" has a formula, but it adds into "${members[parent].name}": a formula member must not add into a consolidated member (make it a top-level member)`,
          );
        }
        if (m.children !== undefined && m.children.length > 0) {
          throw error([...mat, "children"], `member "${m.name}" has a formula, so it cannot have members below it`);
        }
        for (const key of ["seedFrom", "seedFactor", "weight"] as const) {
          if (m[key] !== undefined) throw error([...mat, key], `member "${m.name}" has a formula, so it has no ${key}: its cells are calculated, not stored`);
        }
      } else if (m.solveOrder !== undefined) {
        throw error([...mat, "solveOrder"], `member "${m.name}": solveOrder applies to a formula`);
      }
      if (m.seedFactor !== undefined && m.seedFrom === undefined) {
        throw error([...mat, "seedFactor"], `member "${m.name}": seedFactor applies to a member seeded with seedFrom`);
      }
      if (m.seedFrom !== undefined) {
        seeds.push({ member: index, from: m.seedFrom, factor: seedFactor(source, m.seedFactor, [...mat, "seedFactor"]), at: [...mat, "seedFrom"] });
      }
      if (m.children && m.children.length > 0) {
        if (m.seedFrom !== undefined) throw error([...mat, "seedFrom"], "only a leaf member can be seeded");
        walk(m.children, index, depth + 1, [...mat, "children"]);
      }
    });
  };
  walk(d.members, -1, 0, [...at, "members"]);
  const isLeaf = (i: number) => !members.some((m) => m.parent === i);
  const find = (name: string, p: ModelPath): number => {
    const hits = members.flatMap((m, i) => (m.name === name ? [i] : []));
    if (hits.length === 0) throw error(p, `no member "${name}" in dimension "${d.name}"`);
    if (hits.length > 1) throw error(p, `member name "${name}" is ambiguous in dimension "${d.name}"`);
    return hits[0];
  };
  let factMember: number;
  if (d.factMember !== undefined) {
    factMember = find(d.factMember, [...at, "factMember"]);
  } else {
    factMember = members.findIndex((m, i) => isLeaf(i) && m.formula === undefined);
  }
  if (factMember < 0 || !isLeaf(factMember)) {
    throw error([...at, "factMember"], factMember < 0 ? "the dimension needs a leaf member without a formula to receive the facts" : `the fact member "${members[factMember].name}" must be a leaf member`);
  }
  if (members[factMember].formula !== undefined) {
    throw error([...at, "factMember"], `the fact member "${members[factMember].name}" has a formula: its cells are calculated, so it cannot receive facts`);
  }
  // A seeded member is a copy of the member it seeds from; follow chains to the fact member,
  // multiplying the factors along the way.
  const seedOf = new Map<number, { from: number; factor: PlanFactor; at: ModelPath }>();
  for (const s of seeds) {
    const from = find(s.from, s.at);
    if (members[from].formula !== undefined) {
      throw error(s.at, `"${members[s.member].name}" is seeded from "${members[from].name}", a formula member, which has no stored cells`);
    }
    seedOf.set(s.member, { from, factor: s.factor, at: s.at });
  }
  const factLeaves = [factMember];
  const factFactors: PlanFactor[] = [{ num: 1, exp: 0, at: null }];
  for (const s of seeds) {
    let m = s.member;
    const seen = new Set<number>();
    let factor: PlanFactor = { num: 1, exp: 0, at: null };
    while (m !== factMember) {
      const next = seedOf.get(m);
      if (!next) {
        throw error(s.at, `"${members[s.member].name}" is seeded from "${members[m].name}", which receives no facts`);
      }
      if (seen.has(m)) throw error(s.at, `seeding of "${members[s.member].name}" runs in a circle`);
      seen.add(m);
      factor = multiplyFactors(source, factor, next.factor);
      m = next.from;
    }
    if (s.member === factMember) throw error(s.at, "the fact member cannot be seeded");
    factLeaves.push(s.member);
    factFactors.push(factor);
  }
  const levelCount = maxDepth + 1;
  if (d.levels !== undefined && d.levels.length !== levelCount) {
    throw error([...at, "levels"], `${d.levels.length} level names given for ${levelCount} levels of members`);
  }
  const levels = d.levels ?? Array.from({ length: levelCount }, (_, i) => (i === 0 ? d.name : `${d.name} ${i + 1}`));
  return {
    kind: "static",
    name: d.name,
    hasAll: d.hasAll,
    allMemberName,
    allLevelName,
    levels,
    members,
    defaultMember: d.defaultMember,
    factLeaves,
    factFactors,
    at,
  };
}

/** Most decimal places of a seedFactor. */
const MAX_FACTOR_DECIMALS = 6;

/**
 * A seedFactor as an exact decimal (1 when not given).
 * @throws LoadError at `at` when it has more than 6 decimal places or is too large.
 */
function seedFactor(source: ModelSource, factor: number | undefined, at: ModelPath): PlanFactor {
  if (factor === undefined) return { num: 1, exp: 0, at: null };
  const scaled = parseScaled(String(factor), MAX_FACTOR_DECIMALS);
  if (!Number.isFinite(factor) || Number.isNaN(scaled)) {
    throw source.error(at, `seedFactor ${factor} must be a plain decimal with at most ${MAX_FACTOR_DECIMALS} decimal places, e.g. 1.05`);
  }
  let num = scaled;
  let exp = MAX_FACTOR_DECIMALS;
  while (exp > 0 && num % 10 === 0) {
    num /= 10;
    exp--;
  }
  return { num, exp, at };
}

/**
 * The product of two exact decimal factors (chained seeds).
 * @throws LoadError when the product cannot be held exactly.
 */
function multiplyFactors(source: ModelSource, a: PlanFactor, b: PlanFactor): PlanFactor {
  const num = a.num * b.num;
  const exp = a.exp + b.exp;
  const at = a.at ?? b.at;
  if (!Number.isSafeInteger(num) || exp > 2 * MAX_FACTOR_DECIMALS) {
    throw source.error(at ?? [], "the seed factors along this chain of seeds multiply to a number that cannot be held exactly");
  }
  return { num, exp, at };
}

/** Splits `table.column` at the first dot; the column is undefined when there is no dot. */
function splitQualified(text: string): [string, string | undefined] {
  const dot = text.indexOf(".");
  if (dot <= 0 || dot === text.length - 1) return [text, undefined];
  return [text.slice(0, dot), text.slice(dot + 1)];
}
