/**
 * The workbook test page: Excel played by stand-ins in real Chromium, with the add-in as Excel runs
 * it. The real functions bundle's entry (functions/src/functions.ts) associates QATOM.CELL with
 * `CustomFunctions` and starts the shared runtime over the real Office host (addin/src/host.ts)
 * and the workbook stand-in; the ribbon tab comes from the manifest (./ribbon-stand-in.ts); the real
 * task pane is mounted beside the sheet. The sheet is drawn from the stand-in's cells: values as
 * Excel shows them (formatted numbers in their number format) and the pending style's fill.
 * `window.qatomWorkbook` drives it. Bundled by esbuild in test/excel-workbook.test.ts.
 */
import "./workbook-page-globals";
import "../../functions/src/functions";
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { getAddinContext } from "../../addin/src/context";
import { PENDING_STYLE, SANDBOX_STYLE } from "../../addin/src/host";
import { TaskpaneApp } from "../../taskpane/src/App";
import type { SelectedCell, TaskpaneHost } from "../../taskpane/src/host";
import type { ReportDef } from "../../addin/src/reports/report";
import type { FakeWorkbook } from "./fake-workbook";
import { ribbon, workbook } from "./workbook-page-globals";

/** What the page offers the test. */
export interface WorkbookTestApi {
  wb: FakeWorkbook;
  /** `address status value` of each pending write. */
  pending(): string[];
  /** Selects a cell (the pane follows). */
  select(address: string): void;
  /** What the sheet shows in a cell, as drawn. */
  shown(address: string): string;
  /** The reports built in the pane (their definitions, as the workbook keeps them). */
  reports(): readonly ReportDef[];
}

declare global {
  interface Window {
    qatomWorkbook: WorkbookTestApi;
  }
}

const ctx = getAddinContext();

/** Excel's rendering of a number in a format code: the three the models use, else General. */
function formatNumber(n: number, format: string): string {
  const group = (x: number, digits: number) => x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (format === "#,##0") return group(n, 0);
  if (format === "#,##0.00") return group(n, 2);
  const pct = /^0(?:\.(0+))?%$/.exec(format);
  if (pct) return `${(n * 100).toFixed(pct[1]?.length ?? 0)}%`;
  return String(Math.round(n * 1e10) / 1e10);
}

/** What a cell shows: a formatted number with its format, a number, text, or an error's code. */
function display(value: unknown): { text: string; number: boolean } {
  if (value === "" || value === null || value === undefined) return { text: "", number: false };
  if (typeof value === "number") return { text: formatNumber(value, "General"), number: true };
  if (typeof value === "object" && (value as { type?: string }).type === "Double") {
    const v = value as { basicValue: number; numberFormat?: string };
    return { text: formatNumber(v.basicValue, v.numberFormat ?? "General"), number: true };
  }
  if (typeof value === "object" && "code" in (value as object)) return { text: String((value as { code: string }).code), number: false };
  return { text: String(value), number: false };
}

let selected = "Sheet1!A1";
const selectionListeners = new Set<() => void>();
const host: TaskpaneHost = {
  async getSelectedCell(): Promise<SelectedCell> {
    return { address: selected, cell: ctx.formulaCells.find(selected) ?? null };
  },
  onSelectionChanged(fn) {
    selectionListeners.add(fn);
    return () => selectionListeners.delete(fn);
  },
  async selectCell(address) {
    window.qatomWorkbook.select(address);
  },
};

const COLS = Array.from({ length: window.qatomGridSize?.cols ?? 8 }, (_, i) => String.fromCharCode(65 + i)).join("");
const ROWS = window.qatomGridSize?.rows ?? 9;

/** The text an Excel number format shows for a text cell when its text section is only literals (`;;;"CA"`: a report header's caption); null otherwise. */
function textSection(format: string): string | null {
  const sections = format.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  if (sections.length !== 4 || sections[3].includes("@")) return null;
  let out = "";
  for (const m of sections[3].matchAll(/"([^"]*)"|\\(.)/g)) out += m[1] ?? m[2];
  return out;
}

