/**
 * The plan the loader executes: a model file with every cross-reference resolved (tables in join
 * order, columns to read, dimensions with their levels or members, measures), each part keeping
 * where it is in the model file for errors. Made by {@link compileModel}.
 */
import type { ModelPath } from "./schema";
import type { ModelSource } from "./source";

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
  /** A calculated member's number format (Excel's format code). */
  formatString?: string;
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
  members: { name: string; caption?: string; formula?: PlanFormula; formatString?: string }[];
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
