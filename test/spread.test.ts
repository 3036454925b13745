/**
 * Spreading through the Connect API over real HTTP, on the embedded store (PGlite) and on the
 * PostgreSQL server: a write to a consolidated cell moves it to the typed value with the leaves in
 * their proportions and one audit record per changed leaf under one transaction id; holds; the
 * data actions; TM1's methods; stale totals are conflicts; limits and bad requests are refused
 * with the reason; streams see the spread; a restart keeps it.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { DataAction, SpreadMethod, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { CubeServer, type StoreKind } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("spreading through WriteCells on %s", (kind) => {
  let server: CubeServer;

  beforeAll(async () => {
    server = await CubeServer.start(kind, smallCubeDef, smallCubeCells(), { QATOM_SPREAD_MAX_NEW_CELLS: "10" });
  });

  afterAll(async () => {
    await server?.close();
  });

  const lattice = (user = "ann") => apiClients(server.url, user).lattice;
  const units = "[Measures].[Units]";
  const revenue = "[Measures].[Revenue]";
  // Leaves of Units, Plan (see small-cube.ts): Oslo Widget Web 10, Bergen Widget Web 20, Rome Gadget Alpha 5.
  const planLeaves = [
    [units, "Oslo", "Widget", "Web", "Plan"],
    [units, "Bergen", "Widget", "Web", "Plan"],
    [units, "Rome", "Gadget", "[Channel].[Alpha]", "Plan"],
  ];
  async function read(cells: string[][]) {
    const res = await lattice().getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) });
    return res.cells;
  }

  it("moves a total to the typed value proportionally, with one audit record per changed leaf", async () => {
    const total = [units, "Plan"];
    const [before] = await read([total]);
    const leavesBefore = await read(planLeaves);
    expect(before.value).toBe(35);
    const res = await lattice("ann").writeCells({ cube: "Demo", writes: [{ members: total, value: 70, baseVersion: before.version }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, currentValue: 70, leavesChanged: 3n, updatedBy: "ann" });
    const [after] = await read([total]);
    expect(after.value).toBeCloseTo(70, 8);
    expect(after.version).toBe(res.results[0].version);
    const leaves = await read(planLeaves);
    for (const [i, leaf] of leaves.entries()) expect(leaf.value).toBeCloseTo(2 * (leavesBefore[i].value ?? 0), 10);
    // Actual did not move.
    expect((await read([[units, "Actual"]]))[0].value).toBe(35);
    for (const [i, members] of planLeaves.entries()) {
      const history = await lattice().getCellHistory({ cube: "Demo", members });
      const mine = history.records.filter((r) => r.transactionId === res.transactionId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ user: "ann", oldValue: leavesBefore[i].value, newValue: leaves[i].value });
    }
  });

  it("keeps held leaves and leaves under held totals; the rest absorb the change", async () => {
    const total = [units, "Plan"];
    const [before] = await read([total]);
    const leavesBefore = await read(planLeaves);
    const res = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: total, value: 100, baseVersion: before.version }],
      holds: [{ members: planLeaves[0] }, { members: [units, "South", "Plan"] }],
    });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 1n });
    const leaves = await read(planLeaves);
    expect(leaves[0].value).toBe(leavesBefore[0].value);
    expect(leaves[2].value).toBe(leavesBefore[2].value);
    expect(leaves[1].value).toBeCloseTo(100 - (leavesBefore[0].value ?? 0) - (leavesBefore[2].value ?? 0), 8);
    expect((await read([total]))[0].value).toBeCloseTo(100, 8);
  });

  it("applies TM1 methods and data actions: P%+, S, LS, C", async () => {
    const north = [revenue, "North", "Plan"];
    const all = [revenue, "Plan"];
    let [cell] = await read([all]);
    // P%+10: every leaf grows by 10%.
    let res = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: all, baseVersion: cell.version, spread: { method: SpreadMethod.PERCENT_CHANGE, action: DataAction.ADD, percent: 10 } }],
    });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    const [grown] = await read([all]);
    expect(grown.value).toBeCloseTo((cell.value ?? 0) * 1.1, 8);
    // S+ 20 into the total: added equally to its children with leaves (North, South): 10 each.
    [cell] = await read([all]);
    const [northBefore] = await read([north]);
    res = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: all, value: 20, baseVersion: cell.version, spread: { method: SpreadMethod.EQUAL, action: DataAction.ADD } }],
    });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    expect((await read([all]))[0].value).toBeCloseTo((cell.value ?? 0) + 20, 8);
    expect((await read([north]))[0].value).toBeCloseTo((northBefore.value ?? 0) + 10, 8);
    // C clears the leaves below North.
    [cell] = await read([north]);
    res = await lattice().writeCells({ cube: "Demo", writes: [{ members: north, baseVersion: cell.version, spread: { method: SpreadMethod.CLEAR } }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 1n });
    expect((await read([north]))[0].value).toBeUndefined();
  });

  it("gives CONFLICT for a total read before a leaf below changed, changing nothing", async () => {
    const total = [units, "North", "Plan"];
    const [seen] = await read([total]);
    const [leaf] = await read([planLeaves[1]]);
    const bob = await lattice("bob").writeCells({ cube: "Demo", writes: [{ members: planLeaves[1], value: 1, baseVersion: leaf.version }] });
    expect(bob.results[0].status).toBe(WriteStatus.APPLIED);
    const leavesBefore = await read(planLeaves);
    const res = await lattice("ann").writeCells({ cube: "Demo", writes: [{ members: total, value: 500, baseVersion: seen.version }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.CONFLICT, updatedBy: "bob", version: bob.results[0].version });
    expect(res.results[0].message).toMatch(/changed since version .*bob/);
    expect(res.transactionId).toBe("");
    expect(await read(planLeaves)).toEqual(leavesBefore);
  });

  it("refuses a spread over the new-cell limit with the count, and overlapping writes in one request", async () => {
    const empty = [units, "Gadget", "Plan"]; // Gadget Plan: only Rome/Alpha holds a value
    const [cell] = await read([empty]);
    const res = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: empty, value: 120, baseVersion: cell.version, spread: { method: SpreadMethod.EQUAL_LEAVES, includeEmpty: true } }],
    });
    // 3 cities x 2 channels = 6 leaves of 20 each, 5 of them new: within 10. Then a total whose every leaf is new.
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    expect(res.results[0].leavesChanged).toBe(6n);
    expect((await read([[units, "Oslo", "Gadget", "[Channel].[Alpha]", "Plan"]]))[0].value).toBeCloseTo(20, 10);
    const wide = [revenue, "Actual"];
    const [w] = await read([wide]);
    const big = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: wide, value: 1, baseVersion: w.version, spread: { method: SpreadMethod.REPEAT_LEAVES, includeEmpty: true } }],
    });
    expect(big.results[0].status).toBe(WriteStatus.REJECTED);
    expect(big.results[0].message).toMatch(/would create 16 new leaf cells \(18 leaves below the cell, 2 stored\).*limit is 10/);
    const [north] = await read([[units, "North", "Plan"]]);
    const [leaf] = await read([planLeaves[0]]);
    const overlap = await lattice().writeCells({
      cube: "Demo",
      writes: [
        { members: planLeaves[0], value: 3, baseVersion: leaf.version },
        { members: [units, "North", "Plan"], value: 9, baseVersion: north.version },
      ],
    });
    expect(overlap.results[0].status).toBe(WriteStatus.APPLIED);
    expect(overlap.results[1].status).toBe(WriteStatus.REJECTED);
    expect(overlap.results[1].message).toMatch(/overlaps write 0/);
  });

  it("spreads relative to a reference scenario (RP) and rejects a reference of another shape", async () => {
    const planTotal = [units, "Plan"];
    const [cell] = await read([planTotal]);
    const res = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: planTotal, value: 350, baseVersion: cell.version, spread: { method: SpreadMethod.RELATIVE_PROPORTIONAL, reference: ["[Scenario].[Actual]"] } }],
    });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    const leaves = await read(planLeaves);
    expect(leaves.map((l) => l.value)).toEqual([100, 200, 50].map((v) => expect.closeTo(v, 8)));
    const bad = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: planTotal, value: 1, baseVersion: res.results[0].version, spread: { method: SpreadMethod.RELATIVE_PROPORTIONAL, reference: ["[Region].[North]"] } }],
    });
    expect(bad.results[0].status).toBe(WriteStatus.REJECTED);
    expect(bad.results[0].message).toMatch(/reference.*\[Region\]\.\[North\] has 2 leaves.*has 3/);
  });

  it("streams the spread to a watched total and keeps it across a restart", async () => {
    const total = [units, "North", "Plan"];
    const controller = new AbortController();
    const stream = lattice().watchCells({ cube: "Demo", cells: [{ members: total }] }, { signal: controller.signal });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    const version = first.value.updates[0].cell.version;
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: total, value: 42, baseVersion: version }] });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    const next = await it.next();
    expect(next.value.updates[0].cell.value).toBeCloseTo(42, 8);
    controller.abort();
    await it.return?.();
    await server.restart();
    expect((await read([total]))[0].value).toBeCloseTo(42, 8);
  });

  it("keeps a held total when a leaf below it is written (TM1's consolidation hold): its unheld siblings absorb the change in proportion", async () => {
    // Leaves Oslo 10, Bergen 30, Rome 60 under Units, Plan (100).
    const now = await read(planLeaves);
    const set = await lattice().writeCells({ cube: "Demo", writes: planLeaves.map((members, i) => ({ members, value: [10, 30, 60][i], baseVersion: now[i].version })) });
    expect(set.results.map((r) => r.status)).toEqual([WriteStatus.APPLIED, WriteStatus.APPLIED, WriteStatus.APPLIED]);
    const held = { members: [units, "Plan"] };
    // Oslo 10 → 40 under the held Plan total: Bergen and Rome give up 30 in proportion 30 : 60.
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: planLeaves[0], value: 40, baseVersion: set.results[0].version }], holds: [held] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, currentValue: 40, leavesChanged: 3n, updatedBy: "ann" });
    expect((await read(planLeaves)).map((l) => l.value)).toEqual([40, 20, 40].map((v) => expect.closeTo(v, 8)));
    expect((await read([[units, "Plan"]]))[0].value).toBeCloseTo(100, 8);
    for (const members of planLeaves) {
      const history = await lattice().getCellHistory({ cube: "Demo", members });
      expect(history.records.filter((r) => r.transactionId === res.transactionId)).toHaveLength(1);
    }
    // A held leaf among the siblings keeps its value: Rome alone absorbs.
    const [oslo] = await read([planLeaves[0]]);
    const withLeaf = await lattice().writeCells({ cube: "Demo", writes: [{ members: planLeaves[0], value: 50, baseVersion: oslo.version }], holds: [held, { members: planLeaves[1] }] });
    expect(withLeaf.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 2n });
    expect((await read(planLeaves)).map((l) => l.value)).toEqual([50, 20, 30].map((v) => expect.closeTo(v, 8)));
    // Every sibling held: the total cannot be kept, nothing changes.
    const [oslo2] = await read([planLeaves[0]]);
    const stuck = await lattice().writeCells({
      cube: "Demo",
      writes: [{ members: planLeaves[0], value: 60, baseVersion: oslo2.version }],
      holds: [held, { members: planLeaves[1] }, { members: planLeaves[2] }],
    });
    expect(stuck.results[0]).toMatchObject({ status: WriteStatus.REJECTED, message: expect.stringMatching(/\[Scenario\]\.\[Plan\], \[Measures\]\.\[Units\] is held \(a consolidation hold\).*cannot: /) });
    // Two leaves under one held total in one request (Oslo 50 → 55, Bergen 20 → 10): offset together, Rome absorbs +5.
    const both = await read(planLeaves);
    const two = await lattice().writeCells({
      cube: "Demo",
      writes: [
        { members: planLeaves[0], value: 55, baseVersion: both[0].version },
        { members: planLeaves[1], value: 10, baseVersion: both[1].version },
      ],
      holds: [held],
    });
    expect(two.results.map((r) => r.status)).toEqual([WriteStatus.APPLIED, WriteStatus.APPLIED]);
    expect(two.results[0]).toMatchObject({ currentValue: 55, leavesChanged: 3n });
    expect((await read(planLeaves)).map((l) => l.value)).toEqual([55, 10, 35].map((v) => expect.closeTo(v, 8)));
    expect((await read([[units, "Plan"]]))[0].value).toBeCloseTo(100, 8);
  });

  it("spreads Repeat typed on one consolidated cell proportionally, as IBM's Spreading to a consolidated cell says (not into each child)", async () => {
    const north = [units, "North", "Plan"];
    const [cell] = await read([north]);
    const [oslo0, bergen0] = await read([planLeaves[0], planLeaves[1]]);
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: north, value: 60, baseVersion: cell.version, spread: { method: SpreadMethod.REPEAT } }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, currentValue: expect.closeTo(60, 8) });
    const [oslo, bergen] = await read([planLeaves[0], planLeaves[1]]);
    expect((oslo.value ?? 0) + (bergen.value ?? 0)).toBeCloseTo(60, 8);
    expect((oslo.value ?? 0) / (bergen.value ?? 1)).toBeCloseTo((oslo0.value ?? 0) / (bergen0.value ?? 1), 9);
  });

  it("spreads S into a total whose leaves are all empty: each child its equal share, equally over its leaves", async () => {
    const total = [revenue, "[Product].[Gadget]", "[Channel].[Web]", "Plan"];
    const leaves = ["Oslo", "Bergen", "Rome"].map((r) => [revenue, r, "[Product].[Gadget]", "[Channel].[Web]", "Plan"]);
    expect((await read(leaves)).map((l) => l.value ?? null)).toEqual([null, null, null]);
    const [cell] = await read([total]);
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: total, value: 90, baseVersion: cell.version, spread: { method: SpreadMethod.EQUAL } }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 3n });
    // North and South get 45 each; North's 45 goes equally to Oslo and Bergen
    expect((await read(leaves)).map((l) => l.value)).toEqual([22.5, 22.5, 45].map((v) => expect.closeTo(v, 8)));
  });

  it("reproduces IBM's Proportional example (10, 30, 60 spread 300 with Replace: 30, 90, 180), and its consolidation hold: with the total held, a leaf changed moves the others so the total stays", async () => {
    // IBM Planning Analytics 2.1.0, "Data spreading methods", Proportional: January, February and
    // March hold 10, 30 and 60; 300 spread proportionally gives 30, 90, 180. Here the three are
    // the leaves of a total (Widget, Web, Plan Revenue over Oslo, Bergen, Rome).
    const leaves = ["Oslo", "Bergen", "Rome"].map((r) => [revenue, r, "[Product].[Widget]", "[Channel].[Web]", "Plan"]);
    const total = [revenue, "[Product].[Widget]", "[Channel].[Web]", "Plan"];
    const now = await read(leaves);
    const set = await lattice().writeCells({ cube: "Demo", writes: leaves.map((members, i) => ({ members, value: [10, 30, 60][i], baseVersion: now[i].version })) });
    expect(set.results.map((r) => r.status)).toEqual([WriteStatus.APPLIED, WriteStatus.APPLIED, WriteStatus.APPLIED]);
    const [cell] = await read([total]);
    expect(cell.value).toBeCloseTo(100, 10);
    const res = await lattice().writeCells({ cube: "Demo", writes: [{ members: total, value: 300, baseVersion: cell.version, spread: { method: SpreadMethod.PROPORTIONAL, action: DataAction.REPLACE } }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 3n });
    expect((await read(leaves)).map((l) => l.value)).toEqual([30, 90, 180].map((v) => expect.closeTo(v, 9)));

    // IBM "Excluding consolidations from data spreading": with a consolidation hold on the total,
    // changing a leaf applies proportional spreading to the remaining leaves so that the
    // consolidation value remains unchanged. Oslo 30 -> 60: Bergen and Rome give up 30 in proportion 90 : 180.
    const [oslo] = await read([leaves[0]]);
    const held = await lattice().writeCells({ cube: "Demo", writes: [{ members: leaves[0], value: 60, baseVersion: oslo.version }], holds: [{ members: total }] });
    expect(held.results[0]).toMatchObject({ status: WriteStatus.APPLIED });
    expect((await read(leaves)).map((l) => l.value)).toEqual([60, 80, 160].map((v) => expect.closeTo(v, 9)));
    expect((await read([total]))[0].value).toBeCloseTo(300, 9);
  });

  it("rejects malformed spreads and holds as API misuse", async () => {
    await expect(
      lattice().writeCells({ cube: "Demo", writes: [{ members: [units, "Plan"], value: 1, baseVersion: 0n }], holds: [{ members: ["Atlantis"] }] }),
    ).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/holds\[0\].*Atlantis/) });
    await expect(
      lattice().writeCells({ cube: "Demo", writes: [{ members: [units, "Plan"], baseVersion: 0n, spread: { method: SpreadMethod.PERCENT_CHANGE, percent: Number.NaN } }] }),
    ).rejects.toBeInstanceOf(ConnectError);
  });
});
