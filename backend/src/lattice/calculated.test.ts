/**
 * Member formulas in the engine: calculated cells at leaf and consolidated levels against a brute
 * force over the leaf rows (ratios of totals, not totals of ratios), solve order at intersections,
 * empty cells and division by zero, versions, the cache, streaming after leaf changes, and the
 * checks of the constructor.
 */
import { mulberry32 as rng } from "../../../bench/rng";
import { Cube } from "./cube";
import { FormulaGraphError } from "./formulas";
import type { CubeDef, CubeFormula, DimensionDef, LeafCells } from "./model";

const store: DimensionDef = {
  name: "Store",
  levels: ["(All)", "Country", "State", "City"],
  hasAll: true,
  members: [
    { name: "All Stores", parent: -1, level: 0 }, // 0
    { name: "USA", parent: 0, level: 1 }, // 1
    { name: "CA", parent: 1, level: 2 }, // 2
    { name: "LA", parent: 2, level: 3 }, // 3
    { name: "SF", parent: 2, level: 3 }, // 4
    { name: "WA", parent: 1, level: 2 }, // 5
    { name: "Seattle", parent: 5, level: 3 }, // 6
    { name: "Canada", parent: 0, level: 1 }, // 7
    { name: "BC", parent: 7, level: 2 }, // 8
  ],
};
const product: DimensionDef = {
  name: "Product",
  levels: ["(All)", "Family"],
  hasAll: true,
  members: [
    { name: "All Products", parent: -1, level: 0 },
    { name: "Food", parent: 0, level: 1 },
    { name: "Drink", parent: 0, level: 1 },
  ],
};
const scenario: DimensionDef = {
  name: "Scenario",
  levels: ["Scenario"],
  hasAll: false,
  defaultMember: "[Scenario].[Actual]",
  members: ["Actual", "Plan", "Variance", "Variance %"].map((name) => ({ name, parent: -1, level: 0 })),
};
const MEASURES = ["Store Sales", "Store Cost", "Unit Sales", "Profit", "Margin %", "Big"] as const;
const measures: DimensionDef = {
  name: "Measures",
  levels: ["Measures"],
  hasAll: false,
  members: MEASURES.map((name) => ({ name, parent: -1, level: 0 })),
};
const SC = { Actual: 0, Plan: 1, Variance: 2, VariancePct: 3 };
const M = { Sales: 0, Cost: 1, Units: 2, Profit: 3, Margin: 4, Big: 5 };
const ST = { All: 0, USA: 1, CA: 2, LA: 3, SF: 4, WA: 5, Seattle: 6, Canada: 7, BC: 8 };
const STORE_LEAVES = [ST.LA, ST.SF, ST.Seattle, ST.BC];

const FORMULAS: CubeFormula[] = [
  { member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]", solveOrder: 1 },
  { member: "[Scenario].[Variance %]", expression: "([Scenario].[Plan] - [Scenario].[Actual]) / [Scenario].[Actual]", solveOrder: 1 },
  { member: "[Measures].[Margin %]", expression: "[Measures].[Profit] / [Measures].[Store Sales]" },
  { member: "[Measures].[Profit]", expression: "[Measures].[Store Sales] - [Measures].[Store Cost]" },
  { member: "[Measures].[Big]", expression: "IF([Measures].[Store Sales] > 100, [Measures].[Profit], MAX([Measures].[Unit Sales], 0))" },
];

function makeDef(formulas: CubeFormula[] = FORMULAS, dims: DimensionDef[] = [store, product, scenario, measures]): CubeDef {
  return { name: "Shop", dimensions: dims, formulas };
}

/** Leaf rows [store, product, scenario, measure, value]: random, sparse, some sales of 0. */
function randomRows(seed: number): [number, number, number, number, number][] {
  const r = rng(seed);
  const rows: [number, number, number, number, number][] = [];
  for (const s of STORE_LEAVES) {
    for (const p of [1, 2]) {
      for (const sc of [SC.Actual, SC.Plan]) {
        for (const m of [M.Sales, M.Cost, M.Units]) {
          if (r() < 0.25) continue;
          const v = r() < 0.1 ? 0 : Math.round(r() * 20000) / 100;
          rows.push([s, p, sc, m, v]);
        }
      }
    }
  }
  return rows;
}

