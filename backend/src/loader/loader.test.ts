import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { CubeDef, LeafCells } from "../lattice";
import type { Store } from "../store/types";
import {
  findMember,
  LoadError,
  loadModel,
  loadModelIntoStore,
  memberUniqueName,
  parseExpression,
  parseScaled,
  parseUniqueName,
} from ".";

const fixtures = path.join(__dirname, "fixtures");
const shop = path.join(fixtures, "shop", "model.yaml");
const bad = (name: string) => path.join(fixtures, "bad", name);

/** Value of the leaf cell with the given member unique names (one per dimension), or undefined. */
function cellValue(def: CubeDef, cells: LeafCells, names: string[]): number | undefined {
  const want = def.dimensions.map((d, i) => {
    const m = findMember(d, names[i]);
    if (m === -1) throw new Error(`no member ${names[i]}`);
    return m;
  });
  for (let r = 0; r < cells.count; r++) {
    if (want.every((m, d) => cells.coords[d][r] === m)) return cells.values[r];
  }
  return undefined;
}

describe("loadModel on the shop fixture", () => {
  let def: CubeDef;
  let cells: LeafCells;
  const phases = new Set<string>();
  beforeAll(async () => {
    ({ def, cells } = await loadModel(shop, { onProgress: (p) => phases.add(p) }));
  });
  const dim = (name: string) => def.dimensions.find((d) => d.name === name)!;
  const names = (name: string) => dim(name).members.map((_, i) => memberUniqueName(dim(name), i));

  test("cube and dimension order", () => {
    expect(def.name).toBe("Shop");
    expect(def.description).toBe("Fixture cube for the loader tests");
    expect(def.dimensions.map((d) => d.name)).toEqual(["Product", "Time", "Customers", "Gender", "Scenario", "Measures"]);
    expect([...phases]).toEqual(["read", "aggregate", "build"]);
  });

  test("snowflake dimension: path identity, no childless snowflake members, parents first", () => {
    const product = dim("Product");
    expect(product.levels).toEqual(["(All)", "Family", "Category", "Brand", "Product Name"]);
    expect(product.hasAll).toBe(true);
    expect(product.defaultMember).toBeUndefined();
    expect(names("Product")).toEqual([
      "[Product].[All Products]",
      "[Product].[Drink]",
      "[Product].[Drink].[Juice]",
      "[Product].[Drink].[Juice].[Acme]",
      "[Product].[Drink].[Juice].[Acme].[Orange Juice]",
      "[Product].[Drink].[Juice].[Zed]",
      "[Product].[Drink].[Juice].[Zed].[Apple Juice]",
      "[Product].[Food]",
      "[Product].[Food].[Fruit]",
      "[Product].[Food].[Fruit].[Acme]",
      "[Product].[Food].[Fruit].[Acme].[Apple]",
      "[Product].[Food].[Fruit].[Acme].[Pear]",
      "[Product].[Food].[Juice]",
      "[Product].[Food].[Juice].[Acme]",
      "[Product].[Food].[Juice].[Acme].[Juice Jelly]",
    ]);
    product.members.forEach((m, i) => {
      expect(m.parent).toBeLessThan(i);
      expect(m.level).toBe(m.parent === -1 ? 0 : product.members[m.parent].level + 1);
    });
    // Class 4 (Drink > Coffee) has no products: hidden, as Mondrian hides childless snowflake members.
    expect(names("Product")).not.toContain("[Product].[Drink].[Coffee]");
  });

  test("time: no All level, months as leaves, years without facts kept", () => {
    const time = dim("Time");
    expect(time.hasAll).toBe(false);
    expect(time.levels).toEqual(["Year", "Quarter", "Month"]);
    expect(time.defaultMember).toBe("[Time].[2024]");
    expect(names("Time")).toEqual([
      "[Time].[2024]",
      "[Time].[2024].[Q1]",
      "[Time].[2024].[Q1].[1]",
      "[Time].[2024].[Q1].[2]",
      "[Time].[2024].[Q4]",
      "[Time].[2024].[Q4].[10]",
      "[Time].[2025]",
      "[Time].[2025].[Q1]",
      "[Time].[2025].[Q1].[1]",
    ]);
  });

  test("customers: same city name under two countries, duplicate full names disambiguated by key", () => {
    const customers = dim("Customers");
    expect(customers.members[0].name).toBe("All Customers");
    expect(names("Customers")).toEqual([
      "[Customers].[All Customers]",
      "[Customers].[Canada]",
      "[Customers].[Canada].[Richmond]",
      "[Customers].[Canada].[Richmond].[Bob Ray]",
      "[Customers].[USA]",
      "[Customers].[USA].[Boston]",
      "[Customers].[USA].[Boston].[Cy, Jr. Doe]",
      "[Customers].[USA].[Richmond]",
      "[Customers].[USA].[Richmond].[Ann Lee]",
      "[Customers].[USA].[Richmond].[Ann Lee (3)]",
    ]);
    const ann = customers.members[findMember(customers, "[Customers].[USA].[Richmond].[Ann Lee]")];
    expect(ann).toEqual({ name: "Ann Lee", parent: 7, level: 3, key: "1" });
    const ann3 = customers.members[findMember(customers, "[Customers].[USA].[Richmond].[Ann Lee (3)]")];
    expect(ann3).toEqual({ name: "Ann Lee (3)", caption: "Ann Lee", parent: 7, level: 3, key: "3" });
  });

  test("attribute, static and measures dimensions", () => {
    expect(names("Gender")).toEqual(["[Gender].[All Gender]", "[Gender].[F]", "[Gender].[M]"]);
    const scenario = dim("Scenario");
    expect(scenario.hasAll).toBe(false);
    expect(scenario.defaultMember).toBe("[Scenario].[Actual]");
    expect(names("Scenario")).toEqual(["[Scenario].[Actual]", "[Scenario].[Plan]"]);
    const measures = dim("Measures");
    expect(measures.hasAll).toBe(false);
    expect(measures.defaultMember).toBe("[Measures].[Amount]");
    expect(names("Measures")).toEqual(["[Measures].[Amount]", "[Measures].[Quantity]", "[Measures].[Count]"]);
  });

  test("columnar leaf cells on leaf members, unique by coordinates", () => {
    expect(cells.coords).toHaveLength(def.dimensions.length);
    for (const c of cells.coords) {
      expect(c).toBeInstanceOf(Int32Array);
      expect(c.length).toBe(cells.count);
    }
    expect(cells.values).toBeInstanceOf(Float64Array);
    // 6 cells x (Amount on 5 of them + Quantity + Count) x (Actual, Plan).
    expect(cells.count).toBe(34);
    const keys = new Set<string>();
    for (let r = 0; r < cells.count; r++) {
      const coords = cells.coords.map((c) => c[r]);
      coords.forEach((m, d) => {
        expect(def.dimensions[d].members.some((x) => x.parent === m)).toBe(false);
      });
      keys.add(coords.join(","));
    }
    expect(keys.size).toBe(cells.count);
  });

  test("duplicate fact keys and days of one month are summed, exactly to the cent", () => {
    const at = (product: string, month: string, customer: string, gender: string, measure: string, scenario = "Actual") =>
      cellValue(def, cells, [product, month, customer, gender, `[Scenario].[${scenario}]`, `[Measures].[${measure}]`]);
    const apple = ["[Product].[Food].[Fruit].[Acme].[Apple]", "[Time].[2024].[Q1].[1]", "[Customers].[USA].[Richmond].[Ann Lee]", "[Gender].[F]"] as const;
    // 0.1 + 0.2 + 0.1 in float64 is 0.4000000000000001.
    expect(at(...apple, "Amount")).toBe(0.4);
    expect(at(...apple, "Quantity")).toBe(4);
    expect(at(...apple, "Count")).toBe(3);
    // Ten times 0.1 in float64 is 0.9999999999999999.
    const pear = ["[Product].[Food].[Fruit].[Acme].[Pear]", "[Time].[2024].[Q1].[1]", "[Customers].[Canada].[Richmond].[Bob Ray]", "[Gender].[M]"] as const;
    expect(at(...pear, "Amount")).toBe(1);
    expect(at(...pear, "Count")).toBe(10);
    expect(at("[Product].[Food].[Juice].[Acme].[Juice Jelly]", "[Time].[2024].[Q1].[2]", "[Customers].[USA].[Richmond].[Ann Lee (3)]", "[Gender].[F]", "Amount")).toBe(2.25);
    // An empty measure value makes no cell for that measure; the row still counts.
    const empty = ["[Product].[Drink].[Juice].[Zed].[Apple Juice]", "[Time].[2024].[Q4].[10]", "[Customers].[USA].[Boston].[Cy, Jr. Doe]", "[Gender].[M]"] as const;
    expect(at(...empty, "Amount")).toBeUndefined();
    expect(at(...empty, "Quantity")).toBe(1);
    expect(at(...empty, "Count")).toBe(1);
    // No facts for 2025.
    expect(at(...apple.map((x) => x.replace("[2024]", "[2025]")) as unknown as typeof apple, "Count")).toBeUndefined();
  });

  test("Plan is seeded as a copy of Actual", () => {
    const s = def.dimensions.findIndex((d) => d.name === "Scenario");
    const byScenario = [new Map<string, number>(), new Map<string, number>()];
    for (let r = 0; r < cells.count; r++) {
      const key = cells.coords.filter((_, d) => d !== s).map((c) => c[r]).join(",");
      byScenario[cells.coords[s][r]].set(key, cells.values[r]);
    }
    expect(byScenario[0].size).toBe(17);
    expect(byScenario[1]).toEqual(byScenario[0]);
  });

  test("a JSON model file loads the same cube", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "qatom-loader-"));
    try {
      const model = parseYaml(await readFile(shop, "utf8"));
      for (const t of Object.values(model.tables) as { file: string }[]) t.file = path.join(fixtures, "shop", t.file);
      const json = path.join(dir, "model.json");
      await writeFile(json, JSON.stringify(model, null, 2));
      const fromJson = await loadModel(json);
      expect(fromJson.def).toEqual(def);
      expect(fromJson.cells).toEqual(cells);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("static dimension: nesting, All member, weights, captions, chained seeds", async () => {
  const { def, cells } = await loadModel(path.join(fixtures, "shop", "static.yaml"));
  const [gender, version] = def.dimensions;
  expect(gender.members[0].name).toBe("All Genders");
  expect(gender.defaultMember).toBeUndefined(); // the All member, given as "[All Genders]"
  expect(version).toEqual({
    name: "Version",
    levels: ["(All)", "Group", "Version"],
    hasAll: true,
    defaultMember: "[Version].[Approved].[Budget]",
    members: [
      { name: "All Versions", parent: -1, level: 0 },
      { name: "Working", parent: 0, level: 1 },
      { name: "Actual", parent: 1, level: 2 },
      { name: "Forecast", parent: 1, level: 2 },
      { name: "Approved", parent: 0, level: 1 },
      { name: "Budget", caption: "Budget 2024", parent: 4, level: 2 },
      { name: "Adjustment", weight: -1, parent: 4, level: 2 },
    ],
  });
  // Facts go to Actual; Forecast copies Actual and Budget copies Forecast.
  const rows: string[] = [];
  for (let r = 0; r < cells.count; r++) {
    rows.push(`${gender.members[cells.coords[0][r]].name} ${version.members[cells.coords[1][r]].name} ${cells.values[r]}`);
  }
  expect(rows.sort()).toEqual([
    "F Actual 4",
    "F Budget 4",
    "F Forecast 4",
    "M Actual 13",
    "M Budget 13",
    "M Forecast 13",
  ]);
});

describe("bad input: LoadError with file, line and column", () => {
  /** Loads `model` and returns the LoadError it must fail with. */
  async function failure(model: string): Promise<LoadError> {
    try {
      await loadModel(model);
    } catch (err) {
      expect(err).toBeInstanceOf(LoadError);
      return err as LoadError;
    }
    throw new Error(`${model} loaded without error`);
  }

  test("unknown column: points at the model file and lists the CSV's columns", async () => {
    const err = await failure(bad("unknown-column.yaml"));
    expect(err).toMatchObject({ file: bad("unknown-column.yaml"), line: 11, column: 5 });
    expect(err.message).toBe(
      `${bad("unknown-column.yaml")}:11:5: table "customer" (${path.join(fixtures, "shop", "customer.csv")}) has no column "gendr"; its columns are: customer_id, country, city, fname, lname, gender`,
    );
  });

  test("unparsable number: CSV file, record line, column number and name, the text", async () => {
    const err = await failure(bad("bad-number.yaml"));
    expect(err).toMatchObject({ file: bad("sales-bad-number.csv"), line: 4, column: 4 });
    expect(err.message).toBe(
      `${bad("sales-bad-number.csv")}:4:4: column amount: "1.2x" is not a number (expected a plain decimal such as 12 or -0.6318)`,
    );
  });

  test("missing key in the fact table: the line where the record starts, after a multi-line record", async () => {
    const err = await failure(bad("missing-key.yaml"));
    expect(err).toMatchObject({ file: bad("sales-missing-key.csv"), line: 5, column: 3 });
    expect(err.detail).toBe('foreign key customer_id = "99" has no match in customer.customer_id');
  });

  test("missing key in a snowflake join", async () => {
    const err = await failure(bad("missing-snowflake-key.yaml"));
    expect(err).toMatchObject({ file: bad("product-missing-class.csv"), line: 4, column: 2 });
    expect(err.detail).toBe('product.class_id = "9" has no match in class.class_id');
  });

  test("duplicate dimension key", async () => {
    const err = await failure(bad("duplicate-key.yaml"));
    expect(err).toMatchObject({ file: bad("product-duplicate.csv"), line: 5, column: 1 });
    expect(err.detail).toBe('duplicate key product_id = "11" in table "product" (first on line 3)');
  });

  test("missing CSV file: points at the model's file key", async () => {
    const err = await failure(bad("missing-file.yaml"));
    expect(err).toMatchObject({ file: bad("missing-file.yaml"), line: 6, column: 5 });
    expect(err.detail).toBe(`table "customer": file not found: ${path.join(fixtures, "shop", "customers.csv")}`);
  });

  test("missing model file", async () => {
    const err = await failure(bad("no-such-model.yaml"));
    expect(err).toMatchObject({ file: bad("no-such-model.yaml"), line: undefined, column: undefined });
    expect(err.message).toBe(`${bad("no-such-model.yaml")}: model file not found`);
  });

  test("invalid model field: an unknown key, at its line and column", async () => {
    const err = await failure(bad("invalid-field.yaml"));
    expect(err).toMatchObject({ file: bad("invalid-field.yaml"), line: 15, column: 9 });
    expect(err.detail).toBe('dimensions[0].levels[1].colum: Unrecognized key: "colum"');
  });

  test("invalid model field: a value of the wrong type", async () => {
    const err = await failure(bad("invalid-type.yaml"));
    expect(err).toMatchObject({ file: bad("invalid-type.yaml"), line: 12, column: 5 });
    expect(err.detail).toBe("dimensions[0].hasAll: Invalid input: expected boolean, received string");
  });

  test("invalid YAML", async () => {
    const err = await failure(bad("bad-syntax.txt"));
    expect(err).toMatchObject({ file: bad("bad-syntax.txt"), line: 5, column: 1 });
    expect(err.detail).toMatch(/^invalid YAML: /);
  });

  test("a level's uniqueMembers broken by the data", async () => {
    const err = await failure(bad("unique-members.yaml"));
    const customers = path.join(fixtures, "shop", "customer.csv");
    expect(err).toMatchObject({ file: customers, line: 3, column: 3 });
    expect(err.detail).toBe(
      'level "City" of dimension "Customers" declares uniqueMembers, but "Richmond" appears under two different parents (first on line 2)',
    );
  });

  test("malformed CSV: a record with too few fields", async () => {
    const err = await failure(bad("ragged.yaml"));
    expect(err).toMatchObject({ file: bad("sales-ragged.csv"), line: 3, column: undefined });
    expect(err.detail).toMatch(/^invalid CSV: Invalid Record Length: expect 5, got 4/);
  });

  test("nothing is saved when the load fails", async () => {
    const saveCube = jest.fn(async () => 1);
    const store = { saveCube } as unknown as Store;
    await expect(loadModelIntoStore(store, bad("bad-number.yaml"), () => {})).rejects.toBeInstanceOf(LoadError);
    expect(saveCube).not.toHaveBeenCalled();
  });

  test("loadModelIntoStore saves the whole cube once and reports the save phase", async () => {
    const saveCube = jest.fn(async (_def: CubeDef, cells: LeafCells, onProgress?: (d: number, t: number) => void) => {
      onProgress?.(cells.count, cells.count);
      return 7;
    });
    const phases: string[] = [];
    const summary = await loadModelIntoStore({ saveCube } as unknown as Store, shop, (p) => phases.push(p));
    expect(saveCube).toHaveBeenCalledTimes(1);
    expect(summary).toMatchObject({ cubeId: 7, dimensions: 6, members: 15 + 9 + 10 + 3 + 2 + 3, leafCells: 34 });
    expect(phases).toContain("save");
  });
});

describe("helpers", () => {
  test("parseScaled sums decimals as scaled integers", () => {
    expect(parseScaled("0.6318", 4)).toBe(6318);
    expect(parseScaled("-1.5", 4)).toBe(-15000);
    expect(parseScaled("+2.", 4)).toBe(20000);
    expect(parseScaled(".5", 4)).toBe(5000);
    expect(parseScaled(" 12 ", 0)).toBe(12);
    expect(parseScaled("1.23450", 4)).toBe(12345);
    for (const bad of ["1.23456", "", "-", ".", "1e5", "abc", "1.2.3", "0x10", "12,5"]) {
      expect(parseScaled(bad, 4)).toBeNaN();
    }
  });

  test("parseExpression", () => {
    expect(parseExpression("fname + ' ' + lname")).toEqual([
      { kind: "column", ref: "fname" },
      { kind: "literal", text: " " },
      { kind: "column", ref: "lname" },
    ]);
    expect(parseExpression(`"Store Name" + 'it''s' + t.c`)).toEqual([
      { kind: "column", ref: "Store Name" },
      { kind: "literal", text: "it's" },
      { kind: "column", ref: "t.c" },
    ]);
    expect(() => parseExpression("a +")).toThrow("expected a column or a 'literal' at character 4");
    expect(() => parseExpression("a b")).toThrow("expected '+' at character 3");
    expect(() => parseExpression("'open")).toThrow("unterminated ' at character 1");
  });

  test("parseUniqueName", () => {
    expect(parseUniqueName("[Time].[1997].[Q1]")).toEqual(["Time", "1997", "Q1"]);
    expect(parseUniqueName("[A]]B].[x]")).toEqual(["A]B", "x"]);
    expect(parseUniqueName("Time.1997")).toEqual(["Time", "1997"]);
    expect(() => parseUniqueName("[Time")).toThrow();
  });
});
