/**
 * Member formulas over the Connect API, on a real HTTP server with the embedded store (PGlite in a
 * temporary folder): calculated cells in GetCells (ratios of totals at consolidated levels,
 * `calculated: true`), member formulas in GetMembers, a WatchCells stream on Margin % that moves
 * after a write to a leaf below it, writes to calculated cells REJECTED with the reason, and a
 * restart from the store that keeps the formulas.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import type { CubeDef, LeafCells } from "../backend/src/lattice";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { fetchDevToken } from "../backend/src/auth/dev-client";
import { apiClients } from "./helpers/clients";
import { quietStart, testConfig } from "./helpers/server";

/**
 * Store (All Stores > USA > {CA > {LA, SF}, WA > {Seattle}}), Scenario (Actual, Plan, and Variance
 * and Variance % calculated at solve order 1), Measures (Store Sales, Store Cost, and Profit and
 * Margin % calculated).
 */
const def: CubeDef = {
  name: "Shop",
  dimensions: [
    {
      name: "Store",
      levels: ["(All)", "Country", "State", "City"],
      hasAll: true,
      members: [
        { name: "All Stores", parent: -1, level: 0 }, // 0
        { name: "USA", parent: 0, level: 1 }, // 1
        { name: "CA", parent: 1, level: 2 }, // 2
        { name: "LA", parent: 2, level: 3 }, // 3
        { name: "SF", parent: 2, level: 3 }, // 4
        { name: "WA", parent: 1, level: 2 }, // 5
        { name: "Seattle", parent: 5, level: 3 }, // 6
      ],
    },
    {
      name: "Scenario",
      levels: ["Scenario"],
      hasAll: false,
      defaultMember: "[Scenario].[Actual]",
      members: ["Actual", "Plan", "Variance", "Variance %"].map((name) => ({ name, parent: -1, level: 0 })),
    },
    {
      name: "Measures",
      levels: ["Measures"],
      hasAll: false,
      defaultMember: "[Measures].[Store Sales]",
      members: ["Store Sales", "Store Cost", "Profit", "Margin %"].map((name) => ({ name, parent: -1, level: 0 })),
    },
  ],
  formulas: [
    { member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]", solveOrder: 1 },
    { member: "[Scenario].[Variance %]", expression: "([Scenario].[Plan] - [Scenario].[Actual]) / [Scenario].[Actual]", solveOrder: 1 },
    { member: "[Measures].[Profit]", expression: "[Measures].[Store Sales] - [Measures].[Store Cost]" },
    { member: "[Measures].[Margin %]", expression: "[Measures].[Profit] / [Measures].[Store Sales]" },
  ],
};

/** [store, scenario, measure, value]: LA 100/60, SF 100/50, Seattle 300/240 in Actual and in Plan. */
const rows: [number, number, number, number][] = [];
for (const scenario of [0, 1]) {
  rows.push([3, scenario, 0, 100], [3, scenario, 1, 60], [4, scenario, 0, 100], [4, scenario, 1, 50], [6, scenario, 0, 300], [6, scenario, 1, 240]);
}
const cells: LeafCells = {
  count: rows.length,
  coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
  values: Float64Array.from(rows.map((r) => r[3])),
};

const SALES = "[Measures].[Store Sales]";
const PROFIT = "[Measures].[Profit]";
const MARGIN = "[Measures].[Margin %]";
const PLAN = "[Scenario].[Plan]";

let dataDir: string;
let server: RunningServer;

