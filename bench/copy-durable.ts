/**
 * The durable scenario copy (planning bench): a cube whose cells are all Actual, stored in a
 * PostgreSQL server, copied to Plan at +5% through `Backend.copyScenario` — the plan, the commit of
 * every new Plan cell with its audit record in one transaction, and the apply — as CopyScenario does.
 * The result is checked (every cell copied, Plan's top cell 1.05 x Actual's, the store's row count)
 * before it is reported.
 */
import { Backend } from "../backend/src/domain";
import { Cube, type CubeDef, type DimensionDef, type LeafCells } from "../backend/src/lattice";
import { openStore } from "../backend/src/store";
import { scanExecutor } from "../backend/src/compute/thread-pool";
import { generateCells } from "./generate";
import { now } from "./measure";

/** Figures of one durable copy. */
export interface DurableCopyFigures {
  cells: number;
  /** saveCube of the Actual cells (not part of the copy: the setup). */
  saveMs: number;
  /** The whole CopyScenario: plan, durable commit, apply. */
  copyMs: number;
}

/**
 * Times one durable copy of `cells` generated Actual cells of `def` on the PostgreSQL server at
 * `url` (a scratch database). @throws Error when the copy's result is not as expected.
 */
export async function timeDurableCopy(def: CubeDef, cells: number, seed: number, url: string, log: (line: string) => void): Promise<DurableCopyFigures> {
  const actualOnly: CubeDef = {
    ...def,
    dimensions: def.dimensions.map((d): DimensionDef => (d.name === "Scenario" ? { ...d, members: d.members.slice(0, 1) } : d)),
  };
  let actual: LeafCells | null = generateCells(actualOnly, { count: cells, seed });
  const store = await openStore({ databaseUrl: url, dataDir: "" });
  try {
    let t0 = now();
    const id = await store.saveCube(def, actual);
    const saveMs = now() - t0;
    const cube = new Cube(def, actual, undefined, { executor: scanExecutor });
    actual = null;
    const backend = new Backend(store);
    backend.addCube({ id, cube, loadedAt: Date.now() });
    t0 = now();
    const outcome = await backend.copyScenario(def.name, { dimension: "Scenario", from: "Actual", to: "Plan", factor: 1.05, slice: [], baseVersion: 0 }, "bench");
    const copyMs = now() - t0;
    if (outcome.status !== "APPLIED" || outcome.leavesChanged !== cells) {
      throw new Error(`durable copy: ${outcome.status} ${"message" in outcome ? outcome.message : `${outcome.leavesChanged} cells`}`);
    }
    const sd = cube.dims.findIndex((d) => d.name === "Scenario");
    const top = Int32Array.from(cube.dims, (d) => d.roots[0]);
    const planTop = Int32Array.from(top);
    planTop[sd] = cube.dims[sd].names.indexOf("Plan");
    const [a, p] = cube.getCells([top, planTop]);
    if (Math.abs((p.value ?? 0) - 1.05 * (a.value ?? 0)) > 1e-6 * Math.abs(a.value ?? 1)) throw new Error(`durable copy: Plan ${p.value} vs 1.05 x Actual ${a.value}`);
    const stored = await store.cubeState(def.name);
    if (Number(stored.fingerprint.rows) !== 2 * cells) throw new Error(`durable copy: the store holds ${stored.fingerprint.rows} cells, not ${2 * cells}`);
    log(`    durable copy of ${cells.toLocaleString("en-US")} cells on the PostgreSQL server: ${copyMs.toFixed(0)} ms (saving the Actual cells first: ${saveMs.toFixed(0)} ms)`);
    return { cells, saveMs, copyMs };
  } finally {
    await store.close();
  }
}
