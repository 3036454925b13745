/**
 * ExplainCell on FoodMart against an independent GROUP BY over the raw CSVs in DuckDB
 * (test/helpers/foodmart-sql.ts, which shares no code with the loader): for 50 random cells (random
 * members of Store, Product, Time and Customers at random levels, Unit Sales or Store Sales), every
 * dimension's listed contributors are the largest children of the oracle's GROUP BY of the next
 * level under the cell's other members, with equal values, their shares of the cell, and the sum of
 * the rest. Also a calculated cell's operands, and the errors.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Backend, DomainError } from "../backend/src/domain";
import { Cube } from "../backend/src/lattice";
import { loadModel } from "../backend/src/loader";
import { openStore } from "../backend/src/store";
import { mulberry32 as prng } from "../bench/rng";
import { FOODMART_DIR, FoodMartSql, NULL_NAME, pathKey, sqlString, TABLE_DIMS } from "./helpers/foodmart-sql";

const MODEL = path.join(FOODMART_DIR, "model.yaml");
const CELLS = 50;
const TOP = 50;
const VARIED = ["Store", "Product", "Time", "Customers"];

let cube: Cube;
let backend: Backend;
let sql: FoodMartSql;
let dataDir: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const [loaded, db] = await Promise.all([loadModel(MODEL), FoodMartSql.open()]);
  sql = db;
  cube = new Cube(loaded.def, loaded.cells);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-explain-"));
  const store = await openStore({ dataDir });
  close = () => store.close();
  backend = new Backend(store);
  backend.addCube({ id: 1, cube, loadedAt: Date.now() });
}, 120_000);

afterAll(async () => {
  sql?.close();
  await close?.();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const dimOf = (name: string) => cube.dims.findIndex((d) => d.name === name);

/** A member's path of names below the All member (the top member too where there is no All level). */
function pathOf(d: number, id: number): string[] {
  const dim = cube.dims[d];
  const out: string[] = [];
  for (let m = id; m >= 0; m = dim.parent[m]) if (!(dim.hasAll && dim.parent[m] < 0)) out.unshift(dim.names[m]);
  return out;
}

/** The oracle's WHERE for the cell's members of the table dimensions. */
function whereOf(coords: Int32Array): string {
  const parts: string[] = [];
  for (const s of TABLE_DIMS) {
    const d = dimOf(s.name);
    pathOf(d, coords[d]).forEach((name, k) => {
      const level = s.levels[k];
      parts.push(name === NULL_NAME ? `${level.column} IS NULL` : `${level.column} = ${sqlString(name)}`);
    });
  }
  return parts.length > 0 ? parts.join(" AND ") : "TRUE";
}

/** A random member of `d` at a random depth (leaves included). */
function randomMember(d: number, rnd: () => number): number {
  const dim = cube.dims[d];
  let m = dim.roots[Math.floor(rnd() * dim.roots.length)];
  while (dim.children[m].length > 0 && rnd() < 0.6) m = dim.children[m][Math.floor(rnd() * dim.children[m].length)];
  return m;
}

