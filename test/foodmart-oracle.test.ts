/**
 * FoodMart oracle: many cells of the loaded FoodMart cube, drawn across all dimensions and levels,
 * compared with an independent computation over the raw CSVs in DuckDB (test/helpers/foodmart-sql.ts,
 * which shares no code with the loader). A cell is empty in both or equal: money to the cent, units
 * and counts exactly, ratios to 1e-9. The calculated members are checked the same way: Profit
 * (Store Sales - Store Cost) and Margin % (Profit / Store Sales, a ratio of the cell's totals, not a
 * sum of ratios) at every level, and the scenarios: Plan = Actual x 1.05 (the model's seedFactor),
 * Variance = Plan - Actual, Variance % = (Plan - Actual) / Actual.
 */
import path from "node:path";
import { Cube, type CubeDef } from "../backend/src/lattice";
import { loadModel } from "../backend/src/loader";
import { mulberry32 as prng } from "../bench/rng";
import {
  type DimSpec,
  type FactAggregate,
  FOODMART_DIR,
  FoodMartSql,
  type OracleCell,
  pathKey,
  sqlString,
  TABLE_DIMS,
} from "./helpers/foodmart-sql";

const MODEL = path.join(FOODMART_DIR, "model.yaml");

/** Random cells drawn: shapes (which dimensions at which levels) times cells per shape. */
const SHAPES = 100;
const CELLS_PER_SHAPE = 25;
const SEED = 0x5eed_f00d;

type MeasureName = "Unit Sales" | "Store Cost" | "Store Sales" | "Sales Count" | "Profit" | "Margin %";

/**
 * How a measure's values compare: money to the cent, units and counts exactly (in Actual; within
 * float noise once multiplied by the Plan factor), ratios to 1e-9.
 */
type Kind = "money" | "count" | "ratio";

/**
 * The measures of Mondrian's Sales cube (its additive measures and its calculated member Profit),
 * the model's Margin %, and how the oracle computes each from a cell's facts (null: empty).
 */
const MEASURES: { name: MeasureName; of: (a: FactAggregate) => number | null; kind: Kind }[] = [
  { name: "Unit Sales", of: (a) => Number(a.unitSales), kind: "count" },
  { name: "Store Cost", of: (a) => Number(a.storeCost), kind: "money" },
  { name: "Store Sales", of: (a) => Number(a.storeSales), kind: "money" },
  { name: "Sales Count", of: (a) => a.rows, kind: "count" },
  { name: "Profit", of: (a) => Number(a.storeSales) - Number(a.storeCost), kind: "money" },
  { name: "Margin %", of: (a) => (Number(a.storeSales) === 0 ? null : (Number(a.storeSales) - Number(a.storeCost)) / Number(a.storeSales)), kind: "ratio" },
];

type ScenarioName = "Actual" | "Plan" | "Variance" | "Variance %";
/** The model's seedFactor of Plan. */
const PLAN_FACTOR = 1.05;

/**
 * What a cell should hold given its facts (the Actual aggregate), by scenario: Plan is Actual times
 * the factor (a ratio of two Plan values is the Actual ratio), Variance and Variance % follow from
 * Plan and Actual with the formula rules (empty when both sides are; x / 0 and x / empty are empty).
 * Returns the value and the tolerance of the comparison.
 */
function expectedValue(measure: (typeof MEASURES)[number], scenario: ScenarioName, agg: FactAggregate): { value: number | null; tolerance: number } {
  if (agg.rows === 0) return { value: null, tolerance: 0 };
  const actual = measure.of(agg);
  const plan = actual === null ? null : measure.kind === "ratio" ? actual : actual * PLAN_FACTOR;
  const scale = Math.max(1, Math.abs(actual ?? 0));
  const tolerance = measure.kind === "money" ? 0.005 : measure.kind === "ratio" ? 1e-9 : scenario === "Actual" ? 0 : 1e-9 * scale;
  switch (scenario) {
    case "Actual":
      return { value: actual, tolerance };
    case "Plan":
      return { value: plan, tolerance };
    case "Variance":
      return { value: actual === null && plan === null ? null : (plan ?? 0) - (actual ?? 0), tolerance };
    case "Variance %":
      return { value: actual === null || actual === 0 ? null : ((plan ?? 0) - actual) / actual, tolerance: 1e-9 };
  }
}

