/**
 * The binary COPY decoder (sql/copy-binary.ts) on a real PostgreSQL server's output: cells with
 * values, cleared cells, versions and writers, whatever the chunk boundaries (down to one byte),
 * and clear errors for streams that are not such a COPY.
 */
import type { CellWriter } from "../lattice";
import { decodeCellCopy } from "./sql/copy-binary";
import type { SqlStore } from "./sql-store";
import { openSmall, postgresBackend } from "./test-databases";

const run = process.env.SKIP_PG_TESTS === "1" ? describe.skip : describe;

run("decodeCellCopy on the PostgreSQL server's binary COPY", () => {
  const backend = postgresBackend();
  let store: SqlStore;
  let stream: Uint8Array;

  beforeAll(async () => {
    await backend.setup();
    store = await openSmall(backend);
    const dims = ["A", "B"].map((name) => ({
      name,
      levels: ["(All)", name],
      hasAll: true,
      members: [{ name: "All", parent: -1, level: 0 }, ...[1, 2, 3].map((i) => ({ name: `${name}${i}`, parent: 0, level: 1 }))],
    }));
    const id = await store.saveCube({ name: "Bin", dimensions: dims }, { count: 3, coords: [Int32Array.from([1, 2, 3]), Int32Array.from([3, 2, 1])], values: Float64Array.from([1.25, Number.NaN, -7]) });
    await store.commitWrites(id, "tx-1", "zoë", [{ coords: [2, 2], oldValue: null, newValue: 1e-9, baseVersion: 0 }]);
    // The bytes of the same COPY loadCube runs.
    const driver = await backend.openDriver();
    try {
      stream = await driver.transaction(async (tx) => {
        const parts: Uint8Array[] = [];
        for await (const c of tx.copyTo!(`COPY (SELECT coords, value, version, updated_by, updated_at FROM cell WHERE cube_id = ${id} ORDER BY coords) TO STDOUT (FORMAT binary)`)) parts.push(c);
        return Buffer.concat(parts);
      });
    } finally {
      await driver.close();
    }
  });

  afterAll(async () => {
    await store?.close();
    await backend.teardown();
  });

  const columns = (rows: number) => ({
    coords: [new Int32Array(rows), new Int32Array(rows)],
    values: new Float64Array(rows),
    versions: new Float64Array(rows),
    writers: new Map<number, CellWriter>(),
  });

  async function* chunks(size: number): AsyncIterable<Uint8Array> {
    for (let i = 0; i < stream.length; i += size) yield stream.subarray(i, i + size);
  }

  it("decodes every field, whatever the chunk boundaries", async () => {
    for (const size of [1, 3, 17, stream.length]) {
      const out = columns(3);
      expect(await decodeCellCopy(chunks(size), out)).toBe(3);
      expect(Array.from(out.coords[0])).toEqual([1, 2, 3]);
      expect(Array.from(out.coords[1])).toEqual([3, 2, 1]);
      expect(out.values[0]).toBe(1.25);
      expect(out.values[1]).toBe(1e-9);
      expect(out.values[2]).toBe(-7);
      expect(out.versions[0]).toBe(0);
      expect(out.versions[1]).toBeGreaterThan(0);
      expect([...out.writers.keys()]).toEqual([1]);
      expect(out.writers.get(1)!.user).toBe("zoë");
      expect(Math.abs(out.writers.get(1)!.at - Date.now())).toBeLessThan(60_000);
    }
  });

  it("refuses a stream that is not a binary COPY of cells, or holds more rows than counted", async () => {
    const bad = Uint8Array.from(stream);
    bad[0] = 0x51;
    await expect(decodeCellCopy((async function* () { yield bad; })(), columns(3))).rejects.toThrow("bad signature");
    await expect(decodeCellCopy(chunks(64), columns(2))).rejects.toThrow("more than the 2 rows counted");
    await expect(decodeCellCopy((async function* () { yield stream.subarray(0, stream.length - 2); })(), columns(3))).rejects.toThrow("ended before its trailer");
    const three = { ...columns(3), coords: [new Int32Array(3), new Int32Array(3), new Int32Array(3)] };
    await expect(decodeCellCopy(chunks(64), three)).rejects.toThrow("expected 3");
  });
});
