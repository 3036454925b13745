/**
 * Codecs between the lattice's columns and the SQL the store sends: array literals, epoch
 * milliseconds, key order, and the COPY text format. Bulk data crosses the driver as a few large
 * text parameters and results rather than one protocol row per cell, which is what makes saving and
 * loading hundreds of thousands of cells fast on PGlite.
 */
import { allSteps, type CubeDef, type LeafCells } from "../../lattice";
import type { ProgressFn } from "../types";

/** SQL for a timestamptz expression as whole milliseconds since the epoch (float8). */
export function epochMs(expr: string): string {
  return `floor(extract(epoch FROM ${expr}) * 1000)::float8`;
}

/** Whether `v` is an integer PostgreSQL's int4 holds. */
export function isInt32(v: number): boolean {
  return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}

/** A PostgreSQL array literal of integers, e.g. `{1,2,3}`. @throws Error on a non-integer. */
export function intArrayLiteral(values: ArrayLike<number>, what: string): string {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!isInt32(v)) {
      throw new Error(`${what} must hold 32-bit integers, got ${String(v)} at ${i}`);
    }
  }
  return `{${Array.prototype.join.call(values, ",")}}`;
}

/** Converts a driver value (number, numeric string, or null) to a number or null. */
export function toNumber(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

/** A cell value as stored: NaN (an empty cell in the lattice) and null are NULL. */
export function valueOrNull(v: number | null): number | null {
  return v === null || Number.isNaN(v) ? null : v;
}

/** A float8 value as text for JSON parameters (JSON has no Infinity); NaN and null clear. */
export function floatText(v: number | null): string | null {
  const x = valueOrNull(v);
  return x === null ? null : String(x);
}

/** Lexicographic comparison of two rows of columnar coordinates. */
export function compareRows(coords: Int32Array[], a: number, b: number): number {
  for (let d = 0; d < coords.length; d++) {
    const x = coords[d][a] - coords[d][b];
    if (x !== 0) return x;
  }
  return 0;
}

/** Lexicographic comparison of two coordinate tuples. */
export function compareCoords(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let d = 0; d < n; d++) {
    const x = a[d] - b[d];
    if (x !== 0) return x;
  }
  return a.length - b.length;
}

/**
 * The indexes of `writes` in key order (by coordinates, as the primary key and the row path's
 * locks), every write having `dims` coordinates: a least-significant-digit radix sort (one counting
 * pass per dimension, a million writes in tens of milliseconds) when every coordinate is an integer
 * in [0, 2^24), else a comparison sort.
 */
export function keyOrder(writes: readonly { coords: number[] }[], dims: number): number[] {
  return allSteps(keyOrderSteps(writes, dims));
}

/** {@link keyOrder} in steps (for compute/turns.ts `inTurns`): one per 65,536 writes read, and one per counting pass. */
export function* keyOrderSteps(writes: readonly { coords: number[] }[], dims: number): Generator<void, number[]> {
  const n = writes.length;
  const flat = new Int32Array(n * dims);
  const max = new Int32Array(dims);
  for (let i = 0; i < n; i++) {
    const c = writes[i].coords;
    for (let d = 0; d < dims; d++) {
      const v = c[d];
      if (!(Number.isInteger(v) && v >= 0 && v < RADIX_MAX)) {
        return Array.from(writes.keys()).sort((a, b) => compareCoords(writes[a].coords, writes[b].coords));
      }
      flat[i * dims + d] = v;
      if (v > max[d]) max[d] = v;
    }
    if ((i & 0xffff) === 0xffff) yield;
  }
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Int32Array(n);
  for (let d = dims - 1; d >= 0; d--) {
    const start = new Int32Array(max[d] + 2);
    for (let k = 0; k < n; k++) start[flat[order[k] * dims + d] + 1]++;
    for (let v = 1; v < start.length; v++) start[v] += start[v - 1];
    for (let k = 0; k < n; k++) next[start[flat[order[k] * dims + d]]++] = order[k];
    [order, next] = [next, order];
    yield;
  }
  return Array.from(order);
}

