/**
 * The DuckDB peer: the same leaf cells in an in-memory DuckDB (one INTEGER column per dimension
 * holding the leaf member id, and the value), and the same consolidated cells computed in SQL.
 *
 * Formulations (each checked against the lattice before it is timed; the fastest is reported):
 * - `closure`: per-dimension closure tables (ancestor, leaf, weight) restricted to the requested
 *   members, joined to the facts and grouped by member tuple, then joined to the requested cells.
 *   Fast for report grids; each fact row fans out to every combination of requested ancestors, so
 *   it is skipped when that fan-out is estimated too large.
 * - `segments`: the lattice's own algorithm in SQL: per dimension a leaf -> segment map (segments
 *   cut by the requested members' leaf ranges), facts grouped by segment tuple, then each cell sums
 *   its box through member -> segment maps (equi-joins). Skipped when the boxes are too large.
 * - `segments-range`: as `segments`, but the boxes are matched with range predicates (DuckDB's
 *   range joins) instead of enumerated.
 * Building the per-batch helper tables (cells, restricted closures, segment maps) is part of each
 * timed run, as computing them is part of the lattice's time.
 */
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDoubleType,
  DuckDBInstance,
  DuckDBIntegerType,
  type DuckDBType,
} from "@duckdb/node-api";
import type { Cube, Dimension, LeafCells } from "../backend/src/lattice";

/** One computed batch: values (null = empty) by request index. */
export type DuckAnswer = (number | null)[];

/** The result of one formulation on one batch. */
export interface FormulationResult {
  name: string;
  /** Why it was not run (estimated too large), or why it failed. */
  skipped?: string;
  /** First run (ms), then the repeats (ms). */
  firstMs?: number;
  repeatMs?: number[];
  /** Whether its answers equal the lattice's (1e-6 relative); only matching formulations are timed. */
  matches?: boolean;
  mismatch?: string;
}

/** Largest estimated number of joined rows a formulation may produce before it is skipped. */
const MAX_JOIN_ROWS = 400_000_000;

