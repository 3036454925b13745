/**
 * The GPU benchmark (`npm run bench -- --only gpu`): on whatever adapter Dawn finds (QATOM_GPU=on:
 * a software one too, where it is for correctness only), the same figures through the GPU
 * executor and through the CPU pool on one generated cube per size: 1,000 report-shaped and 1,000
 * scattered consolidated cells (first read, then p50/p95 of reads after a write), and a
 * proportional spread over about 1M leaves (plan, apply, and the first report read after it).
 * Every batch's answers are checked equal (1e-9 relative) before anything is timed. Rollups are
 * off, so that each read scans the leaf rows (what the executors differ in).
 */
import { GpuExecutor } from "../backend/src/compute/gpu/executor";
import { ThreadPoolExecutor } from "../backend/src/compute/thread-pool";
import { Cube, type MemberColumn, type NarrowArgs, type NarrowOut, planSpread, type ScanExecutor } from "../backend/src/lattice";
import { type CellBatch, scatteredCells } from "./cells";
import { generatedGrid } from "./generated-run";
import { generateCells, generatedCubeDef } from "./generate";
import { quantile } from "./measure";
import { findTarget } from "./planning";
import { Rng } from "./rng";

/** p50 and p95 of timed runs, ms. */
interface Spread2 {
  first: number;
  p50: number;
  p95: number;
}

/** Figures of one cube size. */
export interface GpuSizeFigures {
  leaves: number;
  batches: { name: string; cells: number; gpu: Spread2; cpu: Spread2 }[];
  spread: { leaves: number; planMs: number; applyMs: number; gpuReadAfterMs: number; cpuReadAfterMs: number } | null;
}

/** Figures of the GPU benchmark. */
export interface GpuFigures {
  adapter: string;
  state: string;
  reason: string;
  cpuThreads: number;
  sizes: GpuSizeFigures[];
}

/** Options of {@link runGpu}. */
export interface GpuOptions {
  leaves: number[];
  runs: number;
  seed: number;
  log: (line: string) => void;
}

/** An executor whose target can be switched between the GPU and the CPU pool; the GPU hears of every write. */
class Switch implements ScanExecutor {
  current: ScanExecutor;
  constructor(
    readonly gpu: GpuExecutor,
    readonly cpu: ScanExecutor,
  ) {
    this.current = gpu;
  }
  get minRows(): number | undefined {
    return this.current.minRows;
  }
  scan(rows: number, cols: readonly MemberColumn[], tables: readonly Int32Array[], values: Float64Array, acc: Float64Array): void {
    this.current.scan(rows, cols, tables, values, acc);
  }
  narrow(rows: number, args: NarrowArgs, out: NarrowOut): void {
    this.current.narrow(rows, args, out);
  }
  rowsChanged(values: Float64Array, rows: ArrayLike<number>, count: number): void {
    this.gpu.rowsChanged(values, rows, count);
  }
  warm(rows: number): void {
    this.cpu.warm(rows);
  }
}

const ms = (t0: number) => performance.now() - t0;

