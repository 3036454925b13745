import { captionFormat, cellAddress, insertInOrder, keepOnly, layoutReport, locate, removeMember, type ReportDef, reportSize, type ReportMember, reportMove, setContext, swapAxes, zoomIn, zoomOut } from "./report";

const m = (uniqueName: string, depth: number, isLeaf = false): ReportMember => ({ uniqueName, caption: uniqueName.split("].[").pop()!.replace(/[[\]]/g, ""), depth, isLeaf });
const USA = m("[Store].[USA]", 0);
const CA = m("[Store].[USA].[CA]", 1);
const OR = m("[Store].[USA].[OR]", 1);
const Q = ["Q1", "Q2"].map((q) => m(`[Time].[1997].[${q}]`, 1));

/** Store (USA and CA) down, two quarters across, Unit Sales in the context, at B2. */
const def: ReportDef = {
  id: "r1",
  cube: "Sales",
  sheet: "Sheet1",
  anchor: "B2",
  context: [{ dimension: "Measures", member: "[Measures].[Unit Sales]", caption: "Unit Sales" }],
  rows: [{ dimension: "Store", members: [USA, CA] }],
  columns: [{ dimension: "Time", members: Q }],
  numberFormat: "#,##0",
};

/** The layout as a map of local address -> content. */
const grid = (d: ReportDef) => new Map(layoutReport(d).cells.map((c) => [cellAddress(d, c), c]));

describe("report layout", () => {
  it("puts the cube, the context, headers as unique names and one QATOM.CELL of references per cell", () => {
    const g = grid(def);
    expect(g.get("B2")?.content).toBe("Cube");
    expect(g.get("C2")?.content).toBe("Sales");
    expect(g.get("C3")?.content).toBe("[Measures].[Unit Sales]");
    // Headers start after a blank row: columns at row 5, rows from row 6.
    expect(g.get("B5")?.content).toBe("Store");
    expect(g.get("C5")?.content).toBe("[Time].[1997].[Q1]");
    expect(g.get("D5")?.content).toBe("[Time].[1997].[Q2]");
    expect(g.get("B6")?.content).toBe("[Store].[USA]");
    expect(g.get("B7")?.content).toBe("[Store].[USA].[CA]");
    expect(g.get("C6")?.content).toBe("=QATOM.CELL($C$2,$C$3,$B6,C$5)");
    expect(g.get("D7")?.content).toBe("=QATOM.CELL($C$2,$C$3,$B7,D$5)");
    expect(g.get("D7")?.numberFormat).toBe("#,##0");
    // Headers bold, with their caption as format; the deeper row indented.
    expect(g.get("B7")).toMatchObject({ bold: true, indentLevel: 1, numberFormat: ';;;"CA"' });
    expect(g.get("B6")).toMatchObject({ bold: true, indentLevel: 0 });
    expect(g.get("C5")).toMatchObject({ bold: true, numberFormat: ';;;"Q1"' });
  });

  it("nests two row dimensions: every combination, each data cell referring to both headers", () => {
    const nested: ReportDef = { ...def, context: [], rows: [{ dimension: "Store", members: [USA, CA] }, { dimension: "Product", members: [m("[Product].[Food]", 0), m("[Product].[Drink]", 0)] }] };
    const g = grid(nested);
    // Cube at row 2, blank row 3, column headers at row 4, data from row 5 (4 combinations).
    expect([5, 6, 7, 8].map((r) => `${g.get(`B${r}`)?.content} ${g.get(`C${r}`)?.content}`)).toEqual([
      "[Store].[USA] [Product].[Food]",
      "[Store].[USA] [Product].[Drink]",
      "[Store].[USA].[CA] [Product].[Food]",
      "[Store].[USA].[CA] [Product].[Drink]",
    ]);
    expect(g.get("E8")?.content).toBe("=QATOM.CELL($C$2,$B8,$C8,E$4)");
  });

  it("gives the layout's size without laying it out", () => {
    const nested: ReportDef = { ...def, rows: [...def.rows, { dimension: "Product", members: [m("[Product].[Food]", 0), m("[Product].[Drink]", 0)] }] };
    for (const d of [def, nested, swapAxes(nested)]) {
      const { rows, cols } = layoutReport(d);
      expect(reportSize(d)).toEqual({ rows, cols });
    }
  });

  it("refuses an empty axis with the dimension's name", () => {
    expect(() => layoutReport({ ...def, columns: [{ dimension: "Time", members: [] }] })).toThrow("Time axis has no members");
  });

  it("escapes quotes in captions", () => {
    expect(captionFormat('Big "A"')).toBe(';;;"Big "\\""A"\\"""');
  });
});

