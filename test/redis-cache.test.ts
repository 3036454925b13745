/**
 * Hot tiles in a real Redis (REDIS_URL; skipped outside CI without it, with the reason printed):
 * repeated GetCells served from tiles shared by two backend instances over one PostgreSQL
 * database, no stale value after a write, and a Redis that stops and comes back (a private
 * redis-server on a free port): reads stay correct, the outage is logged once, and the cache is
 * used again when Redis returns.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { RedisTileCache } from "../backend/src/cache";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { testConfig } from "./helpers/server";
import { apiClients } from "./helpers/clients";
import { createTestDatabase } from "./helpers/pg";
import { requireServices, serviceUrls } from "./helpers/services";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const describeRedis = requireServices(["redis"]);

const units = "[Measures].[Units]";
const north = ["[Region].[North]", units];
const osloLeaf = [
  "[Region].[North].[Oslo]",
  "[Product].[Widget]",
  "[Channel].[Web]",
  "[Scenario].[Plan]",
  units,
];
const batch = [{ members: north }, { members: ["[Region].[North]", "[Scenario].[Plan]", units] }, { members: osloLeaf }];

/** A pino logger whose records land in `records`. */
function capturingLog(records: { level: number; msg: string }[]) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info" }, sink);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** True when a Redis on `port` answers PING with PONG. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      reply += String(d);
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** Starts a private redis-server (no persistence) on `port`; resolves once it answers PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 200; i++) {
    if (await pingRedis(port)) return proc;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill("SIGKILL");
  throw new Error(`redis-server did not start on port ${port}`);
}

function stopRedis(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGKILL");
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeRedis("hot tiles in Redis", () => {
  let dataDir: string;
  let databaseUrl: string;
  let dropDatabase: () => Promise<void>;
  const servers: RunningServer[] = [];

  async function start(redisUrl: string, log = pino({ level: "silent" })): Promise<RunningServer> {
    const config = testConfig({ QATOM_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
    const s = await startServer(config, { banner: false, progress: false, log });
    servers.push(s);
    await s.ready;
    return s;
  }

  function redisCache(s: RunningServer): RedisTileCache {
    const cache = s.backend.cache;
    if (!(cache instanceof RedisTileCache)) throw new Error("the server has no Redis tile cache");
    return cache;
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-redis-"));
    const db = await createTestDatabase();
    databaseUrl = db.url;
    dropDatabase = db.drop;
    const store = await openStore({ dataDir, databaseUrl });
    await store.saveCube(smallCubeDef, smallCubeCells());
    await store.close();
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    await dropDatabase?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves repeated GetCells from tiles shared by two instances, and a write makes the old tile unreachable", async () => {
    const redisUrl = serviceUrls().redisUrl!;
    const a = await start(redisUrl);
    const b = await start(redisUrl);
    const cacheA = redisCache(a);
    const cacheB = redisCache(b);
    await waitFor(() => cacheA.available && cacheB.available);

    const first = await apiClients(a.url, "ann").lattice.getCells({ cube: "Demo", cells: batch });
    expect(first.cells.map((c) => c.value)).toEqual([30, 30, 10]);
    await waitFor(() => cacheA.stats().sets === 1); // stored in the background
    const again = await apiClients(a.url, "ann").lattice.getCells({ cube: "Demo", cells: batch });
    expect(again.cells.map((c) => c.value)).toEqual([30, 30, 10]);
    expect(cacheA.stats()).toMatchObject({ hits: 1, misses: 1 });
    // The other instance, at the same data version, reads the tile instance A computed.
    const fromB = await apiClients(b.url, "bob").lattice.getCells({ cube: "Demo", cells: batch });
    expect(fromB.cells.map((c) => c.value)).toEqual([30, 30, 10]);
    expect(cacheB.stats()).toMatchObject({ hits: 1, misses: 0 });
    // The tile carries a TTL.
    const keys = await cacheA.redis.keys("qatom:default:tile:demo:*");
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(await cacheA.redis.ttl(keys[0])).toBeGreaterThan(0);

    // A write through A: its next read is computed at the new version, never the cached old tile.
    const w = await apiClients(a.url, "ann").lattice.writeCells({
      cube: "Demo",
      writes: [{ members: osloLeaf, value: 12, baseVersion: 0n }],
    });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    const afterWrite = await apiClients(a.url, "ann").lattice.getCells({ cube: "Demo", cells: batch });
    expect(afterWrite.cells.map((c) => c.value)).toEqual([30, 32, 12]);
    expect(afterWrite.cells[2].version).toBe(w.results[0].version);
    expect(cacheA.stats()).toMatchObject({ hits: 1, misses: 2 });
    await waitFor(() => cacheA.stats().sets === 2);
    const cached = await apiClients(a.url, "ann").lattice.getCells({ cube: "Demo", cells: batch });
    expect(cached.cells.map((c) => c.value)).toEqual([30, 32, 12]);
    expect(cacheA.stats()).toMatchObject({ hits: 2, misses: 2 });
    for (const s of [a, b]) await s.close();
    servers.length = 0;
  });

  it("keeps reads correct while Redis is stopped, logs the outage once, and uses the cache again when it returns", async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const records: { level: number; msg: string }[] = [];
    const s = await start(`redis://127.0.0.1:${port}`, capturingLog(records));
    try {
      const cache = redisCache(s);
      await waitFor(() => cache.available);
      const { lattice } = apiClients(s.url, "ann");
      const read = async () => (await lattice.getCells({ cube: "Demo", cells: batch })).cells.map((c) => c.value);
      const plan = (await read())[1]!;
      await waitFor(() => cache.stats().sets === 1);
      await read();
      expect(cache.stats().hits).toBe(1);

      await stopRedis(redis);
      const outage = () => records.filter((r) => r.msg.startsWith("Redis tile cache unavailable"));
      for (let i = 0; i < 30; i++) {
        expect((await read())[1]).toBe(plan);
        await new Promise((r) => setTimeout(r, 10));
      }
      // A write during the outage is acknowledged and read back computed.
      const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: osloLeaf }] });
      const w = await lattice.writeCells({
        cube: "Demo",
        writes: [{ members: osloLeaf, value: 50, baseVersion: cur.cells[0].version }],
      });
      expect(w.results[0].status).toBe(WriteStatus.APPLIED);
      const during = await read();
      expect(during[2]).toBe(50);
      expect(outage()).toHaveLength(1);
      expect(cache.stats().hits).toBe(1);

      redis = await startRedis(port);
      await waitFor(() => cache.available);
      expect(records.filter((r) => r.msg === "Redis tile cache available again")).toHaveLength(1);
      const setsBefore = cache.stats().sets;
      expect(await read()).toEqual(during);
      await waitFor(() => cache.stats().sets === setsBefore + 1);
      expect(await read()).toEqual(during);
      expect(cache.stats().hits).toBe(2);
      expect(outage()).toHaveLength(1);
    } finally {
      await s.close();
      servers.length = 0;
      await stopRedis(redis);
    }
  });
});
