/**
 * The real FoodMart model (data/foodmart/model.yaml), checked against an independent computation
 * over the same CSV files with DuckDB SQL: member counts per dimension, leaf cell count, and exact
 * totals per measure.
 */
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { CubeDef, LeafCells } from "../lattice";
import { findMember, loadModel, memberUniqueName } from ".";

const dataDir = path.resolve(__dirname, "..", "..", "..", "data", "foodmart");
const TABLES = ["sales_fact_1997", "time_by_day", "store", "product", "product_class", "customer", "promotion"];

let def: CubeDef;
let cells: LeafCells;
let loadSeconds: number;
const sql = new Map<string, string>();

/** Runs the independent SQL computations; every value comes back as text. */
async function computeWithDuckDb(): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const db = await instance.connect();
  try {
    for (const t of TABLES) {
      const file = path.join(dataDir, `${t}.csv`).replaceAll("'", "''");
      await db.run(`CREATE TABLE ${t} AS SELECT * FROM read_csv('${file}', header = true, all_varchar = true)`);
    }
    const queries: Record<string, string> = {
      // (All) + one member per distinct path at each level.
      Store: `SELECT 1 + count(DISTINCT store_country) + count(DISTINCT (store_country, store_state))
          + count(DISTINCT (store_country, store_state, store_city))
          + count(DISTINCT (store_country, store_state, store_city, store_name)) FROM store`,
      "Store Type": "SELECT 1 + count(DISTINCT store_type) FROM store",
      Time: `SELECT count(DISTINCT the_year) + count(DISTINCT (the_year, quarter))
          + count(DISTINCT (the_year, quarter, month_of_year)) FROM time_by_day`,
      // Inner join: product classes without products are not members.
      Product: `SELECT 1 + count(DISTINCT product_family) + count(DISTINCT (product_family, product_department))
          + count(DISTINCT (product_family, product_department, product_category))
          + count(DISTINCT (product_family, product_department, product_category, product_subcategory))
          + count(DISTINCT (product_family, product_department, product_category, product_subcategory, brand_name))
          + count(DISTINCT (product_family, product_department, product_category, product_subcategory, brand_name, product_name))
          FROM product JOIN product_class USING (product_class_id)`,
      "Promotion Media": "SELECT 1 + count(DISTINCT media_type) FROM promotion",
      Promotions: "SELECT 1 + count(DISTINCT promotion_name) FROM promotion",
      Customers: `SELECT 1 + count(DISTINCT country) + count(DISTINCT (country, state_province))
          + count(DISTINCT (country, state_province, city)) + count(DISTINCT customer_id) FROM customer`,
      "Education Level": "SELECT 1 + count(DISTINCT education) FROM customer",
      Gender: "SELECT 1 + count(DISTINCT gender) FROM customer",
      "Marital Status": "SELECT 1 + count(DISTINCT marital_status) FROM customer",
      "Yearly Income": "SELECT 1 + count(DISTINCT yearly_income) FROM customer",
      // Distinct combinations of leaf members that have facts.
      cells: `SELECT count(*) FROM (SELECT DISTINCT s.store_id, s.store_type, t.the_year, t.quarter, t.month_of_year,
            f.product_id, pr.media_type, pr.promotion_name, f.customer_id
          FROM sales_fact_1997 f JOIN store s USING (store_id) JOIN time_by_day t USING (time_id)
          JOIN promotion pr USING (promotion_id))`,
      "Unit Sales": "SELECT sum(CAST(unit_sales AS DECIMAL(18, 4))) FROM sales_fact_1997",
      "Store Cost": "SELECT sum(CAST(store_cost AS DECIMAL(18, 4))) FROM sales_fact_1997",
      "Store Sales": "SELECT sum(CAST(store_sales AS DECIMAL(18, 4))) FROM sales_fact_1997",
      "Sales Count": "SELECT count(product_id) FROM sales_fact_1997",
      "CA Unit Sales": `SELECT sum(CAST(unit_sales AS DECIMAL(18, 4))) FROM sales_fact_1997 JOIN store USING (store_id)
          WHERE store_country = 'USA' AND store_state = 'CA'`,
      "Beverages Store Sales": `SELECT sum(CAST(store_sales AS DECIMAL(18, 4))) FROM sales_fact_1997
          JOIN product USING (product_id) JOIN product_class USING (product_class_id)
          WHERE product_family = 'Drink' AND product_department = 'Beverages'`,
      "Q1 Store Cost": `SELECT sum(CAST(store_cost AS DECIMAL(18, 4))) FROM sales_fact_1997 JOIN time_by_day USING (time_id)
          WHERE the_year = '1997' AND quarter = 'Q1'`,
    };
    for (const [name, query] of Object.entries(queries)) {
      const reader = await db.runAndReadAll(query);
      sql.set(name, String(reader.getRows()[0][0]));
    }
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  await computeWithDuckDb();
  const t0 = performance.now();
  ({ def, cells } = await loadModel(path.join(dataDir, "model.yaml")));
  loadSeconds = (performance.now() - t0) / 1000;
});

