/**
 * The model loader: reads a model file and its CSV tables, builds the cube's dimensions and
 * aggregates the fact rows into leaf cells, all in memory. Nothing is written anywhere; the caller
 * saves the result (store.saveCube, one transaction), so a failed load changes nothing.
 */
import { stat } from "node:fs/promises";
import type { CubeDef, LeafCells } from "../lattice";
import type { SecurityModel } from "../security";
import { buildMeasuresDimension, buildStaticDimension, buildTableDimension, type BuiltDimension, resolveDefaultMember } from "./dimensions";
import { LoadError } from "./errors";
import { aggregateFacts, buildCells, factGroups } from "./facts";
import { compileFormulas } from "./formulas";
import { compileModel, type PlanMeasuresDimension, readModelFile } from "./model";
import { compileSecurity } from "./security";
import { linkTables, readTable, type TableData } from "./tables";

export { NULL_MEMBER_NAME } from "./dimensions";

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
  /** The cube's security from the `security:` section, in canonical form; null: none (an open cube). */
  security: SecurityModel | null;
}

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
 *   members in order), a `security:` section naming an unknown dimension, member, group or right.
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
  const security = compileSecurity(plan.source, built);

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
  return { def, cells, security };
}