/** A cell to compare: its coordinates, the address a client would send, and the oracle's filters. */
interface TestCell extends OracleCell {
  coords: Int32Array;
  address: string[];
  measure: (typeof MEASURES)[number];
  scenario: ScenarioName;
  /** How it was drawn, for failure messages. */
  origin: string;
}

let def: CubeDef;
let cube: Cube;
let sql: FoodMartSql;

/** Per table dimension: its spec, its index in the cube, and lookups by path. */
interface DimInfo {
  spec: DimSpec;
  d: number;
  /** Number of levels above the spec's first (1 with an All level). */
  offset: number;
  /** `${parent}|${value}` -> member id, where value is the name or, on a keyed level, the key. */
  byValue: Map<string, number>;
  /** Member ids per depth below the All level. */
  atDepth: number[][];
  all: number;
}
let dims: DimInfo[];
let scenarioDim: number;
let measuresDim: number;

function dimIndex(name: string): number {
  const d = cube.dims.findIndex((x) => x.name === name);
  if (d < 0) throw new Error(`the cube has no dimension ${name}`);
  return d;
}

function memberNamed(d: number, name: string): number {
  const dim = cube.dims[d];
  const id = dim.names.indexOf(name);
  if (id < 0) throw new Error(`dimension ${dim.name} has no member ${name}`);
  return id;
}

/** The value a member has in its level's column: its name, or its key on a keyed level. */
function memberValue(info: DimInfo, id: number): string {
  const depth = cube.dims[info.d].level[id] - info.offset;
  if (info.spec.levels[depth].keyed) {
    const key = def.dimensions[info.d].members[id].key;
    if (key === undefined) throw new Error(`${cube.dims[info.d].uniqueName(id)} has no key`);
    return key;
  }
  return cube.dims[info.d].names[id];
}

/** Level-column filters of a member, from its path of names (nothing for the All member). */
function memberFilters(info: DimInfo, id: number, into: Map<string, string>): void {
  const dim = cube.dims[info.d];
  for (let m = id; m >= 0 && !(info.spec.allName !== null && m === info.all); m = dim.parent[m]) {
    const depth = dim.level[m] - info.offset;
    into.set(info.spec.levels[depth].column, memberValue(info, m));
  }
}

/** The member at the end of a path of level-column values, or -1. */
function memberAt(info: DimInfo, values: readonly string[]): number {
  let cur = info.spec.allName === null ? -1 : info.all;
  for (const v of values) {
    const next = info.byValue.get(`${cur}|${v}`);
    if (next === undefined) return -1;
    cur = next;
  }
  return cur;
}

/** Coordinates of an address that leaves dimension `d` out, as Mondrian defines the defaults. */
function defaultCoords(): Int32Array {
  const coords = new Int32Array(cube.dims.length).fill(-1);
  for (const info of dims) coords[info.d] = info.spec.allName === null ? memberAt(info, ["1997"]) : info.all;
  coords[scenarioDim] = memberNamed(scenarioDim, "Actual");
  coords[measuresDim] = memberNamed(measuresDim, "Unit Sales");
  return coords;
}

/**
 * A test cell for members picked in some table dimensions (the others at Mondrian's defaults), a
 * measure and a scenario. The address names the picked members in the order given; with `rnd`, a
 * member that is the default anyway is left out half of the time (the resolver must fill it in).
 */
