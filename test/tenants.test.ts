/**
 * Two tenants on one backend: each has a cube called "Demo" (with different data), and one has a
 * "Secret" cube too. Neither can read, write, list or stream the other's cubes; an unknown tenant
 * sees nothing. Run on the embedded store, and on PostgreSQL + Kafka + Redis, where the Kafka
 * message keys and the Redis keys of the two tenants are apart as well.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import Redis from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { TOPICS } from "../backend/src/events/contract";
import type { CubeDef, LeafCells } from "../backend/src/lattice";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { createTestDatabase } from "./helpers/pg";
import { quietStart, testConfig } from "./helpers/server";
import { requireServices, serviceUrls } from "./helpers/services";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const UNITS = "[Measures].[Units]";
const NORTH = [UNITS, "[Region].[North]"];
const OSLO_PLAN = [UNITS, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];

/** The small cube's cells times `factor`. */
function scaled(factor: number): LeafCells {
  const cells = smallCubeCells();
  return { ...cells, values: cells.values.map((v) => v * factor) };
}

/** Saves acme's Demo (the small cube), globex's Demo (times 100) and globex's Secret into a store. */
async function seed(dataDir: string, databaseUrl?: string): Promise<void> {
  const store = await openStore({ dataDir, databaseUrl });
  try {
    await store.saveCube(smallCubeDef, smallCubeCells(), undefined, null, "acme");
    await store.saveCube(smallCubeDef, scaled(100), undefined, null, "globex");
    const secret: CubeDef = { ...smallCubeDef, name: "Secret" };
    await store.saveCube(secret, scaled(7), undefined, null, "globex");
  } finally {
    await store.close();
  }
}

/** The checks both setups share; returns acme's write's transaction id. */
async function tenantsApart(server: RunningServer): Promise<string> {
  const acme = apiClients(server.url, "ann", "acme").lattice;
  const globex = apiClients(server.url, "gus", "globex").lattice;
  const stranger = apiClients(server.url, "sam", "initech").lattice;

  // List: each tenant its own cubes; a tenant with none sees none.
  expect((await acme.listCubes({})).cubes.map((c) => c.name)).toEqual(["Demo"]);
  expect((await globex.listCubes({})).cubes.map((c) => c.name)).toEqual(["Demo", "Secret"]);
  expect((await stranger.listCubes({})).cubes).toEqual([]);

  // Read: the same name, each tenant's own data; another tenant's cube does not exist.
  expect((await acme.getCells({ cube: "Demo", cells: [{ members: NORTH }] })).cells[0].value).toBe(30);
  expect((await globex.getCells({ cube: "Demo", cells: [{ members: NORTH }] })).cells[0].value).toBe(3000);
  const hidden = await acme.getCells({ cube: "Secret", cells: [{ members: NORTH }] }).catch((e: unknown) => e);
  expect(hidden).toMatchObject({ code: Code.NotFound });
  expect((hidden as Error).message).toMatch(/cube "Secret" not found; cubes: Demo$/);
  await expect(stranger.getCells({ cube: "Demo", cells: [{ members: NORTH }] })).rejects.toMatchObject({ code: Code.NotFound });

  // Stream and write: globex watches its Demo; acme's write to its own Demo changes nothing there.
  const controller = new AbortController();
  const stream = globex.watchCells({ cube: "Demo", cells: [{ members: NORTH }, { members: OSLO_PLAN }] }, { signal: controller.signal })[Symbol.asyncIterator]();
  expect((await stream.next()).value.updates.map((u: { cell: { value?: number } }) => u.cell.value)).toEqual([3000, 1000]);
  const cur = await acme.getCells({ cube: "Demo", cells: [{ members: OSLO_PLAN }] });
  const w = await acme.writeCells({ cube: "Demo", writes: [{ members: OSLO_PLAN, value: 11, baseVersion: cur.cells[0].version }] });
  expect(w.results[0].status).toBe(WriteStatus.APPLIED);
  await expect(acme.writeCells({ cube: "Secret", writes: [{ members: OSLO_PLAN, value: 1, baseVersion: 0n }] })).rejects.toMatchObject({ code: Code.NotFound });
  await expect(acme.copyScenario({ cube: "Secret", from: "Actual", to: "Plan", factor: 2 })).rejects.toMatchObject({ code: Code.NotFound });
  const gcur = await globex.getCells({ cube: "Demo", cells: [{ members: OSLO_PLAN }] });
  expect(gcur.cells[0].value).toBe(1000);
  const gw = await globex.writeCells({ cube: "Demo", writes: [{ members: OSLO_PLAN, value: 1001, baseVersion: gcur.cells[0].version }] });
  expect(gw.results[0].status).toBe(WriteStatus.APPLIED);
  // The first push globex's stream gets is its own write: acme's was never pushed to it.
  const next = (await stream.next()).value as { updates: { index: number; cell: { value?: number } }[] };
  expect(next.updates.find((u) => u.index === 1)?.cell.value).toBe(1001);
  controller.abort();
  await stream.return?.();

  // History and comments: each tenant's own.
  expect((await acme.getCellHistory({ cube: "Demo", members: OSLO_PLAN })).records.map((r) => r.user)).toEqual(["ann"]);
  expect((await globex.getCellHistory({ cube: "Demo", members: OSLO_PLAN })).records.map((r) => r.user)).toEqual(["gus"]);
  const acmeNotes = apiClients(server.url, "ann", "acme").commentary;
  await acmeNotes.addComment({ cube: "Demo", members: OSLO_PLAN, text: "acme only" });
  expect((await apiClients(server.url, "gus", "globex").commentary.listComments({ cube: "Demo", members: OSLO_PLAN })).comments).toEqual([]);
  return w.transactionId;
}