function cellsOf(rows: [number, number, number, number, number][]): LeafCells {
  return {
    count: rows.length,
    coords: [0, 1, 2, 3].map((d) => Int32Array.from(rows.map((row) => row[d]))),
    values: Float64Array.from(rows.map((row) => row[4])),
  };
}

/** Leaves of a member of a dimension definition (itself when a leaf). */
function leavesOf(dim: DimensionDef, m: number): number[] {
  const kids = dim.members.flatMap((x, i) => (x.parent === m ? [i] : []));
  return kids.length === 0 ? [m] : kids.flatMap((k) => leavesOf(dim, k));
}

/**
 * The brute force: base cells summed from the rows, formulas written out by hand with the rules of
 * formulas/evaluate.ts (an empty operand is 0 unless both are empty; division by 0 or empty is
 * empty), the Scenario formulas at solve order 1 over the Measures formulas.
 */
function bruteForce(rows: [number, number, number, number, number][]) {
  const base = (m: number, s: number, p: number, sc: number): number | null => {
    const ss = new Set(leavesOf(store, s));
    const ps = new Set(leavesOf(product, p));
    let sum = 0;
    let n = 0;
    for (const [rs, rp, rsc, rm, v] of rows) {
      if (rm === m && rsc === sc && ss.has(rs) && ps.has(rp)) {
        sum += v;
        n++;
      }
    }
    return n > 0 ? sum : null;
  };
  const sub = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) - (b ?? 0));
  const div = (a: number | null, b: number | null) => (a === null && b === null ? null : b === null || b === 0 ? null : (a ?? 0) / b);
  const value = (m: number, s: number, p: number, sc: number): number | null => {
    if (sc === SC.Variance) return sub(value(m, s, p, SC.Plan), value(m, s, p, SC.Actual));
    if (sc === SC.VariancePct) {
      const plan = value(m, s, p, SC.Plan);
      const actual = value(m, s, p, SC.Actual);
      return div(sub(plan, actual), actual);
    }
    const sales = base(M.Sales, s, p, sc);
    switch (m) {
      case M.Profit:
        return sub(sales, base(M.Cost, s, p, sc));
      case M.Margin:
        return div(value(M.Profit, s, p, sc), sales);
      case M.Big: {
        // IF(sales > 100, Profit, MAX(units, 0)): empty only when every cell read (the condition's
        // and the branch taken's) is empty.
        if ((sales ?? 0) > 100) return value(M.Profit, s, p, sc);
        const units = base(M.Units, s, p, sc);
        return sales === null && units === null ? null : Math.max(units ?? 0, 0);
      }
      default:
        return base(m, s, p, sc);
    }
  };
  return value;
}

/** Every cell of the cube: each member of each dimension. */
function allCells(): Int32Array[] {
  const out: Int32Array[] = [];
  for (let s = 0; s < store.members.length; s++)
    for (let p = 0; p < product.members.length; p++)
      for (let sc = 0; sc < scenario.members.length; sc++) for (let m = 0; m < MEASURES.length; m++) out.push(Int32Array.of(s, p, sc, m));
  return out;
}

function at(cube: Cube, ...members: string[]): Int32Array {
  const c = cube.resolve(members);
  if (!(c instanceof Int32Array)) throw new Error(c.message);
  return c;
}

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

const writer = { user: "t", at: 1 };

/** Watched states against fresh reads: versions equal, values within float noise (watched cells move by deltas). */
function expectSame(watched: { value: number | null; version: number; calculated?: boolean }[], read: typeof watched): void {
  expect(watched.map((s) => ({ ...s, value: s.value === null ? null : Number(s.value.toPrecision(12)) }))).toEqual(
    read.map((s) => ({ ...s, value: s.value === null ? null : Number(s.value.toPrecision(12)) })),
  );
}

