/**
 * saveCube's COPY path on the PostgreSQL server (a fresh database through `TEST_DATABASE_URL`,
 * default `postgres://postgres@127.0.0.1:5432/test`; `SKIP_PG_TESTS=1` leaves it out): the rows
 * go in with COPY FROM STDIN inside the save's transaction, so a failure part-way leaves nothing
 * half-loaded. The general Store contract on both databases is store.test.ts.
 */
import { createTestDatabase } from "../../../test/helpers/pg";
import type { CubeDef, LeafCells } from "../lattice";
import { openPostgresDriver, type SqlDriver } from "./driver";
import { runMigrations } from "./migrate";
import { copyChunks, SqlStore } from "./sql-store";

const maybe = process.env.SKIP_PG_TESTS === "1" ? describe.skip : describe;

const def: CubeDef = {
  name: "Big",
  dimensions: [
    { name: "A", levels: ["A"], hasAll: false, members: Array.from({ length: 200 }, (_, i) => ({ name: `a${i}`, parent: -1, level: 0 })) },
    { name: "B", levels: ["B"], hasAll: false, members: Array.from({ length: 150 }, (_, i) => ({ name: `b${i}`, parent: -1, level: 0 })) },
  ],
};

function grid(offset: number): LeafCells {
  const n = 200 * 150;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Reverse key order, to exercise the sort before COPY.
    a[i] = Math.floor((n - 1 - i) / 150);
    b[i] = (n - 1 - i) % 150;
    values[i] = i % 97 === 0 ? Number.NaN : offset + i / 4;
  }
  return { count: n, coords: [a, b], values };
}

describe("copyChunks", () => {
  it("writes COPY text rows in chunks, NaN as NULL, and reports progress", () => {
    const progress: number[] = [];
    const chunks = [
      ...copyChunks(3, [Int32Array.of(1, 2, 3), Int32Array.of(-4, 5, 6)], Float64Array.of(1.5, Number.NaN, 1e21), 2, (d) => progress.push(d)),
    ];
    expect(chunks).toEqual(["3\t{1,-4}\t1.5\n3\t{2,5}\t\\N\n", "3\t{3,6}\t1e+21\n"]);
    expect(progress).toEqual([2, 3]);
  });
});

maybe("saveCube with COPY on the PostgreSQL server", () => {
  let drop: () => Promise<void>;
  let driver: SqlDriver;
  let store: SqlStore;

  beforeAll(async () => {
    const db = await createTestDatabase("qatom_copy");
    drop = db.drop;
    driver = await openPostgresDriver(db.url);
    await runMigrations(driver);
    store = new SqlStore(driver, { saveBatchRows: 1000 });
  });

  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  it("offers COPY only inside a transaction", async () => {
    expect(driver.copyFrom).toBeUndefined();
    await driver.transaction(async (tx) => {
      expect(typeof tx.copyFrom).toBe("function");
    });
  });

  it("stores every cell and reads it back", async () => {
    const cells = grid(0);
    const progress: number[] = [];
    await store.saveCube(def, cells, (done) => progress.push(done));
    expect(progress).toHaveLength(30);
    expect(progress.at(-1)).toBe(30_000);
    const back = await store.loadCube("Big");
    expect(back.cells.count).toBe(30_000);
    // Row 0 back is key (0,0): source row n-1.
    const src = (k: number) => 30_000 - 1 - k;
    for (const k of [0, 1, 149, 150, 12_345, 29_999]) {
      const v = cells.values[src(k)];
      expect(back.cells.coords[0][k]).toBe(Math.floor(k / 150));
      expect(back.cells.coords[1][k]).toBe(k % 150);
      if (Number.isNaN(v)) expect(back.cells.values[k]).toBeNaN();
      else expect(back.cells.values[k]).toBe(v);
    }
  });

  it("leaves the previous cube intact and no rows behind when the save fails part-way through the COPY", async () => {
    const before = await store.loadCube("Big");
    await expect(
      store.saveCube(def, grid(1000), (done) => {
        if (done >= 5000) throw new Error("stop here");
      }),
    ).rejects.toThrow("stop here");
    const after = await store.loadCube("Big");
    expect(after.id).toBe(before.id);
    expect(Array.from(after.cells.values.subarray(0, 500))).toEqual(Array.from(before.cells.values.subarray(0, 500)));
    const [{ n }] = await driver.query<{ n: number }>("SELECT count(*)::int AS n FROM cell");
    expect(Number(n)).toBe(30_000);
    // The pool still works after the aborted COPY.
    await store.saveCube(def, grid(2000));
    expect((await store.loadCube("Big")).cells.values[1]).toBe(2000 + (30_000 - 2) / 4);
  });
});