function makeCell(
  picks: readonly [number, number][],
  measure: (typeof MEASURES)[number],
  scenario: ScenarioName,
  origin: string,
  rnd?: () => number,
): TestCell {
  const coords = defaultCoords();
  const address: string[] = [];
  for (const [d, id] of picks) {
    // A default member is sometimes named, sometimes left out.
    if (id !== coords[d] || !rnd || rnd() < 0.5) address.push(cube.dims[d].uniqueName(id));
    coords[d] = id;
  }
  coords[measuresDim] = memberNamed(measuresDim, measure.name);
  coords[scenarioDim] = memberNamed(scenarioDim, scenario);
  if (measure.name !== "Unit Sales" || !rnd || rnd() < 0.5) address.push(`[Measures].[${measure.name}]`);
  if (scenario !== "Actual" || !rnd || rnd() < 0.5) address.push(`[Scenario].[${scenario}]`);
  const filters = new Map<string, string>();
  for (const info of dims) memberFilters(info, coords[info.d], filters);
  return { coords, address, measure, scenario, filters, origin };
}

function cellLabel(cell: TestCell): string {
  const names = cube.dims.flatMap((dim, d) => (dim.hasAll && dim.parent[cell.coords[d]] < 0 ? [] : [dim.uniqueName(cell.coords[d])]));
  return `${names.join(" × ")} (${cell.origin})`;
}

/**
 * Resolves each cell's address, reads all cells from the cube in one batch and compares them with
 * the oracle; returns the failures, each naming the cell and both values.
 */
function compare(cells: readonly TestCell[], expected: readonly FactAggregate[]): { failures: string[]; nonEmpty: number } {
  const failures: string[] = [];
  for (const cell of cells) {
    const got = cube.resolve(cell.address);
    if (!(got instanceof Int32Array)) {
      failures.push(`${cellLabel(cell)}: address ${JSON.stringify(cell.address)} does not resolve: ${got.message}`);
    } else if (got.join(",") !== cell.coords.join(",")) {
      failures.push(`${cellLabel(cell)}: address ${JSON.stringify(cell.address)} resolves to ${cube.uniqueNames(got).join(", ")}`);
    }
  }
  const states = cube.getCells(cells.map((c) => c.coords));
  let nonEmpty = 0;
  cells.forEach((cell, i) => {
    const exp = expected[i];
    const got = states[i].value;
    const calculated = cell.measure.name === "Profit" || cell.measure.name === "Margin %" || cell.scenario.startsWith("Variance");
    if ((states[i].calculated ?? false) !== calculated) failures.push(`${cellLabel(cell)}: calculated is ${states[i].calculated}`);
    if (exp.rows === 0) {
      if (got !== null) failures.push(`${cellLabel(cell)}: cube ${got}, SQL empty (no fact rows)`);
      return;
    }
    nonEmpty++;
    const want = expectedValue(cell.measure, cell.scenario, exp);
    const ok = want.value === null ? got === null : got !== null && Math.abs(got - want.value) <= want.tolerance;
    if (!ok) failures.push(`${cellLabel(cell)}: cube ${got === null ? "empty" : got}, SQL ${want.value ?? "empty"} (${exp.rows} fact rows)`);
  });
  return { failures, nonEmpty };
}

function report(failures: string[]): string {
  return failures.length === 0 ? "" : `${failures.length} cells differ:\n${failures.slice(0, 25).join("\n")}`;
}

beforeAll(async () => {
  const [loaded, db] = await Promise.all([loadModel(MODEL), FoodMartSql.open()]);
  sql = db;
  def = loaded.def;
  cube = new Cube(loaded.def, loaded.cells);
  scenarioDim = dimIndex("Scenario");
  measuresDim = dimIndex("Measures");
  dims = TABLE_DIMS.map((spec) => {
    const d = dimIndex(spec.name);
    const dim = cube.dims[d];
    const offset = spec.allName === null ? 0 : 1;
    const info: DimInfo = {
      spec,
      d,
      offset,
      byValue: new Map(),
      atDepth: spec.levels.map(() => []),
      all: spec.allName === null ? -1 : dim.roots[0],
    };
    for (let id = 0; id < dim.size; id++) {
      const depth = dim.level[id] - offset;
      if (depth < 0) continue;
      info.atDepth[depth]?.push(id);
      const parent = dim.parent[id];
      if (depth < spec.levels.length) info.byValue.set(`${parent}|${memberValue(info, id)}`, id);
    }
    return info;
  });
}, 120_000);

