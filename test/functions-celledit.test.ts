/**
 * Typing over QATOM.CELL cells as a finance user does it in Excel, with the stand-ins' documented
 * cell-edit semantics (test/helpers/office-stand-ins.ts): the add-in's batches run while the user
 * is already typing the next number, formulas refer to header cells (`B$1`, `$A3`), and Excel may
 * refuse a write. Nothing typed is lost and no formula loses its references.
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/excel-add-ins-delay-in-cell-edit
 */
import { UNKNOWN_FORMULA_MESSAGE } from "../addin/src/restores";
import { demoFunctions, units } from "./helpers/demo-functions";
import type { LoadedFunctions } from "./helpers/functions-bundle";
import { waitFor } from "./helpers/office-stand-ins";
import { GRID_COLUMNS, GRID_ROWS } from "./helpers/demo-grid";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Columns B..F: a region (row 1) and a product (row 2); rows 3 and 4: a channel (column A). */
const COLUMNS = GRID_COLUMNS;
const ROWS = GRID_ROWS;

/** The formula Excel shows in a cell of the grid: the same relative formula filled over B3:F4. */
const formulaAt = (col: string, row: number) => `=QATOM.CELL("Demo","${units}",${col}$1,${col}$2,$A${row},"[Scenario].[Actual]")`;

/** Builds the grid: headers, then the formulas; waits for their values and formula texts. */
async function grid(f: LoadedFunctions): Promise<{ address: string; formula: string; members: string[] }[]> {
  await waitFor(() => f.workbook.handlerCount === 1, 5000, "the onChanged handler");
  const wb = f.workbook;
  for (const [col, region, product] of COLUMNS) {
    wb.userEnters(`Sheet1!${col}1`, region);
    wb.userEnters(`Sheet1!${col}2`, product);
  }
  for (const [row, channel] of ROWS) wb.userEnters(`Sheet1!A${row}`, channel);
  const cells = ROWS.flatMap(([row, channel]) =>
    COLUMNS.map(([col, region, product]) => ({ address: `Sheet1!${col}${row}`, formula: formulaAt(col, row), members: [units, region, product, channel, "[Scenario].[Actual]"] })),
  );
  for (const c of cells) wb.userEnters(c.address, c.formula);
  await waitFor(() => cells.every((c) => typeof wb.cell(c.address).value === "number"), 5000, "the grid's values");
  await waitFor(() => cells.every((c) => f.context.formulaCells.find(c.address)?.formula === c.formula), 5000, "the formula texts");
  return cells;
}

