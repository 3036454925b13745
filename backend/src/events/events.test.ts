/**
 * The outbox, the relay and the consumer, with the in-process bus and embedded PGlite: two Backends
 * ("instances" A and B) share one store and one bus, as two processes share PostgreSQL and Kafka.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Cube } from "../lattice";
import { Backend } from "../domain";
import { openStore, type SqlStore } from "../store";
import { createEvents, type Events, InProcessBus, parseWriteEvent, type ReceivedWriteEvent, TOPICS, type VerboseWriteEvent } from "./index";
import type { RelayOptions } from "./relay";
import type { BusMessage, EventBus } from "./types";

const log = pino({ level: "silent" });

/** A bus that can be taken down: publish rejects while `down`, like Kafka being away. */
class SwitchableBus implements EventBus {
  readonly kind = "in-process" as const;
  readonly ready = Promise.resolve();
  down = false;
  attempts = 0;
  constructor(private readonly inner: InProcessBus) {}
  async publish(messages: BusMessage[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error("bus down");
    await this.inner.publish(messages);
  }
  subscribe(topics: string[], handler: (m: BusMessage) => void | Promise<void>): Promise<void> {
    return this.inner.subscribe(topics, handler);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// Oslo, Widget, Web, Plan, Units: a leaf; and Bergen likewise.
const OSLO = ["[Region].[All Regions].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"];
const BERGEN = ["[Region].[All Regions].[North].[Bergen]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"];
const NORTH = ["[Region].[All Regions].[North]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"];

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("outbox, relay and consumer (in-process bus, PGlite)", () => {
  let dir: string;
  let store: SqlStore;
  let cubeId: number;

  async function instance(id: string, events?: Events): Promise<Backend> {
    const b = new Backend(store, { instanceId: id, publisher: events?.relay });
    const stored = await store.loadCube("Demo");
    b.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt });
    return b;
  }

  /** An instance with its eventing on `bus`, started: as server/main.ts composes them. */
  async function running(id: string, bus: EventBus, relay: Partial<RelayOptions>): Promise<[Backend, Events]> {
    const events = createEvents({ store, log, instanceId: id, bus, relay });
    const b = await instance(id, events);
    await events.start(b);
    return [b, events];
  }

  function leaf(b: Backend, members: string[]) {
    const { cube } = b.cube("Demo");
    return cube.leafState(cube.resolve(members) as Int32Array);
  }

  async function outboxRows(): Promise<{ topic: string; key: string; payload: string; relayed: boolean }[]> {
    return store.sql.query("SELECT topic, key, payload::text AS payload, relayed_at IS NOT NULL AS relayed FROM outbox ORDER BY id");
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-events-"));
    store = await openStore({ dataDir: dir });
    cubeId = await store.saveCube(smallCubeDef, smallCubeCells());
  });

  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await store.sql.exec("DELETE FROM outbox");
  });

  it("writes one row per topic in the commit's transaction, keyed by tenant and cube, and none for a conflict", async () => {
    const a = await instance("A");
    const base = leaf(a, OSLO).version;
    const { outcomes, txId } = await a.writeCells("Demo", [{ members: OSLO, value: 11, baseVersion: base }], "ann");
    expect(outcomes[0].status).toBe("APPLIED");
    const rows = await outboxRows();
    expect(rows.map((r) => r.topic).sort()).toEqual([TOPICS.calc, TOPICS.write, TOPICS.audit].sort());
    expect(rows.every((r) => r.key === "default/Demo" && !r.relayed)).toBe(true);
    const ev = parseWriteEvent(rows.find((r) => r.topic === TOPICS.write)!.payload);
    expect(ev).toMatchObject({ cube: "Demo", cubeId, loadedAt: a.cube("Demo").loadedAt, txId, instanceId: "A", user: "ann" });
    expect(ev.changes).toEqual([{ coords: [2, 1, 1, 1, 0], members: expect.any(Array), value: 11, version: expect.any(Number) }]);
    expect(ev.changes[0].version).toBe((outcomes[0] as { version: number }).version);
    const audit = JSON.parse(rows.find((r) => r.topic === TOPICS.audit)!.payload);
    expect(audit.records).toEqual([{ members: expect.any(Array), oldValue: 10, newValue: 11, version: ev.changes[0].version }]);

    // A stale base version: a conflict, nothing committed, no outbox row.
    const again = await a.writeCells("Demo", [{ members: OSLO, value: 12, baseVersion: base }], "bob");
    expect(again.outcomes[0].status).toBe("CONFLICT");
    expect(await outboxRows()).toHaveLength(3);
  });

  it("relays every row once and applies a write on A to B's lattice and B's watches, not to A twice", async () => {
    const bus = new InProcessBus();
    const [a, evA] = await running("A", bus, { idleMs: 20 });
    const [b, evB] = await running("B", bus, { idleMs: 20 });
    try {
      const seen: ReceivedWriteEvent[] = [];
      await bus.subscribe([TOPICS.write], (m) => {
        seen.push(parseWriteEvent(m.value));
      });
      const { cube: cubeB } = b.cube("Demo");
      const watched = [cubeB.resolve(NORTH) as Int32Array];
      const pushes: number[] = [];
      const watch = cubeB.watch(watched, () => pushes.push(cubeB.getCells(watched)[0].value ?? Number.NaN));
      const northBefore = cubeB.getCells(watched)[0].value!;

      const base = leaf(a, BERGEN).version;
      const res = await a.writeCells("Demo", [{ members: BERGEN, value: 25, baseVersion: base }], "ann");
      expect(res.outcomes[0].status).toBe("APPLIED");
      const version = (res.outcomes[0] as { version: number }).version;
      await waitFor(() => leaf(b, BERGEN).version === version);
      expect(leaf(b, BERGEN)).toEqual({ value: 25, version, writer: { user: "ann", at: expect.any(Number) } });
      expect(pushes).toEqual([northBefore - 20 + 25]);
      watch.close();

      await waitFor(async () => (await store.pendingOutboxCount()) === 0);
      // Each row went out once, whichever relay took it.
      expect(seen.filter((e) => e.txId === res.txId)).toHaveLength(1);
      expect(evA.relay.relayed + evB.relay.relayed).toBe(3);
      expect(evB.stats).toMatchObject({ events: 1, changesApplied: 1, changesSkipped: 0 });
      expect(evA.stats.events).toBe(0); // its own write: applied at commit
    } finally {
      await evA.close();
      await evB.close();
    }
  });

  it("applies a change only when newer than the lattice's: duplicates and late older events change nothing", async () => {
    const a = await instance("A");
    const b = await instance("B");
    const { cube } = b.cube("Demo");
    const coords = Array.from(cube.resolve(OSLO) as Int32Array);
    const v = leaf(b, OSLO).version;
    const ev = (version: number, value: number): VerboseWriteEvent => ({
      cube: "Demo",
      cubeId,
      loadedAt: b.cube("Demo").loadedAt,
      txId: `t${version}`,
      instanceId: "A",
      user: "ann",
      at: Date.now(),
      changes: [{ coords, members: OSLO, value, version }],
    });
    let pushes = 0;
    const watch = cube.watch([Int32Array.from(coords)], () => pushes++);
    expect(b.applyTransaction(ev(v + 1000, 1))).toBe(1);
    expect(b.applyTransaction(ev(v + 1000, 1))).toBe(0); // redelivered
    expect(b.applyTransaction(ev(v + 999, 2))).toBe(0); // older, late
    expect(leaf(b, OSLO)).toMatchObject({ value: 1, version: v + 1000 });
    expect(pushes).toBe(1);
    // Another generation of the cube (reloaded: a new id), an unknown cube, bad coordinates: ignored.
    expect(b.applyTransaction({ ...ev(v + 2000, 3), cubeId: cubeId + 1 })).toBe(0);
    expect(b.applyTransaction({ ...ev(v + 2000, 3), loadedAt: 1 })).toBe(0);
    expect(b.applyTransaction({ ...ev(v + 2000, 3), cube: "Nope" })).toBe(0);
    expect(b.applyTransaction({ ...ev(v + 2000, 3), changes: [{ coords: [99, 0, 0, 0, 0], value: 3, version: v + 2000 }] })).toBe(0);
    expect(b.applyTransaction({ ...ev(v + 2000, 3), changes: [{ coords: [1, 1, 1, 1, 0], value: 3, version: v + 2000 }] })).toBe(0);
    watch.close();
    expect(a.applyTransaction(ev(v + 1000, 1))).toBe(1);
  });

  it("acknowledges writes while the bus is down; the outbox drains and B catches up once it is back", async () => {
    const bus = new SwitchableBus(new InProcessBus());
    const [a, evA] = await running("A", bus, { idleMs: 20, maxBackoffMs: 50 });
    const [b, evB] = await running("B", bus, { idleMs: 20, maxBackoffMs: 50 });
    try {
      bus.down = true;
      let base = leaf(a, OSLO).version;
      const versions: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        const res = await a.writeCells("Demo", [{ members: OSLO, value: 100 + i, baseVersion: base }], "ann");
        expect(Date.now() - t0).toBeLessThan(1000);
        expect(res.outcomes[0].status).toBe("APPLIED");
        base = (res.outcomes[0] as { version: number }).version;
        versions.push(base);
      }
      await waitFor(() => bus.attempts >= 3);
      expect(await store.pendingOutboxCount()).toBe(15);
      expect(leaf(b, OSLO).version).toBeLessThan(base);
      expect((await store.readCells(cubeId, [[2, 1, 1, 1, 0]]))[0]).toMatchObject({ value: 104, version: base });

      bus.down = false;
      await waitFor(async () => (await store.pendingOutboxCount()) === 0);
      await waitFor(() => leaf(b, OSLO).version === base);
      expect(leaf(b, OSLO).value).toBe(104);
      expect(evB.stats.changesApplied).toBe(5);
    } finally {
      await evA.close();
      await evB.close();
    }
  });

  it("claims rows once under a lease; an expired lease (a dead relay) lets another relay take them", async () => {
    const a = await instance("A");
    await a.writeCells("Demo", [{ members: BERGEN, value: 1, baseVersion: leaf(a, BERGEN).version }], "ann");
    const first = await store.claimOutbox("r1", 10, 60_000);
    expect(first).toHaveLength(3);
    expect(await store.claimOutbox("r2", 10, 60_000)).toHaveLength(0);
    await store.sql.exec("UPDATE outbox SET claimed_until = now() - interval '1 second'");
    const second = await store.claimOutbox("r2", 10, 60_000);
    expect(second.map((r) => r.id)).toEqual(first.map((r) => r.id));
    await store.releaseOutbox(second.map((r) => r.id));
    const third = await store.claimOutbox("r3", 2, 60_000);
    expect(third.map((r) => r.id)).toEqual(first.slice(0, 2).map((r) => r.id));
    await store.markOutboxRelayed(first.map((r) => r.id));
    expect(await store.claimOutbox("r4", 10, 0)).toHaveLength(0);
    expect(await store.pendingOutboxCount()).toBe(0);
    expect(await store.pruneOutbox(60_000)).toBe(0);
    await store.sql.exec("UPDATE outbox SET relayed_at = now() - interval '2 minutes'");
    expect(await store.pruneOutbox(60_000)).toBe(3);
  });

  it("a write on B based on a version B has not seen yet (A's event still on its way) is checked against the store", async () => {
    const a = await instance("A");
    const b = await instance("B");
    const r1 = await a.writeCells("Demo", [{ members: OSLO, value: 7, baseVersion: leaf(a, OSLO).version }], "ann");
    const v1 = (r1.outcomes[0] as { version: number }).version;
    expect(leaf(b, OSLO).version).toBeLessThan(v1); // no relay running: B is behind
    const r2 = await b.writeCells("Demo", [{ members: OSLO, value: 8, baseVersion: v1 }], "bob");
    expect(r2.outcomes[0]).toMatchObject({ status: "APPLIED", value: 8 });
    // A stale base on B: a conflict that reports the stored state, and B catches up on it.
    const r3 = await b.writeCells("Demo", [{ members: BERGEN, value: 9, baseVersion: leaf(b, BERGEN).version }], "bob");
    const vB = (r3.outcomes[0] as { version: number }).version;
    const r4 = await a.writeCells("Demo", [{ members: BERGEN, value: 10, baseVersion: leaf(a, BERGEN).version }], "ann");
    expect(r4.outcomes[0]).toMatchObject({ status: "CONFLICT", version: vB, value: 9, updatedBy: "bob" });
    expect(leaf(a, BERGEN)).toMatchObject({ value: 9, version: vB });
  });
});

describe("eventing on its own in-process bus (a single instance)", () => {
  it("relays and marks rows without a consumer", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-events1-"));
    const store = await openStore({ dataDir: dir });
    let events: Events | undefined;
    try {
      await store.saveCube(smallCubeDef, smallCubeCells());
      events = createEvents({ store, log, instanceId: "solo", relay: { idleMs: 20 } });
      const b = new Backend(store, { instanceId: "solo", publisher: events.relay });
      const stored = await store.loadCube("Demo");
      b.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt });
      await events.start(b);
      expect(events.bus.kind).toBe("in-process");
      await b.writeCells("Demo", [{ members: OSLO, value: 3, baseVersion: 0 }], "ann");
      await waitFor(async () => (await store.pendingOutboxCount()) === 0);
      expect(events.relay.relayed).toBe(3);
    } finally {
      await events?.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
