import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import pino, { type Logger } from "pino";
import { openTileCache } from "../cache";
import type { Config } from "../config";
import { GpuExecutor } from "../compute/gpu/executor";
import { ThreadPoolExecutor } from "../compute/thread-pool";
import { createAuth } from "../auth";
import { Backend, tenantOf } from "../domain";
import { createEvents, type Events } from "../events";
import { Cube } from "../lattice";
import { loadModelIntoStore } from "../loader";
import { openStore } from "../store";
import { matchesStore, readSnapshot, type Snapshot, snapshotPath, writeSnapshot } from "../store/snapshot";
import type { Store, StoredCube } from "../store/types";
import { createApp } from "./app";
import { ensureDevCerts } from "./certs";
import { type ConnectionCounts, ConnectionTracker, secureServerFactory, serverTimeouts } from "./listener";

/** A running backend server. */
export interface RunningServer {
  /** Base URL, e.g. `https://localhost:3000`. */
  url: string;
  port: number;
  backend: Backend;
  /** Resolves when every cube is loaded and served; rejects if start-up failed. */
  ready: Promise<void>;
  /** Eventing: the outbox relay, and the Kafka consumer with KAFKA_BROKERS (started once `ready` resolves). */
  events: Events;
  /**
   * The connections the server accepted (and how many spoke HTTP/2): for diagnostics, and for
   * tests that check a browser's requests share one connection (test/connections.test.ts).
   */
  connections(): ConnectionCounts;
  /** Where each cube (`tenant/name`) was read from at start, once `ready`: its snapshot or the store. */
  loadedFrom(): Readonly<Record<string, "snapshot" | "store">>;
  /**
   * Stops accepting requests, ends open streams, stops eventing, writes the cubes' snapshots
   * (`Config.snapshots`) and closes the store.
   */
  close(): Promise<void>;
}

/** Options beyond the configuration, mostly for tests. */
export interface StartOptions {
  log?: Logger;
  /** Print the banner (URL and example formulas) once ready. Default true. */
  banner?: boolean;
  /** Show load progress on stderr when the model is loaded on first start. Default true. */
  progress?: boolean;
}

