/**
 * Typing over QATOM.CELL cells (pure parts of writeback): which typed values are writes, and
 * applyTyped with the pending-writes store and holds over a stand-in WriteCells.
 */
import type { CellSnapshot, FormulaCell, QatomApi } from "./contracts";
import { cellKey } from "./address";
import { HoldsStore } from "./holds";
import { CALCULATED_MESSAGE, CLEAR_CONFIRM_MESSAGE, PendingWritesStore } from "./pending-writes";
import { parseTypedText } from "./spreading";
import { applyTyped, typedValue } from "./writeback";
import { DataAction, SpreadMethod, WriteStatus, type WriteCellsRequest } from "../../proto/gen/quantatom/v1/lattice_pb";

const units = "[Measures].[Units]";
const snap = (value: number | null, consolidated: boolean, calculated = false): CellSnapshot => ({ value, version: 7n, consolidated, calculated });

describe("values typed over a cell", () => {
  it("takes numbers and cleared cells as values to write, and nothing else", () => {
    expect(typedValue({ address: "A1", formula: 42, valueType: "Double", value: 42 })).toBe(42);
    expect(typedValue({ address: "A1", formula: "", valueType: "Empty", value: "" })).toBeNull();
    expect(typedValue({ address: "A1", formula: "=1+1", valueType: "Double", value: 2 })).toBeUndefined();
    expect(typedValue({ address: "A1", formula: "abc", valueType: "String", value: "abc" })).toBeUndefined();
    expect(typedValue({ address: "A1", formula: true, valueType: "Boolean", value: true })).toBeUndefined();
  });
});

