import type { LeafCells } from "./model";

const EMPTY_SLOT = -1;

/** A column of member ids: as narrow as the dimension's member count allows. */
export type MemberColumn = Uint8Array | Uint16Array | Int32Array;

/**
 * Rows from which a store keeps its columns and values in shared memory, so that scans can be
 * split over helper threads without copying them.
 */
export const SHARED_MIN_ROWS = 1 << 18;

/**
 * A new column of `length` zeros able to hold member ids below `members` (Int32 when unknown), in
 * shared memory when `shared`.
 */
export function newMemberColumn(members: number | undefined, length: number, shared = false): MemberColumn {
  const bytes = members !== undefined && members <= 0x100 ? 1 : members !== undefined && members <= 0x10000 ? 2 : 4;
  const buffer = shared ? new SharedArrayBuffer(length * bytes) : new ArrayBuffer(length * bytes);
  if (bytes === 1) return new Uint8Array(buffer);
  if (bytes === 2) return new Uint16Array(buffer);
  return new Int32Array(buffer);
}

/** A new Float64Array of `length` zeros, in shared memory when `shared`. */
function newValues(length: number, shared: boolean): Float64Array {
  return new Float64Array(shared ? new SharedArrayBuffer(length * 8) : new ArrayBuffer(length * 8));
}

const FINGERPRINT_MOD = 2 ** 52;

/** A 52-bit hash of a version (0 for version 0), for LeafStore.versionFingerprint. */
function mixVersion(v: number): number {
  if (v === 0) return 0;
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  let a = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35);
  a ^= a >>> 16;
  a = Math.imul(a, 0x27d4eb2f);
  a ^= a >>> 15;
  let b = Math.imul(lo + 0x165667b1, 0xcc9e2d51) ^ Math.imul(hi ^ 0x61c88647, 0x1b873593);
  b ^= b >>> 13;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 16;
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) >>> 12);
}

/**
 * The sparse store of a cube's leaf cells: one typed-array column per dimension (member ids), a
 * value column (NaN = cleared), a version column, and an open-addressing hash index from
 * coordinates to row. Only non-empty or once-written cells have rows; rows are never removed
 * (a cleared cell keeps its version), so row numbers are stable.
 *
 * Memory: 1, 2 or 4 bytes per dimension (by its member count) + 16 bytes + about 8 bytes of
 * index per row.
 */
export class LeafStore {
  readonly dims: number;
  /** Number of rows in use. */
  count = 0;
  cols: MemberColumn[];
  values: Float64Array;
  /** Version of each row; set through `setVersion` so that `writtenRows` stays complete. */
  versions: Float64Array;
  /** Highest version of any row (0 when only loaded facts). */
  maxVersion = 0;
  /**
   * An order-independent fingerprint of every row's version (a sum modulo 2^52 of a hash of each
   * row's version; 0 for loaded facts only). Versions come from one sequence and each carries one
   * value, so two stores holding the same versions hold the same cells: with `maxVersion` it names
   * the data state across processes, even when they applied the same writes in different orders.
   */
  versionFingerprint = 0;
  /** Rows whose version is above 0, in `writtenRows[0..writtenCount)` (scans read versions only there). */
  writtenRows: Int32Array = new Int32Array(16);
  writtenCount = 0;
  private table: Int32Array;
  private mask: number;
  private readonly memberCounts: readonly number[] | undefined;

  /**
   * @param memberCounts member count of each dimension, to store ids in 1 or 2 bytes where they
   *   fit; without it every column is Int32.
   */
  constructor(dims: number, capacity = 1024, memberCounts?: ArrayLike<number>) {
    this.dims = dims;
    this.memberCounts = memberCounts ? Array.from(memberCounts) : undefined;
    const cap = Math.max(16, capacity);
    const shared = cap >= SHARED_MIN_ROWS;
    this.cols = Array.from({ length: dims }, (_, d) => newMemberColumn(this.memberCounts?.[d], cap, shared));
    this.values = newValues(cap, shared);
    this.versions = newValues(cap, shared);
    const size = tableSizeFor(cap);
    this.table = new Int32Array(size).fill(EMPTY_SLOT);
    this.mask = size - 1;
  }