afterAll(() => {
  sql?.close();
});

describe("FoodMart cube against SQL over the CSVs (DuckDB)", () => {
  test("DuckDB confirms the published 1997 totals, and the cube has them", async () => {
    const rows = await sql.factRowCounts();
    expect(rows).toEqual({ csv: 86837, joined: 86837 }); // every foreign key resolves
    const all = await sql.aggregate();
    expect(all).toEqual({ rows: 86837, unitSales: "266773.0000", storeSales: "565238.1300", storeCost: "225627.2336" });
    expect(await sql.aggregate("the_year = '1997'")).toEqual(all);
    expect((await sql.aggregate("the_year = '1998'")).rows).toBe(0);

    const totals: Record<MeasureName, number> = {
      "Unit Sales": 266773,
      "Store Sales": 565238.13,
      "Store Cost": 225627.23,
      "Sales Count": 86837,
      Profit: 339610.9, // Mondrian's FoodMart: Profit 339,610.90
      "Margin %": 339610.8964 / 565238.13,
    };
    for (const scenario of ["Actual", "Plan"] as const) {
      for (const m of MEASURES) {
        const coords = cube.resolve([`[Measures].[${m.name}]`, `[Scenario].[${scenario}]`]);
        if (!(coords instanceof Int32Array)) throw new Error(coords.message);
        const [state] = cube.getCells([coords]);
        expect(state.value).not.toBeNull();
        const factor = scenario === "Plan" && m.kind !== "ratio" ? PLAN_FACTOR : 1;
        const tolerance = m.kind === "money" ? 0.01 : 1e-6;
        expect({ m: m.name, scenario, off: Math.abs(state.value! - totals[m.name] * factor) < tolerance }).toEqual({ m: m.name, scenario, off: true });
        const want = expectedValue(m, scenario, all);
        expect({ m: m.name, scenario, off: Math.abs(state.value! - want.value!) <= Math.max(want.tolerance, 1e-6) }).toEqual({ m: m.name, scenario, off: true });
      }
    }
    // The variance members over everything: Plan - Actual, and 5% (Margin %: the same ratio, 0 points).
    const v = (...members: string[]) => cube.getCells([cube.resolve(members) as Int32Array])[0].value!;
    expect(v("[Measures].[Store Sales]", "[Scenario].[Variance]")).toBeCloseTo(565238.13 * 0.05, 2);
    expect(v("[Measures].[Profit]", "[Scenario].[Variance %]")).toBeCloseTo(0.05, 12);
    expect(v("[Measures].[Margin %]", "[Scenario].[Variance]")).toBeCloseTo(0, 12);
    // The default cell is Unit Sales, 1997, Actual, all of everything else.
    const [byDefault] = cube.getCells([cube.resolve([]) as Int32Array]);
    expect(byDefault.value).toBe(266773);
    // Sales Count over all is the number of fact rows.
    const [count] = cube.getCells([cube.resolve(["[Measures].[Sales Count]"]) as Int32Array]);
    expect(count.value).toBe(rows.csv);
  });

  test("dimensions have Mondrian's levels, and each level holds exactly the dimension table's members", async () => {
    expect(cube.dims.map((d) => d.name).sort()).toEqual([...TABLE_DIMS.map((d) => d.name), "Measures", "Scenario"].sort());
    expect(cube.dims[scenarioDim].names).toEqual(["Actual", "Plan", "Variance", "Variance %"]);
    expect([...cube.dims[measuresDim].names].sort()).toEqual(MEASURES.map((m) => m.name).sort());
    for (const info of dims) {
      const dim = cube.dims[info.d];
      expect(dim.hasAll).toBe(info.spec.allName !== null);
      expect(dim.levels.slice(info.offset)).toEqual(info.spec.levels.map((l) => l.name));
      if (info.spec.allName !== null) expect(dim.names[info.all]).toBe(info.spec.allName);
      let members = info.offset;
      for (let depth = 0; depth < info.spec.levels.length; depth++) {
        const fromSql = (await sql.levelPaths(info.spec, depth)).sort();
        const fromCube = info.atDepth[depth]
          .map((id) => {
            const values: string[] = [];
            for (let m = id; m >= 0 && m !== info.all; m = dim.parent[m]) values.unshift(memberValue(info, m));
            return pathKey(values);
          })
          .sort();
        expect({ level: `${dim.name}.${info.spec.levels[depth].name}`, members: fromCube }).toEqual({
          level: `${dim.name}.${info.spec.levels[depth].name}`,
          members: fromSql,
        });
        members += fromCube.length;
      }
      expect(dim.size).toBe(members);
    }
  });

  test("member counts per level agree with SQL COUNT(DISTINCT ...)", async () => {
    const count = (dimName: string, level: string) => {
      const info = dims.find((x) => x.spec.name === dimName)!;
      const depth = info.spec.levels.findIndex((l) => l.name === level);
      return { info, depth, cube: info.atDepth[depth].length };
    };
    const checks: [string, string][] = [
      ["Store", "Store Country"],
      ["Store", "Store State"],
      ["Store", "Store City"],
      ["Store", "Store Name"],
      ["Product", "Product Department"],
      ["Product", "Product Category"],
      ["Product", "Brand Name"],
      ["Product", "Product Name"],
      ["Customers", "City"],
      ["Customers", "Name"],
      ["Time", "Month"],
      ["Promotions", "Promotion Name"],
    ];
    for (const [dimName, level] of checks) {
      const c = count(dimName, level);
      expect({ level: `${dimName}.${level}`, n: c.cube }).toEqual({ level: `${dimName}.${level}`, n: await sql.countDistinct(c.info.spec, c.depth) });
    }
    // Hand-checked against the CSVs: the names repeat under different parents and must not merge.
    expect(count("Time", "Month").cube).toBe(24);
    expect(count("Customers", "Name").cube).toBe(10281);
    const [r] = await sql.rows(
      "SELECT count(DISTINCT product_department) AS names, count(DISTINCT (product_family, product_department)) AS paths FROM product_class",
    );
    expect(Number(r.paths)).toBeGreaterThan(Number(r.names)); // Dairy, Baking Goods under two families
    const [rc] = await sql.rows("SELECT count(DISTINCT city) AS names, count(DISTINCT (country, state_province, city)) AS paths FROM customer");
    expect(Number(rc.paths)).toBeGreaterThan(Number(rc.names)); // Richmond in CA and BC
    // Product categories under their departments: the cube's children agree with SQL per department.
    const product = dims.find((x) => x.spec.name === "Product")!;
    const perDept = await sql.rows(
      `SELECT product_family, product_department, count(DISTINCT product_category) AS n
       FROM product p JOIN product_class pc ON pc.product_class_id = p.product_class_id GROUP BY ALL`,
    );
    expect(perDept.length).toBe(product.atDepth[1].length);
    for (const row of perDept) {
      const id = memberAt(product, [String(row.product_family), String(row.product_department)]);
      expect({ dept: `${row.product_family} > ${row.product_department}`, categories: id < 0 ? -1 : cube.dims[product.d].children[id].length }).toEqual({
        dept: `${row.product_family} > ${row.product_department}`,
        categories: Number(row.n),
      });
    }
  });

  test("customers are named 'fname lname', made unique within a city with the customer id", async () => {
    const info = dims.find((x) => x.spec.name === "Customers")!;
    const dim = cube.dims[info.d];
    const rows = await sql.rows(
      `SELECT customer_id, country, state_province, city, fname || ' ' || lname AS full_name,
         count(*) OVER (PARTITION BY country, state_province, city, fname || ' ' || lname) AS same
       FROM customer`,
    );
    expect(rows.length).toBe(10281);
    const failures: string[] = [];
    let renamed = 0;
    let duplicates = 0;
    for (const r of rows) {
      const id = memberAt(info, [String(r.country), String(r.state_province), String(r.city), String(r.customer_id)]);
      if (Number(r.same) > 1) duplicates++;
      if (id < 0) {
        failures.push(`customer ${r.customer_id} (${r.full_name}) has no member`);
        continue;
      }
      const name = dim.names[id];
      if (name === r.full_name) continue;
      if (Number(r.same) > 1 && name === `${r.full_name} (${r.customer_id})` && dim.captions[id] === r.full_name) renamed++;
      else failures.push(`customer ${r.customer_id}: member ${dim.uniqueName(id)}, expected the name ${r.full_name}`);
    }
    expect(failures).toEqual([]);
    // In each group of namesakes in one city, all but one are renamed.
    const groups = new Set(
      rows.filter((r) => Number(r.same) > 1).map((r) => pathKey([r.country, r.state_province, r.city, r.full_name].map(String))),
    ).size;
    expect(renamed).toBe(duplicates - groups);
  });

  test("every member of every dimension, alone, matches SQL GROUP BY per level (6 measures, Profit and Margin % included)", async () => {
    const failures: string[] = [];
    let compared = 0;
    let nonEmpty = 0;
    for (const info of dims) {
      const cells: TestCell[] = [];
      const expected: FactAggregate[] = [];
      const isTime = info.spec.allName === null;
      const empty: FactAggregate = { rows: 0, unitSales: "0", storeSales: "0", storeCost: "0" };
      for (let depth = 0; depth < info.spec.levels.length; depth++) {
        const byPath = await sql.aggregateLevel(info.spec, depth, isTime ? "TRUE" : "the_year = '1997'");
        const seen = new Set<string>();
        for (const id of info.atDepth[depth]) {
          const filters = new Map<string, string>();
          memberFilters(info, id, filters);
          const key = pathKey(info.spec.levels.slice(0, depth + 1).map((l) => filters.get(l.column)!));
          seen.add(key);
          for (const m of MEASURES) {
            cells.push(makeCell([[info.d, id]], m, "Actual", `${info.spec.name} sweep`));
            expected.push(byPath.get(key) ?? empty);
          }
        }
        // Facts on a member the cube lacks would be lost.
        for (const key of byPath.keys()) if (!seen.has(key)) failures.push(`${info.spec.name}: facts on ${key.split("\u0001").join(" > ")}, which the cube lacks`);
      }
      const res = compare(cells, expected);
      failures.push(...res.failures);
      compared += cells.length;
      nonEmpty += res.nonEmpty;
    }
    expect(report(failures)).toBe("");
    expect(compared).toBeGreaterThan(50_000);
    expect(nonEmpty).toBeGreaterThan(30_000);
  });

  test("Profit and Margin % at consolidated levels: ratios of the level's totals, not sums of the ratios below", async () => {
    const store = dims.find((x) => x.spec.name === "Store")!;
    const product = dims.find((x) => x.spec.name === "Product")!;
    const time = dims.find((x) => x.spec.name === "Time")!;
    const dim = cube.dims[store.d];
    const usa = memberAt(store, ["USA"]);
    const states = Array.from(dim.children[usa]);
    const margin = MEASURES.find((m) => m.name === "Margin %")!;
    const profit = MEASURES.find((m) => m.name === "Profit")!;
    const picks: [number, number][][] = [[[store.d, store.all]], [[store.d, usa]], ...states.map((s): [number, number][] => [[store.d, s]])];
    picks.push([[store.d, memberAt(store, ["USA", "CA", "Los Angeles"])]]);
    picks.push([[product.d, memberAt(product, ["Food"])], [time.d, memberAt(time, ["1997", "Q3"])]]);
    picks.push([[product.d, memberAt(product, ["Drink", "Beverages"])], [store.d, states[1]], [time.d, memberAt(time, ["1997", "Q1", "2"])]]);
    const cells = picks.flatMap((p) =>
      [margin, profit].flatMap((m) => (["Actual", "Plan", "Variance", "Variance %"] as const).map((sc) => makeCell(p, m, sc, "levels"))),
    );
    const expected = await sql.aggregateCells(cells);
    const res = compare(cells, expected);
    expect(report(res.failures)).toBe("");
    expect(res.nonEmpty).toBe(cells.length);
    // USA's margin is USA profit / USA sales: neither the sum nor the mean of the states' margins.
    const [usaMargin, ...stateMargins] = cube.getCells([usa, ...states].map((m) => makeCell([[store.d, m]], margin, "Actual", "levels").coords)).map((c) => c.value!);
    const sum = stateMargins.reduce((a, b) => a + b, 0);
    expect(Math.abs(usaMargin - sum)).toBeGreaterThan(0.5);
    expect(Math.abs(usaMargin - sum / stateMargins.length)).toBeGreaterThan(1e-6);
  });

  test(`${SHAPES * CELLS_PER_SHAPE} random cells across dimensions and levels match SQL`, async () => {
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const factCount = (await sql.factRowCounts()).csv;
    const rns = Array.from({ length: SHAPES * CELLS_PER_SHAPE }, () => 1 + Math.floor(rnd() * factCount));
    const facts = await sql.factRows(rns);
    const cells: TestCell[] = [];
    const levelsUsed = new Set<string>();
    for (let s = 0; s < SHAPES; s++) {
      // A shape: some dimensions, each at one level (-1: the All member).
      const shape: [DimInfo, number][] = [];
      for (const info of dims) {
        if (rnd() >= (info.spec.allName === null ? 0.5 : 0.4)) continue;
        const lowest = info.spec.allName === null ? 0 : -1;
        shape.push([info, lowest + Math.floor(rnd() * (info.spec.levels.length - lowest))]);
      }
      for (let i = 0; i < shape.length; i++) {
        const j = i + Math.floor(rnd() * (shape.length - i));
        [shape[i], shape[j]] = [shape[j], shape[i]];
      }
      for (let k = 0; k < CELLS_PER_SHAPE; k++) {
        // Anchored on a fact row (mostly non-empty), or uniform per level (mostly empty).
        const rn = rns[s * CELLS_PER_SHAPE + k];
        const fact = rnd() < 0.65 ? facts.get(rn) : undefined;
        const picks: [number, number][] = [];
        for (const [info, depth] of shape) {
          let id: number;
          if (depth < 0) id = info.all;
          else if (fact && rnd() < 0.9) {
            id = memberAt(
              info,
              info.spec.levels.slice(0, depth + 1).map((l) => fact[l.column]),
            );
            if (id < 0) throw new Error(`fact row ${rn}: the cube has no ${info.spec.name} member for ${JSON.stringify(fact)}`);
          } else id = pick(info.atDepth[depth]);
          levelsUsed.add(`${info.spec.name}:${depth}`);
          picks.push([info.d, id]);
        }
        const origin = `shape ${s}, ${fact ? `fact row ${rn}` : "uniform"}`;
        const r = rnd();
        const scenario: ScenarioName = r < 0.2 ? "Plan" : r < 0.25 ? "Variance" : r < 0.3 ? "Variance %" : "Actual";
        cells.push(makeCell(picks, pick(MEASURES), scenario, origin, rnd));
      }
    }
    const expected = await sql.aggregateCells(cells);
    const res = compare(cells, expected);
    expect(report(res.failures)).toBe("");
    // The sample reaches every level of every dimension, with both empty and non-empty cells.
    for (const info of dims) {
      for (let depth = 0; depth < info.spec.levels.length; depth++) expect(levelsUsed).toContain(`${info.spec.name}:${depth}`);
    }
    expect(res.nonEmpty).toBeGreaterThan(cells.length * 0.4);
    expect(cells.length - res.nonEmpty).toBeGreaterThan(cells.length * 0.15);
  });

  test("members without data have empty cells, and SQL agrees they have no facts", async () => {
    const store = dims.find((x) => x.spec.name === "Store")!;
    const product = dims.find((x) => x.spec.name === "Product")!;
    const customers = dims.find((x) => x.spec.name === "Customers")!;
    const time = dims.find((x) => x.spec.name === "Time")!;
    const storeType = dims.find((x) => x.spec.name === "Store Type")!;
    const picks: [number, number][][] = [];
    // 1998 and its quarters and months.
    const y1998 = memberAt(time, ["1998"]);
    expect(y1998).toBeGreaterThanOrEqual(0);
    picks.push([[time.d, y1998]]);
    for (const q of cube.dims[time.d].children[y1998]) {
      picks.push([[time.d, q]]);
      for (const m of cube.dims[time.d].children[q]) picks.push([[time.d, m]]);
    }
    // The headquarters, by store and by store type.
    picks.push([[store.d, memberAt(store, ["USA", "CA", "Alameda", "HQ"])]]);
    picks.push([[storeType.d, memberAt(storeType, ["HeadQuarters"])]]);
    // Stores, products and customers without 1997 sales, as SQL finds them.
    const unsold = async (spec: DimSpec, from: string, key: string, limit: number) => {
      const cols = spec.levels.map((l) => l.column);
      const rows = await sql.rows(
        `SELECT ${cols.join(", ")} FROM ${from}
         WHERE ${key}::INTEGER NOT IN (SELECT ${key.replace(/^\w+\./, "")} FROM sales_fact_1997) ORDER BY ${key}::INTEGER LIMIT ${limit}`,
      );
      expect(rows.length).toBeGreaterThan(0);
      return rows.map((r) => cols.map((c) => String(r[c])));
    };
    for (const p of await unsold(store.spec, "store", "store_id", 10)) picks.push([[store.d, memberAt(store, p)]]);
    const products = "product p JOIN product_class pc ON pc.product_class_id = p.product_class_id";
    for (const p of await unsold(product.spec, products, "p.product_id", 5)) picks.push([[product.d, memberAt(product, p)]]);
    for (const p of await unsold(customers.spec, "customer", "customer_id", 10)) picks.push([[customers.d, memberAt(customers, p)]]);
    // A customer with sales, at a store where that customer never bought.
    const [buyer] = await sql.rows(
      "SELECT country, state_province, city, customer_id FROM f ORDER BY rn LIMIT 1",
    );
    const [other] = await sql.rows(
      `SELECT store_country, store_state, store_city, store_name FROM store
       WHERE store_name NOT IN (SELECT store_name FROM f WHERE customer_id = ${sqlString(String(buyer.customer_id))}) AND store_id <> '0'
       ORDER BY store_id::INTEGER LIMIT 1`,
    );
    picks.push([
      [customers.d, memberAt(customers, [String(buyer.country), String(buyer.state_province), String(buyer.city), String(buyer.customer_id)])],
      [store.d, memberAt(store, [String(other.store_country), String(other.store_state), String(other.store_city), String(other.store_name)])],
    ]);
    for (const p of picks) for (const [d, id] of p) expect({ dim: cube.dims[d].name, id: id >= 0 }).toEqual({ dim: cube.dims[d].name, id: true });

    const cells = picks.flatMap((p) =>
      MEASURES.flatMap((m) => (["Actual", "Plan", "Variance", "Variance %"] as const).map((s) => makeCell(p, m, s, "no data"))),
    );
    const expected = await sql.aggregateCells(cells);
    expect(cells.filter((_, i) => expected[i].rows > 0).map(cellLabel)).toEqual([]);
    const res = compare(cells, expected);
    expect(report(res.failures)).toBe("");
    expect(res.nonEmpty).toBe(0);
    expect(cells.length).toBeGreaterThan(200);
  });
});
