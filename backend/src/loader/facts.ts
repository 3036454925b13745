/**
 * The load's facts: the fact table streamed and aggregated exactly per tuple of leaves (one tuple
 * per foreign key group), then laid out as leaf cells, one copy per fact leaf of the static
 * dimensions (Actual, seeded Plan).
 */
import fs from "node:fs";
import { CellKeyIndex } from "./cell-index";
import type { LeafCells } from "../lattice";
import { CsvRecordError, streamCsv } from "./csv";
import { describeBadDecimal, parseScaled, scaleOf } from "./decimal";
import type { BuiltDimension } from "./dimensions";
import type { LoadProgressFn } from "./load";
import type { ModelPlan, PlanFactor, PlanMeasuresDimension, PlanTable } from "./model";
import { checkHeader, rowMap, type TableData } from "./tables";

/**
 * The table dimensions reached through one foreign key of the fact table. Each row of the joined
 * table maps to a tuple of leaves (one per dimension of the group); rows with equal tuples (e.g. the
 * days of one month) are one tuple.
 */
export interface FactGroup {
  /** The fact column holding the foreign key. */
  fkColumn: string;
  /** The joined table and its key index. */
  table: TableData;
  /** Index into `built`/`plan.dimensions` of the group's dimensions. */
  dims: number[];
  /** Tuple id of each row of the joined table. */
  tupleOfRow: Int32Array;
  /** Leaves of each tuple, one array per dimension of `dims`. */
  tupleLeaves: Int32Array[];
  tuples: number;
}

/** Groups the table dimensions by the fact table's foreign key that reaches them, interning each row's tuple of leaves. */
export function factGroups(plan: ModelPlan, data: Map<string, TableData>, built: BuiltDimension[]): FactGroup[] {
  const groups: FactGroup[] = [];
  for (const t of data.values()) {
    const j = t.plan.join!;
    if (j.from.table !== plan.fact) continue;
    const dims: number[] = [];
    const leaves: Int32Array[] = [];
    plan.dimensions.forEach((d, i) => {
      if (d.kind !== "table") return;
      let top = d.table;
      while (plan.tables.get(top)!.join!.from.table !== plan.fact) top = plan.tables.get(top)!.join!.from.table;
      if (top !== t.plan.name) return;
      dims.push(i);
      const leafOfRow = built[i].leafOfRow!;
      if (d.table === top) leaves.push(leafOfRow);
      else {
        const map = rowMap(plan, data, top, d.table);
        leaves.push(Int32Array.from(map, (r) => leafOfRow[r]));
      }
    });
    if (dims.length === 0) continue;
    // Intern the tuples of leaves.
    const radices = dims.map((i) => built[i].def.members.length);
    const numeric = radices.reduce((p, r) => p * r, 1) < Number.MAX_SAFE_INTEGER;
    const ids = new Map<number | string, number>();
    const tupleOfRow = new Int32Array(t.rows);
    const tupleLeaves: number[][] = dims.map(() => []);
    for (let r = 0; r < t.rows; r++) {
      let key: number | string;
      if (numeric) {
        let k = 0;
        for (let x = 0; x < dims.length; x++) k = k * radices[x] + leaves[x][r];
        key = k;
      } else {
        key = leaves.map((l) => l[r]).join(",");
      }
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
        for (let x = 0; x < dims.length; x++) tupleLeaves[x].push(leaves[x][r]);
      }
      tupleOfRow[r] = id;
    }
    groups.push({
      fkColumn: j.from.column,
      table: t,
      dims,
      tupleOfRow,
      tupleLeaves: tupleLeaves.map((l) => Int32Array.from(l)),
      tuples: ids.size,
    });
  }
  return groups;
}

/** Aggregated facts: one entry per distinct tuple of group tuples. */
export interface Aggregate {
  cells: number;
  /** Tuple id per group, per cell. */
  cellTuples: Int32Array[];
  /** Per measure: scaled sums (or counts) per cell. */
  sums: Float64Array[];
  /** Per measure: whether the cell has a value (undefined for row counts: always). */
  present: (Uint8Array | undefined)[];
}

/**
 * Bytes of the fact file per cell the cell index is first sized for: a short fact record (four keys
 * and a measure) is about 20 bytes, and most records of a detailed fact table make a cell of their own.
 */
const FACT_BYTES_PER_CELL = 20;

/**
 * Streams the fact table and sums each stored measure exactly (as integers scaled by 10^decimals)
 * per distinct tuple of group tuples.
 * @throws LoadError at the record for a foreign key without a match or a bad number; at the measure
 *   when a sum leaves the range where it is exact.
 */
