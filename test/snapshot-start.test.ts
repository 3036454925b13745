/**
 * Starting from a cube snapshot (backend/src/store/snapshot.ts), against the real stores: a server
 * that stops writes its cubes' snapshots; the next start reads a cube from its snapshot only when it
 * still matches the store, and then holds exactly what a load from the store gives (every row's
 * coordinates, value, version and last writer); a snapshot behind the store (another instance wrote
 * meanwhile) or an unreadable one is passed over for the store.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Cube } from "../backend/src/lattice";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { snapshotPath } from "../backend/src/store/snapshot";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { createTestDatabase } from "./helpers/pg";
import { quietStart, testConfig } from "./helpers/server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const UNITS = "[Measures].[Units]";
const NORTH_PLAN = ["[Region].[North]", "[Scenario].[Plan]", UNITS];
const OSLO_WIDGET_WEB = ["[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Actual]", UNITS];

/** Every row of a served cube, keyed by its coordinates: value (null when empty), version, last writer. */
function rowsOf(cube: Cube): Map<string, string> {
  const s = cube.store;
  const out = new Map<string, string>();
  for (let r = 0; r < s.count; r++) {
    const key = s.cols.map((c) => c[r]).join(",");
    const w = cube.writers.get(r);
    const v = s.values[r];
    // Rows with neither a value nor a version read as absent cells: a store load has none of them.
    if (v !== v && s.versions[r] === 0) continue;
    out.set(key, JSON.stringify([v === v ? v : null, s.versions[r], w ? [w.user, w.at] : null]));
  }
  return out;
}

async function start(env: Record<string, string | undefined>): Promise<RunningServer> {
  const s = await startServer(testConfig(env), quietStart());
  await s.ready;
  return s;
}

/** Writes `value` to a cell (a leaf, or a spread into a total) as `user`, on its current version. */
async function write(server: RunningServer, user: string, members: string[], value: number | undefined) {
  const { lattice } = apiClients(server.url, user);
  const [now] = (await lattice.getCells({ cube: "Demo", cells: [{ members }] })).cells;
  const res = await lattice.writeCells({ cube: "Demo", writes: [{ members, value, baseVersion: now.version }] });
  expect(res.results[0].status).toBe(WriteStatus.APPLIED);
}

describe.each(["PGlite", "PostgreSQL"] as const)("starting from a cube snapshot (%s)", (kind) => {
  let dir: string;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-snapshot-"));
    db = kind === "PostgreSQL" ? await createTestDatabase() : undefined;
    env = { QATOM_DATA_DIR: dir, DATABASE_URL: db?.url };
    const store = await openStore({ dataDir: dir, databaseUrl: db?.url });
    await store.saveCube(smallCubeDef, smallCubeCells());
    await store.close();
  });

  afterEach(async () => {
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a stopped server's snapshot starts the next one, which then holds what a load from the store holds", async () => {
    let server = await start(env);
    expect(server.loadedFrom()).toEqual({ "default/Demo": "store" });
    // A spread (new versions, one writer for many rows), a leaf written by another user, a cleared leaf.
    await write(server, "ann", NORTH_PLAN, 500);
    await write(server, "bob", OSLO_WIDGET_WEB, 42);
    await write(server, "ann", ["[Region].[South].[Rome]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Actual]", UNITS], undefined);
    const before = rowsOf(server.backend.listCubes()[0].cube);
    await server.close();
    const id = (await (async () => {
      const store = await openStore({ dataDir: dir, databaseUrl: db?.url });
      try {
        return (await store.listCubes())[0].id;
      } finally {
        await store.close();
      }
    })());
    expect(fs.existsSync(snapshotPath(path.join(dir, "snapshots"), "default", id))).toBe(true);

    server = await start(env);
    expect(server.loadedFrom()).toEqual({ "default/Demo": "snapshot" });
    const fromSnapshot = rowsOf(server.backend.listCubes()[0].cube);
    expect(fromSnapshot).toEqual(before);
    // Writes go on from it: the version a client read is the store's.
    await write(server, "bob", OSLO_WIDGET_WEB, 43);
    const after = rowsOf(server.backend.listCubes()[0].cube);
    await server.close();

    // The same cube loaded from the store (snapshots off) holds the same rows.
    server = await start({ ...env, QATOM_SNAPSHOTS: "off" });
    expect(server.loadedFrom()).toEqual({ "default/Demo": "store" });
    expect(rowsOf(server.backend.listCubes()[0].cube)).toEqual(after);
    await server.close();
  });

  it("an unreadable snapshot is passed over for the store", async () => {
    let server = await start(env);
    await write(server, "ann", OSLO_WIDGET_WEB, 7);
    await server.close();
    const files = fs.readdirSync(path.join(dir, "snapshots", "default"));
    expect(files).toHaveLength(1);
    const file = path.join(dir, "snapshots", "default", files[0]);
    // Cut short by one byte (of the last column or its padding): not read.
    fs.truncateSync(file, fs.statSync(file).size - 1);
    server = await start(env);
    expect(server.loadedFrom()).toEqual({ "default/Demo": "store" });
    const [cell] = (await apiClients(server.url, "ann").lattice.getCells({ cube: "Demo", cells: [{ members: OSLO_WIDGET_WEB }] })).cells;
    expect(cell.value).toBe(7);
    await server.close();
  });

  if (kind === "PostgreSQL") {
    it("a snapshot behind the store (another instance wrote after it, unheard without Kafka) is passed over", async () => {
      const a = await start(env);
      const b = await start({ ...env, QATOM_DATA_DIR: fs.mkdtempSync(path.join(dir, "b-")) });
      await write(a, "ann", OSLO_WIDGET_WEB, 10);
      // B's write A never hears of (no Kafka here), then A stops and writes its snapshot.
      await write(b, "bob", NORTH_PLAN, 900);
      await b.close();
      await a.close();
      const again = await start(env);
      expect(again.loadedFrom()).toEqual({ "default/Demo": "store" });
      const [north] = (await apiClients(again.url, "ann").lattice.getCells({ cube: "Demo", cells: [{ members: NORTH_PLAN }] })).cells;
      expect(north.value).toBeCloseTo(900, 9);
      await again.close();
    });
  }
});
