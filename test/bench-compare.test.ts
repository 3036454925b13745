/**
 * bench/compare.ts: a bench run compared with the previous one, timing by timing, only when both
 * ran with the same options.
 */
import { compareRuns, formatComparison } from "../bench/compare";

const run = (leaves: number, copyMs: number, p95: number) => ({
  startedAt: "2026-12-02T10:00:00.000Z",
  options: { leaves, seed: 1, only: "planning" },
  machine: { cpus: 2, loadMs: 99 },
  planning: { cubeLeaves: leaves, copy: { cells: leaves, totalMs: copyMs }, spreads: [{ label: "100k", planApplyMs: { p50: p95 / 2, p95 } }] },
});

describe("comparing bench runs", () => {
  it("lists every timing both runs measured with its change, and leaves counts and the machine out", () => {
    const changes = compareRuns(run(10, 40_000, 200), run(10, 16_000, 150));
    expect(changes).toEqual([
      { path: "planning.copy.totalMs", before: 40_000, after: 16_000, change: -0.6 },
      { path: "planning.spreads.0.planApplyMs.p50", before: 100, after: 75, change: -0.25 },
      { path: "planning.spreads.0.planApplyMs.p95", before: 200, after: 150, change: -0.25 },
    ]);
    expect(formatComparison(changes, "2026-12-02T10:00:00.000Z")[1]).toBe("  planning.copy.totalMs: 40000.0 -> 16000.0 ms (-60 %)");
  });

  it("compares nothing across runs with other options, or without a previous run", () => {
    expect(compareRuns(run(10, 1, 1), run(20, 1, 1))).toBeNull();
    expect(compareRuns(null, run(20, 1, 1))).toBeNull();
    expect(formatComparison(null, undefined)[0]).toMatch(/No comparable previous run/);
  });
});
