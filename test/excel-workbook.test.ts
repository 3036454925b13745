/**
 * A finance user's data-entry session in real headless Chromium, with Excel played by the stand-ins
 * (test/helpers/workbook-page.tsx: the workbook with Excel's documented events, undo and shared
 * invocations; the ribbon from manifest.xml) and the add-in as Excel runs it (the real functions
 * bundle, shared runtime, Office host and task pane), against a real backend (PGlite, HTTP on an
 * ephemeral port). Leaves test-artifacts/excel-*.png (docs/img/excel-pending.png is one).
 */
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { PENDING_STYLE, SANDBOX_STYLE } from "../addin/src/host";
import { openTestPage, type TestPage } from "./helpers/browser-page";
import { apiClients } from "./helpers/clients";
import { expectNoPageErrors } from "./helpers/page-errors";
import { readRibbonModel } from "./helpers/ribbon-manifest";
import { formattedSmallCubeDef, smallCubeCells } from "./helpers/small-cube";
import type { WorkbookTestApi } from "./helpers/workbook-page";
import { GRID_COLUMNS, GRID_ROWS } from "./helpers/demo-grid";
import { CubeServer } from "./helpers/cube-server";

const ARTIFACTS = path.join(__dirname, "..", "test-artifacts");
const PAGE = "workbook-test.html";
const UNITS = "[Measures].[Units]";

const COLUMNS = GRID_COLUMNS;
const ROWS = GRID_ROWS;
const relative = (col: string, row: number) => `=QATOM.CELL("Demo","${UNITS}",${col}$1,${col}$2,$A${row},"[Scenario].[Plan]")`;
/** In H3 and H4: identical, so Excel runs one invocation for both (at H3). */
const IDENTICAL = `=QATOM.CELL("Demo","${UNITS}",$F$1,$F$2,$A$4,"[Scenario].[Actual]")`;
const REVENUE = `=QATOM.CELL("Demo","[Measures].[Revenue]","[Region].[North]","[Scenario].[Actual]")`;
const PRICE = `=QATOM.CELL("Demo","[Measures].[Price]","[Region].[North]","[Scenario].[Actual]")`;

