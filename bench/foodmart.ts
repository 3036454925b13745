/**
 * FoodMart: load data/foodmart/model.yaml (CSV -> cells), build the cube, save it into a temporary
 * PGlite store, start the real server over that store, and measure through the engine and the API.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../backend/src/config";
import { scanExecutor } from "../backend/src/compute/thread-pool";
import { Cube } from "../backend/src/lattice";
import { loadModel } from "../backend/src/loader";
import { openStore } from "../backend/src/store";
import { startStoredServer, type WriteStreamResult } from "./api";
import { type CellBatch, dimIndex, gridCells, memberId, membersAtLevel, scatteredCells } from "./cells";
import { DuckPeer } from "./duck";
import { mb, memory, now } from "./measure";
import { Rng } from "./rng";
import { type BatchFigures, type Repeats, runScenario, type WriteTarget } from "./scenario";

/** Figures of the FoodMart run. */
export interface FoodMartFigures {
  leafCells: number;
  dimensions: number;
  load: {
    /** loadModel: CSV files -> cube definition and leaf cells. */
    csvToCellsMs: number;
    /** new Cube(def, cells). */
    cubeBuildMs: number;
    /** store.saveCube into a fresh PGlite database. */
    saveMs: number;
    /** startServer until ready: PGlite loadCube and the lattice build. */
    serverStartMs: number;
    /** DuckDB peer: appending the facts and closure tables (not part of any comparison). */
    duckdbLoadMs: number;
  };
  memory: {
    leafStoreBytes: number;
    leafStoreBytesPerMillion: number;
    /** Process growth while building the cube (RSS, and typed arrays), per million leaf cells. */
    rssDeltaPerMillion: number;
    arrayBuffersDeltaPerMillion: number;
  };
  batches: BatchFigures[];
  writeToStream: WriteStreamResult & { ancestor: string[]; leaf: string[] };
}

/** Options of {@link runFoodMart}. */
export interface FoodMartOptions {
  repeats: Repeats;
  seed: number;
  skipDuckdb: boolean;
  log: (line: string) => void;
}

/** The report grid: product categories x 1997, its quarters and months, for California, per measure. */
function foodmartGrid(cube: Cube): CellBatch {
  const P = dimIndex(cube, "Product");
  const T = dimIndex(cube, "Time");
  const M = dimIndex(cube, "Measures");
  const ca = memberId(cube, "[Store].[USA].[CA]");
  const year = memberId(cube, "[Time].[1997]").id;
  const time = cube.dims[T];
  const months: number[] = [year];
  for (const q of time.children[year]) {
    months.push(q);
    for (const m of time.children[q]) months.push(m);
  }
  const categories = membersAtLevel(cube.dims[P], "Product Category");
  // Stored measures only (calculated ones have their own figures), so that runs stay comparable.
  const measures = Array.from(cube.dims[M].roots).filter((m) => cube.memberFormula(M, m) === null);
  return gridCells(cube, "report grid", { d: P, members: categories }, { d: T, members: months }, new Map([[ca.d, ca.id]]), 1000, {
    d: M,
    members: measures,
  });
}

/** A Plan leaf cell under [Store].[USA].[CA] holding Unit Sales: a stored row of the cube. */
export function planLeafUnderCA(cube: Cube): WriteTarget {
  const S = dimIndex(cube, "Store");
  const SC = dimIndex(cube, "Scenario");
  const M = dimIndex(cube, "Measures");
  const ca = memberId(cube, "[Store].[USA].[CA]").id;
  const plan = memberId(cube, "[Scenario].[Plan]").id;
  const units = memberId(cube, "[Measures].[Unit Sales]").id;
  const coords = cube.findLeaf((c) => c[SC] === plan && c[M] === units && cube.dims[S].contains(ca, c[S]));
  if (coords !== null) return { coords, address: cube.uniqueNames(coords) };
  throw new Error("FoodMart: no Plan Unit Sales cell under [Store].[USA].[CA]");
}

/** Runs the FoodMart benchmark. */
export async function runFoodMart(opts: FoodMartOptions): Promise<FoodMartFigures> {
  const log = opts.log;
  const modelPath = path.join(projectRoot, "data", "foodmart", "model.yaml");
  log(`FoodMart: loading ${path.relative(process.cwd(), modelPath)}`);
  let t0 = now();
  const { def, cells } = await loadModel(modelPath);
  const csvToCellsMs = now() - t0;
  const m0 = memory();
  t0 = now();
  const built = new Cube(def, cells, undefined, { executor: scanExecutor });
  const cubeBuildMs = now() - t0;
  const m1 = memory();
  const perMillion = 1e6 / cells.count;
  log(`  ${cells.count.toLocaleString("en-US")} leaf cells: CSV -> cells ${csvToCellsMs.toFixed(0)} ms, cube ${cubeBuildMs.toFixed(0)} ms, leaf store ${mb(built.leafStoreBytes())}`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bench-fm-"));
  try {
    const store = await openStore({ dataDir });
    t0 = now();
    await store.saveCube(def, cells);
    const saveMs = now() - t0;
    await store.close();
    log(`  saved into PGlite in ${saveMs.toFixed(0)} ms`);

    t0 = now();
    const server = await startStoredServer(dataDir);
    const serverStartMs = now() - t0;
    log(`  server ready in ${serverStartMs.toFixed(0)} ms at ${server.url}`);
    let run: Awaited<ReturnType<typeof runScenario>>;
    try {
      const cube = server.backend.cube(def.name).cube;
      run = await runScenario({
        cube,
        backend: server.backend,
        url: server.url,
        batches: [foodmartGrid(cube), scatteredCells(cube, 1000, new Rng(opts.seed), "scattered random")],
        target: planLeafUnderCA(cube),
        ancestor: ["[Store].[USA].[CA]", "[Scenario].[Plan]", "[Measures].[Unit Sales]"],
        repeats: opts.repeats,
        makePeer: opts.skipDuckdb ? null : () => DuckPeer.create(built, cells),
        log,
      });
    } finally {
      await server.close();
    }
    return {
      leafCells: cells.count,
      dimensions: def.dimensions.length,
      load: { csvToCellsMs, cubeBuildMs, saveMs, serverStartMs, duckdbLoadMs: run.duckdbLoadMs },
      memory: {
        leafStoreBytes: built.leafStoreBytes(),
        leafStoreBytesPerMillion: built.leafStoreBytes() * perMillion,
        rssDeltaPerMillion: (m1.rss - m0.rss) * perMillion,
        arrayBuffersDeltaPerMillion: (m1.arrayBuffers - m0.arrayBuffers) * perMillion,
      },
      batches: run.batches,
      writeToStream: run.writeToStream,
    };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
