/**
 * The Store, run against both embedded PGlite (a fresh temp directory) and the PostgreSQL server
 * (a fresh database created through `TEST_DATABASE_URL`, default
 * `postgres://postgres@127.0.0.1:5432/test`, dropped at the end). Set `SKIP_PG_TESTS=1` to leave
 * the server out where none runs.
 */
import type { CubeDef, LeafCells } from "../lattice";
import { openStore } from "./index";
import { listMigrations, runMigrations } from "./migrate";
import { SqlStore } from "./sql-store";
import { admin, dbUrl, freshDbName, openSmall, SMALL_BATCHES, testBackends } from "./test-databases";
import type { PendingWrite, StoredCube } from "./types";

const backends = testBackends();

/** A 3-dimensional cube; leaf members are 1..n of each dimension. */
function makeDef(name: string): CubeDef {
  const dim = (dname: string, leaves: string[]) => ({
    name: dname,
    levels: ["(All)", dname],
    hasAll: true,
    members: [{ name: `All ${dname}`, parent: -1, level: 0 }, ...leaves.map((m) => ({ name: m, parent: 0, level: 1 }))],
  });
  return {
    name,
    description: "test cube",
    dimensions: [dim("Store", ["CA", "OR", "WA"]), dim("Time", ["Q1", "Q2", "Q3", "Q4"]), dim("Measures", ["Sales", "Cost"])],
  };
}

/** Cells from rows `[store, time, measure, value]` (value NaN = cleared). */
function makeCells(rows: number[][]): LeafCells {
  return {
    count: rows.length,
    coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
    values: Float64Array.from(rows.map((r) => r[3])),
  };
}

/** A cube's rows as `"s,t,m" -> {value, version}`, independent of row order. */
function byCoords(cube: StoredCube): Map<string, { value: number; version: number; writer?: string }> {
  const out = new Map<string, { value: number; version: number; writer?: string }>();
  const { cells } = cube;
  for (let r = 0; r < cells.count; r++) {
    const key = cells.coords.map((c) => c[r]).join(",");
    out.set(key, { value: cells.values[r], version: cells.versions![r], writer: cube.writers.get(r)?.user });
  }
  return out;
}

const BASE_ROWS = [
  [3, 4, 2, 30.25],
  [1, 1, 1, 100],
  [2, 1, 1, Number.NaN],
  [1, 2, 1, -7.5],
  [1, 1, 2, 1e-9],
  [2, 3, 1, 1234567.125],
  [3, 1, 1, 0],
];

function write(coords: number[], newValue: number | null, baseVersion: number, oldValue: number | null = null): PendingWrite {
  return { coords, members: coords.map((c, d) => `[D${d}].[m${c}]`), oldValue, newValue, baseVersion };
}

