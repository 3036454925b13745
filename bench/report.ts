/** Printing the benchmark's figures beside the issue's targets, and the JSON written with them. */
import type { FoodMartFigures } from "./foodmart";
import type { GeneratedFigures } from "./generated-run";
import type { BatchFigures } from "./scenario";

/** The issue's targets on the 2-core machine. */
export const TARGETS = {
  /** 1,000 consolidated cells over 10M leaves, server (engine) time. */
  getCellsMs: 50,
  /** One leaf write until a WatchCells stream on a consolidated ancestor delivers the new value, p50. */
  writeToStreamP50Ms: 20,
  /** Faster than DuckDB on the same cells: duckdb_ms / lattice_ms above this. */
  duckdbRatio: 1,
};

/** Everything one run measured. */
export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd?: number[]; exposeGc: boolean };
  options: Record<string, unknown>;
  targets: typeof TARGETS;
  foodmart?: FoodMartFigures;
  generated?: GeneratedFigures;
  /** The table as printed. */
  lines?: string[];
}

function ms(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${x.toFixed(digits)} ms` : "n/a";
}

function verdict(ok: boolean): string {
  return ok ? "OK" : "MISSED";
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n.toLocaleString("en-US");
}

function ratio(x: number | null): string {
  return x === null ? "n/a" : `${x.toFixed(1)}x`;
}

/** Lines of one batch: engine, HTTP and DuckDB figures, with the targets where they apply. */
function batchLines(b: BatchFigures, leaves: number, withTarget: boolean): string[] {
  const what = `GetCells ${b.cells.toLocaleString("en-US")} consolidated (${b.name}, ${b.nonEmpty} non-empty) over ${millions(leaves)} leaves`;
  const target = (x: number) => (withTarget ? ` (target <= ${TARGETS.getCellsMs} ms: ${verdict(x <= TARGETS.getCellsMs)})` : "");
  const out = [
    `${what}, engine, first read after load: ${ms(b.engine.firstMs)}${target(b.engine.firstMs)} [${b.engine.firstScans} pass(es) over rows]`,
    `${what}, engine, cold (after a write): p50 ${ms(b.engine.cold.p50)}, p95 ${ms(b.engine.cold.p95)}${target(b.engine.cold.p50)}`,
    `${what}, engine, repeated: p50 ${ms(b.engine.repeated.p50, 2)}`,
  ];
  if (b.http) {
    out.push(`${what}, HTTP (Connect, binary), cold (after a write): p50 ${ms(b.http.cold.p50)}, p95 ${ms(b.http.cold.p95)}`);
    out.push(`${what}, HTTP (Connect, binary), repeated: p50 ${ms(b.http.repeated.p50)}`);
  }
  if (b.duckdb) {
    const d = b.duckdb;
    for (const f of d.formulations) {
      if (f.skipped) out.push(`  DuckDB ${f.name}: not run (${f.skipped})`);
      else if (!f.matches) out.push(`  DuckDB ${f.name}: ANSWERS DIFFER from the lattice (${f.mismatch}); not timed`);
      else out.push(`  DuckDB ${f.name}: answers match; first ${ms(f.firstMs!)}, repeated ${f.repeatMs!.map((x) => x.toFixed(1)).join(", ")} ms`);
    }
    if (d.best) {
      out.push(
        `${what}, DuckDB (${d.best.name}, fastest that matches): cold ${ms(d.best.coldMs)}, repeated ${ms(d.best.repeatedMs)}; ` +
          `ratio duckdb/lattice: cold ${ratio(d.ratioCold)} (vs engine first read), ${ratio(d.ratioColdAfterWrite)} (vs engine cold after a write), ` +
          `repeated ${ratio(d.ratioRepeated)} (target > ${TARGETS.duckdbRatio}x: ${verdict((d.ratioCold ?? 0) > TARGETS.duckdbRatio && (d.ratioRepeated ?? 0) > TARGETS.duckdbRatio)})`,
      );
    } else {
      out.push(`${what}, DuckDB: no formulation matched and ran`);
    }
  }
  return out;
}

/** The printed table of one run. */
export function formatResults(r: BenchResults): string[] {
  const lines: string[] = [];
  lines.push(
    `Machine: ${r.machine.cpus} CPU (${r.machine.cpuModel}), ${r.machine.memoryGiB.toFixed(0)} GiB, node ${r.machine.node}; load average at start ${r.machine.loadAverageAtStart.map((x) => x.toFixed(2)).join(" ")}${
      r.machine.loadAverageAtEnd ? `, at end ${r.machine.loadAverageAtEnd.map((x) => x.toFixed(2)).join(" ")}` : ""
    }${r.machine.exposeGc ? "" : " (run node with --expose-gc for exact memory deltas)"}`,
  );
  const fm = r.foodmart;
  if (fm) {
    lines.push("");
    lines.push(`== FoodMart (${fm.leafCells.toLocaleString("en-US")} leaf cells, ${fm.dimensions} dimensions) ==`);
    lines.push(
      `Load: CSV -> cells ${ms(fm.load.csvToCellsMs, 0)}, cube build ${ms(fm.load.cubeBuildMs, 0)}, save to PGlite ${ms(fm.load.saveMs, 0)}, server start from PGlite ${ms(fm.load.serverStartMs, 0)} (DuckDB peer load ${ms(fm.load.duckdbLoadMs, 0)}, not compared)`,
    );
    lines.push(
      `Memory per million leaf cells: leaf store ${(fm.memory.leafStoreBytesPerMillion / 1e6).toFixed(1)} MB; process RSS growth ${(fm.memory.rssDeltaPerMillion / 1e6).toFixed(1)} MB, typed arrays ${(fm.memory.arrayBuffersDeltaPerMillion / 1e6).toFixed(1)} MB`,
    );
    for (const b of fm.batches) lines.push(...batchLines(b, fm.leafCells, false));
    const w = fm.writeToStream;
    lines.push(
      `Write -> stream (${w.writes} writes, HTTP): p50 ${ms(w.stream.p50)}, p95 ${ms(w.stream.p95)} (target p50 <= ${TARGETS.writeToStreamP50Ms} ms: ${verdict(w.stream.p50 <= TARGETS.writeToStreamP50Ms)}); write acknowledged p50 ${ms(w.ack.p50)}`,
    );
  }
  const g = r.generated;
  if (g) {
    lines.push("");
    lines.push(
      `== Generated cube (${g.leafCells.toLocaleString("en-US")} leaf cells; ${g.dimensions.map((d) => `${d.name} ${d.levels} levels/${d.leaves} leaves`).join(", ")}) ==`,
    );
    lines.push(
      `Load (cube build from columns): ${ms(g.load.cubeBuildMs, 0)} (drawing the cells ${ms(g.load.generateMs, 0)}, saving the definition ${ms(g.load.saveDefMs, 0)}, DuckDB peer load ${ms(g.load.duckdbLoadMs, 0)}; not compared)`,
    );
    lines.push(
      `Memory per million leaf cells: leaf store ${(g.memory.leafStoreBytesPerMillion / 1e6).toFixed(1)} MB; process RSS growth ${(g.memory.rssDeltaPerMillion / 1e6).toFixed(1)} MB, typed arrays ${(g.memory.arrayBuffersDeltaPerMillion / 1e6).toFixed(1)} MB`,
    );
    for (const b of g.batches) lines.push(...batchLines(b, g.leafCells, true));
    const w = g.writeToStream;
    lines.push(
      `Write -> stream over ${millions(g.leafCells)} leaves (${w.writes} writes, HTTP, PGlite commit): p50 ${ms(w.stream.p50)}, p95 ${ms(w.stream.p95)} (target p50 <= ${TARGETS.writeToStreamP50Ms} ms: ${verdict(w.stream.p50 <= TARGETS.writeToStreamP50Ms)}); write acknowledged p50 ${ms(w.ack.p50)}`,
    );
  }
  return lines;
}
