/**
 * Writeback against the workbook stand-in's documented Excel semantics (test/helpers/fake-workbook.ts):
 * one invocation shared by identical formulas, onFormulaChanged's previousFormula, the undo stack,
 * Delete, paste, structural edits, and the pending style. Each test is named after the Excel
 * behaviour it reproduces. The runtime is the real functions bundle against a real Demo server.
 */
import { CLEAR_CONFIRM_MESSAGE, DELETED_CELL_MESSAGE } from "../addin/src/pending-writes";
import { PENDING_STYLE } from "../addin/src/host";
import { demoFunctions, otherClient, units } from "./helpers/demo-functions";
import type { LoadedFunctions } from "./helpers/functions-bundle";
import { waitFor } from "./helpers/office-stand-ins";
import { GRID_COLUMNS, GRID_ROWS } from "./helpers/demo-grid";

/** Columns B..F: a region (row 1) and a product (row 2); rows 3 and 4: a channel (column A). */
const COLUMNS = GRID_COLUMNS;
const ROWS = GRID_ROWS;
const relative = (col: string, row: number) => `=QATOM.CELL("Demo","${units}",${col}$1,${col}$2,$A${row},"[Scenario].[Actual]")`;
/** Entered in H3 and H4: identical text and arguments, so Excel gives both ONE invocation (H3's address). */
const IDENTICAL = `=QATOM.CELL("Demo","${units}",$F$1,$F$2,$A$4,"[Scenario].[Plan]")`;

interface GridCell {
  address: string;
  formula: string;
  members: string[];
}

/** Headers, the B3:F4 grid (relative references) and the identical pair H3, H4; waits for values and texts. */
async function grid(f: LoadedFunctions): Promise<{ cells: GridCell[]; pair: GridCell[] }> {
  const wb = f.workbook;
  await waitFor(() => wb.handlerCount === 1, 5000, "the onChanged handler");
  for (const [col, region, product] of COLUMNS) {
    wb.userEnters(`Sheet1!${col}1`, region);
    wb.userEnters(`Sheet1!${col}2`, product);
  }
  for (const [row, channel] of ROWS) wb.userEnters(`Sheet1!A${row}`, channel);
  const cells = ROWS.flatMap(([row, channel]) =>
    COLUMNS.map(([col, region, product]) => ({ address: `Sheet1!${col}${row}`, formula: relative(col, row), members: [units, region, product, channel, "[Scenario].[Actual]"] })),
  );
  const pairMembers = [units, COLUMNS[4][1], COLUMNS[4][2], ROWS[1][1], "[Scenario].[Plan]"];
  const pair = ["Sheet1!H3", "Sheet1!H4"].map((address) => ({ address, formula: IDENTICAL, members: pairMembers }));
  for (const c of [...cells, ...pair]) wb.userEnters(c.address, c.formula);
  await waitFor(() => [...cells, ...pair].every((c) => typeof wb.cell(c.address).value === "number"), 5000, "the grid's values");
  await waitFor(() => cells.every((c) => f.context.formulaCells.find(c.address)?.formula === c.formula), 5000, "the formula texts");
  await waitFor(() => f.context.formulaCells.find("Sheet1!H3")?.formula === IDENTICAL, 5000, "H3's text");
  return { cells, pair };
}

const methodsSent = (f: LoadedFunctions, method: string) => f.requests.filter((r) => r.method === method).length;