describe("a data-entry session in Excel (Chromium stand-ins)", () => {
  let t: TestPage<CubeServer>;
  let page: Page;
  let server: CubeServer;

  /** Runs `fn` in the page with its test API (`fn` is sent as source: it may use only its arguments). */
  const api = <T, A = undefined>(fn: (a: WorkbookTestApi, arg: A) => T | Promise<T>, arg?: A) =>
    page.evaluate(`(${fn.toString()})(window.qatomWorkbook, ${JSON.stringify(arg ?? null)})`) as Promise<T>;
  const until = (fn: string, what: string) =>
    page.waitForFunction(`(() => { const a = window.qatomWorkbook; return ${fn}; })()`, undefined, { timeout: 10_000 }).catch(() => {
      throw new Error(`timed out waiting for ${what}`);
    });

  beforeAll(async () => {
    t = await openTestPage({
      name: "qatom-workbook-",
      entry: path.join(__dirname, "helpers", "workbook-page.tsx"),
      page: PAGE,
      title: "Book1 - Excel",
      viewport: { width: 1180, height: 560 },
      startServer: (pageDir) => CubeServer.start("PGlite", formattedSmallCubeDef({ units: "#,##0" }), smallCubeCells(), { QATOM_ADDIN_DIR: pageDir }),
      async beforeOpen(p) {
        await p.addInitScript((m) => {
          window.qatomRibbonModel = m;
          window.qatomUser = "tester";
        }, readRibbonModel());
      },
    });
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  test("typing 10 numbers in a row (type, Enter, type) over QATOM cells with references, two with identical formulas: 10 pending changes, 10 formulas intact, 10 values shown and marked; Ctrl+Z after one drops just that one; Submit in the ribbon is one WriteCells", async () => {
    await until("a.wb.handlerCount === 1 && a.wb.formulaHandlerCount === 1", "the add-in's event handlers");
    await api(
      (a, g) => {
        for (const [col, region, product] of g.columns) {
          a.wb.userEnters(`Sheet1!${col}1`, region);
          a.wb.userEnters(`Sheet1!${col}2`, product);
        }
        for (const [row, channel] of g.rows) a.wb.userEnters(`Sheet1!A${row}`, channel);
        for (const [row] of g.rows) for (const [col] of g.columns) a.wb.userEnters(`Sheet1!${col}${row}`, g.formulas[`${col}${row}`]);
        a.wb.userEnters("Sheet1!H3", g.identical);
        a.wb.userEnters("Sheet1!H4", g.identical);
        a.wb.userEnters("Sheet1!G3", g.revenue);
        a.wb.userEnters("Sheet1!G4", g.price);
      },
      {
        columns: COLUMNS,
        rows: ROWS,
        identical: IDENTICAL,
        revenue: REVENUE,
        price: PRICE,
        formulas: Object.fromEntries(ROWS.flatMap(([row]) => COLUMNS.map(([col]) => [`${col}${row}`, relative(col, row)]))),
      },
    );
    const typed = [...["B3", "C3", "D3", "E3", "F3", "B4", "C4", "D4", "E4"].map((a) => `Sheet1!${a}`), "Sheet1!H4"];
    await until(`${JSON.stringify(typed)}.every((x) => typeof a.wb.cell(x).value === "object" && a.wb.cell(x).value.type === "Double")`, "the grid's formatted values");
    // Excel's formatted numbers: money and a percentage as the model's formats say
    await until('/^\\d{1,3}(,\\d{3})*\\.\\d{2}$/.test(a.shown("Sheet1!G3")) && /^\\d+\\.\\d%$/.test(a.shown("Sheet1!G4"))', "Revenue as money and Price as a percentage");

    await api(
      (a, cells) => {
        cells.forEach((c, k) => {
          a.wb.userEnters(c, 1000 + 250 * k);
          a.wb.beginsEdit(cells[k + 1] ?? "Sheet1!A9");
        });
        a.wb.endsEdit();
      },
      typed,
    );
    await until("a.pending().length === 10", "10 pending changes");
    await until(`${JSON.stringify(typed)}.every((x) => a.wb.cell(x).style === ${JSON.stringify(PENDING_STYLE.name)})`, "10 marked cells");
    const formulas = await api((a, cells) => cells.map((c) => a.wb.cell(c).formula), typed);
    expect(formulas).toEqual([...typed.slice(0, 9).map((a) => relative(a.slice(7, 8), Number(a.slice(8)))), IDENTICAL]);
    await until(`${JSON.stringify(typed)}.every((x, k) => a.shown(x) === (1000 + 250 * k).toLocaleString("en-US"))`, "the 10 typed values shown, formatted");
    expect(await api((a) => a.wb.failedInEditMode)).toBe(0);

    // Ctrl+Z after the fifth entry's successor? No: right after the last one, which takes it back.
    await api((a) => a.wb.userUndoes());
    await until("a.pending().length === 9", "the last entry dropped");
    await until(`a.wb.cell("Sheet1!H4").formula === ${JSON.stringify(IDENTICAL)} && a.wb.cell("Sheet1!H4").style === "Normal"`, "H4's formula back, unmarked");
    await api((a) => a.select("Sheet1!C3"));
    await page.getByRole("button", { name: "Submit", exact: true }).first().waitFor();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(ARTIFACTS, "excel-pending.png") });

    const before = t.rpcCount("WriteCells");
    await page.getByRole("tabpanel", { name: "QuantatomAI" }).getByRole("button", { name: "Submit", exact: true }).click();
    await until('a.pending().every((p) => p.includes(" applied "))', "every entry applied");
    expect(t.rpcCount("WriteCells") - before).toBe(1);
    await until(`${JSON.stringify(typed.slice(0, 9))}.every((x) => a.wb.cell(x).style === "Normal")`, "the marks gone");
    const check = await apiClients(server.url, "check").lattice.getCells({
      cube: "Demo",
      cells: typed.slice(0, 9).map((a) => {
        const col = COLUMNS.find(([c]) => c === a.slice(7, 8))!;
        const row = ROWS.find(([r]) => r === Number(a.slice(8)))!;
        return { members: [UNITS, col[1], col[2], row[1], "[Scenario].[Plan]"] };
      }),
    });
    expect(check.cells.map((c) => c.value)).toEqual(typed.slice(0, 9).map((_, k) => 1000 + 250 * k));
    await page.screenshot({ path: path.join(ARTIFACTS, "excel-submitted.png") });
    expectNoPageErrors(t.pageErrors);
  });

  test("C typed over a consolidated cell clears every leaf below it only after the pane's confirmation", async () => {
    await until('typeof a.wb.cell("Sheet1!G3").value === "object"', "the Revenue total");
    await api((a) => a.wb.userEnters("Sheet1!G3", "C"));
    await until('a.pending().some((p) => p.startsWith("Sheet1!G3 pending"))', "the clear, waiting");
    const confirm = page.getByRole("button", { name: "Confirm clearing Sheet1!G3" });
    await confirm.waitFor();
    const before = t.rpcCount("WriteCells");
    // nothing Submit could send: the ribbon's Submit is disabled until the clear is confirmed
    await page.getByRole("tabpanel", { name: "QuantatomAI" }).getByRole("button", { name: "Submit", exact: true, disabled: true }).waitFor();
    await confirm.click();
    await page.getByRole("tabpanel", { name: "QuantatomAI" }).getByRole("button", { name: "Submit", exact: true }).click();
    await until('a.pending().some((p) => p.startsWith("Sheet1!G3 applied"))', "the clear applied");
    expect(t.rpcCount("WriteCells") - before).toBe(1);
    const [north] = (await apiClients(server.url, "check").lattice.getCells({ cube: "Demo", cells: [{ members: ["[Measures].[Revenue]", "[Region].[North]", "[Scenario].[Actual]"] }] })).cells;
    expect(north.value ?? null).toBeNull();
    expectNoPageErrors(t.pageErrors);
  });

  test("in a sandbox chosen in the pane, a submitted value marks the cells it changed; the choice is saved in the workbook; back on the base the marks go", async () => {
    const B3 = [UNITS, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const [before] = (await apiClients(server.url, "check").lattice.getCells({ cube: "Demo", cells: [{ members: B3 }] })).cells;
    await api((a) => a.select("Sheet1!B3"));
    await page.getByLabel("New sandbox").fill("Sheet what-if");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByText("Changes you submit to Demo go to sandbox Sheet what-if", { exact: false }).waitFor();
    const saved = await page.evaluate('globalThis.Office.context.document.settings.saved["qatom.sandboxes"]');
    expect(saved).toEqual({ demo: { id: expect.any(String), name: "Sheet what-if" } });

    await api((a) => a.wb.userEnters("Sheet1!B3", 4321));
    await until('a.pending().some((p) => p.startsWith("Sheet1!B3 pending"))', "B3 pending");
    await page.getByRole("tabpanel", { name: "QuantatomAI" }).getByRole("button", { name: "Submit", exact: true }).click();
    await until('a.pending().some((p) => p.startsWith("Sheet1!B3 applied"))', "B3 applied in the sandbox");
    await until(`a.wb.cell("Sheet1!B3").style === ${JSON.stringify(SANDBOX_STYLE.name)} && a.shown("Sheet1!B3") === "4,321"`, "B3 marked as changed in the sandbox");
    expect(await api((a) => a.wb.cell("Sheet1!C3").style)).toBe("Normal");
    const [base] = (await apiClients(server.url, "check").lattice.getCells({ cube: "Demo", cells: [{ members: B3 }] })).cells;
    expect(base.value).toBe(before.value);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(ARTIFACTS, "excel-sandbox.png") });

    await page.getByLabel("Cells of Demo show").selectOption({ label: "Base (shared data)" });
    await until(`a.wb.cell("Sheet1!B3").style === "Normal" && a.shown("Sheet1!B3") === ${JSON.stringify((before.value ?? 0).toLocaleString("en-US"))}`, "B3 back on the base, unmarked");
    expectNoPageErrors(t.pageErrors);
  });
});