describe("typing over QATOM cells while Excel is in cell-edit mode", () => {
  const demo = demoFunctions();

  it("typing 10 numbers in a row (type, Enter, type) over QATOM cells while the next edit has begun: 10 pending changes, 10 formulas intact with their references ($ and relative), 10 values kept visible", async () => {
    const f = await demo.load();
    const wb = f.workbook;
    const cells = await grid(f);
    const runsBefore = wb.runOptions.length;

    // Type a number, press Enter, and start typing the next at once: each onChanged handler's
    // batches reach Excel while the next cell is being edited.
    cells.forEach((c, k) => {
      wb.userEnters(c.address, 1000 + k);
      wb.beginsEdit(cells[k + 1]?.address ?? "Sheet1!H9");
    });
    await sleep(100); // the user is still typing in H9: nothing may fail meanwhile
    expect(wb.failedInEditMode).toBe(0);
    wb.endsEdit();

    await waitFor(() => f.context.pendingWrites.list().length === 10, 5000, "10 pending changes");
    await waitFor(() => cells.every((c) => wb.cell(c.address).formula === c.formula), 5000, "the 10 formulas back, references and all");
    expect(f.context.pendingWrites.list().map((w) => [w.address, w.members, w.value, w.status])).toEqual(
      cells.map((c, k) => [c.address, c.members, 1000 + k, "pending"]),
    );
    expect(f.context.restores.list()).toEqual([]);
    expect(wb.failedInEditMode).toBe(0);
    // every batch made after typing waited for the edit instead of failing
    expect(wb.runOptions.slice(runsBefore).length).toBeGreaterThan(0);
    expect(wb.runOptions.slice(runsBefore).every((o) => o.delayForCellEdit === true)).toBe(true);

    await f.context.pendingWrites.submit();
    expect(f.context.pendingWrites.list().map((w) => w.status)).toEqual(Array(10).fill("applied"));
    await waitFor(() => cells.every((c, k) => wb.cell(c.address).value === 1000 + k), 5000, "the 10 values in the sheet");
  });

  it("a number typed over a QATOM cell before its formula text was read: the cell is reported in the pane, never rewritten with literal member names", async () => {
    const f = await demo.load({ tuning: { formulaCells: { graceMs: 2000, readDelayMs: 60_000 } } });
    const wb = f.workbook;
    await waitFor(() => wb.handlerCount === 1, 5000, "the onChanged handler");
    const [col, region, product] = COLUMNS[0];
    wb.userEnters(`Sheet1!${col}1`, region);
    wb.userEnters(`Sheet1!${col}2`, product);
    wb.userEnters("Sheet1!A3", ROWS[0][1]);
    wb.userEnters("Sheet1!B3", formulaAt("B", 3));
    await waitFor(() => typeof wb.cell("Sheet1!B3").value === "number", 5000, "the value");
    expect(f.context.formulaCells.find("Sheet1!B3")?.formula).toBeNull();

    wb.userEnters("Sheet1!B3", 77);
    await waitFor(() => f.context.restores.list().length === 1, 5000, "the reported cell");
    expect(f.context.restores.list()[0]).toMatchObject({ address: "Sheet1!B3", formula: null, typed: "77", message: UNKNOWN_FORMULA_MESSAGE });
    await sleep(100);
    expect(wb.cell("Sheet1!B3").formula).toBe(77); // not `=QATOM.CELL("Demo","[Measures].[Units]","[Region]...`
    expect(f.context.pendingWrites.list()).toEqual([]);
  });

  it("a restore Excel refuses (the workbook is busy) is listed in the pane and retried until the formula is back; the pending change stays", async () => {
    const f = await demo.load({ tuning: { restoreRetryMs: [50, 100] } });
    const wb = f.workbook;
    const cells = await grid(f);
    const busy = () => Object.assign(new Error("The request could not be processed: Excel is busy."), { code: "GeneralException" });
    wb.failWrites(2, busy);

    wb.userEnters(cells[0].address, 5);
    await waitFor(() => f.context.restores.list().length === 1, 5000, "the failed restore in the pane");
    expect(f.context.restores.list()[0]).toMatchObject({ address: cells[0].address, formula: cells[0].formula, typed: "5" });
    expect(f.context.restores.list()[0].message).toMatch(/GeneralException: The request could not be processed/);
    expect(f.context.pendingWrites.list()).toMatchObject([{ address: cells[0].address, value: 5, status: "pending" }]);
    expect(wb.cell(cells[0].address).formula).toBe(5);

    await waitFor(() => wb.cell(cells[0].address).formula === cells[0].formula, 5000, "the formula back after a retry");
    await waitFor(() => f.context.restores.list().length === 0, 5000, "the item gone");
    expect(f.context.pendingWrites.list()).toHaveLength(1);
  });

  it("where ExcelApi 1.20 is supported, putting formulas back is one undo step (mergeUndoGroup); reads never ask for it", async () => {
    const f = await demo.load({ requirementSets: { ExcelApi: "1.20" } });
    const wb = f.workbook;
    const cells = await grid(f);
    const before = wb.runOptions.length;
    wb.userEnters(cells[0].address, 9);
    await waitFor(() => wb.cell(cells[0].address).formula === cells[0].formula, 5000, "the formula back");
    const after = wb.runOptions.slice(before);
    expect(after.some((o) => o.mergeUndoGroup === true)).toBe(true);
    expect(after.every((o) => o.delayForCellEdit === true)).toBe(true);

    const older = await demo.load({ requirementSets: { ExcelApi: "1.19" } });
    const g = await grid(older);
    const start = older.workbook.runOptions.length;
    older.workbook.userEnters(g[0].address, 9);
    await waitFor(() => older.workbook.cell(g[0].address).formula === g[0].formula, 5000, "the formula back");
    expect(older.workbook.runOptions.slice(start).some((o) => "mergeUndoGroup" in o)).toBe(false);
  });

  it("onChanged gives details (the value typed) for a single cell only, as Excel does; a fill over several cells has none", async () => {
    const f = await demo.load();
    const seen: { address: string; details?: unknown }[] = [];
    const ctx = await f.workbook.excel.run({ delayForCellEdit: true }, async (c: unknown) => c);
    (ctx as { workbook: { worksheets: { onChanged: { add(h: (ev: { address: string; details?: unknown }) => void): unknown } } } }).workbook.worksheets.onChanged.add((ev) => {
      seen.push({ address: ev.address, details: ev.details });
    });
    f.workbook.userEnters("Sheet1!H2", 12);
    f.workbook.userFills("Sheet1!H3:I3", 7);
    expect(seen).toEqual([
      { address: "H2", details: { valueBefore: "", valueAfter: 12, valueTypeBefore: "Empty", valueTypeAfter: "Double" } },
      { address: "H3:I3", details: undefined },
    ]);
  });
});
