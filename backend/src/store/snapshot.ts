/**
 * Cube snapshots: a cube's leaf columns written to a file beside the database when the server
 * stops, so that the next start reads them from disk instead of every row from the store (a
 * 10M-leaf cube: one binary COPY of 10M rows, most of a cold start).
 *
 * A snapshot is used only when it holds exactly what the store holds. The store is asked for a
 * fingerprint of the cube's cells — how many rows hold a value or a version, the sum and the highest
 * of their versions — in one consistent read, and it must equal the snapshot's. This is exact because
 * every change to a stored cell gives it a new version from one increasing sequence (a write, a
 * spread, a copy, an undo, a sandbox commit): the version of a changed row only grows and a new row
 * adds to the count, so any commit the snapshot lacks — one made by another instance, one in flight
 * when it was taken, one made after — makes the sums differ; a cube loaded again gets a new
 * `loaded_at`, which the snapshot must match too, with the database's name
 * ({@link CUBE_SOURCE_SQL}). Otherwise, or when the file is unreadable, the cube
 * is loaded from the store as before.
 *
 * Format (little-endian): the magic `QSNAP01\n`, a u32 header length and the JSON header
 * ({@link SnapshotHeader}), padding to 8 bytes, then the columns: the values and versions (float64),
 * the writer ids (int32: 0 none, k is `header.writers[k - 1]`), and one member-id column per
 * dimension (1, 2 or 4 bytes per id, as the lattice keeps them), each padded to 8 bytes.
 */
import fs from "node:fs";
import path from "node:path";
import type { CellWriter, LeafCells } from "../lattice";

const MAGIC = Buffer.from("QSNAP01\n", "latin1");

/**
 * Where a cube's cells are stored: the database's name and the cube's `loaded_at` to the
 * microsecond (`<database>|<loaded_at>`), so that a snapshot is never taken for another database's
 * cube that happens to have the same id (a data folder reused with another DATABASE_URL).
 */
export const CUBE_SOURCE_SQL = "current_database() || '|' || loaded_at::text";

/** A fingerprint of a cube's stored cells (decimal strings: sums exceed 2^53). */
export interface CellsFingerprint {
  /** Rows holding a value or a version above 0 (stored rows; empty placeholders are not). */
  rows: string;
  /** Sum of every row's version. */
  versionSum: string;
  /** Highest version, "0" when only loaded facts. */
  maxVersion: string;
}

/** Which cube a snapshot holds, and how many rows. */
export interface SnapshotIdentity {
  cubeId: number;
  name: string;
  tenant: string;
  /** The cube's `loaded_at` (ms since the epoch) when the snapshot was taken. */
  loadedAt: number;
  /** The store's {@link CUBE_SOURCE_SQL} for the cube when the snapshot was taken. */
  source: string;
  count: number;
}

/** What a snapshot says of itself. */
export interface SnapshotHeader extends SnapshotIdentity {
  /** Bytes per member id of each dimension's column (1, 2 or 4). */
  idBytes: number[];
  writers: CellWriter[];
  fingerprint: CellsFingerprint;
}

/** A snapshot read back: its header, the cells and their last writers, ready for `new Cube`. */
export interface Snapshot {
  header: SnapshotHeader;
  cells: LeafCells;
  writers: Map<number, CellWriter>;
}

/** What is taken from a cube for its snapshot. */
export interface SnapshotSource extends SnapshotIdentity {
  /** Member-id columns (at least `count` long). */
  cols: readonly (Uint8Array | Uint16Array | Int32Array)[];
  values: Float64Array;
  versions: Float64Array;
  /** Writer id per row (0: none) and the writers by id − 1. */
  writerIds: Int32Array;
  writers: readonly CellWriter[];
}

/** The snapshot file of a cube: `<dir>/<tenant>/<cube id>.qsnap`. */
export function snapshotPath(dir: string, tenant: string, cubeId: number): string {
  return path.join(dir, encodeURIComponent(tenant), `${cubeId}.qsnap`);
}

/** The fingerprint of cells in memory, as the store computes it of its rows (see the module comment). */
export function fingerprintOf(count: number, values: Float64Array, versions: Float64Array): CellsFingerprint {
  let rows = 0;
  let max = 0;
  let big = 0n;
  let acc = 0;
  for (let r = 0; r < count; r++) {
    const v = versions[r];
    if (v > 0 || values[r] === values[r]) rows++;
    if (v > 0) {
      // Exact: acc + v stays below 2^53 (versions are integers below it).
      if (acc > 2 ** 53 - v) {
        big += BigInt(acc);
        acc = 0;
      }
      acc += v;
      if (v > max) max = v;
    }
  }
  return { rows: String(rows), versionSum: String(big + BigInt(acc)), maxVersion: String(max) };
}