/** Runs the GPU benchmark. */
export async function runGpu(opts: GpuOptions): Promise<GpuFigures> {
  const log = opts.log;
  const pool = new ThreadPoolExecutor();
  const gpu = new GpuExecutor({ mode: "on", fallback: pool, timeoutMs: 600_000 });
  try {
    await gpu.start();
  } catch (err) {
    log(`gpu: ${(err as Error).message}`);
    await pool.close();
    return { adapter: "", state: gpu.state, reason: gpu.reason, cpuThreads: pool.helperCount() + 1, sizes: [] };
  }
  log(`gpu: adapter ${gpu.adapterDescription}`);
  const figures: GpuFigures = { adapter: gpu.adapterDescription, state: gpu.state, reason: gpu.reason, cpuThreads: 0, sizes: [] };
  const sw = new Switch(gpu, pool);
  let version = 1;
  for (const leaves of opts.leaves) {
    const def = generatedCubeDef();
    log(`gpu: drawing ${leaves.toLocaleString("en-US")} leaf cells`);
    const cube = new Cube(def, generateCells(def, { count: leaves, seed: opts.seed }), undefined, { executor: sw });
    Object.assign(cube.rollupPolicy, { maxRollups: 0 });
    const rng = new Rng(opts.seed);
    const batches: CellBatch[] = [generatedGrid(cube), scatteredCells(cube, 1000, rng)];
    const writeLeaf = cube.findLeaf(() => true);
    if (!writeLeaf) throw new Error("gpu bench: the cube has no leaf");
    const size: GpuSizeFigures = { leaves, batches: [], spread: null };
    for (const b of batches) {
      const read = (on: ScanExecutor) => {
        sw.current = on;
        cube.dataVersion++; // nothing from the cube's cell cache: each read computes
        const t0 = performance.now();
        const cells = cube.getCells(b.coords);
        return { ms: ms(t0), cells };
      };
      const g = read(gpu);
      const c = read(pool);
      checkEqual(b.name, g.cells, c.cells);
      const times = { gpu: [] as number[], cpu: [] as number[] };
      for (let i = 0; i < opts.runs; i++) {
        // A write first, as a planner's: the next read cannot be served from anything kept.
        cube.applyChanges([{ coords: writeLeaf, value: i + 0.25, version: version++, writer: { user: "bench", at: 0 } }]);
        times.gpu.push(read(gpu).ms);
        times.cpu.push(read(pool).ms);
      }
      const stats = (first: number, xs: number[]): Spread2 => ({ first, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95) });
      size.batches.push({ name: b.name, cells: b.coords.length, gpu: stats(g.ms, times.gpu), cpu: stats(c.ms, times.cpu) });
      log(`gpu: ${leaves} leaves, ${b.name}: GPU first ${g.ms.toFixed(1)} ms, p50 ${quantile(times.gpu, 0.5).toFixed(1)}; CPU pool first ${c.ms.toFixed(1)}, p50 ${quantile(times.cpu, 0.5).toFixed(1)}`);
    }
    // A proportional spread over about 1M leaves (or the cube's tenth), then the report again.
    const target = findTarget(cube, Math.min(1_000_000, Math.floor(leaves / 10)));
    let t0 = performance.now();
    const plan = planSpread(cube, target.coords, { method: "P", action: "replace", includeEmpty: false, value: 123_456_789.12, percent: 0, reference: null }, [], { maxNewCells: 0 });
    const planMs = ms(t0);
    if (plan.ok) {
      t0 = performance.now();
      cube.applyColumns({ count: plan.count, coords: plan.coords, values: plan.newValues, versions: new Float64Array(plan.count).fill(version++), rows: plan.rows }, { user: "bench", at: 0 });
      const applyMs = ms(t0);
      const grid = batches[0].coords;
      sw.current = gpu;
      t0 = performance.now();
      const g = cube.getCells(grid);
      cube.dataVersion++;
      const gpuReadAfterMs = ms(t0);
      sw.current = pool;
      t0 = performance.now();
      const c = cube.getCells(grid);
      const cpuReadAfterMs = ms(t0);
      checkEqual("report grid after the spread", g, c);
      size.spread = { leaves: plan.count, planMs, applyMs, gpuReadAfterMs, cpuReadAfterMs };
      log(`gpu: spread over ${plan.count} leaves: plan ${planMs.toFixed(0)} ms, apply ${applyMs.toFixed(0)} ms; report read after it: GPU ${gpuReadAfterMs.toFixed(1)} ms (uploads the changed rows), CPU pool ${cpuReadAfterMs.toFixed(1)} ms`);
    }
    figures.sizes.push(size);
  }
  figures.cpuThreads = pool.helperCount() + 1;
  await gpu.close();
  await pool.close();
  return figures;
}

/** Throws when two answers differ by more than 1e-9 relative (or in emptiness). */
function checkEqual(name: string, a: { value: number | null }[], b: { value: number | null }[]): void {
  a.forEach((x, i) => {
    const y = b[i].value;
    const same = x.value === null || y === null ? x.value === y : Math.abs(x.value - y) <= 1e-9 * Math.max(1, Math.abs(y));
    if (!same) throw new Error(`gpu bench: ${name}, cell ${i}: GPU ${x.value}, CPU ${y}`);
  });
}

/** The figures as lines beside each other. */
export function formatGpu(f: GpuFigures): string[] {
  const lines = ["GPU executor (QATOM_GPU=on) vs the CPU pool, same cube, answers checked equal first; rollups off", `  adapter: ${f.adapter || `none (${f.reason})`}; CPU pool: ${f.cpuThreads} threads`];
  for (const s of f.sizes) {
    lines.push(`  ${s.leaves.toLocaleString("en-US")} leaves:`);
    for (const b of s.batches) {
      lines.push(
        `    ${b.name} (${b.cells} cells): GPU first ${b.gpu.first.toFixed(1)} ms, p50 ${b.gpu.p50.toFixed(1)} / p95 ${b.gpu.p95.toFixed(1)} ms | CPU pool first ${b.cpu.first.toFixed(1)} ms, p50 ${b.cpu.p50.toFixed(1)} / p95 ${b.cpu.p95.toFixed(1)} ms`,
      );
    }
    if (s.spread) {
      lines.push(
        `    P spread over ${s.spread.leaves.toLocaleString("en-US")} leaves: plan ${s.spread.planMs.toFixed(0)} ms + apply ${s.spread.applyMs.toFixed(0)} ms (CPU); next report read GPU ${s.spread.gpuReadAfterMs.toFixed(1)} ms (changed rows uploaded), CPU pool ${s.spread.cpuReadAfterMs.toFixed(1)} ms`,
      );
    }
  }
  return lines;
}
