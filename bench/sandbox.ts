/**
 * Sandboxes on a generated cube, through the Backend over PGlite (`--only sandbox`): a leaf write in
 * the base beside the same write in a sandbox (which builds a working copy of the cube's leaves:
 * timed alone too), a P spread of about 100,000 leaves in the sandbox, the first read of 1,000
 * scattered consolidated cells through the sandbox beside the base's, and the sandbox's commit.
 * Every result is checked.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Backend } from "../backend/src/domain";
import { Cube } from "../backend/src/lattice";
import { openStore } from "../backend/src/store";
import { workingCopy } from "../backend/src/writes/sandbox-layer";
import { scatteredCells } from "./cells";
import { generateCells, generatedCubeDef } from "./generate";
import { now, summarize, type Timings } from "./measure";
import { findTarget } from "./planning";
import { Rng } from "./rng";

/** Figures of `--only sandbox`. Times in ms. */
export interface SandboxFigures {
  leaves: number;
  baseLeafWrite: Timings;
  /** Leaf writes one after another in one sandbox (the first makes the working copy: its time is `sandboxFirstWrite`). */
  sandboxLeafWrite: Timings;
  sandboxFirstWrite: number;
  /** The working copy a sandbox write plans over, alone. */
  workingCopy: Timings;
  spread: { leaves: number; times: Timings };
  /** First reads of 1,000 scattered consolidated cells (each after a write: no cell cache). */
  scatteredRead: { base: Timings; sandbox: Timings };
  commit: { leaves: number; ms: number };
}

