/**
 * The server with QATOM_GPU=on, on the software adapter this machine has (Mesa's llvmpipe; `.ci/run`
 * installs it), and QATOM_GPU_MIN_ROWS=1 so that even this small cube's scans go to the GPU:
 * /healthz says the GPU serves the cube, GetCells answers consolidated cells as an independent sum
 * of the rows does, before and after a write (the device's copy of the changed row refreshed), and
 * QATOM_GPU=on with no usable adapter is covered by the executor's own tests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CubeDef, LeafCells } from "../backend/src/lattice";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { quietStart, testConfig } from "./helpers/server";

/** Region (All > North > {N1..N20}, South > {S1..S20}) × Month (Year > Q1..Q4 > 3 months each). */
const regions = ["North", "South"];
const def: CubeDef = {
  name: "Gpu",
  dimensions: [
    {
      name: "Region",
      levels: ["(All)", "Region", "Branch"],
      hasAll: true,
      members: [
        { name: "All Regions", parent: -1, level: 0 },
        ...regions.map((name) => ({ name, parent: 0, level: 1 })),
        ...regions.flatMap((r, i) => Array.from({ length: 20 }, (_, k) => ({ name: `${r[0]}${k + 1}`, parent: 1 + i, level: 2 }))),
      ],
    },
    {
      name: "Time",
      levels: ["Year", "Quarter", "Month"],
      hasAll: false,
      members: [
        { name: "2026", parent: -1, level: 0 },
        ...[1, 2, 3, 4].map((q) => ({ name: `Q${q}`, parent: 0, level: 1 })),
        ...Array.from({ length: 12 }, (_, m) => ({ name: `M${m + 1}`, parent: 1 + Math.floor(m / 3), level: 2 })),
      ],
    },
  ],
};

/** Every branch × month, value = branch * 100 + month + cents. */
const rows: { region: number; branch: number; month: number; value: number }[] = [];
for (let i = 0; i < 2; i++) {
  for (let k = 0; k < 20; k++) for (let m = 0; m < 12; m++) rows.push({ region: i, branch: 3 + i * 20 + k, month: m, value: (k + 1) * 100 + m + 0.37 });
}
const cells: LeafCells = {
  count: rows.length,
  coords: [Int32Array.from(rows.map((r) => r.branch)), Int32Array.from(rows.map((r) => 5 + r.month))],
  values: Float64Array.from(rows.map((r) => r.value)),
};

/** The independent sum: rows of a region (or all, -1) in a quarter (or the year, -1). */
function sum(region: number, quarter: number): number {
  let cents = 0;
  for (const r of rows) if ((region < 0 || r.region === region) && (quarter < 0 || Math.floor(r.month / 3) === quarter)) cents += Math.round(r.value * 100);
  return cents / 100;
}

let dataDir: string;
let server: RunningServer;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-gpu-"));
  const store = await openStore({ dataDir });
  await store.saveCube(def, cells);
  await store.close();
  server = await startServer(testConfig({ QATOM_DATA_DIR: dataDir, QATOM_GPU: "on", QATOM_GPU_MIN_ROWS: "1" }), quietStart());
  await server.ready;
}, 60_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("server with QATOM_GPU=on", () => {
  const cellsAsked = [
    { members: ["[Region].[All Regions]", "[Time].[2026]"], want: () => sum(-1, -1) },
    { members: ["[Region].[North]", "[Time].[2026].[Q2]"], want: () => sum(0, 1) },
    { members: ["[Region].[South]", "[Time].[2026]"], want: () => sum(1, -1) },
    { members: ["[Region].[All Regions]", "[Time].[2026].[Q4]"], want: () => sum(-1, 3) },
  ];

  it("says on /healthz that the GPU serves the cube", async () => {
    const res = await fetch(`${server.url}/healthz`);
    const body = (await res.json()) as { calc: { cube: string; executor: string; reason: string }[] };
    expect(body.calc).toEqual([{ cube: "Gpu", executor: "gpu", reason: expect.stringMatching(/\S/) }]);
  });

  it("answers consolidated cells as the rows sum, before and after a write", async () => {
    const { lattice } = apiClients(server.url, "ann");
    // In cents: a cell over several segments adds their sums in doubles.
    const read = async () =>
      (await lattice.getCells({ cube: "Gpu", cells: cellsAsked.map((c) => ({ members: c.members })) })).cells.map((c) => Math.round((c.value as number) * 100));
    const want = () => cellsAsked.map((c) => Math.round(c.want() * 100));
    expect(await read()).toEqual(want());
    // North's N3, month 4 (Q2): from 304.37 to 1,000,000.01.
    const target = rows.find((r) => r.branch === 5 && r.month === 3);
    if (!target) throw new Error("no row N3/M4");
    const before = await lattice.getCells({ cube: "Gpu", cells: [{ members: ["[Region].[North].[N3]", "[Time].[2026].[Q2].[M4]"] }] });
    const w = await lattice.writeCells({
      cube: "Gpu",
      writes: [{ members: ["[Region].[North].[N3]", "[Time].[2026].[Q2].[M4]"], value: 1_000_000.01, baseVersion: before.cells[0].version }],
    });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    target.value = 1_000_000.01;
    expect(await read()).toEqual(want());
  });
});