describe("the pending-writes store and typing, over a stand-in WriteCells", () => {
  const members = (region: string) => [units, region, "[Scenario].[Plan]"];
  const fc = (address: string, region: string, snapshot: CellSnapshot | null): FormulaCell => ({
    cube: "Demo",
    members: members(region),
    address,
    formula: `=QATOM.CELL("Demo","${units}","${region}","[Scenario].[Plan]")`,
    snapshot,
  });
  function setup() {
    const sent: WriteCellsRequest[] = [];
    const api = async () =>
      ({
        serverUrl: "http://stand-in",
        lattice: {
          async writeCells(req: WriteCellsRequest) {
            sent.push(req);
            return { results: req.writes.map((w) => ({ status: WriteStatus.APPLIED, version: 9n, leavesChanged: w.spread ? 2n : 1n, currentValue: w.value ?? 33, message: "", updatedBy: "" })), transactionId: "tx" };
          },
        },
      }) as unknown as QatomApi;
    const holds = new HoldsStore();
    const pending = new PendingWritesStore(api, holds);
    const grid = new Map<string, FormulaCell>();
    const targets = { cells: { find: (a: string) => grid.get(cellKey(a)) }, pending, holds };
    const place = (c: FormulaCell) => grid.set(cellKey(c.address), c);
    return { sent, holds, pending, targets, place };
  }

  it("spreads a value typed over a consolidated cell proportionally unless changed, and sends the cube's holds", async () => {
    const { sent, holds, pending, targets } = setup();
    const north = fc("Sheet1!B2", "[Region].[North]", snap(30, true));
    const oslo = fc("Sheet1!B3", "[Region].[North].[Oslo]", snap(10, false));
    expect(applyTyped(targets, oslo, parseTypedText("H")!)).toEqual({ kind: "held", cell: oslo });
    expect(holds.get()).toEqual([{ id: expect.any(String), address: "Sheet1!B3", cube: "Demo", members: oslo.members, consolidated: false }]);
    const out = applyTyped(targets, north, { kind: "value", value: 60 });
    expect(out).toMatchObject({ kind: "writes", writes: [{ consolidated: true, value: 60, spread: { method: "P", action: "replace", includeEmpty: false, reference: [] }, status: "pending" }] });
    pending.setSpread("sheet1!B2", { method: "S" });
    await pending.submit();
    expect(sent).toHaveLength(1);
    expect(sent[0].holds.map((h) => h.members)).toEqual([oslo.members]);
    expect(sent[0].writes[0]).toMatchObject({ value: 60, baseVersion: 7n, spread: { method: SpreadMethod.EQUAL, action: DataAction.REPLACE } });
    expect(pending.list()[0]).toMatchObject({ status: "applied", leavesChanged: 2, currentValue: 60, baseVersion: 9n });

    // RH releases; the next WriteCells carries no hold
    expect(applyTyped(targets, oslo, parseTypedText("RH")!)).toEqual({ kind: "released", cell: oslo });
    applyTyped(targets, north, parseTypedText("P%+10")!);
    expect(pending.list()[0]).toMatchObject({ value: 10, spread: { method: "P%", action: "add" }, code: "P%+10", status: "pending" });
    await pending.submit();
    expect(sent[1].holds).toEqual([]);
    expect(sent[1].writes[0].value).toBeUndefined();
    expect(sent[1].writes[0].spread).toMatchObject({ method: SpreadMethod.PERCENT_CHANGE, action: DataAction.ADD, percent: 10 });
  });

  it("refuses a calculated cell, a bad code and RP without a reference, locally and with the reason", async () => {
    const { sent, pending, targets } = setup();
    const avg = fc("Sheet1!C2", "[Region].[North]", snap(3, false, true));
    applyTyped(targets, avg, { kind: "value", value: 5 });
    expect(pending.list()[0]).toMatchObject({ status: "rejected", message: CALCULATED_MESSAGE });
    expect(applyTyped(targets, avg, parseTypedText("H")!)).toMatchObject({ kind: "refused", write: { message: expect.stringMatching(/calculated by a formula/) } });

    const north = fc("Sheet1!B2", "[Region].[North]", snap(30, true));
    applyTyped(targets, north, parseTypedText("P1OO")!);
    expect(pending.list()[1]).toMatchObject({ status: "rejected", code: "P1OO", value: null, message: expect.stringMatching(/"OO" at character 3/) });
    applyTyped(targets, north, parseTypedText("RP100")!);
    expect(pending.list()[1]).toMatchObject({ status: "rejected", spread: { method: "RP" }, message: expect.stringMatching(/needs a reference cell/) });
    pending.setSpread("sheet1!B2", { reference: ["[Scenario].[Actual]"] });
    expect(pending.list()[1]).toMatchObject({ status: "pending", spread: { method: "RP", reference: ["[Scenario].[Actual]"] } });
    expect(pending.list()[1].message).toBeUndefined();
    // C then back to P: a method that needs a value has none
    applyTyped(targets, north, parseTypedText("C")!);
    pending.setSpread("sheet1!B2", { method: "P" });
    expect(pending.list()[1]).toMatchObject({ status: "rejected", message: expect.stringMatching(/Proportional \(P\) needs a value/) });
    pending.setSpread("sheet1!B2", { method: "C" });
    // clearing a consolidated cell waits for the pane's confirmation: Submit leaves it
    expect(pending.list()[1]).toMatchObject({ status: "pending", confirm: CLEAR_CONFIRM_MESSAGE });
    await pending.submit();
    expect(sent).toHaveLength(0);
    pending.confirm("sheet1!B2");
    await pending.submit();
    expect(sent).toHaveLength(1);
    expect(sent[0].writes).toHaveLength(1); // the calculated cell's write is never sent
    expect(sent[0].writes[0]).toMatchObject({ value: undefined, spread: { method: SpreadMethod.CLEAR } });
  });

  it("refuses a value beyond ±1e15 before sending, with the server's message, whatever the spread", async () => {
    const { sent, pending, targets } = setup();
    const oslo = fc("Sheet1!B3", "[Region].[North].[Oslo]", snap(10, false));
    const north = fc("Sheet1!B2", "[Region].[North]", snap(30, true));
    applyTyped(targets, oslo, { kind: "value", value: 1.7976931348623157e308 });
    applyTyped(targets, north, parseTypedText("P+2E15")!);
    const message = (v: number) => `the value ${v} is beyond ±1e15, the largest magnitude a cell may hold (MAX_ABS_VALUE: Excel's 15 significant digits)`;
    expect(pending.list()).toMatchObject([
      { status: "rejected", message: message(1.7976931348623157e308) },
      { status: "rejected", code: "P+2E15", message: message(2e15) },
    ]);
    pending.setSpread("sheet1!B2", { method: "S" });
    expect(pending.list()[1]).toMatchObject({ status: "rejected", message: message(2e15) });
    await pending.submit();
    expect(sent).toHaveLength(0);
    applyTyped(targets, oslo, { kind: "value", value: -1e15 });
    expect(pending.list()[0]).toMatchObject({ status: "pending", value: -1e15 });
  });

  it("expands SL and GR over the QATOM cells in a direction, skipping held cells, and stops at the first other cell", () => {
    const { pending, holds, targets, place } = setup();
    const row = [
      fc("Sheet1!B5", "[Region].[North].[Oslo]", snap(1, false)),
      fc("Sheet1!C5", "[Region].[North].[Bergen]", snap(2, false)),
      fc("Sheet1!D5", "[Region].[South].[Rome]", snap(3, false)),
      fc("Sheet1!E5", "[Region].[North]", snap(3, true)),
    ];
    row.forEach(place);
    // F5 holds no QATOM.CELL: the run ends at E5
    const out = applyTyped(targets, row[0], parseTypedText("SL>100:400")!);
    expect(out.kind).toBe("writes");
    expect(pending.list().map((w) => [w.address, w.value, w.spread?.method ?? "leaf"])).toEqual([
      ["Sheet1!B5", 100, "leaf"],
      ["Sheet1!C5", 200, "leaf"],
      ["Sheet1!D5", 300, "leaf"],
      ["Sheet1!E5", 400, "P"],
    ]);
    pending.discard();
    // to the left from E5, with a held cell (D5) skipped and the line not shifted; GR grows 10% a cell
    holds.hold(row[2]);
    applyTyped(targets, row[3], parseTypedText("GR100:10<")!);
    const values = Object.fromEntries(pending.list().map((w) => [w.address, w.value]));
    expect(Object.keys(values)).toEqual(["Sheet1!E5", "Sheet1!C5", "Sheet1!B5"]);
    expect(values["Sheet1!E5"]).toBe(100);
    expect(values["Sheet1!C5"]).toBeCloseTo(121, 9);
    expect(values["Sheet1!B5"]).toBeCloseTo(133.1, 9);
    pending.discard();
    // a data action: SL+ adds the line to each leaf's value
    holds.releaseAll();
    applyTyped(targets, row[0], parseTypedText("SL+100:200|")!); // nothing below B5
    expect(pending.list().map((w) => w.value)).toEqual([101]);
    pending.discard();
    // a code with a direction applies to every cell of the run: P%+10 to the right
    applyTyped(targets, row[1], parseTypedText("P%+>10")!);
    expect(pending.list().map((w) => [w.address, w.value, w.spread?.method ?? "leaf"])).toEqual([
      ["Sheet1!C5", 2.2, "leaf"],
      ["Sheet1!D5", 3.3, "leaf"],
      ["Sheet1!E5", 10, "P%"],
    ]);
    pending.discard();
    expect(applyTyped(targets, row[0], parseTypedText("SL<>1:2")!)).toMatchObject({ kind: "refused", write: { message: expect.stringMatching(/SL fills one direction/) } });
  });

  it("spreads P>300 over 10, 30, 60 as one target, 30, 90, 180, as TM1 spreads over a range (not 300 in each)", () => {
    const { pending, holds, targets, place } = setup();
    const row = [
      fc("Sheet1!B7", "[Region].[North].[Oslo]", snap(10, false)),
      fc("Sheet1!C7", "[Region].[North].[Bergen]", snap(30, false)),
      fc("Sheet1!D7", "[Region].[South].[Rome]", snap(60, false)),
      fc("Sheet1!E7", "[Region].[South]", snap(60, true)),
    ];
    row.forEach(place);
    const r9 = (x: number) => Math.round(x * 1e9) / 1e9;
    const list = () => pending.list().map((w) => [w.address, r9(w.value ?? Number.NaN), w.spread?.method ?? "leaf"]);
    // the consolidated E7 is dropped from a run of mixed levels (IBM "Spreading to a range", Filter 1)
    applyTyped(targets, row[0], parseTypedText("P>300")!);
    expect(list()).toEqual([
      ["Sheet1!B7", 30, "leaf"],
      ["Sheet1!C7", 90, "leaf"],
      ["Sheet1!D7", 180, "leaf"],
    ]);
    pending.discard();
    // both ways from the middle cell; P+ adds 100 to the run's total in proportion
    applyTyped(targets, row[1], parseTypedText("P+<>100")!);
    expect(list()).toEqual([
      ["Sheet1!B7", 20, "leaf"],
      ["Sheet1!C7", 60, "leaf"],
      ["Sheet1!D7", 120, "leaf"],
    ]);
    pending.discard();
    // a held cell is dropped from the range (Filter 2a): 300 over 10 : 60
    holds.hold(row[1]);
    applyTyped(targets, row[0], parseTypedText("P>300")!);
    expect(list()).toEqual([
      ["Sheet1!B7", r9(300 / 7), "leaf"],
      ["Sheet1!D7", r9(1800 / 7), "leaf"],
    ]);
    pending.discard();
    // S>300: equal shares over the cells left
    applyTyped(targets, row[0], parseTypedText("S>300")!);
    expect(list()).toEqual([
      ["Sheet1!B7", 150, "leaf"],
      ["Sheet1!D7", 150, "leaf"],
    ]);
    pending.discard();
    // a run of consolidated cells only: each gets a proportional spread of its share
    const totals = [fc("Sheet1!B8", "[Region].[North]", snap(40, true)), fc("Sheet1!C8", "[Region].[South]", snap(60, true))];
    totals.forEach(place);
    applyTyped(targets, totals[0], parseTypedText("P>200")!);
    expect(list()).toEqual([
      ["Sheet1!B8", 80, "P"],
      ["Sheet1!C8", 120, "P"],
    ]);
    pending.discard();
    // every cell held: refused with the reason, nothing pending
    holds.hold(row[0]);
    holds.hold(row[2]);
    holds.hold(row[3]);
    expect(applyTyped(targets, row[0], parseTypedText("P>300")!)).toMatchObject({ kind: "refused", write: { status: "rejected", message: expect.stringMatching(/every cell of the run is held/) } });
  });
});
