/**
 * The PGlite driver gives the event loop a turn after every statement: PGlite runs a statement
 * synchronously in WebAssembly, so without it a long transaction would hold every other request.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openPgliteDriver, type SqlDriver } from "./driver";

describe("PGlite driver", () => {
  let dir: string;
  let db: SqlDriver;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-driver-"));
    db = await openPgliteDriver(path.join(dir, "db"));
  });

  afterAll(async () => {
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lets timers run between the statements of a transaction", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let during = 0;
    try {
      await db.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await tx.query("SELECT pg_sleep(0.01)");
        during = ticks;
      });
    } finally {
      clearInterval(timer);
    }
    // 10 statements of 10 ms each: the 1 ms timer fired between them, not only after the commit.
    expect(during).toBeGreaterThanOrEqual(5);
  });

  it("copies COPY text into a table inside a transaction, and a rollback removes it", async () => {
    await db.exec("CREATE TABLE t (k int PRIMARY KEY, v float8)");
    const copied = await db.transaction(async (tx) => tx.copyFrom!("COPY t (k, v) FROM STDIN", ["1\t1.5\n2\t\\N\n", "3\t-2\n"]));
    expect(copied).toBe(3);
    expect(await db.query("SELECT k, v FROM t ORDER BY k")).toEqual([
      { k: 1, v: 1.5 },
      { k: 2, v: null },
      { k: 3, v: -2 },
    ]);
    await expect(
      db.transaction(async (tx) => {
        await tx.copyFrom!("COPY t (k, v) FROM STDIN", ["4\t4\n"]);
        throw new Error("after the COPY");
      }),
    ).rejects.toThrow("after the COPY");
    expect(await db.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 3 }]);
    await expect(db.copyFrom!("COPY t (k, v) FROM '/etc/passwd'", ["5\t5\n"])).rejects.toThrow(/COPY \.\.\. FROM STDIN/);
  });
});
