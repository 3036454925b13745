/**
 * planSpread on a cube: which leaves take part (stored rows, every leaf for `*` and for P over a
 * zero base), weights from the hierarchy, holds on leaf and consolidated cells, TM1's immediate
 * children across several consolidated dimensions, references, the new-cell limit, and a random
 * check against brute force: after the plan is applied, the consolidated cell reads the target.
 */
import { mulberry32 } from "../../../../bench/rng";
import { Cube, type LeafChange } from "../cube";
import type { CubeDef, DimensionDef, LeafCells } from "../model";
import { lastWrittenBelow, planSpread, type SpreadPlan, type SpreadSpec } from "./target";

/** Region: All > {North > {N1, N2}, South > {S1}}. */
const region: DimensionDef = {
  name: "Region",
  levels: ["(All)", "Area", "City"],
  hasAll: true,
  members: [
    { name: "All", parent: -1, level: 0 }, // 0
    { name: "North", parent: 0, level: 1 }, // 1
    { name: "N1", parent: 1, level: 2 }, // 2
    { name: "N2", parent: 1, level: 2 }, // 3
    { name: "South", parent: 0, level: 1 }, // 4
    { name: "S1", parent: 4, level: 2 }, // 5
  ],
};
/** Month: Year > {Q1 > {Jan, Feb}, Q2 > {Apr}}. */
const time: DimensionDef = {
  name: "Time",
  levels: ["Year", "Quarter", "Month"],
  hasAll: false,
  members: [
    { name: "Year", parent: -1, level: 0 }, // 0
    { name: "Q1", parent: 0, level: 1 }, // 1
    { name: "Jan", parent: 1, level: 2 }, // 2
    { name: "Feb", parent: 1, level: 2 }, // 3
    { name: "Q2", parent: 0, level: 1 }, // 4
    { name: "Apr", parent: 4, level: 2 }, // 5
  ],
};
/** Account: Net = Revenue - Cost. */
const account: DimensionDef = {
  name: "Account",
  levels: ["Total", "Line"],
  hasAll: false,
  members: [
    { name: "Net", parent: -1, level: 0 }, // 0
    { name: "Revenue", parent: 0, level: 1 }, // 1
    { name: "Cost", parent: 0, level: 1, weight: -1 }, // 2
  ],
};
const scenario: DimensionDef = {
  name: "Scenario",
  levels: ["Scenario"],
  hasAll: false,
  members: [
    { name: "Actual", parent: -1, level: 0 }, // 0
    { name: "Plan", parent: -1, level: 0 }, // 1
  ],
};
const def: CubeDef = { name: "T", dimensions: [region, time, account, scenario] };

type Row = [number, number, number, number, number];

function cube(rows: Row[]): Cube {
  const cells: LeafCells = {
    count: rows.length,
    coords: [0, 1, 2, 3].map((d) => Int32Array.from(rows.map((r) => r[d]))),
    values: Float64Array.from(rows.map((r) => r[4])),
  };
  return new Cube(def, cells);
}

const spec = (s: Partial<SpreadSpec>): SpreadSpec => ({
  method: "P",
  action: "replace",
  includeEmpty: false,
  value: 0,
  percent: 0,
  reference: null,
  ...s,
});
const at = (...c: number[]) => Int32Array.from(c);
const limits = { maxNewCells: 1000 };

/** Applies a plan the way the backend does after committing it. */
function apply(c: Cube, plan: SpreadPlan, version = 1): void {
  const changes: LeafChange[] = [];
  for (let k = 0; k < plan.count; k++) {
    const v = plan.newValues[k];
    changes.push({ coords: plan.coords.slice(k * plan.dims, (k + 1) * plan.dims), value: v === v ? v : null, version, writer: { user: "t", at: 0 } });
  }
  c.applyChanges(changes);
}
const value = (c: Cube, ...coords: number[]) => c.getCells([at(...coords)])[0].value;
function ok(r: ReturnType<typeof planSpread>): SpreadPlan {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r;
}

// Revenue, Actual: N1 Jan 10, N2 Jan 30, S1 Feb 60; Cost Actual N1 Jan 4.
const base: Row[] = [
  [2, 2, 1, 0, 10],
  [3, 2, 1, 0, 30],
  [5, 3, 1, 0, 60],
  [2, 2, 2, 0, 4],
];

