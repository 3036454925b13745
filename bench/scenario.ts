/**
 * The measurements shared by both cubes: a batch read through the engine and through the API
 * (first, cold after a write, repeated), the DuckDB peer on the same batch, and write -> stream.
 */
import type { Cube } from "../backend/src/lattice";
import type { Backend } from "../backend/src/domain";
import { httpGetCells, httpWrite, type LatticeClient, latticeClient, measureWriteToStream, type WriteStreamResult } from "./api";
import type { CellBatch } from "./cells";
import type { DuckPeer, FormulationResult } from "./duck";
import { runFormulations } from "./duck";
import { now, quantile, sleep, type Timings, summarize } from "./measure";

/** How many times each measurement is taken. */
export interface Repeats {
  /** Cold reads (each after a write). */
  cold: number;
  /** Repeated reads of unchanged data. */
  repeated: number;
  /** DuckDB timed runs per formulation (after the checked first run). */
  duckdb: number;
  /** Writes of the write -> stream measurement. */
  writes: number;
}

/** Figures of one batch. */
export interface BatchFigures {
  name: string;
  cells: number;
  /** Cells that are not empty. */
  nonEmpty: number;
  engine: {
    /** The first read of this batch after the cube was built (no cache, nothing pre-aggregated). */
    firstMs: number;
    /** Each right after a write (the write invalidates the cell cache). */
    cold: Timings;
    repeated: Timings;
    /** Passes over leaf rows or pre-aggregated rows in the first read (EvalStats.scans). */
    firstScans: number;
  };
  http: { cold: Timings; repeated: Timings } | null;
  duckdb: {
    formulations: FormulationResult[];
    best: { name: string; coldMs: number; repeatedMs: number } | null;
    /** duckdb_ms / lattice_ms (lattice: engine first read for cold, engine repeated p50 for repeated). */
    ratioCold: number | null;
    ratioRepeated: number | null;
    /** DuckDB's best cold time over the lattice's cold-after-write p50 (the lattice keeps its pre-aggregates). */
    ratioColdAfterWrite: number | null;
  } | null;
}

/** A leaf cell to write for the cold measurements: its address and current value. */
export interface WriteTarget {
  address: string[];
  coords: Int32Array;
}

/** Writes the target leaf through the backend's write path (commit to the store, then the lattice). */
export async function backendWrite(backend: Backend, cube: Cube, target: WriteTarget, value: number): Promise<void> {
  const state = cube.leafState(target.coords);
  const { outcomes } = await backend.writeCells(cube.name, [{ members: target.address, value, baseVersion: state.version }], "bench");
  if (outcomes[0].status !== "APPLIED") throw new Error(`write not applied: ${JSON.stringify(outcomes[0])}`);
}

/** Reads a batch with the engine, first time: values and milliseconds. */
export function engineFirst(cube: Cube, batch: CellBatch): { values: (number | null)[]; ms: number; scans: number } {
  const scans = cube.stats.scans;
  const t0 = now();
  const states = cube.getCells(batch.coords);
  const ms = now() - t0;
  return { values: states.map((s) => s.value), ms, scans: cube.stats.scans - scans };
}

/**
 * Engine cold (after a write) and repeated timings, then the same over the API when a client is
 * given. Writes alternate the target's value so every write changes data.
 */
export async function measureBatch(
  cube: Cube,
  backend: Backend,
  client: LatticeClient | null,
  batch: CellBatch,
  target: WriteTarget,
  repeats: Repeats,
  first: { values: (number | null)[]; ms: number; scans: number },
  log: (line: string) => void,
): Promise<Omit<BatchFigures, "duckdb">> {
  const cold: number[] = [];
  for (let k = 0; k < repeats.cold; k++) {
    await backendWrite(backend, cube, target, 100 + (k % 7) + 0.25);
    const t0 = now();
    cube.getCells(batch.coords);
    cold.push(now() - t0);
  }
  const repeated: number[] = [];
  for (let k = 0; k < repeats.repeated; k++) {
    const t0 = now();
    cube.getCells(batch.coords);
    repeated.push(now() - t0);
  }
  log(`  ${batch.name}: engine first ${first.ms.toFixed(1)} ms, cold p50 ${quantile(cold, 0.5).toFixed(1)} ms, repeated p50 ${quantile(repeated, 0.5).toFixed(2)} ms`);
  let http: BatchFigures["http"] = null;
  if (client) {
    // Let the event loop see sockets the server closed while the engine reads blocked it, so the
    // client does not send on a dead keep-alive connection.
    await sleep(50);
    const hcold: number[] = [];
    for (let k = 0; k < repeats.cold; k++) {
      await httpWrite(client, cube.name, target.address, 200 + (k % 5) + 0.5);
      hcold.push((await httpGetCells(client, cube.name, batch.addresses)).ms);
    }
    const hrep: number[] = [];
    for (let k = 0; k < repeats.repeated; k++) hrep.push((await httpGetCells(client, cube.name, batch.addresses)).ms);
    http = { cold: summarize(hcold), repeated: summarize(hrep) };
    log(`  ${batch.name}: HTTP cold p50 ${http.cold.p50.toFixed(1)} ms, repeated p50 ${http.repeated.p50.toFixed(1)} ms`);
  }
  return {
    name: batch.name,
    cells: batch.coords.length,
    nonEmpty: first.values.filter((v) => v !== null).length,
    engine: { firstMs: first.ms, cold: summarize(cold), repeated: summarize(repeated), firstScans: first.scans },
    http,
  };
}