export async function runSandbox(opts: { leaves: number; seed: number; runs: number; log: (line: string) => void }): Promise<SandboxFigures> {
  const { log } = opts;
  const def = generatedCubeDef();
  log(`sandbox: generating ${opts.leaves.toLocaleString("en-US")} leaf cells`);
  const cube = new Cube(def, generateCells(def, { count: opts.leaves, seed: opts.seed }));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bench-sandbox-"));
  const store = await openStore({ dataDir });
  try {
    // The definition only: the writes insert the cells they change (loaded cells are version 0 in both).
    const id = await store.saveCube(def, { count: 0, coords: def.dimensions.map(() => new Int32Array(0)), values: new Float64Array(0) });
    const backend = new Backend(store);
    backend.addCube({ id, cube, loadedAt: Date.now() });
    const access = backend.access(def.name, "bench");
    const rights = () => access.security.forUser("bench");
    const sandbox = await backend.sandboxes.create(access, "bench what-if");
    const rng = new Rng(opts.seed);
    const leafAt = (k: number) => Int32Array.from(cube.dims, (d) => d.leafAt[(k * 7919 + d.leafCount) % d.leafCount]);

    const write = async (k: number, sb: string) => {
      const names = cube.uniqueNames(leafAt(k));
      const [cell] = await backend.readCellsAs(access, [{ members: names }], sb);
      if ("problem" in cell) throw new Error(cell.problem.message);
      const t0 = now();
      const { outcomes } = await backend.writeCells(def.name, [{ members: names, value: 1000 + k, baseVersion: cell.state.version }], "bench", [], undefined, sb);
      const ms = now() - t0;
      if (outcomes[0].status !== "APPLIED") throw new Error(`leaf write ${k}${sb ? " in the sandbox" : ""}: ${outcomes[0].status}`);
      return ms;
    };
    if (opts.runs < 2) throw new Error("sandbox: --sandbox-runs must be at least 2");
    const base: number[] = [];
    const inSandbox: number[] = [];
    for (let k = 0; k < opts.runs; k++) base.push(await write(k, ""));
    // One after another: the first copies the cube's leaves, the next reuse that copy (domain/sandboxes.ts KeptCopy).
    for (let k = 0; k < opts.runs; k++) inSandbox.push(await write(k + opts.runs, sandbox.id));
    log(`  leaf write: base ${summarize(base).p50.toFixed(1)} ms; in the sandbox the first ${inSandbox[0].toFixed(1)} ms, the next ${summarize(inSandbox.slice(1)).p50.toFixed(1)} ms (p50 of ${opts.runs - 1})`);
    const { overlay } = await backend.sandboxes.use(access, sandbox.id, "read");
    const copies: number[] = [];
    for (let k = 0; k < opts.runs; k++) {
      const t0 = now();
      workingCopy(backend.cube(def.name), overlay);
      copies.push(now() - t0);
    }

    const target = findTarget(cube, 100_000);
    const names = cube.uniqueNames(target.coords);
    const spreads: number[] = [];
    for (let k = 0; k < 3; k++) {
      const [cell] = await backend.readCellsAs(access, [{ members: names }], sandbox.id);
      if ("problem" in cell) throw new Error(cell.problem.message);
      const want = Math.round((cell.state.value ?? 0) * (k % 2 === 0 ? 1.05 : 0.98) * 100) / 100;
      const t0 = now();
      const { outcomes } = await backend.writeCells(def.name, [{ members: names, value: want, baseVersion: cell.state.version }], "bench", [], undefined, sandbox.id);
      spreads.push(now() - t0);
      const o = outcomes[0];
      if (o.status !== "APPLIED" || Math.abs((o.value ?? 0) - want) > 1e-8 * Math.max(1, Math.abs(want))) throw new Error(`spread in the sandbox: ${o.status}`);
    }
    log(`  P spread of ${target.leaves.toLocaleString("en-US")} leaves in the sandbox: ${spreads.map((t) => `${t.toFixed(0)} ms`).join(", ")}`);

    const batch = scatteredCells(cube, 1000, rng, "sandbox scattered");
    const cells = batch.addresses.map((members) => ({ members }));
    const reads = { base: [] as number[], sandbox: [] as number[] };
    for (let k = 0; k < opts.runs; k++) {
      for (const sb of ["", sandbox.id]) {
        // A write first: neither read finds its cells cached.
        await write(k + 2 * opts.runs, sb);
        const t0 = now();
        await backend.readCellsAs(access, cells, sb);
        (sb ? reads.sandbox : reads.base).push(now() - t0);
      }
    }
    log(`  1,000 scattered cells, first read: base ${summarize(reads.base).p50.toFixed(0)} ms, through the sandbox ${summarize(reads.sandbox).p50.toFixed(0)} ms`);

    const t0 = now();
    const committed = await backend.sandboxes.commit(access, sandbox.id, { onlyUnconflicted: false, keepMine: [] }, rights);
    const commitMs = now() - t0;
    if (committed.status !== "APPLIED") throw new Error(`commit: ${committed.message}`);
    log(`  commit of ${committed.leavesCommitted.toLocaleString("en-US")} leaves: ${commitMs.toFixed(0)} ms`);
    return {
      leaves: opts.leaves,
      baseLeafWrite: summarize(base),
      sandboxLeafWrite: summarize(inSandbox.slice(1)),
      sandboxFirstWrite: inSandbox[0],
      workingCopy: summarize(copies),
      spread: { leaves: target.leaves, times: summarize(spreads) },
      scatteredRead: { base: summarize(reads.base), sandbox: summarize(reads.sandbox) },
      commit: { leaves: committed.leavesCommitted, ms: commitMs },
    };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The figures as lines of the report. */
export function formatSandbox(f: SandboxFigures): string[] {
  const p = (t: Timings) => `p50 ${t.p50.toFixed(1)} ms, p95 ${t.p95.toFixed(1)} ms`;
  return [
    `Sandboxes (generated cube, ${f.leaves.toLocaleString("en-US")} leaves, PGlite)`,
    `  leaf write (WriteCells): base ${p(f.baseLeafWrite)}; in a sandbox the first ${f.sandboxFirstWrite.toFixed(1)} ms (with its working copy; alone: ${p(f.workingCopy)}), the next ${p(f.sandboxLeafWrite)}`,
    `  P spread of ${f.spread.leaves.toLocaleString("en-US")} leaves in a sandbox: ${p(f.spread.times)}`,
    `  1,000 scattered consolidated cells, first read: base ${p(f.scatteredRead.base)}; through the sandbox ${p(f.scatteredRead.sandbox)}`,
    `  CommitSandbox of ${f.commit.leaves.toLocaleString("en-US")} leaves: ${f.commit.ms.toFixed(0)} ms`,
  ];
}
