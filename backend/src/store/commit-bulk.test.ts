/**
 * The bulk path of commitWrites (sql/commit-bulk.ts), on PGlite and on the PostgreSQL server: it
 * stores what the row path stores, falls back to the row path on any conflict, and is all or
 * nothing when a failure comes after its COPY.
 */
import type { CubeDef, LeafCells } from "../lattice";
import { runMigrations } from "./migrate";
import { SqlStore } from "./sql-store";
import { type Backend, testBackends } from "./test-databases";
import type { PendingWrite } from "./types";

const SIDE = 30;

/** Two dimensions of SIDE leaves each and a measure of two: 1,800 leaf cells. */
function def(name: string): CubeDef {
  const dim = (d: string, n: number) => ({
    name: d,
    levels: ["(All)", d],
    hasAll: true,
    members: [{ name: `All ${d}`, parent: -1, level: 0 }, ...Array.from({ length: n }, (_, i) => ({ name: `${d}${i}`, parent: 0, level: 1 }))],
  });
  return { name, description: "bulk commit test", dimensions: [dim("A", SIDE), dim("B", SIDE), dim("M", 2)] };
}

/** Every other leaf cell loaded (value a*100 + b + m/10), the rest absent. */
function loaded(): LeafCells {
  const rows: number[][] = [];
  for (let a = 1; a <= SIDE; a++) for (let b = 1; b <= SIDE; b++) for (let m = 1; m <= 2; m++) if ((a + b + m) % 2 === 0) rows.push([a, b, m]);
  return {
    count: rows.length,
    coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
    values: Float64Array.from(rows.map(([a, b, m]) => a * 100 + b + m / 10)),
  };
}

const loadedValue = (a: number, b: number, m: number) => ((a + b + m) % 2 === 0 ? a * 100 + b + m / 10 : null);

/** `n` writes to distinct cells on version 0 (half of them loaded, half absent), each the writer's view. */
function writes(n: number, scale = 2): PendingWrite[] {
  const out: PendingWrite[] = [];
  for (let a = 1; a <= SIDE && out.length < n; a++) {
    for (let b = 1; b <= SIDE && out.length < n; b++) {
      for (let m = 1; m <= 2 && out.length < n; m++) {
        const coords = [a, b, m];
        out.push({ coords, members: [`[A].[A${a - 1}]`, `[B].[B${b - 1}]`, `[M].[M${m - 1}]`], oldValue: loadedValue(a, b, m), newValue: a * b * m * scale, baseVersion: 0 });
      }
    }
  }
  return out;
}