async function start(): Promise<RunningServer> {
  const s = await startServer(testConfig({ QATOM_DATA_DIR: dataDir }), quietStart());
  await s.ready;
  return s;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-formulas-"));
  const store = await openStore({ dataDir });
  await store.saveCube(def, cells);
  await store.close();
  server = await start();
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("calculated cells over the API", () => {
  it("GetCells computes Profit and Margin % from consolidated operands and marks them calculated", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const res = await lattice.getCells({
      cube: "Shop",
      cells: [
        { members: [PROFIT, "[Store].[USA]"] },
        { members: [MARGIN, "[Store].[USA]"] },
        { members: [MARGIN, "[Store].[USA].[CA]"] },
        { members: [MARGIN, "[Store].[USA].[CA].[LA]"] },
        { members: [SALES, "[Store].[USA]"] },
        { members: [MARGIN, "[Store].[USA]", "[Scenario].[Variance]"] },
        { members: [SALES, "[Scenario].[Variance %]"] },
      ],
    });
    const c = res.cells;
    expect(c[0]).toMatchObject({ value: 500 - 350, calculated: true, consolidated: true });
    // USA profit over USA sales (0.3), not the sum (1.1) or mean of the states' or cities' ratios.
    expect(c[1].value).toBeCloseTo(150 / 500, 12);
    expect(c[1].calculated).toBe(true);
    expect(c[2].value).toBeCloseTo(90 / 200, 12);
    expect(c[3]).toMatchObject({ value: 0.4, calculated: true, consolidated: false });
    expect(c[4]).toMatchObject({ value: 500, calculated: false, consolidated: true });
    expect(c[5]).toMatchObject({ value: 0, calculated: true });
    expect(c[6]).toMatchObject({ value: 0, calculated: true });
  });

  it("the JSON form carries calculated: true", async () => {
    const { accessToken } = await fetchDevToken(server.url, "ann");
    const res = await fetch(`${server.url}/quantatom.v1.LatticeService/GetCells`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ cube: "Shop", cells: [{ members: [PROFIT, "LA"] }, { members: [SALES, "LA"] }] }),
    });
    expect(await res.json()).toEqual({
      cells: [
        { value: 40, version: "0", consolidated: false, calculated: true },
        { value: 100, version: "0", consolidated: false, calculated: false },
      ],
    });
  });

  it("GetMembers reports each member's formula", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const res = await lattice.getMembers({ cube: "Shop", dimension: "Measures" });
    expect(res.members.map((m) => [m.name, m.formula])).toEqual([
      ["Store Sales", ""],
      ["Store Cost", ""],
      ["Profit", "[Measures].[Store Sales] - [Measures].[Store Cost]"],
      ["Margin %", "[Measures].[Profit] / [Measures].[Store Sales]"],
    ]);
  });

  it("a WatchCells stream on Margin % moves after a write to a leaf below it", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const other = apiClients(server.url, "bob").lattice;
    const controller = new AbortController();
    const stream = lattice.watchCells(
      { cube: "Shop", cells: [{ members: [MARGIN, "[Store].[USA]", PLAN] }, { members: [SALES, "[Store].[USA]", PLAN] }, { members: [MARGIN, "[Store].[USA].[WA]", PLAN] }] },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      expect(first.value.initial).toBe(true);
      expect(first.value.updates[0].cell).toMatchObject({ calculated: true, consolidated: true });
      expect(first.value.updates[0].cell.value).toBeCloseTo(150 / 500, 12);

      const leaf = [SALES, "[Store].[USA].[CA].[SF]", PLAN];
      const cur = await other.getCells({ cube: "Shop", cells: [{ members: leaf }] });
      const w = await other.writeCells({ cube: "Shop", writes: [{ members: leaf, value: 200, baseVersion: cur.cells[0].version }] });
      expect(w.results[0].status).toBe(WriteStatus.APPLIED);

      const next = await it.next();
      expect(next.value.initial).toBe(false);
      // Margin % and Store Sales at USA moved; WA's margin did not.
      expect(next.value.updates.map((u: { index: number }) => u.index)).toEqual([0, 1]);
      expect(next.value.updates[0].cell.value).toBeCloseTo(250 / 600, 12);
      expect(next.value.updates[0].cell.version).toBe(w.results[0].version);
      expect(next.value.updates[0].cell.calculated).toBe(true);
      expect(next.value.updates[1].cell.value).toBeCloseTo(600, 10);
    } finally {
      controller.abort();
      await it.return?.();
    }
  });

  it("a calculated cell's version is the highest of the cells it reads", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const res = await lattice.getCells({
      cube: "Shop",
      cells: [{ members: [MARGIN, "[Store].[USA].[CA]", PLAN] }, { members: [SALES, "[Store].[USA].[CA].[SF]", PLAN] }, { members: [MARGIN, "[Store].[USA].[WA]", PLAN] }],
    });
    expect(res.cells[0].version).toBe(res.cells[1].version);
    expect(res.cells[0].version).toBeGreaterThan(0n);
    expect(res.cells[2].version).toBe(0n);
  });

  it("GetCellHistory refuses a calculated cell, naming its formula", async () => {
    const { lattice } = apiClients(server.url, "ann");
    await expect(lattice.getCellHistory({ cube: "Shop", members: [PROFIT, "[Store].[USA].[CA].[LA]"] })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "history is kept for stored leaf cells; this cell is calculated by a formula ([Measures].[Profit] = [Measures].[Store Sales] - [Measures].[Store Cost])",
    });
  });

  // WriteCells checks Cube.formulaOf (backend.ts).
  it("a write to a calculated cell is REJECTED with the reason, and changes nothing", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const writes = [
      { members: [PROFIT, "[Store].[USA].[CA].[LA]", PLAN], value: 1, baseVersion: 0n },
      { members: [SALES, "[Store].[USA].[CA].[LA]", "[Scenario].[Variance]"], value: 1, baseVersion: 0n },
      { members: [MARGIN, "[Store].[USA]", PLAN], value: 1, baseVersion: 0n },
    ];
    const before = await lattice.getCells({ cube: "Shop", cells: writes.map((w) => ({ members: w.members })) });
    const res = await lattice.writeCells({ cube: "Shop", writes });
    expect(res.results.map((r) => r.status)).toEqual([WriteStatus.REJECTED, WriteStatus.REJECTED, WriteStatus.REJECTED]);
    expect(res.results[0].message).toMatch(/calculated by a formula \(\[Measures\]\.\[Profit\] = \[Measures\]\.\[Store Sales\] - \[Measures\]\.\[Store Cost\]\).*read-only/);
    expect(res.results[1].message).toMatch(/calculated by a formula \(\[Scenario\]\.\[Variance\] = \[Scenario\]\.\[Plan\] - \[Scenario\]\.\[Actual\]\).*read-only/);
    expect(res.results[2].message).toMatch(/formula/);
    expect(res.transactionId).toBe("");
    const after = await lattice.getCells({ cube: "Shop", cells: writes.map((w) => ({ members: w.members })) });
    expect(after.cells).toEqual(before.cells);
  });
});

describe("a restart from the store", () => {
  it("keeps the formulas (the definition is stored with the cube) and the writes", async () => {
    await server.close();
    const stored = await openStore({ dataDir });
    try {
      const cube = await stored.loadCube("Shop");
      expect(cube.def.formulas).toEqual(def.formulas);
    } finally {
      await stored.close();
    }
    server = await start();
    const { lattice } = apiClients(server.url, "ann");
    const res = await lattice.getCells({ cube: "Shop", cells: [{ members: [MARGIN, "[Store].[USA]", PLAN] }, { members: [PROFIT, "[Store].[USA]"] }] });
    expect(res.cells[0].calculated).toBe(true);
    expect(res.cells[0].value).toBeCloseTo(250 / 600, 12); // the write to SF's Plan sales survived
    expect(res.cells[1]).toMatchObject({ value: 150, calculated: true });
  });
});
