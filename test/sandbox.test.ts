/**
 * Sandboxes through the Connect API over real HTTP, on PGlite and on the PostgreSQL server: a
 * sandbox's values are invisible to other users and to the base; consolidated cells and member
 * formulas through a sandbox equal a brute-force sum over the overlay; a shared sandbox is readable
 * by the user it was shared with (and writable only with a write share; a stream through it ends once
 * the share is removed); a stream through a sandbox
 * receives sandbox writes and base writes to leaves the sandbox has not changed; a commit after a
 * conflicting base change reports exactly the conflicting leaf and changes nothing, or only the
 * others when asked; Keep mine commits over the base; a commit without conflict makes the base
 * equal the overlay; a sandbox survives a restart; a spread in a sandbox is undone in it; a
 * discarded one is gone.
 */
import { Code } from "@connectrpc/connect";
import { TransactionKind, type WatchCellsResponse, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { SandboxAccess, SandboxState } from "../proto/gen/quantatom/v1/sandbox_pb";
import type { CubeDef, LeafCells } from "../backend/src/lattice";
import { apiClients } from "./helpers/clients";
import { rejection } from "./helpers/rejection";
import { CubeServer, type StoreKind } from "./helpers/cube-server";

const AREAS = ["North", "South"];
const REGIONS = ["N1", "N2", "N3", "S1", "S2", "S3"];
const PRODUCTS = ["P1", "P2", "P3", "P4"];

/** Region: All > North (N1-N3), South (S1-S3); Product: All > P1-P4; Scenario: Actual, Plan, Variance = Plan - Actual. */
const def: CubeDef = {
  name: "Plan",
  description: "sandbox test cube",
  dimensions: [
    {
      name: "Region",
      levels: ["(All)", "Area", "Region"],
      hasAll: true,
      members: [
        { name: "All Region", parent: -1, level: 0 },
        { name: "North", parent: 0, level: 1 },
        { name: "South", parent: 0, level: 1 },
        ...REGIONS.map((name, i) => ({ name, parent: i < 3 ? 1 : 2, level: 2 })),
      ],
    },
    {
      name: "Product",
      levels: ["(All)", "Product"],
      hasAll: true,
      members: [{ name: "All Product", parent: -1, level: 0 }, ...PRODUCTS.map((name) => ({ name, parent: 0, level: 1 }))],
    },
    {
      name: "Scenario",
      levels: ["Scenario"],
      hasAll: false,
      members: ["Actual", "Plan", "Variance"].map((name) => ({ name, parent: -1, level: 0 })),
    },
    { name: "Measures", levels: ["Measures"], hasAll: false, members: [{ name: "Units", parent: -1, level: 0 }] },
  ],
  formulas: [{ member: "[Scenario].[Variance]", expression: "[Scenario].[Plan] - [Scenario].[Actual]" }],
};

const regionName = (r: number) => `[Region].[${AREAS[r < 3 ? 0 : 1]}].[${REGIONS[r]}]`;
const leaf = (r: number, p: number, scenario = "Actual") => [regionName(r), `[Product].[${PRODUCTS[p]}]`, `[Scenario].[${scenario}]`, "[Measures].[Units]"];

/** Actual and Plan hold a value in every leaf but (S3, P4, Plan). */
function cells(): LeafCells {
  const coords: number[][] = [[], [], [], []];
  const values: number[] = [];
  for (let r = 0; r < 6; r++)
    for (let p = 0; p < 4; p++)
      for (const s of [0, 1]) {
        if (r === 5 && p === 3 && s === 1) continue;
        coords[0].push(r + 3);
        coords[1].push(p + 1);
        coords[2].push(s);
        coords[3].push(0);
        values.push(10 * (r + 1) + p + (s === 1 ? 100 : 0));
      }
  return { count: values.length, coords: coords.map((c) => Int32Array.from(c)), values: Float64Array.from(values) };
}

/** Every leaf of Actual and Plan, with (r, p, scenario). */
const LEAVES = REGIONS.flatMap((_, r) => PRODUCTS.flatMap((_, p) => ["Actual", "Plan"].map((s) => ({ r, p, s, members: leaf(r, p, s) }))));

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("sandboxes on %s", (kind) => {
  let server: CubeServer;

  beforeAll(async () => {
    server = await CubeServer.start(kind, def, cells());
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  const api = (user = "ann") => apiClients(server.url, user);

  async function read(addresses: string[][], sandbox = "", user = "ann") {
    const res = await api(user).lattice.getCells({ cube: "Plan", cells: addresses.map((members) => ({ members })), sandbox });
    return res.cells;
  }

  async function values(addresses: string[][], sandbox = "", user = "ann"): Promise<(number | undefined)[]> {
    return (await read(addresses, sandbox, user)).map((c) => c.value);
  }

  async function write(members: string[], value: number, sandbox = "", user = "ann") {
    const [cell] = await read([members], sandbox, user);
    const res = await api(user).lattice.writeCells({ cube: "Plan", writes: [{ members, value, baseVersion: cell.version }], sandbox });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    return res;
  }

  async function create(name: string, user = "ann") {
    return (await api(user).sandbox.createSandbox({ cube: "Plan", name })).sandbox!;
  }


  it("keeps a sandbox's values to itself: the base and other users do not see them", async () => {
    const sb = await create("What-if 1");
    expect(sb).toMatchObject({ name: "What-if 1", owner: "ann", access: SandboxAccess.OWNER, state: SandboxState.OPEN, leavesChanged: 0n });
    const cell = leaf(0, 0);
    const [base] = await values([cell]);
    await write(cell, 999, sb.id);
    expect(await values([cell], sb.id)).toEqual([999]);
    expect(await values([cell])).toEqual([base]);
    expect(await values([cell], "", "bob")).toEqual([base]);
    expect((await rejection(read([cell], sb.id, "bob"))).code).toBe(Code.NotFound);
    expect((await rejection(api("bob").lattice.writeCells({ cube: "Plan", writes: [{ members: cell, value: 1, baseVersion: 0n }], sandbox: sb.id }))).code).toBe(Code.NotFound);
    expect((await api("bob").sandbox.listSandboxes({ cube: "Plan" })).sandboxes).toEqual([]);
    const mine = (await api().sandbox.listSandboxes({ cube: "Plan" })).sandboxes;
    expect(mine.find((s) => s.id === sb.id)).toMatchObject({ leavesChanged: 1n });
    // Marked: the leaf, the cells above it, the formula over it; not a cell beside it; the base has no such field.
    const total = ["[Region].[North]", "[Product]", "[Scenario].[Actual]", "[Measures].[Units]"];
    const variance = [regionName(0), "[Product].[P1]", "[Scenario].[Variance]", "[Measures].[Units]"];
    const marked = (await read([cell, total, variance, leaf(1, 0), leaf(0, 0, "Plan")], sb.id)).map((c) => c.sandboxChanged);
    expect(marked).toEqual([true, true, true, false, false]);
    expect((await read([cell, total])).map((c) => c.sandboxChanged)).toEqual([undefined, undefined]);
  });

  it("computes consolidated cells and formulas over the overlay: equal to a brute-force sum of the sandbox's leaves", async () => {
    const sb = await create("What-if 2");
    // A spread into North × All Product (Plan) and two leaf writes, one of them emptying a cell.
    const north = ["[Region].[North]", "[Product].[All Product]", "[Scenario].[Plan]", "[Measures].[Units]"];
    const [n] = await read([north], sb.id);
    const spread = await api().lattice.writeCells({ cube: "Plan", writes: [{ members: north, value: 6000, baseVersion: n.version }], sandbox: sb.id });
    expect(spread.results[0].status).toBe(WriteStatus.APPLIED);
    await write(leaf(4, 2, "Actual"), 7.5, sb.id);
    const [cleared] = await read([leaf(5, 1, "Actual")], sb.id);
    await api().lattice.writeCells({ cube: "Plan", writes: [{ members: leaf(5, 1, "Actual"), baseVersion: cleared.version }], sandbox: sb.id });

    const through = await values(LEAVES.map((l) => l.members), sb.id);
    const at = (r: number, p: number, s: string) => through[LEAVES.findIndex((l) => l.r === r && l.p === p && l.s === s)] ?? 0;
    expect(at(5, 1, "Actual")).toBe(0);
    expect(REGIONS.slice(0, 3).reduce((t, _, r) => t + PRODUCTS.reduce((u, _p, p) => u + at(r, p, "Plan"), 0), 0)).toBeCloseTo(6000, 6);

    // Every consolidated cell at every level, and the Variance formula over each.
    const regionSets: [string, number[]][] = [
      ["[Region].[All Region]", [0, 1, 2, 3, 4, 5]],
      ["[Region].[North]", [0, 1, 2]],
      ["[Region].[South]", [3, 4, 5]],
      ...REGIONS.map((_, r): [string, number[]] => [regionName(r), [r]]),
    ];
    const productSets: [string, number[]][] = [["[Product].[All Product]", [0, 1, 2, 3]], ...PRODUCTS.map((_, p): [string, number[]] => [`[Product].[${PRODUCTS[p]}]`, [p]])];
    const asked: string[][] = [];
    const expected: number[] = [];
    for (const [rName, rs] of regionSets)
      for (const [pName, ps] of productSets)
        for (const s of ["Actual", "Plan", "Variance"]) {
          const sum = (sc: string) => rs.reduce((t, r) => t + ps.reduce((u, p) => u + at(r, p, sc), 0), 0);
          asked.push([rName, pName, `[Scenario].[${s}]`, "[Measures].[Units]"]);
          expected.push(s === "Variance" ? sum("Plan") - sum("Actual") : sum(s));
        }
    const got = await values(asked, sb.id);
    got.forEach((v, i) => {
      expect(v ?? 0).toBeCloseTo(expected[i], 6);
    });
    // The base has none of it.
    const base = await values(LEAVES.map((l) => l.members));
    const original = cells();
    LEAVES.forEach((l, i) => {
      const k = Array.from({ length: original.count }, (_, j) => j).find((j) => original.coords[0][j] === l.r + 3 && original.coords[1][j] === l.p + 1 && original.coords[2][j] === (l.s === "Plan" ? 1 : 0));
      expect(base[i]).toBe(k === undefined ? undefined : original.values[k]);
    });
  });

  it("plans a spread in a sandbox over the base as it is now, after another user's base write between two sandbox writes", async () => {
    const sb = await create("Base moves");
    await write(leaf(1, 3), 70, sb.id);
    // Bob changes a leaf the sandbox has not changed, in the base.
    await write(leaf(2, 3), 90, "", "bob");
    const p4North = ["[Region].[North]", "[Product].[P4]", "[Scenario].[Actual]", "[Measures].[Units]"];
    const [t] = await read([p4North], sb.id);
    const res = await api().lattice.writeCells({ cube: "Plan", writes: [{ members: p4North, value: 2 * (t.value ?? 0), baseVersion: t.version }], sandbox: sb.id });
    expect(res.results[0].status).toBe(WriteStatus.APPLIED);
    // Proportional: every leaf doubled, Bob's 90 included, and the sandbox's 70.
    expect(await values([leaf(0, 3), leaf(1, 3), leaf(2, 3)], sb.id)).toEqual([2 * 13, 140, 180]);
  });

  it("lets a user read a sandbox shared with it, and write only with a write share", async () => {
    const sb = await create("Shared");
    await write(leaf(1, 1), 321, sb.id);
    await api().sandbox.shareSandbox({ cube: "Plan", sandbox: sb.id, user: "bob", access: SandboxAccess.READ });
    expect(await values([leaf(1, 1)], sb.id, "bob")).toEqual([321]);
    const listed = (await api("bob").sandbox.listSandboxes({ cube: "Plan" })).sandboxes;
    expect(listed.map((s) => [s.id, s.access])).toEqual([[sb.id, SandboxAccess.READ]]);
    expect(listed[0].shares).toEqual([]);
    const [cell] = await read([leaf(1, 1)], sb.id, "bob");
    const refused = await rejection(api("bob").lattice.writeCells({ cube: "Plan", writes: [{ members: leaf(1, 1), value: 1, baseVersion: cell.version }], sandbox: sb.id }));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect((await rejection(api("bob").sandbox.commitSandbox({ cube: "Plan", sandbox: sb.id }))).code).toBe(Code.PermissionDenied);
    await api().sandbox.shareSandbox({ cube: "Plan", sandbox: sb.id, user: "bob", access: SandboxAccess.WRITE });
    await write(leaf(1, 1), 322, sb.id, "bob");
    expect(await values([leaf(1, 1)], sb.id)).toEqual([322]);
    // Bob streams through it; once the share is removed his stream ends before it shows anything new.
    const controller = new AbortController();
    const it = api("bob").lattice.watchCells({ cube: "Plan", cells: [{ members: leaf(1, 1) }], sandbox: sb.id }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      expect(((await it.next()).value as WatchCellsResponse).updates[0].cell?.value).toBe(322);
      await api().sandbox.shareSandbox({ cube: "Plan", sandbox: sb.id, user: "bob", access: SandboxAccess.NONE });
      await write(leaf(1, 1), 323, sb.id);
      const ended = await rejection(it.next());
      expect(ended.code).toBe(Code.NotFound);
    } finally {
      controller.abort();
    }
    expect((await rejection(read([leaf(1, 1)], sb.id, "bob"))).code).toBe(Code.NotFound);
  });

  it("streams sandbox writes and base writes to the leaves the sandbox has not changed", async () => {
    const sb = await create("Streaming");
    const mine = leaf(2, 0);
    const untouched = leaf(2, 1);
    const total = [regionName(2), "[Product].[All Product]", "[Scenario].[Actual]", "[Measures].[Units]"];
    await write(mine, 500, sb.id);
    const controller = new AbortController();
    const it = api().lattice.watchCells({ cube: "Plan", cells: [mine, untouched, total].map((members) => ({ members })), sandbox: sb.id }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      const first: WatchCellsResponse = (await it.next()).value;
      const seen: (number | undefined)[] = first.updates.map((u) => u.cell!.value);
      expect(seen[0]).toBe(500);
      // Bob writes the base: the untouched leaf and the total move through the sandbox; the sandbox's leaf does not.
      await write(untouched, 77, "", "bob");
      await write(mine, 1, "", "bob");
      const state = [...seen];
      while (state[1] !== 77) for (const u of ((await it.next()).value as WatchCellsResponse).updates) state[u.index] = u.cell!.value;
      expect(state[0]).toBe(500);
      // Ann writes in the sandbox: pushed.
      await write(mine, 600, sb.id);
      while (state[0] !== 600) for (const u of ((await it.next()).value as WatchCellsResponse).updates) state[u.index] = u.cell!.value;
      const exact = await values([total], sb.id);
      while (state[2] !== exact[0]) for (const u of ((await it.next()).value as WatchCellsResponse).updates) state[u.index] = u.cell!.value;
      expect(state).toEqual(await values([mine, untouched, total], sb.id));
    } finally {
      controller.abort();
      await it.return?.();
    }
  });

  it("commits all or nothing through the conflict check, or only the unconflicted leaves", async () => {
    const sb = await create("Conflicting");
    const a = leaf(3, 0);
    const c = leaf(3, 2);
    const [aBase, cBase] = await values([a, c]);
    await write(a, 1111, sb.id);
    await write(c, 3333, sb.id);
    await write(a, 42, "", "bob");
    const refused = await api().sandbox.commitSandbox({ cube: "Plan", sandbox: sb.id });
    expect(refused.status).toBe(WriteStatus.CONFLICT);
    expect(refused.conflictCount).toBe(1n);
    expect(refused.conflicts.map((x) => [x.members, x.sandboxValue, x.baseValue, x.updatedBy])).toEqual([[a, 1111, 42, "bob"]]);
    expect(await values([a, c])).toEqual([42, cBase]);
    expect(aBase).not.toBe(42);

    const partial = await api().sandbox.commitSandbox({ cube: "Plan", sandbox: sb.id, onlyUnconflicted: true });
    expect(partial).toMatchObject({ status: WriteStatus.APPLIED, leavesCommitted: 1n, conflictCount: 1n });
    expect(await values([a, c])).toEqual([42, 3333]);
    const tx = (await api().lattice.listTransactions({ cube: "Plan" })).transactions[0];
    expect(tx).toMatchObject({ transactionId: partial.transactionId, kind: TransactionKind.SANDBOX, leavesChanged: 1n });
    const listed = (await api().sandbox.listSandboxes({ cube: "Plan" })).sandboxes.find((s) => s.id === sb.id)!;
    expect(listed).toMatchObject({ state: SandboxState.COMMITTED, committedTransactionId: partial.transactionId });
    // Committed: kept to read, refused to write.
    expect(await values([a], sb.id)).toEqual([1111]);
    const [cell] = await read([a], sb.id);
    expect((await rejection(api().lattice.writeCells({ cube: "Plan", writes: [{ members: a, value: 5, baseVersion: cell.version }], sandbox: sb.id }))).code).toBe(Code.FailedPrecondition);
  });

  it("commits a conflicting leaf over the base when the owner keeps it (Keep mine)", async () => {
    const sb = await create("Keep mine");
    const a = leaf(4, 3);
    await write(a, 2222, sb.id);
    await write(a, 43, "", "bob");
    const kept = await api().sandbox.commitSandbox({ cube: "Plan", sandbox: sb.id, keepMine: [{ members: a }] });
    expect(kept).toMatchObject({ status: WriteStatus.APPLIED, leavesCommitted: 1n, conflictCount: 0n });
    expect(await values([a])).toEqual([2222]);
  });

  it("makes the base equal to the overlay after a commit without conflict, and keeps a sandbox across a restart", async () => {
    const sb = await create("Clean");
    const south = ["[Region].[South]", "[Product].[All Product]", "[Scenario].[Actual]", "[Measures].[Units]"];
    const [s] = await read([south], sb.id);
    const res = await api().lattice.writeCells({ cube: "Plan", writes: [{ members: south, value: 12_345, baseVersion: s.version }], sandbox: sb.id });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 12n });
    const overlay = await values(LEAVES.map((l) => l.members), sb.id);

    await server.restart();
    expect(await values(LEAVES.map((l) => l.members), sb.id)).toEqual(overlay);

    const done = await api().sandbox.commitSandbox({ cube: "Plan", sandbox: sb.id });
    expect(done).toMatchObject({ status: WriteStatus.APPLIED, leavesCommitted: 12n, conflictCount: 0n });
    expect(await values(LEAVES.map((l) => l.members))).toEqual(overlay);
    expect(await values([south])).toEqual([12_345]);
  }, 120_000);

  it("lists a sandbox's transactions and undoes a spread in it, leaving the base alone", async () => {
    const sb = await create("Undo inside");
    const north = ["[Region].[North]", "[Product]", "[Scenario].[Actual]", "[Measures].[Units]"];
    const before = await values(LEAVES.map((l) => l.members), sb.id);
    const baseBefore = await values(LEAVES.map((l) => l.members));
    const [n] = await read([north], sb.id);
    const spread = await api().lattice.writeCells({ cube: "Plan", writes: [{ members: north, value: 1000, baseVersion: n.version }], sandbox: sb.id });
    expect(spread.results[0].status).toBe(WriteStatus.APPLIED);
    const listed = (await api().lattice.listTransactions({ cube: "Plan", sandbox: sb.id })).transactions;
    expect(listed.map((t) => [t.transactionId, t.kind, t.leavesChanged])).toEqual([[spread.transactionId, TransactionKind.SPREAD, 12n]]);
    // Not among the base's transactions; not listed to someone without a role on the sandbox.
    expect((await api().lattice.listTransactions({ cube: "Plan" })).transactions.some((t) => t.transactionId === spread.transactionId)).toBe(false);
    expect((await rejection(api("bob").lattice.listTransactions({ cube: "Plan", sandbox: sb.id }))).code).toBe(Code.NotFound);

    const undo = await api().lattice.undoTransaction({ cube: "Plan", transactionId: spread.transactionId, sandbox: sb.id });
    expect(undo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: 12n });
    expect(await values(LEAVES.map((l) => l.members), sb.id)).toEqual(before);
    expect(await values(LEAVES.map((l) => l.members))).toEqual(baseBefore);
    const after = (await api().lattice.listTransactions({ cube: "Plan", sandbox: sb.id })).transactions;
    expect(after[0]).toMatchObject({ transactionId: undo.transactionId, kind: TransactionKind.UNDO, undoes: spread.transactionId });
    expect(after[1].undoneBy).toEqual([undo.transactionId]);
    // A leaf's history in the sandbox: the spread and its undo, none of it in the base's history.
    const [n1] = LEAVES.filter((l) => l.r === 0 && l.s === "Actual");
    const history = (await api().lattice.getCellHistory({ cube: "Plan", members: n1.members, sandbox: sb.id })).records;
    expect(history.map((h) => [h.transactionId, h.transactionKind, h.user])).toEqual([
      [undo.transactionId, TransactionKind.UNDO, "ann"],
      [spread.transactionId, TransactionKind.SPREAD, "ann"],
    ]);
    expect(history[0].newValue).toBe(history[1].oldValue);
    const baseHistory = (await api().lattice.getCellHistory({ cube: "Plan", members: n1.members })).records;
    expect(baseHistory.some((h) => h.transactionId === spread.transactionId || h.transactionId === undo.transactionId)).toBe(false);
    expect((await rejection(api("bob").lattice.getCellHistory({ cube: "Plan", members: n1.members, sandbox: sb.id }))).code).toBe(Code.NotFound);
    // A base transaction is not undone through a sandbox.
    const base = await write(leaf(0, 2), 5);
    expect((await rejection(api().lattice.undoTransaction({ cube: "Plan", transactionId: base.transactionId, sandbox: sb.id }))).code).toBe(Code.NotFound);
  });

  it("discards a sandbox with its values", async () => {
    const sb = await create("Scratch");
    await write(leaf(0, 3), 5, sb.id);
    await api().sandbox.discardSandbox({ cube: "Plan", sandbox: sb.id });
    expect((await rejection(read([leaf(0, 3)], sb.id))).code).toBe(Code.NotFound);
    expect((await api().sandbox.listSandboxes({ cube: "Plan" })).sandboxes.some((x) => x.id === sb.id)).toBe(false);
    expect((await rejection(api().sandbox.createSandbox({ cube: "Plan", name: "  " }))).code).toBe(Code.InvalidArgument);
  });
});