describe.each(testBackends())("bulk commit on $name", (backend: Backend) => {
  let bulk: SqlStore;
  let rows: SqlStore;

  beforeAll(async () => {
    await backend.setup();
    const driver = await backend.openDriver();
    await runMigrations(driver);
    // Two stores over one database: one takes the bulk path from one write, one never.
    bulk = new SqlStore(driver, { commitBatchCells: 97, commitBulkMinWrites: 1 });
    rows = new SqlStore(driver, { commitBatchCells: 97, commitBulkMinWrites: 1e9 });
  });

  afterAll(async () => {
    await bulk?.close();
    await backend.teardown();
  });

  /** A cube's stored cells as `a,b,m -> value@version by writer`. */
  async function snapshot(name: string): Promise<Map<string, string>> {
    const cube = await bulk.loadCube(name);
    const out = new Map<string, string>();
    for (let r = 0; r < cube.cells.count; r++) {
      const key = cube.cells.coords.map((c) => c[r]).join(",");
      out.set(key, `${cube.cells.values[r]}@${cube.cells.versions![r]} by ${cube.writers.get(r)?.user ?? "-"}`);
    }
    return out;
  }

  test("stores the same cells, versions, audit records and transaction row as the row path", async () => {
    const idA = await bulk.saveCube(def("BulkA"), loaded());
    const idB = await bulk.saveCube(def("BulkB"), loaded());
    const batch = writes(600);
    const a = await bulk.commitWrites(idA, "tx-bulk", "ann", batch);
    expect(bulk.stats).toEqual({ bulkCommits: 1, bulkFallbacks: 0 });
    const b = await rows.commitWrites(idB, "tx-rows", "ann", batch);
    expect(rows.stats).toEqual({ bulkCommits: 0, bulkFallbacks: 0 });

    expect(a.results.every((r) => r.ok)).toBe(true);
    const va = a.results.map((r) => (r.ok ? r.version : 0));
    const vb = b.results.map((r) => (r.ok ? r.version : 0));
    for (let i = 1; i < va.length; i++) expect(va[i]).toBe(va[i - 1] + 1);
    // Same cells; versions differ only by the offset of each commit's first version.
    const normalize = (snap: Map<string, string>, first: number) =>
      new Map([...snap].map(([k, v]) => [k, v.replace(/@(\d+)/, (_, ver) => `@${Number(ver) === 0 ? "loaded" : Number(ver) - first}`)]));
    expect(normalize(await snapshot("BulkA"), va[0])).toEqual(normalize(await snapshot("BulkB"), vb[0]));
    expect((await snapshot("BulkA")).get("1,1,2")).toBe(`4@${va[1]} by ann`);

    for (const [id, tx, versions] of [[idA, "tx-bulk", va], [idB, "tx-rows", vb]] as const) {
      // A loaded cell and an absent one: old values as stored, author and time from the transaction row.
      const loadedCell = await bulk.cellHistory(id, [1, 1, 2], 5);
      expect(loadedCell).toEqual([{ txId: tx, user: "ann", at: expect.any(Number), oldValue: 100 + 1 + 0.2, newValue: 4, version: versions[1], members: null, kind: "write" }]);
      const absentCell = await bulk.cellHistory(id, [1, 1, 1], 5);
      expect(absentCell[0]).toMatchObject({ txId: tx, oldValue: null, newValue: 2, version: versions[0] });
      const [t] = await bulk.sql.query<{ user_name: string; leaves: number; n: number }>(
        "SELECT t.user_name, t.leaves, (SELECT count(*)::int FROM audit_log WHERE cube_id = t.cube_id AND tx_id = t.tx_id) AS n FROM write_tx AS t WHERE t.cube_id = $1 AND t.tx_id = $2",
        [id, tx],
      );
      expect(t).toEqual({ user_name: "ann", leaves: 600, n: 600 });
    }
  });

  test("a stale write sends the batch to the row path: the others apply, the stale one reports the stored state", async () => {
    const id = await bulk.saveCube(def("BulkStale"), loaded());
    const before = { ...bulk.stats };
    const first = await bulk.commitWrites(id, "tx-1", "bob", [writes(1)[0]]);
    const v1 = first.results[0].ok ? first.results[0].version : 0;
    const { results } = await bulk.commitWrites(id, "tx-2", "ann", writes(400, 3));
    expect(bulk.stats.bulkFallbacks).toBe(before.bulkFallbacks + 1);
    expect(results[0]).toEqual({ ok: false, currentValue: 2, currentVersion: v1, updatedBy: "bob", updatedAt: first.at });
    expect(results.slice(1).every((r) => r.ok)).toBe(true);
    const s = await snapshot("BulkStale");
    expect(s.get("1,1,1")).toBe(`2@${v1} by bob`);
    expect(s.get("1,1,2")).toMatch(/^6@\d+ by ann$/);
  });

  test("a stale write of a group fails the whole group on the bulk attempt's fallback; a writer's old value that is not the stored one too", async () => {
    const id = await bulk.saveCube(def("BulkGroup"), loaded());
    await bulk.commitWrites(id, "tx-1", "bob", [writes(1)[0]]);
    const spread = writes(300).map((w) => ({ ...w, group: 7 }));
    const lone = writes(301).slice(300);
    const { results } = await bulk.commitWrites(id, "tx-2", "ann", [...spread, ...lone]);
    expect(results[0]).toMatchObject({ ok: false });
    expect(results.slice(1, 300).every((r) => !r.ok && r.groupFailed)).toBe(true);
    expect(results[300].ok).toBe(true);

    // Version 0 as the writer saw it, but another value stored: not applied as the writer's old value.
    const id2 = await bulk.saveCube(def("BulkOld"), loaded());
    const batch = writes(300);
    batch[1] = { ...batch[1], oldValue: 999 };
    const fallbacks = bulk.stats.bulkFallbacks;
    const done = await bulk.commitWrites(id2, "tx-3", "ann", batch);
    expect(bulk.stats.bulkFallbacks).toBe(fallbacks + 1);
    expect(done.results.every((r) => r.ok)).toBe(true);
    expect((await bulk.cellHistory(id2, batch[1].coords, 1))[0]).toMatchObject({ oldValue: 101.2, newValue: 4 });

    // A writer that saw a value in a cell the store does not hold: the row path creates it, recorded as empty before.
    const id3 = await bulk.saveCube(def("BulkGone"), loaded());
    const gone = writes(300);
    expect(gone[0].oldValue).toBeNull();
    gone[0] = { ...gone[0], oldValue: 5 };
    const before3 = bulk.stats.bulkFallbacks;
    const done3 = await bulk.commitWrites(id3, "tx-4", "ann", gone);
    expect(bulk.stats.bulkFallbacks).toBe(before3 + 1);
    expect(done3.results.every((r) => r.ok)).toBe(true);
    expect((await bulk.cellHistory(id3, gone[0].coords, 1))[0]).toMatchObject({ oldValue: null, newValue: 2 });
  });

  test("a failure after the COPY leaves nothing changed, and the next commit works", async () => {
    const id = await bulk.saveCube(def("BulkFail"), loaded());
    const before = await snapshot("BulkFail");
    const pending = await bulk.pendingOutboxCount();
    await expect(
      bulk.commitWrites(id, "tx-fail", "ann", writes(500), {
        outbox: () => {
          throw new Error("injected after the COPY");
        },
      }),
    ).rejects.toThrow("injected after the COPY");
    expect(await snapshot("BulkFail")).toEqual(before);
    const [counts] = await bulk.sql.query<{ audit: number; tx: number }>(
      "SELECT (SELECT count(*)::int FROM audit_log WHERE cube_id = $1) AS audit, (SELECT count(*)::int FROM write_tx WHERE cube_id = $1) AS tx",
      [id],
    );
    expect(counts).toEqual({ audit: 0, tx: 0 });
    expect(await bulk.pendingOutboxCount()).toBe(pending);

    const ok = await bulk.commitWrites(id, "tx-ok", "ann", writes(500));
    expect(ok.results.every((r) => r.ok)).toBe(true);
    expect((await snapshot("BulkFail")).get("1,1,1")).toMatch(/^2@\d+ by ann$/);
  });

  test("audit records written before migration 006 (names, author and time on the row) read as before, beside new ones", async () => {
    const id = await bulk.saveCube(def("BulkOldRows"), loaded());
    await bulk.sql.query(
      `INSERT INTO audit_log (tx_id, cube_id, coords, members, old_value, new_value, version, user_name, at)
       VALUES ('tx-old', $1, '{2,2,2}', '{"[A].[A1]","[B].[B1]","[M].[M1]"}', 202.2, 7, 3, 'carl', '2026-01-02T03:04:05Z')`,
      [id],
    );
    const ok = await rows.commitWrites(id, "tx-new", "dina", [{ coords: [2, 2, 2], members: [], oldValue: 202.2, newValue: 8, baseVersion: 0 }]);
    expect(ok.results[0].ok).toBe(true);
    const history = await bulk.cellHistory(id, [2, 2, 2], 10);
    expect(history.map((h) => [h.txId, h.user, h.members, h.oldValue, h.newValue])).toEqual([
      ["tx-new", "dina", null, 202.2, 8],
      ["tx-old", "carl", ["[A].[A1]", "[B].[B1]", "[M].[M1]"], 202.2, 7],
    ]);
    expect(history[1].at).toBe(Date.parse("2026-01-02T03:04:05Z"));
    expect(history[0].at).toBe(ok.at);
  });

  if (backend.name === "postgres") {
    test("versions drawn with gaps (as when another transaction draws at the same time) come back as drawn, ascending", async () => {
      const id = await bulk.saveCube(def("BulkGaps"), loaded());
      // A step of 3 leaves gaps between the versions one statement draws, as concurrent draws do.
      await bulk.sql.query("ALTER SEQUENCE cell_version_seq INCREMENT BY 3");
      try {
        const { results } = await bulk.commitWrites(id, "tx-gaps", "ann", writes(300));
        const versions = results.map((r) => (r.ok ? r.version : Number.NaN));
        for (let i = 1; i < versions.length; i++) expect(versions[i]).toBe(versions[i - 1] + 3);
        const s = await snapshot("BulkGaps");
        expect(s.get("1,1,2")).toBe(`4@${versions[1]} by ann`);
      } finally {
        await bulk.sql.query("ALTER SEQUENCE cell_version_seq INCREMENT BY 1");
      }
    });

    test("two bulk commits over the same cells at once: one applies, the other finds every shared cell stale (never a deadlock error)", async () => {
      const id = await bulk.saveCube(def("BulkRace"), loaded());
      const forward = writes(600);
      const backward = [...writes(600, 5)].reverse();
      const [x, y] = await Promise.all([bulk.commitWrites(id, "tx-f", "ann", forward), bulk.commitWrites(id, "tx-b", "bob", backward)]);
      const okX = x.results.filter((r) => r.ok).length;
      const okY = y.results.filter((r) => r.ok).length;
      expect([okX, okY].sort()).toEqual([0, 600]);
      const winner = okX === 600 ? "ann" : "bob";
      const s = await snapshot("BulkRace");
      expect([...s.values()].filter((v) => v.endsWith(`by ${winner}`))).toHaveLength(600);
    });
  }
});
