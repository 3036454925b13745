/**
 * Writeback from the grid as Excel runs it: the functions bundle with stand-ins for Excel's
 * globals against a real backend (the small Demo cube in a temporary PGlite store). Numbers and
 * TM1 spreading codes typed over QATOM.CELL cells become pending writes, the formula comes back,
 * Submit sends one WriteCells; conflicts, spreads, holds, SL/GR runs, and calculated cells refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CALCULATED_MESSAGE } from "../addin/src/pending-writes";
import { openStore } from "../backend/src/store";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { demoFunctions, otherClient, startDemoServer, units } from "./helpers/demo-functions";
import type { LoadedFunctions } from "./helpers/functions-bundle";
import { waitFor } from "./helpers/office-stand-ins";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

describe("QATOM functions bundle against a real backend", () => {
  const demo = demoFunctions();
  const { load, loaded } = demo;

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
      const history = await otherClient(demo.server.url).lattice.getCellHistory({ cube: "Demo", members: leaf });
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
      const bob = otherClient(demo.server.url, "bob").lattice;
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
      const res = await otherClient(demo.server.url, "check").lattice.getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) });
      return res.cells.map((c) => c.value ?? null);
    }

    it("spreads a number and P%+10 typed over a consolidated cell: the total moves there, the leaves keep their proportions, one audit record per leaf under one transaction", async () => {
      const f = await load();
      const bob = otherClient(demo.server.url, "bob").lattice;
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

    it("HC over a total then a number typed over a leaf below it: the other leaf moves so that the held total stays (TM1's consolidation hold)", async () => {
      const f = await load();
      const { cell: d2 } = await sheetWithFormula(f, "'Plan 2025'!D2", NORTH);
      await sheetWithFormula(f, "'Plan 2025'!D3", OSLO);
      const [north0, oslo0, bergen0] = await values([NORTH, OSLO, BERGEN]);
      f.workbook.userEnters("'Plan 2025'!D2", "HC");
      await waitFor(() => f.context.holds.get().length === 1, 5000, "the hold");
      expect(f.context.holds.get()[0]).toMatchObject({ members: NORTH, consolidated: true });

      f.workbook.userEnters("'Plan 2025'!D3", (oslo0 ?? 0) + 5);
      await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the pending write");
      await f.context.pendingWrites.submit();
      expect(f.context.pendingWrites.list()[0]).toMatchObject({ status: "applied", leavesChanged: 2 });
      const [north1, oslo1, bergen1] = await values([NORTH, OSLO, BERGEN]);
      expect(oslo1).toBe((oslo0 ?? 0) + 5);
      expect(bergen1).toBeCloseTo((bergen0 ?? 0) - 5, 9);
      expect(north1).toBeCloseTo(north0 ?? 0, 9);
      await waitFor(() => Math.abs((d2.value as number) - (north0 ?? 0)) < 1e-9, 2000, "the held total in the sheet");
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

    it("P>300 typed over a row of 10, 30, 60 spreads over the row as one target, 30, 90, 180, as TM1 spreads over a range; a held cell of the row is left out", async () => {
      const f = await load();
      const row = [
        plan("[Region].[North].[Bergen]", "[Product].[Gadget]"),
        plan("[Region].[North].[Bergen]", "[Product].[Alpha]"),
        plan("[Region].[North].[Bergen]", "[Product].[Widget]", "[Channel].[Alpha]"),
      ];
      const addresses = ["Sheet1!B9", "Sheet1!C9", "Sheet1!D9"];
      for (let i = 0; i < row.length; i++) await sheetWithFormula(f, addresses[i], row[i]);
      f.workbook.userEnters("Sheet1!E9", "a note");
      for (const [i, v] of [10, 30, 60].entries()) f.workbook.userEnters(addresses[i], v);
      await waitFor(() => f.context.pendingWrites.list().length === 3, 5000, "three pending writes");
      await f.context.pendingWrites.submit();
      expect(await values(row)).toEqual([10, 30, 60]);
      await waitFor(() => f.workbook.cell("Sheet1!D9").value === 60, 2000, "60 in the sheet");

      f.workbook.userEnters("Sheet1!B9", "P>300");
      await waitFor(() => f.context.pendingWrites.list().filter((w) => w.status === "pending").length === 3, 5000, "one pending write per cell of the row");
      await f.context.pendingWrites.submit();
      expect(f.requests.filter((r) => r.method === "WriteCells")).toHaveLength(2);
      expect((await values(row)).map((v) => Math.round((v ?? Number.NaN) * 1e9) / 1e9)).toEqual([30, 90, 180]);
      await waitFor(() => f.workbook.cell("Sheet1!D9").value === 180, 2000, "180 in the sheet");

      // C9 held, so dropped from the range (IBM "Spreading to a range"): 400 goes to B9 and D9 in proportion 30 : 180
      f.workbook.userEnters("Sheet1!C9", "H");
      await waitFor(() => f.context.holds.get().length === 1, 5000, "the hold");
      f.workbook.userEnters("Sheet1!B9", "P>400");
      await waitFor(() => f.context.pendingWrites.list().some((w) => w.code === "P>400"), 5000, "the pending writes");
      await f.context.pendingWrites.submit();
      const after = await values(row);
      expect(after[1]).toBeCloseTo(90, 9);
      expect(after[0]).toBeCloseTo((400 * 30) / 210, 9);
      expect(after[2]).toBeCloseTo((400 * 180) / 210, 9);
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

});
