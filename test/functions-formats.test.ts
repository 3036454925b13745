/**
 * QATOM.CELL shows values as Excel shows them: the functions bundle (with stand-ins for Excel's
 * globals) against a real backend serving the small cube with number formats. Where Office supports
 * CustomFunctionsRuntime 1.4 a cell with a format is a formatted number (`{ type: "Double",
 * basicValue, numberFormat }`), elsewhere the plain number; in formula value preview no function
 * reads the server.
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-data-types-concepts
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-formula-value-preview
 */
import { apiClients } from "./helpers/clients";
import { demoFunctions } from "./helpers/demo-functions";
import type { LoadedFunctions } from "./helpers/functions-bundle";
import { StandInError, StreamingInvocationStub, waitFor } from "./helpers/office-stand-ins";
import { formattedSmallCubeDef } from "./helpers/small-cube";

describe("QATOM.CELL number formats", () => {
  // The small cube with formats: Revenue is money, Price (Revenue / Units) a percentage; Units has none.
  const demo = demoFunctions(formattedSmallCubeDef());

  const load = (requirementSets?: Record<string, string>): Promise<LoadedFunctions> => demo.load({ requirementSets });
  function cell(f: LoadedFunctions, members: string[], preview = false): StreamingInvocationStub<unknown> {
    const inv = new StreamingInvocationStub<unknown>();
    if (preview) Object.assign(inv, { isInValuePreview: true });
    f.functions.get("CELL")!("Demo", members.map((m) => [[m]]), inv);
    return inv;
  }
  const revenue = ["[Measures].[Revenue]", "[Region].[North]"];
  const price = ["[Measures].[Price]"];
  const units = ["[Measures].[Units]", "[Region].[North]"];

  it("returns formatted numbers where Office supports CustomFunctionsRuntime 1.4, and keeps them on stream updates", async () => {
    const f = await load({ CustomFunctionsRuntime: "1.4" });
    const [r, p, u] = [cell(f, revenue), cell(f, price), cell(f, units)];
    await waitFor(() => [r, p, u].every((i) => i.results.length > 0), 5000, "the first values");
    expect(r.last).toEqual({ type: "Double", basicValue: 100.25, numberFormat: "#,##0.00" });
    expect(p.last).toEqual({ type: "Double", basicValue: 140.75 / 35, numberFormat: "0.0%" });
    expect(u.last).toBe(30); // no format: the plain number

    await waitFor(() => f.context.streamedCellCount("Demo") === 3, 5000, "the stream");
    const { lattice } = apiClients(demo.server.url, "bob");
    const leaf = ["[Measures].[Revenue]", "Oslo", "Widget", "Web", "[Scenario].[Actual]"];
    const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: leaf }] });
    await lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 110.25, baseVersion: cur.cells[0].version }] });
    await waitFor(() => (r.last as { basicValue?: number }).basicValue === 110.25, 5000, "the streamed value");
    expect(r.last).toEqual({ type: "Double", basicValue: 110.25, numberFormat: "#,##0.00" });
    expect(p.last).toEqual({ type: "Double", basicValue: 150.75 / 35, numberFormat: "0.0%" });
  });

  it("returns plain numbers where Office lacks CustomFunctionsRuntime 1.4 (1.3), or without Office", async () => {
    for (const f of [await load({ CustomFunctionsRuntime: "1.3" }), await demo.load({ noOffice: true })]) {
      const [r, p] = [cell(f, revenue), cell(f, price)];
      await waitFor(() => r.results.length > 0 && p.results.length > 0, 5000, "the first values");
      expect(typeof r.last).toBe("number");
      expect(typeof p.last).toBe("number");
      const truth = await apiClients(demo.server.url, "bob").lattice.getCells({ cube: "Demo", cells: [{ members: revenue }, { members: price }] });
      expect([r.last, p.last]).toEqual(truth.cells.map((c) => c.value));
    }
  });

  it("in formula value preview, reads nothing: no GetCells, no stream, #N/A with the reason", async () => {
    const f = await load({ CustomFunctionsRuntime: "1.5" });
    const before = f.requests.filter((q) => q.method === "GetCells" || q.method === "WatchCells").length;
    const inv = cell(f, revenue, true);
    const comment = new StreamingInvocationStub<unknown>();
    Object.assign(comment, { isInValuePreview: true });
    f.functions.get("COMMENT")!("Demo", [[["[Region].[North]"]]], comment);
    const members = f.functions.get("MEMBERS")!("Demo", "Region", undefined, undefined, { isInValuePreview: true }) as Promise<unknown>;
    await expect(members).rejects.toMatchObject({ code: "#N/A" });
    await new Promise((r) => setTimeout(r, 300)); // longer than a wave and the stream's debounce
    expect(inv.results).toHaveLength(1);
    expect(inv.last).toBeInstanceOf(StandInError);
    expect(inv.last).toMatchObject({ code: "#N/A", message: "QATOM values are not read in formula value preview" });
    expect(comment.last).toMatchObject({ code: "#N/A" });
    expect(f.requests.filter((q) => ["GetCells", "WatchCells", "ListComments", "GetMembers"].includes(q.method))).toHaveLength(before);
    expect(f.context.streamedCellCount("Demo")).toBe(0);
  });
});