/**
 * Whether a snapshot holds exactly what the store holds (see the module comment): the same cube
 * (id, load time and database) and the same fingerprint of its cells.
 */
export function matchesStore(h: SnapshotHeader, store: { id: number; loadedAt: number; source: string; fingerprint: CellsFingerprint }): boolean {
  return h.cubeId === store.id && h.loadedAt === store.loadedAt && h.source === store.source && sameFingerprint(h.fingerprint, store.fingerprint);
}

/** Whether two fingerprints name the same cells. */
export function sameFingerprint(a: CellsFingerprint, b: CellsFingerprint): boolean {
  return BigInt(a.rows) === BigInt(b.rows) && BigInt(a.versionSum) === BigInt(b.versionSum) && BigInt(a.maxVersion) === BigInt(b.maxVersion);
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/**
 * Writes a cube's snapshot (to a temporary file renamed over the old one, so a crash leaves the old
 * snapshot or none, never half of one).
 * @throws Error from the file system.
 */
export async function writeSnapshot(file: string, s: SnapshotSource): Promise<void> {
  const n = s.count;
  const header: SnapshotHeader = {
    cubeId: s.cubeId,
    name: s.name,
    tenant: s.tenant,
    loadedAt: s.loadedAt,
    source: s.source,
    count: n,
    idBytes: s.cols.map((c) => c.BYTES_PER_ELEMENT),
    writers: [...s.writers],
    fingerprint: fingerprintOf(n, s.values, s.versions),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts: Uint8Array[] = [MAGIC, len, json, Buffer.alloc(pad8(MAGIC.length + 4 + json.length))];
  const column = (a: ArrayBufferView, bytes: number) => {
    parts.push(new Uint8Array(a.buffer, a.byteOffset, bytes), Buffer.alloc(pad8(bytes)));
  };
  column(s.values, n * 8);
  column(s.versions, n * 8);
  column(s.writerIds, n * 4);
  for (const c of s.cols) column(c, n * c.BYTES_PER_ELEMENT);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fs.promises.open(tmp, "w");
  try {
    // One write per part: the columns are views of the cube's memory, not copies.
    for (const p of parts) if (p.byteLength > 0) await fh.write(p);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
}

/**
 * Reads a snapshot; null when there is none.
 * @throws Error naming what is wrong when the file is not a whole snapshot (bad magic, header or length).
 */
export function readSnapshot(file: string): Snapshot | null {
  if (!fs.existsSync(file)) return null;
  // The file's own buffer (not Node's pool: a read of this size gets one), so the columns can be views of it.
  const buf = fs.readFileSync(file);
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file} is not a cube snapshot`);
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + jsonLength).toString("utf8")) as SnapshotHeader;
  const n = header.count;
  if (!Number.isSafeInteger(n) || n < 0 || typeof header.source !== "string" || !Array.isArray(header.idBytes) || !Array.isArray(header.writers)) throw new Error(`${file}: a bad header`);
  let at = MAGIC.length + 4 + jsonLength;
  at += pad8(at);
  const take = (bytes: number): Uint8Array => {
    if (at + bytes > buf.length) throw new Error(`${file} is cut short (${buf.length} bytes)`);
    const part = buf.subarray(at, at + bytes);
    at += bytes + pad8(bytes);
    // A view of the file's buffer where it is aligned (sections are padded to 8 bytes), else a copy.
    return part.byteOffset % 8 === 0 ? part : Uint8Array.from(part);
  };
  const f64 = (u8: Uint8Array) => new Float64Array(u8.buffer, u8.byteOffset, u8.byteLength / 8);
  const values = f64(take(n * 8));
  const versions = f64(take(n * 8));
  const ids = take(n * 4);
  const writerIds = new Int32Array(ids.buffer, ids.byteOffset, n);
  const coords = header.idBytes.map((b) => {
    if (b !== 1 && b !== 2 && b !== 4) throw new Error(`${file}: a member column of ${b} bytes per id`);
    const raw = take(n * b);
    if (b === 4) return new Int32Array(raw.buffer, raw.byteOffset, n);
    // Widened with one typed-array copy (not an iteration).
    const wide = new Int32Array(n);
    wide.set(b === 1 ? raw : new Uint16Array(raw.buffer, raw.byteOffset, n));
    return wide;
  });
  if (at !== buf.length) throw new Error(at > buf.length ? `${file} is cut short (${buf.length} bytes)` : `${file} has ${buf.length - at} bytes after its columns`);
  const writers = new Map<number, CellWriter>();
  for (let r = 0; r < n; r++) {
    const id = writerIds[r];
    if (id === 0) continue;
    const w = header.writers[id - 1];
    if (!w) throw new Error(`${file}: row ${r} names writer ${id}, which it does not list`);
    writers.set(r, w);
  }
  return { header, cells: { count: n, coords, values, versions }, writers };
}