test("contributors of 50 random FoodMart cells equal a GROUP BY over the CSVs", async () => {
  const rnd = prng(0x0e_c1a1);
  const failures: string[] = [];
  let compared = 0;
  for (let i = 0; i < CELLS; i++) {
    const measure = rnd() < 0.5 ? "Unit Sales" : "Store Sales";
    const members = VARIED.map((name) => cube.dims[dimOf(name)].uniqueName(randomMember(dimOf(name), rnd)));
    members.push(`[Measures].[${measure}]`, "[Scenario].[Actual]");
    const e = await backend.explainCell("Sales", members, TOP, "analyst");
    const coords = cube.resolve(e.members) as Int32Array;
    const label = e.members.join(", ");
    const total = "state" in e.cell ? e.cell.state.value : null;
    const tolerance = measure === "Store Sales" ? 0.005 : 0;
    for (const dc of e.dimensions) {
      const s = TABLE_DIMS.find((x) => x.name === dc.dimension);
      if (!s) continue;
      const d = dimOf(s.name);
      const depth = pathOf(d, coords[d]).length;
      if (s.levels[depth]?.keyed) continue; // customers by key: the oracle names them by id
      const oracle = await sql.aggregateLevel(s, depth, whereOf(coords));
      const oracleValue = (names: string[]) => {
        const agg = oracle.get(pathKey(names));
        if (!agg || agg.rows === 0) return null;
        return Number(measure === "Unit Sales" ? agg.unitSales : agg.storeSales);
      };
      const expected = [...oracle.keys()].map((k) => oracleValue(k.split("\u0001"))!).filter((v) => v !== null);
      expected.sort((a, b) => Math.abs(b) - Math.abs(a));
      for (const c of dc.contributors) {
        const id = cube.resolve([c.member, ...e.members.filter((m) => !m.startsWith(`[${s.name}]`))]) as Int32Array;
        const want = oracleValue(pathOf(d, id[d]));
        const ok = want === null ? c.value === null : c.value !== null && Math.abs(c.value - want) <= tolerance;
        if (!ok) failures.push(`${label}: ${c.member} is ${c.value}, SQL ${want}`);
        const share = total ? (c.value ?? 0) / total : 0;
        if (Math.abs(c.share - share) > 1e-12) failures.push(`${label}: ${c.member} share ${c.share}, expected ${share}`);
        compared++;
      }
      // The listed ones are the largest; the rest adds up to `others`.
      const listedValues = dc.contributors.filter((c) => c.value !== null).map((c) => c.value!);
      const largest = expected.slice(0, listedValues.length);
      largest.forEach((v, k) => {
        if (Math.abs(Math.abs(v) - Math.abs(listedValues[k])) > tolerance) failures.push(`${label}: ${dc.dimension} contributor ${k} is ${listedValues[k]}, SQL's ${k}th largest ${v}`);
      });
      const rest = expected.slice(listedValues.length).reduce((a, b) => a + b, 0);
      if (Math.abs((dc.others ?? 0) - rest) > Math.max(tolerance, 1e-6) * Math.max(1, expected.length)) failures.push(`${label}: ${dc.dimension} others ${dc.others}, SQL ${rest}`);
    }
  }
  expect(failures.slice(0, 20)).toEqual([]);
  expect(compared).toBeGreaterThan(CELLS);
}, 300_000);

test("a calculated cell's formula and operands; errors name what is wrong", async () => {
  const e = await backend.explainCell("Sales", ["[Measures].[Margin %]", "[Store].[USA].[CA]"], 3, "analyst");
  expect(e.formula).toContain("[Measures].[Profit]");
  const byName = new Map(e.operands.map((o) => [o.members.find((m) => m.startsWith("[Measures]")), o]));
  const cells = cube.getCells(
    ["[Measures].[Profit]", "[Measures].[Store Sales]"].map((m) => cube.resolve([m, "[Store].[USA].[CA]"]) as Int32Array),
  );
  expect(byName.get("[Measures].[Profit]")).toMatchObject({ value: cells[0].value, calculated: true, hidden: false });
  expect(byName.get("[Measures].[Store Sales]")).toMatchObject({ value: cells[1].value, calculated: false });
  // Margin % on Measures is calculated: no contributors listed for Measures; Store's children are CA's cities.
  expect(e.dimensions.find((d) => d.dimension === "Measures")).toBeUndefined();
  expect(e.dimensions.find((d) => d.dimension === "Store")?.contributors.length).toBe(3);

  await expect(backend.explainCell("Sales", ["[Store].[Atlantis]"], 5, "analyst")).rejects.toThrow(DomainError);
  await expect(backend.explainCell("Sales", ["[Store].[USA]"], 51, "analyst")).rejects.toThrow(/top_n must be from 1 to 50/);
});
