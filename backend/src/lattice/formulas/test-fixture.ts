/** A tiny cube for the formula tests (test-only; not exported from the lattice). */
import { Dimension } from "../dimension";
import type { DimensionDef } from "../model";
import { Resolver } from "../resolver";
import type { ResolveMember } from "./graph";

const flat = (name: string, members: string[]): DimensionDef => ({
  name,
  levels: [name],
  hasAll: false,
  members: members.map((m) => ({ name: m, parent: -1, level: 0 })),
});

/** Measures (flat, base measures then members that get formulas), Store (All > USA > CA, WA), Scenario (Total > Actual, Budget). */
export function testDimensions(): Dimension[] {
  return [
    new Dimension(
      flat("Measures", ["Store Sales", "Store Cost", "Unit Sales", "Profit", "Margin %", "A", "B", "C", "D", "E"]),
    ),
    new Dimension({
      name: "Store",
      levels: ["(All)", "Country", "State"],
      hasAll: true,
      members: [
        { name: "All Stores", parent: -1, level: 0 },
        { name: "USA", parent: 0, level: 1 },
        { name: "CA", parent: 1, level: 2 },
        { name: "WA", parent: 1, level: 2 },
      ],
    }),
    new Dimension({
      name: "Scenario",
      levels: ["(All)", "Scenario"],
      hasAll: true,
      members: [
        { name: "Total", parent: -1, level: 0 },
        { name: "Actual", parent: 0, level: 1 },
        { name: "Budget", parent: 0, level: 1 },
      ],
    }),
  ];
}

/** Member ids of the test dimensions, by name. */
export const M = { StoreSales: 0, StoreCost: 1, UnitSales: 2, Profit: 3, Margin: 4, A: 5, B: 6, C: 7, D: 8, E: 9 };
/** Store member ids. */
export const S = { All: 0, USA: 1, CA: 2, WA: 3 };
/** Scenario member ids. */
export const SC = { Total: 0, Actual: 1, Budget: 2 };

/** A `ResolveMember` over the test dimensions, backed by the cube's `Resolver`. */
export function testResolve(dims: Dimension[] = testDimensions()): ResolveMember {
  const r = new Resolver(dims);
  return (name) => r.member(name);
}