describe("planSpread", () => {
  it("spreads proportionally over the stored leaves, leaving empty leaves empty", () => {
    const c = cube(base);
    const plan = ok(planSpread(c, at(0, 0, 1, 0), spec({ value: 200 }), [], limits));
    expect(plan.count).toBe(3);
    expect(plan.newCells).toBe(0);
    apply(c, plan);
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(200, 10);
    expect(value(c, 2, 2, 1, 0)).toBeCloseTo(20, 10);
    expect(value(c, 3, 2, 1, 0)).toBeCloseTo(60, 10);
    expect(value(c, 5, 3, 1, 0)).toBeCloseTo(120, 10);
    expect(value(c, 2, 3, 1, 0)).toBeNull(); // N1 Feb stays empty
  });

  it("respects weights: a spread into Net moves Revenue and Cost so that Revenue - Cost is the target", () => {
    const c = cube(base);
    // Net at N1 Jan Actual = 10 - 4 = 6; spread 12 proportionally: each leaf doubles.
    const plan = ok(planSpread(c, at(2, 2, 0, 0), spec({ value: 12 }), [], limits));
    apply(c, plan);
    expect(value(c, 2, 2, 0, 0)).toBeCloseTo(12, 10);
    expect(value(c, 2, 2, 1, 0)).toBeCloseTo(20, 10);
    expect(value(c, 2, 2, 2, 0)).toBeCloseTo(8, 10);
  });

  it("keeps held leaves and leaves under a held consolidated cell; the others absorb the change", () => {
    const c = cube(base);
    // Hold N1 Jan (a leaf) and South (consolidated): only N2 Jan moves.
    const holds = [at(2, 2, 1, 0), at(4, 0, 1, 0)];
    const plan = ok(planSpread(c, at(0, 0, 1, 0), spec({ value: 200 }), holds, limits));
    expect(plan.count).toBe(1);
    apply(c, plan);
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(200, 10);
    expect(value(c, 2, 2, 1, 0)).toBe(10);
    expect(value(c, 5, 3, 1, 0)).toBe(60);
    expect(value(c, 3, 2, 1, 0)).toBeCloseTo(130, 10);
  });

  it("holds the leaves the writer may not change (write masks), counts them, and names them when the target is out of reach", () => {
    const c = cube(base);
    // Region mask: N1 may not be written; the other dimensions allow everything.
    const regionMask = Uint8Array.from([1, 1, 0, 1, 1, 1]);
    const plan = ok(planSpread(c, at(0, 0, 1, 0), spec({ value: 200 }), [], limits, [regionMask, null, null, null]));
    expect(plan.heldByRights).toBe(1);
    apply(c, plan);
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(200, 10);
    expect(value(c, 2, 2, 1, 0)).toBe(10); // N1 Jan kept
    // A leaf held both ways counts as held by the hold, not by rights.
    const both = ok(planSpread(c, at(0, 0, 1, 0), spec({ value: 300 }), [at(2, 2, 1, 0)], limits, [regionMask, null, null, null]));
    expect(both.heldByRights).toBe(0);
    // North with N1 and N2 both forbidden: nothing can move, and the message says why.
    const none = planSpread(c, at(1, 0, 1, 0), spec({ value: 5 }), [], limits, [Uint8Array.from([1, 1, 0, 0, 1, 1]), null, null, null]);
    expect(none).toMatchObject({ ok: false, code: "ALL_HELD" });
    expect((none as { message: string }).message).toMatch(/all 6 leaves are held .*\(6 leaf cells are held because you may not write them\)/);
    // All-null masks are no masks.
    expect(ok(planSpread(c, at(0, 0, 1, 0), spec({ value: 10 }), [], limits, [null, null, null, null])).heldByRights).toBe(0);
  });

  it("refuses when every leaf is held", () => {
    const c = cube(base);
    const r = planSpread(c, at(1, 0, 1, 0), spec({ value: 5 }), [at(1, 0, 1, 0)], limits);
    expect(r).toMatchObject({ ok: false, code: "ALL_HELD" });
  });

  it("falls back from proportional to equal leaves over every leaf when the base is zero (new cells)", () => {
    const c = cube(base);
    // Plan holds nothing: the 9 leaves under All x Year (3 cities x 3 months) get 10 each.
    const plan = ok(planSpread(c, at(0, 0, 1, 1), spec({ value: 90 }), [], limits));
    expect(plan.count).toBe(9);
    expect(plan.newCells).toBe(9);
    apply(c, plan);
    expect(value(c, 0, 0, 1, 1)).toBeCloseTo(90, 10);
    expect(value(c, 5, 5, 1, 1)).toBeCloseTo(10, 10);
  });

  it("refuses a spread that would create more new cells than the limit, saying how many", () => {
    const c = cube(base);
    const r = planSpread(c, at(0, 0, 1, 1), spec({ value: 90 }), [], { maxNewCells: 5 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe("TOO_MANY_NEW_CELLS");
      expect(r.message).toMatch(/create 9 new leaf cells.*limit is 5/);
    }
  });

  it("spreads S equally over the immediate children of every consolidated dimension (areas x quarters)", () => {
    const c = cube(base);
    // Children: {North, South} x {Q1, Q2}; stored leaves lie in (North,Q1) and (South,Q1) only,
    // so those two groups take 50 each, proportionally inside.
    const plan = ok(planSpread(c, at(0, 0, 1, 0), spec({ method: "S", value: 100 }), [], limits));
    apply(c, plan);
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(100, 10);
    expect(value(c, 1, 1, 1, 0)).toBeCloseTo(50, 10);
    expect(value(c, 4, 1, 1, 0)).toBeCloseTo(50, 10);
    expect(value(c, 2, 2, 1, 0)).toBeCloseTo(12.5, 10);
  });

  it("spreads S into a total whose leaves are all empty: each child its equal share, equally over its leaves (ProportionSpreadToZeroCells read for S)", () => {
    const c = cube(base);
    // Plan, Year, North, Revenue: nothing stored; children Q1 (Jan, Feb), Q2 (Apr) get 60 each
    const plan = ok(planSpread(c, at(1, 0, 1, 1), spec({ method: "S", value: 120 }), [], limits));
    apply(c, plan);
    expect([value(c, 1, 1, 1, 1), value(c, 1, 4, 1, 1)]).toEqual([60, 60]);
    expect([value(c, 2, 2, 1, 1), value(c, 3, 3, 1, 1), value(c, 2, 5, 1, 1)]).toEqual([15, 15, 30]);
    expect(value(c, 1, 0, 1, 1)).toBeCloseTo(120, 9);
  });

  it("refuses RP and R% with a reference cell at another level than the target (IBM: the reference must share the same consolidations)", () => {
    const c = cube(base);
    const quarter = planSpread(c, at(0, 0, 1, 1), spec({ method: "RP", value: 100, reference: at(0, 1, 1, 0) }), [], limits);
    expect(quarter).toMatchObject({ ok: false, code: "BAD_REFERENCE", message: expect.stringMatching(/\[Time\]\.\[Year\]\.\[Q1\] has 2 leaves where the target's \[Time\]\.\[Year\] has 3/) });
    const area = planSpread(c, at(0, 0, 1, 1), spec({ method: "R%", percent: 10, reference: at(1, 0, 1, 0) }), [], limits);
    expect(area).toMatchObject({ ok: false, code: "BAD_REFERENCE" });
  });

  it("applies P% to negative leaves as to any other: -10 and 30 with P%+10 become -11 and 33, with P%50 -5 and 15 (IBM Percent change)", () => {
    const c = cube([
      [2, 2, 1, 0, -10],
      [3, 2, 1, 0, 30],
    ]);
    const up = ok(planSpread(c, at(1, 2, 1, 0), spec({ method: "P%", action: "add", percent: 10 }), [], limits));
    expect(Array.from(up.newValues).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([-11, 33]);
    const half = ok(planSpread(c, at(1, 2, 1, 0), spec({ method: "P%", percent: 50 }), [], limits));
    expect(Array.from(half.newValues)).toEqual([-5, 15]);
  });

  it("LS* reaches every leaf, LS only the non-zero ones", () => {
    const c1 = cube(base);
    apply(c1, ok(planSpread(c1, at(1, 1, 1, 0), spec({ method: "LS", value: 8 }), [], limits)));
    expect(value(c1, 2, 2, 1, 0)).toBeCloseTo(4, 10);
    expect(value(c1, 2, 3, 1, 0)).toBeNull();
    const c2 = cube(base);
    apply(c2, ok(planSpread(c2, at(1, 1, 1, 0), spec({ method: "LS", value: 8, includeEmpty: true }), [], limits)));
    expect(value(c2, 2, 2, 1, 0)).toBeCloseTo(2, 10);
    expect(value(c2, 2, 3, 1, 0)).toBeCloseTo(2, 10);
  });

  it("RP takes the proportions of the reference scenario's leaves, mapped leaf by leaf", () => {
    const c = cube(base);
    const plan = ok(planSpread(c, at(0, 0, 1, 1), spec({ method: "RP", value: 50, reference: at(0, 0, 1, 0) }), [], limits));
    apply(c, plan);
    expect(value(c, 2, 2, 1, 1)).toBeCloseTo(5, 10);
    expect(value(c, 3, 2, 1, 1)).toBeCloseTo(15, 10);
    expect(value(c, 5, 3, 1, 1)).toBeCloseTo(30, 10);
  });

  it("R% makes each leaf the reference's times (1 + percent)", () => {
    const c = cube(base);
    apply(c, ok(planSpread(c, at(0, 0, 1, 1), spec({ method: "R%", percent: 5, reference: at(0, 0, 1, 0) }), [], limits)));
    expect(value(c, 0, 0, 1, 1)).toBeCloseTo(105, 10);
    expect(value(c, 5, 3, 1, 1)).toBeCloseTo(63, 10);
  });

  it("refuses a reference of another shape", () => {
    const c = cube(base);
    const r = planSpread(c, at(0, 0, 1, 1), spec({ method: "RP", value: 1, reference: at(1, 0, 1, 0) }), [], limits);
    expect(r).toMatchObject({ ok: false, code: "BAD_REFERENCE" });
  });

  it("P% and C change the leaves in place", () => {
    const c = cube(base);
    apply(c, ok(planSpread(c, at(0, 0, 1, 0), spec({ method: "P%", action: "add", percent: 10 }), [], limits)));
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(110, 10);
    apply(c, ok(planSpread(c, at(1, 0, 1, 0), spec({ method: "C" }), [], limits)), 2);
    expect(value(c, 1, 0, 1, 0)).toBeNull();
    expect(value(c, 0, 0, 1, 0)).toBeCloseTo(66, 10);
  });

  it("finds the last written leaf below a cell", () => {
    const c = cube(base);
    expect(lastWrittenBelow(c, at(0, 0, 1, 0))).toBe(-1);
    apply(c, ok(planSpread(c, at(1, 0, 1, 0), spec({ value: 80 }), [], limits)), 7);
    const r = lastWrittenBelow(c, at(0, 0, 0, 0));
    expect(r).toBeGreaterThanOrEqual(0);
    expect(c.store.versions[r]).toBe(7);
  });

  it("meets the target at random cells with random holds (brute-force check of the leaves)", () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const rows: Row[] = [];
      for (const r of [2, 3, 5]) for (const t of [2, 3, 5]) for (const a of [1, 2]) if (rand() < 0.7) rows.push([r, t, a, 0, Math.round(rand() * 100) - 20]);
      const c = cube(rows);
      const regions = [0, 1, 2, 3, 4, 5];
      const times = [0, 1, 2, 3, 4, 5];
      const target = at(regions[Math.floor(rand() * 6)], times[Math.floor(rand() * 6)], Math.floor(rand() * 3), 0);
      if (!c.isConsolidated(target)) continue;
      const holds = rand() < 0.5 ? [at(regions[Math.floor(rand() * 6)], times[Math.floor(rand() * 6)], Math.floor(rand() * 3), 0)] : [];
      const want = Math.round(rand() * 1000) - 300;
      const before = new Map<string, number | null>();
      for (const r of [2, 3, 5]) for (const t of [2, 3, 5]) for (const a of [1, 2]) before.set(`${r},${t},${a}`, value(c, r, t, a, 0));
      const res = planSpread(c, target, spec({ value: want }), holds, limits);
      if (!res.ok) {
        expect(["ALL_HELD", "TARGET_NOT_MET", "NO_LEAVES"]).toContain(res.code);
        continue;
      }
      apply(c, res);
      expect(value(c, ...target) ?? 0).toBeCloseTo(want, 6);
      for (const r of [2, 3, 5]) {
        for (const t of [2, 3, 5]) {
          for (const a of [1, 2]) {
            const leaf = [r, t, a, 0];
            const under = c.dims.every((dim, d) => dim.contains(target[d], leaf[d]));
            const held = holds.some((h) => c.dims.every((dim, d) => dim.contains(h[d], leaf[d])));
            if (!under || held) expect(value(c, ...leaf)).toBe(before.get(`${r},${t},${a}`));
          }
        }
      }
    }
  });
});
