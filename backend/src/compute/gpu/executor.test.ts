/**
 * The GPU executor against the CPU path, on the software adapter this machine has (Mesa's
 * llvmpipe through Dawn's OpenGL ES backend; `.ci/run` installs it): every batch a Cube answers
 * with the GPU executor must equal the same batch on a Cube with the serial CPU kernel (1e-9
 * relative, cents exact), on FoodMart, on a generated cube and on random ragged, weighted cubes,
 * before and after writes and spreads; and the random cubes' cells equal a direct weighted sum.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { mulberry32 as rng } from "../../../../bench/rng";
import { generateCells, generatedCubeDef } from "../../../../bench/generate";
import { Cube, type CubeDef, type LeafCells, planSpread, serialExecutor, type SpreadSpec } from "../../lattice";
import { leafSource } from "../../lattice/evaluate/batch";
import { evaluateNarrow } from "../../lattice/evaluate/narrow";
import { randomDim, weightedSum } from "../../../../bench/random-cube";
import { loadModel } from "../../loader";
import { FOODMART_DIR } from "../../../../test/helpers/foodmart-sql";
import { GpuExecutor } from "./executor";

const FOODMART_MODEL = path.join(FOODMART_DIR, "model.yaml");

let gpu: GpuExecutor;

beforeAll(async () => {
  // Every scan goes to the GPU (minRows 0), on whatever adapter there is (QATOM_GPU=on), in
  // segments of at most 100k rows (several per scan on FoodMart and the generated cube).
  gpu = new GpuExecutor({ mode: "on", fallback: serialExecutor, minRows: 0, maxSegmentRows: 100_000 });
  await gpu.start();
}, 60_000);

afterAll(async () => {
  await gpu?.close();
});

/** Checks that two answers agree: versions and emptiness exactly, values within 1e-9 relative and to the cent. */
function expectSame(got: { value: number | null; version: number }[], want: { value: number | null; version: number }[], label: string): void {
  got.forEach((g, i) => {
    if (g.version !== want[i].version) throw new Error(`${label}: cell ${i}: version ${g.version} on the GPU, ${want[i].version} on the CPU`);
    const w = want[i].value;
    if (w === null || g.value === null) {
      if (g.value !== w) throw new Error(`${label}: cell ${i}: GPU ${g.value}, CPU ${w}`);
      return;
    }
    if (Math.abs(g.value - w) > 1e-9 * Math.max(1, Math.abs(w)) || Math.round(g.value * 100) !== Math.round(w * 100)) {
      throw new Error(`${label}: cell ${i}: GPU ${g.value}, CPU ${w}`);
    }
  });
}

/** A cube built twice from the same cells: on the GPU executor (without rollups) and on the serial CPU kernel. */
function pair(def: CubeDef, cells: LeafCells): { onGpu: Cube; onCpu: Cube } {
  const copy = (c: LeafCells): LeafCells => ({ count: c.count, coords: c.coords.map((x) => x.slice()), values: c.values.slice() });
  const onGpu = new Cube(def, copy(cells), undefined, { executor: gpu });
  const onCpu = new Cube(def, copy(cells), undefined, { executor: serialExecutor });
  // No rollups: every read after a write scans the leaf rows again (on the GPU: its resident copy).
  Object.assign(onGpu.rollupPolicy, { maxRollups: 0 });
  return { onGpu, onCpu };
}

/** `n` random cells, each dimension at a random member (every level). */
function randomCells(cube: Cube, n: number, rand: () => number): Int32Array[] {
  return Array.from({ length: n }, () => Int32Array.from(cube.dims.map((d) => Math.floor(rand() * d.size))));
}

/**
 * A report shape: up to 20 members of one random dimension against up to 50 of another, every
 * other dimension at one random member of its top two levels (cells over many leaves, which the
 * batch scans rather than narrows).
 */
function reportGrid(cube: Cube, rand: () => number): Int32Array[] {
  const nd = cube.dims.length;
  const rowDim = Math.floor(rand() * nd);
  const colDim = (rowDim + 1 + Math.floor(rand() * (nd - 1))) % nd;
  const rest = Int32Array.from(cube.dims, (dim) => {
    const shallow = Array.from({ length: dim.size }, (_, m) => m).filter((m) => dim.depth[m] <= 1);
    return shallow[Math.floor(rand() * shallow.length)];
  });
  const grid: Int32Array[] = [];
  for (let a = 0; a < Math.min(20, cube.dims[rowDim].size); a++) {
    for (let b = 0; b < Math.min(50, cube.dims[colDim].size); b++) grid.push(Int32Array.from(rest, (m, d) => (d === rowDim ? a : d === colDim ? b : m)));
  }
  return grid;
}

