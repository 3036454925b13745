/**
 * A transaction larger than COMPACT_CHUNK goes out in the compact form in several messages per
 * topic; another instance applies it whole, in one call, so that its lattice and its watchers never
 * see half of a scenario copy. Two Backends ("instances" A and B) on one embedded store (PGlite)
 * and one in-process bus.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { Backend } from "../domain";
import { Cube } from "../lattice";
import type { CubeDef, LeafCells } from "../lattice";
import { openStore, type SqlStore } from "../store";
import { COMPACT_CHUNK, type CommittedTransaction, createEvents, type Events, InProcessBus, parseWriteEvent, TOPICS } from "./index";

const log = pino({ level: "silent" });
const ITEMS = COMPACT_CHUNK + 500;

/** Item (All Items > I0 … I{ITEMS-1}) × Scenario (Actual, Plan) × Measures (Units); Actual Ii = i + 1, Plan empty. */
function bigCube(): { def: CubeDef; cells: LeafCells } {
  const def: CubeDef = {
    name: "Big",
    description: "a transaction over several outbox chunks",
    dimensions: [
      {
        name: "Item",
        levels: ["(All)", "Item"],
        hasAll: true,
        members: [{ name: "All Items", parent: -1, level: 0 }, ...Array.from({ length: ITEMS }, (_, i) => ({ name: `I${i}`, parent: 0, level: 1 }))],
      },
      {
        name: "Scenario",
        levels: ["Scenario"],
        hasAll: false,
        defaultMember: "[Scenario].[Actual]",
        members: [
          { name: "Actual", parent: -1, level: 0 },
          { name: "Plan", parent: -1, level: 0 },
        ],
      },
      { name: "Measures", levels: ["Measures"], hasAll: false, members: [{ name: "Units", parent: -1, level: 0 }] },
    ],
  };
  const cells: LeafCells = {
    count: ITEMS,
    coords: [Int32Array.from({ length: ITEMS }, (_, i) => i + 1), new Int32Array(ITEMS), new Int32Array(ITEMS)],
    values: Float64Array.from({ length: ITEMS }, (_, i) => i + 1),
  };
  return { def, cells };
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a transaction in several parts", () => {
  let dir: string;
  let store: SqlStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-parts-"));
    store = await openStore({ dataDir: dir });
    const { def, cells } = bigCube();
    await store.saveCube(def, cells);
  });

  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function instance(id: string, events: Events): Promise<Backend> {
    const b = new Backend(store, { instanceId: id, publisher: events.relay });
    const stored = await store.loadCube("Big");
    b.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt });
    return b;
  }

  it("is applied by another instance in one call, and its watcher sees only the whole copy", async () => {
    const bus = new InProcessBus();
    const evA = createEvents({ store, log, instanceId: "A", bus, relay: { idleMs: 20 } });
    const evB = createEvents({ store, log, instanceId: "B", bus, relay: { idleMs: 20 } });
    const a = await instance("A", evA);
    const b = await instance("B", evB);
    const applied: CommittedTransaction[] = [];
    const parts: number[] = [];
    const compact: boolean[] = [];
    try {
      await evA.start(a);
      await evB.start({
        applyTransaction(tx) {
          applied.push(tx);
          return b.applyTransaction(tx);
        },
      });
      await bus.subscribe([TOPICS.write], (m) => {
        parts.push(parseWriteEvent(m.value).part ?? 0);
        compact.push("columns" in JSON.parse(m.value));
      });
      const { cube } = b.cube("Big");
      const planTotal = [cube.resolve(["[Scenario].[Plan]"]) as Int32Array];
      const seen: (number | null)[] = [];
      const watch = cube.watch(planTotal, () => seen.push(cube.getCells(planTotal)[0].value));
      expect(cube.getCells(planTotal)[0].value).toBeNull();

      const res = await a.copyScenario("Big", { dimension: "Scenario", from: "Actual", to: "Plan", factor: 2, slice: [], baseVersion: 0 }, "ann");
      expect(res).toMatchObject({ status: "APPLIED", leavesChanged: ITEMS });
      await waitFor(() => applied.length > 0 && seen.length > 0);
      await waitFor(async () => (await store.pendingOutboxCount()) === 0);

      // Two compact messages on the write topic, one call on B with every change, one push of the whole total.
      expect(parts.sort()).toEqual([0, 1]);
      expect(compact).toEqual([true, true]);
      expect(applied).toHaveLength(1);
      expect(applied[0].changes).toHaveLength(ITEMS);
      expect(applied[0].txId).toBe((res as { txId: string }).txId);
      expect(seen).toEqual([ITEMS * (ITEMS + 1)]);
      expect(evB.stats).toMatchObject({ events: 1, changesApplied: ITEMS, changesSkipped: 0 });
      watch.close();
    } finally {
      await evA.close();
      await evB.close();
    }
  });
});