describe("two tenants on one embedded backend", () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-tenants-"));
    await seed(dir);
    server = await startServer(testConfig({ QATOM_DATA_DIR: dir }), quietStart());
    await server.ready;
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each tenant's cubes its own: list, read, write, stream, history, comments", async () => {
    await tenantsApart(server);
  });
});

requireServices(["postgres", "redis", "kafka"])("two tenants on PostgreSQL, Kafka and Redis", () => {
  let dir: string;
  let server: RunningServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-tenants-pg-"));
    const db = await createTestDatabase("qatom_tenants");
    drop = db.drop;
    await seed(dir, db.url);
    const urls = serviceUrls();
    server = await startServer(
      testConfig({ QATOM_DATA_DIR: dir, DATABASE_URL: db.url, REDIS_URL: urls.redisUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(",") }),
      quietStart(),
    );
    await server.ready;
  });

  afterAll(async () => {
    await server?.close();
    await drop?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each tenant's cubes, Kafka message keys and Redis keys apart", async () => {
    const txId = await tenantsApart(server);

    // Redis: each tenant's hot tiles under its own prefix.
    const redis = new Redis(serviceUrls().redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      await apiClients(server.url, "ann", "acme").lattice.getCells({ cube: "Demo", cells: [{ members: NORTH }] });
      await apiClients(server.url, "gus", "globex").lattice.getCells({ cube: "Secret", cells: [{ members: NORTH }] });
      const acmeKeys = await redis.keys("qatom:acme:tile:*");
      const globexKeys = await redis.keys("qatom:globex:tile:*");
      expect(acmeKeys.length).toBeGreaterThan(0);
      expect(globexKeys.some((k) => k.startsWith("qatom:globex:tile:secret:"))).toBe(true);
      expect(acmeKeys.some((k) => k.includes("secret"))).toBe(false);
    } finally {
      redis.disconnect();
    }

    // Kafka: acme's write went out keyed by its tenant and cube.
    const kafka = new Kafka({ clientId: "tenants-test", brokers: serviceUrls().kafkaBrokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `tenants-test-${process.pid}-${Date.now().toString(36)}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.write, fromBeginning: true });
      const key = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("acme's write event did not arrive in 30 s")), 30_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              if (String(message.value).includes(txId)) {
                clearTimeout(timer);
                resolve(String(message.key));
              }
            },
          })
          .catch(reject);
      });
      expect(key).toBe("acme/Demo");
    } finally {
      await consumer.disconnect();
    }
  });
});
