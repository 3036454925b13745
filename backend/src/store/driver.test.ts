/**
 * The PGlite driver runs the database in a thread of its own: the server's thread stays free while a
 * statement runs, statements and transactions keep PGlite's one-connection order, and the
 * database's errors keep their PostgreSQL fields.
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

  it("leaves the server's thread free while a statement runs", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    let during = -1;
    try {
      const sleeping = db.query("SELECT pg_sleep(0.3)");
      await new Promise((resolve) => setTimeout(resolve, 150));
      during = ticks;
      await sleeping;
    } finally {
      clearInterval(timer);
    }
    // One statement of 300 ms: the 5 ms timer kept firing while it ran (in the old in-thread driver: 0).
    expect(during).toBeGreaterThanOrEqual(5);
  });

  it("runs a statement asked for during a transaction after its COMMIT, and rolls back a failed one", async () => {
    await db.exec("CREATE TABLE ord (k int PRIMARY KEY)");
    let outside: Promise<Array<{ n: number }>> | undefined;
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO ord VALUES (1)");
      outside = db.query<{ n: number }>("SELECT count(*)::int AS n FROM ord");
      await tx.query("SELECT pg_sleep(0.05)");
      await tx.query("INSERT INTO ord VALUES (2)");
    });
    expect(await outside).toEqual([{ n: 2 }]);
    const err = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO ord VALUES (3)");
        await tx.query("INSERT INTO ord VALUES (1)");
      })
      .catch((e: unknown) => e as Error & { code?: string; constraint?: string; detail?: string });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: "23505", constraint: "ord_pkey", detail: "Key (k)=(1) already exists." });
    expect(await db.query("SELECT k FROM ord ORDER BY k")).toEqual([{ k: 1 }, { k: 2 }]);
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