  /**
   * Builds a store from loaded cells; rows keep their order, so row r is `cells` row r.
   * @param memberCounts see the constructor; every coordinate must be below its dimension's count.
   * @throws Error when two rows share coordinates or a column has the wrong length.
   */
  static from(cells: LeafCells, memberCounts?: ArrayLike<number>): LeafStore {
    const dims = cells.coords.length;
    const s = new LeafStore(dims, cells.count, memberCounts);
    for (let d = 0; d < dims; d++) {
      if (cells.coords[d].length < cells.count) throw new Error(`leaf cells: column ${d} is shorter than ${cells.count}`);
      s.cols[d].set(cells.coords[d].subarray(0, cells.count));
    }
    s.values.set(cells.values.subarray(0, cells.count));
    if (cells.versions) {
      const versions = cells.versions;
      for (let r = 0; r < cells.count; r++) if (versions[r] !== 0) s.setVersion(r, versions[r]);
    }
    s.count = cells.count;
    // Rows in the order of their home slots, so that the table fills nearly in sequence.
    const home = s.homeSlots();
    const order = slotOrder(home, cells.count, s.table.length);
    for (let i = 0; i < cells.count; i++) {
      const r = order[i];
      const slot = s.probe(r, home[r]);
      if (s.table[slot] !== EMPTY_SLOT) {
        const [a, b] = [s.table[slot], r].sort((x, y) => x - y);
        throw new Error(`leaf cells: rows ${a} and ${b} have the same coordinates`);
      }
      s.table[slot] = r;
    }
    return s;
  }

  /** The row holding `coords`, or -1. */
  find(coords: ArrayLike<number>): number {
    return this.table[this.slotOf(coords)];
  }

  /** The row holding `coords`, created empty (NaN, version 0) when missing. */
  findOrAdd(coords: ArrayLike<number>): number {
    // Room for one more row first, so that the probe's empty slot is where a new row goes.
    if (((this.count + 1) * 10) / 7 > this.table.length) this.rehash(this.table.length * 2);
    const slot = this.slotOf(coords);
    if (this.table[slot] !== EMPTY_SLOT) return this.table[slot];
    if (this.count >= this.values.length) this.grow();
    const r = this.count++;
    for (let d = 0; d < this.dims; d++) this.cols[d][r] = coords[d];
    this.values[r] = Number.NaN;
    this.versions[r] = 0;
    this.table[slot] = r;
    return r;
  }

  /**
   * Makes room for `rows` rows in all, at once (one grow and one rehash instead of doubling step
   * by step while a large change adds rows).
   */
  reserve(rows: number): void {
    if (rows > this.values.length) {
      let cap = this.values.length;
      while (cap < rows) cap *= 2;
      this.growTo(cap);
    }
    const size = tableSizeFor(rows);
    if (size > this.table.length) this.rehash(size);
  }

  /** Sets a row's version, keeping `maxVersion` and `writtenRows` current. */
  setVersion(r: number, version: number): void {
    if (this.versions[r] === 0 && version !== 0) {
      if (this.writtenCount === this.writtenRows.length) {
        const grown = new Int32Array(this.writtenRows.length * 2);
        grown.set(this.writtenRows);
        this.writtenRows = grown;
      }
      this.writtenRows[this.writtenCount++] = r;
    }
    this.versionFingerprint = (this.versionFingerprint + mixVersion(version) - mixVersion(this.versions[r]) + FINGERPRINT_MOD) % FINGERPRINT_MOD;
    this.versions[r] = version;
    if (version > this.maxVersion) this.maxVersion = version;
  }

