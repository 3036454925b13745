/**
 * The shape of a model file as zod schemas: what {@link parseModelText} checks before any
 * cross-reference. Defaults (`hasAll`, `uniqueMembers`, `order`, `joins`) are filled in here.
 * @see ../../../../docs/model-file.md for the format.
 */
import { z } from "zod";
import { numberFormatProblem } from "./number-format";

/** A path into the model document, e.g. `["dimensions", 3, "levels", 0, "column"]`. */
export type ModelPath = (string | number)[];

const nonEmpty = z.string().min(1);

/**
 * An Excel number format code (Mondrian's `formatString`), e.g. `#,##0.00` or `0.0%`; checked by
 * {@link numberFormatProblem}, so a bad one stops the load at its line and column.
 */
const formatString = z.string().superRefine((code, ctx) => {
  const problem = numberFormatProblem(code);
  if (problem) ctx.addIssue({ code: "custom", message: `bad number format ${JSON.stringify(code)}: ${problem}` });
});

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
  /** With `formula`: how Excel shows the cells it computes (an Excel number format code, e.g. `0.0%`). */
  formatString?: string;
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
    formatString: formatString.optional(),
    children: z.array(z.lazy(() => StaticMemberSchema)).optional(),
  }),
) as z.ZodType<ModelStaticMember>;

/**
 * A measure: stored (`aggregator`, with `column` and `decimals`) or calculated (`formula`,
 * `solveOrder`), with an optional `formatString`: how Excel shows its cells.
 */
const MeasureSchema = z.strictObject({
  name: nonEmpty,
  caption: nonEmpty.optional(),
  formatString: formatString.optional(),
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

/** A user id: text, or a number written without quotes (an employee number). */
const userId = z.union([nonEmpty, z.number()]).transform(String);

/**
 * The `security:` section (shape only: names, members and rights are checked against the built cube
 * by loader/security.ts). Absent: the cube is open to every user.
 */
const SecuritySchema = z.strictObject({
  admins: z.array(userId).default([]),
  groups: z
    .array(
      z.strictObject({
        name: nonEmpty,
        /** Dimension name -> member (unique name, bare name, or `[Dimension]` for all of it) -> right. */
        rights: z.record(nonEmpty, z.record(nonEmpty, nonEmpty)).default({}),
      }),
    )
    .default([]),
  users: z
    .array(
      z.strictObject({
        id: userId,
        name: nonEmpty.optional(),
        groups: z.array(nonEmpty).default([]),
      }),
    )
    .default([]),
});

/** The zod schema of a model file (shape only; cross-references are checked by {@link compileModel}). */
export const ModelFileSchema = z.strictObject({
  cube: nonEmpty,
  description: z.string().optional(),
  tables: z.record(nonEmpty, TableSchema),
  fact: nonEmpty,
  joins: z.array(JoinSchema).default([]),
  dimensions: z.array(DimensionSchema).min(1),
  security: SecuritySchema.optional(),
});

/** The `security:` section as validated by the schema, with defaults filled in. */
export type ModelSecurity = z.output<typeof SecuritySchema>;

/** A model file as validated by {@link ModelFileSchema}, with defaults filled in. */
export type ModelFile = z.output<typeof ModelFileSchema>;
/** A level of a `levels` dimension, with defaults filled in. */
export type ModelLevel = z.output<typeof LevelSchema>;
/** One measure of the measures dimension. */
export type ModelMeasure = z.output<typeof MeasureSchema>;
