import type { CubeDef, LeafCells } from "../../backend/src/lattice";

/**
 * A small cube for API tests: Region (All > North > {Oslo, Bergen}, South > {Rome}), Product
 * (All > {Widget, Gadget, Alpha}), Channel (All > {Web, Alpha}: "Alpha" is ambiguous on purpose),
 * Scenario (Actual default, Plan), Measures (Units default, Revenue).
 */
export const smallCubeDef: CubeDef = {
  name: "Demo",
  description: "small test cube",
  dimensions: [
    {
      name: "Region",
      levels: ["(All)", "Area", "City"],
      hasAll: true,
      members: [
        { name: "All Regions", parent: -1, level: 0 },
        { name: "North", parent: 0, level: 1 },
        { name: "Oslo", parent: 1, level: 2 },
        { name: "Bergen", parent: 1, level: 2 },
        { name: "South", parent: 0, level: 1 },
        { name: "Rome", parent: 4, level: 2 },
      ],
    },
    {
      name: "Product",
      levels: ["(All)", "Product"],
      hasAll: true,
      members: [
        { name: "All Products", parent: -1, level: 0 },
        { name: "Widget", parent: 0, level: 1 },
        { name: "Gadget", parent: 0, level: 1 },
        { name: "Alpha", parent: 0, level: 1 },
      ],
    },
    {
      name: "Channel",
      levels: ["(All)", "Channel"],
      hasAll: true,
      members: [
        { name: "All Channels", parent: -1, level: 0 },
        { name: "Web", parent: 0, level: 1 },
        { name: "Alpha", parent: 0, level: 1 },
      ],
    },
    {
      name: "Scenario",
      levels: ["Scenario"],
      hasAll: false,
      defaultMember: "[Scenario].[Actual]",
      members: [
        { name: "Actual", parent: -1, level: 0 },
        { name: "Plan", parent: -1, level: 0 },
      ],
    },
    {
      name: "Measures",
      levels: ["Measures"],
      hasAll: false,
      members: [
        { name: "Units", parent: -1, level: 0 },
        { name: "Revenue", parent: -1, level: 0 },
      ],
    },
  ],
};

/** Leaf facts: [region, product, channel, scenario, measure, value] by member id. */
const facts: [number, number, number, number, number, number][] = [];
for (const scenario of [0, 1]) {
  facts.push([2, 1, 1, scenario, 0, 10]); // Oslo Widget Web Units
  facts.push([3, 1, 1, scenario, 0, 20]); // Bergen Widget Web Units
  facts.push([5, 2, 2, scenario, 0, 5]); // Rome Gadget Alpha Units
  facts.push([2, 1, 1, scenario, 1, 100.25]); // Oslo Widget Web Revenue
  facts.push([5, 3, 1, scenario, 1, 40.5]); // Rome Alpha Web Revenue
}

/** The leaf cells of the small cube (Plan is a copy of Actual). */
export function smallCubeCells(): LeafCells {
  return {
    count: facts.length,
    coords: [0, 1, 2, 3, 4].map((d) => Int32Array.from(facts.map((f) => f[d]))),
    values: Float64Array.from(facts.map((f) => f[5])),
  };
}

/**
 * The small cube with number formats: Revenue as money (`#,##0.00`), a calculated Price (Revenue /
 * Units) as a percentage (`0.0%`), and Units in `formats.units` when given (none otherwise).
 */
export function formattedSmallCubeDef(formats: { units?: string } = {}): CubeDef {
  const def = structuredClone(smallCubeDef);
  const measures = def.dimensions.find((d) => d.name === "Measures")!;
  if (formats.units) measures.members.find((m) => m.name === "Units")!.formatString = formats.units;
  measures.members.find((m) => m.name === "Revenue")!.formatString = "#,##0.00";
  measures.members.push({ name: "Price", parent: -1, level: 0, formatString: "0.0%" });
  def.formulas = [...(def.formulas ?? []), { member: "[Measures].[Price]", expression: "[Measures].[Revenue] / [Measures].[Units]" }];
  return def;
}
