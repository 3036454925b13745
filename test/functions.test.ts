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
import { backoffDelay } from "../addin/src/streams";
import { typedValue } from "../addin/src/writeback";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { type Cell, CellSchema, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
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
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", value: 42 });
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

    it("refuses a value typed over a consolidated cell, saying why, and sends nothing", async () => {
      const f = await load();
      const total = [units, "[Region].[North]", "[Scenario].[Plan]"];
      const { formula, cell: d2 } = await sheetWithFormula(f, "'Plan 2025'!D2", total);
      f.workbook.userEnters("'Plan 2025'!D2", 500);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      expect(f.context.pendingWrites.list()[0]).toMatchObject({
        id: "plan 2025!D2",
        address: "'Plan 2025'!D2",
        status: "rejected",
        value: 500,
        message: expect.stringMatching(/consolidated.*spreading/),
      });
      await waitFor(() => d2.formula === formula, 5000, "the formula back");
      await f.context.pendingWrites.submit();
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(0);
    });
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