const dimIndex = (name: string) => def.dimensions.findIndex((d) => d.name === name);
const dim = (name: string) => def.dimensions[dimIndex(name)];

/** A decimal string ("565238.1300") as an integer scaled by 10^4. */
const scaled = (text: string) => {
  const negative = text.startsWith("-");
  const [i, f = ""] = text.replace(/^-/, "").split(".");
  const v = Number(i) * 10000 + Number(f.padEnd(4, "0").slice(0, 4));
  return negative ? -v : v;
};

/**
 * Exact sum (scaled by 10^4) of the Actual leaf cells of a measure below a member: every leaf value
 * is rounded back to its 4-decimal integer, which must be within float64 noise of the value.
 */
function exactTotal(measure: string, filter?: { dimension: string; member: string }): number {
  const m = findMember(dim("Measures"), `[Measures].[${measure}]`);
  const measures = cells.coords[dimIndex("Measures")];
  const scenario = cells.coords[dimIndex("Scenario")];
  const actual = findMember(dim("Scenario"), "[Scenario].[Actual]");
  let below: Uint8Array | undefined;
  let column: Int32Array | undefined;
  if (filter) {
    const d = dim(filter.dimension);
    const top = findMember(d, filter.member);
    expect(top).toBeGreaterThanOrEqual(0);
    below = new Uint8Array(d.members.length);
    below[top] = 1;
    d.members.forEach((x, i) => {
      if (x.parent !== -1 && below![x.parent]) below![i] = 1;
    });
    column = cells.coords[dimIndex(filter.dimension)];
  }
  let total = 0;
  for (let r = 0; r < cells.count; r++) {
    if (measures[r] !== m || scenario[r] !== actual) continue;
    if (below && !below[column![r]]) continue;
    const v = cells.values[r] * 10000;
    const n = Math.round(v);
    if (Math.abs(v - n) > 1e-6) throw new Error(`leaf value ${cells.values[r]} is not a 4-decimal number`);
    total += n;
  }
  return total;
}

test("loads in a few seconds", () => {
  expect(loadSeconds).toBeLessThan(15);
});

test("dimensions in Mondrian's Sales cube order, with Scenario and Measures", () => {
  expect(def.name).toBe("Sales");
  expect(def.dimensions.map((d) => d.name)).toEqual([
    "Store",
    "Store Type",
    "Time",
    "Product",
    "Promotion Media",
    "Promotions",
    "Customers",
    "Education Level",
    "Gender",
    "Marital Status",
    "Yearly Income",
    "Scenario",
    "Measures",
  ]);
});

test("member counts per dimension match an independent count over the CSVs", () => {
  for (const d of def.dimensions) {
    if (d.name === "Scenario") expect(d.members.length).toBe(4);
    else if (d.name === "Measures") expect(d.members.length).toBe(6);
    else expect({ [d.name]: d.members.length }).toEqual({ [d.name]: Number(sql.get(d.name)) });
  }
  // Recorded for the report: Store 63, Store Type 7, Time 34, Product 2256, Promotion Media 15,
  // Promotions 52, Customers 10407, Education Level 6, Gender 3, Marital Status 3, Yearly Income 9.
  expect(dim("Product").members.length).toBe(2256);
  expect(dim("Customers").members.length).toBe(10407);
});

test("All members, levels and default members as in FoodMart.xml", () => {
  const all = Object.fromEntries(def.dimensions.filter((d) => d.hasAll).map((d) => [d.name, d.members[0].name]));
  expect(all).toEqual({
    Store: "All Stores",
    "Store Type": "All Store Types",
    Product: "All Products",
    "Promotion Media": "All Media",
    Promotions: "All Promotions",
    Customers: "All Customers",
    "Education Level": "All Education Levels",
    Gender: "All Gender",
    "Marital Status": "All Marital Status",
    "Yearly Income": "All Yearly Incomes",
  });
  expect(dim("Time")).toMatchObject({ hasAll: false, levels: ["Year", "Quarter", "Month"], defaultMember: "[Time].[1997]" });
  expect(dim("Scenario")).toMatchObject({ hasAll: false, defaultMember: "[Scenario].[Actual]" });
  expect(dim("Measures")).toMatchObject({ hasAll: false, defaultMember: "[Measures].[Unit Sales]" });
  expect(dim("Measures").members.map((m) => m.name)).toEqual(["Unit Sales", "Store Cost", "Store Sales", "Sales Count", "Profit", "Margin %"]);
  expect(dim("Scenario").members.map((m) => m.name)).toEqual(["Actual", "Plan", "Variance", "Variance %"]);
  expect(def.formulas).toEqual([
    { member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]", solveOrder: 1 },
    { member: "[Scenario].[Variance %]", expression: "([Scenario].[Plan] - [Scenario].[Actual]) / [Scenario].[Actual]", solveOrder: 1 },
    { member: "[Measures].[Profit]", expression: "[Measures].[Store Sales] - [Measures].[Store Cost]" },
    { member: "[Measures].[Margin %]", expression: "[Measures].[Profit] / [Measures].[Store Sales]" },
  ]);
  expect(dim("Product").levels).toEqual([
    "(All)",
    "Product Family",
    "Product Department",
    "Product Category",
    "Product Subcategory",
    "Brand Name",
    "Product Name",
  ]);
  expect(dim("Customers").levels).toEqual(["(All)", "Country", "State Province", "City", "Name"]);
});

