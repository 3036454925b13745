import { mulberry32 } from "../../../bench/rng";
import { Cube, type CubeDef, type LeafCells } from ".";
import { LeafOverlay } from "./overlay";

/**
 * Region (All > North > {Oslo, Bergen}, South > {Rome, Milan}), Account (Net > {Revenue > {R1, R2},
 * Cost (weight -1) > {C1, C2}}), Scenario (Actual, Plan, and Variance = Plan - Actual, a formula).
 */
const def: CubeDef = {
  name: "Layered",
  dimensions: [
    {
      name: "Region",
      levels: ["(All)", "Area", "City"],
      hasAll: true,
      members: [
        { name: "All", parent: -1, level: 0 },
        { name: "North", parent: 0, level: 1 },
        { name: "Oslo", parent: 1, level: 2 },
        { name: "Bergen", parent: 1, level: 2 },
        { name: "South", parent: 0, level: 1 },
        { name: "Rome", parent: 4, level: 2 },
        { name: "Milan", parent: 4, level: 2 },
      ],
    },
    {
      name: "Account",
      levels: ["Total", "Group", "Line"],
      hasAll: false,
      members: [
        { name: "Net", parent: -1, level: 0 },
        { name: "Revenue", parent: 0, level: 1 },
        { name: "R1", parent: 1, level: 2 },
        { name: "R2", parent: 1, level: 2 },
        { name: "Cost", parent: 0, level: 1, weight: -1 },
        { name: "C1", parent: 4, level: 2 },
        { name: "C2", parent: 4, level: 2 },
      ],
    },
    {
      name: "Scenario",
      levels: ["Scenario"],
      hasAll: false,
      members: [
        { name: "Actual", parent: -1, level: 0 },
        { name: "Plan", parent: -1, level: 0 },
        { name: "Variance", parent: -1, level: 0 },
      ],
    },
  ],
  formulas: [{ member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]" }],
};

const REGION_LEAVES = [2, 3, 5, 6];
const ACCOUNT_LEAVES = [2, 3, 5, 6];
const STORED_SCENARIOS = [0, 1];

/** Every stored leaf's coordinates. */
function allLeaves(): number[][] {
  const out: number[][] = [];
  for (const r of REGION_LEAVES) for (const a of ACCOUNT_LEAVES) for (const s of STORED_SCENARIOS) out.push([r, a, s]);
  return out;
}

/** Cells of the leaves in `values` (key `r,a,s`; absent: no row). */
function cellsOf(values: Map<string, number>): LeafCells {
  const rows = [...values.entries()].map(([k, v]) => [...k.split(",").map(Number), v]);
  return {
    count: rows.length,
    coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
    values: Float64Array.from(rows.map((r) => r[3])),
  };
}

/** Every cell of the cube, at every level, calculated cells included. */
function everyCell(): Int32Array[] {
  const out: Int32Array[] = [];
  for (let r = 0; r < 7; r++) for (let a = 0; a < 7; a++) for (let s = 0; s < 3; s++) out.push(Int32Array.from([r, a, s]));
  return out;
}

describe("LeafOverlay", () => {
  it("reads every cell, at every level and through the formula, as a cube holding the layer's values would (random layers)", () => {
    const next = mulberry32(20261203);
    for (let round = 0; round < 25; round++) {
      // The base: most leaves hold a value; the layer: some leaves set, some emptied, some new.
      const base = new Map<string, number>();
      for (const c of allLeaves()) if (next() < 0.7) base.set(c.join(","), Math.round(next() * 20000 - 5000) / 100);
      const cube = new Cube(def, cellsOf(base));
      const overlay = new LeafOverlay(cube);
      const merged = new Map(base);
      let version = 100;
      for (const c of allLeaves()) {
        const x = next();
        if (x < 0.25) {
          const v = Math.round(next() * 10000) / 100;
          overlay.set([{ coords: c, value: v, version: ++version }]);
          merged.set(c.join(","), v);
        } else if (x < 0.35) {
          overlay.set([{ coords: c, value: null, version: ++version }]);
          merged.delete(c.join(","));
        }
      }
      const oracle = new Cube(def, cellsOf(merged));
      const cells = everyCell();
      const got = overlay.getCells(cells);
      const want = oracle.getCells(cells);
      cells.forEach((c, i) => {
        const where = `round ${round}, cell ${Array.from(c)}`;
        if (want[i].value === null) expect({ where, value: got[i].value }).toEqual({ where, value: null });
        else expect(got[i].value).toBeCloseTo(want[i].value!, 9);
      });
      // The base is unchanged by the layer.
      expect(cube.getCells(cells)).toEqual(new Cube(def, cellsOf(base)).getCells(cells));
    }
  });

  it("follows the cube underneath on leaves the layer does not hold, and keeps its own where it does", () => {
    const base = new Map<string, number>([
      ["2,2,1", 10],
      ["3,2,1", 20],
      ["2,2,0", 7],
    ]);
    const cube = new Cube(def, cellsOf(base));
    const overlay = new LeafOverlay(cube);
    overlay.set([{ coords: [2, 2, 1], value: 15, version: 5 }]);
    const north = Int32Array.from([1, 2, 1]); // North, R1, Plan
    const variance = Int32Array.from([2, 2, 2]); // Oslo, R1, Variance
    expect(overlay.getCells([north, variance]).map((s) => s.value)).toEqual([35, 8]);
    // The cube changes under the layer: Bergen (not in the layer) moves the total; Oslo (in it) does not.
    cube.applyChanges([
      { coords: [3, 2, 1], value: 25, version: 6, writer: { user: "bob", at: 0 } },
      { coords: [2, 2, 1], value: 99, version: 7, writer: { user: "bob", at: 0 } },
    ]);
    const [total, v] = overlay.getCells([north, variance]);
    expect(total).toEqual({ value: 40, version: 7 });
    expect(v.value).toBe(8);
    expect(cube.getCells([north])[0].value).toBe(124);
    expect(overlay.leaf([2, 2, 1])).toEqual({ value: 15, version: 5 });
    expect(overlay.leaf([3, 2, 1])).toBeNull();
    expect([...overlay.leaves()].map((l) => [Array.from(l.coords), l.value])).toEqual([[[2, 2, 1], 15]]);
  });

  it("streams through the layer: its own writes, the cube's writes to leaves it does not hold, and only versions for those it does", () => {
    const cube = new Cube(def, cellsOf(new Map([["2,2,1", 10], ["3,2,1", 20], ["2,2,0", 7]])));
    const overlay = new LeafOverlay(cube);
    const cells = [Int32Array.from([1, 2, 1]), Int32Array.from([2, 2, 2]), Int32Array.from([3, 2, 1])]; // North R1 Plan, Oslo R1 Variance, Bergen R1 Plan
    const told: number[][] = [];
    const w = overlay.watch(cells, (idx) => told.push(idx));
    expect(w.states().map((s) => s.value)).toEqual([30, 3, 20]);

    overlay.set([{ coords: [2, 2, 1], value: 15, version: 5 }]);
    expect(told.pop()).toEqual([0, 1]);
    expect(w.states().map((s) => s.value)).toEqual([35, 8, 20]);

    cube.applyChanges([{ coords: [3, 2, 1], value: 25, version: 6, writer: { user: "bob", at: 0 } }]);
    expect(told.pop()).toEqual([0, 2]);
    expect(w.states().map((s) => s.value)).toEqual([40, 8, 25]);

    // Oslo's Plan leaf is the layer's: the cube's write there moves versions, not values.
    cube.applyChanges([{ coords: [2, 2, 1], value: 99, version: 7, writer: { user: "bob", at: 0 } }]);
    expect(told.pop()).toEqual([0, 1]);
    expect(w.states().map((s) => s.value)).toEqual([40, 8, 25]);
    expect(w.states([0])[0].version).toBe(7);

    w.close();
    overlay.set([{ coords: [3, 2, 1], value: 1, version: 8 }]);
    cube.applyChanges([{ coords: [2, 2, 0], value: 1, version: 9, writer: { user: "bob", at: 0 } }]);
    expect(told).toEqual([]);
  });

  it("refuses a consolidated or calculated cell, and changes nothing then", () => {
    const overlay = new LeafOverlay(new Cube(def, cellsOf(new Map([["2,2,0", 1]]))));
    expect(() => overlay.set([{ coords: [2, 2, 0], value: 1, version: 1 }, { coords: [1, 2, 0], value: 1, version: 2 }])).toThrow("member 1 of Region is not a leaf");
    expect(() => overlay.set([{ coords: [2, 2, 2], value: 1, version: 1 }])).toThrow("overlay change 0 is a calculated cell");
    expect(overlay.size).toBe(0);
  });
});