/** An in-memory DuckDB holding one cube's facts. */
export class DuckPeer {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    private readonly dims: readonly Dimension[],
    /** Rows of facts (non-empty leaf cells). */
    readonly rows: number,
    /** Rows per leaf member, per dimension (for the fan-out estimates). */
    private readonly leafRows: Float64Array[],
  ) {}

  /**
   * Creates the database and appends the facts: `facts(d0 INTEGER, ..., v DOUBLE)` with the leaf
   * member id per dimension, plus `pos_d(leaf, p)` (depth-first leaf position) and the full closure
   * tables `clo_d(anc, leaf, w)`. Cleared (NaN) cells are not facts.
   */
  static async create(cube: Cube, cells: LeafCells): Promise<DuckPeer> {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    const nd = cube.dims.length;
    const cols = cube.dims.map((_, d) => `d${d} INTEGER`).join(", ");
    await conn.run(`CREATE TABLE facts (${cols}, v DOUBLE)`);
    const leafRows = cube.dims.map((dim) => new Float64Array(dim.size));
    const types: DuckDBType[] = [...cube.dims.map(() => DuckDBIntegerType.instance), DuckDBDoubleType.instance];
    const appender = await conn.createAppender("facts");
    const CHUNK = 2048;
    let rows = 0;
    for (let start = 0; start < cells.count; start += CHUNK) {
      const end = Math.min(cells.count, start + CHUNK);
      // Rows of this slice that hold a value.
      const keep: number[] = [];
      for (let r = start; r < end; r++) if (!Number.isNaN(cells.values[r])) keep.push(r);
      if (keep.length === 0) continue;
      const chunk = DuckDBDataChunk.create(types, keep.length);
      for (let d = 0; d < nd; d++) {
        const vec = chunk.getColumnVector(d);
        const col = cells.coords[d];
        const lr = leafRows[d];
        for (let j = 0; j < keep.length; j++) {
          const m = col[keep[j]];
          vec.setItem(j, m);
          lr[m]++;
        }
        vec.flush();
      }
      const vv = chunk.getColumnVector(nd);
      for (let j = 0; j < keep.length; j++) vv.setItem(j, cells.values[keep[j]]);
      vv.flush();
      appender.appendDataChunk(chunk);
      rows += keep.length;
    }
    appender.closeSync();
    for (let d = 0; d < nd; d++) {
      const dim = cube.dims[d];
      await conn.run(`CREATE TABLE clo${d} (anc INTEGER, leaf INTEGER, w DOUBLE)`);
      const app = await conn.createAppender(`clo${d}`);
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        let w = 1;
        for (let m = leaf; m >= 0; m = dim.parent[m]) {
          app.appendInteger(m);
          app.appendInteger(leaf);
          app.appendDouble(w);
          app.endRow();
          w *= dim.weight[m];
        }
      }
      app.closeSync();
    }
    return new DuckPeer(instance, conn, cube.dims, rows, leafRows);
  }

  /** Closes the database. */
  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /** Appends rows of integers/doubles into a fresh temporary table. */
  private async table(name: string, columns: [string, "INTEGER" | "DOUBLE"][], rows: number[][]): Promise<void> {
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns.map(([c, t]) => `${c} ${t}`).join(", ")})`);
    if (rows.length === 0) return;
    const app = await this.conn.createAppender(name);
    for (const row of rows) {
      for (let k = 0; k < columns.length; k++) {
        if (columns[k][1] === "INTEGER") app.appendInteger(row[k]);
        else app.appendDouble(row[k]);
      }
      app.endRow();
    }
    app.closeSync();
  }

  /** Reads a (i, s, n) result into answers by request index. */
  private async collect(sql: string, n: number): Promise<DuckAnswer> {
    const reader = await this.conn.runAndReadAll(sql);
    const out: DuckAnswer = new Array(n).fill(null);
    for (const row of reader.getRowsJS()) {
      const i = Number(row[0]);
      const cnt = Number(row[2]);
      if (cnt > 0) out[i] = Number(row[1]);
    }
    return out;
  }

  /** Dimensions the batch constrains: not every cell at one unweighted member covering all leaves. */
  private activeDims(coords: readonly Int32Array[]): number[] {
    const out: number[] = [];
    this.dims.forEach((dim, d) => {
      const first = coords[0][d];
      const same = coords.every((c) => c[d] === first);
      if (!(same && !dim.weighted && dim.coversAll(first))) out.push(d);
    });
    return out;
  }

  /** Estimated joined rows of the closure formulation: facts times requested ancestors per leaf. */
  estimateClosure(coords: readonly Int32Array[]): number {
    let rows = this.rows;
    for (const d of this.activeDims(coords)) {
      const dim = this.dims[d];
      const req = new Set(coords.map((c) => c[d]));
      // Average over rows of the number of requested ancestors of the row's leaf.
      let total = 0;
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        let k = 0;
        for (let m = leaf; m >= 0; m = dim.parent[m]) if (req.has(m)) k++;
        total += k * this.leafRows[d][leaf];
      }
      rows *= total / Math.max(1, this.rows);
    }
    return rows;
  }

  /**
   * `closure`: facts joined to restricted closures, grouped by member tuple, joined to the cells.
   */
  async closure(coords: readonly Int32Array[]): Promise<DuckAnswer> {
    const active = this.activeDims(coords);
    await this.table(
      "cells",
      [["i", "INTEGER"], ...active.map((d): [string, "INTEGER"] => [`m${d}`, "INTEGER"])],
      coords.map((c, i) => [i, ...active.map((d) => c[d])]),
    );
    const joins = active.map((d) => `JOIN (SELECT * FROM clo${d} WHERE anc IN (SELECT DISTINCT m${d} FROM cells)) k${d} ON f.d${d} = k${d}.leaf`).join("\n");
    const weight = active.length === 0 ? "" : ` * ${active.map((d) => `k${d}.w`).join(" * ")}`;
    const groupCols = active.map((d) => `k${d}.anc AS a${d}`).join(", ");
    const sql = `WITH agg AS (
        SELECT ${groupCols}${active.length ? ", " : ""}SUM(f.v${weight}) AS s, COUNT(*) AS n
        FROM facts f
        ${joins}
        ${active.length ? `GROUP BY ${active.map((d) => `k${d}.anc`).join(", ")}` : ""}
      )
      SELECT c.i, agg.s, agg.n FROM cells c JOIN agg ON ${active.length ? active.map((d) => `agg.a${d} = c.m${d}`).join(" AND ") : "TRUE"}`;
    return this.collect(sql, coords.length);
  }

  /** Per active dimension: segments of the batch's members (as the lattice cuts them). */
  private segments(coords: readonly Int32Array[]): SegmentPlan {
    const active = this.activeDims(coords);
    const axes = active.map((d) => buildSegments(this.dims[d], new Set(coords.map((c) => c[d]))));
    return { active, axes };
  }

  /** Estimated joined rows of the segment formulation's box enumeration (sum of box volumes). */
  estimateSegments(coords: readonly Int32Array[]): number {
    const { active, axes } = this.segments(coords);
    let total = 0;
    for (const c of coords) {
      let v = 1;
      active.forEach((d, k) => {
        const [lo, hi] = axes[k].range.get(c[d])!;
        v *= hi - lo;
      });
      total += v;
    }
    return total;
  }

  /** Phase 1 of both segment formulations: leaf -> segment maps and the facts grouped by segment tuple. */
  private async segmentAggregate(plan: SegmentPlan): Promise<string> {
    const { active, axes } = plan;
    for (let k = 0; k < active.length; k++) {
      const d = active[k];
      const dim = this.dims[d];
      const a = axes[k];
      const rows: number[][] = [];
      for (let p = 0; p < dim.leafCount; p++) {
        const s = a.segAt[p];
        if (s >= 0) rows.push([dim.leafAt[p], s, dim.relativeWeight(dim.leafAt[p], a.finest[s])]);
      }
      await this.table(`seg${d}`, [["leaf", "INTEGER"], ["s", "INTEGER"], ["w", "DOUBLE"]], rows);
    }
    const joins = active.map((d) => `JOIN seg${d} g${d} ON f.d${d} = g${d}.leaf`).join("\n");
    const weight = active.map((d) => ` * g${d}.w`).join("");
    return `SELECT ${active.map((d) => `g${d}.s AS s${d}, `).join("")}SUM(f.v${weight}) AS s, COUNT(*) AS n
      FROM facts f
      ${joins}
      ${active.length ? `GROUP BY ${active.map((d) => `g${d}.s`).join(", ")}` : ""}`;
  }

  /** `segments`: segment tuples summed per cell by enumerating each box (equi-joins). */
  async segmentsEqui(coords: readonly Int32Array[]): Promise<DuckAnswer> {
    const plan = this.segments(coords);
    const { active, axes } = plan;
    const agg = await this.segmentAggregate(plan);
    await this.table(
      "cells",
      [["i", "INTEGER"], ...active.map((d): [string, "INTEGER"] => [`m${d}`, "INTEGER"])],
      coords.map((c, i) => [i, ...active.map((d) => c[d])]),
    );
    for (let k = 0; k < active.length; k++) {
      const d = active[k];
      const dim = this.dims[d];
      const a = axes[k];
      const rows: number[][] = [];
      for (const [m, [lo, hi]] of a.range) for (let s = lo; s < hi; s++) rows.push([m, s, dim.relativeWeight(a.finest[s], m)]);
      await this.table(`box${d}`, [["m", "INTEGER"], ["s", "INTEGER"], ["f", "DOUBLE"]], rows);
    }
    const boxJoins = active.map((d) => `JOIN box${d} b${d} ON b${d}.m = c.m${d}`).join("\n");
    const onAgg = active.map((d) => `a.s${d} = b${d}.s`).join(" AND ");
    const factor = active.map((d) => ` * b${d}.f`).join("");
    const sql = `WITH a AS (${agg})
      SELECT c.i, SUM(a.s${factor}) AS s, SUM(a.n) AS n
      FROM cells c
      ${boxJoins}
      JOIN a ON ${onAgg || "TRUE"}
      GROUP BY c.i`;
    return this.collect(sql, coords.length);
  }

  /** `segments-range`: segment tuples matched to the cells' boxes with range predicates. */
  async segmentsRange(coords: readonly Int32Array[]): Promise<DuckAnswer> {
    const plan = this.segments(coords);
    const { active, axes } = plan;
    const agg = await this.segmentAggregate(plan);
    const weightedDims = active.filter((d) => this.dims[d].weighted);
    await this.table(
      "cells",
      [
        ["i", "INTEGER"],
        ...active.flatMap((d): [string, "INTEGER"][] => [
          [`m${d}`, "INTEGER"],
          [`lo${d}`, "INTEGER"],
          [`hi${d}`, "INTEGER"],
        ]),
      ],
      coords.map((c, i) => [
        i,
        ...active.flatMap((d, k) => {
          const [lo, hi] = axes[k].range.get(c[d])!;
          return [c[d], lo, hi - 1];
        }),
      ]),
    );
    for (const d of weightedDims) {
      const k = active.indexOf(d);
      const dim = this.dims[d];
      const a = axes[k];
      const rows: number[][] = [];
      for (const [m, [lo, hi]] of a.range) for (let s = lo; s < hi; s++) rows.push([m, s, dim.relativeWeight(a.finest[s], m)]);
      await this.table(`box${d}`, [["m", "INTEGER"], ["s", "INTEGER"], ["f", "DOUBLE"]], rows);
    }
    const ranges = active.map((d) => `a.s${d} BETWEEN c.lo${d} AND c.hi${d}`).join(" AND ");
    const wJoins = weightedDims.map((d) => `JOIN box${d} b${d} ON b${d}.m = c.m${d} AND b${d}.s = a.s${d}`).join("\n");
    const factor = weightedDims.map((d) => ` * b${d}.f`).join("");
    const sql = `WITH a AS (${agg})
      SELECT c.i, SUM(a.s${factor}) AS s, SUM(a.n) AS n
      FROM cells c JOIN a ON ${ranges || "TRUE"}
      ${wJoins}
      GROUP BY c.i`;
    return this.collect(sql, coords.length);
  }
}

interface SegmentAxis {
  /** Segment of each leaf position (-1: not covered). */
  segAt: Int32Array;
  /** Finest requested member covering each segment. */
  finest: Int32Array;
  /** Segment range [lo, hi) of each requested member. */
  range: Map<number, [number, number]>;
}

interface SegmentPlan {
  active: number[];
  axes: SegmentAxis[];
}

/** Cuts a dimension's leaf order at the requested members' bounds (independently of the engine). */
function buildSegments(dim: Dimension, members: Set<number>): SegmentAxis {
  const bounds = Array.from(new Set(Array.from(members).flatMap((m) => [dim.leafLo[m], dim.leafHi[m]]))).sort((a, b) => a - b);
  const nseg = bounds.length - 1;
  const finest = new Int32Array(nseg).fill(-1);
  const idx = new Map(bounds.map((p, i) => [p, i]));
  const range = new Map<number, [number, number]>();
  const byWidth = Array.from(members).sort((x, y) => dim.leafHi[y] - dim.leafLo[y] - (dim.leafHi[x] - dim.leafLo[x]) || dim.depth[x] - dim.depth[y]);
  for (const m of byWidth) {
    const lo = idx.get(dim.leafLo[m])!;
    const hi = idx.get(dim.leafHi[m])!;
    range.set(m, [lo, hi]);
    for (let s = lo; s < hi; s++) finest[s] = m;
  }
  const segAt = new Int32Array(dim.leafCount).fill(-1);
  for (let s = 0; s < nseg; s++) if (finest[s] >= 0) for (let p = bounds[s]; p < bounds[s + 1]; p++) segAt[p] = s;
  return { segAt, finest, range };
}

/**
 * Compares DuckDB's answers with the lattice's: both empty, or equal to 1e-6 relative.
 * @returns null when they match, else a description of the first difference.
 */
export function compareAnswers(lattice: readonly (number | null)[], duck: DuckAnswer): string | null {
  let bad = 0;
  let first = "";
  for (let i = 0; i < lattice.length; i++) {
    const a = lattice[i];
    const b = duck[i];
    const ok = a === null || b === null ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
    if (!ok) {
      if (bad === 0) first = `cell ${i}: lattice ${a}, DuckDB ${b}`;
      bad++;
    }
  }
  return bad === 0 ? null : `${bad} of ${lattice.length} cells differ (${first})`;
}

/** The formulations, in the order they are tried, with their size estimates. */
export function formulations(peer: DuckPeer): { name: string; estimate: (c: readonly Int32Array[]) => number; run: (c: readonly Int32Array[]) => Promise<DuckAnswer> }[] {
  return [
    { name: "closure", estimate: (c) => peer.estimateClosure(c), run: (c) => peer.closure(c) },
    { name: "segments", estimate: (c) => peer.estimateSegments(c), run: (c) => peer.segmentsEqui(c) },
    { name: "segments-range", estimate: () => 0, run: (c) => peer.segmentsRange(c) },
  ];
}

/**
 * Runs every formulation on a batch: first a checked run (compared with the lattice's answers),
 * then `repeats` timed runs; formulations estimated over MAX_JOIN_ROWS are skipped, and so are
 * repeats once a formulation's first run took longer than `slowMs`.
 */
export async function runFormulations(
  peer: DuckPeer,
  coords: readonly Int32Array[],
  lattice: readonly (number | null)[],
  repeats: number,
  slowMs: number,
  log: (line: string) => void = () => {},
): Promise<FormulationResult[]> {
  const results: FormulationResult[] = [];
  for (const f of formulations(peer)) {
    const est = f.estimate(coords);
    if (est > MAX_JOIN_ROWS) {
      results.push({ name: f.name, skipped: `estimated ${(est / 1e6).toFixed(0)}M joined rows (limit ${MAX_JOIN_ROWS / 1e6}M)` });
      log(`  duckdb ${f.name}: skipped (estimated ${(est / 1e6).toFixed(0)}M joined rows)`);
      continue;
    }
    try {
      const t0 = performance.now();
      const answer = await f.run(coords);
      const firstMs = performance.now() - t0;
      const mismatch = compareAnswers(lattice, answer);
      if (mismatch) {
        results.push({ name: f.name, firstMs, matches: false, mismatch });
        log(`  duckdb ${f.name}: ANSWERS DIFFER: ${mismatch}`);
        continue;
      }
      const repeatMs: number[] = [];
      const n = firstMs > slowMs ? Math.min(1, repeats) : repeats;
      for (let k = 0; k < n; k++) {
        const t = performance.now();
        await f.run(coords);
        repeatMs.push(performance.now() - t);
      }
      results.push({ name: f.name, firstMs, repeatMs, matches: true });
      log(`  duckdb ${f.name}: first ${firstMs.toFixed(1)} ms, repeats ${repeatMs.map((x) => x.toFixed(1)).join(" ")} ms`);
    } catch (err) {
      results.push({ name: f.name, skipped: `failed: ${err instanceof Error ? err.message : String(err)}` });
      log(`  duckdb ${f.name}: failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return results;
}