/**
 * Starts the backend: opens the store (PGlite in `config.dataDir`, or `config.databaseUrl`), starts
 * serving at once (`/healthz` answers 503 "starting"), loads `config.model` into the store on first
 * start, rebuilds every stored cube's lattice, and then answers 200 on `/healthz`.
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: process.env.LOG_LEVEL ?? "info" });
  // The composition root: every part is made here and handed to what uses it.
  // Sign-in: the organisation's OpenID issuer, or the development issuer (localhost only).
  const auth = await createAuth(config.auth, config.host, config.dataDir);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const instanceId = config.instanceId ?? randomUUID();
  // Hot tiles for GetCells: Redis when REDIS_URL is set (an outage is logged once, reads computed), else in process.
  const cache = openTileCache({ redisUrl: config.redisUrl, log });
  // The bus (Kafka with KAFKA_BROKERS, else in process) and the outbox relay, the backend's publisher.
  const events = createEvents({ store, log, instanceId, kafkaBrokers: config.kafkaBrokers, relay: { leaseMs: config.outboxLeaseMs } });
  // The engine's executor: large scans split over QATOM_CALC_WORKERS threads (helpers started on
  // first use), and the batch scans on a GPU per QATOM_GPU (probed in the background; with `on`,
  // the start waits for it and fails without one).
  const pool = new ThreadPoolExecutor({ helpers: config.calcWorkers - 1 });
  const executor = new GpuExecutor({ mode: config.gpu, fallback: pool, minRows: config.gpuMinRows });
  const gpuSettled = executor.start();
  if (config.gpu === "on") {
    try {
      await gpuSettled;
    } catch (err) {
      await executor.close();
      await pool.close();
      throw err;
    }
  }
  gpuSettled.then(
    () => log.info({ gpu: config.gpu, state: executor.state, adapter: executor.adapterDescription || undefined, reason: executor.reason || undefined }, "calc executor"),
    () => undefined,
  );
  const backend = new Backend(store, {
    instanceId,
    spreadMaxNewCells: config.spreadMaxNewCells,
    publisher: events.relay,
    cache,
    maxStreamsPerUser: config.maxStreamsPerUser,
    serverAdmins: config.admins,
  });
  let ready = false;
  let failure: string | null = null;
  const app = createApp({
    backend,
    ready: () => ready,
    failure: () => failure,
    log,
    addinDir: config.addinDir,
    auth,
    maxBodyBytes: config.maxBodyBytes,
    // Development sign-in offers the users the cubes' security sections declare (and QATOM_ADMINS).
    users: () => backend.knownUsers(),
    calc: () =>
      backend.listCubes().map((s) => ({ cube: s.cube.name, ...executor.describe(s.cube.store.count) })),
  });

  // HTTPS with HTTP/2 (HTTP/1.1 for clients without it), or plain HTTP/1.1 with QATOM_HTTP; the
  // timeouts of both protocols and why HTTP/2 are in listener.ts.
  let server: ServerType;
  const protocol = config.http ? "http" : "https";
  if (config.http) {
    server = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: serverTimeouts(config) });
  } else {
    const certs = await ensureDevCerts(config.certsDir);
    server = serve({
      fetch: app.fetch,
      port: config.port,
      hostname: config.host,
      createServer: secureServerFactory(config),
      // A TLS connection that never completes its handshake is closed after the headers timeout too.
      serverOptions: { handshakeTimeout: config.headersTimeoutMs, key: fs.readFileSync(certs.key), cert: fs.readFileSync(certs.cert) },
    });
  }
  const tracker = new ConnectionTracker(server);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${protocol}://${config.host}:${port}`;
  auth.setServerUrl(url);
  log.info({ url }, "listening; loading cubes");

  let closing = false;
  const running = {} as RunningServer;
  let loadedFrom: Record<string, "snapshot" | "store"> = {};
  const readyPromise = loadCubes(store, backend, executor, config, log, opts.progress ?? true).then(
    async (from) => {
      loadedFrom = from;
      // After the lattices are built: the consumer replays what it must, skipping what they hold.
      if (!closing) {
        await events.start(backend);
        log.info({ bus: events.bus.kind, instanceId }, "eventing started");
      }
      ready = true;
      if (opts.banner ?? true) printBanner(url, backend);
    },
    (err: unknown) => {
      failure = err instanceof Error ? err.message : String(err);
      log.error({ err }, "start-up failed");
      throw err;
    },
  );
  readyPromise.catch(() => undefined);

  return Object.assign(running, {
    url,
    port,
    backend,
    events,
    ready: readyPromise,
    connections: () => tracker.counts(),
    loadedFrom: () => loadedFrom,
    close: async () => {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open streams (WatchCells) and HTTP/2 sessions would keep close() waiting: end them.
        tracker.destroyAll();
      });
      await readyPromise.catch(() => undefined);
      await events.close();
      // Every commit is applied by now (requests ended, eventing stopped): the lattices as they are.
      if (ready && config.snapshots) await saveSnapshots(backend, store, snapshotDir(config), log);
      await cache.close();
      await executor.close();
      await pool.close();
      await store.close();
    },
  });
}

async function loadCubes(
  store: Store,
  backend: Backend,
  executor: GpuExecutor,
  config: Config,
  log: Logger,
  progress: boolean,
): Promise<Record<string, "snapshot" | "store">> {
  let cubes = await store.listCubes();
  if (cubes.length === 0) {
    log.info({ model: config.model }, "first start: loading the model into the store");
    const t0 = Date.now();
    await loadModelIntoStore(store, config.model, progress ? undefined : () => {});
    log.info({ seconds: (Date.now() - t0) / 1000 }, "model loaded");
    cubes = await store.listCubes();
  }
  const from: Record<string, "snapshot" | "store"> = {};
  for (const c of cubes) {
    const t0 = Date.now();
    const snapshot = config.snapshots ? await fromSnapshot(store, snapshotDir(config), c, log) : null;
    const stored = snapshot ?? (await store.loadCube(c.name, undefined, c.tenant));
    const cube = new Cube(stored.def, stored.cells, stored.writers, { executor });
    backend.addCube({ id: stored.id, cube, loadedAt: stored.loadedAt, tenant: stored.tenant, security: stored.security });
    const calc = executor.describe(stored.cells.count);
    from[`${c.tenant}/${c.name}`] = snapshot ? "snapshot" : "store";
    log.info({ cube: c.name, tenant: c.tenant, leafRows: stored.cells.count, from: from[`${c.tenant}/${c.name}`], seconds: (Date.now() - t0) / 1000, executor: calc.executor, why: calc.reason }, "cube ready");
  }
  return from;
}

/** Where the cube snapshots are kept: `<dataDir>/snapshots`. */
const snapshotDir = (config: Config) => path.join(config.dataDir, "snapshots");

