/**
 * BinaryCopyWriter's rows read back from real databases (PGlite in its thread, the PostgreSQL
 * server) as written: int4 and int8 extremes, floats with NULL for NaN and null, int4 arrays, a
 * stream that grows past its first buffer; and a bad value is named before anything is sent.
 */
import type { SqlDriver } from "./driver";
import { BinaryCopyWriter } from "./sql/copy-binary-writer";
import { testBackends } from "./test-databases";

describe.each(testBackends())("BinaryCopyWriter on $name", (backend) => {
  let db: SqlDriver;

  beforeAll(async () => {
    await backend.setup();
    db = await backend.openDriver();
    await db.exec("CREATE TABLE t (i int4, c int4[], v float8, b int8)");
  });

  afterAll(async () => {
    await db?.close();
    await backend.teardown();
  });

  it("copies rows that read back exactly", async () => {
    const rows: [number, number[], number | null, number][] = [
      [2147483647, [0, -1, 2147483647, -2147483648], 1.25, Number.MAX_SAFE_INTEGER],
      [-2147483648, [], Number.NaN, -1],
      [0, [7], null, -(2 ** 40) - 3],
      [1, [1, 2, 3], -1e-300, 4294967296],
    ];
    // A small first buffer: the stream grows many times over 2,000 more rows.
    for (let k = 0; k < 2000; k++) rows.push([10 + k, [k, -k], k / 7, k * 1_000_003]);
    const w = new BinaryCopyWriter(16);
    for (const [i, c, v, b] of rows) {
      w.tuple(4);
      w.int4(i);
      w.int4Array(c);
      w.float8OrNull(v);
      w.int8(b);
    }
    const copied = await db.transaction((tx) => tx.copyFrom!("COPY t (i, c, v, b) FROM STDIN (FORMAT binary)", [w.finish()]));
    expect(copied).toBe(rows.length);
    const back = await db.query<{ i: number; c: string; v: number | null; b: string }>("SELECT i, c::text AS c, v, b::text AS b FROM t");
    const want = rows.map(([i, c, v, b]) => ({ i, c: `{${c.join(",")}}`, v: v === null || Number.isNaN(v) ? null : v, b: String(b) }));
    const byI = (a: { i: number }, z: { i: number }) => a.i - z.i;
    expect(back.map((r) => ({ ...r, v: r.v === null ? null : Number(r.v) })).sort(byI)).toEqual(want.sort(byI));
  });

  it("names a value that does not fit, before anything is sent", () => {
    const w = new BinaryCopyWriter();
    w.tuple(2);
    expect(() => w.int4Array([1, 2.5], "writes[3].coords")).toThrow("writes[3].coords must hold 32-bit integers, got 2.5 at 1");
    expect(() => w.int4(2 ** 31, "writes[4].i")).toThrow("writes[4].i must be a 32-bit integer, got 2147483648");
    expect(() => w.int8(2 ** 53, "writes[5].baseVersion")).toThrow("writes[5].baseVersion must be an integer of at most 53 bits, got 9007199254740992");
  });
});