/** Runs the DuckDB formulations on a batch (checked against the lattice's first answers) and picks the fastest. */
export async function measureDuck(
  peer: DuckPeer,
  batch: CellBatch,
  latticeValues: (number | null)[],
  figures: Omit<BatchFigures, "duckdb">,
  repeats: Repeats,
  slowMs: number,
  log: (line: string) => void,
): Promise<BatchFigures["duckdb"]> {
  log(`  ${batch.name}: DuckDB (checking answers first)`);
  const formulations = await runFormulations(peer, batch.coords, latticeValues, repeats.duckdb, slowMs, log);
  const ok = formulations.filter((f) => f.matches && f.repeatMs);
  let best: { name: string; coldMs: number; repeatedMs: number } | null = null;
  for (const f of ok) {
    const rep = f.repeatMs!.length > 0 ? quantile(f.repeatMs!, 0.5) : f.firstMs!;
    // The fastest formulation by its repeated time; its first run is its cold time.
    if (!best || rep < best.repeatedMs) best = { name: f.name, coldMs: f.firstMs!, repeatedMs: rep };
  }
  return {
    formulations,
    best,
    ratioCold: best ? best.coldMs / figures.engine.firstMs : null,
    ratioRepeated: best ? best.repeatedMs / figures.engine.repeated.p50 : null,
    ratioColdAfterWrite: best ? best.coldMs / figures.engine.cold.p50 : null,
  };
}

/**
 * What both cube runners measure once their server is up, in this order: each batch's first engine
 * read, then the batch in the engine and over HTTP, then write -> stream on `ancestor`, then (when
 * `makePeer` is given) the DuckDB peer on the same batches, checked against the first reads.
 */
export async function runScenario(args: {
  cube: Cube;
  backend: Backend;
  url: string;
  batches: CellBatch[];
  target: WriteTarget;
  ancestor: string[];
  repeats: Repeats;
  /** Builds the DuckDB peer on the same facts, or null to skip DuckDB. */
  makePeer: (() => Promise<DuckPeer>) | null;
  log: (line: string) => void;
}): Promise<{ batches: BatchFigures[]; writeToStream: WriteStreamResult & { ancestor: string[]; leaf: string[] }; duckdbLoadMs: number }> {
  const { cube, backend, batches: list, target, ancestor, repeats, log } = args;
  const client = latticeClient(args.url);
  // First reads right after the server built the cube, before any write.
  const firsts = list.map((b) => engineFirst(cube, b));
  const measured = [];
  for (let i = 0; i < list.length; i++) measured.push(await measureBatch(cube, backend, client, list[i], target, repeats, firsts[i], log));
  log(`  write -> stream: watching ${ancestor.join(" ")}, writing ${repeats.writes} times to a Plan leaf below`);
  await sleep(50);
  const ws = await measureWriteToStream(client, cube.name, ancestor, target.address, repeats.writes);
  log(`  write -> stream p50 ${ws.stream.p50.toFixed(1)} ms, p95 ${ws.stream.p95.toFixed(1)} ms (write ack p50 ${ws.ack.p50.toFixed(1)} ms)`);

  let duckdbLoadMs = Number.NaN;
  let peer: DuckPeer | null = null;
  if (args.makePeer) {
    const t0 = now();
    peer = await args.makePeer();
    duckdbLoadMs = now() - t0;
    log(`  DuckDB peer loaded in ${duckdbLoadMs.toFixed(0)} ms (${peer.rows.toLocaleString("en-US")} facts)`);
  }
  const batches: BatchFigures[] = [];
  try {
    for (let i = 0; i < list.length; i++) {
      const duckdb = peer ? await measureDuck(peer, list[i], firsts[i].values, measured[i], repeats, 5000, log) : null;
      batches.push({ ...measured[i], duckdb });
    }
  } finally {
    peer?.close();
  }
  return { batches, writeToStream: { ...ws, ancestor, leaf: target.address }, duckdbLoadMs };
}
