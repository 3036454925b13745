/**
 * Writing rows in PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`, documented
 * at https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4; arrays as `array_send`
 * writes them): numbers go in as their bytes, so neither side formats or parses text. Used by the
 * bulk commit for its temporary table (a float as text costs about as much to write in JavaScript as
 * to parse in the server).
 */
import { isInt32 } from "./codecs";
import { COPY_SIGNATURE } from "./copy-binary";

/** PostgreSQL's type oid of int4, written in an array's header. */
const INT4_OID = 23;
/** 2^32, to split an int8 into its two halves. */
const TWO_32 = 4294967296;

/**
 * One binary COPY stream, built in memory: the header, then tuples (`tuple(fields)` and a value per
 * field, in column order), then `finish()` for the bytes with the trailer.
 * @example
 * const w = new BinaryCopyWriter();
 * w.tuple(2); w.int4(7); w.float8(1.5);
 * await tx.copyFrom("COPY t (k, v) FROM STDIN (FORMAT binary)", [w.finish()]);
 */
export class BinaryCopyWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  /** @param expectedBytes room to start with (it grows by doubling). */
  constructor(expectedBytes = 1 << 16) {
    this.buf = new Uint8Array(Math.max(64, expectedBytes));
    this.view = new DataView(this.buf.buffer);
    for (const b of COPY_SIGNATURE) this.buf[this.pos++] = b;
    this.view.setInt32(this.pos, 0); // flags: no OIDs
    this.view.setInt32(this.pos + 4, 0); // header extension length
    this.pos += 8;
  }

  /** Starts a tuple of `fields` fields. */
  tuple(fields: number): void {
    this.room(2);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
  }

  /** An int4 field. @throws Error naming `what` when `v` is not a 32-bit integer. */
  int4(v: number, what = "value"): void {
    if (!isInt32(v)) throw new Error(`${what} must be a 32-bit integer, got ${String(v)}`);
    this.room(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
  }

  /** An int8 field: an integer of at most 53 bits. @throws Error naming `what` when `v` is not a safe integer. */
  int8(v: number, what = "value"): void {
    if (!Number.isSafeInteger(v)) throw new Error(`${what} must be an integer of at most 53 bits, got ${String(v)}`);
    this.room(12);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, Math.floor(v / TWO_32));
    this.view.setUint32(this.pos + 8, v >>> 0);
    this.pos += 12;
  }

  /** A float8 field; null and NaN are NULL. */
  float8OrNull(v: number | null): void {
    if (v === null || v !== v) {
      this.room(4);
      this.view.setInt32(this.pos, -1);
      this.pos += 4;
      return;
    }
    this.room(12);
    this.view.setInt32(this.pos, 8);
    this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }

  /**
   * An int4[] field of one dimension (lower bound 1, no NULLs) holding `values`.
   * @throws Error naming `what` and the position when an element is not a 32-bit integer.
   */
  int4Array(values: ArrayLike<number>, what = "array"): void {
    const n = values.length;
    this.room(24 + 8 * n);
    const view = this.view;
    let p = this.pos;
    view.setInt32(p, 20 + 8 * n);
    view.setInt32(p + 4, 1); // dimensions
    view.setInt32(p + 8, 0); // no NULLs
    view.setInt32(p + 12, INT4_OID);
    view.setInt32(p + 16, n);
    view.setInt32(p + 20, 1); // lower bound
    p += 24;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!isInt32(v)) throw new Error(`${what} must hold 32-bit integers, got ${String(v)} at ${i}`);
      view.setInt32(p, 4);
      view.setInt32(p + 4, v);
      p += 8;
    }
    this.pos = p;
  }

  /** The stream's bytes, trailer included; the writer must not be used afterwards. */
  finish(): Uint8Array {
    this.room(2);
    this.view.setInt16(this.pos, -1);
    this.pos += 2;
    return this.buf.subarray(0, this.pos);
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}