/** Coordinates at or above this take keyOrder's comparison sort (a counting array that large is waste). */
const RADIX_MAX = 1 << 24;

/**
 * The row order that sorts `cells` by coordinates (the primary key order, so inserts append to
 * the index and the heap is clustered by key).
 * @throws Error naming the coordinates when two rows share them.
 */
export function sortedRowOrder(cells: LeafCells): Uint32Array {
  const n = cells.count;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = compareRows(cells.coords, i - 1, i) < 0;
  if (!sorted) order.sort((a, b) => compareRows(cells.coords, a, b));
  for (let i = 1; i < n; i++) {
    if (compareRows(cells.coords, order[i - 1], order[i]) === 0) {
      const at = cells.coords.map((c) => c[order[i]]);
      throw new Error(`cells hold two rows with coordinates [${at.join(",")}]`);
    }
  }
  return order;
}

/** @throws Error when `cells` does not fit `def` (column count or lengths). */
export function validateCells(def: CubeDef, cells: LeafCells): void {
  const dims = def.dimensions.length;
  if (!def.name) throw new Error("cube definition has no name");
  if (dims === 0) throw new Error(`cube "${def.name}" has no dimensions`);
  if (!Number.isInteger(cells.count) || cells.count < 0) {
    throw new Error(`cells.count must be a non-negative integer, got ${cells.count}`);
  }
  if (cells.coords.length !== dims) {
    throw new Error(`cube "${def.name}" has ${dims} dimensions but cells have ${cells.coords.length} coordinate columns`);
  }
  cells.coords.forEach((column, d) => {
    if (column.length !== cells.count) {
      throw new Error(`coordinate column ${d} (${def.dimensions[d].name}) has ${column.length} rows, expected ${cells.count}`);
    }
  });
  if (cells.values.length !== cells.count) {
    throw new Error(`cells.values has ${cells.values.length} rows, expected ${cells.count}`);
  }
}

/** Parses `count * dims` comma-separated integers (row-major) into `coords` from row `row`. */
export function parseCoordList(text: string, coords: Int32Array[], row: number): void {
  const dims = coords.length;
  let d = 0;
  let r = row;
  let x = 0;
  let neg = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 44 /* , */) {
      coords[d][r] = neg ? -x : x;
      x = 0;
      neg = false;
      if (++d === dims) {
        d = 0;
        r++;
      }
    } else if (ch === 45 /* - */) {
      neg = true;
    } else {
      x = x * 10 + (ch - 48);
    }
  }
  coords[d][r] = neg ? -x : x;
}

/**
 * Rows of the `cell` table (cube_id, coords, value) in COPY text format, `batchRows` rows per chunk,
 * calling `onProgress` after each chunk is produced (an exception from it aborts the COPY). NaN
 * values become `\N` (NULL).
 */
export function* copyChunks(
  cubeId: number,
  coords: Int32Array[],
  values: Float64Array,
  batchRows: number,
  onProgress?: ProgressFn,
): Generator<string> {
  const total = values.length;
  const dims = coords.length;
  const head = `${cubeId}\t{`;
  // Member ids are small: their decimal texts come from a table (number-to-string dominates otherwise).
  const texts = coords.map((col) => {
    let max = 0;
    for (let i = 0; i < col.length; i++) if (col[i] > max) max = col[i];
    return max < 1 << 20 ? Array.from({ length: max + 1 }, (_, k) => `,${k}`) : null;
  });
  for (let start = 0; start < total; start += batchRows) {
    const end = Math.min(total, start + batchRows);
    const lines: string[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      let line = head + coords[0][i];
      for (let d = 1; d < dims; d++) {
        const x = coords[d][i];
        const t = texts[d];
        line += t !== null && x >= 0 ? t[x] : `,${x}`;
      }
      const v = values[i];
      lines[i - start] = `${line}}\t${v === v ? v : "\\N"}\n`;
    }
    yield lines.join("");
    onProgress?.(end, total);
  }
}
