/**
 * The workbook's reports: their definitions kept in the workbook's own settings
 * (Office.context.document.settings, key `qatom.reports`: a list of ./report.ts `ReportDef`), so a
 * saved workbook can still be reshaped, and their layouts written to the sheet in one batch.
 *
 * Reshaping rewrites the report's block: cells of the new layout are written (a data cell whose
 * formula text stays the same is left alone: Excel recalculates it from its headers), cells of the
 * old block outside the new one are cleared, and the pending writes move with their data cells
 * first, so a pending change stays on the cell of the same members (its mark follows it); one on a
 * cell that left the report is refused, as for a deleted cell (../pending-writes.ts).
 */
import type { Observable } from "../contracts";
import { ObservableValue } from "../observable";
import type { DocumentSettings, FormulaWrite } from "../host";
import { captionFormat, cellAddress, headerAddresses, layoutReport, locate, type ReportDef, type ReportMember, reportMove, sheetAndLocal, withSheetHeaders } from "./report";
import { formatCell, parseCell, quoteSheetName } from "../address";

/** The workbook setting's name. */
export const REPORT_SETTING = "qatom.reports";

/** What the reports need from the runtime. */
export interface ReportTargets {
  /** The workbook's settings (null: none, or no workbook yet). */
  settings(): DocumentSettings | null;
  /** Writes cells in one batch (../host.ts Host.writeFormulas). */
  write(cells: readonly FormulaWrite[]): Promise<void>;
  /**
   * Moves the pending writes (../pending-writes.ts moveAddresses). Only they: in a reshape the
   * sheet's cells stay where they are and only their contents change, so the formula registry
   * follows the recalculated formulas and the pending marks follow the moved writes by themselves
   * (unmarking the old cells, marking the new), unlike an Excel row insert, which moves the cells.
   */
  move(move: (address: string) => string | null): void;
  /** What cells (addresses with sheet) hold now (../host.ts Host.readCells: formula or constant). */
  read(addresses: readonly string[]): Promise<Map<string, unknown>>;
}

/** The reports of a workbook, for the task pane (see the module comment). */
export interface WorkbookReportsApi extends Observable<readonly ReportDef[]> {
  /** The report whose block holds a cell (address with sheet), or null. */
  at(address: string): ReportDef | null;
  /**
   * Writes a report (new, or a reshaped `previous` with the same id) and keeps its definition.
   * @throws Error from the layout (an empty axis, too many cells) before anything is written, or Office's error.
   */
  write(def: ReportDef, previous?: ReportDef | null): Promise<void>;
  /**
   * Writes members' unique names down a column from a cell (address with sheet), each showing its
   * caption (number format) and indented by its depth below the shallowest: the member picker's
   * "Insert here", for hand-built reports.
   */
  insertMembers(address: string, members: readonly ReportMember[]): Promise<void>;
  /**
   * The report as its sheet shows it now: headers and context cells typed over with other unique
   * names replace their members (./report.ts withSheetHeaders). Reshape from this, with it as `previous`.
   */
  fromSheet(def: ReportDef): Promise<ReportDef>;
}

const sameSheet = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Keeps only entries that look like report definitions. */
function parse(stored: unknown): ReportDef[] {
  if (!Array.isArray(stored)) return [];
  return stored.filter(
    (d): d is ReportDef =>
      typeof d === "object" && d !== null && typeof d.id === "string" && typeof d.cube === "string" && typeof d.sheet === "string" && typeof d.anchor === "string" && Array.isArray(d.rows) && Array.isArray(d.columns) && Array.isArray(d.context),
  );
}

/** The workbook's reports (see the module comment). */
export class WorkbookReports implements WorkbookReportsApi {
  private readonly defs = new ObservableValue<readonly ReportDef[]>([]);

  constructor(private readonly t: ReportTargets) {}

  get(): readonly ReportDef[] {
    return this.defs.get();
  }

  subscribe(fn: () => void): () => void {
    return this.defs.subscribe(fn);
  }

  /** Reads the definitions saved in the workbook. */
  load(): void {
    const s = this.t.settings();
    if (s) this.defs.set(parse(s.get(REPORT_SETTING)));
  }

  at(address: string): ReportDef | null {
    const at = sheetAndLocal(address);
    if (!at) return null;
    // The newest report wins where two overlap; any cell of its block counts (labels and blanks too).
    for (const def of [...this.defs.get()].reverse()) {
      if (sameSheet(def.sheet, at.sheet) && locate(def, at.local) !== null) return def;
    }
    return null;
  }

  async write(def: ReportDef, previous: ReportDef | null = null): Promise<void> {
    const layout = layoutReport(def);
    const old = previous ? layoutReport(previous) : null;
    const prefix = `${quoteSheetName(def.sheet)}!`;
    const oldContent = new Map(old?.cells.map((c) => [cellAddress(previous!, c), c]) ?? []);
    const writes: FormulaWrite[] = [];
    const kept = new Set<string>();
    for (const c of layout.cells) {
      const local = cellAddress(def, c);
      kept.add(local);
      const before = oldContent.get(local);
      const same = before && before.content === c.content && before.numberFormat === c.numberFormat && before.bold === c.bold && before.indentLevel === c.indentLevel;
      if (!same) writes.push({ address: prefix + local, formula: c.content, numberFormat: c.numberFormat, bold: c.bold, indentLevel: c.indentLevel });
    }
    if (previous && sameSheet(previous.sheet, def.sheet)) {
      for (const local of oldContent.keys()) {
        if (!kept.has(local)) writes.push({ address: prefix + local, formula: "", numberFormat: "General", bold: false, indentLevel: 0 });
      }
    }
    if (previous) this.t.move(reportMove(previous, def));
    await this.t.write(writes);
    const next = [...this.defs.get().filter((d) => d.id !== def.id), def];
    this.defs.set(next);
    const s = this.t.settings();
    if (!s) return;
    s.set(REPORT_SETTING, next);
    await s.save();
  }

  async fromSheet(def: ReportDef): Promise<ReportDef> {
    const prefix = `${quoteSheetName(def.sheet)}!`;
    const read = await this.t.read(headerAddresses(def).map((a) => prefix + a));
    const local = new Map([...read].map(([a, v]) => [sheetAndLocal(a)?.local ?? a, v]));
    return withSheetHeaders(def, local);
  }

  async insertMembers(address: string, members: readonly ReportMember[]): Promise<void> {
    const at = parseCell(address);
    if (!at) throw new Error(`Not a cell address: ${address}`);
    const top = Math.min(...members.map((m) => m.depth));
    await this.t.write(members.map((m, i) => ({ address: formatCell({ ...at, row: at.row + i }), formula: m.uniqueName, numberFormat: captionFormat(m.caption), indentLevel: Math.min(m.depth - top, 15) })));
  }
}