describe("calculated cells against a brute force", () => {
  test.each([1, 2, 3, 4, 5])("every cell, leaf and consolidated, seed %i", (seed) => {
    const rows = randomRows(seed);
    const cube = new Cube(makeDef(), cellsOf(rows));
    const expected = bruteForce(rows);
    const cells = allCells();
    const states = cube.getCells(cells);
    const failures: string[] = [];
    cells.forEach((c, i) => {
      const want = expected(c[3], c[0], c[1], c[2]);
      if (!close(states[i].value, want)) failures.push(`${cube.uniqueNames(c).join(", ")}: ${states[i].value} != ${want}`);
      if ((states[i].calculated ?? false) !== (c[2] >= SC.Variance || c[3] >= M.Profit)) failures.push(`${cube.uniqueNames(c).join(", ")}: calculated flag`);
    });
    expect(failures).toEqual([]);
    // Read one by one (no shared batch), the same values.
    const some = cells.filter((_, i) => i % 7 === seed);
    const fresh = new Cube(makeDef(), cellsOf(rows));
    for (const c of some) expect(close(fresh.getCells([c])[0].value, expected(c[3], c[0], c[1], c[2]))).toBe(true);
  });

  test("Margin % at a consolidated level is USA profit over USA sales, not a sum of ratios", () => {
    const rows: [number, number, number, number, number][] = [
      [ST.LA, 1, SC.Actual, M.Sales, 100],
      [ST.LA, 1, SC.Actual, M.Cost, 60],
      [ST.Seattle, 1, SC.Actual, M.Sales, 300],
      [ST.Seattle, 1, SC.Actual, M.Cost, 240],
    ];
    const cube = new Cube(makeDef(), cellsOf(rows));
    const [la, wa, usa, all] = cube.getCells([
      at(cube, "[Measures].[Margin %]", "[Store].[USA].[CA].[LA]", "[Product].[Food]"),
      at(cube, "[Measures].[Margin %]", "[Store].[USA].[WA]"),
      at(cube, "[Measures].[Margin %]", "[Store].[USA]"),
      at(cube, "[Measures].[Margin %]"),
    ]);
    expect(la.value).toBeCloseTo(0.4, 12);
    expect(wa.value).toBeCloseTo(0.2, 12);
    expect(usa.value).toBeCloseTo(100 / 400, 12);
    expect(all.value).toBeCloseTo(0.25, 12);
    expect(cube.getCells([at(cube, "[Measures].[Profit]", "[Store].[USA]")])[0]).toEqual({ value: 100, version: 0, calculated: true });
  });
});

describe("solve order", () => {
  const rows: [number, number, number, number, number][] = [
    [ST.LA, 1, SC.Actual, M.Sales, 100],
    [ST.LA, 1, SC.Actual, M.Cost, 60],
    [ST.LA, 1, SC.Plan, M.Sales, 200],
    [ST.LA, 1, SC.Plan, M.Cost, 100],
  ];
  // Actual margin 40%, Plan margin 50%; profit 40 -> 100, sales 100 -> 200.
  const marginVariance = (formulas: CubeFormula[], dims?: DimensionDef[]) => {
    const cube = new Cube(makeDef(formulas, dims), cellsOf(dims ? rows.map(([s, p, sc, m, v]) => [m, s, p, sc, v]) : rows));
    const c = at(cube, "[Measures].[Margin %]", "[Scenario].[Variance]");
    return { value: cube.getCells([c])[0].value, formula: cube.formulaOf(c)?.member, pct: cube.getCells([at(cube, "[Measures].[Profit]", "[Scenario].[Variance %]")])[0].value };
  };
  const withOrder = (variance: number | undefined, margin: number | undefined) =>
    FORMULAS.map((f) => (f.member.startsWith("[Scenario]") ? { ...f, solveOrder: variance } : f.member === "[Measures].[Margin %]" ? { ...f, solveOrder: margin } : f));

  test("the highest solve order computes the cell: Variance at 1 gives a difference of margins", () => {
    const r = marginVariance(FORMULAS);
    expect(r.formula).toBe("[Scenario].[Variance]");
    expect(r.value).toBeCloseTo(0.5 - 0.4, 12); // percentage points
    expect(r.pct).toBeCloseTo((100 - 40) / 40, 12); // (Plan profit - Actual profit) / Actual profit
  });

  test("Margin % at a higher solve order gives a ratio of differences", () => {
    const r = marginVariance(withOrder(0, 2));
    expect(r.formula).toBe("[Measures].[Margin %]");
    expect(r.value).toBeCloseTo((100 - 40) / (200 - 100), 12);
  });

  test("ties go to the dimension listed first in the cube", () => {
    const tie = withOrder(undefined, undefined);
    const r = marginVariance(tie);
    expect(r.formula).toBe("[Scenario].[Variance]"); // Scenario comes before Measures
    const measuresFirst = marginVariance(tie, [measures, store, product, scenario]);
    expect(measuresFirst.formula).toBe("[Measures].[Margin %]");
    expect(measuresFirst.value).toBeCloseTo(60 / 100, 12);
  });

  test("isCalculated, formulaOf and memberFormula", () => {
    const cube = new Cube(makeDef(), cellsOf(rows));
    expect(cube.isCalculated(at(cube, "[Measures].[Store Sales]", "[Store].[USA]"))).toBe(false);
    expect(cube.formulaOf(at(cube, "[Measures].[Store Sales]"))).toBeNull();
    expect(cube.isCalculated(at(cube, "[Measures].[Profit]", "LA", "Food"))).toBe(true);
    expect(cube.isConsolidated(at(cube, "[Measures].[Profit]", "LA", "Food"))).toBe(false);
    expect(cube.formulaOf(at(cube, "[Measures].[Profit]", "[Scenario].[Variance %]"))).toEqual({
      member: "[Scenario].[Variance %]",
      expression: "([Scenario].[Plan] - [Scenario].[Actual]) / [Scenario].[Actual]",
      solveOrder: 1,
    });
    const m = cube.dims.findIndex((d) => d.name === "Measures");
    expect(cube.memberFormula(m, M.Margin)).toEqual({ member: "[Measures].[Margin %]", expression: "[Measures].[Profit] / [Measures].[Store Sales]", solveOrder: 0 });
    expect(cube.memberFormula(m, M.Sales)).toBeNull();
    expect(cube.memberFormula(0, ST.USA)).toBeNull();
  });
});