/** Spreads an amount proportionally into a random consolidated cell of both cubes (empty leaves included when it has none, at most 20,000), applied as columns. */
function spreadBoth(c: { onGpu: Cube; onCpu: Cube }, rand: () => number, version: number): void {
  const spec: SpreadSpec = { method: "P", action: "replace", includeEmpty: false, value: 0, percent: 0, reference: null };
  for (let tries = 0; tries < 50; tries++) {
    const target = randomCells(c.onCpu, 1, rand)[0];
    if (!c.onCpu.isConsolidated(target) || c.onCpu.isCalculated(target)) continue;
    const plan = planSpread(c.onCpu, target, { ...spec, value: Math.round(rand() * 1e7) / 100 }, [], { maxNewCells: 20_000 });
    if (!plan.ok || plan.count === 0) continue;
    for (const cube of [c.onGpu, c.onCpu]) {
      const cols = { count: plan.count, coords: plan.coords, values: plan.newValues, versions: new Float64Array(plan.count).fill(version) };
      cube.applyColumns(cols, { user: "t", at: 0 });
    }
    return;
  }
  throw new Error("no consolidated cell to spread into");
}

describe("GPU executor (software adapter)", () => {
  test("opens an adapter and passes its self-check", () => {
    expect(gpu.state).toBe("ready");
    expect(gpu.adapterDescription.length).toBeGreaterThan(0);
    expect(gpu.describe(1e7).executor).toBe("gpu");
  });

  test("FoodMart: every level of every dimension, as the CPU computes it", async () => {
    const loaded = await loadModel(FOODMART_MODEL);
    const c = pair(loaded.def, loaded.cells);
    const rand = rng(0xf00d);
    const before = gpu.stats.gpuScans;
    const narrowsBefore = gpu.stats.gpuNarrows;
    for (let round = 0; round < 3; round++) {
      const batch = randomCells(c.onCpu, 400, rand);
      expectSame(c.onGpu.getCells(batch), c.onCpu.getCells(batch), `FoodMart round ${round}`);
      const grid = reportGrid(c.onCpu, rand);
      expectSame(c.onGpu.getCells(grid), c.onCpu.getCells(grid), `FoodMart grid ${round}`);
      spreadBoth(c, rand, 1000 + round);
    }
    expect(gpu.stats.gpuScans).toBeGreaterThan(before);
    expect(gpu.stats.gpuNarrows).toBeGreaterThan(narrowsBefore);
  }, 120_000);

  test("a generated cube of 300k leaves: report-shaped and scattered batches, after writes and spreads", () => {
    const def = generatedCubeDef();
    const c = pair(def, generateCells(def, { count: 300_000, seed: 5 }));
    const rand = rng(77);
    const before = gpu.stats.gpuScans;
    const narrowsBefore = gpu.stats.gpuNarrows;
    for (let round = 0; round < 3; round++) {
      const batch = randomCells(c.onCpu, 300, rand);
      expectSame(c.onGpu.getCells(batch), c.onCpu.getCells(batch), `generated round ${round}`);
      const grid = reportGrid(c.onCpu, rand);
      expectSame(c.onGpu.getCells(grid), c.onCpu.getCells(grid), `generated grid ${round}`);
      // Writes to stored leaves (every other one) and to new ones.
      const store = c.onCpu.store;
      const writes = randomCells(c.onCpu, 200, rand).map((coords, k) => {
        const row = Math.floor(rand() * store.count);
        for (let d = 0; d < coords.length; d++) {
          const dim = c.onCpu.dims[d];
          coords[d] = k % 2 === 0 ? store.cols[d][row] : dim.leafAt[Math.floor(rand() * dim.leafAt.length)];
        }
        return { coords, value: k % 7 === 0 ? null : Math.round(rand() * 1e6) / 100 - 1000, version: 10_000 * (round + 1) + k, writer: { user: "t", at: 0 } };
      });
      c.onGpu.applyChanges(writes);
      c.onCpu.applyChanges(writes);
      spreadBoth(c, rand, 20_000 + round);
    }
    expect(gpu.stats.gpuScans).toBeGreaterThan(before);
    expect(gpu.stats.gpuNarrows).toBeGreaterThan(narrowsBefore);
    expect(gpu.stats.failedScans).toBe(0);
  }, 120_000);

  test.each([
    ["weights -1, 0.5 and 1 (narrow passes on the CPU)", false],
    ["weights -1 and 1 (narrow passes on the GPU)", true],
  ])("random ragged cubes, %s, equal a direct weighted sum, and large values rescale the resident column", (_, unitWeights) => {
    const rand = rng(unitWeights ? 4343 : 4242);
    const { def, cells, brute, rows } = randomCube(rand, [90, 60, 30, 14], 9000, unitWeights);
    const c = pair(def, cells);
    const before = gpu.stats.gpuScans;
    const narrowsBefore = gpu.stats.gpuNarrows;
    const batch = [...randomCells(c.onCpu, 300, rand), ...reportGrid(c.onCpu, rand)];
    const check = (label: string) => {
      const got = c.onGpu.getCells(batch);
      expectSame(got, c.onCpu.getCells(batch), label);
      batch.slice(0, 300).forEach((addr, i) => {
        const want = brute(addr);
        if (want === null) expect(got[i].value).toBeNull();
        else expect(Math.abs((got[i].value as number) - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
      });
      if (!unitWeights) return;
      // The narrow pass itself on every consolidated cell (the cost model picks it only for some).
      const cube = c.onGpu;
      const consolidated = batch.map((_, i) => i).filter((i) => cube.isConsolidated(batch[i]));
      const out = { values: new Float64Array(batch.length), counts: new Float64Array(batch.length), versions: new Float64Array(batch.length) };
      evaluateNarrow(cube.dims, leafSource(cube.dims, cube.store), batch, consolidated, out, undefined, gpu);
      for (const i of consolidated.filter((i) => i < 300)) {
        const want = brute(batch[i]);
        if (want === null) expect(out.counts[i]).toBe(0);
        else expect(Math.abs(out.values[i] - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
      }
    };
    check("random");
    // A value far above every other (a new binary exponent for the column), then a clear.
    const big = rows[0];
    const bigValue = 123_456_789_012.34;
    for (const [value, version] of [
      [bigValue, 1],
      [null, 2],
    ] as const) {
      const ch = { coords: big.slice(0, 4), value, version, writer: { user: "t", at: 0 } };
      c.onGpu.applyChanges([ch]);
      c.onCpu.applyChanges([ch]);
      big[4] = value ?? Number.NaN;
      check(`after writing ${value}`);
    }
    expect(gpu.stats.gpuScans).toBeGreaterThan(before);
    if (unitWeights) expect(gpu.stats.gpuNarrows).toBeGreaterThan(narrowsBefore);
  });

  test("QATOM_GPU=on fails without an adapter; auto declines a software adapter and says why", () => {
    // An EGL platform Mesa does not know: no adapter at all.
    expect(startInChild("on", { EGL_PLATFORM: "none-such" })).toEqual({ error: expect.stringMatching(/^QATOM_GPU=on, but the GPU cannot be used: no WebGPU adapter/) });
    const auto = startInChild("auto", { EGL_PLATFORM: "surfaceless" });
    expect(auto).toMatchObject({ state: "unavailable", reason: expect.stringMatching(/software adapter/), cpu: { executor: "cpu" } });
  });

  test("QATOM_GPU=off loads nothing of Dawn", () => {
    const dawn = `Object.keys(require.cache).filter((k) => k.includes("node_modules/webgpu"))`;
    expect(startInChild("off", {}, `{ state: e.state, reason: e.reason, dawn: ${dawn} }`)).toEqual({ state: "off", reason: "QATOM_GPU=off", dawn: [] });
  });
});

/**
 * Starts a GpuExecutor in `mode` in a fresh Node process (its environment plus `env`: EGL_PLATFORM
 * must reach native code, which a test's process.env does not), and returns `report` (JavaScript
 * over the executor `e`) once start() settled, or `{ error }` when it rejected.
 */
function startInChild(mode: string, env: Record<string, string>, report = "{ state: e.state, reason: e.reason, cpu: e.describe(1e9) }"): unknown {
  const script = `
    const { GpuExecutor } = require(${JSON.stringify(path.join(__dirname, "executor.ts"))});
    const { serialExecutor } = require(${JSON.stringify(path.join(__dirname, "../../lattice"))});
    const e = new GpuExecutor({ mode: "${mode}", fallback: serialExecutor });
    e.start().then(
      () => console.log(JSON.stringify(${report})),
      (err) => console.log(JSON.stringify({ error: err.message })),
    ).then(() => e.close());`;
  const out = execFileSync(process.execPath, ["--require", require.resolve("tsx/cjs"), "-e", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return JSON.parse(out.trim().split("\n").pop() as string);
}

/** A random cube of ragged, weighted dimensions with about `count` leaf rows, and a brute-force sum. */
function randomCube(rand: () => number, sizes: number[], count: number, unitWeights = false) {
  const dims = sizes.map((n, d) => randomDim(String.fromCharCode(65 + d), rand, n, unitWeights));
  const nd = dims.length;
  const leaves = dims.map((d) => d.members.map((_, i) => i).filter((i) => !d.members.some((m) => m.parent === i)));
  const seen = new Set<string>();
  const rows: number[][] = [];
  for (let k = 0; k < count; k++) {
    const c = leaves.map((l) => l[Math.floor(rand() * l.length)]);
    if (seen.has(c.join())) continue;
    seen.add(c.join());
    rows.push([...c, Math.round((rand() - 0.3) * 1e6) / 100]);
  }
  const cells: LeafCells = { count: rows.length, coords: dims.map((_, d) => Int32Array.from(rows.map((r) => r[d]))), values: Float64Array.from(rows.map((r) => r[nd])) };
  const brute = (addr: Int32Array): number | null => weightedSum(dims, rows, addr);
  return { def: { name: "R", dimensions: dims } as CubeDef, cells, brute, rows };
}
