/**
 * Scenarios through the Connect API over real HTTP, on PGlite and on the PostgreSQL server:
 * CopyScenario seeds Plan from Actual with a factor (whole cube or a slice), clears target cells
 * with no source, writes one audit record per changed leaf, refuses a stale target and bad
 * requests; variance members (formulas on the Scenario dimension) follow at every level.
 */
import { Code } from "@connectrpc/connect";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import type { CubeDef } from "../backend/src/lattice";
import { apiClients } from "./helpers/clients";
import { CubeServer, type StoreKind } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

/** The small cube with variance members on Scenario (formulas, solve order 1). */
const def: CubeDef = {
  ...smallCubeDef,
  dimensions: smallCubeDef.dimensions.map((d) =>
    d.name === "Scenario"
      ? { ...d, members: [...d.members, { name: "Variance", parent: -1, level: 0 }, { name: "Variance %", parent: -1, level: 0 }] }
      : d,
  ),
  formulas: [
    { member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]", solveOrder: 1 },
    { member: "[Scenario].[Variance %]", expression: "([Scenario].[Plan] - [Scenario].[Actual]) / [Scenario].[Actual]", solveOrder: 1 },
  ],
};

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("scenarios on %s", (kind) => {
  let server: CubeServer;

  beforeAll(async () => {
    server = await CubeServer.start(kind, def, smallCubeCells());
  });

  afterAll(async () => {
    await server?.close();
  });

  const lattice = (user = "ann") => apiClients(server.url, user).lattice;
  const units = "[Measures].[Units]";
  const revenue = "[Measures].[Revenue]";
  const leaves = [
    ["Oslo", "Widget", "Web"],
    ["Bergen", "Widget", "Web"],
    ["Rome", "Gadget", "[Channel].[Alpha]"],
  ];
  async function read(cells: string[][]) {
    return (await lattice().getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) })).cells;
  }

  it("seeds Plan at Actual plus 5%, clearing Plan cells with no Actual, one audit record per leaf", async () => {
    // A Plan cell with no Actual counterpart, to be cleared by the copy.
    const extra = [units, "Oslo", "Gadget", "Web", "Plan"];
    const w = await lattice().writeCells({ cube: "Demo", writes: [{ members: extra, value: 7, baseVersion: 0n }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    const [plan] = await read([[units, "Plan"]]);
    const res = await lattice("carl").copyScenario({ cube: "Demo", from: "Actual", to: "Plan", factor: 1.05, baseVersion: plan.version });
    expect(res.status).toBe(WriteStatus.APPLIED);
    // 5 Actual leaves (3 Units, 2 Revenue) change, plus the extra one cleared.
    expect(res.leavesChanged).toBe(6n);
    expect(res.leavesCleared).toBe(1n);
    expect(res.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    const actual = await read(leaves.map((l) => [units, ...l, "Actual"]));
    const planned = await read(leaves.map((l) => [units, ...l, "Plan"]));
    for (const [i, p] of planned.entries()) expect(p.value).toBeCloseTo((actual[i].value ?? 0) * 1.05, 10);
    expect((await read([extra]))[0].value).toBeUndefined();
    const history = await lattice().getCellHistory({ cube: "Demo", members: [units, ...leaves[0], "Plan"] });
    expect(history.records[0]).toMatchObject({ transactionId: res.transactionId, user: "carl", newValue: planned[0].value });
    const cleared = await lattice().getCellHistory({ cube: "Demo", members: extra });
    expect(cleared.records[0]).toMatchObject({ transactionId: res.transactionId, oldValue: 7 });
    expect(cleared.records[0].newValue).toBeUndefined();
  });

  it("reads variance members at every level as Plan - Actual and their ratio, read-only", async () => {
    for (const where of [[], ["North"], ["Oslo"], ["Widget", "Web"]]) {
      const [a, p, v, pct] = await read(["Actual", "Plan", "Variance", "Variance %"].map((s) => [units, ...where, `[Scenario].[${s}]`]));
      expect(v.calculated).toBe(true);
      expect(v.value).toBeCloseTo((p.value ?? 0) - (a.value ?? 0), 10);
      expect(pct.value).toBeCloseTo(((p.value ?? 0) - (a.value ?? 0)) / (a.value ?? 1), 10);
    }
    const [v] = await read([[units, "North", "[Scenario].[Variance]"]]);
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: [units, "North", "[Scenario].[Variance]"], value: 1, baseVersion: v.version }] });
    expect(res.results[0].status).toBe(WriteStatus.REJECTED);
    expect(res.results[0].message).toMatch(/calculated by a formula.*Variance.*read-only/);
  });

  it("copies a slice only, and refuses a stale target without changing anything", async () => {
    // The target's version in the slice: the highest of its cells there, over every measure.
    const seen = await read([units, revenue].map((m) => [m, "North", "Plan"]));
    const base = BigInt(Math.max(...seen.map((c) => Number(c.version))));
    const [rome] = await read([[revenue, "Rome", "Plan"]]);
    const res = await lattice().copyScenario({ cube: "Demo", from: "[Scenario].[Actual]", to: "Plan", factor: 2, slice: ["[Region].[North]"], baseVersion: base });
    expect(res.status).toBe(WriteStatus.APPLIED);
    const [northActual] = await read([[revenue, "North", "Actual"]]);
    expect((await read([[revenue, "North", "Plan"]]))[0].value).toBeCloseTo((northActual.value ?? 0) * 2, 10);
    expect((await read([[revenue, "Rome", "Plan"]]))[0]).toEqual(rome);
    // Someone writes a Plan leaf in North; a copy based on the older version is a conflict.
    const leaf = [revenue, "Oslo", "Widget", "Web", "Plan"];
    const [cur] = await read([leaf]);
    await lattice("bob").writeCells({ cube: "Demo", writes: [{ members: leaf, value: 1, baseVersion: cur.version }] });
    const stale = await lattice().copyScenario({ cube: "Demo", from: "Actual", to: "Plan", factor: 3, slice: ["North"], baseVersion: res.version });
    expect(stale.status).toBe(WriteStatus.CONFLICT);
    expect(stale.message).toMatch(/changed since version.*bob/);
    expect((await read([leaf]))[0].value).toBe(1);
  });

  it("refuses bad requests with the reason", async () => {
    const call = (req: Parameters<ReturnType<typeof lattice>["copyScenario"]>[0]) => lattice().copyScenario(req);
    await expect(call({ cube: "Demo", from: "Actual", to: "Budget" })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: expect.stringMatching(/to: .*Budget/) });
    await expect(call({ cube: "Demo", from: "Actual", to: "Actual" })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/both/) });
    await expect(call({ cube: "Demo", from: "Actual", to: "Variance" })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/calculated/) });
    await expect(call({ cube: "Demo", from: "Actual", to: "Plan", factor: Number.NaN })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(call({ cube: "Demo", dimension: "Colour", from: "Actual", to: "Plan" })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: expect.stringMatching(/no dimension "Colour"/) });
    await expect(call({ cube: "Demo", from: "Actual", to: "Plan", slice: ["Plan"] })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/scenario dimension/) });
  });
});
