/**
 * planSpreadSteps, the spread planner in steps: it pauses on a large target, ends with the plan
 * planSpread makes at once, and reads each leaf's value and version in the same step, so a leaf
 * another write changes between steps is planned with the state it was read in (the commit's
 * version check then refuses it) and never with one state's value and another's version.
 */
import { Cube } from "../cube";
import type { CubeDef, DimensionDef } from "../model";
import { planSpread, planSpreadSteps, type SpreadPlan, type SpreadSpec } from "./target";

/** A flat dimension: an All member over `n` leaves. */
function flat(name: string, n: number): DimensionDef {
  return {
    name,
    levels: ["(All)", name],
    hasAll: true,
    members: [{ name: `All ${name}`, parent: -1, level: 0 }, ...Array.from({ length: n }, (_, i) => ({ name: `${name}${i}`, parent: 0, level: 1 }))],
  };
}

const SIDE = 320; // 102,400 leaves under the top cell: more than one step of the planner
const def: CubeDef = { name: "Steps", dimensions: [flat("A", SIDE), flat("B", SIDE)] };

function cube(): Cube {
  const n = SIDE * SIDE;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = 1 + Math.floor(i / SIDE);
    b[i] = 1 + (i % SIDE);
    values[i] = 1 + (i % 97);
  }
  return new Cube(def, { count: n, coords: [a, b], values });
}

const P: SpreadSpec = { method: "P", action: "replace", includeEmpty: false, value: 1_000_000, percent: 0, reference: null };
const top = Int32Array.of(0, 0);
const limits = { maxNewCells: 0 };

function ok(r: ReturnType<typeof planSpread>): SpreadPlan {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r;
}

/** Runs the steps, calling `at(k)` at the k-th pause; returns the plan and the number of pauses. */
function run(c: Cube, at: (k: number) => void = () => {}): { plan: SpreadPlan; pauses: number } {
  const steps = planSpreadSteps(c, top, P, [], limits);
  let pauses = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { plan: ok(step.value), pauses };
    at(++pauses);
  }
}

describe("planSpreadSteps", () => {
  it("pauses on a large target and ends with the plan planSpread makes at once", () => {
    const c = cube();
    const { plan, pauses } = run(c);
    expect(pauses).toBeGreaterThanOrEqual(3);
    const whole = ok(planSpread(c, top, P, [], limits));
    expect(plan.count).toBe(SIDE * SIDE);
    expect(plan.coords).toEqual(whole.coords);
    expect(plan.newValues).toEqual(whole.newValues);
    expect(plan.oldValues).toEqual(whole.oldValues);
    expect(plan.baseVersions).toEqual(whole.baseVersions);
    expect(plan.total).toBeCloseTo(1_000_000, 6);
  });

  it("plans a leaf changed between steps with the value and version it read together", () => {
    const { pauses } = run(cube());
    const leaf = Int32Array.of(1, 1); // the first leaf row
    const seen = new Set<string>();
    for (let when = 1; when <= pauses; when++) {
      const c = cube();
      const before = c.leafState(leaf);
      const { plan } = run(c, (k) => {
        if (k === when) c.applyChanges([{ coords: leaf, value: 5_000, version: 42, writer: { user: "other", at: 0 } }]);
      });
      let k = 0;
      while (plan.coords[2 * k] !== 1 || plan.coords[2 * k + 1] !== 1) k++;
      // Both from before the change (the commit then finds version 42 and refuses the spread) or both after.
      const pair = [plan.oldValues[k], plan.baseVersions[k]];
      expect([[before.value, before.version], [5_000, 42]]).toContainEqual(pair);
      seen.add(pair[1] === 42 ? "after" : "before");
    }
    // The change fell both before and after the leaf was read.
    expect(seen).toEqual(new Set(["before", "after"]));
  });
});
