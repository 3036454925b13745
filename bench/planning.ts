/**
 * Planning benchmark (`npm run bench -- --only planning`): a proportional spread of one
 * consolidated write over about 100,000 and about 1,000,000 stored leaf cells of the generated
 * 10M-cell cube, and a scenario copy of 10M cells (Actual -> Plan, plus 5%).
 *
 * Spread figures: the engine's plan (leaves gathered, TM1's P computed and checked against the
 * target), plan + apply to the lattice (what a WriteCells does besides the commit), and the whole
 * WriteCells through the backend with its durable commit (one transaction, one audit record per
 * changed leaf) on a PostgreSQL server when one is given and on PGlite, with the target's leaves
 * stored first (so the commit updates stored rows). Each result is checked (the consolidated cell
 * reads the target after the spread) before it is reported.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { scanExecutor } from "../backend/src/compute/thread-pool";
import { Cube, type LeafPlan } from "../backend/src/lattice";
import type { CubeDef, DimensionDef, LeafCells } from "../backend/src/lattice";
import { planScenarioCopy } from "../backend/src/lattice";
import { planSpread, type SpreadSpec } from "../backend/src/lattice";
import { Backend } from "../backend/src/domain";
import { openStore } from "../backend/src/store";
import { generateCells, generatedCubeDef } from "./generate";
import { type DurableCopyFigures, timeDurableCopy } from "./copy-durable";
import { memory, now, summarize, type Timings } from "./measure";

/** Targets of the planning issue and the design's service levels. */
export const PLANNING_TARGETS = {
  /** Plan + apply to the lattice, ~93k / ~1.1M leaves. */
  spread100kMs: 50,
  spread1MMs: 500,
  /** Whole WriteCells with its durable commit, ~93k leaves: PostgreSQL server (p95) / PGlite. */
  durable100kServerMs: 1200,
  durable100kPgliteMs: 2000,
  /** The same over ~1.1M leaves. */
  durable1MServerMs: 10_000,
  durable1MPgliteMs: 20_000,
  /** Scenario copy of 10M cells, durable, on the PostgreSQL server. */
  durableCopy10MMs: 10_000,
  /** Small GetCells of other users while a big spread runs, p99. */
  smallReadP99Ms: 50,
  /** Design: a medium spread under 1.2 s at p95; a heavy allocation 2-10 s. */
  mediumSpreadP95Ms: 1200,
  heavyAllocationMs: [2000, 10000],
};

/** One spread size's figures. */
export interface SpreadFigures {
  label: string;
  target: string[];
  /** Stored leaves the spread changed. */
  leaves: number;
  planMs: Timings;
  planApplyMs: Timings;
  /** Whole WriteCells with the PGlite commit (fewer runs). */
  writeCellsMs: Timings | null;
  /** Whole WriteCells with the commit on the PostgreSQL server; null when none was reachable. */
  writeCellsServerMs: Timings | null;
  /**
   * Small reads (one cell, every 5 ms) made while the durable spreads ran, from when each was due
   * to when it was answered: what another user's small GetCells waits on this instance (the event
   * loop), on PGlite and on the server. Null when not run.
   */
  smallReadsDuring: { pglite: ReadDelays | null; server: ReadDelays | null };
  /** UndoTransaction of each durable spread (all its leaves restored): PGlite / PostgreSQL server; null when not run. */
  undoMs: { pglite: Timings | null; server: Timings | null };
}

