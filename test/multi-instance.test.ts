/**
 * Several backend instances on one PostgreSQL database and one Kafka (`scripts/services.sh up`):
 * a write through one instance reaches another's WatchCells stream; 20 clients writing overlapping
 * cells lose no update; a sandbox served by either instance; Kafka stopped during writes; kill -9 of an instance during a burst.
 *
 * Needs DATABASE_URL (or TEST_DATABASE_URL) and KAFKA_BROKERS; outside CI the suite is skipped
 * with the reason printed when they are unset, in CI (CI=true) a missing server fails it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import pg from "pg";
import { type WatchCellsResponse, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { readConfig } from "../backend/src/config";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { apiClients } from "./helpers/clients";
import { createTestDatabase } from "./helpers/pg";
import { kafkaStart, kafkaStop, requireServices, serviceUrls } from "./helpers/services";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const describeServices = requireServices(["postgres", "kafka"]);
const ROOT = path.resolve(__dirname, "..");
const LEASE_MS = "2000";

// Leaf cells of the Plan scenario (two hold loaded facts, two start empty).
const UNITS = "[Measures].[Units]";
const PLAN = "[Scenario].[Plan]";
const CELLS = [
  [UNITS, PLAN, "[Region].[All Regions].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]"],
  [UNITS, PLAN, "[Region].[All Regions].[North].[Bergen]", "[Product].[Widget]", "[Channel].[Web]"],
  [UNITS, PLAN, "[Region].[All Regions].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Web]"],
  [UNITS, PLAN, "[Region].[All Regions].[South].[Rome]", "[Product].[Widget]", "[Channel].[Web]"],
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

/** Every push of a WatchCells stream on CELLS: per cell index, the (version, value) sequence. */
interface Watcher {
  pushes: { version: number; value: number | null; at: number }[][];
  latest(i: number): { version: number; value: number | null } | undefined;
  close(): Promise<void>;
}

async function watch(url: string): Promise<Watcher> {
  const { lattice } = apiClients(url, "watcher");
  const controller = new AbortController();
  const pushes: Watcher["pushes"] = CELLS.map(() => []);
  const stream = lattice.watchCells({ cube: "Demo", cells: CELLS.map((members) => ({ members })) }, { signal: controller.signal });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  for (const u of first.value.updates) pushes[u.index].push({ version: Number(u.cell!.version), value: u.cell!.value ?? null, at: Date.now() });
  const loop = (async () => {
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        const at = Date.now();
        for (const u of next.value.updates) pushes[u.index].push({ version: Number(u.cell!.version), value: u.cell!.value ?? null, at });
      }
    } catch {
      // aborted
    }
  })();
  return {
    pushes,
    latest: (i) => pushes[i].at(-1),
    close: async () => {
      controller.abort();
      await it.return?.().catch(() => undefined);
      await Promise.race([loop, sleep(1000)]);
    },
  };
}