test("unique-name paths exist", () => {
  for (const name of [
    "[Store].[USA].[CA]",
    "[Store].[USA].[CA].[Alameda].[HQ]",
    "[Product].[Drink].[Beverages]",
    "[Product].[Food].[Dairy]",
    "[Product].[Drink].[Dairy]",
    "[Customers].[USA].[WA].[Seattle]",
    "[Customers].[USA].[CA].[Richmond]",
    "[Customers].[Canada].[BC].[Richmond]",
    "[Gender].[F]",
    "[Promotion Media].[Radio]",
    "[Promotion Media].[No Media]",
    "[Time].[1997].[Q1].[1]",
    "[Time].[1998].[Q4].[12]",
  ]) {
    const d = dim(parseDimension(name));
    const i = findMember(d, name);
    expect({ name, found: i >= 0 }).toEqual({ name, found: true });
    expect(memberUniqueName(d, i)).toBe(name);
  }
  // Childless snowflake members are hidden (Mondrian's default).
  expect(findMember(dim("Product"), "[Product].[Drink].[Baking Goods]")).toBe(-1);
  expect(findMember(dim("Product"), "[Product].[Food].[Packaged Foods]")).toBe(-1);
  // Customers' Name level: full name, key customer_id (no same-city duplicates in FoodMart).
  const customers = dim("Customers");
  const sheri = customers.members.find((m) => m.key === "1")!;
  expect(sheri.name).toBe("Sheri Nowmer");
  expect(customers.members.some((m) => m.caption !== undefined)).toBe(false);
  // Sibling names are unique everywhere.
  for (const d of def.dimensions) {
    const seen = new Set<string>();
    for (const m of d.members) {
      const key = `${m.parent}\u0000${m.name}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  }
});

function parseDimension(uniqueName: string): string {
  return uniqueName.slice(1, uniqueName.indexOf("]"));
}

test("leaf cells: count, Actual totals to the cent, Plan = Actual x 1.05, nothing at formula members", () => {
  // 4 stored measures (no empty values in FoodMart) x 2 stored scenarios per distinct leaf combination.
  expect(Number(sql.get("cells"))).toBe(86805);
  expect(cells.count).toBe(Number(sql.get("cells")) * 4 * 2);

  expect(sql.get("Unit Sales")).toBe("266773.0000");
  expect(sql.get("Store Sales")).toBe("565238.1300");
  expect(sql.get("Store Cost")).toBe("225627.2336");
  expect(sql.get("Sales Count")).toBe("86837");
  for (const measure of ["Unit Sales", "Store Sales", "Store Cost"]) {
    expect({ measure, total: exactTotal(measure) }).toEqual({ measure, total: scaled(sql.get(measure)!) });
  }
  expect(exactTotal("Sales Count")).toBe(Number(sql.get("Sales Count")) * 10000);
  expect(Math.round(exactTotal("Store Cost") / 100) / 100).toBe(225627.23);

  expect(exactTotal("Unit Sales", { dimension: "Store", member: "[Store].[USA].[CA]" })).toBe(scaled(sql.get("CA Unit Sales")!));
  expect(exactTotal("Store Sales", { dimension: "Product", member: "[Product].[Drink].[Beverages]" })).toBe(
    scaled(sql.get("Beverages Store Sales")!),
  );
  expect(exactTotal("Store Cost", { dimension: "Time", member: "[Time].[1997].[Q1]" })).toBe(scaled(sql.get("Q1 Store Cost")!));

  const s = dimIndex("Scenario");
  const actual = new Map<string, number>();
  const plan = new Map<string, number>();
  for (let r = 0; r < cells.count; r++) {
    const key = cells.coords.filter((_, d) => d !== s).map((c) => c[r]).join(",");
    (cells.coords[s][r] === 0 ? actual : plan).set(key, cells.values[r]);
  }
  expect(actual.size).toBe(cells.count / 2);
  expect(plan.size).toBe(actual.size);
  // Plan is seeded at Actual x 1.05, exactly: the 4-decimal Actual value times 105, over 10^6.
  for (const [key, value] of actual) {
    const want = (Math.round(value * 10000) * 105) / 1e6;
    if (plan.get(key) !== want) throw new Error(`Plan at ${key} is ${plan.get(key)}, not ${value} x 1.05 = ${want}`);
  }
  // No leaf cell at a formula member (Profit, Margin %, Variance, Variance %).
  const formulaMembers = new Set(def.formulas!.map((f) => f.member));
  const scenarioDef = dim("Scenario");
  const measuresDef = dim("Measures");
  const m = dimIndex("Measures");
  for (let r = 0; r < cells.count; r++) {
    if (formulaMembers.has(memberUniqueName(scenarioDef, cells.coords[s][r])) || formulaMembers.has(memberUniqueName(measuresDef, cells.coords[m][r]))) {
      throw new Error(`leaf row ${r} is at a formula member`);
    }
  }
});
