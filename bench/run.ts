/**
 * The benchmark (`npm run bench`): FoodMart and a generated cube of 10 million leaf cells; GetCells
 * of 1,000 consolidated cells (engine and HTTP, first / cold / repeated), write -> WatchCells
 * delivery, the same cells in DuckDB (checked, then timed), memory per million leaf cells and load
 * times. Prints the figures beside the issue's targets and writes them to bench-results/latest.json
 * (the run before moves to previous.json, and the timings both measured are compared: ./compare.ts).
 *
 *   node --expose-gc --max-old-space-size=12000 bin/run-ts.cjs bench/run.ts [--leaves N] [--only foodmart|generated|engines|instances|planning|gpu|sandbox]
 *
 * `--only engines` runs bench/engines.ts instead: COPY into PostgreSQL, a 10M-row CSV loaded end to
 * end, and hot tiles (Redis, in-process, none). `--only instances` runs bench/instances.ts: cold start
 * from PostgreSQL (FoodMart and the generated cube) and a write on instance A timed until instance B's
 * WatchCells stream pushes it (PostgreSQL + Kafka). `--only planning` runs bench/planning.ts:
 * proportional spreads over about 100,000 and 1,000,000 leaves, and a scenario copy of 10M cells.
 * `--only gpu` runs bench/gpu.ts: the GPU executor beside the CPU pool on whatever adapter there is.
 * `--only sandbox` runs bench/sandbox.ts: writes, a spread, reads and the commit of a sandbox.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import pg from "pg";
import { projectRoot } from "../backend/src/config";
import { runFoodMart } from "./foodmart";
import { ADMIN_URL, type EngineFigures, formatEngines, runEngines, withDatabase } from "./engines";
import { runGenerated } from "./generated-run";
import { formatPlanning, type PlanningFigures, runPlanning } from "./planning";
import { formatSandbox, runSandbox, type SandboxFigures } from "./sandbox";
import { formatGpu, type GpuFigures, runGpu } from "./gpu";
import { formatInstances, type InstanceFigures, runInstances } from "./instances";
import { canCollect } from "./measure";
import { type BenchResults, formatResults, TARGETS } from "./report";
import type { Repeats } from "./scenario";
import { compareRuns, formatComparison } from "./compare";

function positiveInt(value: string): number {
  const n = Number(value.replace(/_/g, ""));
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number of at least 0");
  return n;
}

/** Null when the PostgreSQL server at ADMIN_URL answers, else why not. */
async function serverReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Parses the command line and runs the benchmark. */
export async function main(argv: string[]): Promise<BenchResults> {
  const program = new Command()
    .name("bench")
    .description("QuantatomAI benchmark: FoodMart and a generated cube, lattice vs. the targets and vs. DuckDB")
    .option("--leaves <n>", "leaf cells of the generated cube", positiveInt, 10_000_000)
    .addOption(new Option("--only <cube>", "run one cube only").choices(["foodmart", "generated", "engines", "instances", "planning", "gpu", "sandbox"]))
    .option("--seed <n>", "seed of the generated cells and the scattered batches", nonNegativeInt, 20240607)
    .option("--shuffle", "shuffle the generated rows instead of keeping them in key (time-major) order", false)
    .option("--cold <n>", "cold reads (each after a write) per batch", positiveInt, 10)
    .option("--repeats <n>", "repeated reads per batch", positiveInt, 20)
    .option("--duckdb-repeats <n>", "timed DuckDB runs per formulation after the checked first run", nonNegativeInt, 5)
    .option("--writes <n>", "writes of the write -> stream measurement", positiveInt, 50)
    .option("--no-duckdb", "skip the DuckDB peer")
    .option("--copy-rows <n>", "(engines) leaf cells saved into PostgreSQL with COPY", positiveInt, 2_000_000)
    .option("--csv-rows <n>", "(engines) rows of the generated fact CSV loaded end to end; 0 skips it", nonNegativeInt, 10_000_000)
    .option("--cache-leaves <n>", "(engines) leaf cells of the cube the hot-tile reads run on", positiveInt, 1_000_000)
    .option("--reads <n>", "(engines) GetCells reads per tile-cache mode", positiveInt, 500)
    .option("--instance-writes <n>", "(instances) timed writes on A -> pushes on B", positiveInt, 200)
    .option("--instance-warmup <n>", "(instances) untimed writes first (consumer group join)", nonNegativeInt, 5)
    .option("--instance-leaves <n>", "(instances) leaf cells of the generated cube cold-started from PostgreSQL; 0 skips it", nonNegativeInt, 10_000_000)
    .option("--plan-runs <n>", "(planning) timed spreads per size in the engine", positiveInt, 9)
    .option("--plan-durable-1m", "(planning) also time the 1M-leaf spread through WriteCells with its durable commits (minutes)", false)
    .option("--copy-durable-cells <n>", "(planning) Actual cells of the durable scenario copy on the PostgreSQL server; 0 skips it", nonNegativeInt, 1_000_000)
    .option("--no-plan-server", "(planning) time the durable spreads on PGlite only, not also on the PostgreSQL server (DATABASE_URL)")
    .option("--sandbox-leaves <n>", "(sandbox) leaf cells of the generated cube the sandbox runs on", positiveInt, 1_000_000)
    .option("--sandbox-runs <n>", "(sandbox) timed leaf writes and reads", positiveInt, 10)
    .option("--gpu-leaves <list>", "(gpu) leaf cells of each generated cube, comma-separated", (v: string) => v.split(",").map((x) => positiveInt(x.trim())), [10_000_000])
    .option("--gpu-runs <n>", "(gpu) timed reads per batch and executor", positiveInt, 5)
    .option("--json <file>", "where to write the figures", path.join(projectRoot, "bench-results", "latest.json"))
    .showHelpAfterError()
    .parse(argv);
  const opts = program.opts<{
    leaves: number;
    only?: "foodmart" | "generated" | "engines" | "instances" | "planning" | "gpu" | "sandbox";
    gpuLeaves: number[];
    sandboxLeaves: number;
    sandboxRuns: number;
    gpuRuns: number;
    planRuns: number;
    planDurable1m: boolean;
    copyDurableCells: number;
    planServer: boolean;
    instanceWrites: number;
    instanceWarmup: number;
    instanceLeaves: number;
    copyRows: number;
    csvRows: number;
    cacheLeaves: number;
    reads: number;
    seed: number;
    shuffle: boolean;
    cold: number;
    repeats: number;
    duckdbRepeats: number;
    writes: number;
    duckdb: boolean;
    json: string;
  }>();
  const repeats: Repeats = { cold: opts.cold, repeated: opts.repeats, duckdb: opts.duckdbRepeats, writes: opts.writes };
  const log = (line: string) => console.log(line);
  const results: BenchResults & { engines?: EngineFigures; instances?: InstanceFigures; planning?: PlanningFigures; gpu?: GpuFigures; sandbox?: SandboxFigures } = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
      loadAverageAtStart: os.loadavg(),
      exposeGc: canCollect(),
    },
    options: { ...opts },
    targets: TARGETS,
  };
  if (opts.only === "engines") {
    results.engines = await runEngines({
      copyRows: opts.copyRows,
      csvRows: opts.csvRows,
      cacheLeaves: opts.cacheLeaves,
      reads: opts.reads,
      seed: opts.seed,
      log,
    });
  }
  if (opts.only === "gpu") {
    results.gpu = await runGpu({ leaves: opts.gpuLeaves, runs: opts.gpuRuns, seed: opts.seed, log });
  }
  if (opts.only === "sandbox") {
    results.sandbox = await runSandbox({ leaves: opts.sandboxLeaves, seed: opts.seed, runs: opts.sandboxRuns, log });
  }
  if (opts.only === "instances") {
    results.instances = await runInstances({
      leaves: opts.instanceLeaves,
      writes: opts.instanceWrites,
      warmup: opts.instanceWarmup,
      seed: opts.seed,
      log,
    });
  }
  if (opts.only === undefined || opts.only === "planning") {
    const server = opts.planServer ? await serverReachable() : null;
    if (opts.planServer && server) log(`planning: the PostgreSQL server at ${new URL(ADMIN_URL).host} is not reachable (${server}); durable spreads on PGlite only`);
    results.planning = await runPlanning({
      leaves: opts.leaves,
      seed: opts.seed,
      runs: opts.planRuns,
      durable1M: opts.planDurable1m,
      copyDurableCells: opts.copyDurableCells,
      serverUrl: opts.planServer && !server ? (fn) => withDatabase(fn) : null,
      log,
    });
  }
  if (opts.only === undefined || opts.only === "foodmart") {
    results.foodmart = await runFoodMart({ repeats, seed: opts.seed, skipDuckdb: !opts.duckdb, log });
  }
  if (opts.only === undefined || opts.only === "generated") {
    results.generated = await runGenerated({ leaves: opts.leaves, seed: opts.seed, shuffle: opts.shuffle, repeats, skipDuckdb: !opts.duckdb, log });
  }
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAtEnd = os.loadavg();
  const lines = formatResults(results);
  if (results.engines) lines.push("", ...formatEngines(results.engines));
  if (results.instances) lines.push("", ...formatInstances(results.instances));
  if (results.planning) lines.push("", ...formatPlanning(results.planning));
  if (results.gpu) lines.push("", ...formatGpu(results.gpu));
  if (results.sandbox) lines.push("", ...formatSandbox(results.sandbox));
  results.lines = lines;
  console.log("");
  console.log(lines.join("\n"));
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  // The previous run stays beside the new one, and the shared timings are compared.
  const previousFile = path.join(path.dirname(opts.json), "previous.json");
  const previous = fs.existsSync(opts.json) ? (JSON.parse(fs.readFileSync(opts.json, "utf8")) as Record<string, unknown>) : null;
  if (previous) fs.renameSync(opts.json, previousFile);
  console.log("");
  console.log(formatComparison(compareRuns(previous, results as unknown as Record<string, unknown>), previous?.startedAt as string | undefined).join("\n"));
  fs.writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nFigures written to ${path.relative(process.cwd(), opts.json)}${previous ? ` (the previous run's in ${path.relative(process.cwd(), previousFile)})` : ""}`);
  return results;
}

main(process.argv).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
