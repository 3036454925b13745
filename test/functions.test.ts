/**
 * The QATOM custom functions as Excel runs them: the functions bundle (esbuild, as the build makes
 * it) loaded with stand-ins for Excel's CustomFunctions, OfficeRuntime and Office/Excel globals,
 * against a real backend on an ephemeral port (the small Demo cube in a temporary PGlite store).
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { cellKey, columnLetters, parseCell, parseRange, rangeContains } from "../addin/src/address";
import { WaveBatcher } from "../addin/src/batcher";
import { buildCellFormula, isSingleCellCall } from "../addin/src/formula-text";
import type { CellSnapshot, FormulaCell, QatomApi } from "../addin/src/contracts";
import { HoldsStore } from "../addin/src/holds";
import { CALCULATED_MESSAGE, PendingWritesStore } from "../addin/src/pending-writes";
import { entryForCode, parseTypedText, splitMembers, spreadCodeText, type SpreadCode, toProtoSpread, wireValue } from "../addin/src/spreading";
import { backoffDelay } from "../addin/src/streams";
import { applyTyped, readTyped, typedValue } from "../addin/src/writeback";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { type Cell, CellSchema, DataAction, SpreadMethod, WriteStatus, type WriteCellsRequest } from "../proto/gen/quantatom/v1/lattice_pb";
import { quietStart, testConfig } from "./helpers/server";
import { apiClients } from "./helpers/clients";
import { type LoadedFunctions, loadFunctions } from "./helpers/functions-bundle";
import { StandInError, StreamingInvocationStub, waitFor } from "./helpers/office-stand-ins";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const units = "[Measures].[Units]";

async function startDemoServer(dataDir: string, port = 0): Promise<RunningServer> {
  const s = await startServer(testConfig({ PORT: String(port), QATOM_DATA_DIR: dataDir }), quietStart());
  await s.ready;
  return s;
}

async function newDemoStore(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-functions-"));
  const store = await openStore({ dataDir });
  await store.saveCube(smallCubeDef, smallCubeCells());
  await store.close();
  return dataDir;
}

function otherClient(url: string, user = "bob") {
  return apiClients(url, user);
}

describe("the shared runtime's pure parts", () => {
  it("reads A1 addresses as Excel writes them", () => {
    expect(parseCell("'My ''Plan'' Sheet'!$AB$12")).toEqual({ sheet: "My 'Plan' Sheet", col: 28, row: 12 });
    expect(columnLetters(28)).toBe("AB");
    expect(cellKey("Sheet1!$b$3")).toBe(cellKey("'sheet1'!B3"));
    const cell = parseCell("Sheet1!C4")!;
    expect(rangeContains(parseRange("B3:D9", "Sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("C:C", "sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("4:4", "Sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("D4", "Sheet1")!, cell)).toBe(false);
    expect(rangeContains(parseRange("C4", "Sheet2")!, cell)).toBe(false);
  });

  it("writes back only over a formula that is exactly one QATOM.CELL call", () => {
    expect(isSingleCellCall('=QATOM.CELL("Sales","[Store].[USA]")')).toBe(true);
    expect(isSingleCellCall("= qatom.cell($A$1, B$2, Sheet2!C3:C9)")).toBe(true);
    expect(isSingleCellCall('=QATOM.CELL("a)b","c""(")')).toBe(true);
    expect(isSingleCellCall('=QATOM.CELL("Sales","x")*2')).toBe(false);
    expect(isSingleCellCall('=QATOM.CELL("S","a")+QATOM.CELL("S","b")')).toBe(false);
    expect(isSingleCellCall('=SUM(QATOM.CELL("S","a"))')).toBe(false);
    expect(isSingleCellCall('=QATOM.COMMENT("S","a")')).toBe(false);
    const rebuilt = buildCellFormula({ cube: "Sales", members: ['[Product].[Say "hi"]', "Beverages"] });
    expect(rebuilt).toBe('=QATOM.CELL("Sales","[Product].[Say ""hi""]","Beverages")');
    expect(isSingleCellCall(rebuilt)).toBe(true);
  });

  it("takes numbers and cleared cells as values to write, and nothing else", () => {
    expect(typedValue({ address: "A1", formula: 42, valueType: "Double", value: 42 })).toBe(42);
    expect(typedValue({ address: "A1", formula: "", valueType: "Empty", value: "" })).toBeNull();
    expect(typedValue({ address: "A1", formula: "=1+1", valueType: "Double", value: 2 })).toBeUndefined();
    expect(typedValue({ address: "A1", formula: "abc", valueType: "String", value: "abc" })).toBeUndefined();
    expect(typedValue({ address: "A1", formula: true, valueType: "Boolean", value: true })).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped", () => {
    const o = { backoffBaseMs: 1000, backoffMaxMs: 30_000 };
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...o, random: () => 0.999 })).toBeCloseTo(1000, -1);
    expect(backoffDelay(3, { ...o, random: () => 0 })).toBe(4000);
    expect(backoffDelay(50, { ...o, random: () => 0.999 })).toBeLessThanOrEqual(30_000);
    expect(backoffDelay(50, { ...o, random: () => 0 })).toBe(15_000);
  });

  it("dedupes a wave and splits it only above the cell limit", async () => {
    const sent: string[][][] = [];
    const batcher = new WaveBatcher(
      async (_cube, cells) => {
        sent.push(cells);
        return cells.map((m): Cell => create(CellSchema, { value: Number(m[0]), version: 1n }));
      },
      5,
      3,
    );
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.get("c", "C", String(i % 7), [String(i % 7)])));
    expect(sent.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(answers.map((a) => ("cell" in a ? a.cell.value : null))).toEqual(Array.from({ length: 20 }, (_, i) => i % 7));
  });
});

describe("spreading codes typed over QATOM.CELL cells (pure)", () => {
  const snap = (value: number | null, consolidated: boolean, calculated = false): CellSnapshot => ({ value, version: 7n, consolidated, calculated });
  const code = (text: string) => {
    const t = parseTypedText(text);
    if (t?.kind !== "code") throw new Error(`${text} is not a code: ${JSON.stringify(t)}`);
    return t.code;
  };
  const cellCode = (text: string) => code(text) as Extract<SpreadCode, { kind: "P" | "S" | "R" | "RP" | "LS" | "LR" | "P%" | "R%" | "C" }>;

  it("reads typed text as a value, a code, a bad code (part and position named), or a note left alone", () => {
    expect(parseTypedText("250")).toEqual({ kind: "value", value: 250 });
    expect(parseTypedText(" -12.5 ")).toEqual({ kind: "value", value: -12.5 });
    expect(parseTypedText("")).toEqual({ kind: "value", value: null });
    expect(code("P100")).toEqual({ kind: "P", action: "replace", directions: [], value: 100 });
    expect(code("s+200")).toEqual({ kind: "S", action: "add", directions: [], value: 200 });
    expect(code("LS*50")).toMatchObject({ kind: "LS", allLeaves: true, value: 50 });
    expect(code("P%+10")).toMatchObject({ kind: "P%", action: "add", percent: 10 });
    expect(code("P%~5")).toMatchObject({ kind: "P%", action: "subtract", percent: 5 });
    expect(code("C")).toEqual({ kind: "C", directions: [] });
    expect(code("H")).toEqual({ kind: "H" });
    expect(code("rh")).toEqual({ kind: "RH" });
    // TM1 writes the direction after the method; after the arguments is accepted too
    expect(code("SL>100:200")).toMatchObject({ kind: "SL", directions: [">"], start: 100, end: 200 });
    expect(code("SL100:200>")).toMatchObject({ kind: "SL", directions: [">"], start: 100, end: 200 });
    expect(code("GR100:10|")).toMatchObject({ kind: "GR", directions: ["|"], start: 100, rate: 10 });
    expect(code("P%+10<")).toMatchObject({ kind: "P%", directions: ["<"], percent: 10 });
    for (const note of ["n/a", "Plan", "Check", "TBD", "R&D", "Sales up", "see Q1"]) expect(parseTypedText(note)).toBeUndefined();
    expect(parseTypedText("P1OO")).toEqual({ kind: "bad", text: "P1OO", message: expect.stringMatching(/^"P1OO" is not a spreading code \("OO" at character 3\): P: unexpected "OO"/) });
    expect(parseTypedText("SL100")).toMatchObject({ kind: "bad", message: expect.stringMatching(/character 6.*SL: expected ":"/) });
    expect(parseTypedText("C+")).toMatchObject({ kind: "bad", message: expect.stringMatching(/C takes no data action/) });
    // what the sheet holds: numbers, cleared cells, text codes; formulas and booleans are not typed values
    expect(readTyped({ address: "A1", formula: 42, valueType: "Double", value: 42 })).toEqual({ kind: "value", value: 42 });
    expect(readTyped({ address: "A1", formula: "", valueType: "Empty", value: "" })).toEqual({ kind: "value", value: null });
    expect(readTyped({ address: "A1", formula: "P%+10", valueType: "String", value: "P%+10" })).toMatchObject({ kind: "code", text: "P%+10" });
    expect(readTyped({ address: "A1", formula: "=1+1", valueType: "Double", value: 2 })).toBeUndefined();
    expect(readTyped({ address: "A1", formula: true, valueType: "Boolean", value: true })).toBeUndefined();
  });

  it("maps a code over a consolidated cell to its spread, and over a leaf to a value as TM1 applies it", () => {
    const total = snap(30, true);
    expect(entryForCode(cellCode("P100"), total)).toEqual({ ok: true, value: 100, spread: { method: "P", action: "replace" } });
    expect(entryForCode(cellCode("S+200"), total)).toEqual({ ok: true, value: 200, spread: { method: "S", action: "add" } });
    expect(entryForCode(cellCode("LS*50"), total)).toEqual({ ok: true, value: 50, spread: { method: "LS", action: "replace", includeEmpty: true } });
    expect(entryForCode(cellCode("LR~5"), total)).toEqual({ ok: true, value: 5, spread: { method: "LR", action: "subtract", includeEmpty: false } });
    expect(entryForCode(cellCode("R12"), total)).toEqual({ ok: true, value: 12, spread: { method: "R", action: "replace" } });
    expect(entryForCode(cellCode("P%+10"), total)).toEqual({ ok: true, value: 10, spread: { method: "P%", action: "add" } });
    expect(entryForCode(cellCode("RP100"), total)).toEqual({ ok: true, value: 100, spread: { method: "RP", action: "replace" } });
    expect(entryForCode(cellCode("R%+20"), total)).toEqual({ ok: true, value: 20, spread: { method: "R%", action: "add" } });
    expect(entryForCode(cellCode("C"), total)).toEqual({ ok: true, value: null, spread: { method: "C", action: "replace" } });

    const leaf = snap(10, false);
    expect(entryForCode(cellCode("P100"), leaf)).toEqual({ ok: true, value: 100 });
    expect(entryForCode(cellCode("S+200"), leaf)).toEqual({ ok: true, value: 210 });
    expect(entryForCode(cellCode("R~4"), leaf)).toEqual({ ok: true, value: 6 });
    expect(entryForCode(cellCode("P%+10"), leaf)).toEqual({ ok: true, value: 11 });
    expect(entryForCode(cellCode("P%~5"), leaf)).toEqual({ ok: true, value: 9.5 });
    expect(entryForCode(cellCode("P%50"), leaf)).toEqual({ ok: true, value: 5 });
    expect(entryForCode(cellCode("P%+10"), snap(null, false))).toEqual({ ok: true, value: null }); // empty stays empty
    expect(entryForCode(cellCode("S+5"), snap(null, false))).toEqual({ ok: true, value: 5 });
    expect(entryForCode(cellCode("C"), leaf)).toEqual({ ok: true, value: null });
    expect(entryForCode(cellCode("RP100"), leaf)).toEqual({ ok: true, value: 100 });
    expect(entryForCode(cellCode("R%+20"), leaf)).toMatchObject({ ok: false, message: expect.stringMatching(/R%.*leaf cell/) });
  });

  it("sends the proto's Spread: method, action, include_empty, percent, reference; no value for C and percentages", () => {
    const s = (method: "P" | "LS" | "P%" | "RP" | "C", action: "replace" | "add" | "subtract" = "replace", includeEmpty = false, reference: string[] = []) => ({ method, action, includeEmpty, reference });
    expect(toProtoSpread(s("P"), 100)).toEqual({ method: SpreadMethod.PROPORTIONAL, action: DataAction.REPLACE, includeEmpty: false, percent: 0, reference: [] });
    expect(toProtoSpread(s("LS", "add", true), 50)).toEqual({ method: SpreadMethod.EQUAL_LEAVES, action: DataAction.ADD, includeEmpty: true, percent: 0, reference: [] });
    expect(toProtoSpread(s("P%", "subtract"), 5)).toMatchObject({ method: SpreadMethod.PERCENT_CHANGE, action: DataAction.SUBTRACT, percent: 5 });
    expect(toProtoSpread(s("RP", "replace", false, [" [Scenario].[Actual] ", ""]), 100)).toMatchObject({ method: SpreadMethod.RELATIVE_PROPORTIONAL, reference: ["[Scenario].[Actual]"] });
    expect(toProtoSpread(s("C"), null)).toMatchObject({ method: SpreadMethod.CLEAR });
    expect(wireValue(100, s("P"))).toBe(100);
    expect(wireValue(10, s("P%"))).toBeUndefined();
    expect(wireValue(null, s("C"))).toBeUndefined();
    expect(wireValue(null, undefined)).toBeUndefined();
    expect(spreadCodeText(s("P"), 500)).toBe("500");
    expect(spreadCodeText(s("P%", "add"), 10)).toBe("P%+10");
    expect(spreadCodeText(s("LS", "subtract", true), 50)).toBe("LS~*50");
    expect(spreadCodeText(s("C"), null)).toBe("C");
    expect(splitMembers(" [Scenario].[Actual], [Customers].[Smith, Ann] ,Q1,")).toEqual(["[Scenario].[Actual]", "[Customers].[Smith, Ann]", "Q1"]);
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
      await pending.submit();
      expect(sent).toHaveLength(1);
      expect(sent[0].writes).toHaveLength(1); // the calculated cell's write is never sent
      expect(sent[0].writes[0]).toMatchObject({ value: undefined, spread: { method: SpreadMethod.CLEAR } });
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
  });
});

describe("QATOM functions bundle against a real backend", () => {
  let dataDir: string;
  let server: RunningServer;
  const loaded: LoadedFunctions[] = [];

  async function load(extra: Partial<Parameters<typeof loadFunctions>[0]> = {}): Promise<LoadedFunctions> {
    const f = await loadFunctions({ serverUrl: server.url, ...extra });
    loaded.push(f);
    return f;
  }

  function cell(f: LoadedFunctions, cube: unknown, members: unknown[], address?: string): StreamingInvocationStub<number> {
    const inv = new StreamingInvocationStub<number>(address);
    f.functions.get("CELL")!(cube, members.map((m) => (Array.isArray(m) ? m : [[m]])), inv);
    return inv;
  }

  beforeAll(async () => {
    dataDir = await newDemoStore();
    server = await startDemoServer(dataDir);
  });

  afterEach(() => {
    for (const f of loaded.splice(0)) f.dispose();
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends 1,000 QATOM.CELL calls of one wave as one GetCells of the distinct cells, and streams them on one WatchCells", async () => {
    const f = await load();
    const regions = ["[Region].[All Regions]", "[Region].[North]", "[Region].[North].[Oslo]", "[Region].[North].[Bergen]", "[Region].[South]", "[Region].[South].[Rome]"];
    const products = ["[Product].[All Products]", "[Product].[Widget]", "[Product].[Gadget]", "[Product].[Alpha]"];
    const channels = ["[Channel].[All Channels]", "[Channel].[Web]", "[Channel].[Alpha]"];
    const combos: string[][] = [];
    for (const r of regions) for (const p of products) for (const c of channels) combos.push([units, r, p, c]);
    const calls = Array.from({ length: 1000 }, (_, i) => combos[i % combos.length]);
    const invocations = calls.map((members) => cell(f, "Demo", members));
    await waitFor(() => invocations.every((inv) => inv.results.length > 0), 5000, "every call's first value");

    const gets = f.requests.filter((r) => r.method === "GetCells");
    expect(gets.length).toBeGreaterThanOrEqual(1);
    expect(gets.length).toBeLessThanOrEqual(3);
    const sent = gets.flatMap((g) => g.cells!.map((m) => m.join("|")));
    expect(sent.length).toBe(combos.length);
    expect(new Set(sent)).toEqual(new Set(combos.map((m) => m.join("|"))));

    // the values are the server's
    const truth = await otherClient(server.url).lattice.getCells({ cube: "Demo", cells: combos.map((members) => ({ members })) });
    invocations.forEach((inv, i) => {
      expect(inv.last).toBe(truth.cells[i % combos.length].value ?? 0);
    });

    await waitFor(() => f.context.streamedCellCount("Demo") === combos.length, 5000, "the stream");
    const watches = f.requests.filter((r) => r.method === "WatchCells");
    expect(watches).toHaveLength(1);
    expect(watches[0].cells).toHaveLength(combos.length);
    expect(gets.every((g) => g.user === "tester")).toBe(true);
  });

  it("splits a cube's stream only above the server's cell limit", async () => {
    const f = await load({ tuning: { streams: { debounceMs: 30, backoffBaseMs: 100, backoffMaxMs: 400, maxCells: 2 } } });
    const regions = ["[Region].[North]", "[Region].[South]", "[Region].[North].[Oslo]", "[Region].[North].[Bergen]", "[Region].[South].[Rome]"];
    const invs = regions.map((r) => cell(f, "Demo", [units, r]));
    await waitFor(() => f.context.streamedCellCount("Demo") === 5, 5000, "the streams");
    expect(f.requests.filter((r) => r.method === "WatchCells").map((r) => r.cells!.length)).toEqual([2, 2, 1]);
    expect(invs.every((i) => typeof i.last === "number")).toBe(true);
  });

  it("updates a streaming QATOM.CELL on a consolidated ancestor within one second of another client's WriteCells", async () => {
    const f = await load();
    const total = cell(f, "Demo", [units, "[Region].[North]", "[Scenario].[Plan]"]);
    await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream");
    const before = total.last as number;
    expect(typeof before).toBe("number");

    const bob = otherClient(server.url, "bob").lattice;
    const leaf = [units, "[Region].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leaf }] });
    const t0 = Date.now();
    const w = await bob.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 7, baseVersion: cur.cells[0].version }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    await waitFor(() => total.last === before + 7, 1000, "the streamed total");
    expect(Date.now() - t0).toBeLessThan(1000);
    // one stream, no further reads
    expect(f.requests.filter((r) => r.method === "WatchCells")).toHaveLength(1);
    expect(f.requests.filter((r) => r.method === "GetCells")).toHaveLength(1);
  });

  it("unsubscribes a canceled formula: the stream restarts without it and it gets no more results", async () => {
    const f = await load();
    const watched = () => server.backend.cube("Demo").cube.watchedCellCount();
    const south = cell(f, "Demo", [units, "[Region].[South]", "[Scenario].[Plan]"]);
    const north = cell(f, "Demo", [units, "[Region].[North]", "[Scenario].[Plan]"]);
    // a second formula on the same cell shares it
    const south2 = cell(f, "Demo", [units, "[Region].[South]", "[Scenario].[Plan]"]);
    await waitFor(() => f.context.streamedCellCount("Demo") === 2, 5000, "the stream");
    const onServer = watched();
    expect(onServer).toBeGreaterThanOrEqual(2);

    south.cancel();
    await new Promise((r) => setTimeout(r, 150));
    expect(f.context.streamedCellCount("Demo")).toBe(2); // south2 still shows it
    south2.cancel();
    await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream without South");
    await waitFor(() => watched() <= onServer - 1, 5000, "the server's watch set to shrink");
    const lastWatch = f.requests.filter((r) => r.method === "WatchCells").at(-1)!;
    expect(lastWatch.cells).toEqual([[units, "[Region].[North]", "[Scenario].[Plan]"]]);

    const southResults = south.results.length;
    const bob = otherClient(server.url).lattice;
    const rome = [units, "[Region].[South].[Rome]", "[Product].[Gadget]", "[Channel].[Alpha]", "[Scenario].[Plan]"];
    const cur = await bob.getCells({ cube: "Demo", cells: [{ members: rome }] });
    await bob.writeCells({ cube: "Demo", writes: [{ members: rome, value: (cur.cells[0].value ?? 0) + 1, baseVersion: cur.cells[0].version }] });
    const oslo = [units, "[Region].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const cur2 = await bob.getCells({ cube: "Demo", cells: [{ members: oslo }] });
    const northBefore = north.last as number;
    await bob.writeCells({ cube: "Demo", writes: [{ members: oslo, value: (cur2.cells[0].value ?? 0) + 1, baseVersion: cur2.cells[0].version }] });
    await waitFor(() => north.last === northBefore + 1, 2000, "North to move");
    expect(south.results.length).toBe(southResults);
    expect(south.resultsAfterCancel + south2.resultsAfterCancel).toBe(0);

    north.cancel();
    await waitFor(() => f.context.streamedCellCount("Demo") === 0, 5000, "the stream to stop");
    expect(north.resultsAfterCancel).toBe(0);
  });

  it("maps errors: unknown and ambiguous members and unknown cubes to #N/A with the server's message, wrong types to #VALUE!, never 0", async () => {
    const f = await load();
    const unknown = cell(f, "Demo", [units, "[Region].[North].[Nowhere]"]);
    const ambiguous = cell(f, "Demo", ["Alpha"]);
    const numberName = cell(f, "Demo", [units, 1997]);
    const unknownCube = cell(f, "Nope", [units]);
    const boolMember = cell(f, "Demo", [units, true]);
    const fraction = cell(f, "Demo", [units, 2.5]);
    const boolCube = cell(f, false, [units]);
    const emptyCube = cell(f, "", [units]);
    const noMembers = cell(f, "Demo", [[["", null]]]);
    const all = [unknown, ambiguous, numberName, unknownCube, boolMember, fraction, boolCube, emptyCube, noMembers];
    await waitFor(() => all.every((i) => i.results.length > 0), 5000, "every result");
    await waitFor(() => f.context.streamedCellCount("Demo") === 3, 5000, "the stream");

    const err = (i: StreamingInvocationStub<number>) => i.last as StandInError;
    expect(err(unknown)).toBeInstanceOf(StandInError);
    expect(err(unknown).code).toBe("#N/A");
    expect(err(unknown).message).toMatch(/unknown member \[Region\]\.\[North\]\.\[Nowhere\]: dimension Region has no member "Nowhere"/);
    expect(err(ambiguous).code).toBe("#N/A");
    expect(err(ambiguous).message).toMatch(/ambiguous member Alpha: it matches 2 members \(\[Product\]\.\[Alpha\], \[Channel\]\.\[Alpha\]\)/);
    // a whole number is a name (Excel stores a typed 1997 as a number); this cube has none so named
    expect(err(numberName).code).toBe("#N/A");
    expect(err(numberName).message).toMatch(/unknown member 1997/);
    expect(err(unknownCube)).toEqual(new StandInError("#N/A", 'cube "Nope" not found; cubes: Demo'));
    expect(err(boolMember)).toEqual(new StandInError("#VALUE!", "member 2 must be text (a name), got boolean true"));
    expect(err(fraction).code).toBe("#VALUE!");
    expect(err(boolCube)).toEqual(new StandInError("#VALUE!", "cube must be text (a name), got boolean false"));
    expect(err(emptyCube).code).toBe("#VALUE!");
    expect(err(noMembers).code).toBe("#VALUE!");
    // the stream re-sends the same errors; none ever became a number
    for (const i of all) expect(i.results.every((r) => r instanceof StandInError)).toBe(true);
    // type errors never reach the server (the unknown cube is a GetCells of its own)
    const sent = f.requests.filter((r) => r.method === "GetCells").flatMap((r) => r.cells!);
    expect(sent).toEqual([[units, "[Region].[North].[Nowhere]"], ["Alpha"], [units, "1997"], [units]]);

    const members = f.functions.get("MEMBERS")!;
    await expect(members("Demo", "Planet")).rejects.toEqual(new StandInError("#N/A", 'cube Demo has no dimension "Planet"; dimensions: Region, Product, Channel, Scenario, Measures'));
    await expect(members("Demo", "Region", "Atlantis")).rejects.toMatchObject({ code: "#N/A", message: expect.stringMatching(/Atlantis/) });
    await expect(members("Demo", "Region", null, -1)).rejects.toMatchObject({ code: "#VALUE!", message: expect.stringMatching(/depth must be a whole number/) });
    await expect(members("Demo", "Region", null, 1.5)).rejects.toMatchObject({ code: "#VALUE!" });
    await expect(members("Demo", "", null, null)).rejects.toMatchObject({ code: "#VALUE!", message: expect.stringMatching(/dimension is required/) });

    const badComment = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", [[["Atlantis"]]], badComment);
    await waitFor(() => badComment.results.length > 0, 5000, "the comment");
    expect(badComment.last).toMatchObject({ code: "#N/A", message: expect.stringMatching(/unknown member Atlantis/) });
  });

  it('shows #N/A "Not connected to <url>" when the server is unreachable, for every function', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const f = await load({ serverUrl: url });
    const c = cell(f, "Demo", [units]);
    const note = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", [[[units]]], note);
    await waitFor(() => c.results.length > 0 && note.results.length > 0, 5000, "results");
    const expected = new StandInError("#N/A", `Not connected to ${url}`);
    expect(c.last).toEqual(expected);
    expect(note.last).toEqual(expected);
    await expect(f.functions.get("MEMBERS")!("Demo", "Region")).rejects.toEqual(expected);
    expect(f.context.connection.get()).toMatchObject({ status: "disconnected", serverUrl: url, message: `Not connected to ${url}` });
    // the stream keeps retrying with backoff; nothing ever shows 0
    await waitFor(() => f.requests.filter((r) => r.method === "WatchCells").length >= 3, 5000, "stream retries");
    expect(c.results.every((r) => r instanceof StandInError)).toBe(true);

    // the user fixes the server URL (in the task pane): it is stored, and the cells recover by themselves
    await f.context.saveSettings({ serverUrl: `${server.url}/` });
    expect(JSON.parse(f.storage.items.get("quantatom.connection")!)).toEqual({ serverUrl: server.url, userName: "tester" });
    await waitFor(() => typeof c.last === "number", 5000, "the value from the right server");
    await waitFor(() => typeof note.last === "string", 5000, "the comment");
    expect(f.context.connection.get()).toMatchObject({ status: "connected", serverUrl: server.url });
  });

  it("QATOM.MEMBERS spills a column of unique names: children by default, any depth, 0 for all", async () => {
    const f = await load();
    const members = f.functions.get("MEMBERS")!;
    expect(await members("Demo", "Region")).toEqual([["[Region].[All Regions]"]]);
    expect(await members("Demo", "Region", "[Region].[All Regions]")).toEqual([["[Region].[North]"], ["[Region].[South]"]]);
    expect(await members("Demo", "Region", "All Regions", 0)).toEqual([
      ["[Region].[North]"],
      ["[Region].[North].[Oslo]"],
      ["[Region].[North].[Bergen]"],
      ["[Region].[South]"],
      ["[Region].[South].[Rome]"],
    ]);
    expect(await members("Demo", "Region", null, 2)).toEqual([["[Region].[All Regions]"], ["[Region].[North]"], ["[Region].[South]"]]);
    await expect(members("Demo", "Region", "[Region].[North].[Oslo]")).rejects.toMatchObject({ code: "#N/A", message: expect.stringMatching(/no members below it/) });
    expect(f.requests.filter((r) => r.method === "GetMembers")).toHaveLength(5);
  });

  it("QATOM.COMMENT streams the newest comment: at once after this user's comment, by polling for others'", async () => {
    const f = await load();
    const members = [units, "[Region].[South].[Rome]", "[Product].[Widget]", "[Channel].[Web]"];
    const note = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", members.map((m) => [[m]]), note);
    await waitFor(() => note.results.length > 0, 5000, "the first result");
    expect(note.last).toBe("");

    await f.context.addComment({ cube: "Demo", members }, "mine");
    await waitFor(() => note.last === "mine", 200, "this user's comment");
    await otherClient(server.url, "carl").commentary.addComment({ cube: "Demo", members, text: "from carl" });
    await waitFor(() => note.last === "from carl", 2000, "the other user's comment");
    expect(note.results).toEqual(["", "mine", "from carl"]);
    const byUser = await otherClient(server.url).commentary.listComments({ cube: "Demo", members });
    expect(byUser.comments.map((c) => [c.author, c.text])).toEqual([
      ["carl", "from carl"],
      ["tester", "mine"],
    ]);

    note.cancel();
    await otherClient(server.url, "carl").commentary.addComment({ cube: "Demo", members, text: "after cancel" });
    await new Promise((r) => setTimeout(r, 600));
    expect(note.resultsAfterCancel).toBe(0);
  });

  describe("writeback from the grid", () => {
    const formulaOf = (members: string[]) => `=QATOM.CELL("Demo",${members.map((m) => `"${m}"`).join(",")})`;

    async function sheetWithFormula(f: LoadedFunctions, address: string, members: string[]) {
      await waitFor(() => f.workbook.handlerCount === 1, 5000, "the onChanged handler");
      const formula = formulaOf(members);
      f.workbook.userEnters(address, formula);
      const c = f.workbook.cell(address);
      await waitFor(() => typeof c.value === "number", 5000, `a value in ${address}`);
      await waitFor(() => f.context.formulaCells.find(address)?.formula === formula, 5000, `the formula text of ${address}`);
      return { formula, cell: c };
    }

    it("records a pending write for a number typed over a QATOM.CELL cell, puts the formula back, and Submit writes it", async () => {
      const f = await load();
      const leaf = [units, "[Region].[North].[Bergen]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Plan]"];
      const { formula, cell: b3 } = await sheetWithFormula(f, "Sheet1!B3", leaf);
      expect(b3.value).toBe(0); // an empty cell shows 0
      expect(f.context.formulaCells.find("sheet1!$b$3")).toMatchObject({ cube: "Demo", members: leaf, snapshot: { value: null, consolidated: false } });
      const first = b3.invocation!;
      const readsBefore = f.workbook.runs;

      f.workbook.userEnters("Sheet1!B3", 42);
      expect(first.canceled).toBe(true);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      await waitFor(() => b3.formula === formula && b3.invocation !== undefined && b3.invocation !== first, 5000, "the formula back");
      expect(f.context.pendingWrites.list()[0]).toEqual({
        id: "sheet1!B3",
        address: "Sheet1!B3",
        cube: "Demo",
        members: leaf,
        consolidated: false,
        value: 42,
        seenValue: null,
        baseVersion: 0n,
        status: "pending",
      });
      expect(f.workbook.runs - readsBefore).toBeLessThanOrEqual(5);
      // putting the formula back is not itself a write
      await new Promise((r) => setTimeout(r, 100));
      expect(f.context.pendingWrites.list()).toHaveLength(1);
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(0);

      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", value: 42, leavesChanged: 1, currentValue: 42 });
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(1);
      await waitFor(() => b3.value === 42, 2000, "the new value in the cell");
      const history = await otherClient(server.url).lattice.getCellHistory({ cube: "Demo", members: leaf });
      expect(history.records[0]).toMatchObject({ user: "tester", newValue: 42 });

      // text typed over the formula is the user's own business: no write, no formula put back
      f.workbook.userEnters("Sheet1!B3", "n/a");
      await new Promise((r) => setTimeout(r, 100));
      expect(f.workbook.cell("Sheet1!B3").formula).toBe("n/a");
      expect(f.context.pendingWrites.list()).toHaveLength(1);
    });

    it("sends one WriteCells with the versions the user saw; a conflict resolves by keepMine or takeTheirs", async () => {
      const f = await load();
      const leafA = [units, "[Region].[South].[Rome]", "[Product].[Widget]", "[Channel].[Alpha]", "[Scenario].[Plan]"];
      const leafB = [units, "[Region].[South].[Rome]", "[Product].[Alpha]", "[Channel].[Alpha]", "[Scenario].[Plan]"];
      const a = await sheetWithFormula(f, "Sheet1!C3", leafA);
      const b = await sheetWithFormula(f, "Sheet1!C4", leafB);
      await waitFor(() => f.context.streamedCellCount("Demo") === 2, 5000, "the stream");
      const seenA = f.context.formulaCells.find("Sheet1!C3")!.snapshot!;

      f.workbook.userEnters("Sheet1!C3", 11);
      f.workbook.userEnters("Sheet1!C4", 12);
      await waitFor(() => f.context.pendingWrites.list().length === 2, 5000, "two pending writes");
      // bob writes cell A first
      const bob = otherClient(server.url, "bob").lattice;
      const bobWrite = await bob.writeCells({ cube: "Demo", writes: [{ members: leafA, value: 99, baseVersion: seenA.version }] });
      expect(bobWrite.results[0].status).toBe(WriteStatus.APPLIED);

      await f.context.pendingWrites.submit();
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(1);
      const [wa, wb] = f.context.pendingWrites.list();
      expect(wa).toMatchObject({ id: "sheet1!C3", status: "conflict", baseVersion: seenA.version, conflict: { theirValue: 99, theirVersion: bobWrite.results[0].version, by: "bob" } });
      expect(wa.message).toMatch(/bob wrote 99/);
      expect(Math.abs(wa.conflict!.at - Date.now())).toBeLessThan(60_000);
      expect(wb).toMatchObject({ id: "sheet1!C4", status: "applied" });

      await f.context.pendingWrites.keepMine("sheet1!C3");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", value: 11 });
      await waitFor(() => a.cell.value === 11 && b.cell.value === 12, 2000, "both values in the sheet");

      // takeTheirs: drop mine, the sheet keeps showing theirs
      f.context.pendingWrites.discard();
      f.workbook.userEnters("Sheet1!C4", 13);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leafB }] });
      await bob.writeCells({ cube: "Demo", writes: [{ members: leafB, value: 50, baseVersion: cur.cells[0].version }] });
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "conflict", conflict: { theirValue: 50, by: "bob" } });
      f.context.pendingWrites.takeTheirs("sheet1!C4");
      expect(f.context.pendingWrites.list()).toEqual([]);
      await waitFor(() => b.cell.value === 50, 2000, "their value in the sheet");
      const now = await bob.getCells({ cube: "Demo", cells: [{ members: leafB }] });
      expect(now.cells[0].value).toBe(50);
    });

    /** A Plan/Units cell of the small cube. */
    const plan = (region: string, product = "[Product].[Widget]", channel = "[Channel].[Web]") => [units, region, product, channel, "[Scenario].[Plan]"];
    const NORTH = plan("[Region].[North]"); // consolidated over the two below
    const OSLO = plan("[Region].[North].[Oslo]"); // 10
    const BERGEN = plan("[Region].[North].[Bergen]"); // 20

    async function values(cells: string[][]): Promise<(number | null)[]> {
      const res = await otherClient(server.url, "check").lattice.getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) });
      return res.cells.map((c) => c.value ?? null);
    }

    it("spreads a number and P%+10 typed over a consolidated cell: the total moves there, the leaves keep their proportions, one audit record per leaf under one transaction", async () => {
      const f = await load();
      const bob = otherClient(server.url, "bob").lattice;
      const { formula, cell: d2 } = await sheetWithFormula(f, "'Plan 2025'!D2", NORTH);
      expect(d2.value).toBe(30);
      expect(await values([OSLO, BERGEN])).toEqual([10, 20]);

      f.workbook.userEnters("'Plan 2025'!D2", 45);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({
        id: "plan 2025!D2",
        address: "'Plan 2025'!D2",
        consolidated: true,
        value: 45,
        seenValue: 30,
        spread: { method: "P", action: "replace", includeEmpty: false, reference: [] },
        status: "pending",
      });
      await waitFor(() => d2.formula === formula, 5000, "the formula back");

      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", leavesChanged: 2, currentValue: 45 });
      await waitFor(() => d2.value === 45, 2000, "the new total in the cell");
      expect(await values([OSLO, BERGEN])).toEqual([15, 30]); // still 1:2

      const audit = async (members: string[]) => (await bob.getCellHistory({ cube: "Demo", members })).records;
      const [oslo1, bergen1] = [await audit(OSLO), await audit(BERGEN)];
      expect(oslo1[0]).toMatchObject({ user: "tester", oldValue: 10, newValue: 15 });
      expect(bergen1[0]).toMatchObject({ user: "tester", oldValue: 20, newValue: 30 });
      expect(oslo1[0].transactionId).not.toBe("");
      expect(bergen1[0].transactionId).toBe(oslo1[0].transactionId);
      expect([...oslo1, ...bergen1].filter((r) => r.transactionId === oslo1[0].transactionId)).toHaveLength(2);

      // a TM1 code typed as text: +10% on every leaf (the pending write says how, the formula comes back)
      f.workbook.userEnters("'Plan 2025'!D2", "P%+10");
      await waitFor(() => f.context.pendingWrites.list()[0].status === "pending", 5000, "the pending code");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ value: 10, code: "P%+10", seenValue: 45, spread: { method: "P%", action: "add" } });
      await waitFor(() => d2.formula === formula, 5000, "the formula back");
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", leavesChanged: 2 });
      expect(f.context.pendingWrites.list()[0].currentValue).toBeCloseTo(49.5, 9);
      await waitFor(() => Math.abs((d2.value as number) - 49.5) < 1e-9, 2000, "the raised total");
      const [o, b] = await values([OSLO, BERGEN]);
      expect(o).toBeCloseTo(16.5, 9);
      expect(b).toBeCloseTo(33, 9);
      const [oslo2, bergen2] = [await audit(OSLO), await audit(BERGEN)];
      expect(oslo2).toHaveLength(oslo1.length + 1);
      expect(bergen2[0].transactionId).toBe(oslo2[0].transactionId);
      expect(bergen2[0].transactionId).not.toBe(oslo1[0].transactionId);
    });

    it("holds typed in Excel: H keeps a leaf as it is while the total still reaches the typed value; RH releases it", async () => {
      const f = await load();
      const { cell: d2 } = await sheetWithFormula(f, "'Plan 2025'!D2", NORTH);
      const { formula: osloFormula, cell: d3 } = await sheetWithFormula(f, "'Plan 2025'!D3", OSLO);
      const [oslo0] = await values([OSLO]);

      f.workbook.userEnters("'Plan 2025'!D3", "H");
      await waitFor(() => f.context.holds.get().length === 1, 5000, "the hold");
      expect(f.context.holds.get()[0]).toMatchObject({ address: "'Plan 2025'!D3", cube: "Demo", members: OSLO, consolidated: false });
      await waitFor(() => d3.formula === osloFormula, 5000, "the formula back");
      expect(f.context.pendingWrites.list()).toEqual([]);

      f.workbook.userEnters("'Plan 2025'!D2", 100);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", leavesChanged: 1, currentValue: 100 });
      const [oslo1, bergen1] = await values([OSLO, BERGEN]);
      expect(oslo1).toBe(oslo0); // held
      expect(bergen1).toBeCloseTo(100 - (oslo0 ?? 0), 9);
      await waitFor(() => d2.value === 100, 2000, "the total in the cell");

      f.workbook.userEnters("'Plan 2025'!D3", "RH");
      await waitFor(() => f.context.holds.get().length === 0, 5000, "the release");
      await waitFor(() => d3.formula === osloFormula, 5000, "the formula back");
      await waitFor(() => d2.value === 100 && typeof d2.invocation !== "undefined", 2000, "the total");
      f.workbook.userEnters("'Plan 2025'!D2", 200);
      await waitFor(() => f.context.pendingWrites.list()[0]?.value === 200, 5000, "the pending write");
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", leavesChanged: 2, currentValue: 200 });
      const [oslo2] = await values([OSLO]);
      expect(oslo2).toBeCloseTo((oslo0 ?? 0) * 2, 9);
    });

    it("SL typed with a direction fills the row of QATOM cells up to the first other cell; a consolidated cell of the row is spread", async () => {
      const f = await load();
      const row = [
        plan("[Region].[South].[Rome]", "[Product].[Widget]"),
        plan("[Region].[South].[Rome]", "[Product].[Gadget]"),
        plan("[Region].[South].[Rome]", "[Product].[Alpha]"),
        plan("[Region].[North]", "[Product].[Alpha]", "[Channel].[Alpha]"), // consolidated, empty below
      ];
      const addresses = ["Sheet1!B8", "Sheet1!C8", "Sheet1!D8", "Sheet1!E8"];
      for (let i = 0; i < row.length; i++) await sheetWithFormula(f, addresses[i], row[i]);
      f.workbook.userEnters("Sheet1!F8", "a note"); // not a QATOM cell: the row ends before it
      expect(await values(row)).toEqual([null, null, null, null]);

      f.workbook.userEnters("Sheet1!B8", "SL100:400>");
      await waitFor(() => f.context.pendingWrites.list().length === 4, 5000, "one pending write per cell of the row");
      expect(f.context.pendingWrites.list().map((w) => [w.address, w.value, w.spread?.method ?? "leaf"])).toEqual([
        ["Sheet1!B8", 100, "leaf"],
        ["Sheet1!C8", 200, "leaf"],
        ["Sheet1!D8", 300, "leaf"],
        ["Sheet1!E8", 400, "P"],
      ]);
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list().map((w) => w.status)).toEqual(["applied", "applied", "applied", "applied"]);
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(1);
      expect(await values(row)).toEqual([100, 200, 300, 400]);
      await waitFor(() => f.workbook.cell("Sheet1!E8").value === 400, 2000, "the spread total in the sheet");
    });

    it("GR filled over a range (Ctrl+Enter) grows along it; a bad code is refused with its position and the formula comes back; a note stays", async () => {
      const f = await load();
      const row = [
        plan("[Region].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Alpha]"),
        plan("[Region].[North].[Bergen]", "[Product].[Gadget]", "[Channel].[Alpha]"),
        plan("[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Alpha]"),
      ];
      const formulas: string[] = [];
      for (let i = 0; i < row.length; i++) formulas.push((await sheetWithFormula(f, `Sheet1!${"BCD"[i]}9`, row[i])).formula);
      f.workbook.userFills("Sheet1!B9:D9", "GR100:10");
      await waitFor(() => f.context.pendingWrites.list().length === 3, 5000, "three pending writes");
      await waitFor(() => ["B9", "C9", "D9"].every((a, i) => f.workbook.cell(`Sheet1!${a}`).formula === formulas[i]), 5000, "the formulas back");
      await f.context.pendingWrites.submit();
      const got = await values(row);
      expect(got[0]).toBe(100);
      expect(got[1]).toBeCloseTo(110, 9);
      expect(got[2]).toBeCloseTo(121, 9);

      f.context.pendingWrites.discard();
      f.workbook.userEnters("Sheet1!B9", "P1OO");
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the refusal");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "rejected", code: "P1OO", message: expect.stringMatching(/"OO" at character 3/) });
      await waitFor(() => f.workbook.cell("Sheet1!B9").formula === formulas[0], 5000, "the formula back");
      f.workbook.userEnters("Sheet1!C9", "check with Ann");
      await new Promise((r) => setTimeout(r, 100));
      expect(f.workbook.cell("Sheet1!C9").formula).toBe("check with Ann");
      await f.context.pendingWrites.submit();
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(1);
    });
  });

  it("refuses a value or a hold typed over a calculated cell (a member formula), at once and with the reason; the server refuses it too", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-functions-calc-"));
    const store = await openStore({ dataDir: dir });
    const measures = smallCubeDef.dimensions.find((d) => d.name === "Measures")!;
    await store.saveCube(
      {
        ...smallCubeDef,
        name: "Calc",
        dimensions: smallCubeDef.dimensions.map((d) => (d === measures ? { ...d, members: [...d.members, { name: "Price", parent: -1, level: 0 }] } : d)),
        formulas: [{ member: "[Measures].[Price]", expression: "[Measures].[Revenue] / [Measures].[Units]" }],
      },
      smallCubeCells(),
    );
    await store.close();
    const s = await startDemoServer(dir);
    try {
      const f = await load({ serverUrl: s.url });
      const price = ["[Measures].[Price]", "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
      await waitFor(() => f.workbook.handlerCount === 1, 5000, "the onChanged handler");
      const formula = `=QATOM.CELL("Calc",${price.map((m) => `"${m}"`).join(",")})`;
      f.workbook.userEnters("Sheet1!B2", formula);
      await waitFor(() => f.context.formulaCells.find("Sheet1!B2")?.formula === formula && f.context.formulaCells.find("Sheet1!B2")?.snapshot !== null, 5000, "the formula cell");
      expect(f.context.formulaCells.find("Sheet1!B2")!.snapshot).toMatchObject({ value: 10.025, calculated: true });

      f.workbook.userEnters("Sheet1!B2", 12);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the refusal");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "rejected", value: 12, message: CALCULATED_MESSAGE });
      await waitFor(() => f.workbook.cell("Sheet1!B2").formula === formula, 5000, "the formula back");
      f.workbook.userEnters("Sheet1!B2", "H");
      await waitFor(() => f.context.pendingWrites.list()[0]?.code === "H", 5000, "the refused hold");
      expect(f.context.pendingWrites.list()[0].message).toMatch(/calculated by a formula/);
      expect(f.context.holds.get()).toEqual([]);
      await f.context.pendingWrites.submit();
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(0);

      const direct = await otherClient(s.url).lattice.writeCells({ cube: "Calc", writes: [{ members: price, value: 12, baseVersion: 0n }] });
      expect(direct.results[0].status).toBe(WriteStatus.REJECTED);
      expect(direct.results[0].message).toMatch(/calculated by a formula/);
    } finally {
      for (const f of loaded.splice(0)) f.dispose();
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-establishes the stream after the server restarts, and re-sends the current values", async () => {
    const dir = await newDemoStore();
    let s = await startDemoServer(dir);
    try {
      const f = await load({ serverUrl: s.url });
      const plan = cell(f, "Demo", [units, "[Scenario].[Plan]"]);
      await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream");
      const v0 = plan.last as number;
      await s.close();
      await waitFor(() => f.context.connection.get().status === "disconnected", 5000, "the disconnect");
      expect(f.context.streamedCellCount("Demo")).toBe(0);
      expect(plan.last).toBe(v0); // the last value stays (not 0, not an error) while reconnecting

      s = await startDemoServer(dir, s.port);
      const bob = otherClient(s.url).lattice;
      const leaf = [units, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
      const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      await bob.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 5, baseVersion: cur.cells[0].version }] });
      await waitFor(() => plan.last === v0 + 5, 10_000, "the value after reconnecting");
      await waitFor(() => f.context.connection.get().status === "connected", 5000, "connected");
      expect(f.requests.filter((r) => r.method === "WatchCells").length).toBeGreaterThanOrEqual(2);
      expect(plan.results.every((r) => typeof r === "number")).toBe(true);
    } finally {
      for (const f of loaded.splice(0)) f.dispose();
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
