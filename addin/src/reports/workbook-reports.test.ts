import { documentSettingsStandIn } from "../../../test/helpers/office-stand-ins";
import type { FormulaWrite } from "../host";
import { type ReportDef, type ReportMember, zoomIn } from "./report";
import { REPORT_SETTING, WorkbookReports } from "./workbook-reports";

const m = (uniqueName: string, depth: number): ReportMember => ({ uniqueName, caption: uniqueName.split("].[").pop()!.replace(/[[\]]/g, ""), depth, isLeaf: false });
const USA = m("[Store].[USA]", 0);
const CA = m("[Store].[USA].[CA]", 1);
const OR = m("[Store].[USA].[OR]", 1);
const def: ReportDef = {
  id: "r1",
  cube: "Sales",
  sheet: "My Sheet",
  anchor: "A1",
  context: [],
  rows: [{ dimension: "Store", members: [USA, CA, OR] }],
  columns: [{ dimension: "Time", members: [m("[Time].[1997]", 0)] }],
};

/** The runtime's side, recorded: the workbook's settings (Office.Settings' stand-in), writes and moves. */
function targets(stored: Record<string, unknown> = {}) {
  const { settings, saved } = documentSettingsStandIn(stored);
  const writes: FormulaWrite[][] = [];
  const moves: ((a: string) => string | null)[] = [];
  const sheet = new Map<string, unknown>();
  const reports = new WorkbookReports({
    settings: () => settings,
    write: async (cells) => {
      writes.push([...cells]);
      for (const c of cells) sheet.set(c.address, c.formula);
    },
    move: (f) => void moves.push(f),
    read: async (addresses) => new Map(addresses.map((a) => [a, sheet.get(a) ?? ""])),
  });
  return { reports, writes, moves, saved, sheet };
}

describe("WorkbookReports", () => {
  it("writes a new report's every cell on its sheet (quoted) and keeps its definition in the workbook", async () => {
    const t = targets();
    await t.reports.write(def);
    const written = new Map(t.writes[0].map((w) => [w.address, w]));
    // Cube row 1, blank row 2, column header row 3, rows 4-6.
    expect(written.get("'My Sheet'!A1")?.formula).toBe("Cube");
    expect(written.get("'My Sheet'!A5")).toMatchObject({ formula: "[Store].[USA].[CA]", bold: true, indentLevel: 1, numberFormat: ';;;"CA"' });
    expect(written.get("'My Sheet'!B5")?.formula).toBe("=QATOM.CELL($B$1,$A5,B$3)");
    expect(t.moves).toHaveLength(0);
    expect(t.saved[REPORT_SETTING]).toEqual([def]);
    expect(t.reports.at("'My Sheet'!B5")?.id).toBe("r1");
    expect(t.reports.at("'My Sheet'!C5")).toBeNull();
    expect(t.reports.at("'My Sheet'!B2")?.id).toBe("r1");
    expect(t.reports.at("'My Sheet'!A7")).toBeNull();
    expect(t.reports.at("Sheet1!B5")).toBeNull();
  });

  it("reshapes: moves the kept addresses first, writes only what changed, clears what left the block", async () => {
    const t = targets();
    await t.reports.write(def);
    // CA (row 5) opens into two cities: OR moves from row 6 to row 7.
    const next = zoomIn(def, "rows", 0, CA.uniqueName, [m("[Store].[USA].[CA].[Alameda]", 2), m("[Store].[USA].[CA].[Fresno]", 2)]);
    await t.reports.write(next, def);
    const [move] = t.moves;
    expect(move("'My Sheet'!B6")).toBe("'My Sheet'!B7");
    expect(move("'My Sheet'!B5")).toBeNull();
    expect(move("'My Sheet'!B4")).toBe("'My Sheet'!B4");
    const written = new Map(t.writes[1].map((w) => [w.address, w]));
    // USA's row is as it was: not written again; B5 and B6 keep their formula text (its headers change).
    expect(written.has("'My Sheet'!A4")).toBe(false);
    expect(written.has("'My Sheet'!B5")).toBe(false);
    expect(written.get("'My Sheet'!A5")?.formula).toBe("[Store].[USA].[CA].[Alameda]");
    expect(written.get("'My Sheet'!B7")?.formula).toBe("=QATOM.CELL($B$1,$A7,B$3)");
    // Zoomed out again: row 7 leaves the block and is cleared.
    await t.reports.write(def, next);
    const cleared = new Map(t.writes[2].map((w) => [w.address, w]));
    expect(cleared.get("'My Sheet'!A7")).toEqual({ address: "'My Sheet'!A7", formula: "", numberFormat: "General", bold: false, indentLevel: 0 });
    expect(t.reports.get()).toEqual([def]);
  });

  it("reads the report as its sheet shows it: a header or a context cell typed over replaces its member", async () => {
    const t = targets();
    const withContext: ReportDef = { ...def, context: [{ dimension: "Measures", member: "[Measures].[Units]", caption: "Units" }] };
    await t.reports.write(withContext);
    expect(await t.reports.fromSheet(withContext)).toEqual(withContext);
    // Cube row 1, context row 2, blank row 3, column header row 4, rows 5-7: OR (A7) typed over with WA.
    t.sheet.set("'My Sheet'!A7", "[Store].[USA].[WA]");
    t.sheet.set("'My Sheet'!B2", "[Measures].[Revenue]");
    const seen = await t.reports.fromSheet(withContext);
    expect(seen.rows[0].members.map((m) => m.uniqueName)).toEqual(["[Store].[USA]", "[Store].[USA].[CA]", "[Store].[USA].[WA]"]);
    expect(seen.rows[0].members[2]).toMatchObject({ caption: "WA", depth: 1 });
    expect(seen.context[0]).toEqual({ dimension: "Measures", member: "[Measures].[Revenue]", caption: "Revenue" });
    // Text that is not a unique name is not a member.
    t.sheet.set("'My Sheet'!A6", "check with Ann");
    expect((await t.reports.fromSheet(withContext)).rows[0].members[1]).toEqual(CA);
  });

  it("reads the workbook's reports, ignoring malformed entries; inserts members down a column", async () => {
    const t = targets({ [REPORT_SETTING]: [def, { id: 3 }, null, "x"] });
    t.reports.load();
    expect(t.reports.get()).toEqual([def]);
    await t.reports.insertMembers("Sheet1!C2", [USA, CA]);
    expect(t.writes[0]).toEqual([
      { address: "Sheet1!C2", formula: "[Store].[USA]", numberFormat: ';;;"USA"', indentLevel: 0 },
      { address: "Sheet1!C3", formula: "[Store].[USA].[CA]", numberFormat: ';;;"CA"', indentLevel: 1 },
    ]);
  });
});