describe("empty cells and division by zero", () => {
  const rows: [number, number, number, number, number][] = [
    [ST.LA, 1, SC.Actual, M.Sales, 0],
    [ST.LA, 1, SC.Actual, M.Cost, 5],
    [ST.SF, 1, SC.Plan, M.Sales, 50],
    [ST.Seattle, 1, SC.Actual, M.Units, 3],
  ];
  const cube = new Cube(makeDef(), cellsOf(rows));
  const v = (...members: string[]) => cube.getCells([at(cube, ...members)])[0].value;

  test("a ratio over zero sales is empty; over no sales too", () => {
    expect(v("[Measures].[Profit]", "LA", "Food")).toBe(-5);
    expect(v("[Measures].[Margin %]", "LA", "Food")).toBeNull();
    expect(v("[Measures].[Margin %]", "Seattle", "Food")).toBeNull(); // sales and cost empty
    expect(v("[Measures].[Profit]", "Seattle", "Food")).toBeNull();
    expect(v("[Measures].[Margin %]", "BC")).toBeNull(); // nothing at all
  });

  test("Variance % is empty when Actual is empty or 0; Variance treats an empty side as 0", () => {
    expect(v("[Measures].[Store Sales]", "SF", "[Scenario].[Variance]")).toBe(50);
    expect(v("[Measures].[Store Sales]", "SF", "[Scenario].[Variance %]")).toBeNull(); // Actual empty
    expect(v("[Measures].[Store Sales]", "LA", "[Scenario].[Variance %]")).toBeNull(); // Actual 0
    expect(v("[Measures].[Store Cost]", "LA", "[Scenario].[Variance %]")).toBe(-1); // Plan empty: (0 - 5) / 5
    expect(v("[Measures].[Store Sales]", "BC", "[Scenario].[Variance]")).toBeNull();
  });
});