describeServices("several instances on one PostgreSQL and Kafka", () => {
  const quiet = pino({ level: process.env.LOG_LEVEL ?? "silent" });
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let dataDir: string;
  let a: RunningServer;
  let b: RunningServer;
  let db: pg.Client;
  const figures: string[] = [];

  function env(instanceId: string): NodeJS.ProcessEnv {
    return {
      PORT: "0",
      QATOM_HTTP: "1",
      QATOM_HOST: "127.0.0.1",
      QATOM_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      QATOM_MODEL: "/nonexistent",
      KAFKA_BROKERS: serviceUrls().kafkaBrokers.join(","),
      QATOM_INSTANCE_ID: instanceId,
      QATOM_OUTBOX_LEASE_MS: LEASE_MS,
      // No GPU, as testConfig (helpers/server.ts): two instances in one process each probing Dawn on
      // Mesa's software adapter crashed the test process now and then when their GPU threads ended
      // (SIGSEGV in a thread-exit destructor of an unloaded GL library, seen under gdb).
      QATOM_GPU: "off",
    };
  }

  async function start(instanceId: string): Promise<RunningServer> {
    const s = await startServer(readConfig(env(instanceId)), { banner: false, progress: false, log: quiet });
    await s.ready;
    await s.events!.ready; // the Kafka consumer joined its group
    return s;
  }

  /** The stored (value, version) of CELLS[i]. */
  async function stored(i: number): Promise<{ value: number | null; version: number }> {
    const { cube } = a.backend.cube("Demo");
    const coords = Array.from(cube.resolve(CELLS[i]) as Int32Array);
    const [st] = await a.backend.store.readCells(a.backend.cube("Demo").id, [coords]);
    return { value: st.value, version: st.version };
  }

  function lattice(s: RunningServer, i: number): { value: number | null; version: number } {
    const { cube } = s.backend.cube("Demo");
    const st = cube.leafState(cube.resolve(CELLS[i]) as Int32Array);
    return { value: st.value, version: st.version };
  }

  async function pendingOutbox(): Promise<number> {
    const r = await db.query("SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL");
    return r.rows[0].n;
  }

  beforeAll(async () => {
    ({ url: databaseUrl, drop } = await createTestDatabase("qatom_multi"));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-multi-"));
    const store = await openStore({ dataDir, databaseUrl });
    await store.saveCube(smallCubeDef, smallCubeCells());
    await store.close();
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    a = await start(`a-${process.pid}-${Date.now()}`);
    b = await start(`b-${process.pid}-${Date.now()}`);
  }, 90_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.end();
    await drop?.();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (figures.length) console.log(`[multi-instance]\n  ${figures.join("\n  ")}`);
  }, 60_000);

  it("a write through A reaches a WatchCells stream on B (latency measured)", async () => {
    const w = await watch(b.url);
    try {
      const { lattice: api } = apiClients(a.url, "ann");
      const latencies: number[] = [];
      for (let k = 0; k < 30; k++) {
        const cur = await api.getCells({ cube: "Demo", cells: [{ members: CELLS[0] }] });
        const t0 = Date.now();
        const res = await api.writeCells({ cube: "Demo", writes: [{ members: CELLS[0], value: 1000 + k, baseVersion: cur.cells[0].version }] });
        expect(res.results[0].status).toBe(WriteStatus.APPLIED);
        const version = Number(res.results[0].version);
        await waitFor("B's stream", () => (w.latest(0)?.version ?? 0) >= version, 10_000);
        const push = w.pushes[0].find((p) => p.version === version)!;
        expect(push.value).toBe(1000 + k);
        latencies.push(push.at - t0);
      }
      latencies.sort((x, y) => x - y);
      figures.push(
        `write on A -> WatchCells push on B (30 writes, ms from sending WriteCells): median ${pct(latencies, 0.5)}, p95 ${pct(latencies, 0.95)}, max ${latencies.at(-1)}`,
      );
    } finally {
      await w.close();
    }
  });

  it("an undo through B of a transaction committed on A restores the cells on both; a later write on A B has not heard of is still a conflict", async () => {
    const ann = apiClients(a.url, "ann").lattice;
    const onB = apiClients(b.url, "ann").lattice;
    const cells = [CELLS[2], CELLS[3]];
    const before = (await ann.getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) })).cells;
    const w = await ann.writeCells({ cube: "Demo", writes: cells.map((members, k) => ({ members, value: 500 + k, baseVersion: before[k].version })) });
    expect(w.results.map((r) => r.status)).toEqual([WriteStatus.APPLIED, WriteStatus.APPLIED]);
    // At once through B, which may not have applied the write yet: it reads what it lacks from the store.
    const undo = await onB.undoTransaction({ cube: "Demo", transactionId: w.transactionId });
    expect(undo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: 2n });
    await waitFor("A to apply the undo", () => lattice(a, 2).version === Number(undo.version) || lattice(a, 3).version === Number(undo.version));
    for (const s of [a, b]) for (const [k, i] of [2, 3].entries()) expect(lattice(s, i).value).toBe(before[k].value ?? null);

    // Ann writes again, Bob overwrites one cell through A, and Ann's undo goes to B at once.
    const again = await ann.writeCells({ cube: "Demo", writes: [{ members: CELLS[2], value: 600, baseVersion: BigInt((await stored(2)).version) }] });
    const bob = await apiClients(a.url, "bob").lattice.writeCells({ cube: "Demo", writes: [{ members: CELLS[2], value: 700, baseVersion: again.results[0].version }] });
    expect(bob.results[0].status).toBe(WriteStatus.APPLIED);
    const refused = await onB.undoTransaction({ cube: "Demo", transactionId: again.transactionId });
    expect(refused).toMatchObject({ status: WriteStatus.CONFLICT, conflictCount: 1n });
    expect(refused.conflicts[0]).toMatchObject({ currentValue: 700, updatedBy: "bob" });
    // What the undo would have restored: the value before Ann's second write.
    expect(refused.conflicts[0].undoValue).toBe(before[0].value);
    expect((await stored(2)).value).toBe(700);
  });

  it("a sandbox made through A is served by B: its writes through A reach a stream through it on B, and its commit through B reaches A", async () => {
    const onA = apiClients(a.url, "ann");
    const onB = apiClients(b.url, "ann");
    const { sandbox } = await onA.sandbox.createSandbox({ cube: "Demo", name: "Across instances" });
    const id = sandbox!.id;
    const [c0] = (await onA.lattice.getCells({ cube: "Demo", cells: [{ members: CELLS[0] }], sandbox: id })).cells;
    const first = await onA.lattice.writeCells({ cube: "Demo", writes: [{ members: CELLS[0], value: 4242, baseVersion: c0.version }], sandbox: id });
    expect(first.results[0].status).toBe(WriteStatus.APPLIED);
    // B reads it from the store on first use.
    expect((await onB.lattice.getCells({ cube: "Demo", cells: [{ members: CELLS[0] }], sandbox: id })).cells[0].value).toBe(4242);

    const controller = new AbortController();
    const it = onB.lattice.watchCells({ cube: "Demo", cells: [{ members: CELLS[0] }, { members: CELLS[1] }], sandbox: id }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      const seen = ((await it.next()).value as WatchCellsResponse).updates.map((u) => u.cell?.value);
      expect(seen[0]).toBe(4242);
      const [c1] = (await onA.lattice.getCells({ cube: "Demo", cells: [{ members: CELLS[1] }], sandbox: id })).cells;
      await onA.lattice.writeCells({ cube: "Demo", writes: [{ members: CELLS[1], value: 4343, baseVersion: c1.version }], sandbox: id });
      while (seen[1] !== 4343) for (const u of ((await it.next()).value as WatchCellsResponse).updates) seen[u.index] = u.cell?.value;
      // The base never saw the sandbox's values.
      expect(lattice(a, 1).value).not.toBe(4343);
    } finally {
      controller.abort();
      await it.return?.();
    }
    const done = await onB.sandbox.commitSandbox({ cube: "Demo", sandbox: id });
    expect(done).toMatchObject({ status: WriteStatus.APPLIED, leavesCommitted: 2n });
    await waitFor("A to apply the sandbox's commit", () => lattice(a, 0).value === 4242 && lattice(a, 1).value === 4343);
    expect((await stored(1)).value).toBe(4343);
    // Committed through B: A refuses another write in it.
    const [after] = (await onA.lattice.getCells({ cube: "Demo", cells: [{ members: CELLS[0] }], sandbox: id })).cells;
    await expect(onA.lattice.writeCells({ cube: "Demo", writes: [{ members: CELLS[0], value: 1, baseVersion: after.version }], sandbox: id })).rejects.toThrow(/committed/);
  });

  it("20 clients writing overlapping cells through A and B lose no update (equal to a serial replay)", async () => {
    const initial = await Promise.all(CELLS.map((_, i) => stored(i)));
    type Applied = { cell: number; base: number; version: number; value: number };
    const applied: Applied[] = [];
    let conflicts = 0;
    let total = 0;
    const clients = Array.from({ length: 20 }, (_, c) => apiClients(c % 2 === 0 ? a.url : b.url, `user${c}`).lattice);
    await Promise.all(
      clients.map(async (api, c) => {
        for (let k = 0; k < 10; k++) {
          const cell = (c + k) % CELLS.length;
          const cur = await api.getCells({ cube: "Demo", cells: [{ members: CELLS[cell] }] });
          const base = Number(cur.cells[0].version);
          const value = c * 1000 + k;
          const res = await api.writeCells({ cube: "Demo", writes: [{ members: CELLS[cell], value, baseVersion: BigInt(base) }] });
          total++;
          const r = res.results[0];
          if (r.status === WriteStatus.APPLIED) applied.push({ cell, base, version: Number(r.version), value });
          else {
            expect(r.status).toBe(WriteStatus.CONFLICT);
            conflicts++;
          }
        }
      }),
    );
    expect(applied.length + conflicts).toBe(200);
    expect(new Set(applied.map((x) => x.version)).size).toBe(applied.length);
    for (let i = 0; i < CELLS.length; i++) {
      // Serial replay: the applied writes of a cell, by version, each based on the one before.
      const chain = applied.filter((x) => x.cell === i).sort((x, y) => x.version - y.version);
      let version = initial[i].version;
      let value = initial[i].value;
      for (const x of chain) {
        expect(x.base).toBe(version);
        version = x.version;
        value = x.value;
      }
      expect(await stored(i)).toEqual({ value, version });
      await waitFor("both lattices to converge", () => lattice(a, i).version === version && lattice(b, i).version === version, 15_000);
      expect(lattice(a, i).value).toBe(value);
      expect(lattice(b, i).value).toBe(value);
    }
    figures.push(`20 clients x 10 writes on ${CELLS.length} cells through A and B: ${applied.length} applied, ${conflicts} conflicts, of ${total}`);
  });

  it("Kafka stopped during writes: writes are acknowledged and durable; once it is back the outbox drains and B catches up", async () => {
    const w = await watch(b.url);
    try {
      const { lattice: api } = apiClients(a.url, "ann");
      const t0 = Date.now();
      await kafkaStop();
      figures.push(`kafka-stop took ${Date.now() - t0} ms`);
      const acked: { cell: number; value: number; version: number; ms: number }[] = [];
      for (let k = 0; k < 12; k++) {
        const cell = k % CELLS.length;
        const cur = await api.getCells({ cube: "Demo", cells: [{ members: CELLS[cell] }] });
        const t = Date.now();
        const res = await api.writeCells({ cube: "Demo", writes: [{ members: CELLS[cell], value: 5000 + k, baseVersion: cur.cells[0].version }] });
        expect(res.results[0].status).toBe(WriteStatus.APPLIED);
        acked.push({ cell, value: 5000 + k, version: Number(res.results[0].version), ms: Date.now() - t });
      }
      const slowest = Math.max(...acked.map((x) => x.ms));
      expect(slowest).toBeLessThan(2000);
      for (const x of acked) {
        const r = await db.query("SELECT new_value, version::text AS version FROM audit_log WHERE version = $1", [x.version]);
        expect(r.rows).toEqual([{ new_value: x.value, version: String(x.version) }]);
      }
      expect(await pendingOutbox()).toBeGreaterThanOrEqual(12 * 3);
      const last = CELLS.map((_, i) => acked.filter((x) => x.cell === i).at(-1)!);
      expect(last.every((x, i) => lattice(b, i).version < x.version)).toBe(true);

      const t1 = Date.now();
      await kafkaStart();
      const started = Date.now();
      await waitFor("the outbox to drain", async () => (await pendingOutbox()) === 0, 90_000);
      const drained = Date.now() - started;
      await waitFor("B's stream to catch up", () => last.every((x, i) => w.latest(i)?.version === x.version), 90_000);
      last.forEach((x, i) => {
        expect(w.latest(i)?.value).toBe(x.value);
      });
      figures.push(
        `Kafka down: 12 writes acknowledged (slowest ${slowest} ms); kafka-start took ${started - t1} ms; outbox drained ${drained} ms and B's streams caught up ${Date.now() - started} ms after Kafka answered`,
      );
    } finally {
      await w.close();
    }
  }, 240_000);

  it("kill -9 of an instance during a burst: every acknowledged write is stored, reaches B's streams, none applied twice", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, "bin/quantatom.cjs"), "serve"], {
      cwd: ROOT,
      env: { ...process.env, ...env(`c-${process.pid}-${Date.now()}`), PORT: String(port), LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const w = await watch(b.url);
    try {
      await waitFor(
        "the spawned instance's /healthz",
        async () => {
          if (child.exitCode !== null) throw new Error(`the instance exited: ${stderr}`);
          return (await fetch(`${url}/healthz`).catch(() => null))?.status === 200;
        },
        60_000,
      );
      const acked: { cell: number; value: number; version: number }[] = [];
      let stop = false;
      const burst = Array.from({ length: 8 }, async (_, c) => {
        const api = apiClients(url, `burst${c}`).lattice;
        for (let k = 0; !stop; k++) {
          const cell = (c + k) % CELLS.length;
          const value = 90_000 + c * 1000 + k;
          try {
            const cur = await api.getCells({ cube: "Demo", cells: [{ members: CELLS[cell] }] });
            const res = await api.writeCells({ cube: "Demo", writes: [{ members: CELLS[cell], value, baseVersion: cur.cells[0].version }] });
            if (res.results[0].status === WriteStatus.APPLIED) acked.push({ cell, value, version: Number(res.results[0].version) });
          } catch {
            return; // the instance is gone
          }
        }
      });
      await waitFor("a burst of acknowledged writes", () => acked.length >= 100, 30_000);
      child.kill("SIGKILL");
      await exited;
      stop = true;
      await Promise.all(burst);
      const n = acked.length;

      // Every acknowledged write is in PostgreSQL.
      const versions = acked.map((x) => x.version);
      const r = await db.query("SELECT version::text AS v, new_value FROM audit_log WHERE version = ANY($1::bigint[])", [versions]);
      expect(r.rows.length).toBe(n);
      const byVersion = new Map(r.rows.map((row) => [Number(row.v), row.new_value]));
      for (const x of acked) expect(byVersion.get(x.version)).toBe(x.value);

      // The dead instance's outbox rows are relayed by A and B once its claims expire; B catches up.
      await waitFor("the outbox to drain", async () => (await pendingOutbox()) === 0, 60_000);
      const finals = await Promise.all(CELLS.map((_, i) => stored(i)));
      await waitFor("B's stream to reach the stored state", () => finals.every((f, i) => w.latest(i)?.version === f.version), 30_000);
      finals.forEach((f, i) => {
        expect(w.latest(i)?.value).toBe(f.value);
      });
      for (let i = 0; i < CELLS.length; i++) {
        // Every acknowledged write reached B: its version is at most the one B's stream shows.
        const mine = acked.filter((x) => x.cell === i);
        if (mine.length) expect(w.latest(i)!.version).toBeGreaterThanOrEqual(Math.max(...mine.map((x) => x.version)));
        // None applied twice (nor an older one after a newer): versions pushed strictly increase.
        const seq = w.pushes[i].map((p) => p.version);
        for (let k = 1; k < seq.length; k++) expect(seq[k]).toBeGreaterThan(seq[k - 1]);
      }
      figures.push(`kill -9 during a burst: ${n} writes acknowledged before the kill, all stored, all reached B's streams`);
    } finally {
      await w.close();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 180_000);
});