export async function aggregateFacts(
  plan: ModelPlan,
  fact: PlanTable,
  groups: FactGroup[],
  measures: PlanMeasuresDimension["measures"],
  onBytes: (bytes: number) => void,
): Promise<Aggregate> {
  const G = groups.length;
  const M = measures.length;
  let fkField: number[] = [];
  let measureField: number[] = [];
  const indexes = groups.map((g) => g.table.index!);
  const tupleOfRow = groups.map((g) => g.tupleOfRow);
  const radices = groups.map((g) => Math.max(1, g.tuples));
  const numericKey = radices.reduce((p, r) => p * r, 1) < Number.MAX_SAFE_INTEGER;
  const decimals = measures.map((m) => m.decimals);
  const isSum = measures.map((m) => m.aggregator === "sum");
  // Cells by key: a numeric key (the tuple ids in mixed radix) when it stays a safe integer, else the ids joined.
  // Sized for a record of every FACT_BYTES_PER_CELL bytes of the file (few grows: each rehashes every key).
  const cellOfNumber = new CellKeyIndex(numericKey ? Math.ceil(fs.statSync(fact.file).size / FACT_BYTES_PER_CELL) : 0);
  const cellOfText = new Map<string, number>();
  let capacity = 1024;
  let cells = 0;
  let cellTuples: Int32Array[] = groups.map(() => new Int32Array(capacity));
  let sums: Float64Array[] = measures.map(() => new Float64Array(capacity));
  let present: (Uint8Array | undefined)[] = measures.map((m) =>
    m.column === undefined ? undefined : new Uint8Array(capacity),
  );
  const tuple = new Int32Array(G);
  const grow = () => {
    capacity *= 2;
    cellTuples = cellTuples.map((a) => growInt32(a, capacity));
    sums = sums.map((a) => growFloat64(a, capacity));
    present = present.map((a) => (a === undefined ? undefined : growUint8(a, capacity)));
  };
  await streamCsv(fact.file, {
    onHeader(header) {
      const positions = checkHeader(plan, fact, header);
      fkField = groups.map((g) => positions.get(g.fkColumn)!);
      measureField = measures.map((m) => (m.column === undefined ? -1 : positions.get(m.column.column)!));
    },
    onRecord(record, rowIndex) {
      let nkey = 0;
      for (let g = 0; g < G; g++) {
        const value = record[fkField[g]];
        const row = indexes[g].get(value);
        if (row === undefined) {
          const j = groups[g].table.plan.join!;
          throw new CsvRecordError(
            rowIndex,
            fkField[g] + 1,
            `foreign key ${j.from.column} = ${JSON.stringify(value)} has no match in ${j.to.table}.${j.to.column}`,
          );
        }
        const t = tupleOfRow[g][row];
        tuple[g] = t;
        nkey = nkey * radices[g] + t;
      }
      let cell: number;
      if (numericKey) {
        cell = cellOfNumber.getOrAdd(nkey, cells);
      } else {
        const key = tuple.join(",");
        cell = cellOfText.get(key) ?? -1;
        if (cell < 0) cellOfText.set(key, cells);
      }
      if (cell < 0) {
        if (cells === capacity) grow();
        cell = cells++;
        for (let g = 0; g < G; g++) cellTuples[g][cell] = tuple[g];
      }
      for (let m = 0; m < M; m++) {
        const field = measureField[m];
        if (field === -1) {
          sums[m][cell] += 1;
          continue;
        }
        const text = record[field];
        if (text === "") continue;
        if (isSum[m]) {
          const v = parseScaled(text, decimals[m]);
          if (Number.isNaN(v)) throw new CsvRecordError(rowIndex, field + 1, `column ${measures[m].column!.column}: ${describeBadDecimal(text, decimals[m])}`);
          sums[m][cell] += v;
        } else {
          sums[m][cell] += 1;
        }
        present[m]![cell] = 1;
      }
    },
    onBytes,
  });
  for (let m = 0; m < M; m++) {
    const s = sums[m];
    for (let c = 0; c < cells; c++) {
      if (!(Math.abs(s[c]) <= Number.MAX_SAFE_INTEGER)) {
        throw plan.source.error(measures[m].at, `measure "${measures[m].name}": a cell's sum exceeds the range where it can be summed exactly with ${decimals[m]} decimals`);
      }
    }
  }
  return { cells, cellTuples, sums, present };
}

function growInt32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
function growFloat64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function growUint8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}

