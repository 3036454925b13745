/**
 * planScenarioCopySteps, the scenario copy planner in steps: it ends with the plan made at once,
 * and reads each target leaf's value and version in one step, so a leaf another write changes
 * between steps is planned with the state it was read in (the commit's version check then refuses
 * it), never with one state's value and another's version.
 */
import { Cube } from "./cube";
import type { CubeDef, DimensionDef } from "./model";
import { planScenarioCopy, planScenarioCopySteps, type ScenarioCopyPlan, type ScenarioCopySpec } from "./scenario";

const flat = (name: string, n: number): DimensionDef => ({
  name,
  levels: ["(All)", name],
  hasAll: true,
  members: [{ name: `All ${name}`, parent: -1, level: 0 }, ...Array.from({ length: n }, (_, i) => ({ name: `${name}${i}`, parent: 0, level: 1 }))],
});
const scenario: DimensionDef = {
  name: "Scenario",
  levels: ["Scenario"],
  hasAll: false,
  members: [
    { name: "Actual", parent: -1, level: 0 },
    { name: "Plan", parent: -1, level: 0 },
  ],
};
const SIDE = 60;
const def: CubeDef = { name: "CopySteps", dimensions: [flat("A", SIDE), flat("B", SIDE), scenario] };

/** Actual on every leaf but those with a = b; Plan on two leaves of three (some with no Actual: cleared). */
function cube(): Cube {
  const rows: number[][] = [];
  for (let a = 1; a <= SIDE; a++) {
    for (let b = 1; b <= SIDE; b++) {
      if (a !== b) rows.push([a, b, 0, a * 100 + b]);
      if ((a + b) % 3 !== 0) rows.push([a, b, 1, a + b]);
    }
  }
  return new Cube(def, {
    count: rows.length,
    coords: [0, 1, 2].map((d) => Int32Array.from(rows, (r) => r[d])),
    values: Float64Array.from(rows, (r) => r[3]),
  });
}

const spec: ScenarioCopySpec = { dim: 2, from: 0, to: 1, factor: 1.05, slice: Int32Array.of(-1, -1, -1) };
const STEP = 500;

function run(c: Cube, at: (k: number) => void = () => {}): { plan: ScenarioCopyPlan; pauses: number } {
  const steps = planScenarioCopySteps(c, spec, STEP);
  let pauses = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { plan: step.value, pauses };
    at(++pauses);
  }
}

describe("planScenarioCopySteps", () => {
  it("pauses and ends with the plan made at once", () => {
    const c = cube();
    const { plan, pauses } = run(c);
    expect(pauses).toBeGreaterThanOrEqual(6);
    const whole = planScenarioCopy(c, spec);
    expect(plan.count).toBe(whole.count);
    expect(plan.cleared).toBe(whole.cleared);
    expect(plan.cleared).toBeGreaterThan(0);
    expect(plan.coords).toEqual(whole.coords);
    expect(plan.newValues).toEqual(whole.newValues);
    expect(plan.oldValues).toEqual(whole.oldValues);
    expect(plan.baseVersions).toEqual(whole.baseVersions);
  });

  it("plans a target leaf changed between steps with the value and version it read together", () => {
    const { pauses } = run(cube());
    // A target leaf with a source (copied; its source row comes last) and one without (cleared; its row comes first).
    for (const leaf of [Int32Array.of(SIDE, SIDE - 1, 1), Int32Array.of(1, 1, 1)]) {
      const seen = new Set<string>();
      for (let when = 1; when <= pauses; when++) {
        const c = cube();
        const before = c.leafState(leaf);
        expect(before.value).not.toBeNull();
        const { plan } = run(c, (k) => {
          if (k === when) c.applyChanges([{ coords: leaf, value: 5_000, version: 42, writer: { user: "other", at: 0 } }]);
        });
        let k = 0;
        while (k < plan.count && (plan.coords[3 * k] !== leaf[0] || plan.coords[3 * k + 1] !== leaf[1])) k++;
        expect(k).toBeLessThan(plan.count);
        const pair = [plan.oldValues[k], plan.baseVersions[k]];
        expect([[before.value, before.version], [5_000, 42]]).toContainEqual(pair);
        seen.add(pair[1] === 42 ? "after" : "before");
      }
      expect(seen).toEqual(new Set(["before", "after"]));
    }
  });
});
