/**
 * Reading a cube's cells in PostgreSQL's binary COPY format (the documented format of `COPY ... TO
 * STDOUT (FORMAT binary)`: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4),
 * straight into the lattice's columns: no text to split and no number to parse, the fastest way to
 * rebuild a large cube at start.
 */
import type { CellWriter } from "../../lattice";

/** The 11-byte signature every binary COPY stream starts with. */
export const COPY_SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** ms from the Unix epoch to PostgreSQL's (2000-01-01), which binary timestamps count from. */
const PG_EPOCH_MS = 946_684_800_000;

/** Where decoded cells go: row r of the columns is the r-th tuple of the stream. */
export interface CellColumns {
  coords: Int32Array[];
  values: Float64Array;
  versions: Float64Array;
  writers: Map<number, CellWriter>;
}

/**
 * Decodes the tuples of `SELECT coords, value, version, updated_by, updated_at FROM cell ...` in
 * binary COPY format from `chunks` into `out` (a NULL value is NaN, a cleared cell), at most
 * `out.values.length` rows, calling `onRows(rows)` after each chunk.
 * @returns the number of rows decoded.
 * @throws Error naming what is wrong when the stream is not such a COPY (signature, field count,
 *   an array that is not one-dimensional int4 of the cube's dimension count, more rows than room).
 */
export async function decodeCellCopy(chunks: AsyncIterable<Uint8Array>, out: CellColumns, onRows?: (rows: number) => void): Promise<number> {
  const utf8 = new TextDecoder();
  let buf = new Uint8Array(0);
  let view = new DataView(buf.buffer);
  let pos = 0;
  let headerDone = false;
  let row = 0;
  let ended = false;
  // One working buffer, reused: what is left of the previous chunk (part of a tuple), then this one.
  let work = new Uint8Array(1 << 17);
  let used = 0;
  for await (const chunk of chunks) {
    const rest = used - pos;
    if (rest + chunk.length > work.length) {
      const bigger = new Uint8Array(Math.max(work.length * 2, rest + chunk.length));
      bigger.set(work.subarray(pos, used));
      work = bigger;
    } else if (rest > 0) {
      work.copyWithin(0, pos, used);
    }
    work.set(chunk, rest);
    used = rest + chunk.length;
    buf = work.subarray(0, used);
    view = new DataView(work.buffer, 0, used);
    pos = 0;
    if (!headerDone) {
      if (buf.length < 19) continue;
      for (let i = 0; i < COPY_SIGNATURE.length; i++) if (buf[i] !== COPY_SIGNATURE[i]) throw new Error("not a binary COPY stream: bad signature");
      const extension = view.getInt32(15);
      if (buf.length < 19 + extension) continue;
      pos = 19 + extension;
      headerDone = true;
    }
    const step = decodeTuples(buf, view, pos, row, out, utf8);
    pos = step.pos;
    row = step.row;
    if (step.ended) ended = true;
    onRows?.(row);
  }
  if (!ended) throw new Error("binary COPY of cells: the stream ended before its trailer");
  return row;
}

/**
 * Decodes the whole tuples of `buf` from `pos` (a synchronous loop, so that its state stays in
 * registers rather than in the suspended async function's frame). Stops at a partial tuple or the
 * trailer (`ended`). @throws Error as decodeCellCopy.
 */
function decodeTuples(buf: Uint8Array, view: DataView, start: number, firstRow: number, out: CellColumns, utf8: TextDecoder): { pos: number; row: number; ended: boolean } {
  const cols = out.coords;
  const dims = cols.length;
  const values = out.values;
  const versions = out.versions;
  const room = values.length;
  const end = buf.length;
  let pos = start;
  let row = firstRow;
  let ended = false;
  for (;;) {
    if (end - pos < 2) break;
    const fields = view.getInt16(pos);
    if (fields === -1) {
      ended = true;
      pos += 2;
      break;
    }
    if (fields !== 5) throw new Error(`binary COPY of cells: a tuple has ${fields} fields, expected 5`);
    // Whole tuple here? Walk its field lengths first.
    let p = pos + 2;
    let whole = true;
    for (let f = 0; f < 5; f++) {
      if (end - p < 4) {
        whole = false;
        break;
      }
      p += 4 + Math.max(view.getInt32(p), 0);
      if (p > end) {
        whole = false;
        break;
      }
    }
    if (!whole) break;
    if (row >= room) throw new Error(`binary COPY of cells: more than the ${room} rows counted`);
    p = pos + 2;
    // coords: int4[] with one dimension of `dims` elements.
    const arrLen = view.getInt32(p);
    p += 4;
    const ndim = view.getInt32(p);
    const count = ndim === 1 ? view.getInt32(p + 12) : 0;
    if (arrLen < 0 || ndim !== 1 || count !== dims) throw new Error(`binary COPY of cells: row ${row} has coordinates of ${count} members, expected ${dims}`);
    let q = p + 20;
    for (let d = 0; d < dims; d++) {
      cols[d][row] = view.getInt32(q + 4);
      q += 8;
    }
    p += arrLen;
    // value: float8 or NULL (a cleared cell).
    const vLen = view.getInt32(p);
    p += 4;
    values[row] = vLen < 0 ? Number.NaN : view.getFloat64(p);
    if (vLen > 0) p += vLen;
    // version: int8.
    const verLen = view.getInt32(p);
    p += 4;
    versions[row] = verLen < 0 ? 0 : view.getUint32(p) * 4294967296 + view.getUint32(p + 4);
    if (verLen > 0) p += verLen;
    // updated_by (text) and updated_at (timestamptz: microseconds from 2000-01-01).
    const byLen = view.getInt32(p);
    p += 4;
    const user = byLen < 0 ? null : utf8.decode(buf.subarray(p, p + byLen));
    if (byLen > 0) p += byLen;
    const atLen = view.getInt32(p);
    p += 4;
    let at = 0;
    if (atLen > 0) {
      at = Math.floor((view.getInt32(p) * 4294967296 + view.getUint32(p + 4)) / 1000) + PG_EPOCH_MS;
      p += atLen;
    }
    if (user !== null) out.writers.set(row, { user, at });
    row++;
    pos = p;
  }
  return { pos, row, ended };
}