/**
 * Lays the aggregate out as leaf cells: for each combination of fact leaves of the static
 * dimensions (Actual, then Plan), each fact cell, each measure with a value.
 */
export function buildCells(
  plan: ModelPlan,
  built: BuiltDimension[],
  groups: FactGroup[],
  agg: Aggregate,
  measuresIndex: number,
  progress: LoadProgressFn,
): LeafCells {
  const D = built.length;
  const M = agg.sums.length;
  const measures = (plan.dimensions[measuresIndex] as PlanMeasuresDimension).measures;
  // Rows per copy.
  let perCopy = 0;
  for (let m = 0; m < M; m++) {
    const p = agg.present[m];
    if (p === undefined) perCopy += agg.cells;
    else for (let c = 0; c < agg.cells; c++) perCopy += p[c];
  }
  const staticDims = built.flatMap((b, i) => (b.factLeaves ? [i] : []));
  // Each combination of fact leaves (Actual, Plan, ...) with the factor of its copy of the facts.
  let combos: { leaves: number[]; factor: PlanFactor }[] = [{ leaves: [], factor: { num: 1, exp: 0, at: null } }];
  for (const i of staticDims) {
    const next: typeof combos = [];
    for (const combo of combos) {
      built[i].factLeaves!.forEach((leaf, k) => {
        const f = built[i].factFactors![k];
        const factor = { num: combo.factor.num * f.num, exp: combo.factor.exp + f.exp, at: combo.factor.at ?? f.at };
        if (!Number.isSafeInteger(factor.num) || factor.exp > 12) {
          throw plan.source.error(factor.at ?? [], "the seed factors of several static dimensions multiply to a number that cannot be held exactly");
        }
        next.push({ leaves: [...combo.leaves, leaf], factor });
      });
    }
    combos = next;
  }
  const count = perCopy * combos.length;
  const coords = built.map(() => new Int32Array(count));
  const values = new Float64Array(count);
  // Where each dimension's coordinate comes from.
  const source: ({ kind: "group"; g: number; x: number } | { kind: "static"; s: number } | { kind: "measure" })[] = [];
  for (let d = 0; d < D; d++) {
    if (d === measuresIndex) source.push({ kind: "measure" });
    else if (built[d].factLeaves) source.push({ kind: "static", s: staticDims.indexOf(d) });
    else {
      const g = groups.findIndex((gr) => gr.dims.includes(d));
      source.push({ kind: "group", g, x: groups[g].dims.indexOf(d) });
    }
  }
  const scales = measures.map((m) => scaleOf(m.decimals));
  const step = 1 << 16;
  progress("build", 0, count);
  let row = 0;
  for (const { leaves: combo, factor } of combos) {
    const start = row;
    const seeded = factor.num !== 1 || factor.exp !== 0;
    // Seeded copies: the exact product of the scaled sum and the factor, converted once.
    const seededScales = measures.map((m) => 10 ** (m.decimals + factor.exp));
    for (let c = 0; c < agg.cells; c++) {
      for (let m = 0; m < M; m++) {
        const p = agg.present[m];
        if (p !== undefined && p[c] === 0) continue;
        if (seeded) {
          const product = agg.sums[m][c] * factor.num;
          if (!Number.isSafeInteger(product)) {
            throw plan.source.error(
              factor.at ?? [],
              `measure "${measures[m].name}": ${agg.sums[m][c] / scales[m]} times the seed factor cannot be computed exactly (beyond 2^53 at ${measures[m].decimals + factor.exp} decimal places)`,
            );
          }
          values[row] = product / seededScales[m];
        } else {
          values[row] = agg.sums[m][c] / scales[m];
        }
        coords[measuresIndex][row] = measures[m].member;
        row++;
      }
    }
    const end = row;
    // Dimension columns, filled per dimension for locality.
    for (let d = 0; d < D; d++) {
      const src = source[d];
      const col = coords[d];
      if (src.kind === "measure") continue;
      if (src.kind === "static") {
        col.fill(combo[src.s], start, end);
        continue;
      }
      const tuples = agg.cellTuples[src.g];
      const leaves = groups[src.g].tupleLeaves[src.x];
      let r = start;
      for (let c = 0; c < agg.cells; c++) {
        const leaf = leaves[tuples[c]];
        for (let m = 0; m < M; m++) {
          const p = agg.present[m];
          if (p !== undefined && p[c] === 0) continue;
          col[r++] = leaf;
        }
      }
    }
    if (combos.length > 1 || end - start >= step) progress("build", end, count);
  }
  progress("build", count, count);
  return { count, coords, values };
}