describe("reshaping", () => {
  it("locates headers, data and context cells", () => {
    expect(locate(def, "B7")).toMatchObject({ kind: "row", axis: 0, member: CA });
    expect(locate(def, "D5")).toMatchObject({ kind: "column", axis: 0, member: Q[1] });
    expect(locate(def, "D6")).toMatchObject({ kind: "data", row: [USA], column: [Q[1]] });
    expect(locate(def, "C3")).toEqual({ kind: "context", index: 0 });
    expect(locate(def, "E6")).toBeNull();
    expect(locate(def, "A1")).toBeNull();
  });

  it("zooms in (the member replaced by its children) and out (its children replaced by it), keeps only, removes", () => {
    const zoomed = zoomIn(def, "rows", 0, CA.uniqueName, [m("[Store].[USA].[CA].[Alameda]", 2), m("[Store].[USA].[CA].[Los Angeles]", 2)]);
    expect(zoomed.rows[0].members.map((x) => x.uniqueName)).toEqual(["[Store].[USA]", "[Store].[USA].[CA].[Alameda]", "[Store].[USA].[CA].[Los Angeles]"]);
    const out = zoomOut(zoomed, "rows", 0, CA);
    expect(out.rows[0].members).toEqual([USA, CA]);
    expect(keepOnly(def, "columns", 0, Q[1].uniqueName).columns[0].members).toEqual([Q[1]]);
    expect(removeMember(def, "rows", 0, USA.uniqueName).rows[0].members).toEqual([CA]);
    expect(() => removeMember(keepOnly(def, "rows", 0, CA.uniqueName), "rows", 0, CA.uniqueName)).toThrow("last member");
  });

  it("swaps axes and changes a context member", () => {
    const swapped = swapAxes(def);
    expect(grid(swapped).get("B6")?.content).toBe("[Time].[1997].[Q1]");
    expect(grid(swapped).get("C5")?.content).toBe("[Store].[USA]");
    const store = setContext(def, 0, m("[Measures].[Store Sales]", 0));
    expect(grid(store).get("C3")?.content).toBe("[Measures].[Store Sales]");
  });

  it("moves each data cell's address to where its members are after a reshape; a cell that left is gone", () => {
    const zoomed = zoomIn(def, "rows", 0, USA.uniqueName, [CA, OR]);
    const move = reportMove(def, zoomed);
    // USA's row left; CA's row moves up from row 7 to 6; OR is new.
    expect(zoomed.rows[0].members).toEqual([CA, OR]);
    expect(move("Sheet1!C6")).toBeNull();
    expect(move("Sheet1!D7")).toBe("Sheet1!D6");
    expect(move("Sheet1!A1")).toBe("Sheet1!A1");
    expect(move("Sheet2!E7")).toBe("Sheet2!E7");
    const swapped = reportMove(def, swapAxes(def));
    // (CA, Q2) at D7 goes to row Q2 (7), column CA (D); (CA, Q1) at C7 to row Q1 (6), column D.
    expect(swapped("Sheet1!D7")).toBe("Sheet1!D7");
    expect(swapped("Sheet1!C7")).toBe("Sheet1!D6");
  });
});

describe("selection order", () => {
  it("keeps members in hierarchy order: states after their country, a country before its states", () => {
    const countries = ["Canada", "Mexico", "USA"].map((c) => m(`[Store].[${c}]`, 0));
    const states = [m("[Store].[Canada].[BC]", 1), m("[Store].[Mexico].[DF]", 1), CA, OR];
    let sel = countries.reduce<ReportMember[]>((s, x) => insertInOrder(s, x), []);
    sel = states.reduce((s, x) => insertInOrder(s, x), sel);
    expect(sel.map((x) => x.caption)).toEqual(["Canada", "BC", "Mexico", "DF", "USA", "CA", "OR"]);
    // A parent chosen after its children goes before them; an unrelated member at the end.
    const other = [CA, OR, m("[Store].[USA]", 0), m("[Time].[1997]", 0)].reduce<ReportMember[]>((s, x) => insertInOrder(s, x), []);
    expect(other.map((x) => x.caption)).toEqual(["USA", "CA", "OR", "1997"]);
  });
});