/** Draws the sheet into the ribbon stand-in's window (in place of its empty grid). */
function drawSheet(): void {
  const table = document.querySelector(".xl-grid") as HTMLTableElement;
  table.replaceChildren();
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (const c of COLS) {
    const th = document.createElement("th");
    th.textContent = c;
    head.append(th);
  }
  table.append(head);
  for (let r = 1; r <= ROWS; r++) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = String(r);
    tr.append(th);
    for (const c of COLS) {
      const td = document.createElement("td");
      td.dataset.address = `Sheet1!${c}${r}`;
      td.addEventListener("click", () => window.qatomWorkbook.select(`Sheet1!${c}${r}`));
      tr.append(td);
    }
    table.append(tr);
  }
}

function paintSheet(): void {
  const pendingFill = workbook.styles.get(PENDING_STYLE.name.toLowerCase())?.fill.color ?? PENDING_STYLE.fill;
  for (const td of Array.from(document.querySelectorAll<HTMLTableCellElement>(".xl-grid td"))) {
    const address = td.dataset.address!;
    const cell = workbook.cell(address);
    const { text, number } = display(cell.value);
    // A text cell shows its number format's text section when there is one (a report's caption);
    // other member names as headers: their last part, as a report would caption them.
    const caption = !number && text ? textSection(cell.numberFormat) : null;
    td.textContent = caption ?? (!number && text.startsWith("[") ? (text.split("].[").pop() ?? text).replace(/\]$/, "") : text);
    td.style.fontWeight = cell.bold ? "600" : "";
    td.style.paddingLeft = cell.indentLevel ? `${4 + cell.indentLevel * 10}px` : "";
    td.style.textAlign = number ? "right" : "left";
    const own = cell.style === PENDING_STYLE.name ? { fill: pendingFill, font: PENDING_STYLE.font } : cell.style === SANDBOX_STYLE.name ? SANDBOX_STYLE : null;
    td.style.background = own?.fill ?? "";
    td.style.color = own?.font ?? "";
    td.style.outline = address === selected ? "2px solid #217346" : "";
  }
  const name = document.querySelector(".xl-name");
  const fx = document.querySelector(".xl-fx");
  if (name) name.textContent = selected.split("!")[1];
  if (fx) fx.textContent = String(workbook.cell(selected).formula ?? "");
}

window.qatomWorkbook = {
  wb: workbook,
  pending: () => ctx.pendingWrites.list().map((w) => `${w.address} ${w.status} ${w.value}`),
  select(address) {
    selected = address;
    for (const fn of [...selectionListeners]) fn();
    paintSheet();
  },
  reports: () => ctx.reports.get(),
  shown(address) {
    return (document.querySelector(`.xl-grid td[data-address="${address}"]`)?.textContent ?? "").trim();
  },
};

function Pane() {
  const [settings, setSettings] = useState<Awaited<ReturnType<typeof ctx.getSettings>> | null>(null);
  if (!settings) {
    void ctx.getSettings().then(setSettings);
    return null;
  }
  return (
    <TaskpaneApp
      host={host}
      pending={ctx.pendingWrites}
      holds={ctx.holds}
      sandboxes={ctx.sandboxes}
      reports={ctx.reports}
      restores={ctx.restores}
      auth={ctx.auth}
      feed={ctx}
      settings={settings}
      onSaveSettings={async (s) => setSettings(await ctx.saveSettings(s))}
    />
  );
}

const root = document.getElementById("root")!;
root.style.display = "flex";
root.style.alignItems = "flex-start";
const book = document.createElement("div");
book.style.width = "860px";
const pane = document.createElement("div");
pane.style.width = "320px";
pane.style.borderLeft = "1px solid #d1d1d1";
pane.style.height = "100vh";
pane.style.overflow = "auto";
root.append(book, pane);
ribbon.render(book);
ribbon.listen(document);
drawSheet();
setInterval(paintSheet, 50);
createRoot(pane).render(<Pane />);