/** Delays of small reads made during a big write, ms. */
export interface ReadDelays {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Figures of the planning benchmark. */
export interface PlanningFigures {
  cubeLeaves: number;
  spreads: SpreadFigures[];
  /**
   * The engine's part of a scenario copy: plan (in steps), the new cells' rows made in steps
   * (`Cube.prepareRowsSteps`; the longest step is what it holds the event loop), the one-step apply.
   */
  copy: { cells: number; planMs: number; prepareMs: number; longestStepMs: number; applyMs: number; totalMs: number; heapMB: number };
  /** The whole CopyScenario with its durable commit on the PostgreSQL server (copy-durable.ts); null when not run. */
  copyDurable: DurableCopyFigures | null;
}

const P = (value: number): SpreadSpec => ({ method: "P", action: "replace", includeEmpty: false, value, percent: 0, reference: null });

/** Applies a plan as the columns it is (Cube.applyColumns), all at one version. */
function applyPlan(cube: Cube, plan: LeafPlan, version: number): void {
  const versions = new Float64Array(plan.count).fill(version);
  cube.applyColumns({ count: plan.count, coords: plan.coords, values: plan.newValues, versions, rows: plan.rows }, { user: "bench", at: Date.now() });
}

/**
 * A consolidated cell whose stored leaves number about `want`: Actual, the whole Account tree,
 * narrowed dimension by dimension (first child) until the count drops near `want`.
 */
export function findTarget(cube: Cube, want: number): { coords: Int32Array; leaves: number } {
  const dims = cube.dims;
  const coords = new Int32Array(dims.length);
  dims.forEach((d, i) => {
    coords[i] = d.roots[0];
  });
  const count = (c: Int32Array) => {
    const plan = planSpread(cube, c, P(1), [], { maxNewCells: 0 });
    return plan.ok ? plan.leaves : 0;
  };
  let n = count(coords);
  for (let d = 0; d < dims.length && n > want * 1.5; d++) {
    const dim = dims[d];
    while (n > want * 1.5 && !dim.isLeaf(coords[d])) {
      const next = Int32Array.from(coords);
      next[d] = dim.children[coords[d]][0];
      const m = count(next);
      if (m < want * 0.5) break;
      coords.set(next);
      n = m;
    }
  }
  return { coords, leaves: n };
}

/** A spread target of the bench: its label, cell, stored leaves, and how many durable runs it gets. */
interface SpreadSize {
  label: string;
  coords: Int32Array;
  leaves: number;
  durableRuns: number;
}

/** The leaf cells below `targets` as the lattice holds them (each once), for the store. */
function leavesBelow(cube: Cube, targets: readonly Int32Array[]): LeafCells {
  const nd = cube.dims.length;
  const seen = new Set<string>();
  const coords: number[][] = cube.dims.map(() => []);
  const values: number[] = [];
  for (const target of targets) {
    const plan = planSpread(cube, target, P(1), [], { maxNewCells: 0 });
    if (!plan.ok) throw new Error(`leaves below ${cube.uniqueNames(target).join(", ")}: ${plan.message}`);
    for (let k = 0; k < plan.count; k++) {
      const row = plan.coords.subarray(k * nd, (k + 1) * nd);
      const key = row.join(",");
      if (seen.has(key)) continue;
      seen.add(key);
      for (let d = 0; d < nd; d++) coords[d].push(row[d]);
      values.push(plan.oldValues[k]);
    }
  }
  return { count: values.length, coords: coords.map((c) => Int32Array.from(c)), values: Float64Array.from(values) };
}

/**
 * Times whole WriteCells of a P spread on each size's target through a Backend over `store`, the
 * target's leaves stored first as the lattice holds them (so that the commit updates stored rows,
 * as in production). Each result is checked. Returns the times per size label.
 */
async function timeDurable(
  cube: Cube,
  def: CubeDef,
  store: Awaited<ReturnType<typeof openStore>>,
  sizes: readonly SpreadSize[],
  where: string,
  log: (line: string) => void,
): Promise<{ times: Map<string, number[]>; delays: Map<string, number[]>; undos: Map<string, number[]> }> {
  const durable = new Map<string, number[]>();
  const delays = new Map<string, number[]>();
  const undos = new Map<string, number[]>();
  const timed = sizes.filter((s) => s.durableRuns > 0);
  if (timed.length === 0) return { times: durable, delays, undos };
  const id = await store.saveCube(def, leavesBelow(cube, timed.map((s) => s.coords)));
  const backend = new Backend(store);
  backend.addCube({ id, cube, loadedAt: Date.now() });
  // The probe reads a leaf outside every target (another user's small read).
  const probeCell = Int32Array.from(cube.dims, (d) => d.leafAt[d.leafCount - 1]);
  for (const { label, coords, durableRuns } of timed) {
    const names = cube.uniqueNames(coords);
    const times: number[] = [];
    const waited: number[] = [];
    const undone: number[] = [];
    for (let i = 0; i < durableRuns; i++) {
      const cell = cube.getCells([coords])[0];
      const want = Math.round((cell.value ?? 0) * (i % 2 === 0 ? 1.02 : 0.99) * 100) / 100;
      const t0 = now();
      const { result, delays: d } = await probeReads(cube, probeCell, () =>
        backend.writeCells(def.name, [{ members: names, value: want, baseVersion: cell.version }], "bench"),
      );
      times.push(now() - t0);
      waited.push(...d);
      const { outcomes } = result;
      const o = outcomes[0];
      if (o.status !== "APPLIED" || Math.abs((o.value ?? 0) - want) > 1e-8 * Math.max(1, Math.abs(want))) {
        throw new Error(`spread ${label} through WriteCells (${where}): ${o.status} ${"message" in o ? o.message : o.value}`);
      }
      // Undo it (UndoTransaction): every leaf back, which the next run starts from.
      const u0 = now();
      const undo = await backend.undoTransaction(def.name, result.txId, false, "bench");
      undone.push(now() - u0);
      const back = cube.getCells([coords])[0].value;
      // The total as a sum of the restored leaves (summed in another order than before: equal to rounding).
      if (undo.status !== "APPLIED" || undo.leavesRestored !== o.leavesChanged || Math.abs((back ?? 0) - (cell.value ?? 0)) > 1e-9 * Math.max(1, Math.abs(cell.value ?? 0))) {
        throw new Error(`undo of spread ${label} (${where}): ${undo.status}, ${"leavesRestored" in undo ? undo.leavesRestored : undo.message} leaves, total ${back} (was ${cell.value})`);
      }
    }
    durable.set(label, times);
    delays.set(label, waited);
    undos.set(label, undone);
    log(`    spread ${label}, WriteCells with the ${where} commit: ${times.map((t) => `${t.toFixed(0)} ms`).join(", ")}; its undo: ${undone.map((t) => `${t.toFixed(0)} ms`).join(", ")}`);
  }
  return { times: durable, delays, undos };
}

/** Timings of a non-empty list, else null. */
function timingsOf(xs: number[] | undefined): Timings | null {
  return xs && xs.length > 0 ? summarize(xs) : null;
}

/**
 * Runs `work` while a probe reads one cell every 5 ms on the same event loop, timing each read from
 * when it was due to when it was answered. Returns the work's result and the delays (ms).
 */
async function probeReads<T>(cube: Cube, cell: Int32Array, work: () => Promise<T>): Promise<{ result: T; delays: number[] }> {
  const delays: number[] = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const due = now() + 5;
      await new Promise((r) => setTimeout(r, 5));
      cube.getCells([cell]);
      delays.push(Math.max(0, now() - due));
    }
  })();
  try {
    return { result: await work(), delays };
  } finally {
    running = false;
    await probe;
  }
}