describe("versions, cache and writes", () => {
  test("a calculated cell's version is the highest version of the base cells it reads", () => {
    const rows = randomRows(7);
    const cube = new Cube(makeDef(), cellsOf(rows));
    const margin = at(cube, "[Measures].[Margin %]", "[Store].[USA]");
    const big = at(cube, "[Measures].[Big]", "[Store].[USA]");
    expect(cube.getCells([margin])[0].version).toBe(0);
    cube.applyChanges([{ coords: Int32Array.of(ST.LA, 1, SC.Actual, M.Units), value: 1, version: 5, writer }]);
    // Margin % does not read Unit Sales; Big does (in a branch it may not take).
    expect(cube.getCells([margin, big]).map((s) => s.version)).toEqual([0, 5]);
    cube.applyChanges([{ coords: Int32Array.of(ST.SF, 2, SC.Actual, M.Cost), value: 1, version: 9, writer }]);
    expect(cube.getCells([margin, big]).map((s) => s.version)).toEqual([9, 9]);
    // The Plan version of the same cell is untouched; the variance reads both.
    expect(cube.getCells([at(cube, "[Measures].[Margin %]", "[Store].[USA]", "[Scenario].[Plan]")])[0].version).toBe(0);
    expect(cube.getCells([at(cube, "[Measures].[Margin %]", "[Store].[USA]", "[Scenario].[Variance]")])[0].version).toBe(9);
  });

  test("cached calculated cells follow writes; the operands of a batch come out the same as read alone", () => {
    const rows = randomRows(8);
    const cube = new Cube(makeDef(), cellsOf(rows));
    const cells = [at(cube, "[Measures].[Margin %]", "CA"), at(cube, "[Measures].[Store Sales]", "CA"), at(cube, "[Measures].[Profit]", "CA")];
    const first = cube.getCells(cells);
    expect(cube.getCells(cells)).toEqual(first);
    const leaf = Int32Array.of(ST.LA, 1, SC.Actual, M.Sales);
    cube.applyChanges([{ coords: leaf, value: 1000, version: 3, writer }]);
    const after = cube.getCells(cells);
    const expected = bruteForce(rows.filter((r) => !(r[0] === ST.LA && r[1] === 1 && r[2] === SC.Actual && r[3] === M.Sales)).concat([[ST.LA, 1, SC.Actual, M.Sales, 1000]]));
    expect(close(after[0].value, expected(M.Margin, ST.CA, 0, SC.Actual))).toBe(true);
    expect(close(after[1].value, expected(M.Sales, ST.CA, 0, SC.Actual))).toBe(true);
    expect(after.map((s) => s.version)).toEqual([3, 3, 3]);
  });

  test("applying a change to a calculated cell is a caller bug", () => {
    const cube = new Cube(makeDef(), cellsOf(randomRows(1)));
    expect(() => cube.applyChanges([{ coords: Int32Array.of(ST.LA, 1, SC.Actual, M.Profit), value: 1, version: 1, writer }])).toThrow(
      "a change addresses a calculated cell",
    );
    expect(() => cube.applyChanges([{ coords: Int32Array.of(ST.LA, 1, SC.Variance, M.Sales), value: 1, version: 1, writer }])).toThrow(
      "a change addresses a calculated cell",
    );
  });
});

describe("streaming calculated cells", () => {
  test("a leaf write under CA moves a watched Margin % at USA, and only the cells that read it", () => {
    const rows = randomRows(11);
    const cube = new Cube(makeDef(), cellsOf(rows));
    const watched = [
      at(cube, "[Measures].[Margin %]", "[Store].[USA]"), // 0
      at(cube, "[Measures].[Store Sales]", "[Store].[USA]"), // 1: a base cell, also read by 0
      at(cube, "[Measures].[Margin %]", "[Store].[Canada]"), // 2
      at(cube, "[Measures].[Profit]", "[Store].[USA].[CA]", "[Scenario].[Variance %]"), // 3
      at(cube, "[Measures].[Unit Sales]", "[Store].[USA]"), // 4
      at(cube, "[Measures].[Margin %]", "[Store].[USA]"), // 5: the same cell twice
    ];
    const calls: number[][] = [];
    const w = cube.watch(watched, (ix) => calls.push(ix));
    expect(w.states()).toEqual(cube.getCells(watched));
    expect(w.states([0])[0].calculated).toBe(true);

    cube.applyChanges([{ coords: Int32Array.of(ST.LA, 2, SC.Actual, M.Sales), value: 123.45, version: 4, writer }]);
    expect(calls).toEqual([[0, 1, 3, 5]]);
    const fresh = cube.getCells(watched);
    expectSame(w.states(), fresh);
    expect(fresh[0].version).toBe(4);

    // Under Canada: only Canada's margin. Unit Sales: only the Unit Sales cell.
    cube.applyChanges([{ coords: Int32Array.of(ST.BC, 1, SC.Actual, M.Cost), value: 7, version: 5, writer }]);
    cube.applyChanges([{ coords: Int32Array.of(ST.SF, 1, SC.Actual, M.Units), value: 7, version: 6, writer }]);
    expect(calls.slice(1)).toEqual([[2], [4]]);
    // Plan under CA: the Variance % of CA profit.
    cube.applyChanges([{ coords: Int32Array.of(ST.SF, 1, SC.Plan, M.Cost), value: 1, version: 7, writer }]);
    expect(calls.at(-1)).toEqual([3]);
    expectSame(w.states(), cube.getCells(watched));

    w.close();
    cube.applyChanges([{ coords: Int32Array.of(ST.LA, 2, SC.Actual, M.Sales), value: 1, version: 8, writer }]);
    expect(calls).toHaveLength(4);
    expect(cube.watchedCellCount()).toBe(0);
  });

  test("a write that changes neither value nor version of a calculated cell is not reported", () => {
    const rows: [number, number, number, number, number][] = [
      [ST.LA, 1, SC.Actual, M.Sales, 100],
      [ST.LA, 1, SC.Actual, M.Cost, 60],
      [ST.LA, 1, SC.Actual, M.Units, 1],
    ];
    const cube = new Cube(makeDef(), cellsOf(rows));
    const calls: number[][] = [];
    const w = cube.watch([at(cube, "[Measures].[Margin %]", "LA", "Food"), at(cube, "[Measures].[Big]", "LA", "Food")], (ix) => calls.push(ix));
    expect(w.states().map((s) => s.value)).toEqual([0.4, 1]);
    // Big reads Unit Sales (as 1); its value stays 1 at version 3, so it is reported for the version.
    cube.applyChanges([{ coords: Int32Array.of(ST.LA, 1, SC.Actual, M.Units), value: 1, version: 3, writer }]);
    expect(calls).toEqual([[1]]);
    expect(w.states()[1]).toEqual({ value: 1, version: 3, calculated: true });
    w.close();
  });

  test("after random writes, every watched cell equals a fresh read", () => {
    const rows = randomRows(21);
    const cube = new Cube(makeDef(), cellsOf(rows));
    const r = rng(99);
    const cells = allCells().filter(() => r() < 0.3);
    let changedCalls = 0;
    const w = cube.watch(cells, () => changedCalls++);
    for (let k = 0; k < 40; k++) {
      const leaf = Int32Array.of(STORE_LEAVES[Math.floor(r() * 4)], 1 + Math.floor(r() * 2), Math.floor(r() * 2), Math.floor(r() * 3));
      const value = r() < 0.2 ? null : r() < 0.1 ? 0 : Math.round(r() * 10000) / 100;
      cube.applyChanges([{ coords: leaf, value, version: 10 + k, writer }]);
      const states = w.states();
      const now = cube.getCells(cells);
      cells.forEach((c, i) => {
        if (!close(states[i].value, now[i].value) || states[i].version !== now[i].version) {
          throw new Error(`after write ${k}: ${cube.uniqueNames(c).join(", ")}: watched ${JSON.stringify(states[i])}, read ${JSON.stringify(now[i])}`);
        }
      });
    }
    expect(changedCalls).toBeGreaterThan(20);
    w.close();
  });
});

