/**
 * The generated cube: at least 10 million leaf cells over six dimensions. Builds the lattice in
 * memory (load time), serves it through the real HTTP app over a PGlite store that holds its
 * definition (and no cells: a missing row has version 0, like a loaded cell), and measures through
 * the engine and the API, then the DuckDB peer on the same facts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { scanExecutor } from "../backend/src/compute/thread-pool";
import { Cube, type LeafCells } from "../backend/src/lattice";
import { Backend } from "../backend/src/domain";
import { openStore } from "../backend/src/store";
import { serveBackend, type WriteStreamResult } from "./api";
import { type CellBatch, dimIndex, gridCells, memberId, membersAtLevel, scatteredCells } from "./cells";
import { DuckPeer } from "./duck";
import { generateCells, generatedCubeDef } from "./generate";
import { mb, memory, now } from "./measure";
import { Rng } from "./rng";
import { type BatchFigures, type Repeats, runScenario, type WriteTarget } from "./scenario";

/** Figures of the generated-cube run. */
export interface GeneratedFigures {
  leafCells: number;
  dimensions: { name: string; levels: number; members: number; leaves: number }[];
  load: {
    /** Drawing the random cells (not part of the load). */
    generateMs: number;
    /** new Cube(def, cells): the load time of the lattice. */
    cubeBuildMs: number;
    /** Saving the definition (no cells) into a fresh PGlite store. */
    saveDefMs: number;
    duckdbLoadMs: number;
  };
  memory: {
    leafStoreBytes: number;
    leafStoreBytesPerMillion: number;
    rssDeltaPerMillion: number;
    arrayBuffersDeltaPerMillion: number;
  };
  batches: BatchFigures[];
  writeToStream: WriteStreamResult & { ancestor: string[]; leaf: string[] };
}

/** Options of {@link runGenerated}. */
export interface GeneratedOptions {
  leaves: number;
  seed: number;
  shuffle: boolean;
  repeats: Repeats;
  skipDuckdb: boolean;
  log: (line: string) => void;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The report grid: 50 product categories x 20 time members, for one region, Net Income, Actual. */
export function generatedGrid(cube: Cube): CellBatch {
  const P = dimIndex(cube, "Product");
  const T = dimIndex(cube, "Time");
  const time = [
    "[Time].[All Years]",
    "[Time].[2023]",
    "[Time].[2024]",
    "[Time].[2025]",
    ...[1, 2, 3, 4].map((q) => `[Time].[2024].[Q${q}]`),
    ...MONTHS.map((m, i) => `[Time].[2024].[Q${Math.floor(i / 3) + 1}].[${m}]`),
  ].map((u) => memberId(cube, u).id);
  const region = memberId(cube, "[Geography].[Region 2]");
  const net = memberId(cube, "[Account].[Net Income]");
  return gridCells(
    cube,
    "report grid",
    { d: P, members: membersAtLevel(cube.dims[P], "Category") },
    { d: T, members: time },
    new Map([
      [region.d, region.id],
      [net.d, net.id],
    ]),
  );
}

/**
 * The watched ancestor (Region 1, Family 1, 2024, Net Income, Plan) and a stored Plan leaf below
 * it on a revenue line (weight +1 into Net Income).
 */
function planTarget(cube: Cube): { ancestor: string[]; target: WriteTarget } {
  const ancestor = ["[Geography].[Region 1]", "[Product].[Family 1]", "[Time].[2024]", "[Account].[Net Income]", "[Scenario].[Plan]"];
  const anc = cube.resolve(ancestor);
  if (!(anc instanceof Int32Array)) throw new Error(anc.message);
  const revenue = memberId(cube, "[Account].[Net Income].[Gross Margin].[Revenue]").id;
  const A = dimIndex(cube, "Account");
  const coords = cube.findLeaf((c) => {
    let under = true;
    for (let d = 0; d < cube.dims.length && under; d++) under = cube.dims[d].contains(anc[d], c[d]);
    return under && cube.dims[A].contains(revenue, c[A]);
  });
  if (coords !== null) return { ancestor, target: { coords, address: cube.uniqueNames(coords) } };
  throw new Error("generated cube: no Plan revenue leaf under the watched ancestor");
}

/** Runs the generated-cube benchmark. */
export async function runGenerated(opts: GeneratedOptions): Promise<GeneratedFigures> {
  const log = opts.log;
  const def = generatedCubeDef();
  log(`Generated cube: drawing ${opts.leaves.toLocaleString("en-US")} unique leaf cells (seed ${opts.seed}${opts.shuffle ? ", shuffled" : ", key order"})`);
  let t0 = now();
  let cells: LeafCells | null = generateCells(def, { count: opts.leaves, seed: opts.seed, shuffle: opts.shuffle });
  const generateMs = now() - t0;
  const m0 = memory();
  t0 = now();
  const cube = new Cube(def, cells, undefined, { executor: scanExecutor });
  const cubeBuildMs = now() - t0;
  const m1 = memory();
  const perMillion = 1e6 / cells.count;
  log(`  generated in ${generateMs.toFixed(0)} ms; cube built in ${cubeBuildMs.toFixed(0)} ms; leaf store ${mb(cube.leafStoreBytes())}`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bench-gen-"));
  const store = await openStore({ dataDir });
  try {
    t0 = now();
    const empty: LeafCells = { count: 0, coords: def.dimensions.map(() => new Int32Array(0)), values: new Float64Array(0) };
    const id = await store.saveCube(def, empty);
    const saveDefMs = now() - t0;
    const backend = new Backend(store);
    backend.addCube({ id, cube, loadedAt: Date.now() });
    const server = await serveBackend(backend);
    let run: Awaited<ReturnType<typeof runScenario>>;
    try {
      const { ancestor, target } = planTarget(cube);
      run = await runScenario({
        cube,
        backend,
        url: server.url,
        batches: [generatedGrid(cube), scatteredCells(cube, 1000, new Rng(opts.seed ^ 0x5eed), "scattered random")],
        target,
        ancestor,
        repeats: opts.repeats,
        makePeer: opts.skipDuckdb
          ? null
          : async () => {
              const peer = await DuckPeer.create(cube, cells!);
              cells = null; // the peer has its own copy; free ours before the DuckDB runs
              return peer;
            },
        log,
      });
    } finally {
      await server.close();
    }
    return {
      leafCells: opts.leaves,
      dimensions: cube.dims.map((d) => {
        let depth = 0;
        for (let m = 0; m < d.size; m++) depth = Math.max(depth, d.depth[m]);
        return { name: d.name, levels: depth + 1, members: d.size, leaves: d.leafCount };
      }),
      load: { generateMs, cubeBuildMs, saveDefMs, duckdbLoadMs: run.duckdbLoadMs },
      memory: {
        leafStoreBytes: cube.leafStoreBytes(),
        leafStoreBytesPerMillion: cube.leafStoreBytes() * perMillion,
        rssDeltaPerMillion: (m1.rss - m0.rss) * perMillion,
        arrayBuffersDeltaPerMillion: (m1.arrayBuffers - m0.arrayBuffers) * perMillion,
      },
      batches: run.batches,
      writeToStream: run.writeToStream,
    };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