describe.each(backends)("Store on $name", (backend) => {
  let store: SqlStore;

  beforeAll(async () => {
    await backend.setup();
    store = await openSmall(backend);
  });

  afterAll(async () => {
    await store?.close();
    await backend.teardown();
  });

  /** Closes the current store and opens a new one on the same database. */
  async function reopen(): Promise<void> {
    await store.close();
    store = await openSmall(backend);
  }

  test("migrations are recorded once and opening again applies nothing", async () => {
    const files = listMigrations();
    expect(files[0]).toMatchObject({ version: 1, name: "init" });
    await store.close();
    const viaOpenStore = await openStore(backend.storeOptions());
    try {
      const rows = await viaOpenStore.sql.query<{ version: number; name: string }>(
        "SELECT version, name FROM schema_migrations ORDER BY version",
      );
      expect(rows).toEqual(files.map((f) => ({ version: f.version, name: f.name })));
    } finally {
      await viaOpenStore.close();
    }
    const driver = await backend.openDriver();
    expect(await runMigrations(driver)).toEqual([]);
    store = new SqlStore(driver, SMALL_BATCHES);
    const [{ n }] = await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_migrations");
    expect(n).toBe(files.length);
  });

  test("saveCube and loadCube round-trip definition, values, NaN cells and versions", async () => {
    const def = makeDef("RoundTrip");
    const progress: [number, number][] = [];
    const id = await store.saveCube(def, makeCells(BASE_ROWS), (done, total) => progress.push([done, total]));
    expect(progress).toEqual([
      [4, 7],
      [7, 7],
    ]);
    const loadProgress: [number, number][] = [];
    const cube = await store.loadCube("RoundTrip", (done, total) => loadProgress.push([done, total]));
    if (backend.name === "pglite") {
      // Pages of loadPageRows (3) rows.
      expect(loadProgress).toEqual([
        [3, 7],
        [6, 7],
        [7, 7],
      ]);
    } else {
      // One binary COPY: progress as its chunks arrive, ending with every row.
      expect(loadProgress.at(-1)).toEqual([7, 7]);
      for (let i = 1; i < loadProgress.length; i++) expect(loadProgress[i][0]).toBeGreaterThanOrEqual(loadProgress[i - 1][0]);
    }
    expect(cube.id).toBe(id);
    expect(cube.def).toEqual(def);
    expect(cube.cells.count).toBe(BASE_ROWS.length);
    expect(cube.writers.size).toBe(0);
    expect(Math.abs(cube.loadedAt - Date.now())).toBeLessThan(60_000);
    const rows = byCoords(cube);
    for (const [s, t, m, v] of BASE_ROWS) {
      const got = rows.get(`${s},${t},${m}`);
      expect(got).toBeDefined();
      if (Number.isNaN(v)) expect(got!.value).toBeNaN();
      else expect(got!.value).toBe(v);
      expect(got!.version).toBe(0);
    }
    // Rows come back sorted by coordinates (pages in key order; the COPY in storage order, which saveCube sorted).
    const keys = [...rows.keys()];
    expect(keys).toEqual([...keys].sort());
    const cubes = await store.listCubes();
    expect(cubes).toContainEqual({ id, name: "RoundTrip", tenant: "default", loadedAt: cube.loadedAt });
  });

  test("loadCube rejects a cube that is not stored", async () => {
    await expect(store.loadCube("NoSuchCube")).rejects.toThrow('cube "NoSuchCube" is not stored');
  });

  test("commitWrites applies writes with increasing versions and audit records sharing the tx id", async () => {
    const id = await store.saveCube(makeDef("Commit"), makeCells(BASE_ROWS));
    const before = Date.now();
    const { results, at } = await store.commitWrites(id, "tx-1", "alice", [
      write([1, 1, 1], 150, 0, 99), // claimed old value is wrong on purpose: the audit keeps the stored 100
      write([2, 1, 1], 5, 0), // cleared cell gets a value
      write([3, 3, 1], 42, 0), // cell absent until now
      write([1, 2, 1], null, 0, -7.5), // clears
    ]);
    expect(Math.abs(at - before)).toBeLessThan(60_000);
    expect(results.every((r) => r.ok)).toBe(true);
    const versions = results.map((r) => (r.ok ? r.version : -1));
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]);
    expect(versions[0]).toBeGreaterThan(0);

    const cube = await store.loadCube("Commit");
    const rows = byCoords(cube);
    expect(cube.cells.count).toBe(BASE_ROWS.length + 1);
    expect(rows.get("1,1,1")).toEqual({ value: 150, version: versions[0], writer: "alice" });
    expect(rows.get("2,1,1")).toEqual({ value: 5, version: versions[1], writer: "alice" });
    expect(rows.get("3,3,1")).toEqual({ value: 42, version: versions[2], writer: "alice" });
    expect(rows.get("1,2,1")!.value).toBeNaN();
    expect(rows.get("1,2,1")!.version).toBe(versions[3]);
    expect(rows.get("3,4,2")).toEqual({ value: 30.25, version: 0, writer: undefined });
    expect(cube.writers.size).toBe(4);
    for (const w of cube.writers.values()) expect(w).toEqual({ user: "alice", at });

    const h1 = await store.cellHistory(id, [1, 1, 1], 10);
    expect(h1).toEqual([
      {
        txId: "tx-1",
        user: "alice",
        at,
        oldValue: 100,
        newValue: 150,
        version: versions[0],
        members: null,
        // The transaction's kind (a commit without CommitOptions.transaction is a write).
        kind: "write",
      },
    ]);
    expect((await store.cellHistory(id, [2, 1, 1], 10))[0]).toMatchObject({ oldValue: null, newValue: 5 });
    expect((await store.cellHistory(id, [3, 3, 1], 10))[0]).toMatchObject({ oldValue: null, newValue: 42 });
    expect((await store.cellHistory(id, [1, 2, 1], 10))[0]).toMatchObject({ oldValue: -7.5, newValue: null });
    const txIds = await store.sql.query<{ tx_id: string; n: number }>(
      "SELECT tx_id, count(*)::int AS n FROM audit_log WHERE cube_id = $1 GROUP BY tx_id",
      [id],
    );
    expect(txIds).toEqual([{ tx_id: "tx-1", n: 4 }]);

    // A later commit gets higher versions than every earlier one.
    const next = await store.commitWrites(id, "tx-2", "bob", [write([1, 1, 1], 151, versions[0])]);
    expect(next.results[0]).toEqual({ ok: true, version: expect.any(Number) });
    expect((next.results[0] as { version: number }).version).toBeGreaterThan(versions[3]);
  });

  test("a stale baseVersion is refused with the stored state while the rest of the batch applies", async () => {
    const id = await store.saveCube(makeDef("Conflict"), makeCells(BASE_ROWS));
    const first = await store.commitWrites(id, "tx-a", "alice", [write([1, 1, 1], 111, 0)]);
    expect(first.results[0].ok).toBe(true);
    const v1 = (first.results[0] as { version: number }).version;

    const { results } = await store.commitWrites(id, "tx-b", "bob", [
      write([2, 3, 1], 9, 0), // applies
      write([1, 1, 1], 222, 0, 100), // bob saw the loaded fact: stale
      write([3, 2, 2], 8, 7), // absent cell but bob claims version 7: stale
      write([3, 1, 1], 1, 0), // applies
    ]);
    expect(results[0].ok).toBe(true);
    expect(results[1]).toEqual({
      ok: false,
      currentValue: 111,
      currentVersion: v1,
      updatedBy: "alice",
      updatedAt: first.at,
    });
    expect(results[2]).toEqual({ ok: false, currentValue: null, currentVersion: 0, updatedBy: null, updatedAt: null });
    expect(results[3].ok).toBe(true);

    const rows = byCoords(await store.loadCube("Conflict"));
    expect(rows.get("1,1,1")).toEqual({ value: 111, version: v1, writer: "alice" });
    expect(rows.get("2,3,1")).toMatchObject({ value: 9, writer: "bob" });
    expect(rows.get("3,1,1")).toMatchObject({ value: 1, writer: "bob" });
    expect(rows.has("3,2,2")).toBe(false); // no placeholder row left behind
    expect(rows.size).toBe(BASE_ROWS.length);
    expect((await store.cellHistory(id, [1, 1, 1], 10)).map((h) => h.txId)).toEqual(["tx-a"]);
    expect(await store.cellHistory(id, [3, 2, 2], 10)).toEqual([]);
  });

  test("a group of writes applies all or none: one stale write fails the whole group, not the others", async () => {
    const id = await store.saveCube(makeDef("Group"), makeCells(BASE_ROWS));
    const first = await store.commitWrites(id, "tx-a", "alice", [write([1, 1, 1], 111, 0)]);
    const v1 = (first.results[0] as { version: number }).version;
    const grouped = (w: PendingWrite, group: number): PendingWrite => ({ ...w, group });
    const { results } = await store.commitWrites(id, "tx-b", "bob", [
      grouped(write([2, 3, 1], 9, 0), 1), // current, but its group fails
      grouped(write([1, 1, 1], 222, 0), 1), // stale: alice wrote it
      grouped(write([3, 1, 1], 5, 0), 2), // a group of its own: applies
      write([3, 2, 2], 8, 0), // alone: applies
    ]);
    expect(results[0]).toMatchObject({ ok: false, groupFailed: true });
    expect(results[1]).toMatchObject({ ok: false, currentValue: 111, currentVersion: v1, updatedBy: "alice" });
    expect(results[1]).not.toHaveProperty("groupFailed");
    expect(results[2].ok).toBe(true);
    expect(results[3].ok).toBe(true);
    const rows = byCoords(await store.loadCube("Group"));
    expect(rows.get("1,1,1")).toMatchObject({ value: 111, writer: "alice" });
    expect(rows.get("2,3,1")?.writer).toBeUndefined();
    expect(await store.cellHistory(id, [2, 3, 1], 10)).toEqual([]);
    expect(rows.get("3,1,1")).toMatchObject({ value: 5, writer: "bob" });
  });

  test("several writes to one cell in a batch apply in order; cellHistory is newest first", async () => {
    const id = await store.saveCube(makeDef("History"), makeCells(BASE_ROWS));
    const a = await store.commitWrites(id, "tx-1", "u1", [write([3, 4, 2], 1, 0), write([3, 4, 2], 2, 0)]);
    expect(a.results.every((r) => r.ok)).toBe(true);
    const v2 = (a.results[1] as { version: number }).version;
    const b = await store.commitWrites(id, "tx-2", "u2", [write([3, 4, 2], 3, v2)]);
    expect(b.results[0].ok).toBe(true);

    const history = await store.cellHistory(id, [3, 4, 2], 10);
    expect(history.map((h) => [h.txId, h.user, h.oldValue, h.newValue])).toEqual([
      ["tx-2", "u2", 2, 3],
      ["tx-1", "u1", 1, 2],
      ["tx-1", "u1", 30.25, 1],
    ]);
    const versions = history.map((h) => h.version);
    expect(versions[0]).toBeGreaterThan(versions[1]);
    expect(versions[1]).toBeGreaterThan(versions[2]);
    expect(await store.cellHistory(id, [3, 4, 2], 2)).toEqual(history.slice(0, 2));
    expect(byCoords(await store.loadCube("History")).get("3,4,2")).toEqual({ value: 3, version: versions[0], writer: "u2" });
  });

  test("concurrent commits creating the same cell: exactly one wins", async () => {
    const id = await store.saveCube(makeDef("Race"), makeCells(BASE_ROWS));
    const outcomes = await Promise.all([
      store.commitWrites(id, "tx-x", "x", [write([2, 2, 2], 1, 0)]),
      store.commitWrites(id, "tx-y", "y", [write([2, 2, 2], 2, 0)]),
    ]);
    const wins = outcomes.filter((o) => o.results[0].ok);
    expect(wins).toHaveLength(1);
    const loser = outcomes.find((o) => !o.results[0].ok)!.results[0];
    const winnerVersion = (wins[0].results[0] as { version: number }).version;
    expect(loser).toMatchObject({ ok: false, currentVersion: winnerVersion });
    expect(await store.cellHistory(id, [2, 2, 2], 10)).toHaveLength(1);
  });

  test("commitWrites rejects an unknown cube and wrong coordinates without applying anything", async () => {
    await expect(store.commitWrites(999_999, "tx", "u", [write([1, 1, 1], 1, 0)])).rejects.toThrow(
      "cube 999999 is not stored",
    );
    const id = await store.saveCube(makeDef("Invalid"), makeCells(BASE_ROWS));
    await expect(store.commitWrites(id, "tx", "u", [write([1, 1, 1], 5, 0), write([1, 1], 1, 0)])).rejects.toThrow(
      /writes\[1\] has 2 coordinates/,
    );
    const rows = byCoords(await store.loadCube("Invalid"));
    expect(rows.get("1,1,1")).toEqual({ value: 100, version: 0, writer: undefined });
    expect(await store.commitWrites(id, "tx", "u", [])).toEqual({ results: [], at: expect.any(Number) });
  });

  test("saving a cube under an existing name replaces it with its writes, audit and comments", async () => {
    const oldId = await store.saveCube(makeDef("Replace"), makeCells(BASE_ROWS));
    await store.commitWrites(oldId, "tx-1", "alice", [write([1, 1, 1], 5, 0)]);
    await store.addComment(oldId, [1, 1, 1], ["a", "b", "c"], "old note", "alice");

    const newId = await store.saveCube(makeDef("Replace"), makeCells([[1, 1, 1, 7]]));
    expect(newId).not.toBe(oldId);
    const cube = await store.loadCube("Replace");
    expect(cube.id).toBe(newId);
    expect([...byCoords(cube).entries()]).toEqual([["1,1,1", { value: 7, version: 0, writer: undefined }]]);
    expect((await store.listCubes()).filter((c) => c.name === "Replace")).toHaveLength(1);
    expect(await store.listComments(oldId)).toEqual([]);
    expect(await store.cellHistory(oldId, [1, 1, 1], 10)).toEqual([]);
    const [{ n }] = await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM cell WHERE cube_id = $1", [oldId]);
    expect(n).toBe(0);
  });

  test("a failing saveCube leaves the previous cube intact", async () => {
    const id = await store.saveCube(makeDef("Keep"), makeCells(BASE_ROWS));
    await store.commitWrites(id, "tx-1", "alice", [write([1, 1, 1], 5, 0)]);
    const before = await store.loadCube("Keep");
    const [{ n: cellsBefore }] = await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM cell");

    // A coordinate column of the wrong length is refused up front.
    const short = makeCells(BASE_ROWS);
    short.coords[1] = short.coords[1].subarray(0, 3);
    await expect(store.saveCube(makeDef("Keep"), short)).rejects.toThrow(/coordinate column 1 \(Time\) has 3 rows/);
    // Duplicate coordinates are refused up front too.
    await expect(store.saveCube(makeDef("Keep"), makeCells([...BASE_ROWS, [1, 1, 1, 3]]))).rejects.toThrow(
      "cells hold two rows with coordinates [1,1,1]",
    );
    // An error in the middle of the transaction (after the old cube was deleted and a batch inserted).
    let calls = 0;
    await expect(
      store.saveCube(makeDef("Keep"), makeCells(BASE_ROWS), () => {
        if (++calls === 1) throw new Error("forced failure");
      }),
    ).rejects.toThrow("forced failure");
    expect(calls).toBe(1);
    // A database error after the old cube was deleted: jsonb refuses a lone surrogate.
    const badDef = { ...makeDef("Keep"), description: "broken \ud800" };
    await expect(store.saveCube(badDef, makeCells(BASE_ROWS))).rejects.toThrow(/json/);

    const after = await store.loadCube("Keep");
    expect(after.id).toBe(id);
    expect(after.loadedAt).toBe(before.loadedAt);
    expect(byCoords(after)).toEqual(byCoords(before));
    expect(byCoords(after).get("1,1,1")).toMatchObject({ value: 5, writer: "alice" });
    expect(await store.cellHistory(id, [1, 1, 1], 10)).toHaveLength(1);
    const [{ n: cellsAfter }] = await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM cell");
    expect(cellsAfter).toBe(cellsBefore);
  });

  test("comments are listed newest first", async () => {
    const id = await store.saveCube(makeDef("Comments"), makeCells(BASE_ROWS));
    const c1 = await store.addComment(id, [0, 0, 1], ["[Store].[All Store]", "[Time].[All Time]", "[Measures].[Sales]"], "first", "alice");
    const c2 = await store.addComment(id, [1, 2, 1], ["[Store].[CA]", "[Time].[Q2]", "[Measures].[Sales]"], 'second, "quoted"', "bob");
    expect(c1).toEqual({
      id: expect.any(Number),
      coords: [0, 0, 1],
      members: ["[Store].[All Store]", "[Time].[All Time]", "[Measures].[Sales]"],
      text: "first",
      author: "alice",
      createdAt: expect.any(Number),
    });
    expect(Math.abs(c1.createdAt - Date.now())).toBeLessThan(60_000);
    expect(c2.id).toBeGreaterThan(c1.id);
    expect(await store.listComments(id)).toEqual([c2, c1]);
  });

  test("cubes, writes and comments survive close and reopen", async () => {
    const id = await store.saveCube(makeDef("Durable"), makeCells(BASE_ROWS));
    const { results } = await store.commitWrites(id, "tx-d", "carol", [write([1, 1, 1], 77, 0), write([3, 3, 2], 8, 0)]);
    const comment = await store.addComment(id, [1, 1, 1], ["a", "b", "c"], "keep me", "carol");
    const before = await store.loadCube("Durable");

    await reopen();

    const after = await store.loadCube("Durable");
    expect(after.id).toBe(id);
    expect(after.def).toEqual(before.def);
    expect(byCoords(after)).toEqual(byCoords(before));
    expect(byCoords(after).get("1,1,1")).toEqual({
      value: 77,
      version: (results[0] as { version: number }).version,
      writer: "carol",
    });
    expect([...after.writers.entries()]).toEqual([...before.writers.entries()]);
    expect(await store.listComments(id)).toEqual([comment]);
    expect((await store.cellHistory(id, [3, 3, 2], 10)).map((h) => h.newValue)).toEqual([8]);
    // The version sequence goes on after the reopen.
    const next = await store.commitWrites(id, "tx-e", "carol", [write([1, 1, 1], 78, (results[0] as { version: number }).version)]);
    expect((next.results[0] as { version: number }).version).toBeGreaterThan((results[1] as { version: number }).version);
  });
});

if (process.env.SKIP_PG_TESTS !== "1") {
  test("postgres: backends starting together migrate the same database once", async () => {
    const dbName = freshDbName();
    await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: dbUrl(dbName), dataDir: "/unused" })));
      try {
        const rows = await stores[0].sql.query<{ version: number }>("SELECT version FROM schema_migrations");
        expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
        expect(await stores[1].listCubes()).toEqual([]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    }
  });
}
