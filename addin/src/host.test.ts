/**
 * The host over the workbook stand-in (test/helpers/fake-workbook.ts): Excel on the web's 5 MB
 * request and response limit ("Resource limits and performance optimization for Office Add-ins"),
 * the pending style created once and applied without touching the number format, and
 * `triggerSource` passed on.
 * @see https://learn.microsoft.com/office/dev/add-ins/concepts/resource-limits-and-performance-optimization
 */
import { customFunctionsStandIn, FakeWorkbook, officeStandIn, PayloadLimitError } from "../../test/helpers/office-stand-ins";
import { MAX_CELLS_PER_SYNC, officeHost, PENDING_STYLE, type SheetChange } from "./host";

function workbook() {
  const wb = new FakeWorkbook(customFunctionsStandIn().functions);
  const office = officeStandIn({ pageOrigin: "https://localhost:3000", requirementSets: { ExcelApi: "1.20" } }).office;
  return { wb, host: officeHost({ Office: office, Excel: wb.excel }) };
}

/** A formula text of `n` characters (Excel allows 8,192). */
const longFormula = (k: number, n: number) => `="${String(k).padEnd(n - 3, "x")}"`;

describe("the Office host", () => {
  it("Excel on the web refuses a request over 5 MB: writing 800 formulas of 8,000 characters (6.4 MB) in one sync fails, the host splits them into syncs under the limit", async () => {
    const { wb, host } = workbook();
    const cells = Array.from({ length: 800 }, (_, k) => ({ address: `Sheet1!A${k + 1}`, formula: longFormula(k, 8000) }));
    // the control: one sync with everything, as the host did before
    await expect(
      wb.excel.run({}, async (ctx: unknown) => {
        const c = ctx as { workbook: { worksheets: { getItem(s: string): { getRange(a: string): { formulas: unknown[][] } } } }; sync(): Promise<void> };
        for (const x of cells) c.workbook.worksheets.getItem("Sheet1").getRange(x.address.split("!")[1]).formulas = [[x.formula]];
        await c.sync();
      }),
    ).rejects.toBeInstanceOf(PayloadLimitError);
    expect(wb.cell("Sheet1!A1").formula).toBe("");
    wb.largestPayload = 0;

    await host.writeFormulas(cells);
    expect(wb.cell("Sheet1!A800").formula).toBe(cells[799].formula);
    expect(wb.largestPayload).toBeLessThanOrEqual(5 * 1024 * 1024);
    // reading them back is split too (a response over 5 MB fails as well)
    const read = await host.readCells(cells.map((c) => c.address));
    expect(read.map((c) => c.formula)).toEqual(cells.map((c) => c.formula));
    expect(wb.largestPayload).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(MAX_CELLS_PER_SYNC).toBeLessThan(800);
  });

  it("creates the pending style once (checked again after a batch that failed using it), with a fill and no number format, and a cell keeps its number format under it", async () => {
    const { wb, host } = workbook();
    wb.cell("Sheet1!B2").numberFormat = "0.0%";
    await host.writeFormulas([{ address: "Sheet1!B2", style: PENDING_STYLE.name }]);
    await host.writeFormulas([{ address: "Sheet1!B3", style: PENDING_STYLE.name }]);
    const style = wb.styles.get(PENDING_STYLE.name.toLowerCase());
    expect(style).toMatchObject({ name: PENDING_STYLE.name, fill: { color: PENDING_STYLE.fill }, includeNumber: false });
    expect(wb.cell("Sheet1!B2")).toMatchObject({ style: PENDING_STYLE.name, numberFormat: "0.0%" });
    const [b2] = await host.readCells(["Sheet1!B2"]);
    expect(b2).toMatchObject({ style: PENDING_STYLE.name, numberFormat: "0.0%" });
    // Checked once, not on every entry: a style the user deleted since fails one batch, and the next one creates it again.
    wb.styles.delete(PENDING_STYLE.name.toLowerCase());
    await expect(host.writeFormulas([{ address: "Sheet1!B4", style: PENDING_STYLE.name }])).rejects.toThrow(/ItemNotFound/);
    await host.writeFormulas([{ address: "Sheet1!B4", style: PENDING_STYLE.name }]);
    expect(wb.cell("Sheet1!B4").style).toBe(PENDING_STYLE.name);
  });

  it("passes on onChanged's triggerSource (ExcelApi 1.14): ThisLocalAddin for the add-in's own writes, Unknown for the user's", async () => {
    const { wb, host } = workbook();
    const seen: SheetChange[] = [];
    await host.onSheetChanged((c) => seen.push(c));
    wb.userEnters("Sheet1!C3", 5);
    await host.writeFormulas([{ address: "Sheet1!C4", formula: "=1+1" }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((c) => [c.address, c.triggerSource])).toEqual([
      ["C3", "Unknown"],
      ["C4", "ThisLocalAddin"],
    ]);
  });
});