/**
 * A stored cube from its snapshot (../store/snapshot.ts) when there is one that still matches the
 * store (same cube id and `loaded_at`, same fingerprint of the cells); null otherwise, and when the
 * file cannot be read (logged: the cube is then loaded from the store).
 */
async function fromSnapshot(store: Store, dir: string, c: { id: number; name: string; tenant: string }, log: Logger): Promise<StoredCube | null> {
  const file = snapshotPath(dir, c.tenant, c.id);
  if (!fs.existsSync(file)) return null;
  // The store computes its fingerprint (one scan of the cube's rows) while the file is read.
  const pending = store.cubeState(c.name, c.tenant);
  pending.catch(() => undefined);
  let snap: Snapshot | null;
  try {
    snap = readSnapshot(file);
  } catch (err) {
    log.warn({ cube: c.name, tenant: c.tenant, file, err: err instanceof Error ? err.message : String(err) }, "cube snapshot unreadable: loading from the store");
    return null;
  }
  if (!snap) return null;
  const state = await pending;
  if (!matchesStore(snap.header, state)) {
    log.info({ cube: c.name, tenant: c.tenant }, "cube snapshot behind the store: loading from the store");
    return null;
  }
  const { fingerprint: _f, source: _s, ...rest } = state;
  return { ...rest, cells: snap.cells, writers: snap.writers };
}

/** Writes every served cube's snapshot (when the server stops); a failure is logged, never thrown. */
async function saveSnapshots(backend: Backend, store: Store, dir: string, log: Logger): Promise<void> {
  for (const s of backend.listCubes()) {
    const { store: leaves, writers } = s.cube;
    const w = writers.columns(leaves.count);
    const tenant = tenantOf(s);
    const file = snapshotPath(dir, tenant, s.id);
    try {
      const source = await store.cubeSource(s.id);
      if (!source) continue;
      await writeSnapshot(file, {
        source,
        cubeId: s.id,
        name: s.cube.name,
        tenant,
        loadedAt: s.loadedAt,
        count: leaves.count,
        cols: leaves.cols,
        values: leaves.values,
        versions: leaves.versions,
        writerIds: w.ids,
        writers: w.table,
      });
    } catch (err) {
      log.warn({ cube: s.cube.name, tenant, file, err: err instanceof Error ? err.message : String(err) }, "cube snapshot not written");
    }
  }
}

function printBanner(url: string, backend: Backend): void {
  const cube = backend.listCubes()[0]?.cube.name ?? "Sales";
  const lines = [
    "",
    `QuantatomAI is serving at ${url}`,
    `  health:   ${url}/healthz`,
    `  API:      POST ${url}/quantatom.v1.LatticeService/GetCells`,
    `  manifest: ${url}/manifest.xml`,
    "",
    "Example formulas (Excel, with the add-in loaded):",
    `  =QATOM.CELL("${cube}", "[Measures].[Unit Sales]", "[Store].[USA].[CA]")`,
    `  =QATOM.CELL("${cube}", "[Measures].[Store Sales]", "[Product].[Drink].[Beverages]", "[Time].[1997].[Q1]")`,
    `  =QATOM.CELL("${cube}", "[Measures].[Unit Sales]", "[Customers].[USA].[WA].[Seattle]", "[Scenario].[Plan]")`,
    "",
  ];
  console.log(lines.join("\n"));
}