describe("the constructor checks the formulas", () => {
  test("a cycle names its members in order", () => {
    const formulas: CubeFormula[] = [
      { member: "[Measures].[Profit]", expression: "[Measures].[Margin %] * [Measures].[Store Sales]" },
      { member: "[Measures].[Margin %]", expression: "[Measures].[Profit] / [Measures].[Store Sales]" },
    ];
    expect(() => new Cube(makeDef(formulas), cellsOf([]))).toThrow(FormulaGraphError);
    expect(() => new Cube(makeDef(formulas), cellsOf([]))).toThrow(
      "formula cycle: [Measures].[Profit] -> [Measures].[Margin %] -> [Measures].[Profit]",
    );
  });

  test("a formula member may not add into a consolidated member, nor have members below it", () => {
    expect(() => new Cube(makeDef([{ member: "[Store].[Canada].[BC]", expression: "[Store].[USA]" }]), cellsOf([]))).toThrow(
      "formula for [Store].[Canada].[BC]: a formula member must not add into a consolidated member (here [Store].[Canada])",
    );
    expect(() => new Cube(makeDef([{ member: "[Store].[Canada]", expression: "[Store].[USA]" }]), cellsOf([]))).toThrow(
      "a formula member cannot have members below it",
    );
  });

  test("no cell may be stored at a formula member", () => {
    expect(() => new Cube(makeDef(), cellsOf([[ST.LA, 1, SC.Actual, M.Profit, 1]]))).toThrow(
      "cell row 0 is stored at [Measures].[Profit], a formula member",
    );
  });

  test("a cube without formulas has no calculated cells", () => {
    const cube = new Cube(makeDef([]), cellsOf(randomRows(1)));
    expect(cube.formulas).toBeNull();
    expect(cube.isCalculated(Int32Array.of(0, 0, SC.Variance, M.Profit))).toBe(false);
    expect(cube.getCells([Int32Array.of(0, 0, SC.Variance, M.Profit)])[0]).toEqual({ value: null, version: 0 });
  });
});