  /** Bytes held by the typed arrays. */
  byteSize(): number {
    return (
      this.cols.reduce((n, c) => n + c.byteLength, 0) +
      this.values.byteLength +
      this.versions.byteLength +
      this.table.byteLength +
      this.writtenRows.byteLength
    );
  }

  /** True when row `r` holds the cell at `coords`. */
  rowEquals(r: number, coords: ArrayLike<number>): boolean {
    for (let d = 0; d < this.dims; d++) if (this.cols[d][r] !== coords[d]) return false;
    return true;
  }

  private grow(): void {
    this.growTo(this.values.length * 2);
  }

  private growTo(cap: number): void {
    const shared = cap >= SHARED_MIN_ROWS;
    this.cols = this.cols.map((c, d) => {
      const n = newMemberColumn(this.memberCounts?.[d], cap, shared);
      n.set(c);
      return n;
    });
    const v = newValues(cap, shared);
    v.set(this.values);
    this.values = v;
    const ver = newValues(cap, shared);
    ver.set(this.versions);
    this.versions = ver;
  }

  private rehash(size: number): void {
    const table = new Int32Array(size).fill(EMPTY_SLOT);
    const mask = size - 1;
    this.table = table;
    this.mask = mask;
    // The rows are distinct: each goes into the first empty slot of its probe, with no comparisons,
    // in the order of their home slots (the table fills nearly in sequence).
    const home = this.homeSlots();
    const order = slotOrder(home, this.count, size);
    for (let i = 0; i < this.count; i++) {
      const r = order[i];
      let slot = home[r];
      while (table[slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
      table[slot] = r;
    }
  }

  /** The slot of the row holding `coords`, or the empty slot where that row would go. */
  private slotOf(coords: ArrayLike<number>): number {
    let slot = hashCoords(coords, this.dims) & this.mask;
    for (;;) {
      const r = this.table[slot];
      if (r === EMPTY_SLOT || this.rowEquals(r, coords)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Each stored row's home slot in the current table. */
  private homeSlots(): Int32Array {
    const home = new Int32Array(this.count);
    const nd = this.dims;
    const cols = this.cols;
    for (let r = 0; r < this.count; r++) {
      let h = 0x811c9dc5;
      for (let d = 0; d < nd; d++) h = mix(h, cols[d][r]);
      home[r] = h & this.mask;
    }
    return home;
  }

  /** The empty slot or the slot of another row with row `r`'s coordinates, probing from `slot`. */
  private probe(r: number, slot: number): number {
    for (;;) {
      const o = this.table[slot];
      if (o === EMPTY_SLOT || this.sameRows(o, r)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** True when rows `a` and `b` hold the same coordinates. */
  private sameRows(a: number, b: number): boolean {
    for (let d = 0; d < this.dims; d++) if (this.cols[d][a] !== this.cols[d][b]) return false;
    return true;
  }
}

/**
 * Indices `0..n-1` ordered by their home slot's top 16 bits (a counting sort): lookups in this
 * order touch the table nearly in sequence.
 */
function slotOrder(home: Int32Array, n: number, size: number): Int32Array {
  const shift = Math.max(0, Math.log2(size) - 16);
  const buckets = Math.max(1, size >>> shift);
  const start = new Int32Array(buckets + 1);
  for (let i = 0; i < n; i++) start[(home[i] >>> shift) + 1]++;
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[start[home[i] >>> shift]++] = i;
  return order;
}

function tableSizeFor(rows: number): number {
  let size = 16;
  while (size < (rows * 10) / 7) size *= 2;
  return size;
}

function mix(h: number, v: number): number {
  let x = Math.imul(h ^ v, 0x01000193);
  x ^= x >>> 15;
  return Math.imul(x, 0x2c1b3c6d);
}

function hashCoords(coords: ArrayLike<number>, dims: number): number {
  let h = 0x811c9dc5;
  for (let d = 0; d < dims; d++) h = mix(h, coords[d]);
  return h;
}
