/**
 * Member formulas and seed factors in model files: what the loader makes of them (formula members
 * without leaf cells, CubeDef.formulas, exact seeded copies), and every problem reported as a
 * LoadError at the model file's line and column.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Cube } from "../lattice";
import { SHOP, shopModelHead } from "./fixtures/shop-model";
import { findMember, LoadError, loadModel } from ".";


describe("a model with formulas and a seed factor (shop/formulas.yaml)", () => {
  test("formula members are members without leaf cells; the formulas are in the definition", async () => {
    const { def, cells } = await loadModel(path.join(SHOP, "formulas.yaml"));
    const scenario = def.dimensions[1];
    const measures = def.dimensions[2];
    expect(scenario.members.map((m) => m.name)).toEqual(["Actual", "Plan", "Delta"]);
    expect(measures.members.map((m) => m.name)).toEqual(["Amount", "Avg Price", "Quantity", "Count", "Big"]);
    expect(def.formulas).toEqual([
      { member: "[Scenario].[Delta]", expression: "[Scenario].[Plan] - [Scenario].[Actual]", solveOrder: 1 },
      { member: "[Measures].[Avg Price]", expression: "[Measures].[Amount] / [Quantity]" },
      { member: "[Measures].[Big]", expression: "IF([Measures].[Amount] > 1, MAX([Amount], [Quantity]), MIN([Amount], 0))", solveOrder: 2 },
    ]);
    // 2 genders x 3 stored measures x (Actual, Plan); nothing at Delta, Avg Price or Big.
    expect(cells.count).toBe(12);
    const formulaMembers = [findMember(scenario, "[Scenario].[Delta]"), findMember(measures, "[Measures].[Avg Price]"), findMember(measures, "[Measures].[Big]")];
    for (let r = 0; r < cells.count; r++) {
      expect(cells.coords[1][r]).not.toBe(formulaMembers[0]);
      expect(formulaMembers.slice(1)).not.toContain(cells.coords[2][r]);
    }
  });

  test("Plan is Actual x 1.1 exactly at every leaf, counts included (no rounding to the measure's decimals)", async () => {
    const { def, cells } = await loadModel(path.join(SHOP, "formulas.yaml"));
    const byKey = new Map<string, number>();
    for (let r = 0; r < cells.count; r++) {
      const g = def.dimensions[0].members[cells.coords[0][r]].name;
      const s = def.dimensions[1].members[cells.coords[1][r]].name;
      const m = def.dimensions[2].members[cells.coords[2][r]].name;
      byKey.set(`${g} ${s} ${m}`, cells.values[r]);
    }
    expect(Object.fromEntries(byKey)).toEqual({
      "F Actual Amount": 2.65,
      "F Actual Quantity": 8,
      "F Actual Count": 4,
      "M Actual Amount": 2.75,
      "M Actual Quantity": 13,
      "M Actual Count": 13,
      // 2.65 * 1.1 in float64 is 2.9150000000000005; the loader computes 265 * 11 / 1000.
      "F Plan Amount": 2.915,
      "F Plan Quantity": 8.8,
      "F Plan Count": 4.4,
      "M Plan Amount": 3.025,
      "M Plan Quantity": 14.3,
      "M Plan Count": 14.3,
    });
  });

  test("the cube computes the formulas at leaf and consolidated levels", async () => {
    const { def, cells } = await loadModel(path.join(SHOP, "formulas.yaml"));
    const cube = new Cube(def, cells);
    const v = (...members: string[]) => cube.getCells([cube.resolve(members) as Int32Array])[0].value;
    expect(v("[Measures].[Avg Price]", "[Gender].[F]")).toBeCloseTo(2.65 / 8, 12);
    expect(v("[Measures].[Avg Price]")).toBeCloseTo(5.4 / 21, 12); // not 2.65/8 + 2.75/13
    expect(v("[Measures].[Amount]", "[Scenario].[Delta]")).toBeCloseTo(0.54, 12);
    expect(v("[Measures].[Avg Price]", "[Scenario].[Delta]")).toBeCloseTo(0, 12); // Delta at solve order 1 wins
    expect(v("[Measures].[Big]")).toBe(21); // Amount 5.4 > 1: MAX(5.4, 21)
    expect(v("[Measures].[Big]", "[Scenario].[Delta]")).toBe(0); // Big at 2 wins: MIN(0.54, 0)
    expect(cube.isCalculated(cube.resolve(["[Measures].[Count]", "[Scenario].[Delta]"]) as Int32Array)).toBe(true);
  });
});

describe("bad formulas and seeds: LoadError at the model file's line and column", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "qatom-formulas-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A model over the shop's sales and customers; `scenario` and `measures` are YAML lines (from line 12). */
  function model(scenario: string[], measures: string[]): string {
    return [
      ...shopModelHead("Bad"),
      ...scenario,
      "  - name: Measures",
      "    measures:",
      "      - { name: Amount, aggregator: sum, column: amount }",
      "      - { name: Quantity, aggregator: sum, column: qty }",
      ...measures,
      "",
    ].join("\n");
  }
  const scenario = ["    members:", "      - Actual", "      - { name: Plan, seedFrom: Actual }"]; // lines 12-14

  async function failure(text: string): Promise<LoadError> {
    const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    try {
      await loadModel(file);
    } catch (err) {
      expect(err).toBeInstanceOf(LoadError);
      expect((err as LoadError).file).toBe(file);
      return err as LoadError;
    }
    throw new Error("the model loaded without error");
  }

  test("chained seed factors multiply exactly", async () => {
    const file = path.join(dir, "chain.yaml");
    await writeFile(
      file,
      model(["    members:", "      - Actual", "      - { name: Forecast, seedFrom: Actual, seedFactor: 1.1 }", "      - { name: Budget, seedFrom: Forecast, seedFactor: 0.5 }"], []),
    );
    const { def, cells } = await loadModel(file);
    const values = new Map<string, number>();
    for (let r = 0; r < cells.count; r++) {
      if (cells.coords[2][r] !== 0 || cells.coords[0][r] !== 1) continue; // Amount, F
      values.set(def.dimensions[1].members[cells.coords[1][r]].name, cells.values[r]);
    }
    expect(Object.fromEntries(values)).toEqual({ Actual: 2.65, Forecast: 2.915, Budget: 1.4575 });
  });

  // Measures lines: 15 name, 16 measures:, 17 Amount, 18 Quantity, 19 and on: the lines given.
  test("a cycle names its members in order, at the first formula of the cycle", async () => {
    const err = await failure(
      model(scenario, [
        '      - { name: A, formula: "[Measures].[B] + 1" }', // 19
        '      - { name: B, formula: "[Measures].[C] * 2" }', // 20
        '      - { name: C, formula: "[Measures].[A] - [Measures].[Amount]" }', // 21
      ]),
    );
    expect(err.detail).toBe("formula cycle: [Measures].[A] -> [Measures].[B] -> [Measures].[C] -> [Measures].[A]");
    // The formula's text starts at column 30 of line 19.
    expect({ line: err.line, column: err.column }).toEqual({ line: 19, column: 30 });
    expect(err.message).toBe(`${err.file}:19:30: ${err.detail}`);
  });

  test("a syntax error points at the character at fault", async () => {
    const err = await failure(model(scenario, ['      - { name: A, formula: "[Measures].[Amount] * / 2" }']));
    // The formula's text starts at column 30; "/" is its 23rd character.
    expect({ line: err.line, column: err.column }).toEqual({ line: 19, column: 30 + 22 });
    expect(err.detail).toMatch(/^formula for \[Measures\]\.\[A\]: column 23: expected an operand/);
  });

  test("an unknown member points at the reference, with the closest names", async () => {
    const err = await failure(model(scenario, ["      - name: A", "        formula: '[Measures].[Amount] / [Measures].[Quantiti]'"]));
    // A single-quoted formula starting at column 19; the reference is its 23rd character.
    expect({ line: err.line, column: err.column }).toEqual({ line: 20, column: 19 + 22 });
    expect(err.detail).toMatch(/^formula for \[Measures\]\.\[A\]: bad reference \[Measures\]\.\[Quantiti\] at column 23: .*\[Measures\]\.\[Quantity\]/);
  });

  test("a formula member under an All member is refused, saying why", async () => {
    const err = await failure(
      model(
        ["    hasAll: true", "    members:", "      - Actual", '      - { name: Variance, formula: "[Scenario].[Actual] * 0" }'],
        [],
      ),
    );
    expect({ line: err.line, column: err.column }).toEqual({ line: 15, column: 27 });
    expect(err.detail).toBe(
      'member "Variance" has a formula, but the dimension has an All member, into which every member adds: a formula member must not add into a consolidated member (set hasAll: false)',
    );
  });

  test("a formula member below another member is refused", async () => {
    const err = await failure(
      model(
        ["    members:", "      - name: Total", "        children:", "          - Actual", '          - { name: Twice, formula: "[Scenario].[Actual] * 2" }'],
        [],
      ),
    );
    expect({ line: err.line, column: err.column }).toEqual({ line: 16, column: 28 });
    expect(err.detail).toMatch(/adds into "Total": a formula member must not add into a consolidated member/);
  });

  test.each([
    ['      - { name: A, aggregator: sum, formula: "[Amount]" }', 19, 20, 'measure "A" has a formula, so it has no aggregator'],
    ["      - { name: A }", 19, 9, 'measure "A" needs an aggregator (sum or count) or a formula'],
    ['      - { name: A, aggregator: count, solveOrder: 1 }', 19, 39, 'measure "A": solveOrder applies to a formula'],
  ])("measure %s", async (line, l, c, detail) => {
    const err = await failure(model(scenario, [line]));
    expect({ line: err.line, column: err.column }).toEqual({ line: l, column: c });
    expect(err.detail).toContain(detail);
  });

  test.each([
    [["    members:", '      - { name: Actual, formula: "[Scenario].[Plan]" }', "      - Plan", "    factMember: Actual"], 15, 5, "has a formula: its cells are calculated, so it cannot receive facts"],
    [["    members:", "      - Actual", '      - { name: F, formula: "[Scenario].[Actual]" }', "      - { name: Plan, seedFrom: F }"], 15, 23, 'is seeded from "F", a formula member, which has no stored cells'],
    [["    members:", "      - Actual", "      - { name: Plan, seedFrom: Actual, seedFactor: 1.0000001 }"], 14, 41, "seedFactor 1.0000001 must be a plain decimal with at most 6 decimal places"],
    [["    members:", "      - Actual", "      - { name: Plan, seedFactor: 2 }"], 14, 23, "seedFactor applies to a member seeded with seedFrom"],
  ])("static members %#", async (lines, l, c, detail) => {
    const err = await failure(model(lines, []));
    expect({ line: err.line, column: err.column }).toEqual({ line: l, column: c });
    expect(err.detail).toContain(detail);
  });
});
