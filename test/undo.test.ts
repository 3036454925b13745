/**
 * Undo through the Connect API over real HTTP, on PGlite and on the PostgreSQL server:
 * ListTransactions lists a user's transactions (an admin's, everyone's); UndoTransaction restores a
 * leaf write, a 100k-leaf spread and a scenario copy exactly, each leaf with one audit record under
 * the undo's transaction; an undo after a later overlapping write lists that leaf as a conflict and
 * changes nothing, or only the other leaves when asked; an undo can be undone; only the author or
 * an admin may undo.
 */
import { Code } from "@connectrpc/connect";
import { TransactionKind, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import type { CubeDef, DimensionDef, LeafCells } from "../backend/src/lattice";
import { apiClients } from "./helpers/clients";
import { rejection } from "./helpers/rejection";
import { CubeServer, type StoreKind } from "./helpers/cube-server";

/** A flat dimension: an All member over `n` leaves named `${prefix}1..n`. */
function flat(name: string, prefix: string, n: number): DimensionDef {
  return {
    name,
    levels: ["(All)", name],
    hasAll: true,
    members: [{ name: `All ${name}`, parent: -1, level: 0 }, ...Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i + 1}`, parent: 0, level: 1 }))],
  };
}

/** 100 regions × 100 products × 10 channels × Actual/Plan × Units. */
const def: CubeDef = {
  name: "Undo",
  description: "undo test cube",
  dimensions: [
    flat("Region", "R", 100),
    flat("Product", "P", 100),
    flat("Channel", "C", 10),
    { name: "Scenario", levels: ["Scenario"], hasAll: false, members: [{ name: "Actual", parent: -1, level: 0 }, { name: "Plan", parent: -1, level: 0 }] },
    { name: "Measures", levels: ["Measures"], hasAll: false, members: [{ name: "Units", parent: -1, level: 0 }] },
  ],
};

/** Every Actual leaf (coordinates by index r, p, c) holds a value, except where r + p + c is a multiple of 50 (holes). */
const hole = (r: number, p: number, c: number) => (r + p + c) % 50 === 0;

function cells(): LeafCells {
  const coords: number[][] = [[], [], [], [], []];
  const values: number[] = [];
  for (let r = 0; r < 100; r++)
    for (let p = 0; p < 100; p++)
      for (let c = 0; c < 10; c++) {
        if (hole(r, p, c)) continue;
        coords[0].push(r + 1);
        coords[1].push(p + 1);
        coords[2].push(c + 1);
        coords[3].push(0);
        coords[4].push(0);
        values.push(((r * 7 + p * 13 + c) % 97) + 1 + (p % 4) * 0.25);
      }
  return { count: values.length, coords: coords.map((c) => Int32Array.from(c)), values: Float64Array.from(values) };
}

/** The address of one leaf. */
const leaf = (r: number, p: number, c: number, scenario = "Actual") => [`[Region].[R${r + 1}]`, `[Product].[P${p + 1}]`, `[Channel].[C${c + 1}]`, `[Scenario].[${scenario}]`];

/** Every leaf of a scenario, or of region `r` only. */
function leaves(scenario: string, r?: number): string[][] {
  const out: string[][] = [];
  for (const rr of r === undefined ? Array.from({ length: 100 }, (_, i) => i) : [r]) for (let p = 0; p < 100; p++) for (let c = 0; c < 10; c++) out.push(leaf(rr, p, c, scenario));
  return out;
}

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("undo on %s", (kind) => {
  let server: CubeServer;

  beforeAll(async () => {
    server = await CubeServer.start(kind, def, cells(), { QATOM_ADMINS: "boss" });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  const lattice = (user = "ann") => apiClients(server.url, user).lattice;

  /** Values (undefined: empty) of cells, read in GetCells batches of 20,000. */
  async function values(addresses: string[][], user = "ann"): Promise<(number | undefined)[]> {
    const out: (number | undefined)[] = [];
    for (let i = 0; i < addresses.length; i += 20_000) {
      const res = await lattice(user).getCells({ cube: "Undo", cells: addresses.slice(i, i + 20_000).map((members) => ({ members })) });
      for (const c of res.cells) out.push(c.value);
    }
    return out;
  }

  async function version(members: string[]): Promise<bigint> {
    return (await lattice().getCells({ cube: "Undo", cells: [{ members }] })).cells[0].version;
  }


  it("undoes a leaf write as a new transaction with its own audit record, listed with what it undid; the undo can be undone", async () => {
    const cell = leaf(0, 0, 1);
    const [before] = await values([cell]);
    const w = await lattice().writeCells({ cube: "Undo", writes: [{ members: cell, value: 5, baseVersion: await version(cell) }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    const listed = (await lattice().listTransactions({ cube: "Undo" })).transactions;
    expect(listed[0]).toMatchObject({ transactionId: w.transactionId, user: "ann", kind: TransactionKind.WRITE, leavesChanged: 1n, undoneBy: [] });
    expect(listed[0].description).toBe(`${cell.join(", ")}, [Measures].[Units] = 5`);

    const undo = await lattice().undoTransaction({ cube: "Undo", transactionId: w.transactionId });
    expect(undo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: 1n, conflictCount: 0n });
    expect(undo.transactionId).not.toBe(w.transactionId);
    expect(await values([cell])).toEqual([before]);
    const history = (await lattice().getCellHistory({ cube: "Undo", members: cell })).records;
    expect(history[0]).toMatchObject({ transactionId: undo.transactionId, user: "ann", oldValue: 5, newValue: before, transactionKind: TransactionKind.UNDO, undoes: w.transactionId });
    expect(history[1]).toMatchObject({ transactionId: w.transactionId, oldValue: before, newValue: 5, transactionKind: TransactionKind.WRITE, undoes: "" });

    const after = (await lattice().listTransactions({ cube: "Undo", limit: 2 })).transactions;
    expect(after.map((t) => t.transactionId)).toEqual([undo.transactionId, w.transactionId]);
    expect(after[0]).toMatchObject({ kind: TransactionKind.UNDO, undoes: w.transactionId, leavesChanged: 1n });
    expect(after[0].description).toContain("undo of write");
    expect(after[1].undoneBy).toEqual([undo.transactionId]);

    // Undoing the undo writes the 5 again.
    const redo = await lattice().undoTransaction({ cube: "Undo", transactionId: undo.transactionId });
    expect(redo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: 1n });
    expect(await values([cell])).toEqual([5]);
  });

  it("lets only the author or a cube admin undo, and only an admin list every user's transactions", async () => {
    const cell = leaf(0, 1, 0);
    const w = await lattice().writeCells({ cube: "Undo", writes: [{ members: cell, value: 11, baseVersion: await version(cell) }] });
    const refused = await rejection(lattice("bob").undoTransaction({ cube: "Undo", transactionId: w.transactionId }));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect(refused.rawMessage).toContain("only its author (ann) or an admin of cube Undo");
    expect((await rejection(lattice("bob").listTransactions({ cube: "Undo", allUsers: true }))).code).toBe(Code.PermissionDenied);
    expect((await lattice("bob").listTransactions({ cube: "Undo" })).transactions).toEqual([]);
    expect((await rejection(lattice().undoTransaction({ cube: "Undo", transactionId: "no-such-transaction" }))).code).toBe(Code.NotFound);
    expect((await rejection(lattice().undoTransaction({ cube: "Undo", transactionId: " " }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(lattice().listTransactions({ cube: "Undo", limit: 5000 }))).code).toBe(Code.InvalidArgument);
    expect(await values([cell])).toEqual([11]);

    const everyone = (await lattice("boss").listTransactions({ cube: "Undo", allUsers: true })).transactions;
    expect(everyone.map((t) => t.transactionId)).toContain(w.transactionId);
    const undo = await lattice("boss").undoTransaction({ cube: "Undo", transactionId: w.transactionId });
    expect(undo.status).toBe(WriteStatus.APPLIED);
    expect((await lattice().getCellHistory({ cube: "Undo", members: cell })).records[0]).toMatchObject({ transactionId: undo.transactionId, user: "boss", oldValue: 11 });
  });

  it("lists a leaf changed by a later transaction as a conflict and changes nothing; only_unconflicted restores the others", async () => {
    const x = leaf(1, 0, 0);
    const y = leaf(1, 0, 1);
    const [x0, y0] = await values([x, y]);
    const w = await lattice().writeCells({
      cube: "Undo",
      writes: [
        { members: x, value: 100, baseVersion: await version(x) },
        { members: y, value: 200, baseVersion: await version(y) },
      ],
    });
    const later = await lattice("bob").writeCells({ cube: "Undo", writes: [{ members: x, value: 300, baseVersion: await version(x) }] });
    expect(later.results[0].status).toBe(WriteStatus.APPLIED);

    const refused = await lattice().undoTransaction({ cube: "Undo", transactionId: w.transactionId });
    expect(refused).toMatchObject({ status: WriteStatus.CONFLICT, conflictCount: 1n, transactionId: "", leavesRestored: 0n });
    expect(refused.conflicts).toHaveLength(1);
    expect(refused.conflicts[0]).toMatchObject({ members: [...x, "[Measures].[Units]"], currentValue: 300, updatedBy: "bob", undoValue: x0, version: later.results[0].version });
    expect(refused.message).toContain("nothing was undone");
    expect(await values([x, y])).toEqual([300, 200]);

    const partial = await lattice().undoTransaction({ cube: "Undo", transactionId: w.transactionId, onlyUnconflicted: true });
    expect(partial).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: 1n, conflictCount: 1n });
    expect(partial.conflicts[0].members).toEqual([...x, "[Measures].[Units]"]);
    expect(await values([x, y])).toEqual([300, y0]);
  });

  it("undoes a 100k-leaf spread exactly, one audit record per leaf under the undo; undoing the undo restores the spread", async () => {
    const all = leaves("Actual");
    const before = await values(all);
    const total = ["[Scenario].[Actual]"];
    const [{ value: sum, version: v }] = (await lattice().getCells({ cube: "Undo", cells: [{ members: total }] })).cells;
    const spread = await lattice().writeCells({ cube: "Undo", writes: [{ members: total, value: 2 * (sum ?? 0), baseVersion: v }] });
    const changed = before.filter((x) => x !== undefined && x !== 0).length;
    expect(changed).toBeGreaterThan(97_000);
    expect(spread.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: BigInt(changed) });
    const spreadValues = await values(all);
    expect(spreadValues).not.toEqual(before);
    const [listed] = (await lattice().listTransactions({ cube: "Undo", limit: 1 })).transactions;
    expect(listed).toMatchObject({ transactionId: spread.transactionId, kind: TransactionKind.SPREAD, leavesChanged: BigInt(changed) });
    expect(listed.description).toBe(`P spread of ${2 * (sum ?? 0)} into [Region].[All Region], [Product].[All Product], [Channel].[All Channel], [Scenario].[Actual], [Measures].[Units]`);

    const undo = await lattice().undoTransaction({ cube: "Undo", transactionId: spread.transactionId });
    expect(undo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: BigInt(changed), conflictCount: 0n });
    expect(await values(all)).toEqual(before);
    // One audit record per leaf under the undo: the transaction counts them, and sampled leaves' histories show theirs.
    const [undoRow] = (await lattice().listTransactions({ cube: "Undo", limit: 1 })).transactions;
    expect(undoRow).toMatchObject({ transactionId: undo.transactionId, leavesChanged: BigInt(changed), undoes: spread.transactionId });
    for (const k of [0, 12_345, 54_321, 99_999]) {
      if (before[k] === undefined) continue;
      const records = (await lattice().getCellHistory({ cube: "Undo", members: all[k], limit: 3 })).records;
      expect(records.filter((r) => r.transactionId === undo.transactionId)).toHaveLength(1);
      expect(records[0]).toMatchObject({ transactionId: undo.transactionId, oldValue: spreadValues[k], newValue: before[k] });
    }

    const redo = await lattice().undoTransaction({ cube: "Undo", transactionId: undo.transactionId });
    expect(redo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: BigInt(changed) });
    expect(await values(all)).toEqual(spreadValues);
  }, 180_000);

  it("undoes a scenario copy: cells it created become empty again, cells it cleared get their values back", async () => {
    const region = 2;
    // A Plan cell where Actual has a hole (r + p + c = 50): the copy clears it.
    const cleared = leaf(region, 45, 3, "Plan");
    await lattice().writeCells({ cube: "Undo", writes: [{ members: cleared, value: 42, baseVersion: 0n }] });
    const plan = leaves("Plan", region);
    const before = await values(plan);
    expect(before.filter((x) => x !== undefined)).toEqual([42]);
    const copy = await lattice().copyScenario({ cube: "Undo", from: "Actual", to: "Plan", factor: 1.1, slice: [`[Region].[R${region + 1}]`] });
    expect(copy).toMatchObject({ status: WriteStatus.APPLIED, leavesCleared: 1n });
    const actual = await values(leaves("Actual", region));
    const copied = await values(plan);
    for (const [k, x] of copied.entries()) {
      if (actual[k] === undefined) expect(x).toBeUndefined();
      else expect(x).toBeCloseTo(actual[k]! * 1.1, 10);
    }
    const [listed] = (await lattice().listTransactions({ cube: "Undo", limit: 1 })).transactions;
    expect(listed).toMatchObject({ kind: TransactionKind.COPY, description: `copy [Scenario].[Actual] to [Scenario].[Plan] × 1.1 in [Region].[R${region + 1}]` });

    const undo = await lattice().undoTransaction({ cube: "Undo", transactionId: copy.transactionId });
    expect(undo).toMatchObject({ status: WriteStatus.APPLIED, leavesRestored: copy.leavesChanged });
    expect(await values(plan)).toEqual(before);
  }, 60_000);

  it("keeps transactions and their undo across a restart", async () => {
    const cell = leaf(3, 3, 3);
    const [before] = await values([cell]);
    const w = await lattice().writeCells({ cube: "Undo", writes: [{ members: cell, value: 77, baseVersion: await version(cell) }] });
    await server.restart();
    expect((await lattice().listTransactions({ cube: "Undo", limit: 1 })).transactions[0].transactionId).toBe(w.transactionId);
    expect((await lattice().undoTransaction({ cube: "Undo", transactionId: w.transactionId })).status).toBe(WriteStatus.APPLIED);
    expect(await values([cell])).toEqual([before]);
  }, 60_000);
});
