/**
 * Number formats of measures (`formatString` in a model file): kept on the measure members of the
 * definition, chosen per cell by the cube (a calculated measure's own, else the measure's), the
 * FoodMart model's, and a bad one reported as a LoadError at its line and column.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Cube } from "../lattice";
import { SHOP, shopModelHead } from "./fixtures/shop-model";
import { LoadError, loadModel } from ".";
import { parseModelText } from "./model";
import { numberFormatProblem } from "./model/number-format";

const _shop = SHOP;
const foodmart = path.join(__dirname, "..", "..", "..", "data", "foodmart", "model.yaml");

/** A model over the shop's sales and customers whose measures are `measures` (YAML lines from line 14). */
function model(measures: string[]): string {
  return [
    ...shopModelHead("Formats"),
    "    members: [Actual, { name: Delta, formula: '[Scenario].[Actual] * 2', solveOrder: 1 }, { name: Pct, formula: '[Scenario].[Actual] / 100', solveOrder: 1, formatString: '0.0%' }]", // 12
    "    factMember: Actual", // 13
    "  - name: Measures", // 14
    "    measures:", // 15
    ...measures, // from 16
    "",
  ].join("\n");
}

describe("formatString of measures", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "qatom-formats-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function write(text: string): Promise<string> {
    const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    return file;
  }
  async function failure(text: string): Promise<LoadError> {
    try {
      await loadModel(await write(text));
    } catch (err) {
      expect(err).toBeInstanceOf(LoadError);
      return err as LoadError;
    }
    throw new Error("the model loaded without error");
  }

  test("is kept on the measure members; a cell's format is its calculated measure's own, else its measure's", async () => {
    const file = await write(
      model([
        '      - { name: Amount, aggregator: sum, column: amount, formatString: "#,##0.00" }',
        "      - { name: Quantity, aggregator: sum, column: qty }",
        '      - { name: Price, formula: "[Measures].[Amount] / [Quantity]", formatString: "0.0%" }',
        '      - { name: Twice, formula: "[Measures].[Amount] * 2" }',
      ]),
    );
    const { def, cells } = await loadModel(file);
    expect(def.dimensions[2].members.map((m) => [m.name, m.formatString])).toEqual([
      ["Amount", "#,##0.00"],
      ["Quantity", undefined],
      ["Price", "0.0%"],
      ["Twice", undefined],
    ]);
    // Saved as JSON with the definition: it survives the round trip.
    const cube = new Cube(JSON.parse(JSON.stringify(def)), cells);
    const format = (...members: string[]) => cube.formatOf(cube.resolve(members) as Int32Array);
    expect(format("[Measures].[Amount]")).toBe("#,##0.00");
    expect(format("[Measures].[Amount]", "[Gender].[F]", "[Scenario].[Delta]")).toBe("#,##0.00"); // Delta has none: the measure's
    expect(format("[Measures].[Quantity]")).toBe("");
    expect(format("[Measures].[Price]")).toBe("0.0%");
    expect(format("[Measures].[Price]", "[Scenario].[Delta]")).toBe("0.0%");
    expect(format("[Measures].[Twice]")).toBe("");
    // a calculated static member with its own format computes (solve order 1) and formats the cell
    expect(def.dimensions[1].members.map((m) => m.formatString)).toEqual([undefined, undefined, "0.0%"]);
    expect(format("[Measures].[Amount]", "[Scenario].[Pct]")).toBe("0.0%");
    expect(format("[Measures].[Quantity]", "[Scenario].[Pct]")).toBe("0.0%");
  });

  test("a stored static member has no format of its own: its cells show in their measure's", async () => {
    const text = model(["      - { name: Amount, aggregator: sum, column: amount }"]).replace(
      "members: [Actual, ",
      "members: [{ name: Actual, formatString: '0' }, ",
    );
    const err = await failure(text);
    expect(err).toMatchObject({ line: 12 });
    expect(err.detail).toBe("member \"Actual\": formatString applies to a formula member (a stored cell shows in its measure's format)");
  });

  test("FoodMart: money #,##0.00, units and counts #,##0, Margin % 0.0%", async () => {
    const source = parseModelText(await readFile(foodmart, "utf8"), foodmart);
    const dims = source.model.dimensions;
    const measures = dims.flatMap((d) => (d.kind === "measures" ? d.measures : []));
    expect(Object.fromEntries(measures.map((m) => [m.name, m.formatString]))).toEqual({
      "Unit Sales": "#,##0",
      "Store Cost": "#,##0.00",
      "Store Sales": "#,##0.00",
      "Sales Count": "#,##0",
      Profit: "#,##0.00",
      "Margin %": "0.0%",
    });
    const scenario = dims.find((d) => d.name === "Scenario");
    const formats = scenario?.kind === "static" ? scenario.members.map((m) => [m.name, m.formatString]) : [];
    expect(formats).toEqual(expect.arrayContaining([["Variance", undefined], ["Variance %", "0.0%"]]));
  });

  test("a bad one stops the load at its line and column, naming the problem", async () => {
    const err = await failure(
      model([
        "      - { name: Amount, aggregator: sum, column: amount }", // 16
        '      - { name: Quantity, aggregator: sum, column: qty, formatString: "0.0\\"%" }', // 17
      ]),
    );
    expect(err).toMatchObject({ line: 17, column: 57 }); // the formatString key
    expect(err.detail).toBe('dimensions[2].measures[1].formatString: bad number format "0.0\\"%": unclosed quote (") at character 4');
    const wrongType = await failure(model(["      - { name: Amount, aggregator: sum, column: amount, formatString: 2 }"]));
    expect(wrongType).toMatchObject({ line: 16 });
    expect(wrongType.detail).toMatch(/^dimensions\[2\]\.measures\[0\]\.formatString: Invalid input: expected string/);
  });
});

describe("numberFormatProblem", () => {
  test.each(["#,##0.00", "0.0%", "#,##0", "General", '#,##0.00;[Red]-#,##0.00;"-"', "[$€-x-euro2] #,##0.00", "[<0]0;0", "_(* #,##0_)", "[h]:mm", "0\\;0"])("takes %s", (code) => {
    expect(numberFormatProblem(code)).toBeNull();
  });
  test.each([
    ["", "a number format must not be blank"],
    ['0.0"%', 'unclosed quote (") at character 4'],
    ["[Red0", 'unclosed "[" at character 1'],
    ["0]", '"]" at character 2 closes no "["'],
    ["[Purple]0", "unknown [Purple] at character 1: a colour ([Red]), a condition ([<0]), a locale ([$€-x-euro2]) or elapsed time ([h])"],
    ["0;0;0;@;0", "more than four sections (positive;negative;zero;text): the fifth starts at character 8"],
    ["0\\", '"\\" at character 2 needs a character after it'],
    ["0\t0", "control character at character 2"],
    ["0".repeat(256), "a number format has at most 255 characters; this one has 256"],
  ])("refuses %j", (code, message) => {
    expect(numberFormatProblem(code)).toBe(message);
  });
});