describe("writeback with Excel's documented events", () => {
  const demo = demoFunctions();
  const modern = { requirementSets: { ExcelApi: "1.20" } };

  it("Excel shares one invocation between identical formulas: typing 10 numbers in a row (type, Enter, type) over QATOM cells, two with identical formulas, gives 10 pending changes, 10 formulas intact, 10 values shown and marked; Ctrl+Z drops just the last; Submit is one WriteCells", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells, pair } = await grid(f);
    // Excel gave H3 and H4 one invocation: the registry knows H3 only.
    expect(f.context.formulaCells.find("Sheet1!H4")).toBeUndefined();
    const typed = [...cells.slice(0, 9), pair[1]];

    typed.forEach((c, k) => {
      wb.userEnters(c.address, 500 + k);
      wb.beginsEdit(typed[k + 1]?.address ?? "Sheet1!J9");
    });
    wb.endsEdit();
    await waitFor(() => f.context.pendingWrites.list().length === 10, 5000, "10 pending changes");
    await waitFor(() => typed.every((c) => wb.cell(c.address).style === PENDING_STYLE.name), 5000, "10 marked cells");
    await waitFor(() => typed.every((c, k) => wb.cell(c.address).value === 500 + k), 5000, "the 10 typed values shown by the formulas");
    expect(typed.map((c) => wb.cell(c.address).formula)).toEqual(typed.map((c) => c.formula));
    expect(f.context.pendingWrites.list().map((w) => [w.address, w.members, w.value])).toEqual(typed.map((c, k) => [c.address, c.members, 500 + k]));
    // H3 shows the same cube cell as H4: it shows the value typed over H4 too, unmarked.
    expect(wb.cell("Sheet1!H3").value).toBe(509);
    expect(wb.cell("Sheet1!H3").style).toBe("Normal");
    expect(wb.failedInEditMode).toBe(0);

    // Ctrl+Z right after the last entry takes it back: the entry goes, the formula stays.
    const serverValue = (await otherClient(demo.server.url).lattice.getCells({ cube: "Demo", cells: [{ members: pair[1].members }] })).cells[0].value ?? 0;
    expect(wb.userUndoes()).toBe(true);
    await waitFor(() => f.context.pendingWrites.list().length === 9, 5000, "the last entry dropped");
    await waitFor(() => wb.cell("Sheet1!H4").formula === IDENTICAL && wb.cell("Sheet1!H4").value === serverValue, 5000, "H4's formula and server value back");
    expect(wb.cell("Sheet1!H4").style).toBe("Normal");
    expect(f.context.pendingWrites.list().map((w) => w.address)).toEqual(typed.slice(0, 9).map((c) => c.address));

    const before = methodsSent(f, "WriteCells");
    await f.context.pendingWrites.submit();
    expect(methodsSent(f, "WriteCells") - before).toBe(1);
    expect(f.context.pendingWrites.list().map((w) => w.status)).toEqual(Array(9).fill("applied"));
    await waitFor(() => typed.slice(0, 9).every((c) => wb.cell(c.address).style === "Normal"), 5000, "the marks gone after Submit");
    const server = await otherClient(demo.server.url).lattice.getCells({ cube: "Demo", cells: typed.slice(0, 9).map((c) => ({ members: c.members })) });
    expect(server.cells.map((c) => c.value)).toEqual(typed.slice(0, 9).map((_, k) => 500 + k));
  });

  it("Ctrl+Z after Submit puts the pending style back on a cell with no entry waiting: the add-in takes that mark off again", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[3].address, 64);
    await waitFor(() => wb.cell(cells[3].address).style === PENDING_STYLE.name, 5000, "the mark");
    await f.context.pendingWrites.submit();
    await waitFor(() => wb.cell(cells[3].address).style === "Normal", 5000, "the mark gone after Submit");
    wb.userUndoes(); // takes back the unmark step
    expect(wb.cell(cells[3].address).style).toBe(PENDING_STYLE.name);
    await waitFor(() => wb.cell(cells[3].address).style === "Normal", 5000, "the stray mark taken off");
    expect(wb.cell(cells[3].address).formula).toBe(cells[3].formula);
    expect(f.context.pendingWrites.list().map((w) => w.status)).toEqual(["applied"]);
  });

  it("without onFormulaChanged (ExcelApi before 1.13) the registry is the fallback: the cell that holds the invocation still records what is typed", async () => {
    const f = await demo.load({ requirementSets: { ExcelApi: "1.12" } });
    const wb = f.workbook;
    await grid(f);
    expect(wb.formulaHandlerCount).toBe(0);
    wb.userEnters("Sheet1!H3", 42);
    await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the entry over H3");
    await waitFor(() => wb.cell("Sheet1!H3").formula === IDENTICAL, 5000, "H3's formula back");
  });

  it("the Delete key removes a QATOM formula as everywhere in Excel (nothing is written), and drops the cell's pending entry and its mark", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[0].address, 77);
    await waitFor(() => wb.cell(cells[0].address).style === PENDING_STYLE.name, 5000, "the mark");
    wb.userDeletes(cells[0].address);
    wb.userDeletes(cells[1].address);
    await waitFor(() => f.context.pendingWrites.list().length === 0, 5000, "the entry dropped");
    await waitFor(() => wb.cell(cells[0].address).style === "Normal", 5000, "the mark gone");
    await new Promise((r) => setTimeout(r, 100));
    expect(wb.cell(cells[0].address).formula).toBe("");
    expect(wb.cell(cells[1].address).formula).toBe("");
    expect(f.context.pendingWrites.list()).toEqual([]);
  });

  it("C over a consolidated cell (it clears every leaf below) waits for the pane's confirmation before Submit sends it", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    await waitFor(() => wb.handlerCount === 1, 5000, "the onChanged handler");
    const formula = `=QATOM.CELL("Demo","${units}","[Region].[North]","[Product].[Widget]","[Channel].[Web]","[Scenario].[Plan]")`;
    wb.userEnters("Sheet1!B8", formula);
    await waitFor(() => typeof wb.cell("Sheet1!B8").value === "number" && f.context.formulaCells.find("Sheet1!B8")?.formula === formula, 5000, "the total");
    wb.userEnters("Sheet1!B8", "C");
    await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the clear");
    const [w] = f.context.pendingWrites.list();
    expect(w).toMatchObject({ consolidated: true, status: "pending", confirm: CLEAR_CONFIRM_MESSAGE });
    const before = methodsSent(f, "WriteCells");
    await f.context.pendingWrites.submit();
    expect(methodsSent(f, "WriteCells")).toBe(before);
    expect(f.context.pendingWrites.list()[0].status).toBe("pending");
    f.context.pendingWrites.confirm(w.id);
    await f.context.pendingWrites.submit();
    expect(f.context.pendingWrites.list()[0].status).toBe("applied");
  });

  it("a paste over many QATOM cells is one step: every value pending at once, one restore batch, and one Ctrl+Z takes them all back", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    let notifications = 0;
    f.context.pendingWrites.subscribe(() => notifications++);
    const depth = wb.undoDepth;
    wb.userPastes("Sheet1!B3", [[1, 2, 3, 4, 5]]);
    await waitFor(() => f.context.pendingWrites.list().length === 5, 5000, "5 pending changes");
    await waitFor(() => cells.slice(0, 5).every((c) => wb.cell(c.address).style === PENDING_STYLE.name), 5000, "5 marks");
    expect(notifications).toBe(1);
    expect(cells.slice(0, 5).every((c) => wb.cell(c.address).formula === c.formula)).toBe(true);
    // two undo steps: the paste, and the one batch that put the 5 formulas back and marked them
    expect(wb.undoDepth - depth).toBe(2);
    wb.userUndoes();
    await waitFor(() => f.context.pendingWrites.list().length === 0, 5000, "all 5 dropped");
    expect(cells.slice(0, 5).map((c) => wb.cell(c.address).formula)).toEqual(cells.slice(0, 5).map((c) => c.formula));
  });

  it("inserting and deleting rows moves pending entries, marks and formula addresses with their cells; an entry whose row was deleted is refused, never sent for another cell", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[0].address, 11); // B3
    wb.userEnters(cells[5].address, 22); // B4
    await waitFor(() => f.context.pendingWrites.list().length === 2, 5000, "2 entries");
    await waitFor(() => wb.cell("Sheet1!B4").style === PENDING_STYLE.name, 5000, "the marks");

    wb.userInsertsRows("Sheet1", 2, 2); // rows 2-3 inserted: B3 -> B5, B4 -> B6
    await waitFor(() => f.context.pendingWrites.list().map((w) => w.address).join() === "Sheet1!B5,Sheet1!B6", 5000, "the entries moved");
    expect(f.context.formulaCells.find("Sheet1!B6")?.members).toEqual(cells[5].members);
    expect(wb.cell("Sheet1!B6").style).toBe(PENDING_STYLE.name);
    // typing over the moved cell writes that cell, not the one the registry had at the old address
    wb.userEnters("Sheet1!C6", 33);
    await waitFor(() => f.context.pendingWrites.list().length === 3, 5000, "the third entry");
    expect(f.context.pendingWrites.list()[2].members).toEqual(cells[6].members);

    wb.userInsertsRows("Sheet1", 5, -1); // row 5 (old row 3) deleted
    await waitFor(() => f.context.pendingWrites.list().some((w) => w.status === "rejected"), 5000, "the deleted row's entry refused");
    const deleted = f.context.pendingWrites.list().find((w) => w.status === "rejected")!;
    expect(deleted).toMatchObject({ members: cells[0].members, message: DELETED_CELL_MESSAGE });
    expect(f.context.pendingWrites.list().filter((w) => w.status === "pending").map((w) => w.address)).toEqual(["Sheet1!B5", "Sheet1!C5"]);
    await f.context.pendingWrites.submit();
    const server = await otherClient(demo.server.url).lattice.getCells({ cube: "Demo", cells: [cells[0], cells[5], cells[6]].map((c) => ({ members: c.members })) });
    expect(server.cells.slice(1).map((c) => c.value)).toEqual([22, 33]);
    expect(server.cells[0].value).not.toBe(11);
  });

  it("renaming a sheet keeps pending entries and formula addresses on their cells", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[1].address, 5);
    await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the entry");
    wb.userRenamesSheet("Sheet1", "Plan 2026");
    await waitFor(() => f.context.pendingWrites.list()[0].address === "'Plan 2026'!C3", 5000, "the entry on the renamed sheet");
    expect(f.context.formulaCells.find("'Plan 2026'!C3")?.members).toEqual(cells[1].members);
    wb.userEnters("'Plan 2026'!D3", 6);
    await waitFor(() => f.context.pendingWrites.list().length === 2, 5000, "an entry typed after the rename");
    expect(f.context.pendingWrites.list()[1].members).toEqual(cells[2].members);
  });

  it("sorting rows moves pending entries, marks and formula addresses with their rows (Excel keeps each invocation running at its first address)", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[0].address, 91); // B3, the Web row
    await waitFor(() => wb.cell("Sheet1!B3").style === PENDING_STYLE.name, 5000, "the mark");
    wb.userSortsRows("Sheet1!A3:F4", "A"); // Alpha before Web: the rows swap
    expect(wb.cell("Sheet1!A4").value).toBe(ROWS[0][1]);
    await waitFor(() => f.context.pendingWrites.list()[0]?.address === "Sheet1!B4", 5000, "the entry on the Web row, now row 4");
    expect(wb.cell("Sheet1!B4").style).toBe(PENDING_STYLE.name);
    expect(f.context.formulaCells.find("Sheet1!B3")?.members).toEqual(cells[5].members);
    expect(f.context.formulaCells.find("Sheet1!B4")?.members).toEqual(cells[0].members);
    // typing over B3 now writes the Alpha cell that moved there
    wb.userEnters("Sheet1!B3", 92);
    await waitFor(() => f.context.pendingWrites.list().length === 2, 5000, "the second entry");
    expect(f.context.pendingWrites.list().map((w) => [w.address, w.members, w.value])).toEqual([
      ["Sheet1!B4", cells[0].members, 91],
      ["Sheet1!B3", cells[5].members, 92],
    ]);
  });

  it("moving and copying a sheet keep pending entries where they are; the copy's formulas share the original's invocations, and typing over them is recorded from onFormulaChanged", async () => {
    const f = await demo.load(modern);
    const wb = f.workbook;
    const { cells } = await grid(f);
    wb.userEnters(cells[2].address, 8);
    await waitFor(() => f.context.pendingWrites.list().length === 1, 5000, "the entry");
    wb.userMovesSheet("Sheet1", 1);
    wb.userCopiesSheet("Sheet1", "Sheet1 (2)");
    expect(wb.cell("'Sheet1 (2)'!C4").formula).toBe(cells[6].formula);
    // identical calls: Excel runs one invocation for the original and its copy (the registry knows the original only)
    expect(f.context.formulaCells.find("'Sheet1 (2)'!C4")).toBeUndefined();
    expect(f.context.pendingWrites.list().map((w) => w.address)).toEqual([cells[2].address]);
    wb.userEnters("'Sheet1 (2)'!C4", 9);
    await waitFor(() => f.context.pendingWrites.list().length === 2, 5000, "an entry on the copy");
    expect(f.context.pendingWrites.list()[1].members).toEqual(cells[6].members);
  });

  it("a QATOM.CELL invocation that comes without an address is listed in the pane, not silently skipped", async () => {
    const f = await demo.load(modern);
    const inv = demo.cell(f, "Demo", [units, "[Region].[North].[Oslo]"]);
    await waitFor(() => inv.results.length > 0, 5000, "a value");
    const listed = f.context.restores.list().find((p) => p.id.startsWith("noaddress:"));
    expect(listed?.message).toMatch(/runs without a cell address from Excel/);
    inv.cancel();
    expect(f.context.restores.list().some((p) => p.id.startsWith("noaddress:"))).toBe(false);
  });
});