/** p50 / p99 / max of read delays. */
function readDelays(xs: readonly number[]): ReadDelays | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: xs.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** Runs the planning benchmark; `log` prints progress. */
export async function runPlanning(opts: {
  leaves: number;
  seed: number;
  runs: number;
  /** Also time the 1M-leaf spread through WriteCells with its durable commits (minutes). */
  durable1M: boolean;
  /** Cells of the durable scenario copy on the PostgreSQL server (copy-durable.ts); 0 skips it. */
  copyDurableCells: number;
  /** A PostgreSQL server to time the durable commit on too (a scratch database is made there); null: PGlite only. */
  serverUrl: ((fn: (url: string) => Promise<void>) => Promise<void>) | null;
  log: (line: string) => void;
}): Promise<PlanningFigures> {
  const { log } = opts;
  const def = generatedCubeDef();
  log(`planning: generating ${opts.leaves.toLocaleString("en-US")} leaf cells`);
  const build = () => new Cube(def, generateCells(def, { count: opts.leaves, seed: opts.seed }), undefined, { executor: scanExecutor });
  let cube = build();
  const spreads: SpreadFigures[] = [];
  let version = 1;
  const sizes: SpreadSize[] = [
    { label: "100k", want: 100_000, durableRuns: 3 },
    { label: "1M", want: 1_000_000, durableRuns: opts.durable1M ? 1 : 0 },
  ].map((s) => ({ label: s.label, durableRuns: s.durableRuns, ...findTarget(cube, s.want) }));
  for (const { label, coords, leaves } of sizes) log(`  spread ${label}: ${cube.uniqueNames(coords).join(", ")} (${leaves.toLocaleString("en-US")} stored leaves)`);
  // Whole WriteCells first, on a PostgreSQL server (a lattice of its own: versions follow its store), then on PGlite.
  let server: Awaited<ReturnType<typeof timeDurable>> = { times: new Map(), delays: new Map(), undos: new Map() };
  if (opts.serverUrl) {
    await opts.serverUrl(async (url) => {
      const store = await openStore({ databaseUrl: url, dataDir: "" });
      try {
        server = await timeDurable(cube, def, store, sizes, "PostgreSQL server", log);
      } finally {
        await store.close();
      }
    });
    cube = build();
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bench-plan-"));
  const store = await openStore({ dataDir });
  try {
    const durable = await timeDurable(cube, def, store, sizes, "PGlite", log);
    // Engine runs apply at versions above every one the durable commits gave (the top cell's is the highest).
    version = cube.getCells([Int32Array.from(cube.dims, (d) => d.roots[0])])[0].version + 1;
    for (const { label, coords, leaves } of sizes) {
      const plan: number[] = [];
      const planApply: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        const before = cube.getCells([coords])[0].value ?? 0;
        const want = Math.round(before * (i % 2 === 0 ? 1.1 : 0.95) * 100) / 100;
        let t0 = now();
        const p = planSpread(cube, coords, P(want), [], { maxNewCells: 0 });
        const planMs = now() - t0;
        if (!p.ok) throw new Error(`spread ${label}: ${p.message}`);
        t0 = now();
        applyPlan(cube, p, version++);
        const applyMs = now() - t0;
        const after = cube.getCells([coords])[0].value ?? 0;
        if (Math.abs(after - want) > 1e-8 * Math.max(1, Math.abs(want))) throw new Error(`spread ${label}: total ${after}, wanted ${want}`);
        plan.push(planMs);
        planApply.push(planMs + applyMs);
      }
      const times = durable.times.get(label) ?? [];
      const serverTimes = server.times.get(label) ?? [];
      const fig: SpreadFigures = {
        label,
        target: cube.uniqueNames(coords),
        leaves,
        planMs: summarize(plan),
        planApplyMs: summarize(planApply),
        writeCellsMs: timingsOf(times),
        writeCellsServerMs: timingsOf(serverTimes),
        smallReadsDuring: { pglite: readDelays(durable.delays.get(label) ?? []), server: readDelays(server.delays.get(label) ?? []) },
        undoMs: { pglite: timingsOf(durable.undos.get(label)), server: timingsOf(server.undos.get(label)) },
      };
      log(`  spread ${label} in the engine: plan p50 ${fig.planMs.p50.toFixed(1)} ms, plan+apply p50 ${fig.planApplyMs.p50.toFixed(1)} / p95 ${fig.planApplyMs.p95.toFixed(1)} ms`);
      spreads.push(fig);
    }
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  // Scenario copy: a cube whose 10M cells are all Actual, copied to Plan at +5%.
  const actualOnly: CubeDef = {
    ...def,
    dimensions: def.dimensions.map((d): DimensionDef => (d.name === "Scenario" ? { ...d, members: d.members.slice(0, 1) } : d)),
  };
  log(`  scenario copy: generating ${opts.leaves.toLocaleString("en-US")} Actual cells`);
  let actual: LeafCells | null = generateCells(actualOnly, { count: opts.leaves, seed: opts.seed + 1 });
  const big = new Cube(def, actual, undefined, { executor: scanExecutor });
  actual = null;
  const sd = big.dims.findIndex((d) => d.name === "Scenario");
  const plan = big.dims[sd].names.indexOf("Plan");
  const m0 = memory();
  let t0 = now();
  const copy = planScenarioCopy(big, { dim: sd, from: 0, to: plan, factor: 1.05, slice: new Int32Array(big.dims.length).fill(-1) });
  const planMs = now() - t0;
  // As CopyScenario does: the new cells' rows made in steps (while the commit runs), then the one-step apply.
  t0 = now();
  let longestStepMs = 0;
  let stepStart = now();
  for (const _ of big.prepareRowsSteps(copy)) {
    longestStepMs = Math.max(longestStepMs, now() - stepStart);
    stepStart = now();
  }
  longestStepMs = Math.max(longestStepMs, now() - stepStart);
  const prepareMs = now() - t0;
  t0 = now();
  applyPlan(big, copy, 1);
  const applyMs = now() - t0;
  const heapMB = (memory().heapUsed - m0.heapUsed) / 2 ** 20;
  // Check: Plan total = 1.05 x Actual total (whole cube, Net Income).
  const top = Int32Array.from(big.dims, (d) => d.roots[0]);
  const planTop = Int32Array.from(top);
  planTop[sd] = plan;
  const [a, p] = big.getCells([top, planTop]);
  if (copy.count !== opts.leaves || Math.abs((p.value ?? 0) - 1.05 * (a.value ?? 0)) > 1e-6 * Math.abs(a.value ?? 1)) {
    throw new Error(`scenario copy: ${copy.count} cells, Plan ${p.value} vs 1.05 x Actual ${a.value}`);
  }
  log(`    ${copy.count.toLocaleString("en-US")} cells: plan ${planMs.toFixed(0)} ms, rows made in steps ${prepareMs.toFixed(0)} ms (longest step ${longestStepMs.toFixed(0)} ms), apply ${applyMs.toFixed(0)} ms`);
  let copyDurable: DurableCopyFigures | null = null;
  if (opts.serverUrl && opts.copyDurableCells > 0) {
    await opts.serverUrl(async (url) => {
      copyDurable = await timeDurableCopy(def, opts.copyDurableCells, opts.seed + 2, url, log);
    });
  }
  return {
    cubeLeaves: opts.leaves,
    spreads,
    copy: { cells: copy.count, planMs, prepareMs, longestStepMs, applyMs, totalMs: planMs + prepareMs + applyMs, heapMB },
    copyDurable,
  };
}

/** The planning figures as printed lines beside the targets. */
export function formatPlanning(f: PlanningFigures): string[] {
  const t = PLANNING_TARGETS;
  const ok = (x: number, lim: number) => (x <= lim ? "OK" : "MISSED");
  const lines = [`Planning (generated cube, ${f.cubeLeaves.toLocaleString("en-US")} leaf cells)`];
  const reads = (x: ReadDelays | null, what: string) =>
    x ? `${what} p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(0)} ms, max ${x.max.toFixed(0)} ms over ${x.n} reads (${ok(x.p99, t.smallReadP99Ms)})` : `${what} not run`;
  const durable = (x: Timings | null, lim: number, what: string) =>
    x ? `${what} p50 ${x.p50.toFixed(0)} ms, p95 ${x.p95.toFixed(0)} ms (target <= ${lim} ms: ${ok(x.p95, lim)})` : `${what} not run`;
  // Issue 14: an undo within the same time budget as the spread it restores.
  const undo = (x: Timings | null, spread: Timings | null, what: string) =>
    x && spread ? `${what} p50 ${x.p50.toFixed(0)} ms (the spread's p50 ${spread.p50.toFixed(0)} ms: ${x.p50 <= spread.p50 * 1.1 ? "OK" : "SLOWER"})` : `${what} not run`;
  for (const s of f.spreads) {
    const small = s.label === "100k";
    const lim = small ? t.spread100kMs : t.spread1MMs;
    lines.push(
      `  P spread over ${s.leaves.toLocaleString("en-US")} leaves: plan+apply p50 ${s.planApplyMs.p50.toFixed(1)} ms, p95 ${s.planApplyMs.p95.toFixed(1)} ms (target <= ${lim} ms: ${ok(s.planApplyMs.p95, lim)}); engine plan only p50 ${s.planMs.p50.toFixed(1)} ms`,
      `    whole WriteCells with the durable commit and ${s.leaves.toLocaleString("en-US")} audit records: ${durable(s.writeCellsServerMs, small ? t.durable100kServerMs : t.durable1MServerMs, "PostgreSQL server")}; ${durable(s.writeCellsMs, small ? t.durable100kPgliteMs : t.durable1MPgliteMs, "PGlite")}${small ? "" : " (1M: --plan-durable-1m)"}`,
      `    small reads meanwhile (one cell every 5 ms, delay from due to answered): ${reads(s.smallReadsDuring.server, "PostgreSQL server")}; ${reads(s.smallReadsDuring.pglite, "PGlite")} (target p99 <= ${t.smallReadP99Ms} ms)`,
      `    UndoTransaction of that spread (every leaf restored, an audit record each): ${undo(s.undoMs.server, s.writeCellsServerMs, "PostgreSQL server")}; ${undo(s.undoMs.pglite, s.writeCellsMs, "PGlite")}`,
    );
  }
  lines.push(
    `  Scenario copy of ${f.copy.cells.toLocaleString("en-US")} cells (Actual -> Plan x 1.05), engine: ${f.copy.totalMs.toFixed(0)} ms (plan ${f.copy.planMs.toFixed(0)}, rows in steps ${f.copy.prepareMs.toFixed(0)}, apply ${f.copy.applyMs.toFixed(0)}); longest hold of the event loop ${Math.max(f.copy.longestStepMs, f.copy.applyMs).toFixed(0)} ms; design heavy allocation ${t.heavyAllocationMs[0] / 1000}-${t.heavyAllocationMs[1] / 1000} s`,
  );
  const d = f.copyDurable;
  lines.push(
    d
      ? `    durable (CopyScenario on the PostgreSQL server, ${d.cells.toLocaleString("en-US")} cells): ${d.copyMs.toFixed(0)} ms, ${((d.copyMs / d.cells) * 1000).toFixed(1)} µs a cell, ${((d.copyMs / d.cells) * 10_000).toFixed(1)} s at 10M cells (target <= ${t.durableCopy10MMs / 1000} s at 10M: ${ok((d.copyMs / d.cells) * 1e7, t.durableCopy10MMs)})`
      : "    durable copy not run (no PostgreSQL server, or --copy-durable-cells 0)",
  );
  return lines;
}
